"""Carry the last run's outcomes forward to ``now``, deciding again only what can have changed.

A per-merge run adds a few commits and perhaps a deploy to a history of 100k; recomputing every
deploy's range and every change's fate would cost it more than everything else together. What
can change between a cached run at ``then`` and this run at ``now >= then``, when the deploy
events up to ``then`` are exactly those the cached run saw (same order, same fields) and every
other event is later than ``then``:

* deploys after ``then`` are new: their ranges are walked, their outcomes judged;
* a deploy that was pending at ``then`` can now be rolled back (only by a new deploy: every
  older one inside its window already contained it) or have survived; any other outcome is
  final, since a new deploy is later than ``then`` and so outside every window that had
  closed by ``then``;
* a change gets its first deploy only from a new deploy, and a revert can only start to count
  when it is new or was committed after ``then`` (the cut-off for reverts is ``now``), so the
  changes to decide again are the targets of those reverts, and of the reverts they revert;
* new commits get their flags; counted is decided again for every row touched above.

That the events up to ``then`` are unchanged is known one of two ways: the deploy sources
vouch for it (``DeploySource.events_since``: the run then gets only the new events, and the
old ones stay in the cache's ``EventStore``), or this run's events up to ``then``, encoded,
equal the cached store. Cached deploys stay columns (``DeployList``); only those from the
first one pending at ``then`` on, and the new ones, are made into objects and judged.

Anything outside those conditions raises ``NotIncremental`` and the caller recomputes the
outcomes from the (cached) commit table instead: a config change, an earlier ``now``, a deploy
log edited in the past, a deploy whose abbreviated SHA a new commit could now match.
``tests/test_cache_random.py`` holds the two paths equal on random growing histories.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import timedelta

from scorer.deploys import Resolution, resolve_events
from scorer.incremental.cache import CachedOutcomes
from scorer.incremental.columns import sha_rows
from scorer.incremental.eventstore import EventStore, StoredEvents
from scorer.model import DeployEvent
from scorer.outcomes.change import set_attribution, set_counted
from scorer.outcomes.deploys import FAILED, PENDING, SURVIVED, DeployList, DeployResult
from scorer.outcomes.flags import AI, CHANGE, Outcomes
from scorer.outcomes.graph import Graph
from scorer.outcomes.linking import judge, mark_shipped, order_events, ship
from scorer.outcomes.reach import Reach, judge_trend_deploys
from scorer.outcomes.reverts import resolve_reverts, revert_commits, update_reverted
from scorer.outcomes.table import CommitTable
from scorer.util.sha import sha256


class NotIncremental(Exception):
    """The cached outcomes cannot be carried forward; ``str(err)`` says why."""


def settings_key(
    window: timedelta,
    environments: Sequence[str],
    min_confidence: str,
    deploys,
    version_files: Sequence[str] = (),
):
    """The settings that shape outcomes beyond the history's own cache key."""
    text = repr(
        (
            window.total_seconds(),
            sorted(environments),
            min_confidence,
            list(deploys),
            list(version_files),
        )
    )
    return sha256(text.encode()).hexdigest()


