"""The period's changes by outcome, and the AI changes the report lists, each with the one
outcome ``scorer.outcomes.change`` gives it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from scorer.outcomes.change import ORDER, Judged, Outcome
from scorer.util.times import from_unix, iso

AI_CHANGE_LIST_LIMIT = 200


def changes_by_outcome(ids: Sequence[int], judged: Judged, ai_only: bool = False) -> dict:
    """How many of ``ids`` have each outcome (every outcome listed, 0 included; ``survived``
    is for changes that are not AI-assisted, so an AI-only count leaves it out)."""
    counts = Counter(judged(i) for i in ids)
    return {k: counts.get(k, 0) for k in ORDER if not (ai_only and k == Outcome.SURVIVED)}


def ai_change_rows(commits, judged: Judged, in_period, min_confidence) -> list[dict]:
    """The period's changes with AI evidence, newest first (at most AI_CHANGE_LIST_LIMIT)."""
    outcomes = judged.outcomes
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
                "author_time": iso(from_unix(c.author_time)),
                "agents": commits.agents(i, "medium"),
                "ai_at_min_confidence": commits.ai(i, min_confidence),
                "status": judged(i),
                "first_deploy": None if first is None else first.event.id,
                "evidence": [
                    {"agent": e.agent, "kind": e.kind, "confidence": e.confidence, "text": e.text}
                    for e in c.evidence
                ],
            }
        )
    return rows
