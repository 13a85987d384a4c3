"""The outcome of a change (METRIC.md section 6): the one place that decides it.

Every AI change has exactly one outcome; ``change_outcome`` gives it from the change's flags,
and everything that shows or counts outcomes asks it: the COUNTED flag (``set_counted``), the
report's counts and change list, and the pull-request comment. Its order is the precedence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from scorer.model import HIGH
from scorer.outcomes.flags import (
    AI,
    AI_HIGH,
    COUNTED,
    REVERTED,
    SHIPPED,
    SURVIVED_SHIP,
    TRIVIAL,
    Outcomes,
)
from scorer.outcomes.table import CommitTable


class Outcome:
    """The outcomes, in order of precedence. ``SURVIVED``: shipped by a survived deploy but not
    AI-assisted at min_confidence; ``ROLLED_BACK``: shipped only by deploys that did not
    survive."""

    REVERTED = "reverted"
    TRIVIAL = "trivial"
    REVERT = "revert"  # itself a revert: undoes work, never counts
    COUNTED = "counted"
    UNSHIPPED = "unshipped"
    SURVIVED = "survived"
    PENDING = "pending"
    ROLLED_BACK = "rolled_back"


# Why a change that would otherwise count does not, in a sentence (the PR comment).
REASONS = {
    Outcome.TRIVIAL: "trivial (empty, whitespace-only or excluded paths)",
    Outcome.REVERTED: "reverted",
    Outcome.REVERT: "a revert (undoes work; never counts)",
}


def change_outcome(
    flags: int, *, is_revert: bool = False, pending: Callable[[], bool] | None = None
) -> str:
    """The outcome of a change with ``flags``. ``is_revert``: it reverts another commit;
    ``pending``: asked only for a change shipped, never by a survived deploy, whether a
    deploy of it is still inside its window (without it, such a change is ``rolled_back``)."""
    if flags & REVERTED:
        return Outcome.REVERTED
    if flags & TRIVIAL:
        return Outcome.TRIVIAL
    if is_revert:
        return Outcome.REVERT
    if flags & (AI | SURVIVED_SHIP) == AI | SURVIVED_SHIP:
        return Outcome.COUNTED
    if not flags & SHIPPED:
        return Outcome.UNSHIPPED
    if flags & SURVIVED_SHIP:
        return Outcome.SURVIVED
    return Outcome.PENDING if pending is not None and pending() else Outcome.ROLLED_BACK


def set_attribution(
    table: CommitTable, outcomes: Outcomes, rows: Iterable[int], min_confidence: str
) -> None:
    """AI, AI_HIGH and TRIVIAL flags of ``rows`` (changes with evidence), then COUNTED."""
    flags, verdicts = outcomes.flags, outcomes.substantive
    for i in rows:
        f = flags[i] & ~(AI | AI_HIGH | TRIVIAL)
        if table.ai(i, min_confidence):
            f |= AI
        if table.ai(i, HIGH):
            f |= AI_HIGH
        if not verdicts[i]:
            f |= TRIVIAL
        flags[i] = f
        set_counted(outcomes, i)


def set_counted(outcomes: Outcomes, i: int) -> None:
    """The COUNTED flag of row ``i``: whether its outcome is ``counted``."""
    f = outcomes.flags[i]
    if change_outcome(f, is_revert=i in outcomes.reverts) == Outcome.COUNTED:
        outcomes.flags[i] = f | COUNTED
    else:
        outcomes.flags[i] = f & ~COUNTED


def outcome_of(outcomes: Outcomes, i: int) -> str:
    """The outcome of row ``i`` of a run, telling pending from rolled back."""
    deploys = outcomes.deploys

    def pending() -> bool:
        return any(i in deploys.shipped_rows(p) for p in deploys.positions("pending"))

    return change_outcome(outcomes.flags[i], is_revert=i in outcomes.reverts, pending=pending)
