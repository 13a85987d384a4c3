"""The headline period (METRIC.md section 7): the newest four weeks whose deploys are all
judged, ``[now - window - 28d, now - window)``, unless ``--since/--until`` say otherwise."""

from __future__ import annotations

from datetime import datetime, timedelta

PERIOD = timedelta(days=28)


WEEK = timedelta(days=7)


class Period:
    """``asked``: set by --since/--until (the weekly trend then covers it alone)."""

    __slots__ = ("asked", "partial", "since", "until")

    def __init__(self, since: datetime, until: datetime, partial: bool, asked: bool = False):
        self.since = since
        self.until = until
        self.partial = partial
        self.asked = asked

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Period) and (self.since, self.until, self.partial) == (
            other.since,
            other.until,
            other.partial,
        )

    def __repr__(self) -> str:
        return f"Period({self.since!r}, {self.until!r}, partial={self.partial})"

    @property
    def weeks(self) -> float:
        return (self.until - self.since).total_seconds() / (7 * 86400)

    def contains(self, t: datetime) -> bool:
        return self.since <= t < self.until

    def buckets(self, before: int = 0) -> list[tuple[datetime, datetime]]:
        """Consecutive 7-day buckets from the period's start (the last one may be shorter),
        preceded by ``before`` whole weeks: developer_weeks and the weekly trend count in
        these (METRIC.md section 7)."""
        out, start = [], self.since - before * WEEK
        while start < self.until:
            end = min(start + WEEK, self.until)
            out.append((start, end))
            start = end
        return out


def headline_period(
    now: datetime, window: timedelta, since: datetime | None = None, until: datetime | None = None
) -> Period:
    """``[now - window - 28d, now - window)`` unless overridden: the newest fully judged weeks.
    A period reaching past ``now - window`` is partial."""
    judged_until = now - window
    asked = since is not None or until is not None
    if until is None:
        until = judged_until if since is None else max(judged_until, since + timedelta(days=1))
    if since is None:
        since = until - PERIOD
    return Period(since=since, until=until, partial=until > judged_until, asked=asked)
