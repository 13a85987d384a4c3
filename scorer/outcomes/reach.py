"""Which substantive verdicts (section 1) a report needs: diffing is the cold scan's cost, and
most AI changes of a long history can never reach the report.

A report shows, one by one, the changes of its period and what each deploy since the period's
start shipped; its weekly trend's earlier weeks show only whether each survived deploy shipped
a change that counts, and whether each person was active in each week. So every AI change
authored or shipped since ``Reach.full`` is judged; in ``[Reach.trend, Reach.full)`` a deploy's
changes, and a person-week's, are judged one at a time until one is substantive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from scorer.outcomes.change import could_count, set_attribution
from scorer.outcomes.deploys import OUTCOMES, SURVIVED, DeployList
from scorer.outcomes.flags import AI, CHANGE, COUNTED, Outcomes
from scorer.outcomes.table import CommitTable

Judge = Callable[[list[int]], dict[int, bool]]
_SURVIVED = OUTCOMES.index(SURVIVED)


class Reach:
    """Where a report's figures are (Unix seconds): ``trend``, its weekly trend's first week;
    ``full``, its period's start (every change judged from there on); ``until``, its period's
    end, after which an AI change is judged only if a deploy made it count (None: every one
    is; a run that fills a cache judges them, since the next runs' periods move over them)."""

    __slots__ = ("full", "trend", "until")

    def __init__(self, trend: float, full: float, until: float | None = None):
        self.trend = min(trend, full)
        self.full = full
        self.until = until

    @property
    def end(self) -> float:
        """``until``, or no end."""
        return float("inf") if self.until is None else self.until

    def authored(self, t: float) -> bool:
        """Whether a change authored at ``t`` is listed one by one."""
        return self.full <= t < self.end


def reachable(table: CommitTable, outcomes: Outcomes, reach: Reach) -> list[int]:
    """The changes with AI evidence (their flags set but for the verdict) that a report shows
    one by one: authored in its period, or (a deploy's count of changes that count) shipped by
    a deploy since the period's start and counting if substantive."""
    deploys, flags = outcomes.deploys, outcomes.flags
    evidence, atime = table.evidence, table.author_time
    found = {i for i in table.authored_between(reach.full, reach.end) if i in evidence}
    for p in deploys.between(int(reach.full * 1_000_000)):
        found.update(c for c in deploys.shipped_rows(p) if c in evidence)
    return sorted(
        i
        for i in found
        if flags[i] & CHANGE and (reach.authored(atime[i]) or could_count(outcomes, i))
    )


def until_substantive(groups: list[list[int]], judge: Judge) -> None:
    """Judge each group's rows in turn only until one is substantive (``judge(rows)`` ->
    {row: substantive}), all groups' next rows at once. What the report needs of a group is
    whether one of them is; the answer is the same whatever was judged before."""
    turn = 0
    while groups:
        found = judge([g[turn] for g in groups])
        groups = [g for g in groups if not found[g[turn]] and turn + 1 < len(g)]
        turn += 1


def _trend_shipments(deploys: DeployList, reach: Reach) -> Iterator[Sequence[int]]:
    """What each survived deploy of ``[reach.trend, reach.full)`` shipped: the trend's
    earlier weeks' deploys whose count can depend on a verdict."""
    lo, hi = int(reach.trend * 1_000_000), int(reach.full * 1_000_000)
    for p in deploys.between(lo, hi):
        if deploys.code[p] == _SURVIVED:
            yield deploys.shipped_rows(p)


def trend_groups(outcomes: Outcomes, reach: Reach) -> list[list[int]]:
    """For each survived deploy of ``[reach.trend, reach.full)`` that ships no counted change
    yet: its AI changes that would count if substantive (the rows' AI flags set)."""
    flags = outcomes.flags
    groups = []
    for rows in _trend_shipments(outcomes.deploys, reach):
        if any(flags[c] & COUNTED for c in rows):
            continue
        group = [c for c in rows if flags[c] & AI and could_count(outcomes, c)]
        if group:
            groups.append(group)
    return groups


def likely_trend_firsts(table: CommitTable, deploys: DeployList, reach: Reach) -> list[int]:
    """``trend_groups``' first rows as they most likely are, known as soon as deploys are
    linked (``deploys``): each survived deploy's first shipped change with AI evidence. Handed
    to git early, so that their verdicts are ready when ``trend_groups`` asks (a guess that
    misses costs a diff, never a verdict: the groups are worked out exactly later)."""
    evidence, parents = table.evidence, table.parents
    firsts = []
    for rows in _trend_shipments(deploys, reach):
        first = next((c for c in rows if c in evidence and len(parents[c]) <= 1), None)
        if first is not None:
            firsts.append(first)
    return firsts


def judge_trend_deploys(
    table: CommitTable, outcomes: Outcomes, reach: Reach, judge: Judge, min_confidence: str
) -> None:
    """For each survived deploy of ``[reach.trend, reach.full)``: whether it shipped a change
    that counts (the trend's AI deploys), judging its AI changes that would count if
    substantive only until one is (``outcomes.substantive`` and the rows' flags updated).
    Known verdicts are answered without git, and their flags set (a cache may know a verdict
    its run had no need to apply). Every run does this for its own trend, so flags a later
    commit changed (a new revert) are judged again where they matter."""
    verdicts = outcomes.substantive

    def judged(rows: list[int]) -> dict[int, bool]:
        found = judge(rows)
        verdicts.update(found)
        set_attribution(table, outcomes, rows, min_confidence)
        return found

    until_substantive(trend_groups(outcomes, reach), judged)
