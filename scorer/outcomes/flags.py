"""What a change came to, as one byte of flags per commit row, and the ``Outcomes`` of a run.

Flags, not sets: the report counts over 100k rows with one ``bytes.translate`` each, and a warm
run (``scorer.incremental``) updates the few rows that can have changed. Which flags make which
outcome is decided in one place, ``scorer.outcomes.change``.
"""

from __future__ import annotations

from array import array

from scorer.outcomes.deploys import DeployList, DeployResult

# Flags of a commit row (``Outcomes.flags``).
CHANGE = 1  # not a merge (section 1)
AI = 2  # AI-assisted at min_confidence (a change)
AI_HIGH = 4  # AI-assisted at high confidence
TRIVIAL = 8  # has AI evidence and is not substantive
SHIPPED = 16  # shipped by some successful deploy
SURVIVED_SHIP = 32  # shipped by a deploy that survived
REVERTED = 64  # reverted inside its window (``Outcomes.reverted``)
COUNTED = 128  # counts (section 6)


class Outcomes:
    """What every change and deploy came to, at ``now``."""

    def __init__(
        self,
        deploys: DeployList | list[DeployResult],
        flags: bytearray,
        first: array,
        reverted: dict[int, int],
        substantive: dict[int, bool],
        reverts: set[int],
        reverters: dict[int, list[int]],
    ):
        if not isinstance(deploys, DeployList):
            deploys = DeployList.from_results(deploys)
        self.deploys = deploys  # in (environment, time, source order) order
        self.flags = flags  # per row, the flags above
        self.first = first  # per row: serial of its first deploy, -1 when never shipped
        self.reverted = reverted  # change -> the revert commit that counts
        self.substantive = substantive  # only for the changes with AI evidence
        self.reverts = reverts  # commits that revert one in the history (never count)
        self.reverters = reverters  # commit -> the commits that say they revert it

    def first_deploy(self, row: int) -> DeployResult | None:
        s = self.first[row]
        return None if s < 0 else self.deploys[self.deploys.position_of_serial(s)]

    def count(self, mask: int, value: int | None = None) -> int:
        """Rows whose flags, masked, equal ``value`` (default: all of ``mask`` set)."""
        return count_flags(self.flags, mask, mask if value is None else value)


_TABLES: dict[tuple[int, int], bytes] = {}


def count_flags(flags: bytes | bytearray, mask: int, value: int) -> int:
    table = _TABLES.get((mask, value))
    if table is None:
        table = _TABLES[(mask, value)] = bytes(int(b & mask == value) for b in range(256))
    return flags.translate(table).count(1)
