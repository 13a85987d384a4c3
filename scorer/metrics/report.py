"""The report (METRIC.md sections 7-9): every figure with its numerator and denominator,
assembled from one small module per quantity. Pure: values in, the report dict out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from scorer.metrics.agents import agent_rows
from scorer.metrics.changes import ai_change_rows, changes_by_outcome
from scorer.metrics.deploys import SURVIVED_CODE, deploy_row, ships_counted
from scorer.metrics.dora import dora
from scorer.metrics.normalized import per_developer_week, ratio
from scorer.metrics.period import Period
from scorer.metrics.signals import contributor_hash, signals
from scorer.metrics.weekly import weekly
from scorer.model import DeployEvent
from scorer.outcomes.deploys import OUTCOMES
from scorer.outcomes.flags import (
    AI,
    AI_HIGH,
    CHANGE,
    COUNTED,
    REVERTED,
    SHIPPED,
    TRIVIAL,
    Outcomes,
)
from scorer.outcomes.table import CommitTable
from scorer.util.times import iso, micros

SCHEMA_VERSION = 1


def build_report(
    *,
    repository: dict,
    commits: CommitTable,
    outcomes: Outcomes,
    unknown_deploys: Sequence[DeployEvent],
    ignored_deploys: dict[str, int],
    now: datetime,
    window: timedelta,
    period: Period,
    min_confidence: str,
    settings: dict,
    missing_objects: int = 0,
    generated_at: datetime | None = None,
) -> dict:
    deploys = outcomes.deploys
    flags, human = outcomes.flags, commits.human
    count = outcomes.count

    # --- history: the whole scanned history -----------------------------------------------
    history = {
        "commits": len(commits),
        "changes": count(CHANGE),
        "ai_changes": count(AI),
        "ai_changes_high": count(AI_HIGH),
        "trivial_ai_changes": count(AI | TRIVIAL),
        "unshipped_ai_changes": count(AI | SHIPPED, AI),
        "reverted_changes": len(outcomes.reverted),
        "reverted_ai_changes": count(AI | REVERTED),
        "counted_ai_changes": count(COUNTED),
        "deploys": len(deploys),
        "deploys_by_outcome": {o: deploys.count_outcome(o) for o in OUTCOMES},
        "deploys_not_in_history": len(unknown_deploys),
        # the first five by time (linking order: the same with or without a cache)
        "deploys_not_in_history_sample": [
            {"id": e.id, "sha": e.sha, "where": e.where} for e in unknown_deploys[:5]
        ],
        "deploys_ignored": dict(sorted(ignored_deploys.items())),
        "missing_objects": missing_objects,
    }

    # --- period -------------------------------------------------------------------------
    lo, hi = period.since.timestamp(), period.until.timestamp()
    in_period = sorted(i for i in commits.authored_between(lo, hi) if flags[i] & CHANGE)
    period_ai = [i for i in in_period if flags[i] & AI]
    contributors = sorted({commits.email(i) for i in in_period if human[i]})
    since_us, until_us = micros(period.since), micros(period.until)
    period_deploys = deploys.between(since_us, until_us)
    codes = deploys.code
    survived = [p for p in period_deploys if codes[p] == SURVIVED_CODE]
    ai_survived = [p for p in survived if ships_counted(deploys, p, flags)]
    weeks = period.weeks
    n_people = len(contributors)
    nd = round(per_developer_week(len(ai_survived), n_people, weeks), 6)
    per_dev = round(per_developer_week(len(survived), n_people, weeks), 6)

    period_block = {
        "since": iso(period.since),
        "until": iso(period.until),
        "weeks": round(weeks, 6),
        "partial": period.partial,
        "changes": len(in_period),
        "ai_changes": len(period_ai),
        "attribution_coverage": ratio(len(period_ai), len(in_period)),
    }
    metric = {
        "normalized_deployments": nd,
        "ai_deploys_survived": len(ai_survived),
        "deploys_survived": len(survived),
        "contributors": n_people,
        "weeks": round(weeks, 6),
        "deploys_survived_per_dev_week": per_dev,
        "ai_share_of_survived_deploys": ratio(len(ai_survived), len(survived)),
        "deploys": len(period_deploys),
        "deploys_by_outcome": {
            o: sum(1 for p in period_deploys if codes[p] == k) for k, o in enumerate(OUTCOMES)
        },
        "changes_by_outcome": changes_by_outcome(in_period, flags),
        "ai_changes_by_outcome": changes_by_outcome(period_ai, flags),
    }
    if not n_people:
        metric["why_zero"] = "no human authored a change in the period"
    elif not survived:
        metric["why_zero"] = "no deploy in the period survived its rollback window"
    elif not ai_survived:
        metric["why_zero"] = (
            "no surviving deploy in the period shipped an AI-assisted change that counts"
        )

    report = {
        "schema_version": SCHEMA_VERSION,
        "repository": repository,
        "generated_at": iso(generated_at or datetime.now(timezone.utc)),
        "now": iso(now),
        "window_days": round(window.total_seconds() / 86400, 6),
        "min_confidence": min_confidence,
        "settings": settings,
        "history": history,
        "period": period_block,
        "metric": metric,
        "agents": agent_rows(commits, outcomes, in_period, survived, min_confidence),
        "dora": dora(commits, outcomes, period_deploys, weeks),
        "weeks": weekly(commits, outcomes, now, window, period),
        "deploys": [deploy_row(deploys, p, flags) for p in deploys.between(since_us)],
        "ai_changes": ai_change_rows(commits, outcomes, in_period, min_confidence),
        "contributors_hashed": sorted(contributor_hash(e) for e in contributors),
        "signals": signals(commits, outcomes, unknown_deploys, missing_objects),
    }
    return report
