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

from scorer.cache import CachedOutcomes
from scorer.columns import sha_rows
from scorer.deploys import resolve_events
from scorer.graph import Graph
from scorer.model import DeployEvent
from scorer.sha import sha256
from scorer.survival import (
    AI,
    CHANGE,
    FAILED,
    OUTCOMES,
    PENDING,
    SHIPPED,
    SURVIVED,
    SURVIVED_SHIP,
    DeployResult,
    Outcomes,
    judge,
    order_events,
    resolve_reverts,
    set_attribution,
    set_counted,
    ship,
    update_reverted,
)
from scorer.table import CommitTable


class NotIncremental(Exception):
    """The cached outcomes cannot be carried forward; ``str(err)`` says why."""


def settings_key(window: timedelta, environments: Sequence[str], min_confidence: str, deploys):
    """The settings that shape outcomes beyond the history's own cache key."""
    text = repr((window.total_seconds(), sorted(environments), min_confidence, list(deploys)))
    return sha256(text.encode()).hexdigest()


def events_digest(ordered: Sequence[DeployEvent], h=None):
    """Every field of every kept event that can shape a report, in linking order: a sha256
    object (``.hexdigest()``), which a caller may go on updating with later events."""
    h = h if h is not None else sha256()
    h.update(
        "".join(
            f"{ev.id}\x1f{ev.sha}\x1f{ev.environment}\x1f{ev.time.timestamp()!r}\x1f"
            f"{ev.status}\x1f{ev.source}\x1f{ev.where}\x1e"
            for ev in ordered
        ).encode("utf-8", "surrogatepass")
    )
    return h


def advance(
    prev: CachedOutcomes,
    *,
    key: str,
    graph: Graph,
    table: CommitTable,
    cached_rows: int,
    kept: Sequence[DeployEvent],
    window: timedelta,
    now,
    min_confidence: str,
    substantive: Callable[[list[int]], dict[int, bool]],
    verdicts: dict[int, bool],
) -> tuple[Outcomes, list[DeployEvent], list[str]]:
    """The outcomes at ``now`` from those of the cached run (see the module docstring), the
    events whose SHA is not in the history (in source order), and the fragile names to keep
    for the next run. ``verdicts`` holds the substantive verdict of every change with AI
    evidence that the cache knows, and ``substantive`` adds those of new rows to it."""
    if key != prev.key:
        raise NotIncremental("settings changed")
    then = prev.now
    now_ts = now.timestamp()
    if now_ts < then:
        raise NotIncremental("now is earlier than the cached run's")
    ordered = order_events(kept)
    split = bisect_right(ordered, then, key=_timestamp)  # events up to the last run's now
    old, new = ordered[:split], ordered[split:]
    digest = events_digest(old)
    if len(old) != len(prev.event_known) or digest.hexdigest() != prev.events_digest:
        raise NotIncremental("deploy events before the cached run changed")
    n = len(table)
    new_shas = [table.shas[i] for i in range(cached_rows, n)]
    for name in prev.fragile:
        if any(s.startswith(name) for s in new_shas):
            raise NotIncremental(f"a new commit matches the abbreviated or unknown SHA {name}")

    # --- deploys: the cached ones as they were, the new ones linked after them -----------
    hex_width = _hex_width(table)
    known_old = [ev for ev, k in zip(old, prev.event_known, strict=True) if k]
    unknown = {id(ev) for ev, k in zip(old, prev.event_known, strict=True) if not k}
    by_env: dict[str, list[DeployEvent]] = {}
    for ev in known_old:
        by_env.setdefault(ev.environment, []).append(ev)
    in_order = [ev for env in sorted(by_env) for ev in by_env[env]]
    if len(in_order) != len(prev.deploy_serial):
        raise NotIncremental("the cached deploys do not match the cached events")
    cached_deploys = _cached_deploys(prev, in_order, table, hex_width)

    flags = prev.flags
    flags.extend(CHANGE if len(table.parents[i]) <= 1 else 0 for i in range(cached_rows, n))
    first = prev.first
    first.extend(array("i", [-1]) * (n - cached_rows))
    resolution = resolve_events(new, table.shas, table.index)
    unknown.update(id(ev) for ev in resolution.unknown)
    blocks: dict[str, list[DeployResult]] = {}
    for d in cached_deploys:
        blocks.setdefault(d.event.environment, []).append(d)
    serial = max(prev.deploy_serial, default=-1) + 1
    added: list[DeployResult] = []
    for ev in resolution.events:
        block = blocks.setdefault(ev.environment, [])
        previous = next((d.node for d in reversed(block) if d.outcome != FAILED), None)
        d = ship(graph, ev, graph.index[ev.sha], previous)
        d.serial = serial
        serial += 1
        block.append(d)
        added.append(d)
    deploys = [d for env in sorted(blocks) for d in blocks[env]]

    # --- outcomes: new deploys, and those pending at ``then`` ----------------------------
    fresh = {id(d) for d in added}
    settled_now: list[DeployResult] = []
    for block in blocks.values():
        ok = [d for d in block if d.outcome != FAILED]
        start = next((k for k, d in enumerate(ok) if id(d) in fresh), len(ok))
        for k, d in enumerate(ok):
            if id(d) in fresh or d.outcome == PENDING:
                judge(graph, d, ok, max(start, k + 1), window, now)
                if d.outcome == SURVIVED:
                    settled_now.append(d)

    outcomes = Outcomes(deploys, flags, first, dict(prev.reverted), {}, set(), dict(prev.reverters))
    outcomes.reverts = {y for ys in outcomes.reverters.values() for y in ys}
    dirty: set[int] = set()
    position_of = {id(d): p for p, d in enumerate(deploys)}
    for d in sorted(added, key=lambda d: (d.event.time, position_of[id(d)])):
        for c in d.shipped:
            if first[c] < 0:
                first[c] = d.serial
                flags[c] |= SHIPPED
                dirty.add(c)
    for d in settled_now:
        for c in d.shipped:
            flags[c] |= SURVIVED_SHIP
            dirty.add(c)

    # --- reverts: new ones, and those dated after ``then`` -------------------------------
    new_reverts = [(y, table.reverts[y]) for y in range(cached_rows, n) if y in table.reverts]
    width = _hex_width(table)
    for x, ys in resolve_reverts(new_reverts, lambda name: sha_rows(table.shas, name)).items():
        outcomes.reverters.setdefault(x, []).extend(ys)
        outcomes.reverts.update(ys)
    ctime = table.committer_time
    moving = {y for y in outcomes.reverts if y >= cached_rows or ctime[y] > then}
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
    substantive(new_ai)  # judged (and kept in ``verdicts``); the cached rows' are known
    outcomes.substantive = verdicts
    set_attribution(table, outcomes, new_ai, min_confidence)
    for i in dirty:
        if flags[i] & AI:
            set_counted(outcomes, i)

    fragile = list(prev.fragile)
    fragile += _fragile_events(new, {id(ev) for ev in resolution.unknown}, width)
    fragile += _fragile_reverts(new_reverts, table, width)
    outcomes.events_digest = events_digest(new, digest).hexdigest()
    outcomes.ordered_events = ordered
    return outcomes, [ev for ev in kept if id(ev) in unknown], fragile


