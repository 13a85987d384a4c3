"""Instants and durations as the CLI and deploy logs spell them."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_duration(text: str) -> timedelta:
    """``7d``, ``72h``, ``2w``, ``90m``, ``3600s``; ValueError otherwise."""
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 7d, 72h, 2w)")
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return timedelta(seconds=seconds)


def parse_instant(text: str, *, require_offset: bool = True) -> datetime:
    """ISO 8601 with an offset (``Z`` or ``±HH:MM``). A date alone means midnight UTC.

    Offsets are required for times of day because a deploy log in local time cannot be
    ordered against commit times without one.
    """
    m = _ISO.match(str(text).strip())
    if not m:
        raise ValueError(f"not an ISO 8601 time: {text!r}")
    year, month, day, hh, mm, ss, frac, off = m.groups()
    if hh is not None and off is None and require_offset:
        raise ValueError(f"time has no UTC offset: {text!r} (add Z or +HH:MM)")
    tz = timezone.utc
    if off and off not in ("Z", "z"):
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        return datetime(
            int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), micro, tz
        )
    except ValueError as err:
        raise ValueError(f"not a valid time: {text!r} ({err})") from None


# The Unix seconds a datetime can hold (0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z). git
# stores any number an author writes (a commit "dated" year 10000 is one `git commit-tree`
# away), and datetime raises on what lies outside: such instants are clamped to these bounds.
MIN_UNIX = -62135596800
MAX_UNIX = 253402300799


def clamp_unix(seconds: int) -> int:
    """``seconds`` within [MIN_UNIX, MAX_UNIX], so that every later conversion holds."""
    return MIN_UNIX if seconds < MIN_UNIX else MAX_UNIX if seconds > MAX_UNIX else seconds


def parse_unix(text: str) -> int:
    """A raw git timestamp (``%at``, ``%(creatordate:unix)``) as clamped seconds; an empty or
    unreadable one (git prints nothing for a date it cannot parse) is 0."""
    try:
        return clamp_unix(int(text or 0))
    except ValueError:
        return 0


def from_unix(seconds: int | float) -> datetime:
    """A UTC datetime; instants beyond what datetime holds are clamped, never raised on."""
    return _EPOCH + timedelta(seconds=clamp_unix(int(seconds)))


def odd_dates_signal(author_time: Sequence[int], committer_time: Sequence[int], shas) -> list:
    """The report signal for commits whose dates were clamped (see MIN_UNIX): how many, and
    one of them; [] when there are none. The common case costs a byte search (memchr-fast)
    over the columns, not a pass of Python over 100k values."""
    if not any(
        _holds(col, b) for col in (author_time, committer_time) for b in (MIN_UNIX, MAX_UNIX)
    ):
        return []
    bounds = (MIN_UNIX, MAX_UNIX)
    rows = [
        i
        for i, (at, ct) in enumerate(zip(author_time, committer_time, strict=True))
        if at in bounds or ct in bounds
    ]
    sample = min(shas[i] for i in rows)
    return [
        {
            "kind": "odd-dates",
            "detail": f"{len(rows)} commit(s) carry a date outside years 1-9999 (e.g. "
            f"{sample[:12]}); it was read as the nearest date that can be held",
        }
    ]


def _holds(column: Sequence[int], value: int) -> bool:
    """Whether an int64 column holds ``value``: a search of its bytes, a hit checked for
    alignment (a column that is not an array is searched the slow way)."""
    try:
        data = memoryview(column).cast("B").tobytes()  # type: ignore[arg-type]
    except TypeError:
        return value in column
    if len(data) != 8 * len(column):
        return value in column
    needle = value.to_bytes(8, sys.byteorder, signed=True)
    at = data.find(needle)
    while at >= 0:
        if at % 8 == 0:
            return True
        at = data.find(needle, at + 1)
    return False


def iso(dt: datetime) -> str:
    """UTC, second precision, ``Z`` suffix: stable across machines and time zones."""
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def micros(dt: datetime) -> int:
    """Microseconds since the Unix epoch: exact, where a float timestamp may round."""
    return (dt - _EPOCH) // _MICROSECOND


def from_micros(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)
