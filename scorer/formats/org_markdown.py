"""The org report as GitHub-flavoured Markdown. Every report string goes through mdsafe."""

from __future__ import annotations

from scorer.formats.mdsafe import md_text
from scorer.formats.numbers import amount, rate, share
from scorer.formats.words import plural

TREND_WEEKS = 12


def fmt_num(x: float | int | None) -> str:
    """A figure as every format prints it (``scorer.formats.numbers``)."""
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x)
    return rate(x)


pct = share


def devweeks_text(org: dict) -> str:
    t = org["totals"]
    return f"{plural(float(amount(t.get('developer_weeks', 0))), 'developer-week')}"


def weeks_text(org: dict) -> str:
    w = org["period"]["weeks"]
    return f"{w:g} weeks" if w is not None else "each repository's own weeks"


def _problem(p: dict) -> str:
    src = f" {md_text(p['source'], 300)}:" if p.get("source") else ""
    return f"- **{md_text(p['kind'])}**{src} {md_text(p['detail'], 500)}"


def render(org: dict) -> str:
    t = org["totals"]
    p = org["period"]
    out: list[str] = []
    out.append("## Normalized deployments — org report")
    out.append("")
    out.append(
        f"**{fmt_num(org['normalized_deployments'])}** normalized deployments = "
        f"**{t['ai_deploys_survived']}** AI deploy{'' if t['ai_deploys_survived'] == 1 else 's'} "
        f"survived / **{devweeks_text(org)}** (each repository's added; "
        f"{plural(t['contributors'], 'distinct contributor')}, {weeks_text(org)})"
    )
    out.append("")
    span = f"{(p['since'] or '?')[:10]} to {(p['until'] or '?')[:10]}"
    aligned = "" if p["aligned"] else " (periods not aligned, see problems)"
    out.append(
        f"{t['repositories']} repositories · period {span}{aligned} · generated "
        f"{org['generated_at']}"
    )
    out.append("")
    out.append("| figure | value | from |")
    out.append("|---|---:|---|")
    out.append(
        f"| Normalized deployments | {fmt_num(org['normalized_deployments'])} | "
        f"{plural(t['ai_deploys_survived'], 'AI deploy')} survived / {devweeks_text(org)} |"
    )
    out.append(
        f"| Deploys survived per developer-week | "
        f"{fmt_num(t['deploys_survived_per_dev_week'])} | {t['deploys_survived']} deploys "
        f"survived / {devweeks_text(org)} |"
    )
    out.append(
        f"| AI share of survived deploys | {pct(t['ai_share_of_survived_deploys'])} | "
        f"{t['ai_deploys_survived']} / {t['deploys_survived']} |"
    )
    out.append(
        f"| Attribution coverage (a lower bound) | {pct(t['attribution_coverage'])} | "
        f"{t['ai_changes']} AI-assisted / {t['changes']} changes |"
    )
    out.append(
        f"| Contributors | {t['contributors']} | distinct people; {t['contributors_sum']} when "
        "each repository's count is added |"
    )
    cs = t.get("code_survival") or {}
    for side, label in (("ai", "AI"), ("human", "human")):
        fig = cs.get(side)
        if fig and fig["added_lines"]:
            days = f" after {cs['horizon_days']:g} days" if cs.get("horizon_days") else ""
            out.append(
                f"| {label} code still in production{days} | {pct(fig['rate'])} | "
                f"{fig['surviving_lines']:,} of {fig['added_lines']:,} lines, "
                f"{plural(cs['repositories'], 'repository', 'repositories')} added up |"
            )
    out.append("")

    weeks = org["weeks"][-TREND_WEEKS:]
    if weeks:
        out.append(f"### Weekly trend (last {len(weeks)} weeks)")
        out.append("")
        out.append("| week | AI deploys survived | deploys survived | normalized | judged |")
        out.append("|---|---:|---:|---:|---|")
        for w in weeks:
            out.append(
                f"| {md_text(w['week'])} | {w['ai_deploys_survived']} | {w['deploys_survived']} "
                f"| {fmt_num(w['normalized_deployments'])} | "
                f"{'yes' if w['complete'] else 'not yet'} |"
            )
        out.append("")

    if org["agents"]:
        out.append("### AI share by agent")
        out.append("")
        out.append(
            "| agent | deploys survived | share of survived deploys | changes | counted changes "
            "| repositories |"
        )
        out.append("|---|---:|---:|---:|---:|---:|")
        for agent, a in org["agents"].items():
            out.append(
                f"| {md_text(agent, 80)} | {a['deploys_survived']} | "
                f"{pct(a['share_of_survived_deploys'])} | {a['changes']} | "
                f"{a['counted_changes']} | {a['repositories']} |"
            )
        out.append("")

    out.append("### Repositories")
    out.append("")
    out.append(
        "| repository | normalized | AI deploys survived | deploys survived | contributors "
        "| weeks | coverage | agents |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in org["repositories"]:
        m = r["metric"]
        c = r["coverage"]
        agents = ", ".join(md_text(a, 40) for a in r["agents"]) or "–"
        partial = " (partial)" if r["period"]["partial"] else ""
        out.append(
            f"| {md_text(r['name'], 120)} | {fmt_num(m['normalized_deployments'])} | "
            f"{m['ai_deploys_survived']} | {m['deploys_survived']} | {m['contributors']} | "
            f"{r['period']['weeks']:g}{partial} | {c['ai_changes']}/{c['changes']} "
            f"({pct(c['attribution_coverage'])}) | {agents} |"
        )
    out.append("")

    if org["caveats"]:
        out.append("### Caveats")
        out.append("")
        out.extend(f"- {md_text(c, 500)}" for c in org["caveats"])
        out.append("")

    if org["problems"]:
        out.append(f"### Input problems ({len(org['problems'])})")
        out.append("")
        out.extend(_problem(pr) for pr in org["problems"])
        out.append("")
    out.append(
        "_Scores are per repository and per organisation; there is no per-person figure. "
        "Normalized deployments counts production deploys that shipped AI-assisted changes and "
        "survived the rollback window, per developer-week (a person counts for each week they "
        "authored a substantive change)._"
    )
    return "\n".join(out) + "\n"
