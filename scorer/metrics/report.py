"""The period, normalized deployments, the DORA split, per-agent and per-week figures, and
gaming signals (METRIC.md sections 7-9). Pure: values in, the report dict out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

from scorer.model import DeployEvent
from scorer.outcomes.deploys import FAILED, OUTCOMES, PENDING, ROLLED_BACK, SURVIVED, DeployList
from scorer.outcomes.linking import (
    AI,
    AI_HIGH,
    CHANGE,
    COUNTED,
    REVERTED,
    SHIPPED,
    SURVIVED_SHIP,
    TRIVIAL,
    Outcomes,
)
from scorer.outcomes.table import CommitTable
from scorer.util.sha import sha256
from scorer.util.times import iso, micros

SCHEMA_VERSION = 1
PERIOD = timedelta(days=28)
TREND_WEEKS = 12
AI_CHANGE_LIST_LIMIT = 200
BURST_MIN = 3
# Buckets of changes by outcome; the first that applies wins, in this order of precedence:
# reverted, trivial, unshipped, survived (shipped by a survived deploy), shipped_not_survived.
CHANGE_OUTCOMES = (
    "survived",
    "shipped_not_survived",
    "unshipped",
    "reverted",
    "trivial",
)  # trivial AI changes by one author in one UTC day that make a burst


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
    """``[now - window - 28d, now - window)`` unless overridden: the newest fully judged weeks."""
    judged_until = now - window
    if until is None:
        until = judged_until if since is None else max(judged_until, since + timedelta(days=1))
    if since is None:
        since = until - PERIOD
    return Period(since=since, until=until, partial=until > judged_until)


def contributor_hash(email: str) -> str:
    return sha256(email.strip().lower().encode("utf-8")).hexdigest()


def _ratio(num: float, den: float) -> float:
    return round(num / den, 6) if den else 0.0


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _median(values: list[float]) -> float:
    """``statistics.median`` (importing statistics costs a per-merge run ~9 ms)."""
    vals = sorted(values)
    mid = len(vals) // 2
    return vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2


def _median_hours(values: Iterable[float], keep_zero: bool = False) -> float | None:
    vals = [v for v in values if v > 0 or (keep_zero and v == 0)]
    return round(_median(vals) / 3600, 3) if vals else None


def build_report(
    *,
    repository: dict,
    commits: CommitTable,
    outcomes: Outcomes,
    unknown_deploys: Sequence[DeployEvent],
    ignored_deploys: dict[str, int],
    now: datetime,
    window: timedelta,
    period: Period,
    min_confidence: str,
    settings: dict,
    missing_objects: int = 0,
    generated_at: datetime | None = None,
) -> dict:
    deploys = outcomes.deploys
    flags, human = outcomes.flags, commits.human
    count = outcomes.count

    # --- history: the whole scanned history -----------------------------------------------
    history = {
        "commits": len(commits),
        "changes": count(CHANGE),
        "ai_changes": count(AI),
        "ai_changes_high": count(AI_HIGH),
        "trivial_ai_changes": count(AI | TRIVIAL),
        "unshipped_ai_changes": count(AI | SHIPPED, AI),
        "reverted_changes": len(outcomes.reverted),
        "reverted_ai_changes": count(AI | REVERTED),
        "counted_ai_changes": count(COUNTED),
        "deploys": len(deploys),
        "deploys_by_outcome": {o: deploys.count_outcome(o) for o in OUTCOMES},
        "deploys_not_in_history": len(unknown_deploys),
        # the first five by time (linking order: the same with or without a cache)
        "deploys_not_in_history_sample": [
            {"id": e.id, "sha": e.sha, "where": e.where} for e in unknown_deploys[:5]
        ],
        "deploys_ignored": dict(sorted(ignored_deploys.items())),
        "missing_objects": missing_objects,
    }

    # --- period -------------------------------------------------------------------------
    lo, hi = period.since.timestamp(), period.until.timestamp()
    in_period = sorted(i for i in commits.authored_between(lo, hi) if flags[i] & CHANGE)
    period_ai = [i for i in in_period if flags[i] & AI]
    contributors = sorted({commits.email(i) for i in in_period if human[i]})
    since_us, until_us = micros(period.since), micros(period.until)
    period_deploys = deploys.between(since_us, until_us)
    codes = deploys.code
    survived = [p for p in period_deploys if codes[p] == _SURVIVED]
    ai_survived = [p for p in survived if _ships_counted(deploys, p, flags)]
    weeks = period.weeks
    n_people = len(contributors)
    nd = _ratio(len(ai_survived), n_people * weeks) if n_people else 0.0

    period_block = {
        "since": iso(period.since),
        "until": iso(period.until),
        "weeks": round(weeks, 6),
        "partial": period.partial,
        "changes": len(in_period),
        "ai_changes": len(period_ai),
        "attribution_coverage": _ratio(len(period_ai), len(in_period)),
    }
    metric = {
        "normalized_deployments": nd,
        "ai_deploys_survived": len(ai_survived),
        "deploys_survived": len(survived),
        "contributors": n_people,
        "weeks": round(weeks, 6),
        "deploys_survived_per_dev_week": _ratio(len(survived), n_people * weeks),
        "ai_share_of_survived_deploys": _ratio(len(ai_survived), len(survived)),
        "deploys": len(period_deploys),
        "deploys_by_outcome": {
            o: sum(1 for p in period_deploys if codes[p] == k) for k, o in enumerate(OUTCOMES)
        },
        "changes_by_outcome": _changes_by_outcome(in_period, flags),
        "ai_changes_by_outcome": _changes_by_outcome(period_ai, flags),
    }
    if not n_people:
        metric["why_zero"] = "no human authored a change in the period"
    elif not survived:
        metric["why_zero"] = "no deploy in the period survived its rollback window"
    elif not ai_survived:
        metric["why_zero"] = (
            "no surviving deploy in the period shipped an AI-assisted change that counts"
        )

    report = {
        "schema_version": SCHEMA_VERSION,
        "repository": repository,
        "generated_at": iso(generated_at or datetime.now(timezone.utc)),
        "now": iso(now),
        "window_days": round(window.total_seconds() / 86400, 6),
        "min_confidence": min_confidence,
        "settings": settings,
        "history": history,
        "period": period_block,
        "metric": metric,
        "agents": _agents(commits, outcomes, in_period, survived, min_confidence),
        "dora": _dora(commits, outcomes, period_deploys, weeks),
        "weeks": _weekly(commits, outcomes, now, window, period),
        "deploys": [_deploy_row(deploys, p, flags) for p in deploys.between(since_us)],
        "ai_changes": _ai_change_rows(commits, outcomes, in_period, min_confidence),
        "contributors_hashed": sorted(contributor_hash(e) for e in contributors),
        "signals": _signals(commits, outcomes, unknown_deploys, missing_objects),
    }
    return report


_SURVIVED = OUTCOMES.index(SURVIVED)


def _ships_counted(deploys: DeployList, p: int, flags: bytearray) -> bool:
    """Whether deploy ``p`` (survived) shipped a change that counts."""
    return any(flags[c] & COUNTED for c in deploys.shipped_rows(p))


def change_status(i: int, outcomes: Outcomes) -> str:
    """Why a change does or does not count, in one word (first failing condition)."""
    f = outcomes.flags[i]
    if f & COUNTED:
        return "counted"
    if i in outcomes.reverts:
        return "revert"
    if f & REVERTED:
        return "reverted"
    if outcomes.substantive.get(i) is False:
        return "trivial"
    if not f & SHIPPED:
        return "unshipped"
    if f & SURVIVED_SHIP:
        return "survived"  # shipped and survived, but not AI-assisted at min_confidence
    # Shipped, never by a survived deploy: waiting, or every deploy of it was rolled back.
    deploys = outcomes.deploys
    if any(i in deploys.shipped_rows(p) for p in deploys.positions(PENDING)):
        return "pending"
    return "rolled_back"


def _changes_by_outcome(ids: Sequence[int], flags: bytearray) -> dict[str, int]:
    counts = Counter()
    for i in ids:
        f = flags[i]
        if f & REVERTED:
            counts["reverted"] += 1
        elif f & TRIVIAL:
            counts["trivial"] += 1
        elif not f & SHIPPED:
            counts["unshipped"] += 1
        elif f & SURVIVED_SHIP:
            counts["survived"] += 1
        else:
            counts["shipped_not_survived"] += 1
    return {k: counts.get(k, 0) for k in CHANGE_OUTCOMES}


def _agents(commits, outcomes: Outcomes, in_period, survived, min_confidence) -> dict:
    rows: dict[str, dict] = defaultdict(
        lambda: {"changes": 0, "counted_changes": 0, "deploys_survived": 0}
    )
    flags = outcomes.flags
    for i in in_period:
        for agent in commits.agents(i, min_confidence):
            rows[agent]["changes"] += 1
            if flags[i] & COUNTED:
                rows[agent]["counted_changes"] += 1
    for p in survived:
        agents = {
            a
            for c in outcomes.deploys[p].shipped
            if flags[c] & COUNTED
            for a in commits.agents(c, min_confidence)
        }
        for a in agents:
            rows[a]["deploys_survived"] += 1
    return {k: rows[k] for k in sorted(rows)}


def _dora(commits, outcomes: Outcomes, period_deploys, weeks: float) -> dict:
    deploys, flags, first = outcomes.deploys, outcomes.flags, outcomes.first
    split: dict[str, list[int]] = {"ai": [], "non_ai": []}
    for p in period_deploys:
        d = deploys[p]
        touched = d.shipped or d.attempted
        split["ai" if any(flags[c] & AI for c in touched) else "non_ai"].append(p)
    out = {}
    for key, ps in split.items():
        successful = [p for p in ps if deploys[p].outcome != FAILED]
        judged = [p for p in ps if deploys[p].outcome != PENDING]
        bad = [p for p in judged if deploys[p].outcome in (FAILED, ROLLED_BACK)]
        lead = [
            deploys[p].when / 1e6 - commits.author_time[c]
            for p in successful
            for c in deploys[p].shipped
            if first[c] == deploys[p].serial
        ]
        restore = []  # 0 is a restore in the same second; only lead times drop values <= 0
        for p in bad:
            nxt = _next_survived(deploys, p)
            if nxt is not None:
                restore.append((nxt - deploys[p].when) / 1e6)
        out[key] = {
            "deploys": len(ps),
            "successful_deploys": len(successful),
            "deployment_frequency_per_week": _ratio(len(successful), weeks),
            "lead_time_hours_median": _median_hours(lead),
            "change_failure_rate": _ratio(len(bad), len(judged)) if judged else None,
            "failed_or_rolled_back": len(bad),
            "judged_deploys": len(judged),
            "time_to_restore_hours_median": _median_hours(restore, keep_zero=True),
        }
    return out


def _next_survived(deploys: DeployList, p: int) -> int | None:
    """When (microseconds) the next survived deploy of the same environment restored service.
    ``deploys`` is in (environment, time, source order) order, so the position breaks ties of
    time."""
    env, codes = deploys.env_code, deploys.code
    for q in range(p + 1, len(deploys)):
        if env[q] != env[p]:
            break
        if codes[q] == _SURVIVED:
            return deploys.when[q]
    return None


def _week_start(t: datetime) -> datetime:
    day = t.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _weekly(commits, outcomes: Outcomes, now, window, period) -> list[dict]:
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
        if codes[p] == _SURVIVED and 0 <= k < n_weeks:
            surv[k] += 1
            if _ships_counted(deploys, p, flags):
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
                "normalized_deployments": _ratio(ai_surv[k], n) if n else 0.0,
                "ai_deploys_survived": ai_surv[k],
                "deploys_survived": surv[k],
                "contributors": n,
            }
        )
    return rows


def _deploy_row(deploys: DeployList, p: int, flags: bytearray) -> dict:
    d = deploys[p]
    ev = d.event
    row = {
        "id": ev.id,
        "sha": ev.sha,
        "environment": ev.environment,
        "time": iso(ev.time),
        "status": ev.status,
        "source": ev.source,
        "outcome": d.outcome,
        "shipped_changes": len(d.shipped),
        "ai_changes": sum(1 for c in d.shipped if flags[c] & AI),
        "counted_ai_changes": sum(1 for c in d.shipped if flags[c] & COUNTED),
    }
    if d.rolled_back_by is not None:
        row["rolled_back_by"] = d.rolled_back_by
    return row


def _ai_change_rows(commits, outcomes: Outcomes, in_period, min_confidence) -> list[dict]:
    rows = []
    ids = [i for i in in_period if i in commits.evidence]
    ids.sort(key=lambda i: (commits.author_time[i], commits.shas[i]), reverse=True)
    for i in ids[:AI_CHANGE_LIST_LIMIT]:
        c = commits[i]
        first = outcomes.first_deploy(i)
        rows.append(
            {
                "sha": c.sha,
                "subject": c.subject,
                "author_time": iso(_utc(c.author_time)),
                "agents": c.agents("medium"),
                "ai_at_min_confidence": c.ai(min_confidence),
                "status": change_status(i, outcomes),
                "first_deploy": None if first is None else first.event.id,
                "evidence": [
                    {"agent": e.agent, "kind": e.kind, "confidence": e.confidence, "text": e.text}
                    for e in c.evidence
                ],
            }
        )
    return rows


def trivial_rows(outcomes: Outcomes, start: int = 0) -> list[int]:
    """Changes with AI evidence that are not substantive (from row ``start`` on)."""
    return [i for i, ok in outcomes.substantive.items() if not ok and i >= start]


def fold_bursts(commits, rows, bursts: dict[tuple[str, str], list]) -> dict:
    """Add trivial changes ``rows`` to ``bursts``: (author hash, UTC day) -> [count, time and
    SHA of the earliest]. Row numbers differ between a cold and an incremental scan: the
    example is the earliest change, ties broken by SHA, so the report does not."""
    atime, shas = commits.author_time, commits.shas
    for i in rows:
        t, sha = atime[i], shas[i]
        key = (contributor_hash(commits.email(i))[:12], _utc(t).date().isoformat())
        burst = bursts.get(key)
        if burst is None:
            bursts[key] = [1, t, sha]
        else:
            burst[0] += 1
            if (t, sha) < (burst[1], burst[2]):
                burst[1], burst[2] = t, sha
    return bursts


def _signals(commits, outcomes: Outcomes, unknown_deploys, missing_objects) -> list[dict]:
    signals = []
    bursts = outcomes.bursts
    if bursts is None:
        bursts = fold_bursts(commits, trivial_rows(outcomes), {})
    for (_who, day), (count, _time, sha) in sorted(bursts.items()):
        if count >= BURST_MIN:
            signals.append(
                {
                    "kind": "trivial-ai-burst",
                    "detail": f"{count} empty or whitespace-only AI-attributed changes by one "
                    f"author on {day} (e.g. {sha[:12]}); they do not count",
                }
            )
    for x, y in sorted(outcomes.reverted.items(), key=lambda xy: commits.shas[xy[0]]):
        if outcomes.flags[x] & AI and commits.email(x) == commits.email(y):
            signals.append(
                {
                    "kind": "ai-self-revert",
                    "detail": f"AI-assisted change {commits.shas[x][:12]} was reverted by its "
                    f"own author in {commits.shas[y][:12]}; it does not count",
                }
            )
    unknown = [e for ev in commits.evidence.values() for e in ev if e.agent == "other"]
    if unknown:
        sample = "; ".join(sorted({e.text for e in unknown})[:3])
        signals.append(
            {
                "kind": "unknown-agent",
                "detail": f"{len(unknown)} attribution(s) name an agent not in the registry "
                f"(counted as 'other'): {sample}",
            }
        )
    if unknown_deploys:
        sample = ", ".join(f"{e.id} ({e.sha[:12]})" for e in unknown_deploys[:3])
        signals.append(
            {
                "kind": "deploys-not-in-history",
                "detail": f"{len(unknown_deploys)} deploy(s) name commits that are not in the "
                f"scanned history and were ignored: {sample}",
            }
        )
    if missing_objects:
        signals.append(
            {
                "kind": "missing-objects",
                "detail": f"{missing_objects} change(s) were judged without their file contents "
                "(partial clone?): whitespace-only edits among them count as substantive",
            }
        )
    return signals
