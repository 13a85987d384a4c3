"""The GitHub Actions runner environment: step outputs, the job summary, workflow commands.

Everything written here may hold attacker-controlled text, so:

* outputs go to ``GITHUB_OUTPUT`` as ``name<<DELIMITER`` blocks with a random delimiter that is
  checked not to occur in the value (a value can never end the block early and inject another
  output);
* the job summary is appended to ``GITHUB_STEP_SUMMARY`` and bounded to GitHub's 1 MiB per step
  (cut at a line boundary, with a note saying so);
* workflow commands (``::notice::``, ``::warning::``, ``::error::``) escape ``%``, CR and LF in
  the message, and additionally ``:`` and ``,`` in property values, as the runner expects.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from scorer.errors import InputError

SUMMARY_LIMIT = 1024 * 1024  # bytes; GitHub refuses a larger step summary
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def escape_data(value: str) -> str:
    """A workflow command's message."""
    return str(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property value (``file=``, ``title=`` …)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", out: TextIO | None = None, **props: object) -> str:
    """Write ``::name prop=value,…::message`` on its own line and return it."""
    if not _NAME.match(name):
        raise ValueError(f"not a workflow command name: {name!r}")
    shown = ",".join(
        f"{k}={escape_property(str(v))}" for k, v in props.items() if v is not None and v != ""
    )
    line = f"::{name}{' ' + shown if shown else ''}::{escape_data(message)}"
    stream = out or sys.stdout
    stream.write(line + "\n")
    stream.flush()
    return line


def notice(message: str, *, title: str | None = None, out: TextIO | None = None) -> str:
    return command("notice", message, out, title=title)


def warning(message: str, *, title: str | None = None, out: TextIO | None = None) -> str:
    return command("warning", message, out, title=title)


def error(message: str, *, title: str | None = None, out: TextIO | None = None) -> str:
    return command("error", message, out, title=title)


def format_output(name: str, value: str) -> str:
    """One ``GITHUB_OUTPUT`` entry; multi-line safe whatever the value holds."""
    if not _NAME.match(name):
        raise ValueError(f"not an output name: {name!r}")
    value = str(value)
    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter not in value:
            break
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def set_outputs(outputs: Mapping[str, object], path: str | os.PathLike | None) -> None:
    """Append ``outputs`` to the ``GITHUB_OUTPUT`` file (nothing when there is none)."""
    if not path:
        return
    text = "".join(format_output(k, "" if v is None else str(v)) for k, v in outputs.items())
    _append(path, text.encode("utf-8"), "the step outputs")


def bound_utf8(text: str, limit: int, note: str = "") -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8 at a line boundary, ending with
    ``note`` when it had to be cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = max(0, limit - len(note.encode("utf-8")))
    cut = data[:room].decode("utf-8", errors="ignore")
    if "\n" in cut:
        cut = cut[: cut.rindex("\n") + 1]
    return cut + note


def write_summary(markdown: str, path: str | os.PathLike | None, limit: int = SUMMARY_LIMIT) -> int:
    """Append ``markdown`` to the job summary, keeping the file within ``limit`` bytes (other
    steps' text already there counts). Returns the number of bytes written."""
    if not path:
        return 0
    p = Path(path)
    try:
        used = p.stat().st_size if p.exists() else 0
    except OSError as err:
        raise InputError(f"cannot write the job summary: {err.strerror}", path=str(p)) from None
    room = max(0, limit - used)
    note = "\n\n*(summary cut to fit GitHub's 1 MiB step summary limit; see the JSON report)*\n"
    text = bound_utf8(markdown if markdown.endswith("\n") else markdown + "\n", room, note)
    if len(note.encode("utf-8")) > room:
        text = ""
    data = text.encode("utf-8")
    _append(p, data, "the job summary")
    return len(data)


def _append(path: str | os.PathLike, data: bytes, what: str) -> None:
    """Append ``data`` whole or not at all: a failed append (full disk, a directory, no
    permission) is cut back off, so the runner never reads half an output block, and is one
    InputError line."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as err:
        raise InputError(f"cannot write {what}: {err.strerror}", path=str(path)) from None
    size = os.fstat(fd).st_size
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as err:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        raise InputError(f"cannot write {what}: {err.strerror}", path=str(path)) from None
    finally:
        os.close(fd)


def in_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"
