"""The report (METRIC.md sections 7-9): every figure with its numerator and denominator,
assembled from one small module per quantity. Pure: values in, the report dict out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

from scorer.metrics.agents import agent_rows, review_bot_rows
from scorer.metrics.changes import ai_change_rows, changes_by_outcome
from scorer.metrics.deploys import SURVIVED_CODE, deploy_row, ships_counted
from scorer.metrics.dora import dora
from scorer.metrics.normalized import per_developer_week, ratio
from scorer.metrics.period import Period
from scorer.metrics.signals import SIGNALS_LISTED, contributor_hash, signals
from scorer.metrics.weekly import buckets, trend_weeks, week_rows
from scorer.metrics.why import causes
from scorer.model import DeployEvent
from scorer.outcomes.change import Judged
from scorer.outcomes.deploys import OUTCOMES, PENDING
from scorer.outcomes.flags import (
    AI,
    AI_HIGH,
    CHANGE,
    REVERTED,
    SHIPPED,
    Outcomes,
)
from scorer.outcomes.table import CommitTable
from scorer.util.times import iso, micros

SCHEMA_VERSION = 1
PENDING_CODE = OUTCOMES.index(PENDING)
METRIC_VERSION = 2  # METRIC.md v2; a cache built under v1 is invalid (rules digest)


def build_report(
    *,
    repository: dict,
    commits: CommitTable,
    outcomes: Outcomes,
    verdicts: Mapping[int, bool],
    unknown_deploys: Sequence[DeployEvent],
    ignored_deploys: dict[str, int],
    now: datetime,
    window: timedelta,
    period: Period,
    min_confidence: str,
    settings: dict,
    source_notes: Sequence[str] = (),
    missing_objects: int = 0,
    generated_at: datetime | None = None,
) -> dict:
    """The report of one scan. ``verdicts``: the substantive verdict of every change with AI
    evidence and of every change authored in the trend's weeks (contributors are authors of
    substantive changes). ``source_notes``: what the deploy sources saw, when none found an
    event."""
    deploys = outcomes.deploys
    flags, human = outcomes.flags, commits.human
    count = outcomes.count
    judged = Judged(outcomes, verdicts)
    ignored = {k: v for k, v in ignored_deploys.items() if not k.startswith("environment:")}
    by_env = {k[12:]: v for k, v in ignored_deploys.items() if k.startswith("environment:")}

    # --- history: the whole scanned history -----------------------------------------------
    history = {
        "commits": len(commits),
        "changes": count(CHANGE),
        "ai_changes": count(AI),
        "ai_changes_high": count(AI_HIGH),
        "unshipped_ai_changes": count(AI | SHIPPED, AI),
        "reverted_changes": len(outcomes.reverted),
        "reverted_ai_changes": count(AI | REVERTED),
        "deploys": len(deploys),
        "deploys_by_outcome": {o: deploys.count_outcome(o) for o in OUTCOMES},
        "deploys_not_in_history": len(unknown_deploys),
        # the first five by time (linking order: the same with or without a cache)
        "deploys_not_in_history_sample": [
            {"id": e.id, "sha": e.sha, "where": e.where} for e in unknown_deploys[:5]
        ],
        "deploys_ignored": dict(sorted(ignored.items())),
        "deploys_ignored_by_environment": dict(sorted(by_env.items())),
        "missing_objects": missing_objects,
    }

    # --- period -------------------------------------------------------------------------
    lo, hi = period.since.timestamp(), period.until.timestamp()
    in_period = sorted(i for i in commits.authored_between(lo, hi) if flags[i] & CHANGE)
    period_ai = [i for i in in_period if flags[i] & AI]
    substantive = [i for i in in_period if verdicts.get(i, True)]
    contributors = sorted({commits.email(i) for i in substantive if human[i]})
    since_us, until_us = micros(period.since), micros(period.until)
    period_deploys = deploys.between(since_us, until_us)
    codes = deploys.code
    survived = [p for p in period_deploys if codes[p] == SURVIVED_CODE]
    ai_survived = [p for p in survived if ships_counted(deploys, p, flags)]
    before = trend_weeks(period)
    weeks = buckets(commits, outcomes, verdicts, period, before)
    developer_weeks = sum(b.developer_weeks for b in weeks[before:])
    nd = round(per_developer_week(len(ai_survived), developer_weeks), 6)
    per_dev = round(per_developer_week(len(survived), developer_weeks), 6)

    period_block = {
        "since": iso(period.since),
        "until": iso(period.until),
        "weeks": round(period.weeks, 6),
        "partial": period.partial,
        "changes": len(in_period),
        "substantive_changes": len(substantive),
        "ai_changes": len(period_ai),
        "attribution_coverage": ratio(len(period_ai), len(in_period)),
    }
    pending = deploys.count_outcome(PENDING)
    metric = {
        "normalized_deployments": nd,
        "ai_deploys_survived": len(ai_survived),
        "developer_weeks": round(developer_weeks, 6),
        "deploys_survived": len(survived),
        "contributors": len(contributors),
        "weeks": round(period.weeks, 6),
        "deploys_survived_per_dev_week": per_dev,
        "ai_share_of_survived_deploys": ratio(len(ai_survived), len(survived)),
        "deploys": len(period_deploys),
        "deploys_by_outcome": {
            o: sum(1 for p in period_deploys if codes[p] == k) for k, o in enumerate(OUTCOMES)
        },
        "changes_by_outcome": changes_by_outcome(in_period, judged),
        "ai_changes_by_outcome": changes_by_outcome(period_ai, judged, ai_only=True),
        "why_zero": []
        if nd
        else causes(
            period=period,
            now=now,
            window=window,
            deploy_count=len(deploys),
            pending=pending,
            period_pending=sum(1 for p in period_deploys if codes[p] == PENDING_CODE),
            ignored=ignored_deploys,
            environments=settings.get("environments", []),
            sources=settings.get("deploys", []),
            source_notes=source_notes,
            unknown_deploys=len(unknown_deploys),
            changes=len(in_period),
            ai_changes=len(period_ai),
            developer_weeks=developer_weeks,
            period_deploys=len(period_deploys),
            survived=len(survived),
            newest_change=None if in_period else _newest_change(commits, flags),
        ),
    }
    found = signals(
        commits, outcomes, verdicts, in_period, period_deploys, unknown_deploys, missing_objects
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "metric_version": METRIC_VERSION,
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
        "review_bots": review_bot_rows(commits, in_period, min_confidence),
        "dora": dora(commits, outcomes, period_deploys, period.weeks),
        "weeks": week_rows(weeks, now - window),
        "deploys": [deploy_row(deploys, p, flags) for p in deploys.between(since_us)],
        "ai_changes": ai_change_rows(commits, judged, in_period, min_confidence),
        "contributors_hashed": sorted(contributor_hash(e) for e in contributors),
        "signals": found[:SIGNALS_LISTED],
        "signals_more": max(0, len(found) - SIGNALS_LISTED),
    }


def _newest_change(commits: CommitTable, flags: bytearray) -> int | None:
    """The author time of the newest change (not a merge), or None in an empty history."""
    times = [commits.author_time[i] for i in commits.sort_by_author_time()[-64:] if flags[i] & 1]
    return max(times) if times else (max(commits.author_time) if len(commits) else None)
