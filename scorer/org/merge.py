"""Merge many repositories' report JSON (schema_version 1) into one org report.

Pure aggregation: reports arrive one at a time through :meth:`OrgMerger.add` (the readers in
``scorer.org.sources`` stream them from files, directories, zip files and the GitHub artifacts
API), and only what the org report needs is kept per repository — never the raw report. The
result is a plain dict, the org JSON described below; the formats render it.

Org JSON (``schema_version`` 1)
===============================

``kind``
    ``"scorer-org-report"``.
``generated_at``
    ISO 8601 instant the org report was made.
``inputs``
    ``{"inputs_read": N, "reports_merged": N, "problems": N}``: inputs read (readable or
    not), reports merged (one per repository), problem lines.
``period``
    ``{"aligned": bool, "since": ISO, "until": ISO, "weeks": float|null, "periods": [...]}``.
    ``since``/``until`` span all repositories' headline periods. ``aligned`` is true when
    every repository reported the same period; ``weeks`` is the common period length (null
    when lengths differ). ``periods`` lists each distinct period with its repository count.
``settings``
    Distinct ``window_days`` and ``min_confidence`` values across the reports, with counts.
``repositories``
    One row per repository, sorted by name: ``name``, ``head``, ``ref``, ``generated_at``,
    ``now``, ``source`` (the input it came from), ``window_days``, ``min_confidence``,
    ``period`` (``since``, ``until``, ``weeks``, ``partial``), ``metric`` (the report's
    ``normalized_deployments``, ``ai_deploys_survived``, ``deploys_survived``,
    ``contributors``, ``weeks``, ``deploys_survived_per_dev_week``,
    ``ai_share_of_survived_deploys``), ``coverage`` (``changes``, ``ai_changes``,
    ``attribution_coverage`` of the period), ``agents`` (per agent: ``changes``,
    ``counted_changes``, ``deploys_survived``), ``deploys_by_outcome``,
    ``deploys_not_in_history`` and ``signals`` (a count; the details stay in the repository
    report).
``totals``
    ``repositories``; ``ai_deploys_survived`` and ``deploys_survived`` (sums over the rows);
    ``contributors`` (distinct people across repositories, counted from the reports'
    ``contributors_hashed``; a repository without hashes adds its own count, which can only
    over-count, and is listed in ``problems``); ``contributors_sum`` (the rows' counts added,
    for comparison: people active in several repositories make it larger); ``weeks``;
    ``normalized_deployments``; ``deploys_survived_per_dev_week``;
    ``ai_share_of_survived_deploys`` (``ai_deploys_survived / deploys_survived``); ``changes``,
    ``ai_changes`` and ``attribution_coverage`` of the periods; ``code_survival``
    (METRIC.md section 10): ``ai`` and ``human`` ``surviving_lines`` and ``added_lines``
    summed over the repositories and divided (``rate``; rates are never averaged),
    ``repositories`` with a figure, ``horizon_days`` (null when the reports' horizons
    differ). Each repository row has its own ``code_survival`` (null without one).
``normalized_deployments``
    The org figure, ``sum(ai_deploys_survived) / sum(developer_weeks)`` (METRIC.md v2, the
    formula of ``scorer.metrics.normalized``): each repository's developer-weeks added, so a
    person active in two repositories in one week counts in both, as each repository counts
    them; periods of different lengths add up (``period.aligned`` is false, with a line in
    ``problems``). A metric v1 report counts ``contributors x weeks`` developer-weeks, and v1
    and v2 reports are not merged together unless ``--allow-mixed-versions`` (each report of
    the other version is a ``metric-version`` problem line). 0 without developer-weeks.
``agents``
    Per agent id, summed over repositories: ``changes``, ``counted_changes``,
    ``deploys_survived``, ``repositories``, and ``share_of_survived_deploys``
    (``deploys_survived / totals.deploys_survived``).
``weeks``
    Weekly trend, oldest first: ``week`` (ISO week, ``2026-W07``), ``ai_deploys_survived``,
    ``deploys_survived``, ``repositories`` (how many reported deploys or figures that week),
    ``complete`` (every repository had judged all of that week: it ended ``window`` before the
    repository's ``now``) and ``normalized_deployments`` (that week's AI deploys survived /
    ``developer_weeks`` of v2 reports; v1 reports: ``totals.contributors``). Taken
    from the reports' ``weeks`` entries when they carry ``ai_deploys_survived`` and
    ``deploys_survived``, else counted from their ``deploys`` lists (outcome ``survived``;
    AI when ``counted_ai_changes`` > 0).
``caveats``
    Sentences a reader needs to weigh the figures (coverage is a lower bound, partial periods,
    repositories without contributors or deploys, signals).
``problems``
    One entry per input problem — ``{"kind", "source", "detail"}`` with ``kind`` one of
    ``corrupt``, ``not-a-report``, ``schema-version``, ``invalid``, ``duplicate``,
    ``period-mismatch``, ``settings-mismatch``, ``contributors``, ``no-artifact``, ``fetch``,
    ``metric-version``,
    ``repository-mismatch`` (a GitHub artifact holding another repository's report).
    Nothing is merged or dropped without a line here.

No figure is ever given per person: contributor hashes are only counted, never listed in the
org JSON.

JSON Lines (``--jsonl``)
========================

One repository per line: the ``repositories`` row above plus ``contributors_hashed`` (list of
hex strings, or null when the report had none), ``contributors_salted`` (bool) and ``weeks``
(``[{"week", "ai_deploys_survived", "deploys_survived"}]``). A warehouse counts distinct people
across any set of rows with ``COUNT(DISTINCT h)`` over the unnested hashes. With
``SCORER_ORG_SALT`` set the hashes are re-hashed (HMAC-SHA256 keyed by the salt, the same for
every row and every run with that salt), so the rows cannot be joined to emails by hashing
guessed addresses; counting is unaffected.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from scorer.metrics.normalized import per_developer_week

SCHEMA_VERSION = 1
ORG_KIND = "scorer-org-report"
SUPPORTED_REPORT_VERSIONS = (1,)
SALT_ENV = "SCORER_ORG_SALT"

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")

METRIC_KEYS = (
    "normalized_deployments",
    "ai_deploys_survived",
    "deploys_survived",
    "contributors",
    "weeks",
    "deploys_survived_per_dev_week",
    "ai_share_of_survived_deploys",
)
_INT_METRIC_KEYS = ("ai_deploys_survived", "deploys_survived", "contributors")
OUTCOMES = ("survived", "rolled_back", "failed", "pending")


class ReportInvalid(ValueError):
    """A report that cannot be merged; the message is the one-line detail."""

    def __init__(self, kind: str, detail: str):
        self.kind = kind
        super().__init__(detail)


def problem(kind: str, source: str, detail: str) -> dict:
    return {"kind": kind, "source": source, "detail": detail}


def problem_line(p: dict) -> str:
    """The one-line rendering of a problem, the same in every output."""
    src = f"{p['source']}: " if p.get("source") else ""
    return f"{p['kind']}: {src}{p['detail']}"


def parse_time(value: object, what: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise ReportInvalid("invalid", f"{what} is not an ISO 8601 time")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        t = datetime.fromisoformat(text)
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        return t.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise ReportInvalid("invalid", f"{what} is not an ISO 8601 time: {value[:40]!r}") from None


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def iso_week(t: datetime) -> str:
    y, w, _ = t.astimezone(timezone.utc).isocalendar()
    return f"{y}-W{w:02d}"


def week_end(week: str) -> datetime:
    """The instant an ISO week ends (Monday 00:00 UTC of the next week)."""
    y, w = week.split("-W")
    monday = datetime.fromisocalendar(int(y), int(w), 1).replace(tzinfo=timezone.utc)
    return monday + timedelta(days=7)


_NUM_MAX = 1e12  # no count or duration in a report comes near; beyond it sums overflow


def _num(value: object, what: str, *, integer: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReportInvalid("invalid", f"{what} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ReportInvalid("invalid", f"{what} is not finite")
    if value < 0:
        raise ReportInvalid("invalid", f"{what} is negative")
    if value > _NUM_MAX:
        raise ReportInvalid("invalid", f"{what} is unreasonably large")
    if integer and value != int(value):
        raise ReportInvalid("invalid", f"{what} is not a whole number")
    return int(value) if integer else value


_SLACK = 1e-5  # reports round ratios and weeks to 6 decimals


def _close(value: float, expected: float) -> bool:
    return abs(value - expected) <= _SLACK * max(1.0, abs(expected))


def _consistent(
    metric: dict,
    weeks: float,
    since: datetime,
    until: datetime,
    changes: int,
    ai_changes: int,
    coverage: float,
) -> None:
    """The report's figures agree with each other and with its own period: one forged or
    broken number (``period.weeks: 5e-324`` makes the org figure infinite, ``1e-6`` makes it
    a million) is a problem line, never part of the org figure."""
    span = (until - since).total_seconds() / (7 * 86400)
    if span < 1 / 7 - 1e-9:
        raise ReportInvalid("invalid", "the period is shorter than a day")
    for what, value in (("period.weeks", weeks), ("metric.weeks", metric["weeks"])):
        if not _close(value, span):
            raise ReportInvalid(
                "invalid", f"{what} is {value:.6g} but the period lasts {span:.6g} weeks"
            )
    ai, survived, dw = (
        metric["ai_deploys_survived"],
        metric["deploys_survived"],
        metric["developer_weeks"],
    )
    if ai_changes > changes:
        raise ReportInvalid("invalid", "period.ai_changes exceeds period.changes")
    if not 0 <= dw <= metric["contributors"] * span * (1 + _SLACK) + _SLACK:
        raise ReportInvalid(
            "invalid",
            f"metric.developer_weeks is {dw:.6g}, more than {metric['contributors']} "
            f"contributors over {span:.6g} weeks",
        )
    expected = {
        "metric.normalized_deployments": (
            metric["normalized_deployments"],
            per_developer_week(ai, dw),
        ),
        "metric.deploys_survived_per_dev_week": (
            metric["deploys_survived_per_dev_week"],
            per_developer_week(survived, dw),
        ),
        "metric.ai_share_of_survived_deploys": (
            metric["ai_share_of_survived_deploys"],
            ai / survived if survived else 0.0,
        ),
        "period.attribution_coverage": (coverage, ai_changes / changes if changes else 0.0),
    }
    for what, (value, want) in expected.items():
        if not _close(value, want):
            raise ReportInvalid(
                "invalid", f"{what} is {value:.6g}, but the report's own counts give {want:.6g}"
            )


def _dict(report: dict, key: str, *, required: bool = True) -> dict:
    value = report.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ReportInvalid("invalid", f"{key!r} is missing or not an object")
    return value


def _digest(h: str) -> bytes:
    """32 bytes identifying one person: the hash itself when it is a sha256 hex digest."""
    if _HEX64.fullmatch(h):
        return bytes.fromhex(h)
    return hashlib.sha256(h.encode("utf-8", "surrogatepass")).digest()


def salted(digest: bytes, salt: str | None) -> str:
    """The hash as written to JSON Lines: as the report gave it, or HMAC'd with the org salt."""
    if not salt:
        return digest.hex()
    return hmac.new(salt.encode(), digest.hex().encode(), hashlib.sha256).hexdigest()


