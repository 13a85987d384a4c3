"""One scan, in the order of METRIC.md: the history and its attribution (sections 1-2), the
deploy events (3), what each deploy shipped and how it and each change ended (4-6), the
metric and its report (7-9).

Each stage is a function of the ones before, ``now`` and the settings. An ``Accelerator``
answers the stages; with ``--cache`` it is ``scorer.incremental.Session``, which reuses the
last run's work where it can vouch for it. The stages never know which one ran.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

from scorer import __version__
from scorer.accelerator import Accelerator, Wanted
from scorer.config import ScanOptions, Settings, effective_settings, load_config
from scorer.deploys import why_none
from scorer.deploys.interface import SourceContext
from scorer.errors import InputError
from scorer.git.diffs import Substance
from scorer.git.log import Repo, open_repo, resolve_ref, stop_log
from scorer.git.paths import PathFilter
from scorer.metrics.period import WEEK, Period, headline_period
from scorer.metrics.report import build_report
from scorer.metrics.survival import not_asked
from scorer.metrics.weekly import person_weeks, report_range
from scorer.model import History
from scorer.outcomes.flags import Outcomes
from scorer.outcomes.reach import until_substantive
from scorer.util.threads import Background, clean_up_later

__all__ = ["ScanOptions", "ScanResult", "run_scan", "scan"]


class ScanResult:
    def __init__(self, report: dict, history: History, outcomes: Outcomes, settings: Settings,
                 repo: Repo, cache_use: str = "none", events_read: str = "all"):  # fmt: skip
        self.report = report
        self.history = history
        self.outcomes = outcomes
        self.settings = settings
        self.repo = repo
        self.cache_use = cache_use  # Accelerator.use
        self.events_read = events_read  # all | new (the sources vouched for the rest)


def run_scan(options: ScanOptions, head_start: subprocess.Popen | None = None) -> ScanResult:
    """``head_start``: ``git log`` of the ref, started before the pipeline was imported
    (``scorer.git.log.head_start``); used when no cache is, stopped if unused."""
    if not options.cache:
        accelerator = Accelerator(head_start)
        try:
            return scan(options, accelerator)
        finally:
            stop_log(accelerator.head_start)  # not taken: the scan failed before its history
    stop_log(head_start)
    from scorer.incremental.cache import CacheInvalid
    from scorer.incremental.session import Session

    try:
        return scan(options, Session(options.cache, ref=options.ref))
    except CacheInvalid as why:
        # A column of the cache is read (and checked) when first needed: damage found then
        # means starting over without it, as if it had been found at the start.
        print(f"scorer: cache not used: {why}; scanning the whole history", file=sys.stderr)
        return scan(options, Session(options.cache, ref=options.ref, fresh=True))


def scan(options: ScanOptions, accelerator: Accelerator) -> ScanResult:
    now = options.now or datetime.now(timezone.utc)
    opening = Background(open_repo, options.path, options.ref)
    accelerator.prepare()
    repo = opening.result()
    config = load_config(options.config, repo.work_dir)
    settings = effective_settings(
        config,
        deploys=options.deploys,
        window=options.window,
        horizon=getattr(options, "horizon", None),
        environments=options.environments,
        min_confidence=options.min_confidence,
    )
    period = _period(options, now, settings.window)
    head = resolve_ref(repo, options.ref)
    ctx = SourceContext(
        repo_path=repo.work_dir,
        git_dir=repo.git_dir,
        base_dir=config.path.parent if config.path else repo.work_dir,
        env=options.env,
        repository=repository_name(options, repo),
    )
    # Sections 1-2: every commit, attributed. The deploy sources (section 3) are read while
    # the history streams in, and git judges the AI changes (section 1's substantive check)
    # on the other core while Python links deploys.
    events = Background(accelerator.events, settings, ctx, now, start=False)
    substance = Substance(repo, PathFilter(settings.exclude_paths), keep_open=True)
    try:
        # The report's weeks are known before the history: git can diff their changes as the
        # history streams in (``accelerator.feeding``).
        since, until = report_range(period)
        reach = accelerator.reach(since, period.since.timestamp(), until)
        accelerator.wanted = Wanted(reach, until, WEEK.total_seconds())
        history = accelerator.history(
            repo, head, settings, substance, events.start, options.progress
        )
        # Review bots' evidence is reported apart; it does not make a change AI-assisted.
        history.commits.review_bots = accelerator.registry(settings).ids_of_kind("review-bot")
        # The report's weeks need verdicts too (contributors are authors of substantive changes):
        # every change of the period, and, in the trend's earlier weeks, one substantive change
        # per person and week; never the whole history's.
        period_rows = history.changes_between(period.since.timestamp(), until)
        people = person_weeks(
            history.commits, history.changes_between(since, period.since.timestamp()), since
        )
        shas, verdicts = history.commits.shas, history.verdicts
        unjudged = [shas[i] for i in period_rows if i not in verdicts]
        substance.feed([*history.unjudged_ai_changes(reach), *unjudged])
        # Each person-week's first change that is not known, and its next as soon as git
        # finds one trivial.
        substance.follow_up(
            [[shas[i] for i in g] for g in people],
            {shas[i]: verdicts[i] for g in people for i in g if i in verdicts},
        )
        # Section 1 (v2): deployed branches that were never merged are history too.
        read = events.result()
        read = accelerator.deployed_history(history, repo, head, read, settings, options.progress)
        # Sections 4-6: what each deploy shipped, which survived, what each change came to.
        outcomes, unknown, read = accelerator.outcomes(
            history, read, settings, now, substance, reach
        )
        history.judge(period_rows, substance)
        until_substantive(people, lambda rows: history.judge(rows, substance))
        # Section 10: how much of the code that reached production is still there.
        survival = (
            accelerator.survival(
                repo, history, outcomes, settings, now, substance, progress=options.progress
            )
            if settings.survival
            else not_asked(settings.horizon, now)
        )
    finally:
        # git's diff processes, kept open between rounds of verdicts, close meanwhile
        clean_up_later(substance.close)
    # Sections 7-9: the metric, with every numerator and denominator.
    commits = history.commits
    report = build_report(
        repository={"name": ctx.repository, "head": head, "ref": options.ref},
        commits=commits,
        outcomes=outcomes,
        verdicts=history.verdicts,
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
        source_notes=why_none(settings.deploys, ctx)
        if not (len(outcomes.deploys) or unknown)
        else (),
        missing_objects=len(history.missing) + commits.missing_parents,
    )
    report["code_survival"] = survival
    accelerator.finish(head, history, outcomes, unknown, read)
    return ScanResult(
        report=report,
        history=History(head=head, ref=options.ref, commits=commits, index=commits.index),
        outcomes=outcomes,
        settings=settings,
        repo=repo,
        cache_use=accelerator.use,
        events_read="new" if read.appended else "all",
    )


def _period(options: ScanOptions, now: datetime, window: timedelta) -> Period:
    if options.since and options.until and options.since >= options.until:
        raise InputError("--since must be before --until")
    return headline_period(now, window, options.since, options.until)


def repository_name(options: ScanOptions, repo: Repo) -> str:
    return options.repository or options.env.get("GITHUB_REPOSITORY") or repo.name
