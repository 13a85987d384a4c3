"""The incremental cache: what a scan learned, so that the next run on the same repository
reads only the commits that are new and decides only what can have changed.

Two layers, each with its own key:

* the history: the commit table (parents, times, people after .mailmap, evidence, reverts,
  subjects), generation numbers and substantive verdicts. Keyed by everything besides the
  commits that shapes them: scorer version, agent registry, ``exclude_paths``, ``.mailmap``,
  git-ai notes. Rows are stable, because a warm run only appends rows.
* the outcomes of the last run (``CachedOutcomes``): per-row flags, each row's first deploy,
  every deploy's node, time, environment, outcome and shipped rows, the reverts, and the
  deploy events it kept (``scorer.incremental.eventstore``) with what each deploy source said
  it read (its mark). The events' columns are append-only segments of their own file, of
  at most EVENT_BLOCK events each, named (place, size, CRC-32) in the state file and read
  when a run first looks at one of their events; the rest is in the state file.
  Keyed by the settings that shape them (window, environments, min_confidence, deploy
  sources), by the run's ``now`` and by those events; ``scorer.incremental.advance`` decides
  whether they can be carried forward.

When the history layer is thrown away (one stderr line says why, and the run is a cold scan):
another scorer version or cache format, another agent registry or ``exclude_paths``, another
``.mailmap``, new git-ai notes, a history that no longer contains the cached head
(force-push), a cache from another repository, or a file that cannot be read back exactly
(corrupt, truncated, foreign).

The format is a small JSON header plus length-prefixed binary columns and a CRC-32, never
pickle: a cache restored from CI storage must not be able to run code, and a damaged one must
be noticed, not half-used. Lengths and sparse rows are checked; the values of the 100k-row
columns are not (a pass over each would cost a warm run ~10 ms): the checksum catches damage,
and a cache is only as trusted as the CI storage it comes from (actions/cache scopes what a
pull request writes to that pull request's own runs). The files are mapped, not read: columns
are checked and copied into arrays straight from the page cache, or kept as buffers
(``scorer.incremental.columns``): a warm run decodes the few rows it looks at, not 100k.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import struct
import sys
import time
import zlib
from array import array
from collections.abc import Callable
from pathlib import Path

from scorer import __version__
from scorer.incremental.columns import ParentColumn, ShaColumn, ShaIndex, TextColumn, encode_texts
from scorer.incremental.eventstore import TEXT_FIELDS, EventPart, EventStore, check_columns
from scorer.model import Evidence
from scorer.outcomes.table import CommitTable
from scorer.util.atomic import replace_file
from scorer.util.sha import sha256
from scorer.util.textsafe import one_line

FORMAT = 9
STATE_FILE = "scorer-state.cache"  # small; rewritten by every run that learned something
COMMITS_FILE = "scorer-commits.cache"  # append-only segments of commit rows
EVENTS_FILE = "scorer-events.cache"  # append-only segments of kept deploy events
SOURCES_FILE = "scorer-sources.cache"  # deploy sources' memos (JSON), see load_memos
LEGACY_FILES = ("scorer-history.cache",)
MAGIC = b"SCORER-CACHE\n"
SEGMENT_MAGIC = b"SCORER-ROWS\n"
MAX_SEGMENTS = 32  # then the rows are rewritten as one segment
EVENT_BLOCK = 8192  # events in one segment at most: a report reads the segments it shows
MAX_EVENT_SEGMENTS = 64  # then the events are rewritten in full blocks
# Columns of a segment of events (EventStore's), with their array type codes.
_EVENT_COLUMNS = (("texts", ""), ("offsets", "q"), ("env", ""), ("when", "q"), ("known", ""))
_EVENT_TEXTS = len(TEXT_FIELDS)  # texts of one event
_LEN = struct.Struct("<Q")
# Columns of a segment of commit rows, with their array type codes ("" = bytes).
_SEGMENT_COLUMNS = (
    ("shas", ""),
    ("first_parent", "i"),
    ("author_time", "q"),
    ("committer_time", "q"),
    ("person", "i"),
    ("human", ""),
    ("subjects", ""),
    ("subject_offsets", "q"),  # per segment: from 0, one more than its rows
    ("generation", "i"),
    # sparse values, as row lists (read at once: small, and JSON would cost ~2 ms)
    ("evidence_rows", "i"),
    ("evidence_which", "i"),  # index into the header's distinct evidence tuples
    ("verdict_rows", "i"),
    ("verdict_values", ""),
    ("merge_rows", "i"),
    ("merge_counts", "i"),  # parents beyond the first, per merge row
    ("merge_parents", "i"),
)
_STATE_SECTIONS = (
    ("by_author_time", "i"),
    ("flags", ""),
    ("first", "i"),
    ("deploy_serial", "i"),
    ("deploy_node", "i"),
    ("deploy_outcome", ""),
    ("ship_offsets", "q"),
    ("ship_rows", "i"),
    ("deploy_event", "i"),  # per deploy: its event's position in the event columns
    ("deploy_when", "q"),  # per deploy: its event's time (microseconds)
    ("deploy_env", ""),  # per deploy: its environment, a position in deploy_environments
    # the kept events whose SHA is not in the history (their columns: EVENTS_FILE)
    ("event_unknown", "i"),
)


class CacheInvalid(Exception):
    """The cache cannot be used; ``str(err)`` says why, in a few words, on one safe line (it
    may quote a path or a commit id read from a cache restored from CI storage)."""

    def __str__(self) -> str:
        return one_line(super().__str__())


class CachedOutcomes:
    """The outcomes of the run that wrote the cache, as ``incremental.advance`` carries them."""

    def __init__(self, meta: dict, sections: dict[str, array | bytes], events: EventStore):
        self.key: str = meta["key"]  # the settings that shaped them
        self.now: float = meta["now"]  # the run's now, as a Unix time
        # Every AI change authored since then was judged, and every one a deploy since then
        # could make count; before it, only what that run's report needed (its trend's
        # deploys: ``scorer.outcomes.reach``)
        self.judged_from: float | None = meta.get("judged_from")
        # position -> id of the deploy that rolled it back (a few of the deploys)
        self.rolled_back_by: dict[int, str] = {int(p): x for p, x in meta["rolled_back_by"]}
        self.reverted: dict[int, int] = {int(x): y for x, y in meta["reverted"]}
        self.reverters: dict[int, list[int]] = {int(x): ys for x, ys in meta["reverters"]}
        self.reverts: set[int] = set(meta["reverts"])  # revert commits (never counted)
        self.fragile: list[str] = meta["fragile"]  # names a new commit could make resolve
        self.flags = bytearray(sections["flags"])
        self.first = sections["first"]
        self.deploy_serial = sections["deploy_serial"]
        self.deploy_node = sections["deploy_node"]
        self.deploy_outcome = sections["deploy_outcome"]
        self.ship_offsets = sections["ship_offsets"]
        self.ship_rows = sections["ship_rows"]
        self.deploy_event = sections["deploy_event"]
        self.deploy_when = sections["deploy_when"]
        self.deploy_env = sections["deploy_env"]
        self.deploy_environments: list[str] = meta["deploy_environments"]
        # the kept events (their parts read from EVENTS_FILE when first looked at)
        self.events = events
        # where they are in EVENTS_FILE, when they were read from it
        self.event_segments: list[list] = meta.get("event_segments") or []
        # What each deploy source said it read (``DeploySource.events_since``), by spec, and
        # the events it left out, by reason.
        self.marks: dict[str, str] = meta["marks"]
        self.ignored: dict[str, int] = meta["ignored"]

    def meta(self) -> dict:
        return {
            "key": self.key,
            "now": self.now,
            "judged_from": self.judged_from,
            "rolled_back_by": sorted(self.rolled_back_by.items()),
            "reverted": sorted(self.reverted.items()),
            "reverters": sorted(self.reverters.items()),
            "reverts": sorted(self.reverts),
            "fragile": self.fragile,
            "event_environments": self.events.environments,
            "deploy_environments": self.deploy_environments,
            "marks": self.marks,
            "ignored": self.ignored,
        }

    def sections(self) -> dict[str, array | bytes]:
        """The state file's sections (arrays as they are: ``save`` writes their buffers); the
        events' columns are in EVENTS_FILE."""
        return {
            "flags": bytes(self.flags),
            "first": self.first,
            "deploy_serial": self.deploy_serial,
            "deploy_node": self.deploy_node,
            "deploy_outcome": bytes(self.deploy_outcome),
            "ship_offsets": self.ship_offsets,
            "ship_rows": self.ship_rows,
            "deploy_event": self.deploy_event,
            "deploy_when": self.deploy_when,
            "deploy_env": bytes(self.deploy_env),
            "event_unknown": array("i", self.events.unknown_positions()),
        }


