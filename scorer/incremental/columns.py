"""Commit-table columns that live in one buffer, as a cache file stores them.

A warm incremental run must not spend 50 ms turning 100k cached SHAs and subjects back into
Python strings (and a dict over them) when it will look at a few hundred. These columns keep
the cached bytes as they were read and decode one row on demand; rows a run appends go into
small Python structures. A cold scan builds plain lists instead: for it, appending one string
per commit is cheaper than any buffer.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import pairwise

# After this many lookups of cached SHAs, an index builds a real dict (a scan costs ~0.3 ms
# over 100k SHAs, the dict ~20 ms once).
_SCANS_BEFORE_DICT = 32


class ShaColumn(Sequence[str]):
    """Hex SHAs, stored as raw bytes (20 or 32 per row). The bytes may come from a loader,
    called on the first read of a cached row: appending rows does not need them."""

    def __init__(
        self,
        raw: bytes = b"",
        width: int = 20,
        loader: Callable[[], bytes] | None = None,
        count: int | None = None,
    ):
        self.width = width
        self._loaded = bytes(raw) if loader is None else None
        self._loader = loader
        self._cached = len(raw) // width if count is None else count
        self._new: list[str] = []

    @property
    def _raw(self) -> bytes:
        if self._loaded is None:
            raw = self._loader()  # type: ignore[misc]
            if len(raw) != self._cached * self.width:
                raise ValueError("SHA column of the wrong length")
            self._loaded = raw
        return self._loaded

    def __len__(self) -> int:
        return self._cached + len(self._new)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if i < self._cached:
            w = self.width
            return self._raw[i * w : i * w + w].hex()
        return self._new[i - self._cached]

    def __iter__(self) -> Iterator[str]:
        raw, w = self._raw, self.width
        for i in range(self._cached):
            yield raw[i * w : i * w + w].hex()
        yield from self._new

    def append(self, sha: str) -> None:
        self._new.append(sha)

    def cached_rows_with_prefix(self, prefix: str, limit: int = 2) -> list[int]:
        """Cached rows whose SHA starts with the hex ``prefix`` (at most ``limit``)."""
        even = prefix[: len(prefix) // 2 * 2]
        try:
            needle = bytes.fromhex(even)
        except ValueError:
            return []
        odd = prefix[len(even) :]
        raw, w, out = self._raw, self.width, []
        pos = raw.find(needle)
        while pos >= 0 and len(out) < limit:
            row, offset = divmod(pos, w)
            if offset == 0 and (not odd or raw[pos + len(needle)] >> 4 == int(odd, 16)):
                out.append(row)
                pos = raw.find(needle, pos + 1)
            else:  # a match across rows or not at a row start: look further on
                pos = raw.find(needle, pos + 1)
        return out


def sha_rows(shas: Sequence[str], prefix: str, limit: int = 2) -> list[int]:
    """Rows whose SHA starts with ``prefix``, for either kind of column (a list is scanned)."""
    if isinstance(shas, ShaColumn):
        out = shas.cached_rows_with_prefix(prefix, limit)
        base = shas._cached
        out += [base + k for k, s in enumerate(shas._new) if s.startswith(prefix)]
        return out[:limit]
    return [i for i, s in enumerate(shas) if s.startswith(prefix)][:limit]


class ShaIndex(Mapping[str, int]):
    """SHA -> row over a ShaColumn: appended rows in a dict; cached rows found by a scan of
    the buffer until lookups are frequent enough to pay for a dict."""

    def __init__(self, column: ShaColumn):
        self._column = column
        self._new: dict[str, int] = {}
        self._full: dict[str, int] | None = None
        self._scans = 0

    def __setitem__(self, sha: str, row: int) -> None:
        (self._full if self._full is not None else self._new)[sha] = row

    def hint(self, sha: str, row: int) -> None:
        """A cached row known without a scan (the cache says where its head is)."""
        self._new[sha] = row

    def get(self, sha, default=None):  # type: ignore[override]
        if self._full is not None:
            return self._full.get(sha, default)
        row = self._new.get(sha)
        if row is not None:
            return row
        if not isinstance(sha, str) or len(sha) != self._column.width * 2:
            return default
        self._scans += 1
        if self._scans > _SCANS_BEFORE_DICT:
            self._full = {s: i for i, s in enumerate(self._column)}
            return self._full.get(sha, default)
        found = self._column.cached_rows_with_prefix(sha.lower(), 1)
        return found[0] if found and sha == sha.lower() else default

    def __getitem__(self, sha: str) -> int:
        row = self.get(sha)
        if row is None:
            raise KeyError(sha)
        return row

    def __contains__(self, sha: object) -> bool:
        return self.get(sha) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._column)

    def __len__(self) -> int:
        return len(self._column)


class ParentColumn(Sequence[tuple[int, ...]]):
    """Parent rows: the first parent in an int array (-1 for a root), the others of merges in
    a small dict. Most commits have one parent."""

    def __init__(self, first: array, more: dict[int, tuple[int, ...]]):
        self._first = first
        self._more = more

    def __len__(self) -> int:
        return len(self._first)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        more = self._more.get(i)
        if more is not None:
            return more
        p = self._first[i]
        return () if p < 0 else (p,)

    def __setitem__(self, i: int, parents: tuple[int, ...]) -> None:
        self._first[i] = parents[0] if parents else -1
        if len(parents) > 1:
            self._more[i] = tuple(parents)
        else:
            self._more.pop(i, None)

    def append(self, parents: tuple[int, ...]) -> None:
        self._first.append(-1)
        self[len(self._first) - 1] = parents


class TextColumn(Sequence[str]):
    """Short texts (subjects) in one UTF-8 buffer, NUL-separated, decoded one at a time. The
    buffer may come from a loader, called on the first read of a cached row."""

    def __init__(
        self,
        raw: bytes = b"",
        offsets: array | None = None,
        loader: Callable[[], tuple[bytes, array]] | None = None,
        count: int = 0,
    ):
        self._loaded = (raw, offsets if offsets is not None else array("q", [0]))
        self._loader = loader
        self._count = count if loader is not None else len(self._loaded[1]) - 1
        self._new: list[str] = []

    def _data(self) -> tuple[bytes, array]:
        if self._loader is not None:
            raw, offsets = self._loader()
            if len(offsets) != self._count + 1 or offsets[-1] != len(raw):
                raise ValueError("subject column of the wrong length")
            self._loaded, self._loader = (raw, offsets), None
        return self._loaded

    @property
    def _raw(self) -> bytes:
        return self._data()[0]

    @property
    def _offsets(self) -> array:
        return self._data()[1]

    def __len__(self) -> int:
        return self._count + len(self._new)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        cached = self._count
        if i < 0:
            i += len(self)
        if i < cached:
            a, b = self._offsets[i], self._offsets[i + 1]
            return self._raw[a : b - 1].decode("utf-8", "surrogatepass")
        return self._new[i - cached]

    def append(self, text: str) -> None:
        self._new.append(text)

    def run(self, i: int, n: int) -> list[str]:
        """Texts ``i`` to ``i + n`` (the fields of one record: one lookup of the buffer)."""
        if i < 0 or i + n > self._count:
            return [self[k] for k in range(i, i + n)]
        raw, offsets = self._data()
        ends = offsets[i : i + n + 1]
        return [raw[a : b - 1].decode("utf-8", "surrogatepass") for a, b in pairwise(ends)]


def encode_texts(texts: Sequence[str]) -> tuple[bytes, array]:
    """The buffer and offsets a TextColumn reads (each text ends with a NUL)."""
    if isinstance(texts, TextColumn):
        raw, offsets, new = texts._raw, array("q", texts._offsets), texts._new
    else:
        raw, offsets, new = b"", array("q", [0]), texts
    parts = [t.encode("utf-8", "surrogatepass") + b"\0" for t in new]
    total = offsets[-1]
    for part in parts:
        total += len(part)
        offsets.append(total)
    return raw + b"".join(parts), offsets
