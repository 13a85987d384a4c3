"""A scan that reuses what the last run on this repository learned (``--cache DIR``).

It implements ``scorer.accelerator.Accelerator``: each stage is answered from the cache where
the cache can vouch for the answer, else computed as a plain scan computes it.

* history: the cached commit table, plus the commits that are new since its head. Those are
  read before the cache itself when the cache's header holds its agent registry: their AI
  changes go to ``git diff-tree`` at once, and git diffs them while Python reads the cache.
* events: only those new since the cached run, when every deploy source vouches for the rest
  (``DeploySource.events_since``); else all, with the sources' memos.
* outcomes: carried forward (``advance``) when the settings and the old events are unchanged;
  else recomputed from the cached commits.
* finish: the cache is written, unless it would say exactly what it says already.

Anything the cache cannot vouch for is recomputed, silently when the report is the same
either way, with one line on stderr when the cache is not used at all.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path

from scorer import __version__
from scorer.accelerator import Accelerator, EventsRead, ScannedHistory, containment
from scorer.attribution.registry import Registry, load_registry, registry_source_digest
from scorer.attribution.rows import add_rows, read_rows
from scorer.config import Settings
from scorer.deploys import kept_events, load_appended, load_events
from scorer.deploys.interface import SourceContext
from scorer.errors import RepositoryError
from scorer.git.blame import Added, Blamed, Blamer
from scorer.git.diffs import Substance
from scorer.git.log import (
    Repo,
    history_rewrites,
    is_ancestor,
    mailmap_bytes,
    notes_tip,
    prefetch_config,
    start_log,
    stop_log,
)
from scorer.git.paths import PathFilter
from scorer.incremental import cache
from scorer.incremental import verdicts as verdict_store
from scorer.incremental.advance import NotIncremental, advance, event_store, settings_key, snapshot
from scorer.incremental.blames import BlameCache
from scorer.incremental.cache import CachedHistory, CachedOutcomes, CacheInvalid
from scorer.incremental.rules import rules_digest
from scorer.incremental.verdicts import verdict_key
from scorer.model import CommitRow, DeployEvent
from scorer.outcomes.flags import Outcomes
from scorer.outcomes.graph import Graph
from scorer.outcomes.reach import Reach

_ASK_ANCESTRY_AFTER = 10_000


class _Events(EventsRead):
    """Deploy events, and what to keep of them for the next run."""

    def __init__(
        self,
        kept: list[DeployEvent],
        ignored: dict[str, int],
        marks: dict[str, str],
        memos: tuple[dict, str] | None = None,
        based_on: dict[str, str] | None = None,
    ):
        super().__init__(kept, ignored)
        self.marks = marks  # what each source said it read (by spec), for the next run
        self.memos = memos  # the sources' memos to save (cache.save_memos), if any
        # The cache's marks, when ``kept`` holds only the events new since they were left
        # (every source vouched for the rest: scorer.deploys.load_appended).
        self.based_on = based_on

    @property
    def appended(self) -> bool:  # type: ignore[override]
        return self.based_on is not None


class Session(Accelerator):
    """A scan with a cache directory. ``fresh``: ignore what it holds (it is rewritten)."""

    def __init__(self, directory: Path, *, ref: str = "HEAD", fresh: bool = False):
        self.directory = directory
        self.ref = ref
        self.fresh = fresh
        self.use = "cold"
        self.header: dict = {}
        self.header_registry: Registry | None = None
        self.cached: CachedHistory | None = None
        self._key = ""  # the cache key (history), known once the history is read
        self._state_key = ""  # the settings that shape outcomes
        self._registry: Registry | None = None
        self._known: dict[str, bool] = {}  # verdicts kept apart (a cold run reads them)
        self._verdict_key = ""  # their key, known once the history is asked for
        self._store = None  # the kept events, as the cache keeps them
        self._fragile: list[str] | None = None
        self._every_event: Callable[[], _Events] | None = None
        self._now: datetime | None = None
        self._judged_from: float | None = None
        self._blame_cache: BlameCache | None = None

    # --- history ------------------------------------------------------------------------

    def prepare(self) -> None:
        if not self.fresh:
            self.header = _read_header(self.directory)
            self.header_registry = _header_registry(self.header)

    def history(
        self,
        repo: Repo,
        head: str,
        settings: Settings,
        substance: Substance,
        start_events: Callable[[], None],
        progress: bool,
    ) -> ScannedHistory:
        self._state_key = _settings_key(settings)
        rewrites = history_rewrites(repo)
        self._verdict_key = verdict_key(settings.exclude_paths, rewrites)
        keys: list[str] = []

        def key() -> str:  # asked once the cache file is read (git config runs meanwhile)
            if not keys:
                keys.append(cache_key(repo, settings, rewrites))
            return keys[0]

        cached = log = rows = registry = None
        if not self.fresh:
            prefetch_config(repo)  # for the cache key, and whether this is a partial clone
            # git lists the commits that are new since the cache first: a warm run reads them
            # before anything else. (Started here, not by a thread: a thread must win the GIL
            # back from this busy one, which may take it up to the switch interval.)
            starting = _start_git(repo, head, self.header.get("head"))
            cached, log, rows, registry = self._load(
                repo, head, key, substance, starting, start_events, progress
            )
        start_events()
        if cached is None or registry is None:
            registry = _registry(cached, settings)
        self._registry = registry
        if cached is None:
            # A cold run: git is asked only about changes no earlier run judged (verdicts
            # outlive the commit cache), and fed as the history streams in.
            self._known = verdict_store.load(self.directory, self._verdict_key)
            substance.remember(self._known)
            history = self.whole_history(read_rows(repo, head, registry, progress), substance)
            self._key = key()
            return history
        self._key = key()
        self.cached = cached
        self.use = "history"
        commits = cached.table
        if cached.head != head:
            if rows is None:
                rows = read_rows(repo, head, registry, progress, (cached.head,), log)
            add_rows(commits, rows)
        graph = Graph(commits.shas, commits.parents, commits.index, cached.generation)
        return ScannedHistory(
            commits, graph, dict(cached.verdicts), set(cached.missing), first_new_row=cached.rows
        )

    def _load(
        self,
        repo: Repo,
        head: str,
        key: Callable[[], str],
        substance: Substance,
        starting: tuple,
        start_events: Callable[[], None],
        progress: bool,
    ) -> tuple[CachedHistory | None, subprocess.Popen | None, list | None, Registry | None]:
        """The cached history when it can be extended to ``head``, with either the ``git log``
        of the commits since, already started, or their rows, already read (and the registry
        that read them); otherwise all None, after one line on stderr saying why (except when
        there simply is no cache yet)."""
        cached_head = self.header.get("head")
        rows = None
        registry = self.header_registry
        ahead_later, log = starting
        try:
            if registry is not None and ahead_later is not None and log is not None:
                rows = _new_rows(
                    read_rows(repo, head, registry, progress, (cached_head,), log),
                    str(cached_head),
                    ahead_later,
                    self.ref,
                )
                log = None
                substance.feed(r.sha for r in rows if r.evidence and len(r.parents) <= 1)
            # git lists the tags while Python reads the cache: started only now, so as not
            # to hold up the log on a 2-core machine.
            start_events()
            state = cache.load(self.directory, key)
            if rows is not None:
                if state.head != cached_head:
                    raise CacheInvalid("it changed while it was read")
            elif state.head != head:
                ahead = (
                    ahead_later()
                    if ahead_later is not None and state.head == cached_head
                    else is_ancestor(repo, state.head, head)
                )
                _check_ahead(ahead, state.head, self.ref)
        except CacheInvalid as why:
            stop_log(starting[1])  # the log of new commits, if it was started
            if str(why) != "no cache yet":
                print(f"scorer: cache not used: {why}; scanning the whole history", file=sys.stderr)
            return None, None, None, None
        if log is not None and state.head != cached_head:
            stop_log(log)
            log = None
        return state, log, rows, registry

    # --- events -------------------------------------------------------------------------

    def events(self, settings: Settings, ctx: SourceContext, now: datetime) -> EventsRead:
        """Only the events new since the cached run, when it left marks and every source
        vouches for what it reported then; else every event, with the sources' memos."""
        self._now = now
        self._every_event = lambda: self._all_events(settings, ctx, now)
        marks = None if self.fresh else _cached_marks(self.header, _settings_key(settings))
        if marks is not None:
            found = load_appended(settings.deploys, ctx, marks)
            if found is not None:
                kept, ignored = kept_events(found[0], settings.environments, now)
                return _Events(kept, ignored, found[1], based_on=marks)
        return self._all_events(settings, ctx, now)

    def _all_events(self, settings: Settings, ctx: SourceContext, now: datetime) -> _Events:
        unfinished: dict[str, int] = {}
        new_marks: dict[str, str] = {}
        memos, was = cache.load_memos(self.directory)
        before = {spec: set(memo) for spec, memo in memos.items()}
        events = load_events(settings.deploys, ctx, unfinished, memos, new_marks)
        # Memo entries are facts of immutable objects by id: the memos changed if their keys
        # did.
        same = before == {spec: set(memo) for spec, memo in memos.items()}
        kept, ignored = kept_events(events, settings.environments, now, unfinished)
        return _Events(kept, ignored, new_marks, (memos, was if same else ""))

    def deployed_history(
        self,
        history: ScannedHistory,
        repo: Repo,
        head: str,
        read: EventsRead,
        settings: Settings,
        progress: bool,
    ) -> EventsRead:
        """Only the new events can name a commit the cached history lacks, when the cached run
        vouched for the rest; when it cannot (no cache after all, or other marks), every
        event is read first."""
        assert isinstance(read, _Events) and self._every_event is not None
        prev = self.cached.outcomes if self.cached is not None else None
        if read.appended:
            if prev is None or prev.marks != read.based_on:
                read = self._every_event()
            else:
                read.ignored = _sum_counts(prev.ignored, read.ignored)
        return super().deployed_history(history, repo, head, read, settings, progress)

    # --- outcomes -----------------------------------------------------------------------

    def reach(self, trend: float, full: float, until: float) -> Reach:
        """Every AI change since the period's start is judged: the next runs' periods move
        over those after it, and a warm run judges only new commits (and what moved)."""
        return Reach(trend, full)

    def outcomes(
        self,
        history: ScannedHistory,
        read: EventsRead,
        settings: Settings,
        now: datetime,
        substance: Substance,
        reach: Reach | None = None,
    ):
        assert isinstance(read, _Events) and self._every_event is not None
        judge_from = None if reach is None else reach.full
        self._judged_from = judge_from
        prev = self.cached.outcomes if self.cached is not None else None
        if prev is not None:
            try:
                outcomes, unknown, fragile, store = advance(
                    prev,
                    key=self._state_key,
                    graph=history.graph,
                    table=history.commits,
                    cached_rows=history.first_new_row or 0,
                    kept=read.kept,
                    appended=read.appended,
                    window=settings.window,
                    now=now,
                    min_confidence=settings.min_confidence,
                    substantive=lambda ids: history.judge(ids, substance),
                    verdicts=history.verdicts,
                    contains=containment(history, settings, substance),
                    reach=reach,
                )
            except NotIncremental:
                pass
            else:
                self.use = "incremental"
                self._store, self._fragile = store, fragile
                self._judged_from = _earliest(prev.judged_from, judge_from)
                return outcomes, unknown, read
        if read.appended:
            read = self._every_event()
        return super().outcomes(history, read, settings, now, substance, reach)

    def linked(self, ordered: list[DeployEvent], resolution, outcomes: Outcomes) -> None:
        self._store = event_store(ordered, resolution, outcomes.deploys)

    # --- code survival (section 10) ------------------------------------------------------

    def _blames(self) -> BlameCache:
        if self._blame_cache is None:
            self._blame_cache = BlameCache(self.directory, fresh=self.fresh)
        return self._blame_cache

    def added_files(self, repo: Repo, shas: list[str], exclude: PathFilter) -> Added:
        try:
            return self._blames().added(repo, shas, exclude)
        except (TypeError, ValueError, AttributeError, KeyError):  # a damaged file: without it
            self._blame_cache = BlameCache(self.directory, fresh=True)
            return super().added_files(repo, shas, exclude)

    def blame_files(
        self, blamer: Blamer, asks: Mapping[str, set[str]], added: Added | None
    ) -> dict[str, Blamed]:
        try:
            return self._blames().blame(blamer, asks, added)
        except (TypeError, ValueError, AttributeError, KeyError):
            self._blame_cache = BlameCache(self.directory, fresh=True)
            return super().blame_files(blamer, asks, added)

    def blame_soon(self, blamer: Blamer) -> None:
        if self._blames().empty():  # a warm run may blame nothing: only a cold cache reads ahead
            super().blame_soon(blamer)

    def survival_done(self, deploy_sha: str | None) -> None:
        if self._blame_cache is not None:
            self._blame_cache.save(deploy_sha)

    # --- finish -------------------------------------------------------------------------

    def finish(self, head: str, history: ScannedHistory, outcomes: Outcomes, unknown, read) -> None:
        assert isinstance(read, _Events) and self._now is not None
        kept_state = snapshot(
            outcomes,
            key=self._state_key,
            now=self._now,
            kept=read.kept,
            unknown=unknown,
            table=history.commits,
            marks=read.marks,
            ignored=read.ignored,
            store=self._store,
            fragile=self._fragile,
            judged_from=self._judged_from,
        )
        self._save(head, history, kept_state)
        if read.memos is not None:
            cache.save_memos(self.directory, *read.memos)
        self._keep_verdicts(history)

    def _keep_verdicts(self, history: ScannedHistory) -> None:
        """The verdicts this run learned, kept apart from the commit cache (they outlive it:
        ``scorer.incremental.verdicts``); none judged without their objects."""
        before = self.cached.verdicts if self.cached is not None else {}
        shas, known, missing = history.commits.shas, self._known, history.missing
        learned = {}
        for i, verdict in history.verdicts.items():
            if i not in before and i not in missing:
                sha = shas[i]
                if sha not in known:
                    learned[sha] = verdict
        if learned:
            verdict_store.append(self.directory, self._verdict_key, learned)

    def _save(self, head: str, history: ScannedHistory, outcomes: CachedOutcomes) -> None:
        """Write the cache, unless it would say exactly what it says already."""
        cached = self.cached
        if (
            cached is not None
            and cached.head == head
            and cached.rows == len(history.commits)
            and len(cached.verdicts) == len(history.verdicts)
            and cached.outcomes is not None
            and len(cached.outcomes.events) == len(outcomes.events)
            and cached.outcomes.meta() == outcomes.meta()
            and cached.outcomes.sections() == outcomes.sections()
        ):
            return
        registry = self._registry
        cache.save(
            self.directory,
            self._key,
            CachedHistory(
                head=head,
                table=history.commits,
                generation=history.graph.generation,
                verdicts=history.verdicts,
                missing=sorted(history.missing),
                outcomes=outcomes,
                extras={"registry": registry.to_data()} if registry else {},
            ),
            self.cached,
        )