class CachedHistory:
    def __init__(
        self,
        head: str,
        table: CommitTable,
        generation: array | list[int],
        verdicts: dict[int, bool] | None = None,
        missing: list[int] | None = None,
        outcomes: CachedOutcomes | None = None,
        extras: dict | None = None,
    ):
        self.head = head
        self.table = table
        self.rows = len(table)  # when read: a warm run appends to the table
        self.people_known = len(table.people)  # when read: a warm run adds to them
        self.generation = generation
        self.verdicts = verdicts if verdicts is not None else {}  # row -> substantive
        self.missing = missing if missing is not None else []  # rows judged without objects
        self.outcomes = outcomes
        # JSON values other stages keep between runs (the compiled agent registry, deploy
        # source memos), each under its own name.
        self.extras = extras if extras is not None else {}
        self.segments: list[list[int]] | None = None  # where the rows are in COMMITS_FILE


def fingerprint(*parts: object) -> str:
    """A key over everything that shapes the cached values besides the commits themselves."""
    h = sha256()
    for part in (FORMAT, __version__, *parts):
        data = part if isinstance(part, bytes) else json.dumps(part, sort_keys=True).encode()
        h.update(_LEN.pack(len(data)) + data)
    return h.hexdigest()


def cache_path(directory: Path) -> Path:
    """The state file: it names everything else a cache holds."""
    return Path(directory) / STATE_FILE


