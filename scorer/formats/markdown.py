"""The report as GitHub-flavoured Markdown (job summaries, PR comments, files).

Every figure says its numerator and denominator; every string from git or a deploy source goes
through ``mdsafe`` because commit subjects, names and ids are attacker-controlled.
"""

from __future__ import annotations

from scorer.formats.mdsafe import md_code, md_text
from scorer.formats.numbers import (
    amount,
    ratio_or_dash,
    share,
    survival_cohort,
    survival_sentence,
)
from scorer.formats.words import more, plural

SUMMARY_LIMIT = 1_000_000  # GitHub's step summary limit is 1 MiB
LISTED_DEPLOYS = 20  # the newest deploys of the period in the table; the JSON has them all
OUTCOME_WORDS = {
    "survived": "survived",
    "rolled_back": "rolled back",
    "failed": "failed",
    "pending": "pending",
}


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _fmt(v: object, pct: bool = False) -> str:
    if v is None:
        return "—"
    if pct:
        return _pct(float(v))
    return f"{v:g}" if isinstance(v, float) else str(v)


def _deploys_table(report: dict, h: str) -> list[str]:
    """The deploys of the period, newest first: when, which, outcome, AI changes, counted."""
    p = report["period"]
    deploys = [d for d in report.get("deploys") or [] if p["since"] <= d["time"] < p["until"]]
    if not deploys:
        return []
    envs = {d["environment"] for d in deploys}
    multi = len(envs) > 1
    out = [
        f"{h}# Deploys in the period",
        "",
        _row(
            "Time (UTC)",
            "Deploy",
            *(["Environment"] if multi else []),
            "Outcome",
            "AI changes",
            "Counts",
        ),
        _row("---", "---", *(["---"] if multi else []), "---", "---:", "---"),
    ]
    shown = deploys[::-1][:LISTED_DEPLOYS]
    for d in shown:
        counts = d["outcome"] == "survived" and d["counted_ai_changes"] > 0
        out.append(
            _row(
                d["time"][:16].replace("T", " "),
                md_code(d["id"] or d["sha"][:12], 40),
                *([md_code(d["environment"], 30)] if multi else []),
                OUTCOME_WORDS.get(d["outcome"], md_text(d["outcome"], 20)),
                d["ai_changes"],
                "✓" if counts else "",
            )
        )
    if len(deploys) > len(shown):
        out += ["", f"{more(len(deploys) - len(shown), 'earlier deploy')} in the JSON report."]
    return [*out, ""]