def _earliest(a: float | None, b: float | None) -> float | None:
    """The earlier of two judge-from times (None: everything was judged)."""
    return None if a is None or b is None else min(a, b)


def cache_key(repo: Repo, settings: Settings, rewrites: bytes) -> str:
    """Everything besides the commits that shapes what the cache holds: the rules that
    decided it, the registry, exclude_paths, .mailmap, the git-ai notes and ``rewrites``
    (``history_rewrites``: git replace and the grafts)."""
    return cache.fingerprint(
        rules_digest(),
        registry_source_digest(settings.config.agents),
        settings.exclude_paths,
        mailmap_bytes(repo),
        notes_tip(repo),
        rewrites,  # git replace / info/grafts: another history, HEAD unmoved
    )


def _settings_key(settings: Settings) -> str:
    return settings_key(
        settings.window,
        settings.environments,
        settings.min_confidence,
        [(s.text, s.environment) for s in settings.deploys],
        settings.version_files,
    )


def _registry(cached: CachedHistory | None, settings: Settings) -> Registry:
    """The agent registry: compiled from the cache's copy when there is one (its key covers
    the registry's sources), which spares parsing agents.yml (~25 ms with yaml)."""
    data = cached.extras.get("registry") if cached is not None else None
    registry = _registry_from(data) if data is not None else None
    return registry if registry is not None else load_registry(settings.config.agents)


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


def _new_rows(
    rows: Iterator[CommitRow], cached_head: str, ahead_later: Callable[[], bool | None], ref: str
) -> list[CommitRow]:
    """The rows of ``git log HEAD ^CACHED``, when CACHED is in the history of HEAD; else
    CacheInvalid. No need to wait for ``merge-base --is-ancestor`` in the common case:
    CACHED is an ancestor exactly when it is a parent of one of those commits (the commit
    before it on any path from HEAD is not reachable from CACHED, or the graph would have a
    cycle). git's answer is asked only if it is not, or if the log grows long (a rewritten
    history lists everything since the rewrite: stop early rather than read it all)."""
    out: list[CommitRow] = []
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
    if not any(cached_head in row.parents for row in out):
        _check_ahead(False if asked else ahead_later(), cached_head, ref)
    return out


def _check_ahead(ahead: bool | None, cached_head: str, ref: str) -> None:
    if ahead is None:
        raise CacheInvalid("it was made for another repository")
    if not ahead:
        raise CacheInvalid(
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


def _is_hex(text: str) -> bool:
    return 4 <= len(text) <= 64 and all(c in "0123456789abcdef" for c in text)