def read_header(directory: Path) -> dict:
    """The state file's JSON header alone (no checks): what a cache says about itself. Only
    the header is read: ``load`` reads the whole file."""
    with cache_path(directory).open("rb") as fh:
        lead = fh.read(len(MAGIC) + _LEN.size)
        if len(lead) < len(MAGIC) + _LEN.size or not lead.startswith(MAGIC):
            raise ValueError("not a scorer cache file")
        (size,) = _LEN.unpack_from(lead, len(MAGIC))
        return json.loads(fh.read(size))


def load(directory: Path, key: str | Callable[[], str]) -> CachedHistory:
    """The cached history, or CacheInvalid saying why it cannot be used. ``key`` may be a
    function: it is then asked after the file is read, so that what it waits on (git
    processes) runs meanwhile."""
    path = cache_path(directory)
    sweep_temp(Path(directory))
    try:
        data = _mapped(path)
    except FileNotFoundError:
        if any((Path(directory) / name).exists() for name in LEGACY_FILES):
            raise CacheInvalid("made by an older scorer (another cache format)") from None
        raise CacheInvalid("no cache yet") from None
    except OSError as err:
        raise CacheInvalid(f"cannot read {path}: {err.strerror}") from None
    try:
        return _decode(Path(directory), data, key)
    except CacheInvalid:
        raise
    except (
        ValueError,
        KeyError,
        TypeError,
        IndexError,
        struct.error,
        UnicodeDecodeError,
        OverflowError,
    ) as err:
        raise CacheInvalid(f"corrupt cache file ({type(err).__name__})") from None


def _mapped(path: Path) -> mmap.mmap | bytes:
    """The file's bytes, mapped rather than copied (b"" for an empty file, which cannot be
    mapped). The map stays valid after the file is replaced: a rename makes a new file."""
    with open(path, "rb") as fh:
        try:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty
            return b""


def _blob(data: bytes | mmap.mmap, magic: bytes) -> tuple[dict, list[memoryview]]:
    """Header and chunks of a checksummed blob (the state file)."""
    view = memoryview(data)
    if bytes(view[: len(magic)]) != magic:
        raise CacheInvalid("not a scorer cache file")
    if len(data) < len(magic) + 4 or zlib.crc32(view[:-4]).to_bytes(4, "little") != data[-4:]:
        raise CacheInvalid("corrupt cache file (checksum)")
    end = len(data) - 4
    pos = len(magic)
    chunks = []
    while pos < end:
        (size,) = _LEN.unpack_from(data, pos)
        pos += _LEN.size
        if pos + size > end:
            raise CacheInvalid("truncated cache file")
        chunks.append(view[pos : pos + size])  # not copied: most become arrays at once
        pos += size
    if not chunks:
        raise CacheInvalid("truncated cache file")
    return json.loads(bytes(chunks[0])), chunks[1:]


def _decode(directory: Path, data: bytes, key: str | Callable[[], str]) -> CachedHistory:
    meta, chunks = _blob(data, MAGIC)
    if meta.get("format") != FORMAT or meta.get("scorer_version") != __version__:
        raise CacheInvalid(
            f"made by scorer {meta.get('scorer_version')} (cache format {meta.get('format')})"
        )
    if not callable(key):
        _check_key(meta, key)
    if len(chunks) != len(_STATE_SECTIONS):
        raise CacheInvalid("corrupt cache file (sections)")
    sections: dict[str, array | bytes] = {}
    for (name, code), chunk in zip(_STATE_SECTIONS, chunks, strict=True):
        sections[name] = _typed(chunk, code)
    n = meta["rows"]
    rows = _Rows(directory / COMMITS_FILE, meta["segments"], n)
    table = CachedTable(rows, meta)
    generation = rows.column("generation", "i")
    order = sections["by_author_time"]
    table.by_author_time = order if len(order) == n else None
    if len(generation) != n:
        raise CacheInvalid("corrupt cache file (columns)")
    outcomes = None
    if meta.get("outcomes"):
        o = meta["outcomes"]
        events = _cached_events(
            Path(directory), o["event_segments"], o["event_environments"], sections["event_unknown"]
        )
        outcomes = CachedOutcomes(o, sections, events)
        if len(outcomes.flags) != n or len(outcomes.first) != n:
            raise CacheInvalid("corrupt cache file (outcomes)")
        d = len(outcomes.deploy_serial)
        sizes = {len(outcomes.deploy_node), len(outcomes.deploy_outcome)}
        if outcomes.reverts and (min(outcomes.reverts) < 0 or max(outcomes.reverts) >= n):
            raise CacheInvalid("corrupt cache file (outcomes)")
        rolled = outcomes.rolled_back_by
        if rolled and (min(rolled) < 0 or max(rolled) >= d):
            raise CacheInvalid("corrupt cache file (deploys)")
        if not all(type(x) is str for x in rolled.values()):
            raise CacheInvalid("corrupt cache file (deploys)")
        if sizes != {d} or len(outcomes.ship_offsets) != d + 1:
            raise CacheInvalid("corrupt cache file (deploys)")
        if outcomes.ship_offsets[-1] != len(outcomes.ship_rows):
            raise CacheInvalid("corrupt cache file (deploys)")
        at = outcomes.deploy_event
        if len(at) != d or (d and not 0 <= min(at) <= max(at) < len(outcomes.events)):
            raise CacheInvalid("corrupt cache file (deploy events)")
        env, names = outcomes.deploy_env, outcomes.deploy_environments
        if len(outcomes.deploy_when) != d or len(env) != d or (d and max(env) >= len(names)):
            raise CacheInvalid("corrupt cache file (deploys)")
    if callable(key):
        _check_key(meta, key())
    cached = CachedHistory(
        head=meta["head"],
        table=table,
        generation=generation,
        verdicts=rows.verdicts,
        missing=sorted(rows.missing),
        outcomes=outcomes,
        extras=meta.get("extras", {}),
    )
    cached.segments = [list(seg) for seg in meta["segments"]]
    return cached