def render(report: dict, *, heading_level: int = 2) -> str:
    h = "#" * heading_level
    repo, m, p, hist = report["repository"], report["metric"], report["period"], report["history"]
    dw = m.get("developer_weeks", 0)
    people = plural(m["contributors"], "contributor")
    span = plural(float(amount(m["weeks"])), "week")
    devweeks = plural(float(amount(dw)), "developer-week")
    headline = ratio_or_dash(m["ai_deploys_survived"], dw, m["normalized_deployments"])
    out = [
        f"{h} Normalized deployments: **{headline}**",
        "",
        f"{md_text(repo['name'])} at {md_code(repo['head'][:12])} · period "
        f"{p['since'][:10]} → {p['until'][:10]} ({span}) · rollback window "
        f"{report['window_days']:g} days · judged at {report['now']}"
        + (" · **partial period**: some deploys are not judged yet" if p["partial"] else ""),
        "",
        _row("Figure", "Value", "Numerator", "Denominator"),
        _row("---", "---:", "---", "---"),
        _row(
            "**Normalized deployments**",
            f"**{headline}**",
            f"{plural(m['ai_deploys_survived'], 'AI deploy')} survived",
            f"{devweeks} ({people} over {span})",
        ),
        _row(
            "Deploys survived per developer-week",
            ratio_or_dash(m["deploys_survived"], dw, m["deploys_survived_per_dev_week"]),
            f"{plural(m['deploys_survived'], 'deploy')} survived",
            devweeks,
        ),
        _row(
            "AI share of survived deploys",
            ratio_or_dash(
                m["ai_deploys_survived"],
                m["deploys_survived"],
                m["ai_share_of_survived_deploys"],
                share,
            ),
            f"{plural(m['ai_deploys_survived'], 'AI deploy')} survived",
            f"{plural(m['deploys_survived'], 'deploy')} survived",
        ),
        _row(
            "Attribution coverage",
            ratio_or_dash(p["ai_changes"], p["changes"], p["attribution_coverage"], share),
            f"{plural(p['ai_changes'], 'AI-assisted change')}",
            f"{plural(p['changes'], 'change')}",
        ),
        "",
    ]
    # Our own words and figures (dates, hex SHAs): nothing from git or a source to escape.
    survival = survival_sentence(report.get("code_survival"))
    if survival:
        out += [survival, ""]
        if not report["code_survival"].get("reason"):
            out += [f"<sub>{survival_cohort(report['code_survival'])}</sub>", ""]
    why = m.get("why_zero") or []
    if why:
        out += ["**Why it is 0**", ""]
        out += [f"- {md_text(c['detail'], 400)}" for c in why]
        out.append("")
    out += [
        "<details><summary>What counts, and why</summary>",
        "",
        "A deploy counts when it reached production, was **not rolled back** within the window, "
        "and shipped at least one AI-assisted change that is **substantive** (not empty, "
        "whitespace-only, rename-only or mode-only) and **not reverted** within the window. The "
        "unit is the deploy, divided by developer-weeks (each person counts for the weeks they "
        "authored a substantive change): more commits, prompts or tokens cannot raise it.",
        "",
        "</details>",
        "",
        f"{h}# Outcomes in the period",
        "",
    ]
    o = m["deploys_by_outcome"]
    a = m["ai_changes_by_outcome"]
    out += [
        _row("Deploys", "Survived", "Rolled back", "Failed", "Pending", "Total"),
        _row("---", "---:", "---:", "---:", "---:", "---:"),
        _row("all", o["survived"], o["rolled_back"], o["failed"], o["pending"], m["deploys"]),
        "",
        _row(
            "AI-assisted changes",
            "Counted",
            "Pending",
            "Not survived",
            "Unshipped",
            "Reverted",
            "Reverts",
            "Trivial",
            "Total",
        ),
        _row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"),
        _row(
            "authored in period",
            a["counted"],
            a["pending"],
            a["not_survived"],
            a["unshipped"],
            a["reverted"],
            a["revert"],
            a["trivial"],
            p["ai_changes"],
        ),
        "",
    ]
    out += _deploys_table(report, h)
    if report["agents"]:
        out += [
            f"{h}# By agent",
            "",
            _row(
                "Agent", "AI changes", "Counted", f"Deploys survived (of {m['deploys_survived']})"
            ),
            _row("---", "---:", "---:", "---:"),
        ]
        for agent, v in sorted(report["agents"].items(), key=lambda kv: -kv[1]["changes"]):
            out.append(
                _row(md_code(agent, 60), v["changes"], v["counted_changes"], v["deploys_survived"])
            )
        out.append("")
    bots = report.get("review_bots") or {}
    if bots:
        shown = ", ".join(f"{md_code(k, 40)} ({v['changes']})" for k, v in bots.items())
        out += [f"Review bots whose suggestions were applied (not counted as AI): {shown}.", ""]
    dora = report.get("dora") or {}
    if dora:
        out += [
            f"{h}# DORA, split by AI",
            "",
            _row("Metric", "Deploys with AI changes", "Deploys without"),
            _row("---", "---:", "---:"),
            _row("Deploys", dora["ai"]["deploys"], dora["non_ai"]["deploys"]),
            _row(
                "Deployment frequency (per week)",
                _fmt(dora["ai"]["deployment_frequency_per_week"]),
                _fmt(dora["non_ai"]["deployment_frequency_per_week"]),
            ),
            _row(
                "Lead time for changes (hours, median)",
                _fmt(dora["ai"]["lead_time_hours_median"]),
                _fmt(dora["non_ai"]["lead_time_hours_median"]),
            ),
            _row(
                "Change failure rate",
                f"{_fmt(dora['ai']['change_failure_rate'], True)} "
                f"({dora['ai']['failed_or_rolled_back']}/{dora['ai']['judged_deploys']})",
                f"{_fmt(dora['non_ai']['change_failure_rate'], True)} "
                f"({dora['non_ai']['failed_or_rolled_back']}/{dora['non_ai']['judged_deploys']})",
            ),
            _row(
                "Time to restore (hours, median)",
                _fmt(dora["ai"]["time_to_restore_hours_median"]),
                _fmt(dora["non_ai"]["time_to_restore_hours_median"]),
            ),
            "",
        ]
    weekly = report.get("weeks") or []
    if weekly:
        out += [
            "<details><summary>Weekly trend</summary>",
            "",
            _row(
                "Week from",
                "Normalized deployments",
                "AI deploys survived",
                "Deploys survived",
                "Developer-weeks",
                "Judged",
            ),
            _row("---", "---:", "---:", "---:", "---:", "---"),
        ]
        for w in weekly:
            wdw = w.get("developer_weeks", w["contributors"])
            out.append(
                _row(
                    w["start"][:10],
                    ratio_or_dash(w["ai_deploys_survived"], wdw, w["normalized_deployments"]),
                    w["ai_deploys_survived"],
                    w["deploys_survived"],
                    amount(wdw),
                    "yes" if w["complete"] else "not yet",
                )
            )
        out += ["", "</details>", ""]
    if report["signals"]:
        out += [
            f"{h}# Signals",
            "",
            "Patterns that look like gaming or bad data. They are listed here, never "
            "silently counted or dropped.",
            "",
        ]
        out += [
            f"- {md_code(s['kind'], 40)}: {md_text(s['detail'], 400)}" for s in report["signals"]
        ]
        if report.get("signals_more"):
            out.append(f"- {more(report['signals_more'], 'signal')}")
        out.append("")
    out += [
        f"> Attribution coverage is a lower bound: AI trailers are opt-out and often stripped "
        f"(squash merges, rebases). Whole history: {hist['changes']:,} changes, "
        f"{hist['ai_changes']:,} AI-assisted, {hist['deploys']:,} deploys"
        + (
            f", {hist['deploys_not_in_history']:,} deploys of unknown commits ignored"
            if hist["deploys_not_in_history"]
            else ""
        )
        + ".",
        "",
    ]
    text = "\n".join(out)
    if len(text) > SUMMARY_LIMIT:
        text = text[: SUMMARY_LIMIT - 40] + "\n\n… (truncated)\n"
    return text
