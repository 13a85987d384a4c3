"""Every deploy of a run as columns; a ``DeployResult`` is made when one deploy is read.

A per-merge run carries thousands of deploys over from the cache and looks closely at a few:
those still pending at the last run, the new ones, and those its report shows (the period,
the recent weeks). Making an object of each of the others would cost it more than the rest
of its deploy work. So deploys stay as the cache keeps them, in columns, and the loops that
visit every deploy (counting outcomes, finding the period's deploys) read the columns.

The order is the linking order: by environment, then time, then source order. Each
environment's deploys are one contiguous run of positions (``env_ranges``).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from scorer.model import DeployEvent
from scorer.util.times import micros

SURVIVED = "survived"
ROLLED_BACK = "rolled_back"
FAILED = "failed"
PENDING = "pending"
OUTCOMES = (SURVIVED, ROLLED_BACK, FAILED, PENDING)

_CODE = {name: code for code, name in enumerate(OUTCOMES)}


class DeployResult:
    """A deploy: the commit it ran, what it shipped, and what came of it. ``when`` and
    ``environment`` are the event's, kept apart because every deploy's are read; the event
    itself may be made only when asked for (``stored``: a deploy carried over from the cache,
    whose event lives in an event store: ``store.event(pos)``)."""

    __slots__ = (
        "_event",
        "_stored",
        "attempted",
        "environment",
        "event_pos",
        "node",
        "outcome",
        "rolled_back_by",
        "serial",
        "shipped",
        "when",
    )

    def __init__(
        self,
        event: DeployEvent,
        node: int,
        outcome: str = "",
        shipped: Sequence[int] = (),
        attempted: Sequence[int] = (),
        rolled_back_by: str | None = None,
        serial: int = 0,
    ):
        self._event: DeployEvent | None = event
        self._stored: tuple | None = None
        self.environment = event.environment
        self.when = micros(event.time)  # microseconds since the epoch: exact comparisons
        self.node = node  # graph row of event.sha
        self.outcome = outcome
        self.shipped = shipped  # changes shipped (successful deploys)
        self.attempted = attempted  # what a failed deploy would have shipped
        self.rolled_back_by = rolled_back_by  # id of the deploy that replaced it
        self.serial = serial  # stable number: rows name their first deploy by it
        self.event_pos = -1  # position of its event in the EventStore the cache keeps

    @classmethod
    def stored(
        cls,
        store,
        pos: int,
        shas: Sequence[str],
        hex_width: int,
        environment: str,
        when: int,
        node: int,
        outcome: str,
        changes: Sequence[int],
        rolled_back_by: str | None,
        serial: int,
    ) -> DeployResult:
        """A cached deploy whose event is event ``pos`` of ``store`` (``shas``: the history's,
        for an event that named its commit by an abbreviated SHA; ``environment`` and
        ``when``: the event's, as the deploy columns keep them)."""
        d = cls.__new__(cls)
        d._event = None
        d._stored = (store, shas, hex_width)
        d.environment = environment
        d.when = when
        d.node = node
        d.outcome = outcome
        if outcome == FAILED:
            d.shipped, d.attempted = (), changes
        else:
            d.shipped, d.attempted = changes, ()
        d.rolled_back_by = rolled_back_by
        d.serial = serial
        d.event_pos = pos
        return d

    @property
    def event(self) -> DeployEvent:
        ev = self._event
        if ev is None:
            store, shas, hex_width = self._stored  # type: ignore[misc]
            ev = store.event(self.event_pos)
            sha = ev.sha
            if len(sha) != hex_width or sha != sha.strip().lower():
                # resolved from an abbreviated, upper-case or padded SHA: the full one
                ev = ev.replace(sha=shas[self.node])
            self._event = ev
        return ev

    def __repr__(self) -> str:
        return f"DeployResult({self.event.id!r}, {self.outcome!r}, {len(self.shipped)} shipped)"


class DeployList(Sequence[DeployResult]):
    """Deploys in linking order (see the module docstring). The columns are true for every
    position; a DeployResult read from the list is kept, and a change made to one (judging
    it again) is written back with ``refresh``."""

    def __init__(
        self,
        *,
        when: array,  # microseconds since the epoch ("q")
        env_code: bytes,  # position in env_names
        env_names: list[str],
        code: bytearray,  # position in OUTCOMES
        node: array,  # graph row of the deployed commit ("i")
        serial: array,  # the deploy's stable number ("i")
        event_pos: array,  # its event's position in the run's EventStore ("i"; -1: none)
        rolled_back_by: dict[int, str],  # position -> id of the deploy that rolled it back
        ship_offsets: array,  # ship_rows[ship_offsets[p]:ship_offsets[p + 1]] ("q")
        ship_rows: array,  # changes shipped, or attempted by a failed deploy ("i")
        made: dict[int, DeployResult],
        store: object = None,  # where the events of deploys not yet made are (``event(pos)``)
        shas: Sequence[str] = (),
        hex_width: int = 40,
    ):
        self.when = when
        self.env_code = env_code
        self.env_names = env_names
        self.code = code
        self.node = node
        self.serial = serial
        self.event_pos = event_pos
        self.rolled_back_by = rolled_back_by
        self.ship_offsets = ship_offsets
        self.ship_rows = ship_rows
        self._made = made
        self._store = store
        self._shas = shas
        self._hex_width = hex_width
        self._by_serial: dict[int, int] | None = None
        self._env_ranges: dict[str, tuple[int, int]] | None = None

    # --- making ---------------------------------------------------------------------------

    @classmethod
    def from_results(cls, results: Sequence[DeployResult]) -> DeployList:
        """The list of ``results`` (already made: a run that linked every deploy)."""
        return cls.joined([list(results)])

    @classmethod
    def joined(cls, parts: Sequence[tuple[DeployList, int, int] | list[DeployResult]]):
        """One list of ``parts``: runs ``(list, lo, hi)`` of positions of another list (its
        columns copied a run at a time, its made deploys kept), and lists of new deploys."""
        when, node, serial, event_pos = array("q"), array("i"), array("i"), array("i")
        code, env_code = bytearray(), bytearray()
        names: dict[str, int] = {}  # environment -> code, in order of first use
        rolled: dict[int, str] = {}
        offsets, rows = array("q", [0]), array("i")
        made: dict[int, DeployResult] = {}
        store, shas, hex_width = None, (), 40
        for part in parts:
            if isinstance(part, tuple):
                src, lo, hi = part
                base = len(when)
                made.update((base + p - lo, d) for p, d in src._made.items() if lo <= p < hi)
                when += src.when[lo:hi]
                node += src.node[lo:hi]
                serial += src.serial[lo:hi]
                event_pos += src.event_pos[lo:hi]
                code += src.code[lo:hi]
                env_code += _recoded(src.env_code, lo, hi, src.env_names, names)
                rolled.update(
                    (base + p - lo, x) for p, x in src.rolled_back_by.items() if lo <= p < hi
                )
                a, b = src.ship_offsets[lo], src.ship_offsets[hi]
                shift = len(rows) - a
                later = src.ship_offsets[lo + 1 : hi + 1]
                offsets += later if not shift else array("q", (o + shift for o in later))
                rows += src.ship_rows[a:b]
                if src._store is not None:
                    store, shas, hex_width = src._store, src._shas, src._hex_width
            else:
                for d in part:
                    made[len(when)] = d
                    when.append(d.when)
                    node.append(d.node)
                    serial.append(d.serial)
                    event_pos.append(d.event_pos)
                    code.append(_CODE[d.outcome])
                    env_code.append(names.setdefault(d.environment, len(names)))
                    if d.rolled_back_by is not None:
                        rolled[len(when) - 1] = d.rolled_back_by
                    rows.extend(d.attempted if d.outcome == FAILED else d.shipped)
                    offsets.append(len(rows))
        out = cls(
            when=when,
            env_code=bytes(env_code),
            env_names=list(names),
            code=code,
            node=node,
            serial=serial,
            event_pos=event_pos,
            rolled_back_by=rolled,
            ship_offsets=offsets,
            ship_rows=rows,
            made=made,
            store=store,
            shas=shas,
            hex_width=hex_width,
        )
        out.refresh()
        return out

    def refresh(self) -> None:
        """Write what the made deploys say now (their outcome, who rolled them back) back
        into the columns."""
        rolled = self.rolled_back_by
        for p, d in self._made.items():
            self.code[p] = _CODE[d.outcome]
            if d.rolled_back_by is None:
                rolled.pop(p, None)
            else:
                rolled[p] = d.rolled_back_by

    # --- reading --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.when)

    def __getitem__(self, p):  # type: ignore[override]
        if isinstance(p, slice):
            return [self[i] for i in range(*p.indices(len(self)))]
        if p < 0:
            p += len(self)
        d = self._made.get(p)
        if d is None:
            if not 0 <= p < len(self.when):
                raise IndexError(p)
            d = DeployResult.stored(
                self._store,  # type: ignore[arg-type]
                self.event_pos[p],
                self._shas,
                self._hex_width,
                self.environment(p),
                self.when[p],
                self.node[p],
                OUTCOMES[self.code[p]],
                self.shipped_rows(p),
                self.rolled_back_by.get(p),
                self.serial[p],
            )
            self._made[p] = d
        return d

    def __iter__(self) -> Iterator[DeployResult]:
        for p in range(len(self.when)):
            yield self[p]

    def made(self) -> list[tuple[int, DeployResult]]:
        """The deploys made so far, by position."""
        return sorted(self._made.items(), key=lambda item: item[0])

    def environment(self, p: int) -> str:
        return self.env_names[self.env_code[p]]

    def env_ranges(self) -> dict[str, tuple[int, int]]:
        """Each environment's positions, ``lo:hi``."""
        return dict(self._ranges())

    def _ranges(self) -> dict[str, tuple[int, int]]:
        if self._env_ranges is None:
            self._env_ranges = self._find_ranges()
        return self._env_ranges

    def _find_ranges(self) -> dict[str, tuple[int, int]]:
        codes = self.env_code
        return {
            name: (codes.find(c), codes.rfind(c) + 1)
            for c, name in enumerate(self.env_names)
            if codes.find(c) >= 0
        }

    def between(self, lo_us: int, hi_us: int | None = None) -> list[int]:
        """The positions of deploys at ``lo_us <= when < hi_us``, in order (each environment's
        deploys are in time order: two bisections each)."""
        when, out = self.when, []
        for lo, hi in self._ranges().values():
            a = bisect_left(when, lo_us, lo, hi)
            b = hi if hi_us is None else bisect_left(when, hi_us, a, hi)
            out.extend(range(a, b))
        out.sort()
        return out

    def positions(self, outcome: str, lo: int = 0, hi: int = -1) -> list[int]:
        """The positions in ``lo:hi`` (``hi`` -1: to the end) whose outcome is ``outcome``."""
        return byte_positions(self.code, _CODE[outcome], lo, hi)

    def last_node(self, lo: int, hi: int) -> int | None:
        """The commit the last deploy of ``lo:hi`` that did not fail ran."""
        failed = _CODE[FAILED]
        for p in range(hi - 1, lo - 1, -1):
            if self.code[p] != failed:
                return self.node[p]
        return None

    def count_outcome(self, outcome: str) -> int:
        return self.code.count(_CODE[outcome])

    def position_of_serial(self, serial: int) -> int:
        """Where the deploy numbered ``serial`` is. Serials grow with time within each
        environment's run (``linking.link_deploys`` numbers them in linking order, and a warm run
        numbers its new ones after every cached one): two bisections find it. A list whose
        serials are in another order gets a dict instead."""
        if self._by_serial is None:
            serials = self.serial
            for lo, hi in self._ranges().values():
                p = bisect_left(serials, serial, lo, hi)
                if p < hi and serials[p] == serial:
                    return p
            self._by_serial = {s: p for p, s in enumerate(serials)}
        return self._by_serial[serial]

    def shipped_rows(self, p: int) -> array:
        """What deploy ``p`` shipped (or, failed, would have), without making it."""
        return self.ship_rows[self.ship_offsets[p] : self.ship_offsets[p + 1]]


def _recoded(codes: bytes, lo: int, hi: int, src_names: list[str], names: dict[str, int]) -> bytes:
    """``codes[lo:hi]`` (positions in ``src_names``) as positions in ``names``, which gains
    the names first used here, in order of first use (one translation in C, not a loop)."""
    used = sorted((p, c) for c in range(len(src_names)) if (p := codes.find(c, lo, hi)) >= 0)
    table = bytearray(256)
    for _, c in used:
        code = names.setdefault(src_names[c], len(names))
        if code > 255:
            raise ValueError("more than 256 deploy environments")
        table[c] = code
    return codes[lo:hi].translate(table)


def byte_positions(buffer: bytes | bytearray, value: int, lo: int = 0, hi: int = -1) -> list:
    """The positions in ``buffer[lo:hi]`` (``hi`` -1: to the end) that hold ``value``, found
    by ``find`` in C: flag and code columns are long, and the positions asked for few."""
    hi = len(buffer) if hi < 0 else hi
    out = []
    p = buffer.find(value, lo, hi)
    while p >= 0:
        out.append(p)
        p = buffer.find(value, p + 1, hi)
    return out