def _cached_events(
    directory: Path, segments: list, environments: list[str], unknown: array
) -> EventStore:
    """The kept events of the state file, one part per segment of EVENTS_FILE: the segments'
    places are checked now, each one's bytes (checksum, lengths) when an event of it is first
    read (damage found then is a CacheInvalid, and the scan starts over without the cache)."""
    if not isinstance(environments, list) or not all(isinstance(e, str) for e in environments):
        raise CacheInvalid("corrupt cache file (deploy events)")
    parts: list[EventPart] = []
    end = 0
    for seg in segments:
        offset, count, sizes, crc = seg
        if (
            not all(isinstance(x, int) and x >= 0 for x in (offset, count, crc, *sizes))
            or len(sizes) != len(_EVENT_COLUMNS)
            or offset < end
        ):
            raise CacheInvalid("corrupt cache file (deploy events)")
        end = offset + sum(sizes)
        parts.append(EventPart(count, segment=seg))
    n = sum(part.count for part in parts)
    if unknown and (min(unknown) < 0 or max(unknown) >= n):
        raise CacheInvalid("corrupt cache file (deploy events)")
    if parts:
        view = _events_view(directory / EVENTS_FILE, end)
        for part in parts:
            part._loader = _segment_loader(view, part.segment, len(environments))
    return EventStore.of_parts(environments, parts, list(unknown))


def _events_view(path: Path, end: int) -> memoryview:
    """EVENTS_FILE, mapped (it outlives this run's appends beyond ``end``, and a rewrite
    makes a new file), when it holds at least ``end`` bytes."""
    try:
        with open(path, "rb") as fh:
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as err:  # ValueError: an empty file
        why = getattr(err, "strerror", None) or "empty"
        raise CacheInvalid(f"cannot read {path.name}: {why}") from None
    if len(mapped) < end:
        raise CacheInvalid(f"truncated {path.name}")
    return memoryview(mapped)


def _segment_loader(view: memoryview, seg: list, environments: int) -> Callable[[], tuple]:
    def load() -> tuple:
        offset, count, sizes, crc = seg
        chunk = view[offset : offset + sum(sizes)]
        if zlib.crc32(chunk) != crc:
            raise CacheInvalid("corrupt cache file (deploy events checksum)")
        columns, pos = [], 0
        try:
            for (_, code), size in zip(_EVENT_COLUMNS, sizes, strict=True):
                columns.append(_typed(chunk[pos : pos + size], code))
                pos += size
            raw, offsets, env, when, known = columns
            if not offsets or offsets[0] != 0 or offsets[-1] != len(raw) or len(when) != count:
                raise ValueError("event texts of the wrong length")
            texts = TextColumn(raw, offsets)
            check_columns(texts, environments, env, when, known)
        except ValueError:
            raise CacheInvalid("corrupt cache file (deploy events)") from None
        return texts, env, when, known

    return load


def _check_key(meta: dict, key: str) -> None:
    if meta.get("key") != key:
        raise CacheInvalid("agent registry, exclude_paths, .mailmap or git-ai notes changed")


def _typed(chunk: bytes | memoryview, code: str) -> array | bytes:
    if not code:
        return bytes(chunk)
    arr = array(code)
    arr.frombytes(chunk)
    return arr


