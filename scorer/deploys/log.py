"""``log:FILE`` — a deploy log as JSON Lines or CSV.

Fields: ``sha`` (required), ``time`` (required, ISO 8601 with offset), ``environment``
(default production), ``status`` (default success; failure, error), ``id`` (default
FILE:LINE). Every bad line is an error naming the file and line: a deploy log is evidence,
and silently skipping a line would silently change the score.

A deploy log is appended to. A JSON Lines log vouches for its past (``events_since``) by its
length, line count and CRC-32 of its bytes (``mark``): when the file still starts with
exactly those bytes, only what follows is read. Anything else (the file shrank, an old line
was edited, the last line was not finished) reads it all, and one line on stderr says why.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

from scorer.deploys.interface import DeploySource, SourceContext
from scorer.errors import InputError
from scorer.model import DeployEvent
from scorer.util.textsafe import one_line
from scorer.util.times import parse_instant

_STATUS_ALIASES = {
    "success": "success",
    "failure": "failure",
    "failed": "failure",
    "error": "error",
}
_FIELDS = {"sha", "time", "environment", "status", "id"}


class LogSource(DeploySource):
    def __init__(self, arg: str | None, environment: str | None) -> None:
        self.arg = arg or ""
        self.environment = environment

    def events(self, ctx: SourceContext) -> Iterator[DeployEvent]:
        data, path = self._read(ctx)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            line = data[: err.start].count(b"\n") + 1
            raise InputError("not UTF-8 text", path=self.arg, line=line) from None
        suffix = path.suffix.lower()
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        if suffix == ".csv" or (
            suffix not in (".jsonl", ".ndjson", ".json") and first and first[0] not in "{["
        ):
            self.mark = None  # a CSV log is read whole every time
            rows = self._csv_rows(text)
        else:
            self.mark = _mark(data)
            rows = self._jsonl_rows(text)
        return (self._event(row, line) for line, row in rows)

    def events_since(self, ctx: SourceContext, mark: str) -> list[DeployEvent] | None:
        """The events of the lines appended since ``mark`` (see the module docstring)."""
        try:
            kind, size, lines, digest = mark.split(" ")
            old_size, old_lines, old_crc = int(size), int(lines), int(digest, 16)
        except ValueError:
            return None
        if kind != _MARK_KIND:
            return None  # another scorer's mark: read it all, silently
        data, _ = self._read(ctx)
        why = None
        if len(data) < old_size:
            why = "it is shorter than at the last run"
        elif zlib.crc32(memoryview(data)[:old_size]) != old_crc:
            why = "lines before its end changed since the last run"
        elif old_size and len(data) > old_size and data[old_size - 1 : old_size] != b"\n":
            why = "its last line was not finished at the last run"
        if why is not None:
            print(
                f"scorer: deploy log {one_line(self.arg)}: {why}; reading all of it",
                file=sys.stderr,
                flush=True,
            )
            return None
        rest = data[old_size:]
        try:
            text = rest.decode("utf-8-sig" if old_size == 0 else "utf-8")
        except UnicodeDecodeError as err:
            line = old_lines + rest[: err.start].count(b"\n") + 1
            raise InputError("not UTF-8 text", path=self.arg, line=line) from None
        # the new mark, from the old one and the appended bytes (no second pass over the log)
        lines = old_lines + rest.count(b"\n")
        self.mark = f"{_MARK_KIND} {len(data)} {lines} {zlib.crc32(rest, old_crc):08x}"
        return [
            self._event(row, line) for line, row in self._jsonl_rows(text, first_line=old_lines + 1)
        ]

    def _read(self, ctx: SourceContext) -> tuple[bytes, Path]:
        path = Path(self.arg)
        if not path.is_absolute():
            path = ctx.base_dir / path
        if ctx.confine_to:
            real = path.resolve()
            if not any(real.is_relative_to(root.resolve()) for root in ctx.confine_to):
                raise InputError(
                    "a deploy log named in the config file must be inside the repository "
                    "(or beside the config file); name others with --deploys log:FILE",
                    path=self.arg,
                )
        try:
            return path.read_bytes(), path
        except FileNotFoundError:
            raise InputError("deploy log not found", path=self.arg) from None
        except OSError as err:
            raise InputError(f"cannot read deploy log: {err.strerror}", path=self.arg) from None

    def _jsonl_rows(self, text: str, first_line: int = 1) -> Iterator[tuple[int, dict]]:
        for n, raw in enumerate(text.split("\n"), start=first_line):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as err:
                raise InputError(f"not valid JSON: {err.msg}", path=self.arg, line=n) from None
            if not isinstance(row, dict):
                raise InputError("each line must be a JSON object", path=self.arg, line=n)
            yield n, row

    def _csv_rows(self, text: str) -> Iterator[tuple[int, dict]]:
        reader = csv.reader(io.StringIO(text, newline=""))
        header: list[str] | None = None
        for row in reader:
            n = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [h.strip().lower() for h in row]
                missing = {"sha", "time"} - set(header)
                if missing:
                    raise InputError(
                        f"CSV header must name the columns sha and time (missing: "
                        f"{', '.join(sorted(missing))})",
                        path=self.arg,
                        line=n,
                    )
                continue
            if len(row) != len(header):
                raise InputError(
                    f"expected {len(header)} columns, found {len(row)}", path=self.arg, line=n
                )
            yield n, dict(zip(header, row, strict=True))

    def _event(self, row: dict, line: int) -> DeployEvent:
        def fail(msg: str) -> InputError:
            return InputError(msg, path=self.arg, line=line)

        unknown = sorted(set(row) - _FIELDS)
        if unknown:
            raise fail(f"unknown field {unknown[0]!r} (fields: id, sha, time, environment, status)")
        sha, when = row.get("sha"), row.get("time")
        for name, value in (("sha", sha), ("time", when)):
            if value is None or value == "":
                raise fail(f"missing field {name!r}")
            if not isinstance(value, str) or not value.strip():
                raise fail(f"field {name!r} must be a non-empty string, not {value!r}")
        try:
            time = parse_instant(when)
        except ValueError as err:
            raise fail(str(err)) from None
        status_raw = row.get("status") or "success"
        status = _STATUS_ALIASES.get(str(status_raw).strip().lower())
        if status is None:
            raise fail(f"unknown status {status_raw!r} (use success, failure or error)")
        env = row.get("environment") or self.environment or "production"
        if not isinstance(env, str):
            raise fail("'environment' must be a string")
        ident = row.get("id")
        return DeployEvent(
            id=str(ident) if ident not in (None, "") else f"{self.arg}:{line}",
            sha=sha.strip(),
            environment=env.strip(),
            time=time,
            status=status,
            where=f"{self.arg}:{line}",
        )


_MARK_KIND = "crc32"


def _mark(data: bytes) -> str:
    """What a run read of a JSON Lines log: its length, its lines and their CRC-32 (it tells
    an edited line from an appended one; the built-in SHA-256 took 0.28 s on a 20 MB log)."""
    lines = data.count(b"\n")
    return f"{_MARK_KIND} {len(data)} {lines} {zlib.crc32(data):08x}"
