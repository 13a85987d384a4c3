"""Why the figure is 0 (METRIC.md section 7, v2): one line per cause found, so that a first
run that prints 0 says what to change — the deploy source, the environments, ``--now`` — rather
than leaving the reader to guess."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

from scorer.metrics.period import Period
from scorer.util.times import from_unix, iso


def causes(
    *,
    period: Period,
    now: datetime,
    window: timedelta,
    deploy_count: int,
    pending: int,
    period_pending: int,
    ignored: Mapping[str, int],
    environments: Sequence[str],
    sources: Sequence[str],
    source_notes: Sequence[str],
    unknown_deploys: int,
    changes: int,
    ai_changes: int,
    developer_weeks: float,
    period_deploys: int,
    survived: int,
    newest_change: int | None,
) -> list[dict]:
    """The causes of a 0, most basic first (``newest_change``: the author time of the newest
    change of the history, asked for only when the period has none)."""
    out = []
    by_env = {k.split(":", 1)[1]: v for k, v in ignored.items() if k.startswith("environment:")}
    if not deploy_count and not by_env and not unknown_deploys:
        detail = f"no deploy event matched the deploy sources ({', '.join(sources)})"
        out.append(_cause("no-deploys", "; ".join([detail, *source_notes])))
    for env, n in sorted(by_env.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(
            _cause(
                "other-environment",
                f"{n} deploy(s) were in environment {env}, which does not count "
                f"(environments: {', '.join(environments)})",
            )
        )
    if unknown_deploys and not deploy_count:
        out.append(
            _cause(
                "deploys-not-in-history",
                f"all {unknown_deploys} deploy(s) name commits that are not in the scanned "
                "history (a shallow clone, or another repository's deploys?)",
            )
        )
    if not changes:
        detail = "no change was authored in the period"
        if newest_change is not None:
            newest = from_unix(newest_change)
            days = (now - newest).days
            suggest = (newest + window + timedelta(days=1)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            detail += (
                f"; the newest change is from {newest.date().isoformat()}, {days} days before "
                f"now; try --now {iso(suggest.astimezone(timezone.utc))}"
            )
        out.append(_cause("no-changes", detail))
    elif not developer_weeks:
        out.append(
            _cause("no-contributors", "no person authored a substantive change in the period")
        )
    elif not ai_changes:
        out.append(_cause("no-ai-changes", "no AI-assisted change was authored in the period"))
    days = f"{window / timedelta(days=1):g}-day"
    if deploy_count and pending == deploy_count:
        out.append(
            _cause(
                "all-pending",
                f"every deploy ({pending}) is still inside its {days} rollback window "
                "(pending): none is judged yet; they count once it closes",
            )
        )
    elif deploy_count and not period_deploys:
        out.append(_cause("no-deploys-in-period", "no deploy in the period"))
    elif period_deploys and not survived:
        if period_pending == period_deploys:
            out.append(
                _cause(
                    "all-pending",
                    f"every deploy of the period ({period_pending}) is still inside its {days} "
                    "rollback window (pending): they count once it closes",
                )
            )
        else:
            out.append(
                _cause("none-survived", "no deploy in the period survived its rollback window")
            )
    if not out and ai_changes and survived:
        out.append(
            _cause(
                "no-counted-ai-deploy",
                "no surviving deploy in the period shipped an AI-assisted change that counts",
            )
        )
    return out


def _cause(kind: str, detail: str) -> dict:
    return {"kind": kind, "detail": detail}
