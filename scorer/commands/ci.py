"""``scorer ci`` — inside GitHub Actions: scan, report file, job summary, outputs, PR comment.

Takes the same options as ``scan`` and reads the standard Actions environment:
``GITHUB_EVENT_NAME``, ``GITHUB_EVENT_PATH``, ``GITHUB_REPOSITORY``, ``GITHUB_SHA``,
``GITHUB_WORKSPACE``, ``GITHUB_API_URL``, ``GITHUB_TOKEN``, ``GITHUB_OUTPUT``,
``GITHUB_STEP_SUMMARY`` (and ``RUNNER_TEMP`` for the default report path). On every event it
scans, writes the JSON report (atomically), appends the job summary and sets the outputs; on
``pull_request``/``pull_request_target`` it keeps the PR comment up to date.

Standard output carries only lines scorer writes itself (numbers and workflow commands), never
a commit subject or another attacker-controlled string: the runner executes ``::command::``
lines it finds there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from scorer.commands.scan import add_scan_arguments, options_from_args, write_outputs
from scorer.errors import InputError, ScorerError, ServiceError
from scorer.formats import renderer
from scorer.formats.numbers import amount, rate
from scorer.formats.words import plural
from scorer.git.diffs import Substance
from scorer.git.paths import PathFilter
from scorer.github import actions
from scorer.github.comment import (
    DEFAULT_AUTHORS,
    PrCommits,
    PullRequest,
    classify,
    pr_commits,
    render_comment,
    render_commit_list,
    upsert_comment,
)
from scorer.pipeline import ScanResult, run_scan
from scorer.rest import RestClient
from scorer.util.atomic import write_atomic
from scorer.util.textsafe import one_line

PR_EVENTS = ("pull_request", "pull_request_target")
REPORT_NAME = "normalized-deployments.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_scan_arguments(p)
    p.add_argument(
        "--report-path",
        type=Path,
        metavar="FILE",
        help=f"where the JSON report is written (default: $RUNNER_TEMP/{REPORT_NAME}, "
        f"else ./{REPORT_NAME})",
    )
    p.add_argument(
        "--comment",
        choices=("on", "off"),
        default="on",
        help="keep one comment up to date on pull requests (default: on)",
    )
    p.add_argument(
        "--comment-author",
        action="append",
        metavar="LOGIN",
        help="login that posts the comment, for an App token (default: github-actions[bot])",
    )


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    try:
        return _run(args, env)
    except ScorerError as err:
        if actions.in_actions(env):
            actions.error(str(err), title="scorer")
        raise


def _run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    workspace = env.get("GITHUB_WORKSPACE")
    path = args.path
    if str(path) == "." and workspace:
        path = Path(workspace)
    options = options_from_args(args, path)
    options.env = dict(env)
    options.repository = args.repository or env.get("GITHUB_REPOSITORY") or None
    options.progress = False
    result = run_scan(options)
    report = result.report

    # Each sink is written on its own: one that fails (full disk, a directory in the way, an
    # unwritable GITHUB_OUTPUT) is one ::error:: line, and the others are still written.
    failed: list[ScorerError] = []
    report_path = _report_path(args, env)
    report_ok = _sink(failed, env, write_atomic, report_path, renderer("json")(report))
    _sink(failed, env, write_outputs, args, report)
    event = env.get("GITHUB_EVENT_NAME", "")
    on_pr = event in PR_EVENTS and (args.comment == "on" or bool(env.get("GITHUB_EVENT_PATH")))
    pull = pull_request_commits(result, env) if on_pr else None
    _sink(
        failed,
        env,
        _write_summary,
        renderer("markdown")(report),
        pull,
        env.get("GITHUB_STEP_SUMMARY"),
    )
    m = report["metric"]
    _sink(
        failed,
        env,
        actions.set_outputs,
        {
            "normalized-deployments": f"{m['normalized_deployments']:.4f}",
            "ai-deploys-survived": m["ai_deploys_survived"],
            "deploys-survived": m["deploys_survived"],
            "contributors": m["contributors"],
            "report-path": str(report_path) if report_ok else "",
        },
        env.get("GITHUB_OUTPUT"),
    )
    sha = env.get("GITHUB_SHA", "").strip().lower()
    if sha and sha != result.history.head and actions.in_actions(env):
        actions.notice(
            f"scorer scanned {result.history.head[:12]}, not the workflow's GITHUB_SHA "
            f"{sha[:12]} (the checkout points elsewhere)"
        )
    print(
        f"scorer: normalized deployments {rate(m['normalized_deployments'])} = "
        f"{plural(m['ai_deploys_survived'], 'AI deploy')} survived / "
        f"{plural(float(amount(m['developer_weeks'])), 'developer-week')}; "
        f"report: {report_path}",
        flush=True,
    )
    if pull is not None and args.comment == "on":
        try:
            comment_on_pr(
                result, env, authors=args.comment_author or list(DEFAULT_AUTHORS), pull=pull
            )
        except ServiceError as err:
            # The score, report, summary and outputs are what the step is for: a comment the
            # API will not take is a warning, and the step succeeds.
            _warn(env, f"scorer: the pull request comment was not written: {err}")
    elif event in PR_EVENTS and args.comment == "on":
        actions.notice("scorer: the event payload names no pull request; no comment")
    return max((err.exit_code for err in failed), default=0)


def _sink(failed: list[ScorerError], env: Mapping[str, str], write, *args: object) -> bool:
    """``write(*args)``; a ScorerError is one ::error:: (in Actions) and one stderr line."""
    try:
        write(*args)
    except ScorerError as err:
        failed.append(err)
        if actions.in_actions(env):
            actions.error(str(err), title="scorer")
        print(f"scorer: error: {one_line(err)}", file=sys.stderr, flush=True)
        return False
    return True


def _warn(env: Mapping[str, str], message: str) -> None:
    if actions.in_actions(env):
        actions.warning(message, title="scorer")
    print(one_line(message), file=sys.stderr, flush=True)


def _write_summary(
    markdown: str, pull: tuple[PullRequest, PrCommits] | None, path: str | None
) -> None:
    """The report, then (on a pull request) every one of its commits, as much as the step
    summary's 1 MiB leaves room for: the comment lists the AI commits and counts the rest."""
    if pull is not None and path:
        p = Path(path)
        used = p.stat().st_size if p.exists() else 0
        room = actions.SUMMARY_LIMIT - used - len(markdown.encode("utf-8")) - 256
        if room > 0:
            listing = render_commit_list(*pull, limit=room)
            if listing:
                markdown = markdown.rstrip("\n") + "\n\n" + listing
    actions.write_summary(markdown, path)