@dataclass(slots=True)
class RepoSummary:
    """What the org report keeps of one repository report."""

    key: str  # case-folded name: GitHub names are case-insensitive
    generated: datetime
    row: dict
    contributors: bytes  # concatenated 32-byte digests, sorted, distinct
    has_hashes: bool
    weeks: dict[str, list] = field(default_factory=dict)  # week -> [ai, survived, dev-weeks]
    judged_until: datetime | None = None  # now - window
    since: datetime | None = None
    until: datetime | None = None


def summarize(report: object, source: str) -> tuple[RepoSummary, list[dict]]:
    """Validate one report and keep what the org needs; raises :class:`ReportInvalid`."""
    if not isinstance(report, dict):
        raise ReportInvalid("not-a-report", "not a JSON object")
    if report.get("kind") == ORG_KIND:
        raise ReportInvalid("not-a-report", "an org report, not a repository report")
    if "schema_version" not in report or "repository" not in report:
        raise ReportInvalid("not-a-report", "no schema_version/repository: not a scorer report")
    version = report["schema_version"]
    if version not in SUPPORTED_REPORT_VERSIONS or isinstance(version, bool):
        raise ReportInvalid(
            "schema-version",
            f"schema_version {str(version)[:20]} is not supported (this scorer reads "
            f"{', '.join(map(str, SUPPORTED_REPORT_VERSIONS))}); rescan with a matching scorer",
        )
    notes: list[dict] = []
    repo = _dict(report, "repository")
    name = repo.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ReportInvalid("invalid", "repository.name is missing")
    generated = parse_time(report.get("generated_at"), "generated_at")
    metric_in = _dict(report, "metric")
    metric = {}
    for k in METRIC_KEYS[:5]:
        metric[k] = _num(metric_in.get(k), f"metric.{k}", integer=k in _INT_METRIC_KEYS)
    # metric v2 divides by developer-weeks; a v1 report by contributors x weeks, which is
    # what its developer-weeks would be with every person active every week.
    version = report.get("metric_version", 1)
    if version not in (1, 2) or isinstance(version, bool):
        raise ReportInvalid("schema-version", f"metric_version {str(version)[:20]} is unknown")
    metric["metric_version"] = version
    people, w = metric["contributors"], metric["weeks"]
    metric["developer_weeks"] = (
        _num(metric_in.get("developer_weeks"), "metric.developer_weeks")
        if version == 2
        else people * w
    )
    per_dev = metric_in.get("deploys_survived_per_dev_week")
    metric["deploys_survived_per_dev_week"] = (
        _num(per_dev, "metric.deploys_survived_per_dev_week")
        if per_dev is not None
        else per_developer_week(metric["deploys_survived"], metric["developer_weeks"])
    )
    share = metric_in.get("ai_share_of_survived_deploys")
    metric["ai_share_of_survived_deploys"] = (
        _num(share, "metric.ai_share_of_survived_deploys")
        if share is not None
        else (
            metric["ai_deploys_survived"] / metric["deploys_survived"]
            if metric["deploys_survived"]
            else 0.0
        )
    )
    period_in = _dict(report, "period")
    since = parse_time(period_in.get("since"), "period.since")
    until = parse_time(period_in.get("until"), "period.until")
    if until < since:
        raise ReportInvalid("invalid", "period.until is before period.since")
    weeks = metric["weeks"]
    if "weeks" in period_in:
        weeks = _num(period_in["weeks"], "period.weeks")
    changes = _num(period_in.get("changes", 0), "period.changes", integer=True)
    ai_changes = _num(period_in.get("ai_changes", 0), "period.ai_changes", integer=True)
    coverage = period_in.get("attribution_coverage")
    coverage = (
        _num(coverage, "period.attribution_coverage")
        if coverage is not None
        else (ai_changes / changes if changes else 0.0)
    )
    _consistent(metric, weeks, since, until, changes, ai_changes, coverage)

    agents: dict[str, dict] = {}
    for agent, fig in _dict(report, "agents", required=False).items():
        if not isinstance(fig, dict):
            raise ReportInvalid("invalid", "agents entries must be objects")
        agents[str(agent)] = {
            k: _num(fig.get(k, 0), f"agents.{k}", integer=True)
            for k in ("changes", "counted_changes", "deploys_survived")
        }

    history = _dict(report, "history", required=False)
    outcomes_in = history.get("deploys_by_outcome") or {}
    if not isinstance(outcomes_in, dict):
        raise ReportInvalid("invalid", "history.deploys_by_outcome is not an object")
    outcomes = {
        k: _num(outcomes_in.get(k, 0), f"deploys_by_outcome.{k}", integer=True) for k in OUTCOMES
    }
    not_in_history = _num(
        history.get("deploys_not_in_history", 0), "history.deploys_not_in_history", integer=True
    )
    signals = report.get("signals") or []
    if not isinstance(signals, list):
        raise ReportInvalid("invalid", "signals is not a list")

    hashed = report.get("contributors_hashed")
    has_hashes = isinstance(hashed, list) and (bool(hashed) or metric["contributors"] == 0)
    digests: set[bytes] = set()
    if isinstance(hashed, list):
        for h in hashed:
            if not isinstance(h, str) or not h:
                raise ReportInvalid("invalid", "contributors_hashed holds a non-string")
            digests.add(_digest(h))
    elif hashed is not None:
        raise ReportInvalid("invalid", "contributors_hashed is not a list")
    if not has_hashes:
        notes.append(
            problem(
                "contributors",
                source,
                f"{name}: no contributors_hashed; its {metric['contributors']} contributors are "
                "counted as people no other repository has (the org count may be too high)",
            )
        )
    elif len(digests) != metric["contributors"]:
        notes.append(
            problem(
                "contributors",
                source,
                f"{name}: contributors_hashed has {len(digests)} distinct entries but "
                f"metric.contributors is {metric['contributors']}; the hashes are used",
            )
        )

    now_t = None
    if report.get("now") is not None:
        now_t = parse_time(report.get("now"), "now")
    window_days = report.get("window_days")
    window_days = _num(window_days, "window_days") if window_days is not None else None
    if window_days is not None and not 0 < window_days <= 3660:
        raise ReportInvalid("invalid", "window_days is not between 0 and 10 years")
    judged_until = (
        now_t - timedelta(days=window_days) if now_t and window_days is not None else None
    )

    trend = _weekly(report, judged_until)
    survival = _survival(report.get("code_survival"))

    row = {
        "name": name,
        "head": str(repo.get("head", "")),
        "ref": str(repo.get("ref", "")),
        "generated_at": iso(generated),
        "now": iso(now_t) if now_t else None,
        "source": source,
        "window_days": window_days,
        "min_confidence": report.get("min_confidence")
        if isinstance(report.get("min_confidence"), str)
        else None,
        "period": {
            "since": iso(since),
            "until": iso(until),
            "weeks": weeks,
            "partial": bool(period_in.get("partial", False)),
        },
        "metric": metric,
        "coverage": {
            "changes": changes,
            "ai_changes": ai_changes,
            "attribution_coverage": coverage,
        },
        "agents": dict(sorted(agents.items())),
        "deploys_by_outcome": outcomes,
        "deploys_not_in_history": not_in_history,
        "signals": len(signals),
        "code_survival": survival,
    }
    summary = RepoSummary(
        key=name.casefold(),
        generated=generated,
        row=row,
        contributors=b"".join(sorted(digests)),
        has_hashes=has_hashes,
        weeks=trend,
        judged_until=judged_until,
        since=since,
        until=until,
    )
    return summary, notes


