"""One scan, wired end to end: history -> attribution -> linking -> outcomes -> metric.

This is the only place that knows the order of the stages; each stage is a function of the
previous stages' values plus ``now`` and the configuration.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from scorer import __version__
from scorer.attribution.detect import author_is_human, detect, reverted_shas
from scorer.attribution.notes import read_ai_notes
from scorer.attribution.registry import Registry, load_registry, registry_source_digest
from scorer.config import DEFAULT_DEPLOYS, DEFAULT_WINDOW, Config, load_config
from scorer.deploys import DeploySpec, load_appended, load_events, parse_spec, resolve_events
from scorer.deploys.interface import SourceContext
from scorer.errors import InputError, RepositoryError
from scorer.git.diffs import Substance
from scorer.git.log import (
    Repo,
    clear_progress,
    is_ancestor,
    iter_raw_commits,
    mailmap_bytes,
    notes_tip,
    open_repo,
    prefetch_config,
    resolve_ref,
    start_log,
    tty_progress,
)
from scorer.git.paths import PathFilter
from scorer.incremental import cache
from scorer.incremental.advance import (
    NotIncremental,
    advance,
    attach_events,
    settings_key,
    snapshot,
)
from scorer.incremental.cache import CachedHistory, CachedOutcomes, CacheInvalid
from scorer.metrics.report import Period, build_report, fold_bursts, headline_period, trivial_rows
from scorer.model import DeployEvent, History, RawCommit
from scorer.outcomes.graph import Graph
from scorer.outcomes.linking import Outcomes, compute_outcomes, order_events
from scorer.outcomes.table import CommitTable

SUBJECT_MAX = 200


class ScanOptions:
    """What the command line asked for (plain class: importing dataclasses costs a per-merge
    run ~15 ms)."""

    def __init__(
        self,
        path: Path = Path("."),
        ref: str = "HEAD",
        deploys: list[str] | None = None,
        window: timedelta | None = None,
        now: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        config: Path | None = None,
        min_confidence: str | None = None,
        environments: list[str] | None = None,
        cache: Path | None = None,
        repository: str | None = None,
        env: Mapping[str, str] | None = None,
        progress: bool = True,
    ):
        self.path = path
        self.ref = ref
        self.deploys = deploys
        self.window = window
        self.now = now
        self.since = since
        self.until = until
        self.config = config
        self.min_confidence = min_confidence
        self.environments = environments
        self.cache = cache
        self.repository = repository
        self.env = env if env is not None else dict(os.environ)
        self.progress = progress


class Settings:
    """The effective settings after flags, config file and defaults."""

    def __init__(
        self,
        window: timedelta,
        environments: list[str],
        deploys: list[DeploySpec],
        min_confidence: str,
        exclude_paths: list[str],
        config: Config,
    ):
        self.window = window
        self.environments = environments
        self.deploys = deploys
        self.min_confidence = min_confidence
        self.exclude_paths = exclude_paths
        self.config = config


class ScanResult:
    def __init__(
        self,
        report: dict,
        history: History,
        outcomes: Outcomes,
        settings: Settings,
        repo: Repo,
        cache_use: str = "none",
        events_read: str = "all",
    ):
        self.report = report
        self.history = history
        self.outcomes = outcomes
        self.settings = settings
        self.repo = repo
        # none (no --cache) | cold (no usable cache) | history (cached commits, outcomes
        # recomputed) | incremental (outcomes carried forward)
        self.cache_use = cache_use
        # all (every deploy event) | new (only those new since the cached run: every source
        # vouched for the rest, scorer.deploys.load_appended)
        self.events_read = events_read


def effective_settings(options: ScanOptions, config: Config) -> Settings:
    if options.deploys:
        deploys = [parse_spec(s) for s in options.deploys]
    elif config.deploys is not None:
        deploys = config.deploys
    else:
        deploys = [parse_spec(s) for s in DEFAULT_DEPLOYS]
    return Settings(
        window=options.window or config.window or DEFAULT_WINDOW,
        environments=options.environments or config.environments or ["production"],
        deploys=deploys,
        min_confidence=options.min_confidence or config.min_confidence or "medium",
        exclude_paths=config.exclude_paths,
        config=config,
    )


def commit_row(raw: RawCommit, registry: Registry, note: str | None) -> tuple:
    """The attribution stage for one commit: its row of the commit table (``CommitTable.add``'s
    arguments): evidence, humanity, reverts; the message is dropped."""
    msg = raw.message
    end = msg.find("\n")
    subject = (msg if end < 0 else msg[:end]).strip()
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    evidence = detect(raw, registry, note)
    return (
        raw.sha,
        raw.parents,
        raw.mailmap_name,
        raw.mailmap_email.strip().lower(),
        raw.author_time,
        raw.committer_time,
        subject,
        evidence,
        reverted_shas(msg),
        author_is_human(raw, registry),
    )


def read_rows(
    repo: Repo,
    head: str,
    registry: Registry,
    progress: bool,
    exclude: tuple[str, ...] = (),
    log: subprocess.Popen | None = None,
) -> Iterator[tuple]:
    """The rows (``commit_row``) of every commit reachable from ``head`` (and not from
    ``exclude``), newest first."""
    notes = read_ai_notes(repo.git_dir, tip=notes_tip(repo))
    show = tty_progress("scorer: reading") if progress else None
    try:
        for raw in iter_raw_commits(repo, head, exclude=exclude, progress=show, proc=log):
            yield commit_row(raw, registry, notes.get(raw.sha))
    finally:
        clear_progress()


def read_history(
    repo: Repo,
    head: str,
    registry: Registry,
    progress: bool,
    table: CommitTable | None = None,
    exclude: tuple[str, ...] = (),
    log: subprocess.Popen | None = None,
    rows: Iterable[tuple] | None = None,
) -> CommitTable:
    """Every commit reachable from ``head`` (and not from ``exclude``), added to ``table``
    (or ``rows``, already read)."""
    table = table if table is not None else CommitTable()
    if rows is None:
        rows = read_rows(repo, head, registry, progress, exclude, log)
    for row in rows:
        table.add(*row)
    table.link()
    return table


def run_scan(options: ScanOptions) -> ScanResult:
    try:
        return _run_scan(options, use_cache=True)
    except CacheInvalid as why:
        # A column of the cache is read (and checked) when first needed: damage found then
        # means starting over without it, as if it had been found at the start.
        print(f"scorer: cache not used: {why}; scanning the whole history", file=sys.stderr)
        return _run_scan(options, use_cache=False)


def _run_scan(options: ScanOptions, *, use_cache: bool) -> ScanResult:
    now = options.now or datetime.now(timezone.utc)
    # git rev-parse runs while Python reads the cache's header and compiles the agent
    # registry it keeps (a warm run needs it first, to read the new commits).
    opening = _Background(open_repo, options.path, options.ref)
    header = _read_header(options.cache) if options.cache and use_cache else {}
    header_registry = _header_registry(header)
    repo = opening.result()
    config = load_config(options.config, repo.work_dir)
    settings = effective_settings(options, config)
    period = _period(options, now, settings.window)
    head = resolve_ref(repo, options.ref)
    ctx = SourceContext(
        repo_path=repo.work_dir,
        git_dir=repo.git_dir,
        base_dir=config.path.parent if config.path else repo.work_dir,
        env=options.env,
        repository=repository_name(options, repo),
    )
    key = settings_key(
        settings.window,
        settings.environments,
        settings.min_confidence,
        [(s.text, s.environment) for s in settings.deploys],
    )
    if options.cache and use_cache:
        prefetch_config(repo)  # for the cache key, and whether this is a partial clone
    # git lists the commits that are new since the cache first: a warm run reads them
    # before anything else. (Started here, not by a thread: a thread must win the GIL back
    # from this busy one, which may take it up to the switch interval.)
    starting = _start_git(repo, head, header.get("head")) if options.cache and use_cache else None
    # Deploy sources wait on git, files or HTTP: read them while the history streams in
    # (started by _history_state once the git log it waits on first is under way).
    pending: list[_Background] = []

    def start_events() -> None:
        if not pending:
            marks = _cached_marks(header, key)
            pending.append(_Background(_read_events, settings, ctx, now, options.cache, marks))

    # git diffs the AI-assisted changes on the other core while Python loads and links deploys
    # (feeding them during the log stream measured slower on 2 cores: three busy processes).
    # A warm run feeds its new commits before it reads the cache (see _load_cache).
    substance = Substance(repo, PathFilter(settings.exclude_paths))
    state = _history_state(
        options,
        repo,
        head,
        config.agents,
        settings,
        header,
        substance,
        (starting, header_registry),
        start_events,
    )
    commits = state.commits
    # (a cached row's verdict is known: only the new rows can need one)
    rows = range(state.cached_rows, len(commits)) if state.cached else commits.evidence
    substance.feed(
        commits.shas[i]
        for i in rows
        if i in commits.evidence and i not in state.verdicts and len(commits.parents[i]) <= 1
    )

    def every_event() -> _EventsRead:
        return _read_events(settings, ctx, now, options.cache, None)

    start_events()
    read: _EventsRead = pending[0].result()
    if read.appended:
        prev = state.cached.outcomes if state.cached is not None else None
        if prev is None or prev.marks != read.based_on:
            read = every_event()
        else:
            read.ignored = _sum_counts(prev.ignored, read.ignored)

    outcomes, unknown, fragile, use, read = _outcomes(
        options, state, substance, read, every_event, settings, now, key
    )
    report = build_report(
        repository={"name": ctx.repository, "head": head, "ref": options.ref},
        commits=commits,
        outcomes=outcomes,
        unknown_deploys=unknown,
        ignored_deploys=read.ignored,
        now=now,
        window=settings.window,
        period=period,
        min_confidence=settings.min_confidence,
        settings={
            "deploys": [s.text for s in settings.deploys],
            "environments": settings.environments,
            "exclude_paths": settings.exclude_paths,
            "config": str(config.path) if config.path else None,
            "scorer_version": __version__,
        },
        missing_objects=len(state.missing) + commits.missing_parents,
    )
    if options.cache:
        kept_state = snapshot(
            outcomes,
            key=key,
            now=now,
            kept=read.kept,
            unknown=unknown,
            table=commits,
            marks=read.marks,
            ignored=read.ignored,
            fragile=fragile,
        )
        state.save(options.cache, head, kept_state)
        if read.memos is not None:
            cache.save_memos(options.cache, *read.memos)
    history = History(head=head, ref=options.ref, commits=commits, index=commits.index)
    return ScanResult(
        report=report,
        history=history,
        outcomes=outcomes,
        settings=settings,
        repo=repo,
        cache_use=use,
        events_read="new" if read.appended else "all",
    )


def _kept_events(
    events: list[DeployEvent], settings: Settings, now: datetime, unfinished: dict[str, int]
) -> tuple[list[DeployEvent], dict[str, int]]:
    """The events of the configured environments up to ``now``, and what was left out."""
    ignored: Counter = Counter()
    kept: list[DeployEvent] = []
    for ev in events:
        if ev.environment not in settings.environments:
            ignored["other_environment"] += 1
        elif ev.time > now:
            ignored["after_now"] += 1  # not happened yet at `now`: reports are reproducible
        else:
            kept.append(ev)
    if unfinished:
        ignored["unfinished"] = sum(unfinished.values())
    return kept, dict(ignored)


def _outcomes(
    options: ScanOptions,
    state: _HistoryState,
    substance: Substance,
    read: _EventsRead,
    every_event: Callable[[], _EventsRead],
    settings: Settings,
    now: datetime,
    key: str,
) -> tuple[Outcomes, Sequence[DeployEvent], list[str] | None, str, _EventsRead]:
    """Outcomes carried forward from the cache when it can vouch for them, else computed
    over the whole history; the deploys not in it; the fragile names an incremental run
    carries; how the cache was used (ScanResult.cache_use); and the events they came from
    (``every_event()`` when ``read`` had only the new ones and they could not be used)."""

    def judge(ids: list[int]) -> dict[int, bool]:
        return state.judge(ids, substance)

    cached = state.cached
    if cached is not None and cached.outcomes is not None:
        try:
            outcomes, unknown, fragile = advance(
                cached.outcomes,
                key=key,
                graph=state.graph,
                table=state.commits,
                cached_rows=state.cached_rows,
                kept=read.kept,
                appended=read.appended,
                window=settings.window,
                now=now,
                min_confidence=settings.min_confidence,
                substantive=judge,
                verdicts=state.verdicts,
            )
        except NotIncremental:
            pass
        else:
            # The trivial-change bursts of the cache, plus this run's new trivial changes.
            bursts = {k: list(v) for k, v in cached.outcomes.bursts.items()}
            new = trivial_rows(outcomes, state.cached_rows)
            outcomes.bursts = fold_bursts(state.commits, new, bursts)
            return outcomes, unknown, fragile, "incremental", read
    if read.appended:
        read = every_event()
    graph = state.graph
    ordered = order_events(read.kept)
    resolution = resolve_events(ordered, graph.shas, graph.index)
    outcomes = compute_outcomes(
        graph,
        state.commits,
        resolution.events,
        window=settings.window,
        now=now,
        min_confidence=settings.min_confidence,
        substantive=judge,
    )
    if options.cache:
        attach_events(outcomes, ordered, resolution)
        outcomes.bursts = fold_bursts(state.commits, trivial_rows(outcomes), {})
    use = "none" if not options.cache else "cold" if cached is None else "history"
    return outcomes, resolution.unknown, None, use, read


class _EventsRead:
    """The deploy events a run works from, and what to keep of them for the next run."""

    def __init__(
        self,
        kept: list[DeployEvent],
        ignored: dict[str, int],
        marks: dict[str, str],
        memos: tuple[dict, str] | None = None,
        based_on: dict[str, str] | None = None,
    ):
        self.kept = kept  # of the configured environments, up to now
        self.ignored = ignored  # how many were left out, by reason
        self.marks = marks  # what each source said it read (by spec), for the next run
        self.memos = memos  # the sources' memos to save (cache.save_memos), if any
        # The cache's marks, when ``kept`` holds only the events new since they were left
        # (every source vouched for the rest: scorer.deploys.load_appended).
        self.based_on = based_on

    @property
    def appended(self) -> bool:
        return self.based_on is not None


def _read_events(
    settings: Settings,
    ctx: SourceContext,
    now: datetime,
    cache_dir: Path | None,
    marks: dict[str, str] | None,
) -> _EventsRead:
    """Only the events new since the cached run, when it left ``marks`` and every source
    vouches for what it reported then; else every event, with the sources' memos when there
    is a cache to keep them in."""
    if marks is not None:
        found = load_appended(settings.deploys, ctx, marks)
        if found is not None:
            kept, ignored = _kept_events(found[0], settings, now, {})
            return _EventsRead(kept, ignored, found[1], based_on=marks)
    unfinished: dict[str, int] = {}
    new_marks: dict[str, str] = {}
    if not cache_dir:
        events = load_events(settings.deploys, ctx, unfinished)
        kept, ignored = _kept_events(events, settings, now, unfinished)
        return _EventsRead(kept, ignored, new_marks)
    memos, was = cache.load_memos(cache_dir)
    before = {spec: set(memo) for spec, memo in memos.items()}
    events = load_events(settings.deploys, ctx, unfinished, memos, new_marks)
    # Memo entries are facts of immutable objects by id: the memos changed if their keys did.
    same = before == {spec: set(memo) for spec, memo in memos.items()}
    kept, ignored = _kept_events(events, settings, now, unfinished)
    return _EventsRead(kept, ignored, new_marks, (memos, was if same else ""))


def _cached_marks(header: dict, key: str) -> dict[str, str] | None:
    """The marks the cached run left, if its outcomes can be carried forward with only new
    events: the same settings, and no event it left out for being later than its now."""
    outcomes = header.get("outcomes")
    if not isinstance(outcomes, dict) or outcomes.get("key") != key:
        return None
    ignored, marks = outcomes.get("ignored"), outcomes.get("marks")
    if not isinstance(ignored, dict) or ignored.get("after_now") or ignored.get("unfinished"):
        return None
    if not isinstance(marks, dict) or not all(isinstance(m, str) for m in marks.values()):
        return None
    return marks


def _sum_counts(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return dict(sorted(out.items()))


def _read_header(directory: Path) -> dict:
    """The cache's header (empty when there is none, or it cannot be read: ``cache.load``
    then says why)."""
    try:
        header = cache.read_header(directory)
    except (OSError, ValueError):
        return {}
    return header if isinstance(header, dict) else {}


class _Background:
    """Run one call in a daemon thread; ``result()`` waits and re-raises. A daemon thread,
    unlike a pool's, never holds up the exit when the scan fails before asking for it (an
    API source may still be waiting out a rate limit)."""

    def __init__(self, fn: Callable[..., object], *args: object):
        self._value: object = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[..., object], args: tuple) -> None:
        try:
            self._value = fn(*args)
        except BaseException as err:  # handed to the caller by result()
            self._error = err

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


class _HistoryState:
    """The commit table and graph of this run, with what an earlier run already knew."""

    def __init__(
        self,
        commits: CommitTable,
        graph: Graph,
        verdicts: dict[int, bool],
        missing: set[int],
        key: str = "",
        cached: CachedHistory | None = None,
        registry: Registry | None = None,
    ):
        self.commits = commits
        self.graph = graph
        self.verdicts = verdicts  # row -> substantive
        self.missing = missing  # rows judged without all their objects
        self.key = key  # cache key
        self.cached = cached
        self.registry = registry

    @property
    def cached_rows(self) -> int:
        """Rows the cache held (a warm run appends after them)."""
        return self.cached.rows if self.cached is not None else 0

    def judge(self, ids: list[int], substance: Substance) -> dict[int, bool]:
        """Substantive verdicts, from the cache where known, else from the diff jobs."""
        shas, verdicts = self.commits.shas, self.verdicts
        need = [i for i in ids if i not in verdicts]
        if need:
            found = substance.verdicts(shas[i] for i in need)
            for i in need:
                verdicts[i] = found[shas[i]]
                if shas[i] in substance.missing:
                    self.missing.add(i)
        return {i: verdicts[i] for i in ids}

    def save(self, directory: Path, head: str, outcomes: CachedOutcomes) -> None:
        """Write the cache, unless it would say exactly what it says already."""
        cached = self.cached
        if (
            cached is not None
            and cached.head == head
            and cached.rows == len(self.commits)
            and len(cached.verdicts) == len(self.verdicts)
            and cached.outcomes is not None
            and cached.outcomes.meta() == outcomes.meta()
            and cached.outcomes.sections() == outcomes.sections()
        ):
            return
        cache.save(
            directory,
            self.key,
            CachedHistory(
                head=head,
                table=self.commits,
                generation=self.graph.generation,
                verdicts=self.verdicts,
                missing=sorted(self.missing),
                outcomes=outcomes,
                extras={"registry": self.registry.to_data()} if self.registry else {},
            ),
            self.cached,
        )


def _history_state(
    options: ScanOptions,
    repo: Repo,
    head: str,
    config_agents: list,
    settings: Settings,
    header: dict,
    substance: Substance,
    early: tuple[tuple | None, Registry | None],
    start_events: Callable[[], None],
) -> _HistoryState:
    """From the cache plus the commits that are new since, or from the whole history.
    ``start_events`` is called once the history's own git processes are under way."""
    keys: list[str] = []

    def key() -> str:  # asked once the cache file is read (git config runs meanwhile)
        if not keys:
            keys.append(cache_key(repo, config_agents, settings) if options.cache else "")
        return keys[0]

    starting, header_registry = early
    cached, log, rows, registry = (
        _load_cache(
            options, repo, head, header, key, substance, starting, header_registry, start_events
        )
        if starting is not None
        else (None, None, None, None)
    )
    start_events()
    if cached is None or registry is None:
        registry = _registry(cached, config_agents)
    if cached is None:
        commits = read_history(repo, head, registry, options.progress)
        graph = Graph(commits.shas, commits.parents, commits.index)
        return _HistoryState(commits, graph, {}, set(), key(), registry=registry)
    commits = cached.table
    if cached.head != head:
        read_history(repo, head, registry, options.progress, commits, (cached.head,), log, rows)
    graph = Graph(commits.shas, commits.parents, commits.index, cached.generation)
    verdicts, missing = dict(cached.verdicts), set(cached.missing)
    return _HistoryState(commits, graph, verdicts, missing, key(), cached, registry)