def _hex_width(table: CommitTable) -> int:
    """Hex digits of a full SHA here (40, or 64 in a SHA-256 repository), without reading a
    cached SHA."""
    shas = table.shas
    width = getattr(shas, "width", None)
    if width is not None:
        return 2 * width
    return len(shas[0]) if len(shas) else 40


def _cached_deploys(
    prev: CachedOutcomes, events: list[DeployEvent], table: CommitTable, hex_width: int
) -> list[DeployResult]:
    """The cached deploys, in list order, with their events (one loop: there are thousands)."""
    nodes, offsets, rows = prev.deploy_node, prev.ship_offsets, prev.ship_rows
    codes, rolled, serials = prev.deploy_outcome, prev.rolled_back_by, prev.deploy_serial
    out = []
    for p, ev in enumerate(events):
        node = nodes[p]
        sha = ev.sha
        if len(sha) != hex_width or sha != sha.strip().lower():
            # resolved from an abbreviated, upper-case or padded SHA: report the full one
            ev = ev.replace(sha=table.shas[node])
        shipped = rows[offsets[p] : offsets[p + 1]]
        outcome = OUTCOMES[codes[p]]
        if outcome == FAILED:
            out.append(DeployResult(ev, node, outcome, (), shipped, rolled[p], serials[p]))
        else:
            out.append(DeployResult(ev, node, outcome, shipped, (), rolled[p], serials[p]))
    return out


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
    fragile: list[str] | None = None,
) -> CachedOutcomes:
    """What the cache keeps of this run's outcomes. ``fragile`` is carried by an incremental
    run; a full run works it out from the events and every revert."""
    ordered = outcomes.ordered_events
    if ordered is None:
        ordered = order_events(kept)
    lost = {id(ev) for ev in unknown}
    if fragile is None:
        width = _hex_width(table)
        fragile = _fragile_events(kept, {id(ev) for ev in unknown}, width)
        fragile += _fragile_reverts(table.reverts.items(), table, width)
    offsets = array("q", [0])
    rows = array("i")
    for d in outcomes.deploys:
        rows.extend(d.shipped if d.outcome != FAILED else d.attempted)
        offsets.append(len(rows))
    meta = {
        "key": key,
        "now": now.timestamp(),
        "events_digest": outcomes.events_digest or events_digest(ordered).hexdigest(),
        "rolled_back_by": [d.rolled_back_by for d in outcomes.deploys],
        "reverted": list(outcomes.reverted.items()),
        "reverters": list(outcomes.reverters.items()),
        "fragile": sorted(set(fragile)),
        "bursts": [[*k, *v] for k, v in sorted((outcomes.bursts or {}).items())],
    }
    sections = {
        "flags": bytes(outcomes.flags),
        "first": outcomes.first,
        "deploy_serial": array("i", [d.serial for d in outcomes.deploys]),
        "deploy_node": array("i", [d.node for d in outcomes.deploys]),
        # positions in OUTCOMES (reordering it changes the cache format: bump cache.FORMAT)
        "deploy_outcome": bytes(OUTCOMES.index(d.outcome) for d in outcomes.deploys),
        "ship_offsets": offsets,
        "ship_rows": rows,
        "event_known": bytes(0 if id(ev) in lost else 1 for ev in ordered),
    }
    return CachedOutcomes(meta, sections)
