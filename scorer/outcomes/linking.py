"""Linking and outcomes (METRIC.md sections 4-6): what each deploy shipped, which deploys
survived the rollback window, which changes were reverted, and which changes count.

Pure: takes the graph, the commits, resolved deploy events, the window and ``now``; the only
outside call is ``substantive``, a function the caller provides (it reads git objects); it is
asked once, about the changes whose verdict can matter (those with any AI evidence).

What a change came to is kept as one byte of flags per commit row (``Outcomes.flags``), not as
sets: the report counts over 100k rows with one ``bytes.translate`` each, and an incremental
run (``scorer.incremental.advance``) updates the few rows that can have changed and saves the rest.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from operator import attrgetter

from scorer.incremental.eventstore import EventStore
from scorer.model import HIGH, DeployEvent
from scorer.outcomes.deploys import (
    FAILED,
    PENDING,
    ROLLED_BACK,
    SURVIVED,
    DeployList,
    DeployResult,
)
from scorer.outcomes.graph import Graph, PrefixIndex
from scorer.outcomes.table import CommitTable
from scorer.util.times import micros

_event_time = attrgetter("time")
_deploy_when = attrgetter("when")
_MICROSECOND = timedelta(microseconds=1)

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
        # Trivial AI changes by (author hash, UTC day) -> [count, earliest time, its SHA]:
        # the "trivial-ai-burst" signal, kept so a warm run folds in only its new rows
        # (scorer.metrics.report.fold_bursts); None: the report works it out.
        self.bursts: dict[tuple[str, str], list] | None = None
        # Set by an incremental run (scorer.incremental.advance) for the cache it writes next: every
        # kept deploy event, in linking order (each deploy's ``event_pos`` is its position).
        # None: worked out then, from the events.
        self.events: EventStore | None = None

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


def order_events(events: Sequence[DeployEvent]) -> list[DeployEvent]:
    """By time, then by source order (the sort is stable: the position in ``events`` breaks
    ties)."""
    return sorted(events, key=_event_time)


def link_deploys(
    graph: Graph, events: Sequence[DeployEvent], window: timedelta, now: datetime
) -> list[DeployResult]:
    """Shipped sets and deploy outcomes, per environment (sections 4 and 5)."""
    by_env: dict[str, list[DeployEvent]] = {}
    for ev in order_events(events):
        by_env.setdefault(ev.environment, []).append(ev)
    results: list[DeployResult] = []
    for env in sorted(by_env):
        results.extend(_link_environment(graph, by_env[env], window, now))
    for serial, d in enumerate(results):
        d.serial = serial
    return results


def ship(graph: Graph, ev: DeployEvent, node: int, previous: int | None) -> DeployResult:
    """A deploy and what it shipped (or would have) since ``previous``."""
    parents = graph.parents
    changes = [c for c in graph.range(node, previous) if len(parents[c]) <= 1]
    if ev.status == "success":
        return DeployResult(ev, node, shipped=changes)
    return DeployResult(ev, node, FAILED, attempted=changes)


def _link_environment(
    graph: Graph, events: list[DeployEvent], window: timedelta, now: datetime
) -> list[DeployResult]:
    idx = graph.index
    results: list[DeployResult] = []
    previous: int | None = None  # node that production ran before this deploy
    for ev in events:
        res = ship(graph, ev, idx[ev.sha], previous)
        if res.outcome != FAILED:
            previous = res.node
        results.append(res)

    ok = [r for r in results if r.outcome != FAILED]
    n = len(ok)
    # link[k]: deploy k's code is contained in deploy k+1's. Containment is transitive, so
    # every deploy before the next broken link contains D: only deploys from the first break
    # on (a rollback, or a deploy from another branch) need an ancestry walk. This keeps the
    # pass linear in the number of deploys, however many a window holds.
    link = [graph.contains(a.node, b.node) for a, b in itertools.pairwise(ok)]
    first_break = [n] * n  # smallest j > k with link[j - 1] false
    upcoming = n
    for j in range(n - 1, 0, -1):
        if not link[j - 1]:
            upcoming = j
        first_break[j - 1] = upcoming
    for k, d in enumerate(ok):
        judge(graph, d, ok, first_break[k], window, now)
    return results


def judge(
    graph: Graph, d: DeployResult, ok: Sequence[DeployResult], start: int, window, now
) -> None:
    """Set the outcome of successful deploy ``d``: rolled back by the first deploy of
    ``ok[start:]`` inside its window that does not contain it, else pending or survived."""
    when = d.when
    deadline = when + window // _MICROSECOND
    j = start
    while j < len(ok) and ok[j].when <= deadline:
        r = ok[j]
        if r.when > when and not graph.contains(d.node, r.node):
            d.outcome = ROLLED_BACK
            d.rolled_back_by = r.event.id
            return
        j += 1
    d.outcome = PENDING if micros(now) < deadline else SURVIVED


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
    prefixes: PrefixIndex | None = None

    def matches(named: str) -> list[int]:
        nonlocal prefixes
        if prefixes is None:
            prefixes = PrefixIndex(graph.shas)
        return [graph.index[s] for s in prefixes.matches(named)]

    return matches


def compute_outcomes(
    graph: Graph,
    table: CommitTable,
    events: Sequence[DeployEvent],
    *,
    window: timedelta,
    now: datetime,
    min_confidence: str,
    substantive: Callable[[list[int]], dict[int, bool]],
) -> Outcomes:
    """Everything section 6 needs to decide which changes count."""
    deploys = link_deploys(graph, events, window, now)
    n = len(table)
    flags = bytearray(CHANGE if len(ps) <= 1 else 0 for ps in table.parents)
    first = array("i", [-1]) * n
    for d in sorted(deploys, key=_deploy_when):  # stable: list order breaks ties
        serial, survived = d.serial, d.outcome == SURVIVED
        for c in d.shipped:
            if first[c] < 0:
                first[c] = serial
                flags[c] |= SHIPPED
            if survived:
                flags[c] |= SURVIVED_SHIP

    reverters = resolve_reverts(table.reverts.items(), prefix_matcher(graph))
    # A revert undoes work; it does not ship any. Counting one would let an AI change and its
    # AI-attributed revert, deployed together, add an AI deploy (METRIC.md section 9).
    reverts = {y for ys in reverters.values() for y in ys}
    outcomes = Outcomes(deploys, flags, first, {}, {}, reverts, reverters)
    update_reverted(table, outcomes, sorted(reverters), window, now)

    any_ai = [i for i in table.evidence if flags[i] & CHANGE]
    outcomes.substantive = substantive(sorted(any_ai))
    set_attribution(table, outcomes, any_ai, min_confidence)
    return outcomes


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
    """Section 6: AI-assisted, substantive, shipped by a survived deploy, not reverted, and
    not itself a revert."""
    f = outcomes.flags[i]
    if f & (AI | TRIVIAL | SURVIVED_SHIP | REVERTED) == AI | SURVIVED_SHIP and (
        i not in outcomes.reverts
    ):
        outcomes.flags[i] = f | COUNTED
    else:
        outcomes.flags[i] = f & ~COUNTED


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
