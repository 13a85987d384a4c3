"""The org report as one self-contained HTML page.

Inline CSS, inline SVG charts and a small inline script (table sorting) — no external request
of any kind, so the page works from ``file://`` and offline. A Content-Security-Policy with
the hashes of the one style and the one script blocks anything else, should a string ever
slip through escaping. Every string from a report is HTML-escaped: repository and agent names
are attacker-controlled.
"""

from __future__ import annotations

import base64
import hashlib
import html
from datetime import timedelta

from scorer.formats.org_markdown import devweeks_text, fmt_num, pct
from scorer.org.merge import iso, problem_line, week_end
from scorer.util.textsafe import one_line

TREND_WEEKS = 16
MAX_AGENTS = 8


CSS = """
:root{--ai:#4338ca;--ai2:#818cf8;--rest:#cbd5e1;--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;
--bg:#f8fafc;--card:#fff;--warn:#b45309}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:20px 28px 40px}
h1{font-size:24px;margin:0 0 2px}
h2{font-size:17px;margin:0 0 10px}
.sub{color:var(--muted);margin:0 0 16px}
.cards{display:grid;grid-template-columns:1.4fr repeat(4,1fr);gap:12px;margin-bottom:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.card .label{color:var(--muted);font-size:13px}
.card .value{font-size:26px;font-weight:650;margin:2px 0;font-variant-numeric:tabular-nums}
.card.primary .value{font-size:34px;color:var(--ai)}
.card .from{font-size:13px;color:var(--ink)}
.card .from b{font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:3fr 2fr;gap:12px;margin-bottom:16px}
section.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:14px 16px;margin-bottom:16px}
.charts section.panel{margin-bottom:0}
.note{color:var(--muted);font-size:13px;margin:6px 0 0}
.legend{display:flex;gap:14px;font-size:13px;color:var(--muted);margin-bottom:4px}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;
vertical-align:-1px}
.sw.ai{background:var(--ai)}.sw.rest{background:var(--rest)}
svg{display:block;width:100%;height:auto}
#survival svg{max-width:720px}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#334155}
svg .small{font-size:11px;fill:var(--muted)}
td .small{color:var(--muted);font-size:12px}
.tablewrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th:first-child,td:first-child,th.text,td.text{text-align:left}
td.name{font-weight:550}
td.name .n{display:inline-block;max-width:280px;overflow:hidden;text-overflow:ellipsis;
vertical-align:bottom}
td.agents{white-space:normal;text-align:left;min-width:170px;max-width:260px;color:#334155}
thead th{position:sticky;top:0;background:#f1f5f9;font-weight:600;white-space:normal;
vertical-align:bottom;line-height:1.25}
th button{all:inherit;cursor:pointer;padding:0}
th button:focus-visible{outline:2px solid var(--ai)}
th[aria-sort=ascending] button::after{content:" \\25B2";font-size:10px}
th[aria-sort=descending] button::after{content:" \\25BC";font-size:10px}
tbody tr:hover{background:#f8fafc}
.tag{display:inline-block;font-size:11px;padding:0 6px;border-radius:8px;background:#fef3c7;
color:var(--warn);margin-left:4px}
ul{margin:0;padding-left:20px}
li{margin:3px 0}
.problems li{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;
overflow-wrap:anywhere}
footer{color:var(--muted);font-size:13px;margin-top:8px}
@media (max-width:1000px){.cards{grid-template-columns:repeat(2,1fr)}
.charts{grid-template-columns:1fr}}
"""

SCRIPT = """
(function(){
var t=document.getElementById('repos');if(!t)return;
var ths=t.tHead.rows[0].cells,body=t.tBodies[0];
t.setAttribute('data-sortable','yes');
Array.prototype.forEach.call(ths,function(th,i){
var b=th.querySelector('button');if(!b)return;
b.addEventListener('click',function(){
var asc=th.getAttribute('aria-sort')!=='ascending';
Array.prototype.forEach.call(ths,function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');
var num=th.getAttribute('data-type')==='num';
var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){
var x=a.cells[i].getAttribute('data-v')||'',y=b.cells[i].getAttribute('data-v')||'';
var c=num?(parseFloat(x)-parseFloat(y)):x.localeCompare(y);
if(c===0)c=a.cells[0].getAttribute('data-v').localeCompare(b.cells[0].getAttribute('data-v'));
return asc?c:-c;});
rows.forEach(function(r){body.appendChild(r);});
});});
})();
"""


