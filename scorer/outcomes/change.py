"""The outcome of a change (METRIC.md section 6): the one place that decides it.

Every change has exactly one outcome; ``change_outcome`` gives it from the change's flags,
and everything that shows or counts outcomes asks it: the COUNTED flag (``set_counted``), the
report's counts and change list (``Judged``), and the pull-request comment. Its order is the
precedence: trivial, reverted, revert, counted, pending, not_survived, unshipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from scorer.model import HIGH
from scorer.outcomes.deploys import FAILED, PENDING
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
    """The outcomes, in order of precedence (METRIC.md section 6, v2). ``REVERT``: the change
    itself reverts another commit (it undoes work, so it never counts: section 6 says a revert
    never counts itself). ``SURVIVED``: shipped by a survived deploy but not AI-assisted at
    min_confidence (the report counts every change by outcome, not only AI ones).
    ``NOT_SURVIVED``: shipped (or attempted) only by deploys that failed or were rolled back.
    ``PENDING``: shipped by a deploy still inside its window, never by a survived one."""

    TRIVIAL = "trivial"
    REVERTED = "reverted"
    REVERT = "revert"
    COUNTED = "counted"
    SURVIVED = "survived"
    PENDING = "pending"
    NOT_SURVIVED = "not_survived"
    UNSHIPPED = "unshipped"


ORDER = (
    Outcome.TRIVIAL,
    Outcome.REVERTED,
    Outcome.REVERT,
    Outcome.COUNTED,
    Outcome.SURVIVED,
    Outcome.PENDING,
    Outcome.NOT_SURVIVED,
    Outcome.UNSHIPPED,
)

# Why a change that would otherwise count does not, in a sentence (the PR comment).
REASONS = {
    Outcome.TRIVIAL: "trivial (empty, whitespace-only, rename-only, mode-only or excluded paths)",
    Outcome.REVERTED: "reverted",
    Outcome.REVERT: "a revert (undoes work; never counts)",
}


def change_outcome(
    flags: int,
    *,
    is_revert: bool = False,
    pending: Callable[[], bool] | None = None,
    attempted: Callable[[], bool] | None = None,
) -> str:
    """The outcome of a change with ``flags``. ``is_revert``: it reverts another commit.
    For a change no survived deploy shipped: ``pending()``, whether a deploy still inside its
    window shipped it; ``attempted()``, whether a failed deploy tried to."""
    if flags & TRIVIAL:
        return Outcome.TRIVIAL
    if flags & REVERTED:
        return Outcome.REVERTED
    if is_revert:
        return Outcome.REVERT
    if flags & SURVIVED_SHIP:
        return Outcome.COUNTED if flags & AI else Outcome.SURVIVED
    if pending is not None and flags & SHIPPED and pending():
        return Outcome.PENDING
    if flags & SHIPPED or (attempted is not None and attempted()):
        return Outcome.NOT_SURVIVED
    return Outcome.UNSHIPPED


def set_attribution(
    table: CommitTable, outcomes: Outcomes, rows: Iterable[int], min_confidence: str
) -> None:
    """AI, AI_HIGH and TRIVIAL flags of ``rows`` (changes with evidence), then COUNTED. A row
    never judged (it cannot reach the report: ``compute_outcomes``'s ``reach``) is
    neither trivial nor counted."""
    flags, verdicts, evidence = outcomes.flags, outcomes.substantive, table.evidence
    # The AI bits depend on the evidence alone, and rows share evidence tuples (detect
    # remembers the evidence of a message's tail): worked out once per tuple, by identity
    # (every tuple stays in ``table.evidence`` meanwhile). ~80k rows at 80% AI.
    bits_of: dict[int, int] = {}
    for i in rows:
        ev = evidence.get(i, ())
        bits = bits_of.get(id(ev))
        if bits is None:
            bits = bits_of[id(ev)] = (AI if table.ai(i, min_confidence) else 0) | (
                AI_HIGH if table.ai(i, HIGH) else 0
            )
        f = flags[i] & ~(AI | AI_HIGH | TRIVIAL) | bits
        verdict = verdicts.get(i)
        if verdict is None:  # never judged: not counted (set_counted's answer, sooner)
            flags[i] = f & ~COUNTED
            continue
        if verdict is False:
            f |= TRIVIAL
        flags[i] = f
        set_counted(outcomes, i)


def set_counted(outcomes: Outcomes, i: int) -> None:
    """The COUNTED flag of row ``i``: whether its outcome is ``counted`` (never for a change
    whose substantive verdict is not known)."""
    f = outcomes.flags[i]
    judged = i in outcomes.substantive
    if judged and change_outcome(f, is_revert=i in outcomes.reverts) == Outcome.COUNTED:
        outcomes.flags[i] = f | COUNTED
    else:
        outcomes.flags[i] = f & ~COUNTED


def could_count(outcomes: Outcomes, i: int) -> bool:
    """Whether change ``i`` would count if it is substantive (never unless it is AI-assisted):
    what its verdict decides."""
    f = outcomes.flags[i] & ~TRIVIAL
    return change_outcome(f, is_revert=i in outcomes.reverts) == Outcome.COUNTED


class Judged:
    """Asks ``change_outcome`` about rows of one run: knows which rows pending deploys
    shipped and failed deploys attempted (a few deploys: sets made once), and which changes
    are trivial beyond those with AI evidence (``verdicts``: every row judged)."""

    def __init__(self, outcomes: Outcomes, verdicts: Mapping[int, bool] | None = None):
        self.outcomes = outcomes
        self.verdicts = verdicts if verdicts is not None else outcomes.substantive
        self._pending: set[int] | None = None
        self._attempted: set[int] | None = None

    def _rows(self, outcome: str) -> set[int]:
        deploys = self.outcomes.deploys
        return {c for p in deploys.positions(outcome) for c in deploys.shipped_rows(p)}

    def pending(self, i: int) -> bool:
        if self._pending is None:
            self._pending = self._rows(PENDING)
        return i in self._pending

    def attempted(self, i: int) -> bool:
        if self._attempted is None:
            self._attempted = self._rows(FAILED)
        return i in self._attempted

    def __call__(self, i: int) -> str:
        o = self.outcomes
        f = o.flags[i] | (TRIVIAL if self.verdicts.get(i) is False else 0)
        return change_outcome(
            f,
            is_revert=i in o.reverts,
            pending=lambda: self.pending(i),
            attempted=lambda: self.attempted(i),
        )