class _Rows:
    """The segments of the commits file that the state file names. Each segment's header
    (sparse values: evidence, reverts, merges' other parents, verdicts, new people) is read
    and checked at once; a column's bytes are read and checked when the run first asks for
    it, so a run that never looks at subjects or SHAs never reads those megabytes."""

    def __init__(self, path: Path, segments: list, rows: int):
        self._path = path
        # Mapped, not read: a column is checked and copied into its array straight from the
        # page cache (reading it first would copy each of its megabytes once more). The map
        # outlives the run's own appends (beyond every segment it names) and compaction (a
        # new file); one run at a time may use a cache directory.
        try:
            with open(path, "rb") as fh:
                self._map: mmap.mmap | None = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as err:  # ValueError: an empty file
            why = getattr(err, "strerror", None) or "empty"
            raise CacheInvalid(f"cannot read {path.name}: {why}") from None
        self._view = memoryview(self._map)
        self._columns: list[dict[str, tuple[int, int, int]]] = []
        self.headers: list[dict] = []
        self.verdicts: dict[int, bool] = {}
        self.missing: set[int] = set()
        total = 0
        for offset, length in segments:
            header, columns = self._segment(offset, length)
            if header["first_row"] != total:
                raise CacheInvalid("corrupt cache file (segments)")
            total += header["rows"]
            self.headers.append(header)
            self._columns.append(columns)
            rows_ = self.sparse(columns, "verdict_rows", "i")
            values = self.sparse(columns, "verdict_values", "")
            self.verdicts.update(zip(rows_, map(bool, values), strict=True))
            self.missing.update(header["missing"])
        if total != rows:
            raise CacheInvalid("corrupt cache file (rows)")

    def _read(self, pos: int, size: int) -> memoryview:
        """``size`` bytes at ``pos`` (fewer when the file is shorter: callers check)."""
        return self._view[pos : pos + size]

    def _segment(self, offset: int, length: int) -> tuple[dict, dict]:
        lead = bytes(self._read(offset, len(SEGMENT_MAGIC) + _LEN.size))
        if len(lead) < len(SEGMENT_MAGIC) + _LEN.size or not lead.startswith(SEGMENT_MAGIC):
            raise CacheInvalid("corrupt cache file (segment)")
        (size,) = _LEN.unpack_from(lead, len(SEGMENT_MAGIC))
        raw = self._read(offset + len(lead), size + 4)
        if (
            len(raw) != size + 4
            or zlib.crc32(raw[:size], zlib.crc32(lead)).to_bytes(4, "little") != raw[size:]
        ):
            raise CacheInvalid("corrupt cache file (segment checksum)")
        header = json.loads(bytes(raw[:size]))
        pos = offset + len(lead) + size + 4
        columns = {}
        for name, size, crc in header["columns"]:
            columns[name] = (pos, size, crc)
            pos += size
        if pos != offset + length:
            raise CacheInvalid("corrupt cache file (segment length)")
        return header, columns

    def sparse(self, columns: dict, name: str, code: str) -> array | bytes:
        """One segment's column (the sparse ones are read per segment)."""
        pos, size, crc = columns[name]
        chunk = self._read(pos, size)
        if len(chunk) != size or zlib.crc32(chunk) != crc:
            raise CacheInvalid(f"corrupt cache file ({name})")
        return _typed(chunk, code)

    def chunks(self, name: str) -> list[bytes]:
        out = []
        for columns in self._columns:
            pos, size, crc = columns[name]
            chunk = self._read(pos, size)
            if len(chunk) != size or zlib.crc32(chunk) != crc:
                raise CacheInvalid(f"corrupt cache file ({name})")
            out.append(chunk)
        return out

    def column(self, name: str, code: str) -> array | bytes:
        chunks = self.chunks(name)
        if not code:
            return b"".join(chunks)
        arr = array(code)
        for chunk in chunks:
            arr.frombytes(chunk)
        return arr


class CachedTable(CommitTable):
    """A commit table read from the cache. SHAs and subjects (7 of 11 MB on 100k commits) are
    read when a run first looks at a cached row's, which a per-merge run mostly never does;
    rows it appends go into the columns without reading them."""

    def __init__(self, rows: _Rows, meta: dict):
        super().__init__()
        n = meta["rows"]
        width = meta["sha_width"]
        if width not in (20, 32):
            raise CacheInvalid("corrupt cache file (shas)")
        self.shas = ShaColumn(width=width, loader=lambda: rows.column("shas", ""), count=n)
        self.index = ShaIndex(self.shas)
        if isinstance(meta.get("head_row"), int) and 0 <= meta["head_row"] < n:
            # New commits' parents are mostly the cached head: found without reading SHAs.
            self.index.hint(meta["head"], meta["head_row"])
        first = rows.column("first_parent", "i")
        more: dict[int, tuple[int, ...]] = {}
        for header, columns in zip(rows.headers, rows._columns, strict=True):
            self.people.extend((name, email) for name, email in header["people"])
            distinct = [tuple(Evidence(*e) for e in items) for items in header["evidence"]]
            which = rows.sparse(columns, "evidence_which", "i")
            self.evidence.update(
                zip(
                    rows.sparse(columns, "evidence_rows", "i"),
                    map(distinct.__getitem__, which),
                    strict=True,
                )
            )
            for row, names in header["reverts"].items():
                self.reverts[int(row)] = tuple(names)
            parents_ = rows.sparse(columns, "merge_parents", "i")
            counts = rows.sparse(columns, "merge_counts", "i")
            if sum(counts) != len(parents_) or (counts and min(counts) < 1):
                raise CacheInvalid("corrupt cache file (merge parents)")
            merge_rows = rows.sparse(columns, "merge_rows", "i")
            if len(merge_rows) != len(counts):
                raise CacheInvalid("corrupt cache file (merge parents)")
            if len(parents_) == len(counts):  # every merge has two parents: one C-level pass
                pairs = zip(map(first.__getitem__, merge_rows), parents_, strict=True)
                more.update(zip(merge_rows, pairs, strict=True))
            else:
                extra = iter(parents_)
                for r, k in zip(merge_rows, counts, strict=True):
                    more[r] = (first[r], *(next(extra) for _ in range(k)))
        self.parents = ParentColumn(first, more)
        self.author_time = rows.column("author_time", "q")
        self.committer_time = rows.column("committer_time", "q")
        self.person = rows.column("person", "i")
        self.human = bytearray(rows.column("human", ""))
        self.subjects = TextColumn(loader=lambda: _subjects(rows), count=n)
        self._people_ix = {p: i for i, p in enumerate(self.people)}
        self.missing_parents = meta["missing_parents"]
        sizes = {len(first), len(self.author_time), len(self.committer_time), len(self.person)}
        if sizes | {len(self.human)} != {n}:
            raise CacheInvalid("corrupt cache file (columns)")
        for sparse in (self.evidence, self.reverts, more, rows.verdicts):
            if sparse and (min(sparse) < 0 or max(sparse) >= n):
                raise CacheInvalid("corrupt cache file (sparse rows)")


