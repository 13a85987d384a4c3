"""Write report files so that a reader never sees half of one, and a failure loses nothing."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

from scorer.errors import InputError


def _create_temp(directory: Path, name: str) -> tuple[int, str]:
    """A new, empty, uniquely named file in ``directory``, opened for writing (what
    ``tempfile.mkstemp`` does; importing tempfile costs every run ~10 ms)."""
    for _ in range(100):
        tmp = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused temporary file name in {directory}")


@contextlib.contextmanager
def open_atomic(path: Path | str, *, make_dirs: bool = True) -> Iterator[io.TextIOWrapper]:
    """A text file to write ``path`` through: a temp file beside it, fsynced and renamed into
    place when the block ends, removed if it fails. Created 0o644 minus the umask, as a plain
    ``open()`` would (``tempfile.mkstemp`` makes 0600, and reports are meant to be shared)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        if make_dirs:
            directory.mkdir(parents=True, exist_ok=True)
        elif not directory.is_dir():
            raise InputError("the directory to write into does not exist", path=str(path))
        fd, tmp = _create_temp(directory, path.name)
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror}", path=str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temp file beside ``path``, fsync it, then rename it into place."""
    with open_atomic(path) as fh:
        fh.write(text)
