"""A terminal report a person enjoys reading: the headline with its arithmetic, then detail."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence

from scorer.formats.numbers import (
    DASH,
    amount,
    rate,
    ratio_or_dash,
    share,
    survival_cohort,
    survival_sentence,
)
from scorer.formats.words import more, plural

BARS = " ▁▂▃▄▅▆▇█"
LISTED = 10  # rows of a list (agents, signals, deploys) before "… and N more"

BOLD, DIM, RED, GREEN, YELLOW, RESET = "1", "2", "31", "32", "33", "0"
OUTCOME_STYLE = {"survived": GREEN, "rolled_back": RED, "failed": RED, "pending": YELLOW}


def use_color(stream: io.TextIOBase, env: Mapping[str, str] | None = None) -> bool:
    """Colour and bold only for a person at a terminal: ``NO_COLOR`` (any value) turns them
    off, ``FORCE_COLOR`` (any value but empty or ``0``) on even into a pipe; ``TERM=dumb`` off.
    See https://no-color.org and https://force-color.org."""
    env = os.environ if env is None else env
    if env.get("NO_COLOR"):
        return False
    force = env.get("FORCE_COLOR")
    if force is not None and force not in ("", "0", "false"):
        return True
    if env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


_pct = share
_num = rate


def _clean(s: str, width: int = 60) -> str:
    s = "".join(ch if ch.isprintable() else " " for ch in s)
    return s if len(s) <= width else s[: width - 1] + "…"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    indent: str = "  ",
    left: int = 1,
) -> str:
    """Aligned columns: the first ``left`` left-aligned (names), the rest right (numbers)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    out = []
    for n, row in enumerate(cells):
        parts = [
            row[i].ljust(widths[i]) if i < left else row[i].rjust(widths[i])
            for i in range(len(row))
        ]
        out.append(indent + "  ".join(parts).rstrip())
        if n == 0:
            out.append(indent + "  ".join("─" * w for w in widths))
    return "\n".join(out)


def sparkline(values: Sequence[float]) -> str:
    top = max(values, default=0)
    if top <= 0:
        return BARS[1] * len(values)
    return "".join(BARS[max(1, round(v / top * (len(BARS) - 1)))] for v in values)


class _Style:
    """ANSI SGR codes when colour is on, nothing otherwise (the text is the same)."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, text: str, *codes: str) -> str:
        if not self.on or not codes:
            return text
        return f"\x1b[{';'.join(codes)}m{text}\x1b[{RESET}m"


def _in_period(report: dict) -> list[dict]:
    p = report["period"]
    return [d for d in report.get("deploys") or [] if p["since"] <= d["time"] < p["until"]]


def _deploy_rows(report: dict, style: _Style) -> list[str]:
    deploys = _in_period(report)
    if not deploys:
        return []
    shown = deploys[-LISTED:]  # the newest, oldest first
    envs = {d["environment"] for d in deploys}
    headers = ["time", "deploy", *(["environment"] if len(envs) > 1 else []), "outcome"]
    headers += ["AI changes", "counts"]
    rows = []
    for d in shown:
        counts = d["outcome"] == "survived" and d["counted_ai_changes"] > 0
        rows.append(
            [
                d["time"][:16].replace("T", " "),
                _clean(d["id"] or d["sha"][:12], 28),
                *([_clean(d["environment"], 20)] if len(envs) > 1 else []),
                d["outcome"].replace("_", " "),
                d["ai_changes"],
                "✓" if counts else "",
            ]
        )
    left = len(headers) - 2
    lines = table(headers, rows, left=left).split("\n")
    # Colour the outcome after aligning, so the escape codes do not count as width.
    col = headers.index("outcome")
    for i, d in enumerate(shown):
        word = d["outcome"].replace("_", " ")
        line = lines[i + 2]
        at = _column_start(lines[0], headers, col)
        if line[at : at + len(word)] == word:
            lines[i + 2] = (
                line[:at]
                + style(word, OUTCOME_STYLE.get(d["outcome"], ""))
                + line[at + len(word) :]
            )
    out = [
        "",
        style("Deploys in the period", BOLD)
        + " (✓: survived and shipped an AI-assisted change that counts)",
        *lines,
    ]
    if len(deploys) > len(shown):
        out.append(f"  {more(len(deploys) - len(shown), 'earlier deploy')} in the JSON report")
    return out


def _column_start(header_line: str, headers: Sequence[str], col: int) -> int:
    """Where column ``col`` starts in a line of :func:`table` (from its header line)."""
    at = 0
    for name in headers[: col + 1]:
        at = header_line.index(name, at)
        if name != headers[col]:
            at += len(name)
    return at