def _subjects(rows: _Rows) -> tuple[bytes, array]:
    raws = rows.chunks("subjects")
    offsets = array("q", [0])
    base = 0
    for raw, chunk in zip(raws, rows.chunks("subject_offsets"), strict=True):
        seg = array("q")
        seg.frombytes(chunk)
        offsets.extend(seg[1:] if not base else array("q", (x + base for x in seg[1:])))
        base += len(raw)
    return b"".join(raws), offsets


def save(
    directory: Path, key: str, state: CachedHistory, base: CachedHistory | None = None
) -> bool:
    """:func:`_save`, or (a read-only directory, a full disk) one stderr line and False: the
    report never depends on the cache, so the scan goes on without it."""
    try:
        _save(directory, key, state, base)
    except OSError as err:
        not_saved(directory, err)
        return False
    return True


def not_saved(directory: Path, err: OSError) -> None:
    """One line per cache directory and run, however many of its files failed."""
    if str(directory) in _UNWRITABLE:
        return
    _UNWRITABLE.add(str(directory))
    print(
        f"scorer: cache not saved: cannot write {one_line(directory)}: "
        f"{err.strerror or type(err).__name__}; the report is complete without it",
        file=sys.stderr,
        flush=True,
    )


_UNWRITABLE: set[str] = set()

# Temp files of util.atomic (".NAME.PID.HEX.tmp"; before it, ".NAME.PID.HEX") beside the
# cache files: a run killed mid-write (kill -9, a cancelled job) leaves one, megabytes each,
# in the directory actions/cache saves. Swept at the next load when their writer is gone.
_TEMP = re.compile(r"\.scorer-[a-z]+\.cache\.(\d+)\.[0-9a-f]{8}(?:\.tmp)?")
STALE_TEMP_SECONDS = 15 * 60


def sweep_temp(directory: Path, now: float | None = None) -> list[str]:
    """Remove the cache's temp files whose writer is no longer running, or that are older than
    STALE_TEMP_SECONDS (a PID restored on another machine may name a live process); return
    their names. Never raises: a directory that cannot be listed keeps them."""
    removed: list[str] = []
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP.fullmatch(entry.name)
        if m is None:
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_SECONDS
            if old or not _alive(int(m[1])):
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this run's own (another thread's) write in progress
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process (or no way to tell): keep it until it is old
    return True


