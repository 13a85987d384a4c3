"""Developer-weeks and the weekly trend (METRIC.md section 7, v2).

The period is cut into consecutive 7-day buckets from its start (the last may be shorter and
counts by its share of 7 days). A bucket's developer-weeks are the contributors who authored a
substantive change in it, times its share; its normalized deployments are the AI deploys that
survived in it over those developer-weeks. The headline is the same quantity over the period's
buckets, so it is their developer-weeks-weighted mean: one computation serves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from scorer.metrics.deploys import SURVIVED_CODE, ships_counted
from scorer.metrics.normalized import per_developer_week
from scorer.metrics.period import WEEK, Period
from scorer.outcomes.flags import CHANGE, Outcomes
from scorer.util.times import iso, micros

TREND_WEEKS = 12  # buckets the trend shows when the period was not asked for (4 are the period)


class Bucket:
    __slots__ = ("ai_survived", "end", "people", "start", "survived")

    def __init__(self, start: datetime, end: datetime):
        self.start = start
        self.end = end
        self.people: set[str] = set()  # authors of substantive changes (not bots or agents)
        self.survived = 0
        self.ai_survived = 0

    @property
    def share(self) -> float:
        return (self.end - self.start) / WEEK

    @property
    def developer_weeks(self) -> float:
        return len(self.people) * self.share


def buckets(
    commits,
    outcomes: Outcomes,
    verdicts: Mapping[int, bool],
    period: Period,
    before: int = 0,
) -> list[Bucket]:
    """The period's buckets, preceded by ``before`` whole weeks, filled. ``verdicts``: the
    substantive verdict of every change authored in them."""
    out = [Bucket(a, b) for a, b in period.buckets(before)]
    if not out:
        return out
    first = out[0].start.timestamp()
    week_s = WEEK.total_seconds()
    flags, human = outcomes.flags, commits.human
    for i in commits.authored_between(first, period.until.timestamp()):
        if human[i] and flags[i] & CHANGE and verdicts.get(i, True):
            out[int((commits.author_time[i] - first) // week_s)].people.add(commits.email(i))
    deploys, codes = outcomes.deploys, outcomes.deploys.code
    for p in deploys.between(micros(out[0].start), micros(period.until)):
        if codes[p] == SURVIVED_CODE:
            b = out[int((deploys.when[p] / 1e6 - first) // week_s)]
            b.survived += 1
            if ships_counted(deploys, p, flags):
                b.ai_survived += 1
    return out


def report_range(period: Period) -> tuple[float, float]:
    """The author times (Unix seconds, ``[lo, hi)``) of the changes the report needs
    substantive verdicts of, besides those with AI evidence: the trend's weeks."""
    return period.buckets(trend_weeks(period))[0][0].timestamp(), period.until.timestamp()


def person_weeks(commits, rows, start: float) -> list[list[int]]:
    """``rows`` (changes by people) grouped by author and 7-day bucket from ``start``: a
    person counts for a bucket once one of their changes in it is substantive."""
    groups: dict[tuple[int, str], list[int]] = {}
    week_s, human, atime = WEEK.total_seconds(), commits.human, commits.author_time
    for i in rows:
        if human[i]:
            key = (int((atime[i] - start) // week_s), commits.email(i))
            groups.setdefault(key, []).append(i)
    return [groups[k] for k in sorted(groups)]


def trend_weeks(period: Period) -> int:
    """Whole weeks the trend shows before the period: none when --since/--until asked for a
    range (the trend is that range), else enough for TREND_WEEKS buckets in all."""
    return 0 if period.asked else max(0, TREND_WEEKS - len(period.buckets()))


def week_rows(rows: list[Bucket], judged_until: datetime) -> list[dict]:
    """The trend as the report lists it: one row a bucket (its rate 0 without developer-weeks:
    the formats show that as "—" with the reason)."""
    out = []
    for b in rows:
        year, week, _ = b.start.isocalendar()
        dw = b.developer_weeks
        out.append(
            {
                "week": f"{year}-W{week:02d}",
                "start": iso(b.start),
                "until": iso(b.end),
                "days": round((b.end - b.start) / timedelta(days=1), 6),
                "complete": b.end <= judged_until,
                "normalized_deployments": round(per_developer_week(b.ai_survived, dw), 6),
                "ai_deploys_survived": b.ai_survived,
                "deploys_survived": b.survived,
                "contributors": len(b.people),
                "developer_weeks": round(dw, 6),
            }
        )
    return out