_SURVIVAL_SIDES = ("ai", "human")


def _survival(block: object) -> dict | None:
    """A repository's code survival (METRIC.md section 10): the numerators and denominators
    the org adds up (rates are never averaged). None when the report has no figure."""
    if block is None:
        return None
    if not isinstance(block, dict):
        raise ReportInvalid("invalid", "code_survival is not an object")
    out: dict = {
        "horizon_days": _num(block.get("horizon_days"), "code_survival.horizon_days"),
        "reason": str(block["reason"])[:300] if block.get("reason") else None,
    }
    for side in _SURVIVAL_SIDES:
        fig = block.get(side)
        if not isinstance(fig, dict):
            raise ReportInvalid("invalid", f"code_survival.{side} is not an object")
        kept = _num(fig.get("surviving_lines", 0), f"code_survival.{side}.surviving_lines",
                    integer=True)  # fmt: skip
        added = _num(fig.get("added_lines", 0), f"code_survival.{side}.added_lines", integer=True)
        if kept < 0 or added < 0:
            raise ReportInvalid("invalid", f"code_survival.{side} has a negative count")
        out[side] = {
            "surviving_lines": kept,
            "added_lines": added,
            "rate": round(kept / added, 6) if added else None,
        }
    return out


def _survival_totals(summaries: list[RepoSummary]) -> dict:
    """Code survival across repositories: surviving and added lines summed, then divided."""
    rows = [s.row["code_survival"] for s in summaries if s.row.get("code_survival")]
    horizons = sorted({r["horizon_days"] for r in rows})
    out: dict = {
        "repositories": sum(1 for r in rows if not r["reason"]),
        "horizon_days": horizons[0] if len(horizons) == 1 else None,
    }
    for side in _SURVIVAL_SIDES:
        kept = sum(r[side]["surviving_lines"] for r in rows)
        added = sum(r[side]["added_lines"] for r in rows)
        out[side] = {
            "surviving_lines": kept,
            "added_lines": added,
            "rate": round(kept / added, 6) if added else None,
        }
    return out


