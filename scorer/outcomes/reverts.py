"""Reverts (METRIC.md section 6): which change a ``This reverts commit <sha>`` names, and
whether it counts against that change (inside the window of its first deploy, and not itself
reverted).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta

from scorer.outcomes.flags import CHANGE, REVERTED, Outcomes
from scorer.outcomes.graph import Graph, PrefixIndex
from scorer.outcomes.table import CommitTable


def revert_commits(table: CommitTable, reverters: dict[int, list[int]]) -> set[int]:
    """The commits that are reverts, and so never count (section 6, v2): their subject starts
    with ``Revert "`` and they name a commit they revert. A squash whose body merely quotes a
    revert line is not one (it still marks the named commit reverted: it is in
    ``reverters``)."""
    subjects = table.subjects
    return {y for ys in reverters.values() for y in ys if subjects[y].startswith('Revert "')}


def resolve_reverts(
    reverts: Iterable[tuple[int, Sequence[str]]], matches: Callable[[str], list[int]]
) -> dict[int, list[int]]:
    """commit -> the commits that say ``This reverts commit <sha>`` of it (a merge included:
    ``git revert -m``). Names that resolve to no commit, or to several, are left out."""
    out: dict[int, list[int]] = {}
    for y, named_shas in sorted(reverts):
        for named in named_shas:
            found = matches(named)
            if len(found) == 1:
                out.setdefault(found[0], []).append(y)
    return out


def prefix_matcher(graph: Graph) -> Callable[[str], list[int]]:
    """The commits a name from a message may mean: a full id looks itself up (git's revert
    message names one); only an abbreviation needs the sorted index of every id."""
    prefixes: PrefixIndex | None = None
    full = len(graph.shas[0]) if len(graph.shas) else 40

    def matches(named: str) -> list[int]:
        nonlocal prefixes
        if len(named) == full:
            row = graph.index.get(named.lower())
            return [] if row is None else [row]
        if prefixes is None:
            prefixes = PrefixIndex(graph.shas)
        return [graph.index[s] for s in prefixes.matches(named)]

    return matches


def update_reverted(
    table: CommitTable, outcomes: Outcomes, targets: Iterable[int], window: timedelta, now
) -> None:
    """Decide again for ``targets`` whether each was reverted inside its window by a revert
    that is not itself reverted. A reverted merge is no change (section 1): its revert is not
    counted against anything."""
    ctime = table.committer_time
    reverters, reverted, flags = outcomes.reverters, outcomes.reverted, outcomes.flags
    now_ts = now.timestamp()
    window_s = window.total_seconds()
    memo: dict[int, int | None] = {}

    def effective_revert(x: int, active: frozenset[int]) -> int | None:
        if x in memo:
            return memo[x]
        found = None
        d = outcomes.first_deploy(x)
        limit = now_ts if d is None else d.when / 1e6 + window_s
        for y in sorted(reverters.get(x, ()), key=lambda i: (ctime[i], table.shas[i])):
            t = ctime[y]
            if y == x or y in active or t > now_ts or t > limit:
                continue
            if effective_revert(y, active | {x}) is None:
                found = y
                break
        memo[x] = found
        return found

    for x in targets:
        y = effective_revert(x, frozenset()) if flags[x] & CHANGE else None
        if y is None:
            reverted.pop(x, None)
            flags[x] &= ~REVERTED
        else:
            reverted[x] = y
            flags[x] |= REVERTED
