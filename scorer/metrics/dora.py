"""DORA metrics of the period's deploys, split by deploys that shipped AI-assisted changes and
those that did not (METRIC.md section 8)."""

from __future__ import annotations

from collections.abc import Iterable

from scorer.metrics.deploys import SURVIVED_CODE
from scorer.metrics.normalized import ratio
from scorer.outcomes.deploys import FAILED, PENDING, ROLLED_BACK, DeployList
from scorer.outcomes.flags import AI, Outcomes


def _median(values: list[float]) -> float:
    """``statistics.median`` (importing statistics costs a per-merge run ~9 ms)."""
    vals = sorted(values)
    mid = len(vals) // 2
    return vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2


def _median_hours(values: Iterable[float], keep_zero: bool = False) -> float | None:
    vals = [v for v in values if v > 0 or (keep_zero and v == 0)]
    return round(_median(vals) / 3600, 3) if vals else None


def dora(commits, outcomes: Outcomes, period_deploys, weeks: float) -> dict:
    deploys, flags, first = outcomes.deploys, outcomes.flags, outcomes.first
    split: dict[str, list[int]] = {"ai": [], "non_ai": []}
    for p in period_deploys:
        d = deploys[p]
        touched = d.shipped or d.attempted
        split["ai" if any(flags[c] & AI for c in touched) else "non_ai"].append(p)
    out = {}
    for key, ps in split.items():
        successful = [p for p in ps if deploys[p].outcome != FAILED]
        judged = [p for p in ps if deploys[p].outcome != PENDING]
        bad = [p for p in judged if deploys[p].outcome in (FAILED, ROLLED_BACK)]
        lead = [
            deploys[p].when / 1e6 - commits.author_time[c]
            for p in successful
            for c in deploys[p].shipped
            if first[c] == deploys[p].serial
        ]
        restore = []  # 0 is a restore in the same second; only lead times drop values <= 0
        for p in bad:
            nxt = _next_survived(deploys, p)
            if nxt is not None:
                restore.append((nxt - deploys[p].when) / 1e6)
        out[key] = {
            "deploys": len(ps),
            "successful_deploys": len(successful),
            "deployment_frequency_per_week": ratio(len(successful), weeks),
            "lead_time_hours_median": _median_hours(lead),
            "change_failure_rate": ratio(len(bad), len(judged)) if judged else None,
            "failed_or_rolled_back": len(bad),
            "judged_deploys": len(judged),
            "time_to_restore_hours_median": _median_hours(restore, keep_zero=True),
        }
    return out


def _next_survived(deploys: DeployList, p: int) -> int | None:
    """When (microseconds) the next survived deploy of the same environment restored service.
    ``deploys`` is in (environment, time, source order) order, so the position breaks ties of
    time."""
    env, codes = deploys.env_code, deploys.code
    for q in range(p + 1, len(deploys)):
        if env[q] != env[p]:
            break
        if codes[q] == SURVIVED_CODE:
            return deploys.when[q]
    return None