def _registry(cached: CachedHistory | None, config_agents: list) -> Registry:
    """The agent registry: compiled from the cache's copy when there is one (its key covers
    the registry's sources), which spares parsing agents.yml (~25 ms with yaml)."""
    data = cached.extras.get("registry") if cached is not None else None
    registry = _registry_from(data) if data is not None else None
    return registry if registry is not None else load_registry(config_agents)


def cache_key(repo: Repo, config_agents: list, settings: Settings) -> str:
    """Everything besides the commits that shapes what the cache holds."""
    return cache.fingerprint(
        registry_source_digest(config_agents),
        settings.exclude_paths,
        mailmap_bytes(repo),
        notes_tip(repo),
    )


def _load_cache(
    options: ScanOptions,
    repo: Repo,
    head: str,
    header: dict,
    key: Callable[[], str],
    substance: Substance,
    starting: tuple,
    header_registry: Registry | None,
    start_events: Callable[[], None],
) -> tuple[CachedHistory | None, subprocess.Popen | None, list[tuple] | None, Registry | None]:
    """The cached history when it can be extended to ``head``, with either the ``git log``
    of the commits since, already started, or their rows, already read (and the registry
    that read them); otherwise all None, after one line on stderr saying why (except when
    there simply is no cache yet).

    The commits that are new since the cache are read before the cache itself when the
    cache's header holds its agent registry: their AI-assisted changes are then handed to
    ``git diff-tree`` (``substance``) at once, and git diffs them while Python reads the
    cache, rather than after."""
    cached_head = header.get("head")
    rows = None
    registry = header_registry
    ahead_later, log = starting
    try:
        if registry is not None and ahead_later is not None and log is not None:
            rows = _new_rows(
                read_rows(repo, head, registry, options.progress, (cached_head,), log),
                str(cached_head),
                ahead_later,
                options.ref,
            )
            log = None
            substance.feed(r[0] for r in rows if r[7] and len(r[1]) <= 1)  # sha, parents, evidence
        # git lists the tags while Python reads the cache: started only now, so as not to
        # hold up the log on a 2-core machine.
        start_events()
        state = cache.load(options.cache, key)
        if rows is not None:
            if state.head != cached_head:
                raise CacheInvalid("it changed while it was read")
        elif state.head != head:
            ahead = (
                ahead_later()
                if ahead_later is not None and state.head == cached_head
                else is_ancestor(repo, state.head, head)
            )
            _check_ahead(ahead, state.head, options.ref)
    except CacheInvalid as why:
        _stop(starting[1])  # the log of new commits, if it was started
        if str(why) != "no cache yet":
            print(f"scorer: cache not used: {why}; scanning the whole history", file=sys.stderr)
        return None, None, None, None
    if log is not None and state.head != cached_head:
        _stop(log)
        log = None
    return state, log, rows, registry


