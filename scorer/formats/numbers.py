"""Figures people can read, the same in text, Markdown, HTML and the PR comment.

Small ratios keep two significant digits (0.0042, not 0.00); other rates two decimals (0.67,
1.50); shares are whole percents unless small (0.4%); counts of weeks one decimal at most
(25.9 weeks, not 25.8571). A figure that is 0/0 is "—": the report says why next to it.
"""

from __future__ import annotations

import math

DASH = "—"


def rate(x: float | None) -> str:
    """0.67, 1.50; below 0.1 two significant digits: 0.042, 0.0042, 0.000022."""
    if x is None:
        return DASH
    if x == 0:
        return "0"
    if abs(x) >= 0.1:
        return f"{x:.2f}"
    digits = 1 - math.floor(math.log10(abs(x)))
    return f"{x:.{digits}f}"


def share(x: float | None) -> str:
    """A share of 1 as a percent: 67%; below 1%, two significant digits: 0.42%."""
    if x is None:
        return DASH
    pct = x * 100
    if pct == 0 or abs(pct) >= 1:
        return f"{pct:.0f}%"
    return f"{rate(pct)}%"


def amount(x: float | None) -> str:
    """A count that may be fractional (weeks, developer-weeks): 4, 3.4, 25.9."""
    if x is None:
        return DASH
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def ratio_or_dash(num: float, den: float, value: float, fmt=rate) -> str:
    """``fmt(value)``, or "—" when the figure is 0/0."""
    return DASH if not num and not den else fmt(value)


def survival_sentence(block: dict | None) -> str | None:
    """Code survival (METRIC.md section 10) in one plain sentence, the same in every format:
    "AI code still in production after 30 days: 84% (2,310 of 2,750 lines) vs human 79%
    (1,020 of 1,290 lines)". None for a report without the block. The caller escapes it (the
    reason is ours, but a format may still need its own escaping)."""
    if not block:
        return None
    days = amount(block["horizon_days"])

    def side(s: dict) -> str:
        if not s["added_lines"]:
            return f"{DASH} (no lines)"
        return f"{share(s['rate'])} ({s['surviving_lines']:,} of {s['added_lines']:,} lines)"

    if block.get("reason"):
        return f"Code still in production after {days} days: {DASH} ({block['reason']})"
    return (
        f"AI code still in production after {days} days: {side(block['ai'])} "
        f"vs human {side(block['human'])}"
    )


def survival_cohort(block: dict) -> str:
    """ "changes first deployed 2026-04-04 → 2026-05-02, read at deploy 1a2b3c4d5e6f"."""
    c = block["cohort"]
    text = f"changes first deployed {c['since'][:10]} → {c['until'][:10]}"
    if block.get("deploy_sha"):
        text += f", read at deploy {block['deploy_sha'][:12]}"
    if block.get("rework_share") is not None:
        text += f"; of the AI lines gone, {share(block['rework_share'])} were replaced within "
        text += f"{amount(block['horizon_days'])} days of their first deploy"
    outside = block.get("not_in_deploy") or 0
    if outside:
        text += (
            f"; {amount(outside)} of its changes are not in that deploy's history (another "
            "release line in the same environment?): none of their lines can survive there"
        )
    return text
