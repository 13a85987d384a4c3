"""Normalized deployments (METRIC.md section 7, v2): the one formula, for a repository's
headline, its weekly trend and the org report alike."""

from __future__ import annotations


def per_developer_week(count: float, developer_weeks: float) -> float:
    """``count`` per developer-week: ``normalized_deployments`` when ``count`` is the AI
    deploys that survived, ``deploys_survived_per_dev_week`` when it is every survived deploy.
    0 when there are no developer-weeks (the report then says why)."""
    return count / developer_weeks if developer_weeks > 0 else 0.0


def ratio(num: float, den: float) -> float:
    """A share as the report keeps it: six decimals, 0 for 0/0."""
    return round(num / den, 6) if den else 0.0
