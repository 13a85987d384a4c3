"""The period's changes by outcome, and the AI changes the report lists, each with the outcome
``scorer.outcomes.change`` gives it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from scorer.outcomes.change import change_outcome, outcome_of
from scorer.outcomes.flags import Outcomes
from scorer.util.times import from_unix, iso

AI_CHANGE_LIST_LIMIT = 200
# The report's buckets of changes, and the outcomes each holds (v1 names).
CHANGE_OUTCOMES = (
    "survived",
    "shipped_not_survived",
    "unshipped",
    "reverted",
    "trivial",
)
_BUCKET = {
    "counted": "survived",
    "survived": "survived",
    "pending": "shipped_not_survived",
    "rolled_back": "shipped_not_survived",
    "unshipped": "unshipped",
    "reverted": "reverted",
    "trivial": "trivial",
}


def changes_by_outcome(ids: Sequence[int], flags: bytearray) -> dict[str, int]:
    """How many of ``ids`` fall in each bucket (a revert by what its flags say)."""
    counts = Counter(_BUCKET[change_outcome(flags[i])] for i in ids)
    return {k: counts.get(k, 0) for k in CHANGE_OUTCOMES}


def _utc(ts: int) -> datetime:
    return from_unix(ts)  # clamps what datetime cannot hold (a commit "dated" year 10000)


def ai_change_rows(commits, outcomes: Outcomes, in_period, min_confidence) -> list[dict]:
    rows = []
    ids = [i for i in in_period if i in commits.evidence]
    ids.sort(key=lambda i: (commits.author_time[i], commits.shas[i]), reverse=True)
    for i in ids[:AI_CHANGE_LIST_LIMIT]:
        c = commits[i]
        first = outcomes.first_deploy(i)
        rows.append(
            {
                "sha": c.sha,
                "subject": c.subject,
                "author_time": iso(_utc(c.author_time)),
                "agents": c.agents("medium"),
                "ai_at_min_confidence": c.ai(min_confidence),
                "status": outcome_of(outcomes, i),
                "first_deploy": None if first is None else first.event.id,
                "evidence": [
                    {"agent": e.agent, "kind": e.kind, "confidence": e.confidence, "text": e.text}
                    for e in c.evidence
                ],
            }
        )
    return rows