def _save(
    directory: Path, key: str, state: CachedHistory, base: CachedHistory | None = None
) -> None:
    """Append the rows that are new since ``base`` (the cache as this run read it) as one
    segment of the commits file (or write it anew), then replace the state file (temp file +
    rename): a reader never sees half of one, and rows the state file does not name are
    ignored."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    table = state.table
    n = len(table)
    rows_path = directory / COMMITS_FILE
    segments = base.segments if base is not None else None
    known = base.rows if base is not None and segments else 0
    end = segments[-1][0] + segments[-1][1] if segments else 0
    try:
        size = rows_path.stat().st_size if segments else -1
    except OSError:
        size = -1
    if segments and size >= end and len(segments) < MAX_SEGMENTS:
        segments = [list(seg) for seg in segments]
        if n > known:
            data = _segment_bytes(state, known, n, base)
            with open(rows_path, "r+b") as fh:
                fh.truncate(end)  # rows a failed run appended but never named
                fh.seek(end)
                fh.write(data)
            segments.append([end, len(data)])
    else:
        data = _segment_bytes(state, 0, n, None)
        _write_atomic(rows_path, data)
        segments = [[0, len(data)]]
    outcomes = state.outcomes
    outcomes_meta = None
    if outcomes is not None:
        segments_of_events = _save_events(
            directory, outcomes.events, base.outcomes if base is not None else None
        )
        outcomes_meta = {**outcomes.meta(), "event_segments": segments_of_events}
    shas = table.shas
    meta = {
        "format": FORMAT,
        "scorer_version": __version__,
        "key": key,
        "head": state.head,
        "head_row": table.index.get(state.head),
        "rows": n,
        "sha_width": shas.width if isinstance(shas, ShaColumn) else len(shas[0]) // 2 if n else 20,
        "missing_parents": table.missing_parents,
        "segments": segments,
        "outcomes": outcomes_meta,
        "extras": state.extras,
    }
    sections = {"by_author_time": table.sort_by_author_time()}
    if outcomes is not None:
        sections.update(outcomes.sections())
    header = json.dumps(meta, separators=(",", ":")).encode()
    parts: list[bytes | memoryview] = [MAGIC, _LEN.pack(len(header)), header]
    for name, _ in _STATE_SECTIONS:
        value = sections.get(name, b"")
        # an array's own buffer: neither joined into one body nor copied by tobytes()
        chunk = memoryview(value).cast("B") if isinstance(value, array) else value
        parts += [_LEN.pack(len(chunk)), chunk]
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    parts.append(crc.to_bytes(4, "little"))
    _write_atomic(cache_path(directory), parts)
    del parts  # the views: the arrays may grow again
    for legacy in LEGACY_FILES:
        (directory / legacy).unlink(missing_ok=True)


def _save_events(directory: Path, store: EventStore, base: CachedOutcomes | None) -> list[list]:
    """Write the events of ``store`` that EVENTS_FILE does not hold yet, and return where
    every segment is. A store that starts with every segment this run read (``base``) gets
    only its later events appended; any other (a cold run, events before the last run read
    again, too many small segments) is written anew, in blocks of EVENT_BLOCK events."""
    path = directory / EVENTS_FILE
    parts = store.parts
    old = base.event_segments if base is not None else []
    lead = 0
    while lead < min(len(parts), len(old)) and parts[lead].segment is old[lead]:
        lead += 1
    if old and lead == len(old):
        end = old[-1][0] + sum(old[-1][2])
        try:
            size = path.stat().st_size
        except OSError:
            size = -1
        blocks = [block for part in parts[lead:] for block in _event_blocks(part.columns())]
        if size >= end and len(old) + len(blocks) <= MAX_EVENT_SEGMENTS:
            if not blocks:
                return list(old)
            data, added = _event_segments(blocks, end)
            with open(path, "r+b") as fh:
                if size > end:
                    fh.truncate(end)  # events a failed run appended but never named
                fh.seek(end)
                fh.writelines(data)
            return [*old, *added]
    flat = (store.texts, store.env, store.when, store.known)
    data, segments = _event_segments(list(_event_blocks(flat)), 0)
    _write_atomic(path, data)
    return segments


def _event_blocks(columns: tuple) -> list[tuple]:
    """Columns of events (EventStore's) as blocks of at most EVENT_BLOCK events, each as
    _EVENT_COLUMNS (its text offsets from 0)."""
    texts, env, when, known = columns
    raw, offsets = encode_texts(texts)
    out = []
    n = len(when)
    for a in range(0, n, EVENT_BLOCK):
        b = min(n, a + EVENT_BLOCK)
        lo, hi = offsets[_EVENT_TEXTS * a], offsets[_EVENT_TEXTS * b]
        offs = offsets[_EVENT_TEXTS * a : _EVENT_TEXTS * b + 1]
        if lo:
            offs = array("q", (o - lo for o in offs))
        out.append((raw[lo:hi], offs, bytes(env[a:b]), when[a:b], bytes(known[a:b])))
    return out


def _event_segments(blocks: list[tuple], start: int) -> tuple[list, list[list]]:
    """The bytes of ``blocks`` written one after the other from ``start``, and each one's
    segment: offset, events, column sizes, CRC-32."""
    data: list = []
    segments = []
    pos = start
    for block in blocks:
        chunks = [memoryview(c).cast("B") if isinstance(c, array) else c for c in block]
        sizes = [len(c) for c in chunks]
        crc = 0
        for c in chunks:
            crc = zlib.crc32(c, crc)
        segments.append([pos, len(block[3]), sizes, crc])
        data += chunks
        pos += sum(sizes)
    return data, segments


def _segment_bytes(state: CachedHistory, lo: int, hi: int, base: CachedHistory | None) -> bytes:
    """Rows ``lo:hi`` as one segment: a checksummed JSON header of the sparse values, then
    each column with its own CRC-32 (checked when a run first reads it)."""
    table = state.table
    parents = table.parents
    first_parent = array("i")
    merge_rows, merge_counts, merge_parents = array("i"), array("i"), array("i")
    for r in range(lo, hi):
        ps = parents[r]
        first_parent.append(ps[0] if ps else -1)
        if len(ps) > 1:
            merge_rows.append(r)
            merge_counts.append(len(ps) - 1)
            merge_parents.extend(ps[1:])
    shas = table.shas
    sha_hex = "".join(shas[lo:hi])
    subjects = [table.subjects[r] for r in range(lo, hi)]
    raw_subjects, offsets = encode_texts(subjects)
    verdicts = state.verdicts
    p0 = base.people_known if base is not None else 0
    known_verdicts = base.verdicts if base is not None else {}
    known_missing = set(base.missing) if base is not None else set()
    in_range = range(lo, hi)
    distinct, evidence_rows, evidence_which = _evidence_data(table, in_range)
    # every verdict this run learned (new rows' and, rarely, older rows')
    learned = [(r, v) for r, v in verdicts.items() if r in in_range or r not in known_verdicts]
    header = {
        "first_row": lo,
        "rows": hi - lo,
        "people": table.people[p0:],
        "evidence": distinct,
        "reverts": {str(r): list(v) for r, v in table.reverts.items() if r in in_range},
        "missing": [r for r in state.missing if r in in_range or r not in known_missing],
    }
    columns = {
        "shas": bytes.fromhex(sha_hex),
        "first_parent": first_parent.tobytes(),
        "author_time": table.author_time[lo:hi].tobytes(),
        "committer_time": table.committer_time[lo:hi].tobytes(),
        "person": _ints(table.person[lo:hi]),
        "human": bytes(table.human[lo:hi]),
        "subjects": raw_subjects,
        "subject_offsets": offsets.tobytes(),
        "generation": _ints(state.generation[lo:hi]),
        "evidence_rows": evidence_rows.tobytes(),
        "evidence_which": evidence_which.tobytes(),
        "verdict_rows": array("i", [r for r, _ in learned]).tobytes(),
        "verdict_values": bytes(int(v) for _, v in learned),
        "merge_rows": merge_rows.tobytes(),
        "merge_counts": merge_counts.tobytes(),
        "merge_parents": merge_parents.tobytes(),
    }
    header["columns"] = [
        [name, len(columns[name]), zlib.crc32(columns[name])] for name, _ in _SEGMENT_COLUMNS
    ]
    head = SEGMENT_MAGIC + _LEN.pack(0)
    text = json.dumps(header, separators=(",", ":")).encode()
    head = SEGMENT_MAGIC + _LEN.pack(len(text)) + text
    return b"".join(
        [head, zlib.crc32(head).to_bytes(4, "little"), *(columns[n] for n, _ in _SEGMENT_COLUMNS)]
    )


def _evidence_data(table: CommitTable, rows: range) -> tuple[list, array, array]:
    """Evidence of ``rows``: each distinct tuple once (a history has a few dozen), then which
    tuple each row has. Reading it back is two C-level passes, not 4k Evidence objects."""
    distinct: dict[tuple, int] = {}
    out_rows, which = array("i"), array("i")
    for r, ev in table.evidence.items():
        if r in rows:
            out_rows.append(r)
            which.append(distinct.setdefault(ev, len(distinct)))
    data = [[[e.agent, e.kind, e.text, e.confidence] for e in ev] for ev in distinct]
    return data, out_rows, which


def _ints(values) -> bytes:
    if isinstance(values, array) and values.typecode == "i":
        return values.tobytes()
    return array("i", values).tobytes()


def _write_atomic(path: Path, data: bytes | list[bytes | memoryview]) -> None:
    """util.atomic's writer, without the fsync (the checksums catch a torn file, and the
    sync would cost every warm run)."""
    parts = data if isinstance(data, list) else [data]
    replace_file(path, lambda fh: fh.writelines(parts), sync=False)


def load_memos(directory: Path) -> tuple[dict[str, dict], str]:
    """The deploy sources' memos (``SourceContext.memo`` by spec) and the text they were read
    from. They hold facts of immutable git objects by object id, so they need no key; a file
    that is not what this version writes is simply an empty memo."""
    try:
        text = (Path(directory) / SOURCES_FILE).read_text(encoding="utf-8")
        head, _, body = text.partition("\n")
        data = json.loads(head)
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or data.get("scorer_version") != __version__
            or not isinstance(data.get("memos"), dict)
        ):
            return {}, ""
        memos = data["memos"]
        lines = body.split("\n")
        for spec, (start, count) in data.get("packed", {}).items():
            memos[spec] = _unpack(lines[start : start + count], count)
    except (OSError, ValueError, KeyError, TypeError):
        return {}, ""
    return memos, text


def save_memos(directory: Path, memos: dict[str, dict], was: str) -> None:
    """Write the memos unless they are still the text they were read from (``was``; "" when
    they changed or there was none). A memo of string lists (the tags source's: 2,500 tags
    make 350 KB of JSON, 4 ms to parse) is packed as lines, split back in C."""
    if was:
        return
    try:
        _save_memos(directory, memos)
    except OSError as err:
        not_saved(directory, err)


def _save_memos(directory: Path, memos: dict[str, dict]) -> None:
    plain, packed, lines = {}, {}, []
    for spec, memo in memos.items():
        rows = _pack(memo)
        if rows is None:
            plain[spec] = memo
        else:
            packed[spec] = [len(lines), len(rows)]
            lines += rows
    head = {"format": FORMAT, "scorer_version": __version__, "memos": plain, "packed": packed}
    text = json.dumps(head, separators=(",", ":")) + "\n" + "\n".join(lines)
    _write_atomic(Path(directory) / SOURCES_FILE, text.encode("utf-8"))


def _pack(memo: dict) -> list[str] | None:
    rows = []
    for key, value in memo.items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None
        row = "\x1f".join([key, *value])
        if "\n" in row or "\x1e" in row or row.count("\x1f") != len(value):
            return None
        rows.append(row)
    return rows


def _unpack(lines: list[str], count: int) -> dict:
    out = {}
    for row in lines:
        key, *value = row.split("\x1f")
        out[key] = value
    if len(out) != count:
        raise ValueError("packed memo of the wrong length")
    return out
