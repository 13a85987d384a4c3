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
