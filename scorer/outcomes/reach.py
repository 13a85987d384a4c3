"""Which substantive verdicts (section 1) a report needs: diffing is the cold scan's cost, and
most AI changes of a long history can never reach the report.

A report shows, one by one, the changes of its period and what each deploy since the period's
start shipped; its weekly trend's earlier weeks show only whether each survived deploy shipped
a change that counts, and whether each person was active in each week. So every AI change
authored or shipped since ``Reach.full`` is judged; in ``[Reach.trend, Reach.full)`` a deploy's
changes, and a person-week's, are judged one at a time until one is substantive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from scorer.outcomes.change import could_count, set_attribution
from scorer.outcomes.deploys import OUTCOMES, SURVIVED
from scorer.outcomes.flags import AI, COUNTED, Outcomes
from scorer.outcomes.table import CommitTable

Judge = Callable[[list[int]], dict[int, bool]]
_SURVIVED = OUTCOMES.index(SURVIVED)


class Reach:
    """Where a report's figures start (Unix seconds): ``trend``, its weekly trend's first
    week; ``full``, its period (every change judged from there on)."""

    __slots__ = ("full", "trend")

    def __init__(self, trend: float, full: float):
        self.trend = min(trend, full)
        self.full = full


def reachable(
    table: CommitTable, outcomes: Outcomes, rows: Sequence[int], since: float | None
) -> list[int]:
    """Of ``rows``, those a report whose changes are listed from ``since`` shows one by one:
    authored since then, or shipped by a deploy since then (all of them when ``since`` is
    None)."""
    if since is None:
        return list(rows)
    deploys = outcomes.deploys
    shipped = {c for p in deploys.between(int(since * 1_000_000)) for c in deploys.shipped_rows(p)}
    atime = table.author_time
    return [i for i in rows if atime[i] >= since or i in shipped]


def until_substantive(groups: list[list[int]], judge: Judge) -> None:
    """Judge each group's rows in turn only until one is substantive (``judge(rows)`` ->
    {row: substantive}), all groups' next rows at once. What the report needs of a group is
    whether one of them is; the answer is the same whatever was judged before."""
    turn = 0
    while groups:
        found = judge([g[turn] for g in groups])
        groups = [g for g in groups if not found[g[turn]] and turn + 1 < len(g)]
        turn += 1


def judge_trend_deploys(
    table: CommitTable, outcomes: Outcomes, reach: Reach, judge: Judge, min_confidence: str
) -> None:
    """For each survived deploy of ``[reach.trend, reach.full)``: whether it shipped a change
    that counts (the trend's AI deploys), judging its AI changes that would count if
    substantive only until one is (``outcomes.substantive`` and the rows' flags updated).
    A deploy that already ships a counted change needs none; every run does this for its own
    trend, so flags a later commit changed (a new revert) are judged again where they matter."""
    deploys, flags = outcomes.deploys, outcomes.flags
    verdicts = outcomes.substantive
    lo, hi = int(reach.trend * 1_000_000), int(reach.full * 1_000_000)
    groups = []
    for p in deploys.between(lo, hi):
        if deploys.code[p] != _SURVIVED:
            continue
        rows = deploys.shipped_rows(p)
        if any(flags[c] & COUNTED for c in rows):
            continue
        # Known verdicts are answered without git, and flags set from them (a cache may
        # know a verdict its run had no need to apply).
        group = [c for c in rows if flags[c] & AI and could_count(outcomes, c)]
        if group:
            groups.append(group)

    def judged(rows: list[int]) -> dict[int, bool]:
        found = judge(rows)
        verdicts.update(found)
        set_attribution(table, outcomes, rows, min_confidence)
        return found

    until_substantive(groups, judged)
