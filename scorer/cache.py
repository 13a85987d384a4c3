"""The incremental cache: what a scan learned per commit and per deploy range, so that the
next run on the same repository reads only the commits that are new.

What is kept: the commit table (parents, times, people after .mailmap, evidence, reverts,
subjects), generation numbers, substantive verdicts, and the graph walks of deploy ranges and
rollback checks. Everything is keyed by row number, which is stable because a warm run only
appends rows.

When it is thrown away (one stderr line says why, and the run is a cold scan): another scorer
version or cache format, another agent registry or ``exclude_paths``, another ``.mailmap``,
new git-ai notes, a history that no longer contains the cached head (force-push), a cache from
another repository, or a file that cannot be read back exactly (corrupt, truncated, foreign).
Settings that do not shape the cached values (window, environments, deploy sources, period)
do not invalidate it.

The format is a small JSON header plus length-prefixed binary columns and a CRC-32, never
pickle: a cache restored from CI storage must not be able to run code, and a damaged one must
be noticed, not half-used.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from scorer import __version__
from scorer.model import Evidence
from scorer.table import CommitTable

FORMAT = 3
FILE_NAME = "scorer-history.cache"
MAGIC = b"SCORER-CACHE\n"
_LEN = struct.Struct("<Q")
# Most commits have one parent: the first parent is a column (-1 for a root commit), the rest
# of a merge's parents are sparse.
_SECTIONS = (
    "shas",
    "first_parent",
    "author_time",
    "committer_time",
    "person",
    "human",
    "subjects",
    "generation",
)


class CacheInvalid(Exception):
    """The cache cannot be used; ``str(err)`` says why, in a few words."""


@dataclass
class CachedHistory:
    head: str
    table: CommitTable
    generation: list[int]
    verdicts: dict[int, bool] = field(default_factory=dict)  # row -> substantive
    missing: list[int] = field(default_factory=list)  # rows judged without all their objects
    only_in: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    ancestor: dict[tuple[int, int], bool] = field(default_factory=dict)


def fingerprint(*parts: object) -> str:
    """A key over everything that shapes the cached values besides the commits themselves."""
    h = hashlib.sha256()
    for part in (FORMAT, __version__, *parts):
        data = part if isinstance(part, bytes) else json.dumps(part, sort_keys=True).encode()
        h.update(_LEN.pack(len(data)) + data)
    return h.hexdigest()


def cache_path(directory: Path) -> Path:
    return Path(directory) / FILE_NAME


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
    body, crc = data[:-4], data[-4:]
    if len(data) < len(MAGIC) + 4 or zlib.crc32(body).to_bytes(4, "little") != crc:
        raise CacheInvalid("corrupt cache file (checksum)")
    data = body
    pos = len(MAGIC)

    def take() -> bytes:
        nonlocal pos
        (size,) = _LEN.unpack_from(data, pos)
        pos += _LEN.size
        if pos + size > len(data):
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
    sections = {name: take() for name in _SECTIONS}
    if pos != len(data):
        raise CacheInvalid("trailing bytes in cache file")
    n = meta["rows"]

    def ints(name: str, code: str) -> array:
        arr = array(code)
        arr.frombytes(sections[name])
        return arr

    table = CommitTable()
    raw = sections["shas"].decode("ascii")
    width = meta["sha_width"]  # 40, or 64 in a SHA-256 repository
    if width not in (40, 64) or len(raw) != width * n:
        raise CacheInvalid("corrupt cache file (shas)")
    table.shas = [raw[i : i + width] for i in range(0, width * n, width)]
    table.index = {sha: i for i, sha in enumerate(table.shas)}
    first = ints("first_parent", "l")
    if len(first) != n or (n and (min(first) < -1 or max(first) >= n)):
        raise CacheInvalid("corrupt cache file (parents)")
    parents: list[tuple[int, ...]] = [(p,) if p >= 0 else () for p in first]
    for row, rest in meta["more_parents"].items():
        r = int(row)
        if not parents[r] or any(not 0 <= p < n for p in rest):
            raise CacheInvalid("corrupt cache file (merge parents)")
        parents[r] = (parents[r][0], *rest)
    table.parents = parents
    table.author_time = ints("author_time", "q")
    table.committer_time = ints("committer_time", "q")
    table.person = ints("person", "l")
    table.people = [(name, email) for name, email in meta["people"]]
    table._people_ix = {p: i for i, p in enumerate(table.people)}
    table.human = bytearray(sections["human"])
    subjects = sections["subjects"].decode("utf-8", "surrogatepass")
    table.subjects = subjects.split("\0") if n else []
    table.missing_parents = meta["missing_parents"]
    generation = list(ints("generation", "l"))
    lengths = {
        len(table.author_time),
        len(table.committer_time),
        len(table.person),
        len(table.human),
        len(table.subjects),
        len(generation),
    }
    if lengths != {n} or (table.person and max(table.person) >= len(table.people)):
        raise CacheInvalid("corrupt cache file (columns)")
    table.evidence = {
        int(row): tuple(Evidence(*e) for e in items) for row, items in meta["evidence"].items()
    }
    table.reverts = {int(row): tuple(v) for row, v in meta["reverts"].items()}
    if any(not 0 <= r < n for r in (*table.evidence, *table.reverts)):
        raise CacheInvalid("corrupt cache file (sparse rows)")
    return CachedHistory(
        head=meta["head"],
        table=table,
        generation=generation,
        verdicts={int(r): bool(v) for r, v in meta["verdicts"].items()},
        missing=[int(r) for r in meta["missing"]],
        only_in={(a, b): rows for a, b, rows in meta["only_in"]},
        ancestor={(a, b): bool(v) for a, b, v in meta["ancestor"]},
    )


def save(directory: Path, key: str, state: CachedHistory) -> None:
    """Write the cache atomically (temp file + rename): a reader never sees half of one."""
    table = state.table
    n = len(table)
    meta = {
        "format": FORMAT,
        "scorer_version": __version__,
        "key": key,
        "head": state.head,
        "rows": n,
        "sha_width": len(table.shas[0]) if n else 40,
        "people": table.people,
        "missing_parents": table.missing_parents,
        "evidence": {
            str(r): [[e.agent, e.kind, e.text, e.confidence] for e in ev]
            for r, ev in table.evidence.items()
        },
        "reverts": {str(r): list(v) for r, v in table.reverts.items()},
        "verdicts": {str(r): v for r, v in state.verdicts.items()},
        "missing": state.missing,
        "only_in": [[a, b, v] for (a, b), v in state.only_in.items()],
        "ancestor": [[a, b, int(v)] for (a, b), v in state.ancestor.items()],
        "more_parents": {str(r): list(ps[1:]) for r, ps in enumerate(table.parents) if len(ps) > 1},
    }
    sections = {
        "shas": "".join(table.shas).encode("ascii"),
        "first_parent": array("l", [ps[0] if ps else -1 for ps in table.parents]).tobytes(),
        "author_time": table.author_time.tobytes(),
        "committer_time": table.committer_time.tobytes(),
        "person": table.person.tobytes(),
        "human": bytes(table.human),
        "subjects": "\0".join(table.subjects).encode("utf-8", "surrogatepass"),
        "generation": array("l", state.generation[:n]).tobytes(),
    }
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".scorer-cache.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            header = json.dumps(meta, separators=(",", ":")).encode()
            parts = [MAGIC, _LEN.pack(len(header)), header]
            for name in _SECTIONS:
                parts += [_LEN.pack(len(sections[name])), sections[name]]
            crc = 0
            for part in parts:
                crc = zlib.crc32(part, crc)
                fh.write(part)
            fh.write(crc.to_bytes(4, "little"))
        os.replace(tmp, cache_path(directory))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