def advance(
    prev: CachedOutcomes,
    *,
    key: str,
    graph: Graph,
    table: CommitTable,
    cached_rows: int,
    kept: Sequence[DeployEvent],
    appended: bool,
    window: timedelta,
    now,
    min_confidence: str,
    substantive: Callable[[list[int]], dict[int, bool]],
    verdicts: dict[int, bool],
    contains: Callable[[int, int], bool] | None = None,
    reach: Reach | None = None,
) -> tuple[Outcomes, Sequence[DeployEvent], list[str], EventStore]:
    """The outcomes at ``now`` from those of the cached run (see the module docstring), the
    events whose SHA is not in the history (in linking order), the fragile names to keep for
    the next run, and every kept event (the cached ones and the new) for the cache. ``kept``
    is every kept event of this run, or, when ``appended``, only those its sources report as
    new since the cached run (they vouched that every event the cached run saw is unchanged:
    ``DeploySource.events_since``). ``verdicts`` holds the substantive verdict of every change
    with AI evidence that the cache knows, and ``substantive`` adds those of new rows to it.
    ``contains``: the containment rule (section 5), the one ``compute_outcomes`` is given;
    ``reach``: where the report's figures start (``scorer.outcomes.reach``), as there."""
    if key != prev.key:
        raise NotIncremental("settings changed")
    then = prev.now
    now_ts = now.timestamp()
    if now_ts < then:
        raise NotIncremental("now is earlier than the cached run's")
    full = None if reach is None else reach.full
    if prev.judged_from is not None and (full is None or full < prev.judged_from):
        raise NotIncremental("the report reaches further back than the cached run judged")
    ordered = order_events(kept)
    if appended:
        if prev.ignored.get("after_now") or (ordered and _timestamp(ordered[0]) <= then):
            raise NotIncremental("a deploy dated before the cached run's now")
        new = ordered
    else:
        split = bisect_right(ordered, then, key=_timestamp)  # events up to the last run's now
        old, new = ordered[:split], ordered[split:]
        if len(old) != len(prev.events):
            raise NotIncremental("deploy events before the cached run changed")
        lost = {id(ev) for ev, known in zip(old, prev.events.known, strict=True) if not known}
        if not EventStore.encode(old, lost).same_events(prev.events):
            raise NotIncremental("deploy events before the cached run changed")
    n = len(table)
    new_shas = [table.shas[i] for i in range(cached_rows, n)]
    for name in prev.fragile:
        if any(s.startswith(name) for s in new_shas):
            raise NotIncremental(f"a new commit matches the abbreviated or unknown SHA {name}")

    # --- deploys: the cached ones as they were, the new ones linked after them -----------
    cached = _cached_deploys(prev, table)
    flags = prev.flags
    flags.extend(CHANGE if len(table.parents[i]) <= 1 else 0 for i in range(cached_rows, n))
    first = prev.first
    first.extend(array("i", [-1]) * (n - cached_rows))
    resolution = resolve_events(new, table.shas, table.index)
    new_store = EventStore.encode(new, {id(ev) for ev in resolution.unknown})
    ranges = cached.env_ranges()
    serial = serial_start = max(prev.deploy_serial, default=-1) + 1
    added: dict[str, list[DeployResult]] = {}
    for ev, pos in zip(resolution.events, known_positions(new, resolution), strict=True):
        fresh = added.setdefault(ev.environment, [])
        previous = next((d.node for d in reversed(fresh) if d.outcome != FAILED), None)
        if previous is None and ev.environment in ranges:
            previous = cached.last_node(*ranges[ev.environment])
        d = ship(graph, ev, graph.index[ev.sha], previous)
        d.serial = serial
        d.event_pos = len(prev.events) + pos
        serial += 1
        fresh.append(d)

    # --- outcomes: new deploys, and those pending at ``then`` ----------------------------
    # Only a new deploy can roll back one pending at ``then``, and only the deploys from the
    # first pending one on are looked at: cached deploys before it stay columns.
    settled_now: list[DeployResult] = []
    for env in sorted({*ranges, *added}):
        lo, hi = ranges.get(env, (0, 0))
        pending = cached.positions(PENDING, lo, hi)
        tail = [cached[p] for p in range(pending[0], hi)] if pending else []
        ok = [d for d in tail if d.outcome != FAILED]
        start = len(ok)
        ok += [d for d in added.get(env, ()) if d.outcome != FAILED]
        for k, d in enumerate(ok):
            if k >= start or d.outcome == PENDING:
                judge(graph, d, ok, max(start, k + 1), window, now, contains)
                if d.outcome == SURVIVED:
                    settled_now.append(d)
    parts: list = []
    for env in sorted({*ranges, *added}):
        if env in ranges:
            parts.append((cached, *ranges[env]))
        parts.append(added.get(env, []))
    deploys = DeployList.joined(parts)

    outcomes = Outcomes(deploys, flags, first, dict(prev.reverted), {}, set(), dict(prev.reverters))
    # The new deploys in linking order, then those that survived only now (first deploys are
    # set already: only their survival is new).
    new_deploys = [d for _, d in deploys.made() if d.serial >= serial_start]
    dirty: set[int] = set(mark_shipped(outcomes, new_deploys))
    dirty.update(mark_shipped(outcomes, settled_now))

    # --- reverts: new ones, and those dated after ``then`` -------------------------------
    new_reverts = [(y, table.reverts[y]) for y in range(cached_rows, n) if y in table.reverts]
    width = _hex_width(table)
    for x, ys in resolve_reverts(new_reverts, lambda name: sha_rows(table.shas, name)).items():
        outcomes.reverters.setdefault(x, []).extend(ys)
    # A cached commit's subject and what it reverts never change: only new commits can be
    # new reverts (and a run need not read 100k cached subjects to find the old ones).
    new_ys = {x: [y for y in ys if y >= cached_rows] for x, ys in outcomes.reverters.items()}
    outcomes.reverts = prev.reverts | revert_commits(table, new_ys)
    ctime = table.committer_time
    reverting = {y for ys in outcomes.reverters.values() for y in ys}
    moving = {y for y in reverting if y >= cached_rows or ctime[y] > then}
    targets_of: dict[int, list[int]] = {}
    for x, ys in outcomes.reverters.items():
        for y in ys:
            targets_of.setdefault(y, []).append(x)
    decide: set[int] = set()
    stack = [x for y in moving for x in targets_of.get(y, ())]
    while stack:
        x = stack.pop()
        if x not in decide:
            decide.add(x)
            stack.extend(targets_of.get(x, ()))
    update_reverted(table, outcomes, sorted(decide), window, now)
    dirty |= decide | moving

    # --- new commits: attribution; then counted, wherever something moved ----------------
    new_ai = [i for i in range(cached_rows, n) if i in table.evidence and flags[i] & CHANGE]
    # judged (and kept in ``verdicts``): the new changes, and the changes a deploy of this run
    # shipped or settled that the cached run had no need to judge
    moved = [i for i in dirty if i < cached_rows and i in table.evidence and i not in verdicts]
    substantive(sorted({*new_ai, *moved}))
    outcomes.substantive = verdicts
    set_attribution(table, outcomes, [*new_ai, *moved], min_confidence)
    for i in dirty:
        if flags[i] & AI:
            set_counted(outcomes, i)
    if reach is not None:
        judge_trend_deploys(table, outcomes, reach, substantive, min_confidence)

    fragile = list(prev.fragile)
    fragile += _fragile_events(new, {id(ev) for ev in resolution.unknown}, width)
    fragile += _fragile_reverts(new_reverts, table, width)
    unknown = StoredEvents(prev.events, prev.events.unknown_positions(), resolution.unknown)
    return outcomes, unknown, fragile, prev.events.extend(new_store)


