"""The weekly trend (section 7): normalized deployments week by week."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from scorer.metrics.deploys import SURVIVED_CODE, ships_counted
from scorer.metrics.normalized import per_developer_week
from scorer.outcomes.flags import CHANGE, Outcomes
from scorer.util.times import iso, micros

TREND_WEEKS = 12


def _week_start(t: datetime) -> datetime:
    day = t.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def weekly(commits, outcomes: Outcomes, now, window, period) -> list[dict]:
    deploys, flags, human = outcomes.deploys, outcomes.flags, commits.human
    last = _week_start(now)
    first = min(_week_start(period.since), last - timedelta(weeks=TREND_WEEKS - 1))
    first_ts, week_s = first.timestamp(), 7 * 86400
    n_weeks = int((last - first).total_seconds() // week_s) + 1
    people: list[set[str]] = [set() for _ in range(n_weeks)]
    for i in commits.authored_between(first_ts, first_ts + n_weeks * week_s):
        if human[i] and flags[i] & CHANGE:
            people[int((commits.author_time[i] - first_ts) // week_s)].add(commits.email(i))
    surv = [0] * n_weeks
    ai_surv = [0] * n_weeks
    codes = deploys.code
    for p in deploys.between(micros(first), micros(first + timedelta(weeks=n_weeks))):
        k = int((deploys.when[p] / 1e6 - first_ts) // week_s)
        if codes[p] == SURVIVED_CODE and 0 <= k < n_weeks:
            surv[k] += 1
            if ships_counted(deploys, p, flags):
                ai_surv[k] += 1
    judged_until = now - window
    rows = []
    for k in range(n_weeks):
        start = first + timedelta(weeks=k)
        year, week, _ = start.isocalendar()
        n = len(people[k])
        rows.append(
            {
                "week": f"{year}-W{week:02d}",
                "start": iso(start),
                "complete": start + timedelta(weeks=1) <= judged_until,
                "normalized_deployments": round(per_developer_week(ai_surv[k], n, 1), 6),
                "ai_deploys_survived": ai_surv[k],
                "deploys_survived": surv[k],
                "contributors": n,
            }
        )
    return rows
