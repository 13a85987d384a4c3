"""Signals (METRIC.md section 9): patterns worth a look, listed and never silently dropped or
counted — bursts of trivial AI changes, AI changes reverted by their own author, unknown agents,
deploys of unknown commits, changes judged without their objects."""

from __future__ import annotations

from datetime import datetime

from scorer.outcomes.flags import AI, Outcomes
from scorer.util.sha import sha256
from scorer.util.times import from_unix, odd_dates_signal

BURST_MIN = 3  # trivial AI changes by one author in one UTC day that make a burst


def contributor_hash(email: str) -> str:
    return sha256(email.strip().lower().encode("utf-8")).hexdigest()


def _utc(ts: int) -> datetime:
    return from_unix(ts)  # clamps what datetime cannot hold (a commit "dated" year 10000)


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


def signals(commits, outcomes: Outcomes, unknown_deploys, missing_objects) -> list[dict]:
    signals = []
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
    signals += odd_dates_signal(commits.author_time, commits.committer_time, commits.shas)
    if missing_objects:
        signals.append(
            {
                "kind": "missing-objects",
                "detail": f"{missing_objects} change(s) were judged without their file contents "
                "(partial clone?): whitespace-only edits among them count as substantive",
            }
        )
    return signals
