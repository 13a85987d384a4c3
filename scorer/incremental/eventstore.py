"""The deploy events a run kept, as columns: what the cache remembers of them.

An incremental run must know that the events before its last run are unchanged, and its
report must be able to show any of those deploys; but turning 2,500 cached events back into
objects (and hashing them) on every per-merge run costs more than the rest of the run's
deploy work together. So the kept events live in the cache as a few buffers, in linking order
(by time, then source order): their texts, their environments as small codes, their times in
microseconds, and whether their SHA was found in the history. An event is made again only
when a report shows its deploy (``EventStore.event``).

Two stores are equal exactly when their events are (``same_events``): comparing the buffers
of a store encoded from this run's events with the cached one's is how a run whose sources
cannot vouch for their past (``DeploySource.events_since``) checks that nothing before the
last run changed. Everything that can shape a report is in it; the position of an event in
its source (``DeployEvent.order``) is not: an API lists the newest first, so that position
moves with every new deploy, while the linking order does not.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from scorer.incremental.columns import TextColumn, encode_texts
from scorer.model import DeployEvent
from scorer.outcomes.deploys import byte_positions
from scorer.util.times import from_micros, micros

# The texts of one event, in this order, in the store's text buffer.
TEXT_FIELDS = ("id", "sha", "status", "source", "where")
_N = len(TEXT_FIELDS)


class EventStore:
    """Kept deploy events, in linking order (see the module docstring)."""

    __slots__ = ("env", "environments", "known", "texts", "when")

    def __init__(
        self,
        texts: TextColumn,  # TEXT_FIELDS of every event, one after the other
        environments: list[str],  # the distinct environments, in order of first use
        env: bytes | bytearray,  # per event: position in ``environments``
        when: array,  # per event: microseconds since the Unix epoch ("q")
        known: bytes | bytearray,  # per event: 1 when its SHA is in the history
    ):
        self.texts = texts
        self.environments = environments
        self.env = env
        self.when = when
        self.known = known
        n = len(when)
        if len(texts) != _N * n or len(env) != n or len(known) != n:
            raise ValueError("event columns of different lengths")
        if env and max(env) >= len(environments):
            raise ValueError("event environment out of range")

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

    def __len__(self) -> int:
        return len(self.when)

    def environment(self, p: int) -> str:
        return self.environments[self.env[p]]

    def event(self, p: int) -> DeployEvent:
        """Event ``p`` as its source reported it (its time in UTC)."""
        texts = self.texts
        base = _N * p
        return DeployEvent(
            id=texts[base],
            sha=texts[base + 1],
            environment=self.environments[self.env[p]],
            time=from_micros(self.when[p]),
            status=texts[base + 2],
            source=texts[base + 3],
            where=texts[base + 4],
        )

    def unknown_positions(self) -> list[int]:
        """The events whose SHA is not in the history, in linking order."""
        return byte_positions(self.known, 0)

    def extend(self, other: EventStore) -> EventStore:
        """This store's events, then ``other``'s (one store: both buffers copied once)."""
        codes = {name: k for k, name in enumerate(self.environments)}
        environments = list(self.environments)
        for name in other.environments:
            codes.setdefault(name, len(codes))
            if codes[name] >= len(environments):
                environments.append(name)
        if len(environments) > 256:
            raise ValueError("more than 256 deploy environments")
        remap = bytes(codes[name] for name in other.environments)
        env = bytearray(self.env)
        env += bytes(other.env).translate(remap.ljust(256, b"\0")) if remap else b""
        raw_a, off_a = encode_texts(self.texts)
        raw_b, off_b = encode_texts(other.texts)
        offsets = array("q", off_a)
        base = off_a[-1]
        offsets.extend(array("q", (o + base for o in off_b[1:])))
        when = array("q", self.when)
        when.extend(other.when)
        known = bytearray(self.known)
        known += other.known
        return EventStore(TextColumn(raw_a + raw_b, offsets), environments, env, when, known)

    def same_events(self, other: EventStore) -> bool:
        """The same events, in the same order, with the same SHAs found (an environment code
        is compared by its name)."""
        return (
            self.when == other.when
            and self.known == other.known
            and self._env_names() == other._env_names()
            and encode_texts(self.texts) == encode_texts(other.texts)
        )

    def _env_names(self) -> list[str]:
        names = self.environments
        return [names[c] for c in self.env]


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
