"""The incremental cache: what a scan learned, so that the next run on the same repository
reads only the commits that are new and decides only what can have changed.

Two layers, each with its own key:

* the history: the commit table (parents, times, people after .mailmap, evidence, reverts,
  subjects), generation numbers and substantive verdicts. Keyed by everything besides the
  commits that shapes them: scorer version, agent registry, ``exclude_paths``, ``.mailmap``,
  git-ai notes. Rows are stable, because a warm run only appends rows.
* the outcomes of the last run (``CachedOutcomes``): per-row flags, each row's first deploy,
  every deploy's node, outcome and shipped rows, the reverts. Keyed by the settings that
  shape them (window, environments, min_confidence, deploy sources), by the run's ``now`` and
  by a digest of the deploy events it saw; ``scorer.increment`` decides whether they can be
  carried forward.

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
pull request writes to that pull request's own runs). Columns are read with
``array.frombytes`` and kept as buffers (``scorer.columns``): a warm run decodes the few rows
it looks at, not 100k.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from array import array
from pathlib import Path

from scorer import __version__
from scorer.columns import ParentColumn, ShaColumn, ShaIndex, TextColumn, encode_texts
from scorer.model import Evidence
from scorer.table import CommitTable

FORMAT = 4
FILE_NAME = "scorer-history.cache"
MAGIC = b"SCORER-CACHE\n"
_LEN = struct.Struct("<Q")
_TABLE_SECTIONS = (
    ("shas", ""),
    ("first_parent", "i"),
    ("author_time", "q"),
    ("committer_time", "q"),
    ("person", "i"),
    ("human", ""),
    ("subjects", ""),
    ("subject_offsets", "q"),
    ("generation", "i"),
    ("by_author_time", "i"),
)
_STATE_SECTIONS = (
    ("flags", ""),
    ("first", "i"),
    ("deploy_serial", "i"),
    ("deploy_node", "i"),
    ("deploy_outcome", ""),
    ("ship_offsets", "q"),
    ("ship_rows", "i"),
    ("event_known", ""),
)
_SECTIONS = _TABLE_SECTIONS + _STATE_SECTIONS
OUTCOME_CODES = ("survived", "rolled_back", "failed", "pending")


class CacheInvalid(Exception):
    """The cache cannot be used; ``str(err)`` says why, in a few words."""


class CachedOutcomes:
    """The outcomes of the run that wrote the cache, as ``scorer.increment`` carries them."""

    def __init__(self, meta: dict, sections: dict[str, array | bytes]):
        self.key: str = meta["key"]  # the settings that shaped them
        self.now: float = meta["now"]  # the run's now, as a Unix time
        self.events_digest: str = meta["events_digest"]  # the kept deploy events, in order
        self.rolled_back_by: list[str | None] = meta["rolled_back_by"]  # per deploy
        self.reverted: dict[int, int] = {int(x): y for x, y in meta["reverted"]}
        self.reverters: dict[int, list[int]] = {int(x): ys for x, ys in meta["reverters"]}
        self.fragile: list[str] = meta["fragile"]  # names a new commit could make resolve
        self.flags = bytearray(sections["flags"])
        self.first = sections["first"]
        self.deploy_serial = sections["deploy_serial"]
        self.deploy_node = sections["deploy_node"]
        self.deploy_outcome = sections["deploy_outcome"]
        self.ship_offsets = sections["ship_offsets"]
        self.ship_rows = sections["ship_rows"]
        self.event_known = sections["event_known"]  # per kept event, in order: 1 resolved

    def meta(self) -> dict:
        return {
            "key": self.key,
            "now": self.now,
            "events_digest": self.events_digest,
            "rolled_back_by": self.rolled_back_by,
            "reverted": sorted(self.reverted.items()),
            "reverters": sorted(self.reverters.items()),
            "fragile": self.fragile,
        }

    def sections(self) -> dict[str, bytes]:
        return {
            "flags": bytes(self.flags),
            "first": self.first.tobytes(),
            "deploy_serial": self.deploy_serial.tobytes(),
            "deploy_node": self.deploy_node.tobytes(),
            "deploy_outcome": bytes(self.deploy_outcome),
            "ship_offsets": self.ship_offsets.tobytes(),
            "ship_rows": self.ship_rows.tobytes(),
            "event_known": bytes(self.event_known),
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
        self.generation = generation
        self.verdicts = verdicts if verdicts is not None else {}  # row -> substantive
        self.missing = missing if missing is not None else []  # rows judged without objects
        self.outcomes = outcomes
        # JSON values other stages keep between runs (the compiled agent registry, deploy
        # source memos), each under its own name.
        self.extras = extras if extras is not None else {}


def fingerprint(*parts: object) -> str:
    """A key over everything that shapes the cached values besides the commits themselves."""
    h = hashlib.sha256()
    for part in (FORMAT, __version__, *parts):
        data = part if isinstance(part, bytes) else json.dumps(part, sort_keys=True).encode()
        h.update(_LEN.pack(len(data)) + data)
    return h.hexdigest()


def cache_path(directory: Path) -> Path:
    return Path(directory) / FILE_NAME


def read_header(directory: Path) -> dict:
    """The JSON header alone (no checks): what a cache says about itself."""
    data = cache_path(directory).read_bytes()
    (size,) = _LEN.unpack_from(data, len(MAGIC))
    return json.loads(data[len(MAGIC) + _LEN.size : len(MAGIC) + _LEN.size + size])


def load(directory: Path, key: str) -> CachedHistory:
    """The cached history, or CacheInvalid saying why it cannot be used."""
    path = cache_path(directory)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CacheInvalid("no cache yet") from None
    except OSError as err:
        raise CacheInvalid(f"cannot read {path}: {err.strerror}") from None
    try:
        return _decode(data, key)
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


def _decode(data: bytes, key: str) -> CachedHistory:
    if not data.startswith(MAGIC):
        raise CacheInvalid("not a scorer cache file")
    if (
        len(data) < len(MAGIC) + 4
        or zlib.crc32(memoryview(data)[:-4]).to_bytes(4, "little") != data[-4:]
    ):
        raise CacheInvalid("corrupt cache file (checksum)")
    end = len(data) - 4
    pos = len(MAGIC)

    def take() -> bytes:
        nonlocal pos
        (size,) = _LEN.unpack_from(data, pos)
        pos += _LEN.size
        if pos + size > end:
            raise CacheInvalid("truncated cache file")
        chunk = data[pos : pos + size]
        pos += size
        return chunk

    meta = json.loads(take())
    if meta.get("format") != FORMAT or meta.get("scorer_version") != __version__:
        raise CacheInvalid(
            f"made by scorer {meta.get('scorer_version')} (cache format {meta.get('format')})"
        )
    if meta.get("key") != key:
        raise CacheInvalid("agent registry, exclude_paths, .mailmap or git-ai notes changed")
    sections: dict[str, array | bytes] = {}
    for name, code in _SECTIONS:
        chunk = take()
        if code:
            arr = array(code)
            arr.frombytes(chunk)
            sections[name] = arr
        else:
            sections[name] = chunk
    if pos != end:
        raise CacheInvalid("trailing bytes in cache file")
    n = meta["rows"]
    table = _decode_table(meta, sections, n)
    generation = sections["generation"]
    if len(generation) != n:
        raise CacheInvalid("corrupt cache file (columns)")
    outcomes = None
    if meta.get("outcomes"):
        outcomes = CachedOutcomes(meta["outcomes"], sections)
        if len(outcomes.flags) != n or len(outcomes.first) != n:
            raise CacheInvalid("corrupt cache file (outcomes)")
        d = len(outcomes.deploy_serial)
        if {
            len(outcomes.deploy_node),
            len(outcomes.deploy_outcome),
            len(outcomes.rolled_back_by),
        } != {d} or len(outcomes.ship_offsets) != d + 1:
            raise CacheInvalid("corrupt cache file (deploys)")
        if outcomes.ship_offsets[-1] != len(outcomes.ship_rows):
            raise CacheInvalid("corrupt cache file (deploys)")
    return CachedHistory(
        head=meta["head"],
        table=table,
        generation=generation,
        verdicts={int(r): bool(v) for r, v in meta["verdicts"].items()},
        missing=[int(r) for r in meta["missing"]],
        outcomes=outcomes,
        extras=meta.get("extras", {}),
    )


def _decode_table(meta: dict, sections: dict, n: int) -> CommitTable:
    table = CommitTable()
    width = meta["sha_width"]  # bytes: 20, or 32 in a SHA-256 repository
    if width not in (20, 32) or len(sections["shas"]) != width * n:
        raise CacheInvalid("corrupt cache file (shas)")
    shas = ShaColumn(sections["shas"], width)
    table.shas = shas
    table.index = ShaIndex(shas)
    first = sections["first_parent"]
    if len(first) != n:
        raise CacheInvalid("corrupt cache file (parents)")
    more: dict[int, tuple[int, ...]] = {}
    for row, rest in meta["more_parents"].items():
        r = int(row)
        if first[r] < 0 or any(not 0 <= p < n for p in rest):
            raise CacheInvalid("corrupt cache file (merge parents)")
        more[r] = (first[r], *rest)
    table.parents = ParentColumn(first, more)
    table.author_time = sections["author_time"]
    table.committer_time = sections["committer_time"]
    table.person = sections["person"]
    table.people = [(name, email) for name, email in meta["people"]]
    table._people_ix = {p: i for i, p in enumerate(table.people)}
    table.human = bytearray(sections["human"])
    offsets = sections["subject_offsets"]
    if len(offsets) != n + 1 or offsets[0] != 0 or offsets[-1] != len(sections["subjects"]):
        raise CacheInvalid("corrupt cache file (subjects)")
    table.subjects = TextColumn(sections["subjects"], offsets)
    order = sections["by_author_time"]
    table.by_author_time = order if len(order) == n else None
    table.missing_parents = meta["missing_parents"]
    lengths = {len(table.author_time), len(table.committer_time), len(table.person)}
    if (
        lengths != {n}
        or len(table.human) != n
        or (table.person and max(table.person) >= len(table.people))
    ):
        raise CacheInvalid("corrupt cache file (columns)")
    table.evidence = {
        int(row): tuple(Evidence(*e) for e in items) for row, items in meta["evidence"].items()
    }
    table.reverts = {int(row): tuple(v) for row, v in meta["reverts"].items()}
    if any(not 0 <= r < n for r in (*table.evidence, *table.reverts)):
        raise CacheInvalid("corrupt cache file (sparse rows)")
    return table


def save(directory: Path, key: str, state: CachedHistory) -> None:
    """Write the cache atomically (temp file + rename): a reader never sees half of one."""
    table = state.table
    n = len(table)
    shas = table.shas
    if isinstance(shas, ShaColumn):
        sha_bytes, width = shas.to_bytes(), shas.width
    else:
        sha_bytes = bytes.fromhex("".join(shas))
        width = len(sha_bytes) // n if n else 20
    parents = table.parents
    if isinstance(parents, ParentColumn):
        first_parent, more = parents._first, parents._more
    else:
        first_parent = array("i", [ps[0] if ps else -1 for ps in parents])
        more = {r: ps for r, ps in enumerate(parents) if len(ps) > 1}
    outcomes = state.outcomes
    meta = {
        "format": FORMAT,
        "scorer_version": __version__,
        "key": key,
        "head": state.head,
        "rows": n,
        "sha_width": width,
        "people": table.people,
        "missing_parents": table.missing_parents,
        "evidence": {
            str(r): [[e.agent, e.kind, e.text, e.confidence] for e in ev]
            for r, ev in table.evidence.items()
        },
        "reverts": {str(r): list(v) for r, v in table.reverts.items()},
        "verdicts": {str(r): v for r, v in state.verdicts.items()},
        "missing": state.missing,
        "more_parents": {str(r): list(ps[1:]) for r, ps in more.items()},
        "outcomes": outcomes.meta() if outcomes is not None else None,
        "extras": state.extras,
    }
    subjects, offsets = encode_texts(table.subjects)
    sections = {
        "shas": sha_bytes,
        "first_parent": first_parent.tobytes(),
        "author_time": table.author_time.tobytes(),
        "committer_time": table.committer_time.tobytes(),
        "person": _ints(table.person),
        "human": bytes(table.human),
        "subjects": subjects,
        "subject_offsets": offsets.tobytes(),
        "generation": _ints(state.generation[:n]),
        "by_author_time": table.sort_by_author_time().tobytes(),
    }
    sections.update(outcomes.sections() if outcomes is not None else {})
    header = json.dumps(meta, separators=(",", ":")).encode()
    parts = [MAGIC, _LEN.pack(len(header)), header]
    for name, _ in _SECTIONS:
        chunk = sections.get(name, b"")
        parts += [_LEN.pack(len(chunk)), chunk]
    body = b"".join(parts)
    _write_atomic(cache_path(directory), body + zlib.crc32(body).to_bytes(4, "little"))


def _ints(values) -> bytes:
    return (
        values.tobytes()
        if isinstance(values, array) and values.typecode == "i"
        else (array("i", values).tobytes())
    )


def _write_atomic(path: Path, data: bytes) -> None:
    """Temp file beside ``path``, then rename: a reader never sees half a cache. (No
    tempfile: importing it costs a per-merge run ~10 ms.)"""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with open(fd, "wb", closefd=True) as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