def _weekly(report: dict, judged_until: datetime | None) -> dict[str, list]:
    """Per ISO week: [ai_deploys_survived, deploys_survived, developer_weeks (v2 reports;
    0 for older ones)] of one repository."""
    out: dict[str, list[int]] = {}
    weeks = report.get("weeks")
    if (
        isinstance(weeks, list)
        and weeks
        and all(
            isinstance(w, dict) and "ai_deploys_survived" in w and "deploys_survived" in w
            for w in weeks
        )
    ):
        for w in weeks:
            week = w.get("week")
            if not isinstance(week, str) or not re.fullmatch(r"\d{4}-W\d{2}", week):
                raise ReportInvalid("invalid", "weeks[].week is not an ISO week like 2026-W07")
            try:
                week_end(week)
            except ValueError:
                raise ReportInvalid("invalid", f"weeks[].week {week!r} does not exist") from None
            ai = _num(w["ai_deploys_survived"], "weeks[].ai_deploys_survived", integer=True)
            total = _num(w["deploys_survived"], "weeks[].deploys_survived", integer=True)
            dw = w.get("developer_weeks")
            cell = out.setdefault(week, [0, 0, 0.0])
            cell[0] += ai
            cell[1] += total
            if dw is not None:
                cell[2] += _num(dw, "weeks[].developer_weeks")
        return out
    deploys = report.get("deploys") or []
    if not isinstance(deploys, list):
        raise ReportInvalid("invalid", "deploys is not a list")
    envs = report.get("environments")
    if isinstance(envs, list) and not all(isinstance(e, str) for e in envs):
        raise ReportInvalid("invalid", "environments must be a list of strings")
    envs = set(envs) if isinstance(envs, list) else None
    for d in deploys:
        if not isinstance(d, dict):
            raise ReportInvalid("invalid", "deploys entries must be objects")
        if d.get("outcome") != "survived":
            continue
        if envs is not None and d.get("environment") not in envs:
            continue
        week = iso_week(parse_time(d.get("time"), "deploys[].time"))
        cell = out.setdefault(week, [0, 0, 0.0])
        cell[1] += 1
        counted = d.get("counted_ai_changes", 0)
        if isinstance(counted, (int, float)) and not isinstance(counted, bool) and counted > 0:
            cell[0] += 1
    return out


