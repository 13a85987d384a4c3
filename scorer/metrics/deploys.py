"""The period's deploys as the report lists them, and which of them count (section 7: a
survived deploy that shipped at least one change that counts)."""

from __future__ import annotations

from scorer.outcomes.deploys import OUTCOMES, SURVIVED, DeployList
from scorer.outcomes.flags import AI, COUNTED
from scorer.util.times import iso

SURVIVED_CODE = OUTCOMES.index(SURVIVED)


def ships_counted(deploys: DeployList, p: int, flags: bytearray) -> bool:
    """Whether deploy ``p`` (survived) shipped a change that counts."""
    return any(flags[c] & COUNTED for c in deploys.shipped_rows(p))


def deploy_row(deploys: DeployList, p: int, flags: bytearray) -> dict:
    d = deploys[p]
    ev = d.event
    row = {
        "id": ev.id,
        "sha": ev.sha,
        "environment": ev.environment,
        "time": iso(ev.time),
        "status": ev.status,
        "source": ev.source,
        "outcome": d.outcome,
        "shipped_changes": len(d.shipped),
        "ai_changes": sum(1 for c in d.shipped if flags[c] & AI),
        "counted_ai_changes": sum(1 for c in d.shipped if flags[c] & COUNTED),
    }
    if d.rolled_back_by is not None:
        row["rolled_back_by"] = d.rolled_back_by
    return row
