"""Substantive verdicts that outlive the rest of the cache.

A new git-ai note, an edit of the agent registry or of ``.mailmap``, a scorer upgrade: each
throws the commit cache away (its rows depend on them), and the next run is a cold scan that
diffs the report's changes again. A verdict depends on less: the commit, ``exclude_paths`` and
section 1's rule (``diffs.SUBSTANTIVE_RULES``), and on ``git replace`` or grafts where there
are any. So the verdicts are also kept here, under that key alone, and a cold run with a
cache directory asks git only about changes it never judged.

One file, ``scorer-verdicts.cache``: a JSON header line (format, key, id width), then blocks
of ``<length:4><crc32:4>`` and ``length`` bytes of records, each a commit id (binary) and one
byte (1: substantive). A run appends one block of what it learned. A block that does not
check out ends the file (a write cut short): the blocks before it are used, and the next
append rewrites the file without it. Another key or format: the file is started afresh. A
verdict judged without some of its objects (a partial clone) is never kept.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from scorer.git.diffs import SUBSTANTIVE_RULES
from scorer.incremental.cache import not_saved
from scorer.util.atomic import replace_file
from scorer.util.sha import sha256

VERDICTS_FILE = "scorer-verdicts.cache"
FORMAT = 1
_BLOCK = struct.Struct("<II")  # payload length, CRC-32
_MAX_RECORDS = 2_000_000  # a bigger file is started afresh (~42 MB)
_BLOCKS = 512  # then the next append rewrites the file as one block


def verdict_key(exclude_paths: Sequence[str], rewrites: bytes = b"") -> str:
    """What a verdict depends on besides its commit: ``rewrites`` is ``git replace`` and the
    grafts (``scorer.git.log.history_rewrites``), which can give a commit another parent."""
    text = json.dumps([SUBSTANTIVE_RULES, sorted(exclude_paths)])
    return sha256(text.encode() + b"\0" + rewrites).hexdigest()


class _Read:
    def __init__(self, verdicts: dict[str, bool], valid: int, size: int, width: int):
        self.verdicts = verdicts
        self.valid = valid  # bytes of the file that check out
        self.size = size
        self.width = width


def _open(path: Path) -> tuple[bytes, dict, int] | None:
    """The file's bytes, its header, and where its blocks start; None without a header."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    end = data.find(b"\n")
    try:
        header = json.loads(data[:end]) if end > 0 else None
    except ValueError:
        return None
    return (data, header, end + 1) if isinstance(header, dict) else None


def _read(path: Path, key: str) -> _Read | None:
    opened = _open(path)
    if opened is None:
        return None
    data, header, pos = opened
    if (
        header.get("format") != FORMAT
        or header.get("key") != key
        or header.get("width") not in (20, 32)
    ):
        return None
    width = header["width"]
    record = width + 1
    verdicts: dict[str, bool] = {}
    while pos + _BLOCK.size <= len(data):
        length, crc = _BLOCK.unpack_from(data, pos)
        payload = data[pos + _BLOCK.size : pos + _BLOCK.size + length]
        if len(payload) != length or length % record or zlib.crc32(payload) != crc:
            break
        for k in range(0, length, record):
            verdicts[payload[k : k + width].hex()] = payload[k + width] == 1
        pos += _BLOCK.size + length
    return _Read(verdicts, pos, len(data), width)


def load(directory: Path, key: str) -> dict[str, bool]:
    """Commit id -> substantive, for every verdict kept under ``key``."""
    found = _read(directory / VERDICTS_FILE, key)
    return found.verdicts if found is not None else {}


def append(directory: Path, key: str, learned: Mapping[str, bool]) -> None:
    """Keep ``learned`` (commit id -> substantive): one block appended, after a walk of the
    block lengths (a per-merge run reads no verdict back); the file rewritten as one block
    when it is another key's, cut short, or in more than ``_BLOCKS`` blocks. A full disk or a
    read-only directory: the cache's one stderr line, and the run goes on."""
    if not learned:
        return
    width = len(next(iter(learned))) // 2
    try:
        blob = _records(learned)
    except ValueError:
        return  # not commit ids: nothing to keep
    path = directory / VERDICTS_FILE
    try:
        if _appendable(path, key, width):
            with open(path, "ab") as fh:
                fh.write(_BLOCK.pack(len(blob), zlib.crc32(blob)) + blob)
            return
        found = _read(path, key)
        kept = {} if found is None or found.width != width else found.verdicts
        if len(kept) + len(learned) > _MAX_RECORDS:
            kept = {}
        kept.update(learned)
        body = _records(kept)
        header = json.dumps({"format": FORMAT, "key": key, "width": width}).encode() + b"\n"
        block = _BLOCK.pack(len(body), zlib.crc32(body))
        replace_file(path, lambda fh: fh.write(header + block + body), sync=False)
    except OSError as err:
        not_saved(directory, err)  # the cache's one line for its directory


def _records(verdicts: Mapping[str, bool]) -> bytes:
    return b"".join(bytes.fromhex(sha) + (b"\1" if v else b"\0") for sha, v in verdicts.items())


def _appendable(path: Path, key: str, width: int) -> bool:
    """The file is this key's, of ``width``-byte ids, ends where its last block ends, and has
    fewer than ``_BLOCKS`` blocks (lengths walked, checksums left to ``load``)."""
    opened = _open(path)
    if opened is None:
        return False
    data, header, pos = opened
    if header != {"format": FORMAT, "key": key, "width": width}:
        return False
    blocks = 0
    while pos + _BLOCK.size <= len(data) and blocks < _BLOCKS:
        pos += _BLOCK.size + _BLOCK.unpack_from(data, pos)[0]
        blocks += 1
    return pos == len(data) and blocks < _BLOCKS