def _names(name: str, repository: str) -> bool:
    """Whether a report's ``repository.name`` names ``repository`` (owner/name): the same,
    case-insensitively, or its name part alone (a report scanned without --repository)."""
    name, repository = name.strip().casefold(), repository.strip().casefold()
    return name == repository or ("/" not in name and name == repository.rsplit("/", 1)[-1])


class OrgMerger:
    """Feed reports one at a time; :meth:`result` builds the org JSON."""

    def __init__(self, salt: str | None = None, allow_mixed_versions: bool = False):
        self.salt = salt or None
        self.allow_mixed_versions = allow_mixed_versions
        self.repos: dict[str, RepoSummary] = {}
        self.problems: list[dict] = []
        self.inputs_read = 0

    def add_problem(self, kind: str, source: str, detail: str) -> None:
        self.problems.append(problem(kind, source, detail))

    def add_unreadable(self, kind: str, source: str, detail: str) -> None:
        """An input that could not be read as a report at all (corrupt file, bad zip, …)."""
        self.inputs_read += 1
        self.add_problem(kind, source, detail)

    def add(self, report: object, source: str, repository: str = "") -> bool:
        """Merge one parsed report. Returns whether it was kept (else a problem says why).
        ``repository``: the repository the input came from (a GitHub artifact's), which the
        report must name; another name is a problem line and the report is not merged."""
        self.inputs_read += 1
        try:
            summary, notes = summarize(report, source)
        except ReportInvalid as err:
            self.add_problem(err.kind, source, str(err))
            return False
        except (ValueError, OverflowError, TypeError, KeyError, AttributeError, IndexError) as err:
            # A report is untrusted input (an artifact): whatever summarize did not foresee is
            # one problem line, never a crash of the whole org report.
            self.add_problem("invalid", source, f"unreadable report ({type(err).__name__})")
            return False
        if repository and not _names(summary.row["name"], repository):
            self.add_problem(
                "repository-mismatch",
                source,
                f"the report is of {summary.row['name'][:100]!r}, but the artifact came from "
                f"{repository}; not merged",
            )
            return False
        old = self.repos.get(summary.key)
        if old is not None:
            keep, drop = (summary, old) if summary.generated > old.generated else (old, summary)
            why = (
                "same generated_at, the one read first is kept"
                if summary.generated == old.generated
                else f"generated {drop.row['generated_at']}, older than "
                f"{keep.row['generated_at']} from {keep.row['source']}"
            )
            self.add_problem(
                "duplicate",
                drop.row["source"],
                f"{drop.row['name']}: a second report of this repository; dropped ({why})",
            )
            if keep is old:
                return False
            # The older report's own notes stay: they are about a file that was read.
        self.repos[summary.key] = summary
        self.problems.extend(notes)
        return True

    def rows(self) -> Iterator[RepoSummary]:
        for key in sorted(self.repos):
            yield self.repos[key]

    def result(self, generated_at: datetime | None = None) -> dict:
        generated_at = generated_at or datetime.now(timezone.utc).replace(microsecond=0)
        summaries = list(self.rows())
        problems = list(self.problems)
        versions = {s.row["metric"]["metric_version"] for s in summaries}
        if len(versions) > 1 and not self.allow_mixed_versions:
            # v1 and v2 figures measure different things (v2: per developer-week, deployed
            # branches included): never added together unless asked for.
            newest = max(versions)
            for s in summaries:
                if s.row["metric"]["metric_version"] != newest:
                    problems.append(
                        problem(
                            "metric-version",
                            s.row["source"],
                            f"{s.row['name'][:100]}: metric v{s.row['metric']['metric_version']}"
                            f" figures are not added to v{newest} ones; rescan it with this "
                            "scorer (or pass --allow-mixed-versions); not merged",
                        )
                    )
            summaries = [s for s in summaries if s.row["metric"]["metric_version"] == newest]

        people: set[bytes] = set()
        unhashed = 0
        for s in summaries:
            c = s.contributors
            people.update(c[i : i + 32] for i in range(0, len(c), 32))
            if not s.has_hashes:
                unhashed += s.row["metric"]["contributors"]
        contributors = len(people) + unhashed

        # Periods and settings.
        periods: dict[tuple[str, str, float], int] = {}
        windows: dict[str, int] = {}
        confidences: dict[str, int] = {}
        for s in summaries:
            p = s.row["period"]
            k = (p["since"], p["until"], p["weeks"])
            periods[k] = periods.get(k, 0) + 1
            windows[str(s.row["window_days"])] = windows.get(str(s.row["window_days"]), 0) + 1
            mc = str(s.row["min_confidence"])
            confidences[mc] = confidences.get(mc, 0) + 1
        lengths = {k[2] for k in periods}
        aligned = len(periods) <= 1
        common_weeks = next(iter(lengths)) if len(lengths) == 1 else None
        if not aligned:
            ordered = sorted(periods.items(), key=lambda kv: (-kv[1], kv[0]))
            shown = "; ".join(
                f"{a[:10]}..{b[:10]} ({w:g} weeks) x{n}" for (a, b, w), n in ordered[:3]
            )
            more = f"; and {len(ordered) - 3} more" if len(ordered) > 3 else ""
            how = "each repository adds its own developer-weeks"
            problems.append(
                problem(
                    "period-mismatch",
                    "",
                    f"{len(periods)} different headline periods: {shown}{more}; {how}. "
                    "Scan with one --now (or --since/--until) to align them",
                )
            )
        if len(windows) > 1 or len(confidences) > 1:
            problems.append(
                problem(
                    "settings-mismatch",
                    "",
                    "repositories were scored with different settings: window_days "
                    + ", ".join(f"{k} x{v}" for k, v in sorted(windows.items()))
                    + "; min_confidence "
                    + ", ".join(f"{k} x{v}" for k, v in sorted(confidences.items())),
                )
            )

        horizons = sorted(
            {s.row["code_survival"]["horizon_days"] for s in summaries if s.row["code_survival"]}
        )
        if len(horizons) > 1:
            problems.append(
                problem(
                    "settings-mismatch",
                    "",
                    "code survival was measured over different horizons ("
                    + ", ".join(f"{h:g}" for h in horizons)
                    + " days): its totals add lines of different ages",
                )
            )

        ai_sum = sum(s.row["metric"]["ai_deploys_survived"] for s in summaries)
        survived_sum = sum(s.row["metric"]["deploys_survived"] for s in summaries)
        changes = sum(s.row["coverage"]["changes"] for s in summaries)
        ai_changes = sum(s.row["coverage"]["ai_changes"] for s in summaries)
        # One formula (METRIC.md v2): AI deploys survived per developer-week, each
        # repository's developer-weeks added (a person active in two repositories in a week
        # counts in both, as each repository counts them); periods of any length add up.
        developer_weeks = sum(s.row["metric"]["developer_weeks"] for s in summaries)
        nd = per_developer_week(ai_sum, developer_weeks)
        per_dev = per_developer_week(survived_sum, developer_weeks)

        agents: dict[str, dict] = {}
        for s in summaries:
            for agent, fig in s.row["agents"].items():
                a = agents.setdefault(
                    agent,
                    {"changes": 0, "counted_changes": 0, "deploys_survived": 0, "repositories": 0},
                )
                for k in ("changes", "counted_changes", "deploys_survived"):
                    a[k] += fig[k]
                a["repositories"] += 1
        for a in agents.values():
            a["share_of_survived_deploys"] = (
                a["deploys_survived"] / survived_sum if survived_sum else 0.0
            )
        agents = dict(sorted(agents.items(), key=lambda kv: (-kv[1]["deploys_survived"], kv[0])))

        trend: dict[str, dict] = {}
        for s in summaries:
            for week, (ai, total, dw) in s.weeks.items():
                t = trend.setdefault(
                    week,
                    {
                        "week": week,
                        "ai_deploys_survived": 0,
                        "deploys_survived": 0,
                        "developer_weeks": 0.0,
                        "repositories": 0,
                        "complete": True,
                    },
                )
                t["ai_deploys_survived"] += ai
                t["deploys_survived"] += total
                t["developer_weeks"] += dw
                t["repositories"] += 1
        for week, t in trend.items():
            end = week_end(week)
            t["complete"] = all(
                s.judged_until is not None and end <= s.judged_until for s in summaries
            )
            # v2 reports carry each week's developer-weeks; v1 ones do not (the headline
            # period's people then stand for every week, as v1 did)
            t["developer_weeks"] = round(t["developer_weeks"], 6)
            t["normalized_deployments"] = per_developer_week(
                t["ai_deploys_survived"], t["developer_weeks"] or contributors
            )
        weeks_out = [trend[w] for w in sorted(trend)]

        return {
            "schema_version": SCHEMA_VERSION,
            "kind": ORG_KIND,
            "generated_at": iso(generated_at),
            "inputs": {
                "inputs_read": self.inputs_read,
                "reports_merged": len(summaries),
                "problems": len(problems),
            },
            "period": {
                "aligned": aligned,
                "since": min((s.row["period"]["since"] for s in summaries), default=None),
                "until": max((s.row["period"]["until"] for s in summaries), default=None),
                "weeks": common_weeks,
                "periods": [
                    {"since": a, "until": b, "weeks": w, "repositories": n}
                    for (a, b, w), n in sorted(periods.items(), key=lambda kv: (-kv[1], kv[0]))
                ],
            },
            "settings": {"window_days": windows, "min_confidence": confidences},
            "repositories": [s.row for s in summaries],
            "totals": {
                "repositories": len(summaries),
                "ai_deploys_survived": ai_sum,
                "deploys_survived": survived_sum,
                "contributors": contributors,
                "contributors_sum": sum(s.row["metric"]["contributors"] for s in summaries),
                "developer_weeks": round(developer_weeks, 6),
                "weeks": common_weeks,
                "normalized_deployments": nd,
                "deploys_survived_per_dev_week": per_dev,
                "ai_share_of_survived_deploys": ai_sum / survived_sum if survived_sum else 0.0,
                "changes": changes,
                "ai_changes": ai_changes,
                "attribution_coverage": ai_changes / changes if changes else 0.0,
                "code_survival": _survival_totals(summaries),
            },
            "normalized_deployments": nd,
            "agents": agents,
            "weeks": weeks_out,
            "caveats": _caveats(summaries, contributors),
            "problems": problems,
        }

    def jsonl_rows(self) -> Iterator[dict]:
        """Repository rows for a warehouse, one per line, with (salted) contributor hashes."""
        for s in self.rows():
            c = s.contributors
            row = dict(s.row)
            row["contributors_hashed"] = (
                [salted(c[i : i + 32], self.salt) for i in range(0, len(c), 32)]
                if s.has_hashes
                else None
            )
            row["contributors_salted"] = bool(self.salt)
            row["weeks"] = [
                {
                    "week": w,
                    "ai_deploys_survived": ai,
                    "deploys_survived": total,
                    "developer_weeks": round(dw, 6),
                }
                for w, (ai, total, dw) in sorted(s.weeks.items())
            ]
            yield row


