"""The one atomic writer: reports, org outputs and cache files all go through here, so that a
reader never sees half a file and a failed write (full disk, a directory where the file
should be) leaves the old file as it was.

* :func:`replace_file` — the mechanism: a uniquely named temp file beside the target
  (``.NAME.PID.HEX.tmp``; the PID lets a later run tell a dead writer's leftovers, see
  ``incremental.cache.sweep_temp``), filled, optionally fsynced, renamed into place; on any
  failure the temp file is removed and the OSError raised.
* :func:`write_atomic` — report files: UTF-8 text, fsynced; an OSError becomes one
  :class:`InputError` line that names the file.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable
from pathlib import Path

from scorer.errors import InputError


def temp_name(path: Path) -> Path:
    """A fresh temp file name beside ``path``."""
    return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new, empty, uniquely named file beside ``path``, opened for writing (what
    ``tempfile.mkstemp`` does; importing tempfile costs every run ~10 ms)."""
    for _ in range(100):
        tmp = temp_name(path)
        try:
            return os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused temporary file name in {path.parent}")


def replace_file(
    path: str | os.PathLike, fill: Callable[[io.BufferedWriter], object], *, sync: bool = True
) -> None:
    """Write ``path`` as ``fill(binary file)`` writes it, all or nothing. ``sync``: fsync
    before the rename (reports; a cache, checked by its checksums, skips the cost)."""
    path = Path(path)
    if not str(path.parent):
        path = Path(".") / path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with open(fd, "wb", closefd=True) as fh:
            fill(fh)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | os.PathLike, text: str | Callable[[io.TextIOWrapper], object]) -> None:
    """Write a report file: ``text``, or what ``text(file)`` writes to a UTF-8 text file. A
    failure is one line (InputError naming the file); the old file is left intact."""

    def fill(fh: io.BufferedWriter) -> None:
        if isinstance(text, str):
            fh.write(text.encode("utf-8"))
            return
        wrapper = io.TextIOWrapper(fh, encoding="utf-8", newline="\n")
        try:
            text(wrapper)
            wrapper.flush()
        finally:
            wrapper.detach()  # the binary file is closed by replace_file

    try:
        replace_file(path, fill)
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror or err}", path=str(path)) from None
