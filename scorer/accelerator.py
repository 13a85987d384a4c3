"""The one interface through which a scan may reuse an earlier run's work.

The pipeline asks an ``Accelerator`` for each stage's values: the attributed history, the
deploy events, the outcomes; and tells it when the run is done. This base class computes every
one of them from scratch with the stages' own functions; ``scorer.incremental.Session`` answers
from a cache where it can vouch for the answer, and falls back on these methods where it
cannot. The rules (attribution, linking, outcomes, the metric) never know which one ran.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import datetime

from scorer.attribution.registry import Registry, load_registry
from scorer.attribution.rows import add_rows, read_rows
from scorer.config import Settings
from scorer.deploys import kept_events, load_events, resolve_events
from scorer.deploys.interface import SourceContext
from scorer.git.blame import Added, Blamed, Blamer, added_lines, blame_config_problem
from scorer.git.diffs import Substance
from scorer.git.log import (
    Repo,
    clear_progress,
    commit_ids,
    start_log,
    stop_log,
    tty_progress,
)
from scorer.git.patches import ChangedPaths, PatchIds
from scorer.git.paths import PathFilter
from scorer.metrics.survival import (
    build_cohort,
    candidates,
    cohort_window,
    count_lines,
    survival_block,
)
from scorer.model import CommitRow, DeployEvent
from scorer.outcomes import compute_outcomes
from scorer.outcomes.containment import Containment
from scorer.outcomes.flags import Outcomes
from scorer.outcomes.graph import Graph
from scorer.outcomes.linking import order_events
from scorer.outcomes.reach import Reach
from scorer.outcomes.table import CommitTable


class ScannedHistory:
    """The commit table and graph of a run, with the substantive verdicts known so far."""

    def __init__(
        self,
        commits: CommitTable,
        graph: Graph,
        verdicts: dict[int, bool] | None = None,
        missing: set[int] | None = None,
        first_new_row: int | None = None,
    ):
        self.commits = commits
        self.graph = graph
        self.verdicts = verdicts if verdicts is not None else {}  # row -> substantive
        self.missing = missing if missing is not None else set()  # judged without objects
        # Rows before it were judged by an earlier run (None: no row was).
        self.first_new_row = first_new_row

    def unjudged_ai_changes(self, reach: Reach) -> list[str]:
        """The SHAs of the changes with AI evidence that the report lists (``reach``), or new
        since the cached run, whose verdict is not known yet: handed to git early, so that it
        diffs them while Python links deploys. (Others a deploy of the report's weeks
        shipped are asked for when linking finds them.)"""
        c = self.commits
        if self.first_new_row is None:
            rows = c.authored_between(reach.full, reach.end)
        else:
            rows = range(self.first_new_row, len(c))
        return [
            c.shas[i]
            for i in rows
            if i in c.evidence and i not in self.verdicts and len(c.parents[i]) <= 1
        ]

    def changes_between(self, lo: float, hi: float) -> list[int]:
        """The changes (not merges) authored at ``lo <= t < hi``."""
        c = self.commits
        return sorted(i for i in c.authored_between(lo, hi) if len(c.parents[i]) <= 1)

    def prefetch(self, ids: list[int], substance: Substance) -> None:
        """Rows whose verdicts will likely be asked: git starts on those not known."""
        shas, verdicts = self.commits.shas, self.verdicts
        substance.feed(shas[i] for i in ids if i not in verdicts)

    def judge(self, ids: list[int], substance: Substance) -> dict[int, bool]:
        """Substantive verdicts (section 1) of rows ``ids``: known ones, else from git."""
        shas, verdicts = self.commits.shas, self.verdicts
        need = [i for i in ids if i not in verdicts]
        if need:
            found = substance.verdicts(shas[i] for i in need)
            for i in need:
                verdicts[i] = found[shas[i]]
                if shas[i] in substance.missing:
                    self.missing.add(i)
        return {i: verdicts[i] for i in ids}


class Wanted:
    """Which changes the report needs verdicts of (``scorer.pipeline``): every change of its
    period, ``[reach.full, until)``, AI changes after it unless ``reach.until`` says
    otherwise, and in the trend's earlier weeks (from ``reach.trend``) each person's first
    change of each week (``weekly.person_weeks``). The AI changes those weeks' deploys shipped
    are judged once linking has found them, one per deploy (``scorer.outcomes.reach``).
    Known before the history is read, so that git can diff them as the stream goes by."""

    def __init__(self, reach: Reach, until: float, week: float):
        self.since = reach.trend
        self.period_since = reach.full
        self.until = until
        self.ai_until = reach.end
        self.week = week


_FIRST_FEED = 64  # rows handed to git as soon as there are this many (git gets going)
_FEED_MAX = 4096  # then batches twice as big each time, up to this many: each is one
# diff-tree process, which reads trees faster when their deltas were read just before


def feeding(rows: Iterable[CommitRow], substance: Substance, wanted: Wanted) -> Iterator[CommitRow]:
    """``rows``, unchanged; on the way, the changes ``wanted`` asks verdicts of are handed to
    ``substance`` in batches (64, then twice as many each time, and what is left once the
    stream has gone past ``since``). git lists the newest commits first, so the report's
    weeks come in the first few percent of the stream, and git diffs them on the second core
    while Python reads the rest. A change this misses (a person-week's first change here is
    the first one streamed; the report decides on the table) is fed by the pipeline after."""
    since, period_since, until, week = wanted.since, wanted.period_since, wanted.until, wanted.week
    ai_until = wanted.ai_until
    seen: set[tuple[int, str]] = set()
    batch: list[str] = []
    limit = _FIRST_FEED
    rows = iter(rows)
    for row in rows:
        yield row
        t = row.author_time
        if t >= since and len(row.parents) <= 1:
            first = False  # the first change of a person-week of the trend's earlier weeks
            if t < period_since and row.human:
                key = (int((t - since) // week), row.email)
                first = key not in seen
                seen.add(key)
            if first or (t >= period_since and (t < until or (row.evidence and t < ai_until))):
                batch.append(row.sha)
                if len(batch) >= limit:
                    substance.feed(batch)
                    batch, limit = [], min(2 * limit, _FEED_MAX)
        if row.committer_time < since:
            break  # committed before ``since``: the rest of the stream holds few, if any
    if batch:
        substance.feed(batch)
    yield from rows  # untouched: ~95% of a long history


class EventsRead:
    """The deploy events a run works from (those that count, section 3), and how many were
    left out, by reason. ``appended``: only those new since an earlier run, which vouched for
    the rest."""

    appended = False

    def __init__(self, kept: list[DeployEvent], ignored: dict[str, int]):
        self.kept = kept
        self.ignored = ignored


class Accelerator:
    """Computes every stage from scratch (no cache). ``use`` names how a cache was used:
    none | cold (no usable cache) | history (cached commits, outcomes recomputed) |
    incremental (outcomes carried forward)."""

    use = "none"
    _registry: Registry | None = None
    wanted: Wanted | None = None  # set by the pipeline before it asks for the history
    # ``git log`` of the scanned ref, started before the scan (``scorer.git.log.head_start``)
    head_start: subprocess.Popen | None = None

    def __init__(self, head_start: subprocess.Popen | None = None):
        self.head_start = head_start

    def prepare(self) -> None:
        """Called while git opens the repository: a head start on reading a cache."""

    def history(
        self,
        repo: Repo,
        head: str,
        settings: Settings,
        substance: Substance,
        start_events: Callable[[], None],
        progress: bool,
    ) -> ScannedHistory:
        """Sections 1-2: every commit reachable from ``head``, attributed. ``start_events``
        starts reading the deploy events (they wait on git, files or HTTP: they overlap the
        history stream); call it once the history's own git processes are under way."""
        early, self.head_start = self.head_start, None
        log = early or start_log(repo, head)  # first: building the registry takes ~16 ms
        start_events()
        try:
            registry = self.registry(settings)
        except BaseException:
            stop_log(log)
            raise
        rows = read_rows(repo, head, registry, progress, log=log, unverified=early is not None)
        return self.whole_history(rows, substance)

    def whole_history(self, rows: Iterable[CommitRow], substance: Substance) -> ScannedHistory:
        """The history from every row of it, the report's changes handed to git on the way
        (``feeding``)."""
        if self.wanted is not None:
            rows = feeding(rows, substance, self.wanted)
        commits = add_rows(CommitTable(), rows)
        return ScannedHistory(commits, Graph(commits.shas, commits.parents, commits.index))

    def deployed_history(
        self,
        history: ScannedHistory,
        repo: Repo,
        head: str,
        read: EventsRead,
        settings: Settings,
        progress: bool,
    ) -> EventsRead:
        """Section 1 (v2): the history includes every commit reachable from a counted deploy's
        commit, not only from ``head``: release and hotfix branches deployed but never merged.
        Adds to ``history`` the commits of deployed SHAs it does not hold yet; returns the
        events the outcomes are to be computed from (``read``)."""
        commits = history.commits
        unknown = resolve_events(read.kept, commits.shas, commits.index).unknown
        if not unknown:
            return read
        found = commit_ids(repo, sorted({ev.sha.strip() for ev in unknown}))
        tips = sorted({sha for sha in found.values() if sha not in commits.index})
        if not tips:
            return read
        registry = self.registry(settings)
        add_rows(commits, read_rows(repo, tips, registry, progress, (head,)))
        history.graph = Graph(
            commits.shas, commits.parents, commits.index, history.graph.generation
        )
        return read

    def reach(self, trend: float, full: float, until: float) -> Reach:
        """Which AI changes this run judges (``scorer.outcomes.reach``): a run without a cache,
        only those its report can show."""
        return Reach(trend, full, until)

    def registry(self, settings: Settings) -> Registry:
        """The agent registry (the shipped one and the config's), loaded once."""
        if self._registry is None:
            self._registry = load_registry(settings.config.agents)
        return self._registry

    def events(self, settings: Settings, ctx: SourceContext, now: datetime) -> EventsRead:
        """Section 3: every deploy event of the configured sources that counts."""
        unfinished: dict[str, int] = {}
        events = load_events(settings.deploys, ctx, unfinished)
        return EventsRead(*kept_events(events, settings.environments, now, unfinished))

    def outcomes(
        self,
        history: ScannedHistory,
        read: EventsRead,
        settings: Settings,
        now: datetime,
        substance: Substance,
        reach: Reach | None = None,
    ) -> tuple[Outcomes, Collection[DeployEvent], EventsRead]:
        """Sections 4-6 over the whole history; the deploys whose commit is not in it (in
        linking order); and the events they came from. ``reach``: where the report's figures
        start (only changes that can reach it are diffed)."""
        ordered = order_events(read.kept)
        graph = history.graph
        resolution = resolve_events(ordered, graph.shas, graph.index)
        outcomes = compute_outcomes(
            graph,
            history.commits,
            resolution.events,
            window=settings.window,
            now=now,
            min_confidence=settings.min_confidence,
            substantive=lambda ids: history.judge(ids, substance),
            contains=containment(history, settings, substance),
            reach=reach,
            prefetch=lambda ids: history.prefetch(ids, substance),
        )
        self.linked(ordered, resolution, outcomes)
        return outcomes, resolution.unknown, read

    def linked(self, ordered: list[DeployEvent], resolution, outcomes: Outcomes) -> None:
        """Told what ``outcomes`` linked: the kept events in linking order, resolved."""

    def survival(
        self,
        repo: Repo,
        history: ScannedHistory,
        outcomes: Outcomes,
        settings: Settings,
        now: datetime,
        substance: Substance,
        progress: bool = False,
    ) -> dict:
        """Section 10: the report's ``code_survival``. Nothing runs in git when there is no
        cohort; blame reads only the files the cohort wrote (``blame_files``). ``progress``:
        a line on a terminal while files are blamed."""
        since, until = cohort_window(now, settings.horizon)
        rows = candidates(outcomes, since, until)
        cohort = build_cohort(
            history.commits,
            outcomes,
            rows,
            # No diffing for the substantive test: a trivial change (whitespace-, blank-line-,
            # rename- or mode-only, or excluded paths) adds no line, so it weighs nothing in
            # the ratios, and ``changes`` counts those that add lines. Known verdicts are used.
            history.verdicts,
            now=now,
            horizon=settings.horizon,
            environments=settings.environments,
            min_confidence=settings.min_confidence,
            graph=history.graph,
        )
        cohort.reason = cohort.reason or blame_config_problem(repo)
        if cohort.reason:
            return survival_block(cohort, None)
        missing: list[int] = [0]
        exclude = PathFilter(settings.exclude_paths)

        known = Added()  # what the cohort added: blame's fast path reads it

        def added(shas: list[str]) -> dict[str, dict[str, int]]:
            show = tty_progress("scorer: diffing", "changes") if progress else None
            if show is not None:
                show(len(shas))
            found = self.added_files(repo, shas, exclude)
            if show is not None:
                clear_progress()
            missing[0] += len(found.missing)
            known.lines, known.origin, known.runs = found.lines, found.origin, found.runs
            return found.lines

        assert cohort.deploy_sha is not None  # no reason: there is an S
        tips = [cohort.deploy_sha, *sorted(set(cohort.rework_at.values()))]
        blamer = Blamer(repo, cohort.boundary, tips, progress=progress)
        if len(cohort.rows) >= blamer.few:
            self.blame_soon(blamer)

        def blame(asks: Mapping[str, set[str]]) -> dict[str, dict[str, dict[str, int]]]:
            found = self.blame_files(blamer, asks, known)
            missing[0] += sum(len(b.missing) for b in found.values())
            return {at: b.files for at, b in found.items()}

        lines = count_lines(cohort, history.commits.shas, added, blame)
        self.survival_done(cohort.deploy_sha)
        return survival_block(cohort, lines, missing[0])

    def added_files(self, repo: Repo, shas: list[str], exclude: PathFilter) -> Added:
        """The non-blank lines each of ``shas`` adds, per path (a change never changes: the
        cache keeps them per change)."""
        return added_lines(repo, shas, exclude)

    def blame_files(
        self, blamer: Blamer, asks: Mapping[str, set[str]], added: Added | None
    ) -> dict[str, Blamed]:
        """Non-blank lines per commit of each path at each commit of ``asks`` (blame over
        ``blamer.boundary..at``; ``added``: what the cohort added, for blame's fast path);
        the cache keeps them per (file, commit, boundary)."""
        return blamer.counts_at(asks, added)

    def blame_soon(self, blamer: Blamer) -> None:
        """A cohort this large will be blamed: git reads the range while it diffs the
        cohort's changes (``Blamer.prefetch``)."""
        blamer.prefetch()

    def survival_done(self, deploy_sha: str | None) -> None:
        """Told that the survival stage is done (``S``: what a later run compares against)."""

    def finish(self, head: str, history: ScannedHistory, outcomes: Outcomes, unknown, read) -> None:
        """The run is done (its report is built): keep what a later run can reuse."""