def known_positions(ordered: Sequence[DeployEvent], resolution: Resolution) -> list[int]:
    """Where each of ``resolution.events`` is in ``ordered``, the events it was made from
    (resolving keeps their order, and may replace an event by a copy with its full SHA)."""
    lost = {id(ev) for ev in resolution.unknown}
    return [p for p, ev in enumerate(ordered) if id(ev) not in lost]


def event_store(ordered: Sequence[DeployEvent], resolution: Resolution, deploys) -> EventStore:
    """The event columns the cache keeps of outcomes computed from ``resolution`` (of the kept
    events in linking order, ``ordered``); each deploy learns its event's position."""
    positions = known_positions(ordered, resolution)
    pos_of = {id(ev): p for ev, p in zip(resolution.events, positions, strict=True)}
    deploys.event_pos = array("i", [pos_of[id(d.event)] for d in deploys])
    return EventStore.encode(ordered, {id(ev) for ev in resolution.unknown})


def _hex_width(table: CommitTable) -> int:
    """Hex digits of a full SHA here (40, or 64 in a SHA-256 repository), without reading a
    cached SHA."""
    shas = table.shas
    width = getattr(shas, "width", None)
    if width is not None:
        return 2 * width
    return len(shas[0]) if len(shas) else 40


def _cached_deploys(prev: CachedOutcomes, table: CommitTable) -> DeployList:
    """The cached deploys, as columns: a deploy is made only when looked at (its event is
    read from the cached event store then)."""
    return DeployList(
        when=prev.deploy_when,
        env_code=bytes(prev.deploy_env),
        env_names=prev.deploy_environments,
        code=bytearray(prev.deploy_outcome),
        node=prev.deploy_node,
        serial=prev.deploy_serial,
        event_pos=prev.deploy_event,
        rolled_back_by=dict(prev.rolled_back_by),
        ship_offsets=prev.ship_offsets,
        ship_rows=prev.ship_rows,
        made={},
        store=prev.events,
        shas=table.shas,
        hex_width=_hex_width(table),
    )