def _new_rows(
    rows: Iterator[tuple], cached_head: str, ahead_later: Callable[[], bool | None], ref: str
) -> list[tuple]:
    """The rows of ``git log HEAD ^CACHED``, when CACHED is in the history of HEAD; else
    CacheInvalid. No need to wait for ``merge-base --is-ancestor`` in the common case:
    CACHED is an ancestor exactly when it is a parent of one of those commits (the commit
    before it on any path from HEAD is not reachable from CACHED, or the graph would have a
    cycle). git's answer is asked only if it is not, or if the log grows long (a rewritten
    history lists everything since the rewrite: stop early rather than read it all)."""
    out: list[tuple] = []
    asked = False
    try:
        for row in rows:
            out.append(row)
            if len(out) == _ASK_ANCESTRY_AFTER:
                asked = True
                _check_ahead(ahead_later(), cached_head, ref)
    except RepositoryError:  # git log fails on a head it does not have: another repository
        _check_ahead(ahead_later(), cached_head, ref)
        raise
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()  # stopped early: git is told (its pipe closes) and waited for
    if not any(cached_head in row[1] for row in out):  # row[1]: the parents' SHAs
        _check_ahead(False if asked else ahead_later(), cached_head, ref)
    return out


_ASK_ANCESTRY_AFTER = 10_000


