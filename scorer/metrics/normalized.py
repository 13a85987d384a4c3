"""Normalized deployments (METRIC.md section 7): the one formula, for a repository's report,
its weekly trend and the org report alike."""

from __future__ import annotations


def per_developer_week(count: float, contributors: int, weeks: float) -> float:
    """``count`` per contributor per week: ``normalized_deployments`` when ``count`` is the AI
    deploys that survived, ``deploys_survived_per_dev_week`` when it is every survived deploy.
    0 when there is no contributor (or no time)."""
    return count / (contributors * weeks) if contributors and weeks else 0.0


def ratio(num: float, den: float) -> float:
    """A share or rate as the report prints it: six decimals, 0 for 0/0."""
    return round(num / den, 6) if den else 0.0
