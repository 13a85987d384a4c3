"""Code survival (METRIC.md section 10): how much of the code that reached production is
still there ``horizon`` later, AI-assisted and human side by side.

Pure functions over typed inputs: the cohort and ``S`` from the outcomes, the figure from
line counts (``scorer.git.blame`` reads them). Rules this module implements, where the spec
leaves a choice:

- ``S`` is the commit of the newest deploy that did not fail, at or before ``now``, of the
  first configured environment (``production`` by default) that has one.
- The AI side is the cohort's changes whose outcome is ``counted``; the human side the
  cohort's substantive changes with no AI evidence at any confidence whose outcome is
  ``survived`` (the same rule without AI: reverted changes and reverts are on neither side, so
  a revert is not counted against one side only). A trivial change (section 1) adds no line
  (``-w``, blank lines, renames, modes, excluded paths), so the stage does not diff to judge
  one: it weighs nothing either way, and ``changes`` counts the changes that add lines.
- A line survives when blame at ``S`` attributes it to the change, in any file the cohort's
  changes wrote. A file deleted or renamed away after the cohort (and not written by another
  cohort change) is not found: its lines did not survive. A change's surviving lines are at
  most its added lines (blame ``-M`` may attribute a copied line twice).
- ``rework_share``: of the AI lines that did not survive, the share already gone at the
  change's *rework state*: the newest deploy (that did not fail) of the same environment at
  or before the change's first deploy + ``horizon``. Lines gone by then were replaced (or
  deleted) within ``horizon`` of reaching production.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from scorer.metrics.period import PERIOD
from scorer.outcomes.change import Outcome, change_outcome
from scorer.outcomes.deploys import FAILED, OUTCOMES, SURVIVED, DeployList
from scorer.outcomes.flags import AI, CHANGE, Outcomes
from scorer.outcomes.graph import Graph
from scorer.outcomes.table import CommitTable
from scorer.util.times import iso, micros

DEFAULT_HORIZON = timedelta(days=30)
_SURVIVED = OUTCOMES.index(SURVIVED)  # its code in DeployList.code


class Cohort:
    """The cohort of one run. ``ai``/``human``: rows; ``agents``: row -> agents;
    ``deploy_sha``: ``S``; ``boundary``: a commit no cohort change is an ancestor of, below
    them all (blame stops there), or None; ``rework_at``: row -> the commit of its rework
    state; ``reason``: why there is no figure (None when there is one)."""

    def __init__(self, since: datetime, until: datetime, horizon: timedelta):
        self.since = since
        self.until = until
        self.horizon = horizon
        self.ai: list[int] = []
        self.human: list[int] = []
        self.agents: dict[int, list[str]] = {}
        self.deploy_sha: str | None = None
        self.environment: str | None = None
        self.boundary: str | None = None
        self.rework_at: dict[int, str] = {}
        self.outside: list[int] = []  # cohort changes S's history does not hold
        self.reason: str | None = None

    @property
    def rows(self) -> list[int]:
        return sorted({*self.ai, *self.human})


NOT_ASKED = (
    "not computed: ask for it with --horizon 30d or survival_horizon in the config (it blames "
    "every file the cohort wrote: up to seconds on a large history, once with --cache)"
)


def not_asked(horizon: timedelta, now: datetime) -> dict:
    """The report's ``code_survival`` when nobody asked for it: null rates and the reason."""
    cohort = Cohort(*cohort_window(now, horizon), horizon)
    cohort.reason = NOT_ASKED
    return survival_block(cohort, None)


def cohort_window(now: datetime, horizon: timedelta) -> tuple[datetime, datetime]:
    """``[now - horizon - 28d, now - horizon)``: each first deploy in it is ``horizon`` old."""
    until = now - horizon
    return until - PERIOD, until


def candidates(outcomes: Outcomes, since: datetime, until: datetime) -> list[int]:
    """The changes whose first deploy is a survived deploy with time in ``[since, until)``:
    the cohort before the substantive test (rows, sorted)."""
    deploys, first, flags = outcomes.deploys, outcomes.first, outcomes.flags
    out: set[int] = set()
    for p in deploys.between(micros(since), micros(until)):
        if deploys.code[p] != _SURVIVED:
            continue
        serial = deploys.serial[p]
        out.update(c for c in deploys.shipped_rows(p) if first[c] == serial and flags[c] & CHANGE)
    return sorted(out)