def _check_ahead(ahead: bool | None, cached_head: str, ref: str) -> None:
    if ahead is None:
        raise CacheInvalid("it was made for another repository")
    if not ahead:
        raise CacheInvalid(_not_ahead(cached_head, ref))


def _not_ahead(cached_head: str, ref: str) -> str:
    return (
        f"its head {cached_head[:12]} is not in the history of {ref} "
        "(a cache of another branch, or a rewritten history)"
    )


def _header_registry(header: dict) -> Registry | None:
    """The agent registry a cache of this scorer keeps in its header, or None."""
    if header.get("format") != cache.FORMAT or header.get("scorer_version") != __version__:
        return None
    data = (header.get("extras") or {}).get("registry")
    return _registry_from(data) if data is not None else None


def _registry_from(data: object) -> Registry | None:
    """The registry a cache keeps (its key covers the registry's sources), or None."""
    try:
        return Registry.from_data(data)  # type: ignore[arg-type]
    except (ValueError, TypeError, AttributeError):
        return None


def _start_git(
    repo: Repo, head: str, cached_head: object
) -> tuple[Callable[[], bool | None] | None, subprocess.Popen | None]:
    """When the cache names another head: the log of what is new since it, started, and the
    ancestry question, asked of git only when called (``_new_rows`` mostly answers it from
    the log: a process fewer on the common path)."""
    if isinstance(cached_head, str) and cached_head != head and _is_hex(cached_head):
        log = start_log(repo, head, (cached_head,))
        return (lambda: is_ancestor(repo, cached_head, head)), log
    return None, None


def _stop(proc: subprocess.Popen | None) -> None:
    """Stop a git process whose output is not wanted after all."""
    if proc is not None:
        proc.kill()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        proc.wait()


def _is_hex(text: str) -> bool:
    return 4 <= len(text) <= 64 and all(c in "0123456789abcdef" for c in text)


def _period(options: ScanOptions, now: datetime, window: timedelta) -> Period:
    if options.since and options.until and options.since >= options.until:
        raise InputError("--since must be before --until")
    return headline_period(now, window, options.since, options.until)


def repository_name(options: ScanOptions, repo: Repo) -> str:
    return options.repository or options.env.get("GITHUB_REPOSITORY") or repo.name