def _timestamp(ev: DeployEvent) -> float:
    return ev.time.timestamp()


def _fragile_events(events: Sequence[DeployEvent], unknown: set[int], width: int) -> list[str]:
    """Event SHAs a later commit could make resolve differently: abbreviated or unknown
    (``unknown``: ids of the events whose SHA is not in the history)."""
    return [
        ev.sha.strip().lower() for ev in events if id(ev) in unknown or len(ev.sha.strip()) != width
    ]


def _fragile_reverts(reverts, table: CommitTable, width: int) -> list[str]:
    out = []
    for _, names in reverts:
        for name in names:
            if len(name) != width or name not in table.index:
                out.append(name)
    return out


def snapshot(
    outcomes: Outcomes,
    *,
    key: str,
    now,
    kept: Sequence[DeployEvent],
    unknown: Sequence[DeployEvent],
    table: CommitTable,
    marks: dict[str, str],
    ignored: dict[str, int],
    store: EventStore,
    fragile: list[str] | None = None,
    judged_from: float | None = None,
) -> CachedOutcomes:
    """What the cache keeps of this run's outcomes (their ``events`` set: ``advance`` or
    ``event_store``). ``fragile`` is carried by an incremental run; a full run works it out
    from the events (``kept``, ``unknown``) and every revert. ``marks`` and ``ignored``: what
    the sources said they read, and the events left out, for the next run."""
    if fragile is None:
        width = _hex_width(table)
        fragile = _fragile_events(kept, {id(ev) for ev in unknown}, width)
        fragile += _fragile_reverts(table.reverts.items(), table, width)
    deploys = outcomes.deploys
    meta = {
        "key": key,
        "now": now.timestamp(),
        "judged_from": judged_from,  # every AI change since then judged (CachedOutcomes)
        "rolled_back_by": sorted(deploys.rolled_back_by.items()),
        "reverted": list(outcomes.reverted.items()),
        "reverters": list(outcomes.reverters.items()),
        "reverts": sorted(outcomes.reverts),  # the reverting commits that never count
        "fragile": sorted(set(fragile)),
        "event_environments": store.environments,
        "deploy_environments": deploys.env_names,
        "marks": dict(sorted(marks.items())),
        "ignored": dict(sorted(ignored.items())),
    }
    sections = {
        "flags": bytes(outcomes.flags),
        "first": outcomes.first,
        "deploy_serial": deploys.serial,
        "deploy_node": deploys.node,
        # positions in OUTCOMES (reordering it changes the cache format: bump cache.FORMAT)
        "deploy_outcome": bytes(deploys.code),
        "ship_offsets": deploys.ship_offsets,
        "ship_rows": deploys.ship_rows,
        "deploy_event": deploys.event_pos,
        "deploy_when": deploys.when,
        "deploy_env": deploys.env_code,
    }
    return CachedOutcomes(meta, sections, store)