def render(report: dict, *, color: bool = False) -> str:
    """The report for a terminal. ``color``: bold headline and coloured outcomes (ANSI); the
    words are the same without it."""
    style = _Style(color)
    repo, m, p, h = report["repository"], report["metric"], report["period"], report["history"]
    dw = m.get("developer_weeks", 0)
    people = plural(m["contributors"], "contributor")
    span = plural(float(amount(m["weeks"])), "week")
    devweeks = plural(float(amount(dw)), "developer-week")
    headline = ratio_or_dash(m["ai_deploys_survived"], dw, m["normalized_deployments"])
    lines = [
        style(f"Normalized deployments: {headline}", BOLD)
        + f" = {plural(m['ai_deploys_survived'], 'AI deploy')} survived / {devweeks}"
        + f" ({people} over {span})",
        style(
            f"{_clean(repo['name'])} @ {repo['head'][:12]} ({_clean(repo['ref'], 40)}) · judged at "
            f"{report['now']} · rollback window {report['window_days']:g} days · "
            f"min confidence {report['min_confidence']}",
            DIM,
        ),
        style(f"period {p['since']} → {p['until']} ({span})", DIM),
    ]
    if p["partial"]:
        lines.append(style("partial period: it includes deploys not yet judged", YELLOW))
    why = m.get("why_zero") or []
    if why:
        lines += ["", style("Why it is 0", BOLD)]
        lines += [f"  - {_clean(c['detail'], 300)}" for c in why]
    per_dev = ratio_or_dash(m["deploys_survived"], dw, m["deploys_survived_per_dev_week"])
    ai_share = ratio_or_dash(
        m["ai_deploys_survived"], m["deploys_survived"], m["ai_share_of_survived_deploys"], share
    )
    coverage = ratio_or_dash(p["ai_changes"], p["changes"], p["attribution_coverage"], share)
    lines += [
        "",
        f"  Deploys survived/dev-week  {per_dev:>6}"
        f"   = {plural(m['deploys_survived'], 'deploy')} survived / {devweeks}",
        f"  AI share of survived       {ai_share:>6}"
        f"   = {m['ai_deploys_survived']} / {plural(m['deploys_survived'], 'survived deploy')}",
        f"  Attribution coverage       {coverage:>6}"
        f"   = {p['ai_changes']} AI-assisted / {plural(p['changes'], 'change')} (a lower bound)",
    ]
    survival = survival_sentence(report.get("code_survival"))
    if survival:
        lines += ["", _clean(survival, 300)]
        if not report["code_survival"].get("reason"):
            lines.append(style("  " + survival_cohort(report["code_survival"]), DIM))
    o = m["deploys_by_outcome"]
    lines += [
        "",
        f"Deploys in period: {m['deploys']} — survived {o['survived']} · rolled back "
        f"{o['rolled_back']} · failed {o['failed']} · pending {o['pending']}",
    ]
    a = m["ai_changes_by_outcome"]
    lines.append(
        f"AI changes in period: {p['ai_changes']} — counted {a['counted']} · pending "
        f"{a['pending']} · not survived {a['not_survived']} · unshipped {a['unshipped']} · "
        f"reverted {a['reverted']} · reverts {a['revert']} · trivial {a['trivial']}"
    )
    lines.append(
        f"Whole history: {plural(h['commits'], 'commit')}, {plural(h['changes'], 'change')}, "
        f"{h['ai_changes']:,} AI-assisted, {plural(h['deploys'], 'deploy')}"
    )
    lines += _deploy_rows(report, style)
    if report["agents"]:
        ranked = sorted(report["agents"].items(), key=lambda kv: -kv[1]["changes"])
        rows = [
            [_clean(k, 30), v["changes"], v["counted_changes"], v["deploys_survived"]]
            for k, v in ranked[:LISTED]
        ]
        lines += [
            "",
            style("Agents (period)", BOLD),
            table(["agent", "changes", "counted", "deploys survived"], rows),
        ]
        if len(ranked) > LISTED:
            lines.append(f"  {more(len(ranked) - LISTED, 'agent')}")
    bots = report.get("review_bots") or {}
    if bots:
        shown = ", ".join(f"{_clean(k, 30)} {v['changes']}" for k, v in list(bots.items())[:LISTED])
        lines += ["", f"Review bots (suggestions applied; not AI-assisted evidence): {shown}"]
    dora = report["dora"]
    if dora:

        def fmt(v, kind):
            if v is None:
                return "—"
            return _pct(v) if kind == "pct" else f"{v:g}"

        spec = [
            ("deploys", "deploys", "n"),
            ("deploys/week", "deployment_frequency_per_week", "n"),
            ("lead time (h, median)", "lead_time_hours_median", "n"),
            ("change failure rate", "change_failure_rate", "pct"),
            ("time to restore (h, median)", "time_to_restore_hours_median", "n"),
        ]
        rows = [
            [label, fmt(dora["ai"][k], kind), fmt(dora["non_ai"][k], kind)]
            for label, k, kind in spec
        ]
        lines += ["", style("DORA (period)", BOLD), table(["", "AI", "non-AI"], rows)]
    weekly = report.get("weeks") or []
    if weekly:
        vals = [w["normalized_deployments"] for w in weekly]
        last = next((w for w in reversed(weekly) if w["complete"]), None)
        latest = (
            DASH
            if last is None or not last.get("developer_weeks", 1)
            else _num(last["normalized_deployments"])
        )
        lines += [
            "",
            f"Weekly trend {weekly[0]['start'][:10]} … {weekly[-1]['until'][:10]}: "
            f"{sparkline(vals)}  (latest complete week: {latest})",
        ]
    signals = report["signals"]
    if signals:
        lines += ["", style("Signals", BOLD) + " (listed, never silently counted or dropped)"]
        lines += [
            f"  {style('!', YELLOW)} {_clean(s['kind'], 40)}: {_clean(s['detail'], 200)}"
            for s in signals[:LISTED]
        ]
        left = len(signals) - LISTED + report.get("signals_more", 0)
        if left > 0:
            lines.append(f"  {more(left, 'signal')}")
    lines += [
        "",
        *(
            style(line, DIM)
            for line in (
                "Counts deploys that shipped AI-assisted changes and survived the rollback window;",
                "more commits, prompts or tokens cannot raise it. Attribution trailers are opt-out",
                "and often stripped (squash merges, rebases): coverage is a lower bound.",
            )
        ),
    ]
    return "\n".join(lines) + "\n"