def deployed_state(
    deploys: DeployList, environments: Sequence[str], at_us: int
) -> tuple[str, int] | None:
    """The environment and graph row of the newest deploy that did not fail at or before
    ``at_us``: of the first of ``environments`` that has one, else of any environment."""
    ranges = deploys.env_ranges()
    order = [e for e in environments if e in ranges] + sorted(
        e for e in ranges if e not in environments
    )
    for env in order:
        node = _last_node_before(deploys, *ranges[env], at_us)
        if node is not None:
            return env, node
    return None


def _last_node_before(deploys: DeployList, lo: int, hi: int, at_us: int) -> int | None:
    failed = OUTCOMES.index(FAILED)
    end = bisect_right(deploys.when, at_us, lo, hi)
    for p in range(end - 1, lo - 1, -1):
        if deploys.code[p] != failed:
            return deploys.node[p]
    return None


def build_cohort(
    commits: CommitTable,
    outcomes: Outcomes,
    rows: Iterable[int],
    substantive: Mapping[int, bool],
    *,
    now: datetime,
    horizon: timedelta,
    environments: Sequence[str],
    min_confidence: str,
    graph: Graph,
) -> Cohort:
    """The cohort from ``rows`` (``candidates``) and their substantive verdicts, with ``S``,
    the blame boundary and each AI change's rework state; and the cohort's changes S's
    history does not hold."""
    since, until = cohort_window(now, horizon)
    cohort = Cohort(since, until, horizon)
    flags, shas = outcomes.flags, commits.shas
    for i in rows:
        if not substantive.get(i, True):
            continue
        outcome = change_outcome(flags[i], is_revert=i in outcomes.reverts)
        if flags[i] & AI:
            if outcome == Outcome.COUNTED:
                cohort.ai.append(i)
                cohort.agents[i] = commits.agents(i, min_confidence)
        elif outcome == Outcome.SURVIVED and not commits.agents(i, "medium"):
            cohort.human.append(i)
    state = deployed_state(outcomes.deploys, environments, micros(now))
    if state is None:
        cohort.reason = "no successful deploy at or before now: no production state to read"
        return cohort
    cohort.environment, node = state
    cohort.deploy_sha = shas[node]
    if not cohort.ai and not cohort.human:
        cohort.reason = (
            f"no substantive change first deployed (survived) between {iso(since)} and {iso(until)}"
        )
        return cohort
    below = blame_boundary(cohort.rows, graph)
    cohort.boundary = None if below is None else shas[below]
    held = set(graph.range(node, below))  # ``git rev-list S ^B``: no cohort change is below B
    cohort.outside = [i for i in cohort.rows if i not in held]
    for i in cohort.ai:
        first = outcomes.first_deploy(i)
        assert first is not None
        later = first.when + int(horizon.total_seconds() * 1_000_000)
        found = deployed_state(outcomes.deploys, [first.environment], later)
        if found is not None:
            cohort.rework_at[i] = shas[found[1]]
    return cohort


def blame_boundary(rows: Sequence[int], graph: Graph) -> int | None:
    """The first parent of the cohort change of least generation: every cohort change has a
    greater generation, so none is its ancestor and blame over ``B..S`` sees them all."""
    low = min(rows, key=lambda i: (graph.generation[i], i))
    ps = graph.parents[low]
    return ps[0] if ps else None


class Lines:
    """Per change: added lines, surviving lines at ``S``, and surviving at its rework state."""

    def __init__(self) -> None:
        self.added: dict[int, int] = {}
        self.surviving: dict[int, int] = {}
        self.at_rework: dict[int, int] = {}


def _side(rows: Sequence[int], lines: Lines) -> dict:
    added = sum(lines.added.get(i, 0) for i in rows)
    kept = sum(min(lines.surviving.get(i, 0), lines.added.get(i, 0)) for i in rows)
    return {
        "surviving_lines": kept,
        "added_lines": added,
        "rate": round(kept / added, 6) if added else None,
        # the changes that add lines: a trivial change adds none (whether judged or not)
        "changes": sum(1 for i in rows if lines.added.get(i, 0)),
    }