def e(value: object, max_len: int | None = None) -> str:
    """Escape any report string for HTML text and attribute values."""
    s = one_line(value, " ")
    if max_len is not None and len(s) > max_len:
        s = s[: max_len - 1] + "…"
    return html.escape(s, quote=True)


def _hash(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _nice_max(value: float) -> float:
    """The smallest 4 x step (step 1, 2, 2.5 or 5 times a power of ten) at or above value."""
    if value <= 4:
        return 4
    magnitude = 1
    while True:
        for m in (1, 2, 2.5, 3, 5):
            step = m * magnitude
            if step == int(step) and value <= step * 4:
                return step * 4
        magnitude *= 10


def _in_period(week: str, since: str | None, until: str | None) -> bool:
    if not since or not until:
        return False
    end = week_end(week)
    return iso(end - timedelta(days=7)) >= since and iso(end) <= until


def trend_svg(weeks: list[dict], since: str | None = None, until: str | None = None) -> str:
    if not weeks:
        return '<p class="note">No survived deploys in the reports\' histories yet.</p>'
    w, h = 720, 260
    left, right, top, bottom = 40, 10, 38, 44
    plot_w, plot_h = w - left - right, h - top - bottom
    ymax = _nice_max(max(x["deploys_survived"] for x in weeks))
    n = len(weeks)
    slot = plot_w / n
    bar = max(min(slot * 0.62, 46), 3)
    parts = [
        f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="Weekly trend of survived deploys">'
    ]
    for i in range(5):
        v = ymax * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="small">'
            f"{v:g}</text>"
        )
    band = [i for i, wk in enumerate(weeks) if _in_period(wk["week"], since, until)]
    if band:
        x0 = left + slot * band[0] + 1
        x1 = left + slot * (band[-1] + 1) - 1
        parts.append(
            f'<rect x="{x0:.1f}" y="{top - 30}" width="{x1 - x0:.1f}" height="{plot_h + 30}" '
            'fill="#e0e7ff" fill-opacity="0.45" rx="4"/>'
            f'<text x="{(x0 + x1) / 2:.1f}" y="{top - 18}" text-anchor="middle" class="small">'
            "headline period</text>"
        )
    every = max(1, -(-n // 12))
    for i, wk in enumerate(weeks):
        cx = left + slot * (i + 0.5)
        x = cx - bar / 2
        total, ai = wk["deploys_survived"], wk["ai_deploys_survived"]
        th = plot_h * total / ymax
        ah = plot_h * ai / ymax
        base = top + plot_h
        opacity = "" if wk["complete"] else ' opacity="0.45"'
        tip = (
            f"{wk['week']}: {ai} AI deploys survived of {total} survived; normalized "
            f"{fmt_num(wk['normalized_deployments'])}"
            + ("" if wk["complete"] else " (not fully judged yet)")
        )
        parts.append(f"<g{opacity}><title>{e(tip)}</title>")
        parts.append(
            f'<rect x="{x:.1f}" y="{base - th:.1f}" width="{bar:.1f}" height="{th:.1f}" '
            f'fill="#cbd5e1" rx="2"/>'
        )
        if ai:
            parts.append(
                f'<rect x="{x:.1f}" y="{base - ah:.1f}" width="{bar:.1f}" height="{ah:.1f}" '
                f'fill="#4338ca" rx="2"/>'
            )
        if total and bar >= 16:
            parts.append(
                f'<text x="{cx:.1f}" y="{base - th - 5:.1f}" text-anchor="middle" class="small">'
                f"{ai}/{total}</text>"
            )
        parts.append("</g>")
        if i % every == 0 or i == n - 1:
            label = e(wk["week"][5:] if i else wk["week"])
            parts.append(
                f'<text x="{cx:.1f}" y="{base + 16:.1f}" text-anchor="middle" class="small">'
                f"{label}</text>"
            )
            if not wk["complete"]:
                parts.append(
                    f'<text x="{cx:.1f}" y="{base + 30:.1f}" text-anchor="middle" '
                    f'class="small">pending</text>'
                )
    parts.append(
        f'<line x1="{left}" x2="{w - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        'stroke="#94a3b8"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def agents_svg(org: dict) -> str:
    t = org["totals"]
    rows = [("all AI agents", t["ai_deploys_survived"], t["ai_share_of_survived_deploys"], True)]
    for agent, a in list(org["agents"].items())[:MAX_AGENTS]:
        rows.append((agent, a["deploys_survived"], a["share_of_survived_deploys"], False))
    if len(rows) == 1 and not t["deploys_survived"]:
        return '<p class="note">No survived deploys in the period.</p>'
    w = 420
    label_w, value_w, row_h, top = 140, 100, 28, 6
    bar_w = w - label_w - value_w
    h = top + row_h * len(rows) + 4
    total = t["deploys_survived"]
    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="AI share by agent">']
    for i, (name, count, share, overall) in enumerate(rows):
        y = top + i * row_h
        fill = "#4338ca" if overall else "#818cf8"
        weight = ' font-weight="600"' if overall else ""
        parts.append(f"<g><title>{e(name)}: {count} of {total} survived deploys</title>")
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end"{weight}>{e(name, 22)}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 6}" width="{bar_w}" height="16" fill="#f1f5f9" rx="3"/>'
        )
        if share > 0:
            parts.append(
                f'<rect x="{label_w}" y="{y + 6}" width="{max(bar_w * min(share, 1), 2):.1f}" '
                f'height="16" fill="{fill}" rx="3"/>'
            )
        parts.append(
            f'<text x="{label_w + bar_w + 8}" y="{y + 18}"{weight}>{pct(share)} '
            f'<tspan class="small">{count}/{total}</tspan></text>'
        )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


MAX_SURVIVAL_ROWS = 20


def survival_svg(org: dict) -> str:
    """Code survival (METRIC.md section 10), AI vs human, per repository and for the org
    (surviving lines / added lines, summed: never an average of rates)."""
    total = org["totals"].get("code_survival") or {}
    rows = [("all repositories", total, True)] if total else []
    for r in org["repositories"]:
        cs = r.get("code_survival")
        if cs and (cs["ai"]["added_lines"] or cs["human"]["added_lines"]):
            rows.append((r["name"], cs, False))
    if len(rows) <= 1 and not (total.get("ai", {}).get("added_lines") or
                               total.get("human", {}).get("added_lines")):  # fmt: skip
        return '<p class="note">No repository has a cohort of deployed changes old enough.</p>'
    rows = rows[: MAX_SURVIVAL_ROWS + 1]
    w, label_w, value_w, bar_h, row_h, top = 520, 140, 150, 10, 30, 6
    bar_w = w - label_w - value_w
    h = top + row_h * len(rows) + 4
    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="Code survival, AI vs human">']
    for i, (name, cs, overall) in enumerate(rows):
        y = top + i * row_h
        weight = ' font-weight="600"' if overall else ""
        parts.append(f'<g><text x="{label_w - 8}" y="{y + 17}" text-anchor="end"{weight}>'
                     f"{e(name, 22)}</text>")  # fmt: skip
        for k, (side, fill) in enumerate((("ai", "#4338ca"), ("human", "#cbd5e1"))):
            fig = cs[side]
            yy = y + 3 + k * (bar_h + 2)
            rate = fig["rate"]
            parts.append(
                f"<g><title>{e(name)} {side}: {fig['surviving_lines']} of "
                f"{fig['added_lines']} lines still in production</title>"
                f'<rect x="{label_w}" y="{yy}" width="{bar_w}" height="{bar_h}" '
                f'fill="#f1f5f9" rx="2"/>'
            )
            if rate:
                parts.append(
                    f'<rect x="{label_w}" y="{yy}" width="{max(bar_w * min(rate, 1), 2):.1f}" '
                    f'height="{bar_h}" fill="{fill}" rx="2"/>'
                )
            shown = "–" if rate is None else pct(rate)
            parts.append(
                f'<text x="{label_w + bar_w + 8}" y="{yy + bar_h - 1}" class="small">'
                f"{side} {shown} {fig['surviving_lines']:,}/{fig['added_lines']:,}</text></g>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _cards(org: dict) -> str:
    t = org["totals"]
    weeks = org["period"]["weeks"]
    wtxt = f"{weeks:g} weeks" if weeks is not None else "each repository's weeks"

    def card(label, value, frm, cls=""):
        return (
            f'<div class="card {cls}"><div class="label">{label}</div>'
            f'<div class="value">{value}</div><div class="from">{frm}</div></div>'
        )

    return (
        '<div class="cards">'
        + card(
            "Normalized deployments",
            fmt_num(org["normalized_deployments"]),
            f"<b>{t['ai_deploys_survived']}</b> AI deploys survived ÷ "
            f"<b>{e(devweeks_text(org))}</b> ({e(wtxt)})",
            "primary",
        )
        + card(
            "AI share of survived deploys",
            pct(t["ai_share_of_survived_deploys"]),
            f"<b>{t['ai_deploys_survived']}</b> of <b>{t['deploys_survived']}</b> survived deploys",
        )
        + card(
            "Survived deploys per dev-week",
            fmt_num(t["deploys_survived_per_dev_week"]),
            f"<b>{t['deploys_survived']}</b> ÷ <b>{e(devweeks_text(org))}</b>",
        )
        + card(
            "Attribution coverage",
            pct(t["attribution_coverage"]),
            f"<b>{t['ai_changes']}</b> of <b>{t['changes']}</b> changes · a lower bound",
        )
        + card(
            "Contributors",
            str(t["contributors"]),
            f"distinct people; <b>{t['contributors_sum']}</b> if each repository's are added",
        )
        + "</div>"
    )


_COLUMNS = (
    ("Repository", "text"),
    ("Normalized", "num"),
    ("AI deploys survived", "num"),
    ("Deploys survived", "num"),
    ("AI share", "num"),
    ("Contributors", "num"),
    ("Weeks", "num"),
    ("Coverage", "num"),
    ("Agents", "text"),
)


def _table(org: dict) -> str:
    head = "".join(
        f'<th scope="col" data-type="{kind}"'
        + (' aria-sort="ascending"' if i == 0 else "")
        + f' class="{kind}"><button type="button">{label}</button></th>'
        for i, (label, kind) in enumerate(_COLUMNS)
    )
    body = []
    for r in org["repositories"]:
        m, c, p = r["metric"], r["coverage"], r["period"]
        tags = ""
        if p["partial"]:
            tags += '<span class="tag">partial period</span>'
        if r["signals"]:
            tags += f'<span class="tag">{r["signals"]} signals</span>'
        agents = ", ".join(e(a, 40) for a in r["agents"]) or "–"
        body.append(
            "<tr>"
            f'<td class="name" data-v="{e(r["name"].casefold(), 300)}" title="{e(r["name"], 500)}">'
            f'<span class="n">{e(r["name"], 80)}</span>{tags}</td>'
            f'<td data-v="{m["normalized_deployments"]:.6g}">'
            f"{fmt_num(m['normalized_deployments'])}</td>"
            f'<td data-v="{m["ai_deploys_survived"]}">{m["ai_deploys_survived"]}</td>'
            f'<td data-v="{m["deploys_survived"]}">{m["deploys_survived"]}</td>'
            f'<td data-v="{m["ai_share_of_survived_deploys"]:.6g}">'
            f"{pct(m['ai_share_of_survived_deploys'])}</td>"
            f'<td data-v="{m["contributors"]}">{m["contributors"]}</td>'
            f'<td data-v="{p["weeks"]:g}">{p["weeks"]:g}</td>'
            f'<td data-v="{c["attribution_coverage"]:.6g}" title="{c["ai_changes"]} of '
            f'{c["changes"]} changes">{pct(c["attribution_coverage"])} '
            f'<span class="small">({c["ai_changes"]}/{c["changes"]})</span></td>'
            f'<td class="agents text" data-v="{e(", ".join(r["agents"]), 300)}">{agents}</td>'
            "</tr>"
        )
    return (
        '<div class="tablewrap"><table id="repos"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></div>"
    )


def render(org: dict) -> str:
    t = org["totals"]
    p = org["period"]
    span = f"{(p['since'] or '?')[:10]} to {(p['until'] or '?')[:10]}"
    aligned = "" if p["aligned"] else " · periods not aligned (see input problems)"
    weeks = org["weeks"][-TREND_WEEKS:]
    problems = org["problems"]
    csp = (
        "default-src 'none'; "
        f"style-src 'sha256-{_hash(CSS)}'; script-src 'sha256-{_hash(SCRIPT)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="referrer" content="no-referrer">',
        "<title>Normalized deployments — org report</title>",
        f"<style>{CSS}</style></head><body><main>",
        "<h1>Normalized deployments — org report</h1>",
        f'<p class="sub">{t["repositories"]} repositories · period {e(span)}{aligned} · '
        f"generated {e(org['generated_at'])}</p>",
        _cards(org),
        '<div class="charts">',
        '<section class="panel" id="trend"><h2>Weekly trend: deploys that survived</h2>',
        '<div class="legend"><span><span class="sw ai"></span>shipped AI-assisted changes that '
        'count</span><span><span class="sw rest"></span>other survived deploys</span></div>',
        trend_svg(weeks, p["since"], p["until"]) if p["aligned"] else trend_svg(weeks),
        f'<p class="note">Last {len(weeks)} weeks, all repositories. Labels: AI / all survived '
        "deploys. The shaded weeks are the headline period; faded weeks are not fully judged yet "
        "(their rollback window is still open).</p>",
        "</section>",
        '<section class="panel" id="agents"><h2>AI share by agent</h2>',
        agents_svg(org),
        '<p class="note">Share of survived deploys that shipped a counted change by the agent. '
        "One deploy can ship several agents' changes, so agent rows can add up to more than the "
        "total.</p></section>",
        "</div>",
        '<section class="panel" id="survival"><h2>Code still in production'
        + (
            f" after {org['totals']['code_survival']['horizon_days']:g} days"
            if (org["totals"].get("code_survival") or {}).get("horizon_days")
            else ""
        )
        + ": AI vs human</h2>",
        '<div class="legend"><span><span class="sw ai"></span>AI-assisted lines</span>'
        '<span><span class="sw rest"></span>human lines</span></div>',
        survival_svg(org),
        '<p class="note">Of the lines that changes first deployed in the cohort added, the share '
        "git blame still attributes to them at the latest deploy. Totals add lines across "
        "repositories; they never average rates.</p></section>",
        '<section class="panel"><h2>Repositories</h2>',
        _table(org),
        '<p class="note">Click a column heading to sort. Coverage: AI-assisted changes / all '
        "changes in the repository's period.</p></section>",
    ]
    if org["caveats"]:
        out.append('<section class="panel" id="caveats"><h2>Coverage caveats</h2><ul>')
        out.extend(f"<li>{e(c)}</li>" for c in org["caveats"])
        out.append("</ul></section>")
    out.append(
        f'<section class="panel problems" id="problems"><h2>Input problems ({len(problems)})</h2>'
    )
    if problems:
        out.append("<ul>")
        out.extend(f"<li>{e(problem_line(pr), 1000)}</li>" for pr in problems)
        out.append("</ul>")
    else:
        out.append(
            '<p class="note">None: every input was a valid report of a distinct repository.</p>'
        )
    out.append("</section>")
    out.append(
        "<footer>Scores are per repository and per organisation; there is no per-person figure. "
        "Normalized deployments counts production deploys that shipped AI-assisted changes and "
        "were still standing when the rollback window closed, per distinct contributor per "
        "week.</footer>"
    )
    out.append(f"</main><script>{SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"
