"""The deploy events a run kept, as columns: what the cache remembers of them.

An incremental run must know that the events before its last run are unchanged, and its
report must be able to show any of those deploys; but turning 2,500 cached events back into
objects (and hashing them) on every per-merge run costs more than the rest of the run's
deploy work together. So the kept events live in the cache as a few buffers, in linking order
(by time, then source order): their texts, their environments as small codes, their times in
microseconds, and whether their SHA was found in the history. An event is made again only
when a report shows its deploy (``EventStore.event``).

A store is a list of parts (``EventPart``): a cached store has one per segment of the cache's
events file, each read and checked only when an event of it is, and a warm run's store is
the cached parts, then one of its new events (``extend`` copies nothing). A log of 200k
events keeps 80k of them: a per-merge run that read, copied and rewrote all of their
columns spent ~40 ms on it; it now reads the segments its report shows, and appends one.

Two stores are equal exactly when their events are (``same_events``): comparing the buffers
of a store encoded from this run's events with the cached one's is how a run whose sources
cannot vouch for their past (``DeploySource.events_since``) checks that nothing before the
last run changed. Everything that can shape a report is in it; the position of an event in
its source (``DeployEvent.order``) is not: an API lists the newest first, so that position
moves with every new deploy, while the linking order does not.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence

from scorer.incremental.columns import TextColumn, encode_texts
from scorer.model import DeployEvent
from scorer.outcomes.deploys import byte_positions
from scorer.util.times import from_micros, micros

# The texts of one event, in this order, in the store's text buffer.
TEXT_FIELDS = ("id", "sha", "status", "source", "where")
_N = len(TEXT_FIELDS)


class EventPart:
    """A run of a store's events: columns in memory, or a loader that reads and checks them
    (a segment of the cache's events file) when one of them is first asked for."""

    __slots__ = ("_columns", "_loader", "count", "segment")

    def __init__(
        self,
        count: int,
        columns: tuple | None = None,
        loader: Callable[[], tuple] | None = None,
        segment: object = None,
    ):
        self.count = count
        self._columns = columns  # (texts, env, when, known), as EventStore's
        self._loader = loader
        self.segment = segment  # where it is in the cache's events file, if it is there

    def columns(self) -> tuple[TextColumn, bytes | bytearray, array, bytes | bytearray]:
        if self._columns is None:
            self._columns = self._loader()  # type: ignore[misc]
            self._loader = None
        return self._columns


class EventStore:
    """Kept deploy events, in linking order (see the module docstring): one run of them
    (``EventPart``) or several, the cached ones read only when an event of theirs is."""

    __slots__ = ("_parts", "_starts", "_unknown", "environments")

    def __init__(
        self,
        texts: TextColumn,  # TEXT_FIELDS of every event, one after the other
        environments: list[str],  # the distinct environments, in order of first use
        env: bytes | bytearray,  # per event: position in ``environments``
        when: array,  # per event: microseconds since the Unix epoch ("q")
        known: bytes | bytearray,  # per event: 1 when its SHA is in the history
    ):
        check_columns(texts, len(environments), env, when, known)
        self.environments = environments
        self._parts = [EventPart(len(when), (texts, env, when, known))]
        self._starts = [0, len(when)]
        self._unknown: list[int] | None = None

    @classmethod
    def of_parts(
        cls, environments: list[str], parts: list[EventPart], unknown: list[int] | None = None
    ) -> EventStore:
        """A store of ``parts`` (their columns checked by whoever made them), whose events of
        unknown SHA are at ``unknown``, when known without reading the parts."""
        store = cls.__new__(cls)
        store.environments = environments
        store._parts = parts
        starts = [0]
        for part in parts:
            starts.append(starts[-1] + part.count)
        store._starts = starts
        store._unknown = unknown
        return store

    @classmethod
    def encode(cls, events: Sequence[DeployEvent], unknown: set[int]) -> EventStore:
        """``events`` in linking order; ``unknown``: ids (``id()``) of those whose SHA is not
        in the history."""
        texts: list[str] = []
        environments: dict[str, int] = {}
        env = bytearray()
        when = array("q")
        for ev in events:
            texts += (ev.id, ev.sha, ev.status, ev.source, ev.where)
            code = environments.setdefault(ev.environment, len(environments))
            if code > 255:
                raise ValueError("more than 256 deploy environments")
            env.append(code)
            when.append(micros(ev.time))
        known = bytearray(0 if id(ev) in unknown else 1 for ev in events)
        raw, offsets = encode_texts(texts)
        return cls(TextColumn(raw, offsets), list(environments), env, when, known)

    @property
    def parts(self) -> list[EventPart]:
        return list(self._parts)

    def __len__(self) -> int:
        return self._starts[-1]

    def _at(self, p: int) -> tuple[tuple, int]:
        """The columns of the part that holds event ``p``, and its position there."""
        if not 0 <= p < self._starts[-1]:
            raise IndexError(p)
        k = bisect_right(self._starts, p) - 1
        return self._parts[k].columns(), p - self._starts[k]

    def environment(self, p: int) -> str:
        (_, env, _, _), q = self._at(p)
        return self.environments[env[q]]

    def event(self, p: int) -> DeployEvent:
        """Event ``p`` as its source reported it (its time in UTC)."""
        (texts, env, when, _), q = self._at(p)
        ident, sha, status, source, where = texts.run(_N * q, _N)
        return DeployEvent(
            ident, sha, self.environments[env[q]], from_micros(when[q]), status, source, 0, where
        )

    def unknown_positions(self) -> list[int]:
        """The events whose SHA is not in the history, in linking order."""
        if self._unknown is None:
            out: list[int] = []
            for part, start in zip(self._parts, self._starts, strict=False):
                out += (start + q for q in byte_positions(part.columns()[3], 0))
            self._unknown = out
        return list(self._unknown)

    # --- every event's columns at once (equality, the tests) -------------------------------

    @property
    def texts(self) -> TextColumn:
        if len(self._parts) == 1:
            return self._parts[0].columns()[0]
        raws, offsets = [], array("q", [0])
        for part in self._parts:
            raw, offs = encode_texts(part.columns()[0])
            base = offsets[-1]
            offsets.extend(offs[1:] if not base else array("q", (o + base for o in offs[1:])))
            raws.append(raw)
        return TextColumn(b"".join(raws), offsets)

    @property
    def env(self) -> bytes:
        return b"".join(bytes(part.columns()[1]) for part in self._parts)

    @property
    def when(self) -> array:
        out = array("q")
        for part in self._parts:
            out += part.columns()[2]
        return out

    @property
    def known(self) -> bytes:
        return b"".join(bytes(part.columns()[3]) for part in self._parts)

    def extend(self, other: EventStore) -> EventStore:
        """This store's events, then ``other``'s (their parts kept, not copied: only the
        environment codes of ``other``'s are translated when its list differs)."""
        codes = {name: k for k, name in enumerate(self.environments)}
        environments = list(self.environments)
        for name in other.environments:
            codes.setdefault(name, len(codes))
            if codes[name] >= len(environments):
                environments.append(name)
        if len(environments) > 256:
            raise ValueError("more than 256 deploy environments")
        remap = bytes(codes[name] for name in other.environments)
        parts = [part for part in self._parts if part.count]
        if remap == bytes(range(len(remap))):
            parts += (part for part in other._parts if part.count)
        else:
            table = remap.ljust(256, b"\0")
            for part in other._parts:
                if part.count:
                    texts, env, when, known = part.columns()
                    env = bytes(env).translate(table)
                    parts.append(EventPart(part.count, (texts, env, when, known)))
        unknown = None
        if self._unknown is not None:  # known without reading the cached parts
            unknown = self._unknown + [len(self) + p for p in other.unknown_positions()]
        return EventStore.of_parts(environments, parts, unknown)

    def same_events(self, other: EventStore) -> bool:
        """The same events, in the same order, with the same SHAs found (an environment code
        is compared by its name)."""
        return (
            len(self) == len(other)
            and self.when == other.when
            and self.known == other.known
            and self._env_names() == other._env_names()
            and encode_texts(self.texts) == encode_texts(other.texts)
        )

    def _env_names(self) -> list[str]:
        names = self.environments
        return [names[c] for c in self.env]


def check_columns(
    texts: Sequence[str], environments: int, env: bytes | bytearray, when: array, known
) -> None:
    """ValueError unless the columns are of one store of ``len(when)`` events."""
    n = len(when)
    if len(texts) != _N * n or len(env) != n or len(known) != n:
        raise ValueError("event columns of different lengths")
    if env and max(env) >= environments:
        raise ValueError("event environment out of range")


class StoredEvents(Sequence[DeployEvent]):
    """Some events of a store, made when read (a report shows a few of thousands), then
    events of this run."""

    def __init__(self, store: EventStore, positions: list[int], new: Sequence[DeployEvent] = ()):
        self._store = store
        self._positions = positions
        self._new = list(new)

    def __len__(self) -> int:
        return len(self._positions) + len(self._new)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        if i < len(self._positions):
            return self._store.event(self._positions[i])
        return self._new[i - len(self._positions)]