def containment(history: ScannedHistory, settings: Settings, substance: Substance) -> Containment:
    """Section 5's containment for this run: the one rule both the full computation and the
    cache's carrying forward (``scorer.incremental.advance``) judge deploys by. Which changes
    decide is section 1's substantive test with ``version_files`` left out as well as
    ``exclude_paths``; it gets its own ``Substance`` (another filter), so the history's
    verdicts stay those of section 1. Nothing here starts git: only a rollback candidate
    does."""
    graph = history.graph
    shas = graph.shas
    deciding = Substance(
        substance.repo, PathFilter([*settings.exclude_paths, *settings.version_files])
    )
    patch_ids = PatchIds(substance.repo)
    changed = ChangedPaths(substance.repo)

    def decides(rows: list[int]) -> dict[int, bool]:
        found = deciding.verdicts(shas[i] for i in rows)
        return {i: found[shas[i]] for i in rows}

    def ids(rows: list[int]) -> dict[int, str | None]:
        found = patch_ids(shas[i] for i in rows)
        return {i: found[shas[i]] for i in rows}

    def paths(rows: list[int]) -> dict[int, tuple[str, ...] | None]:
        found = changed(shas[i] for i in rows)
        return {i: found[shas[i]] for i in rows}

    return Containment(graph, decides, ids, paths)