def _report_path(args: argparse.Namespace, env: Mapping[str, str]) -> Path:
    if args.report_path:
        return Path(args.report_path).resolve()
    runner_temp = env.get("RUNNER_TEMP")
    return (Path(runner_temp) / REPORT_NAME) if runner_temp else Path(REPORT_NAME).resolve()


def _event_payload(env: Mapping[str, str]) -> dict:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        raise InputError("GITHUB_EVENT_PATH is not set: scorer ci runs inside GitHub Actions")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(f"cannot read the event payload: {err.strerror}", path=path) from None
    except ValueError as err:
        raise InputError(f"the event payload is not JSON: {err}", path=path) from None
    return data if isinstance(data, dict) else {}


def pull_request_commits(
    result: ScanResult, env: Mapping[str, str]
) -> tuple[PullRequest, PrCommits] | None:
    """The pull request of the event and its commits, judged; None if the payload names none."""
    pr = PullRequest.from_event(_event_payload(env))
    if pr is None:
        return None
    settings = result.settings
    commits = pr_commits(result.history, pr.base_sha, pr.head_sha)
    if commits is None:
        return pr, PrCommits(
            missing=f"the head {pr.head_sha[:12]} is not in the scanned history (check out the "
            "pull request's merge commit, the default of actions/checkout on pull_request, "
            "with fetch-depth: 0)"
        )
    # The pipeline judged the AI changes its report can show; a pull request may carry older
    # ones (a branch rebased from weeks ago keeps its author dates): those are diffed here.
    index = result.history.index
    outcomes = result.outcomes
    unjudged = [
        c.sha
        for c in commits
        if c.is_change and c.evidence and index.get(c.sha, -1) not in outcomes.substantive
    ]
    found = (
        Substance(result.repo, PathFilter(settings.exclude_paths)).verdicts(unjudged)
        if unjudged
        else {}
    )

    def substantive(sha: str) -> bool:
        verdict = outcomes.substantive.get(index.get(sha, -1))
        return found.get(sha, True) if verdict is None else verdict

    return pr, PrCommits(
        rows=classify(
            commits,
            min_confidence=settings.min_confidence,
            substantive=substantive,
            reverted=lambda sha: index.get(sha, -1) in outcomes.reverted,
            is_revert=lambda sha: index.get(sha, -1) in outcomes.reverts,
            review_bots=result.history.commits.review_bots,
        )
    )


def comment_on_pr(
    result: ScanResult,
    env: Mapping[str, str],
    *,
    authors: list[str],
    pull: tuple[PullRequest, PrCommits] | None = None,
) -> str:
    """Build and post (or update) the PR comment; returns what :func:`upsert_comment` did."""
    if pull is None:
        pull = pull_request_commits(result, env)
    if pull is None:
        actions.notice("scorer: the event payload names no pull request; no comment")
        return "skipped"
    pr, found = pull
    repository = env.get("GITHUB_REPOSITORY", "")
    if not env.get("GITHUB_TOKEN") and not env.get("GH_TOKEN"):
        actions.notice("scorer: no GITHUB_TOKEN, so no pull request comment")
        return "skipped"
    settings = result.settings
    body = render_comment(
        result.report,
        pr,
        found,
        min_confidence=settings.min_confidence,
        window_days=settings.window.total_seconds() / 86400,
    )
    client = RestClient.from_github_env(env)
    done = upsert_comment(client, repository, pr.number, body, authors=authors)
    print(f"scorer: pull request comment {done}", file=sys.stderr, flush=True)
    return done