def _caveats(summaries: list[RepoSummary], contributors: int) -> list[str]:
    out = [
        "Attribution coverage is a lower bound: AI trailers are opt-out and are often stripped "
        "(squash merges, rebases, edited messages), so AI-assisted work can count as non-AI.",
    ]
    partial = [s.row["name"] for s in summaries if s.row["period"]["partial"]]
    if partial:
        out.append(
            f"{len(partial)} repositories report a partial period (it reaches past now - window: "
            "recent deploys are not judged yet)."
        )
    no_people = [s.row["name"] for s in summaries if s.row["metric"]["contributors"] == 0]
    if no_people:
        out.append(
            f"{len(no_people)} repositories had no human contributors in their period; they add "
            "deploys but no people."
        )
    no_deploys = [
        s.row["name"]
        for s in summaries
        if not any(s.row["deploys_by_outcome"].values()) and not s.row["metric"]["deploys_survived"]
    ]
    if no_deploys:
        out.append(
            f"{len(no_deploys)} repositories report no deploys at all: check their deploy source "
            "(tags, deploy log or deployments API)."
        )
    lost = sum(s.row["deploys_not_in_history"] for s in summaries)
    if lost:
        out.append(f"{lost} deploys named commits outside the scanned history and were ignored.")
    signals = sum(s.row["signals"] for s in summaries)
    if signals:
        n = sum(1 for s in summaries if s.row["signals"])
        out.append(
            f"{signals} suspicious-pattern signals in {n} repositories (see each repository's "
            "report)."
        )
    if summaries and contributors == 0:
        out.append("No contributors in any period: the org figure is 0 by definition.")
    return out