def survival_block(cohort: Cohort, lines: Lines | None, missing: int = 0) -> dict:
    """The report's ``code_survival``: numerators and denominators, per side and agent."""
    block: dict = {
        "horizon_days": round(cohort.horizon.total_seconds() / 86400, 6),
        "cohort": {"since": iso(cohort.since), "until": iso(cohort.until)},
        "deploy_sha": cohort.deploy_sha,
        "environment": cohort.environment,
        "ai": _side(cohort.ai, lines or Lines()),
        "human": _side(cohort.human, lines or Lines()),
        "by_agent": {},
        "rework_share": None,
        "missing_objects": missing,
        # Changes S's history does not hold (another release line deployed to the same
        # environment, a branch never merged): blame at S cannot find their lines.
        "not_in_deploy": len(cohort.outside),
        "reason": cohort.reason,
    }
    if lines is None or cohort.reason:
        return block
    by_agent: dict[str, list[int]] = {}
    for i in cohort.ai:
        for a in cohort.agents.get(i, ()):
            by_agent.setdefault(a, []).append(i)
    block["by_agent"] = {a: _side(rows, lines) for a, rows in sorted(by_agent.items())}
    gone = reworked = 0
    for i in cohort.ai:
        added = lines.added.get(i, 0)
        lost = added - min(lines.surviving.get(i, 0), added)
        if lost <= 0:
            continue
        gone += lost
        if i in lines.at_rework:
            reworked += min(lost, added - min(lines.at_rework[i], added))
    block["rework_share"] = round(reworked / gone, 6) if gone else None
    if not block["ai"]["added_lines"] and not block["human"]["added_lines"]:
        block["reason"] = "the cohort's changes add no lines (only blank, moved or binary)"
    return block


def count_lines(
    cohort: Cohort,
    shas: Sequence[str],
    added: Callable[[list[str]], Mapping[str, Mapping[str, int]]],
    blame: Callable[[Mapping[str, set[str]]], Mapping[str, Mapping[str, Mapping[str, int]]]],
) -> Lines:
    """The cohort's line counts, from ``added(shas) -> {sha: {path: lines}}`` and
    ``blame({commit: paths}) -> {commit: {path: {sha: lines}}}``: blame runs once at ``S``
    over every path the cohort wrote, then once at every rework state together, each only
    over the paths in which an AI change has fewer lines at ``S`` than it added there. A
    path where it lost none counts at the rework state as at ``S`` (a line blame gives a
    change at ``S`` was there before)."""
    out = Lines()
    rows = cohort.rows
    per_change = added([shas[i] for i in rows])
    paths: set[str] = set()
    for i in rows:
        files = per_change.get(shas[i], {})
        out.added[i] = sum(files.values())
        paths.update(p for p, n in files.items() if n)
    s = cohort.deploy_sha
    assert s is not None  # a cohort without S has a reason and is not counted
    files_s = blame({s: paths})[s] if paths else {}
    at_s = _by_sha(files_s)
    for i in rows:
        out.surviving[i] = at_s.get(shas[i], 0)
    states: dict[str, list[int]] = {}
    lossy: dict[int, set[str]] = {}
    for i in cohort.ai:
        if out.surviving[i] < out.added[i] and i in cohort.rework_at:
            sha = shas[i]
            lossy[i] = {
                p
                for p, n in per_change.get(sha, {}).items()
                if n and files_s.get(p, {}).get(sha, 0) < n
            }
            states.setdefault(cohort.rework_at[i], []).append(i)
    for i in states.pop(s, []):
        out.at_rework[i] = out.surviving[i]
    asks = {state: {p for i in changes for p in lossy[i]} for state, changes in states.items()}
    at_states = blame(asks) if asks else {}
    for state, changes in sorted(states.items()):
        files_r = at_states[state]
        for i in changes:
            sha = shas[i]
            # at S outside the lossy paths (all of S's less those), and at R inside them
            kept = at_s.get(sha, 0) - sum(files_s.get(p, {}).get(sha, 0) for p in lossy[i])
            kept += sum(files_r.get(p, {}).get(sha, 0) for p in lossy[i])
            out.at_rework[i] = kept
    return out


def _by_sha(files: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in files.values():
        for sha, n in counts.items():
            total[sha] = total.get(sha, 0) + n
    return total


__all__ = [
    "DEFAULT_HORIZON",
    "SURVIVED",
    "Cohort",
    "Lines",
    "blame_boundary",
    "build_cohort",
    "candidates",
    "cohort_window",
    "count_lines",
    "deployed_state",
    "survival_block",
]
