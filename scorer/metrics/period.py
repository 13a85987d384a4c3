"""The headline period (METRIC.md section 7): the newest four weeks whose deploys are all
judged, ``[now - window - 28d, now - window)``, unless ``--since/--until`` say otherwise."""

from __future__ import annotations

from datetime import datetime, timedelta

PERIOD = timedelta(days=28)


class Period:
    __slots__ = ("partial", "since", "until")

    def __init__(self, since: datetime, until: datetime, partial: bool):
        self.since = since
        self.until = until
        self.partial = partial

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


def headline_period(
    now: datetime, window: timedelta, since: datetime | None = None, until: datetime | None = None
) -> Period:
    """``[now - window - 28d, now - window)`` unless overridden: the newest fully judged weeks.
    A period reaching past ``now - window`` is partial."""
    judged_until = now - window
    if until is None:
        until = judged_until if since is None else max(judged_until, since + timedelta(days=1))
    if since is None:
        since = until - PERIOD
    return Period(since=since, until=until, partial=until > judged_until)
