"""Signals (METRIC.md section 9): patterns worth a look, listed and never silently dropped or
counted — bursts of trivial AI changes, AI changes reverted by their own author, unknown agents,
deploys of unknown commits, changes judged without their objects."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from scorer.outcomes.deploys import FAILED, OUTCOMES
from scorer.outcomes.flags import AI, Outcomes
from scorer.util.sha import sha256
from scorer.util.times import from_unix, odd_dates_signal

BURST_MIN = 3  # trivial AI changes by one author in one UTC day that make a burst
_FAILED = OUTCOMES.index(FAILED)


def contributor_hash(email: str) -> str:
    return sha256(email.strip().lower().encode("utf-8")).hexdigest()


def fold_bursts(commits, rows, bursts: dict[tuple[str, str], list]) -> dict:
    """Add trivial changes ``rows`` to ``bursts``: (author hash, UTC day) -> [count, time and
    SHA of the earliest]. Row numbers differ between a cold and an incremental scan: the
    example is the earliest change, ties broken by SHA, so the report does not."""
    atime, shas = commits.author_time, commits.shas
    for i in rows:
        t, sha = atime[i], shas[i]
        key = (contributor_hash(commits.email(i))[:12], from_unix(t).date().isoformat())
        burst = bursts.get(key)
        if burst is None:
            bursts[key] = [1, t, sha]
        else:
            burst[0] += 1
            if (t, sha) < (burst[1], burst[2]):
                burst[1], burst[2] = t, sha
    return bursts


SIGNALS_LISTED = 20
SAME_RELEASE_SECONDS = 60  # two deploys this close: likely one release tagged twice


def signals(
    commits,
    outcomes: Outcomes,
    verdicts: Mapping[int, bool],
    in_period: Sequence[int],
    period_deploys: Sequence[int],
    unknown_deploys,
    missing_objects: int,
) -> list[dict]:
    """The period's signals (METRIC.md section 9, v2), in a stable order."""
    out = []
    period_ai = [i for i in in_period if outcomes.flags[i] & AI]
    trivial = [i for i in period_ai if verdicts.get(i) is False]
    for (_who, day), (count, _time, sha) in sorted(fold_bursts(commits, trivial, {}).items()):
        if count >= BURST_MIN:
            out.append(
                _signal(
                    "trivial-ai-burst",
                    f"{count} trivial (empty, whitespace-only, rename-only or mode-only) "
                    f"AI-attributed changes by one author on {day} (e.g. {sha[:12]}); they do "
                    "not count",
                )
            )
    reverted = outcomes.reverted
    for x in sorted((i for i in period_ai if i in reverted), key=lambda i: commits.shas[i]):
        y = reverted[x]
        if commits.email(x) == commits.email(y):
            out.append(
                _signal(
                    "ai-self-revert",
                    f"AI-assisted change {commits.shas[x][:12]} was reverted by its own author "
                    f"in {commits.shas[y][:12]}; it does not count",
                )
            )
    unknown = [e for i in in_period for e in commits.evidence.get(i, ()) if e.agent == "other"]
    if unknown:
        sample = "; ".join(sorted({e.text for e in unknown})[:3])
        out.append(
            _signal(
                "unknown-agent",
                f"{len(unknown)} attribution(s) name an agent not in the registry (counted as "
                f"'other'): {sample}",
            )
        )
    out += _same_release(outcomes.deploys, period_deploys)
    if unknown_deploys:
        sample = ", ".join(f"{e.id} ({e.sha[:12]})" for e in unknown_deploys[:3])
        out.append(
            _signal(
                "deploys-not-in-history",
                f"{len(unknown_deploys)} deploy(s) name commits that are not in the scanned "
                f"history and were ignored: {sample}",
            )
        )
    out += odd_dates_signal(commits.author_time, commits.committer_time, commits.shas)
    if missing_objects:
        out.append(
            _signal(
                "missing-objects",
                f"{missing_objects} change(s) were judged without their file contents (partial "
                "clone?): whitespace-only edits among them count as substantive",
            )
        )
    return out


def _same_release(deploys, positions: Sequence[int]) -> list[dict]:
    """Pairs of successful deploys of one environment seconds apart, of different commits:
    most likely one release with two matching tags (``v1.2.0`` and ``v1.2.0.dev0``)."""
    out = []
    ok = [p for p in positions if deploys.code[p] != _FAILED]
    for a, b in itertools.pairwise(ok):
        close = deploys.when[b] - deploys.when[a] <= SAME_RELEASE_SECONDS * 1_000_000
        if (
            deploys.env_code[a] == deploys.env_code[b]
            and close
            and deploys.node[a] != deploys.node[b]
        ):
            da, db = deploys[a].event, deploys[b].event
            seconds = (deploys.when[b] - deploys.when[a]) / 1e6
            out.append(
                _signal(
                    "same-release-twice",
                    f"deploys {da.id} and {db.id} ({da.environment}) are {seconds:g} s apart: "
                    "likely one release with two matching tags; exclude one kind (e.g. "
                    "tags:v*,!*.dev*)",
                )
            )
    return out


def _signal(kind: str, detail: str) -> dict:
    return {"kind": kind, "detail": detail}
