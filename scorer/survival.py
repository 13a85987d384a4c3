"""Linking and outcomes (METRIC.md sections 4-6): what each deploy shipped, which deploys
survived the rollback window, which changes were reverted, and which changes count.

Pure: takes the graph, the commits, resolved deploy events, the window and ``now``; the only
outside call is ``substantive``, a function the caller provides (it reads git objects); it is
asked once, about the changes whose verdict can matter (those with any AI evidence).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scorer.graph import Graph, PrefixIndex
from scorer.model import DeployEvent
from scorer.table import CommitTable

SURVIVED = "survived"
ROLLED_BACK = "rolled_back"
FAILED = "failed"
PENDING = "pending"
OUTCOMES = (SURVIVED, ROLLED_BACK, FAILED, PENDING)


@dataclass
class DeployResult:
    event: DeployEvent
    node: int  # graph index of event.sha
    outcome: str
    shipped: list[int] = field(default_factory=list)  # changes shipped (successful deploys)
    attempted: list[int] = field(default_factory=list)  # what a failed deploy would have shipped
    rolled_back_by: str | None = None  # id of the deploy that replaced it


@dataclass
class Outcomes:
    deploys: list[DeployResult]  # in (environment, time, source order) order
    first_deploy: dict[int, int]  # change -> position in ``deploys`` of its first deploy
    survived_ship: dict[int, list[int]]  # change -> survived deploys that shipped it
    reverted: dict[int, int]  # change -> the revert commit that counts
    substantive: dict[int, bool]  # only for the changes that were asked about
    counted: set[int]  # changes that count (section 6)
    ai: set[int]  # AI-assisted changes at min_confidence
    reverts: set[int] = field(default_factory=set)  # commits that revert one in the history


def order_events(events: Sequence[DeployEvent]) -> list[DeployEvent]:
    """By time, then by source order (the position in ``events`` breaks ties)."""
    return [ev for _, ev in sorted(enumerate(events), key=lambda p: (p[1].time, p[0]))]


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
    return results


def _link_environment(
    graph: Graph, events: list[DeployEvent], window: timedelta, now: datetime
) -> list[DeployResult]:
    idx = graph.index
    parents = graph.parents
    results: list[DeployResult] = []
    previous: int | None = None  # node that production ran before this deploy
    for ev in events:
        node = idx[ev.sha]
        res = DeployResult(event=ev, node=node, outcome="")
        changes = [c for c in graph.range(node, previous) if len(parents[c]) <= 1]
        if ev.status == "success":
            res.shipped = changes
            previous = node
        else:
            res.outcome = FAILED
            res.attempted = changes
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
        deadline = d.event.time + window
        j = first_break[k]
        while j < n and ok[j].event.time <= deadline:
            r = ok[j]
            if r.event.time > d.event.time and not graph.contains(d.node, r.node):
                d.outcome = ROLLED_BACK
                d.rolled_back_by = r.event.id
                break
            j += 1
        if not d.outcome:
            d.outcome = PENDING if now < deadline else SURVIVED
    return results


def resolve_reverts(table: CommitTable, graph: Graph) -> dict[int, list[int]]:
    """commit -> the commits that say ``This reverts commit <sha>`` of it (a merge included:
    ``git revert -m``). Names that resolve to no commit, or to several, are left out."""
    if not table.reverts:
        return {}
    prefixes = PrefixIndex(graph.shas)
    out: dict[int, list[int]] = {}
    for y, named_shas in sorted(table.reverts.items()):
        for named in named_shas:
            found = prefixes.matches(named)
            if len(found) == 1:
                out.setdefault(graph.index[found[0]], []).append(y)
    return out


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

    first_deploy: dict[int, int] = {}
    survived_ship: dict[int, list[int]] = {}
    for pos in sorted(range(len(deploys)), key=lambda p: deploys[p].event.time):
        d = deploys[pos]
        for c in d.shipped:
            first_deploy.setdefault(c, pos)
            if d.outcome == SURVIVED:
                survived_ship.setdefault(c, []).append(pos)

    reverters = resolve_reverts(table, graph)
    reverted = _reverted(table, reverters, deploys, first_deploy, window, now)
    # A revert undoes work; it does not ship any. Counting one would let an AI change and its
    # AI-attributed revert, deployed together, add an AI deploy (METRIC.md section 9).
    reverts = {y for ys in reverters.values() for y in ys}

    any_ai = {i for i in table.evidence if len(table.parents[i]) <= 1}
    ai = {i for i in any_ai if table.ai(i, min_confidence)}
    verdicts = substantive(sorted(any_ai))
    counted = {
        i
        for i in ai
        if verdicts[i] and i in survived_ship and i not in reverted and i not in reverts
    }
    return Outcomes(
        deploys=deploys,
        first_deploy=first_deploy,
        survived_ship=survived_ship,
        reverted=reverted,
        substantive=verdicts,
        counted=counted,
        ai=ai,
        reverts=reverts,
    )


def _reverted(
    table: CommitTable,
    reverters: dict[int, list[int]],
    deploys: Sequence[DeployResult],
    first_deploy: dict[int, int],
    window: timedelta,
    now: datetime,
) -> dict[int, int]:
    """Changes reverted inside the window by a revert that is not itself reverted. A
    reverted merge is no change (section 1): its revert is not counted against anything."""
    ctime = table.committer_time
    now_ts = now.timestamp()
    window_s = window.total_seconds()
    memo: dict[int, int | None] = {}

    def effective_revert(x: int, active: frozenset[int]) -> int | None:
        if x in memo:
            return memo[x]
        found = None
        pos = first_deploy.get(x)
        limit = now_ts if pos is None else deploys[pos].event.time.timestamp() + window_s
        for y in sorted(reverters.get(x, ()), key=lambda i: (ctime[i], table.shas[i])):
            t = ctime[y]
            if y == x or y in active or t > now_ts or t > limit:
                continue
            if effective_revert(y, active | {x}) is None:
                found = y
                break
        memo[x] = found
        return found

    out = {}
    for x in sorted(reverters):
        if len(table.parents[x]) > 1:
            continue
        y = effective_revert(x, frozenset())
        if y is not None:
            out[x] = y
    return out
