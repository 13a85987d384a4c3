"""What each deploy shipped, and how it ended (METRIC.md sections 4 and 5).

``shipped(D)`` is the range between D and the previous successful deploy of its environment;
a successful deploy is rolled back when a later one inside its window runs code that does not
contain it, pending while its window is open, else survived. What "contains" means is one
callable (``contains(d, r)``, rows of the deployed commits): ``containment.Containment``, the
v2 rule, or plain ancestry (``graph.contains``) when none is given. Pure: the graph, the
events, the window and ``now`` in; ``DeployResult`` values out.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from operator import attrgetter

from scorer.model import DeployEvent
from scorer.outcomes.deploys import FAILED, PENDING, ROLLED_BACK, SURVIVED, DeployResult
from scorer.outcomes.flags import SHIPPED, SURVIVED_SHIP, Outcomes
from scorer.outcomes.graph import Graph
from scorer.util.times import micros

_event_time = attrgetter("time")
_deploy_when = attrgetter("when")
_MICROSECOND = timedelta(microseconds=1)

Contains = Callable[[int, int], bool]


def order_events(events: Sequence[DeployEvent]) -> list[DeployEvent]:
    """By time, then by source order (the sort is stable: the position in ``events`` breaks
    ties)."""
    return sorted(events, key=_event_time)


def link_deploys(
    graph: Graph,
    events: Sequence[DeployEvent],
    window: timedelta,
    now: datetime,
    contains: Contains | None = None,
) -> list[DeployResult]:
    """Shipped sets and deploy outcomes, per environment (sections 4 and 5)."""
    by_env: dict[str, list[DeployEvent]] = {}
    for ev in order_events(events):
        by_env.setdefault(ev.environment, []).append(ev)
    results: list[DeployResult] = []
    for env in sorted(by_env):
        results.extend(_link_environment(graph, by_env[env], window, now, contains))
    for serial, d in enumerate(results):
        d.serial = serial
    return results


def ship(graph: Graph, ev: DeployEvent, node: int, previous: int | None) -> DeployResult:
    """A deploy and what it shipped (or would have) since ``previous``."""
    parents = graph.parents
    # A failed deploy: the next one ships from ``previous`` again (the marks stay there).
    shipped = graph.range(node, previous, in_turn=True, move=ev.status == "success")
    # An array: 4 bytes a change, not a list's ~36 (two release lines deployed as one
    # environment ship ~12k commits a deploy: rails/rails, 552 deploys).
    changes = array("i", [c for c in shipped if len(parents[c]) <= 1])
    if ev.status == "success":
        return DeployResult(ev, node, shipped=changes)
    return DeployResult(ev, node, FAILED, attempted=changes)


def _link_environment(
    graph: Graph,
    events: list[DeployEvent],
    window: timedelta,
    now: datetime,
    contains: Contains | None = None,
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
    # link[k]: deploy k's commit is an ancestor of deploy k+1's. Ancestry is transitive, so
    # every deploy before the next broken link contains D: only deploys from the first break
    # on (a rollback, or a deploy from another branch) are asked ``contains``. This keeps the
    # pass linear in the number of deploys, however many a window holds. The links are
    # ancestry, not ``contains``: containment by patch-id need not be transitive, and
    # ancestry implies it, so the deploys skipped contain D under either rule.
    link = [graph.contains(a.node, b.node) for a, b in itertools.pairwise(ok)]
    first_break = [n] * n  # smallest j > k with link[j - 1] false
    upcoming = n
    for j in range(n - 1, 0, -1):
        if not link[j - 1]:
            upcoming = j
        first_break[j - 1] = upcoming
    prefetch = getattr(contains, "prefetch", None)
    if prefetch is not None:  # the full rule asks git: once, for every candidate pair
        prefetch(_candidates(graph, ok, first_break, window))
    for k, d in enumerate(ok):
        judge(graph, d, ok, first_break[k], window, now, contains)
    return results


def _candidates(graph: Graph, ok, first_break: list[int], window) -> list[tuple[int, int]]:
    """The (D, R) rows ``judge`` may ask ``contains`` about that ancestry does not settle."""
    out = []
    for k, d in enumerate(ok):
        deadline = d.when + window // _MICROSECOND
        j = first_break[k]
        while j < len(ok) and ok[j].when <= deadline:
            r = ok[j]
            if r.when > d.when and not graph.contains(d.node, r.node):
                out.append((d.node, r.node))
            j += 1
    return out


def judge(
    graph: Graph,
    d: DeployResult,
    ok: Sequence[DeployResult],
    start: int,
    window,
    now,
    contains: Contains | None = None,
) -> None:
    """Set the outcome of successful deploy ``d``: rolled back by the first deploy of
    ``ok[start:]`` inside its window that does not contain it (``contains``, default:
    ancestry), else pending or survived."""
    if contains is None:
        contains = graph.contains
    when = d.when
    deadline = when + window // _MICROSECOND
    j = start
    while j < len(ok) and ok[j].when <= deadline:
        r = ok[j]
        if r.when > when and not contains(d.node, r.node):
            d.outcome = ROLLED_BACK
            d.rolled_back_by = r.event.id
            return
        j += 1
    d.outcome = PENDING if micros(now) < deadline else SURVIVED


def mark_shipped(outcomes: Outcomes, deploys: Sequence[DeployResult]) -> list[int]:
    """Each change's first deploy (section 4: the earliest deploy that shipped it), and
    whether a survived deploy shipped it, from ``deploys`` (in linking order; those not yet
    seen by ``outcomes``). Returns the rows whose flags changed."""
    flags, first = outcomes.flags, outcomes.first
    touched: list[int] = []
    for d in sorted(deploys, key=_deploy_when):  # stable: linking order breaks ties
        serial, survived = d.serial, d.outcome == SURVIVED
        for c in d.shipped:
            if first[c] < 0:
                first[c] = serial
                flags[c] |= SHIPPED
                touched.append(c)
            if survived:
                flags[c] |= SURVIVED_SHIP
                touched.append(c)
    return touched
