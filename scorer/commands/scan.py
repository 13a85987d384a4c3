"""``scorer scan [PATH]`` — score a clone, offline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scorer.config import ScanOptions
from scorer.errors import InputError
from scorer.formats import FORMATS, renderer
from scorer.git.log import head_start
from scorer.util.atomic import write_atomic
from scorer.util.times import parse_duration, parse_instant


def _instant(text: str):
    try:
        return parse_instant(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _duration(text: str):
    try:
        return parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_scan_arguments(p: argparse.ArgumentParser, *, with_path: bool = True) -> None:
    """The options ``scan`` and ``ci`` share."""
    if with_path:
        p.add_argument(
            "path", nargs="?", default=".", type=Path, help="repository to scan (default: .)"
        )
    p.add_argument(
        "--deploys",
        action="append",
        metavar="SPEC",
        help="deploy source, repeatable: tags:GLOB | log:FILE | github[:ENV] | "
        "gitlab[:ENV] (default: config, else tags:v*)",
    )
    p.add_argument(
        "--window",
        type=_duration,
        metavar="DURATION",
        help="rollback window, e.g. 7d, 72h, 2w (default: config, else 7d)",
    )
    p.add_argument(
        "--horizon",
        type=_duration,
        metavar="DURATION",
        help="code survival horizon, e.g. 30d (default: config survival_horizon, else 30d)",
    )
    p.add_argument(
        "--now",
        type=_instant,
        metavar="ISO8601",
        help="the instant the report is judged at (default: current time)",
    )
    p.add_argument("--since", type=_instant, metavar="ISO8601", help="period start")
    p.add_argument("--until", type=_instant, metavar="ISO8601", help="period end (exclusive)")
    p.add_argument("--ref", default="HEAD", help="ref whose history is scanned (default: HEAD)")
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="config file (default: PATH/.normalized-deployments.yml if present)",
    )
    p.add_argument(
        "--min-confidence",
        choices=("high", "medium"),
        help="lowest evidence confidence that counts (default: config, else medium)",
    )
    p.add_argument(
        "--environment",
        dest="environments",
        action="append",
        metavar="ENV",
        help="environment that counts, repeatable (default: config, else production)",
    )
    p.add_argument(
        "--repository",
        metavar="OWNER/NAME",
        help="name shown in reports (default: GITHUB_REPOSITORY or directory name)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="incremental cache directory: per-merge runs read only new commits",
    )
    p.add_argument(
        "--json",
        dest="json_file",
        type=Path,
        metavar="FILE",
        help="also write the JSON report here (atomically)",
    )
    p.add_argument(
        "--markdown",
        dest="markdown_file",
        type=Path,
        metavar="FILE",
        help="also write the Markdown report here (atomically)",
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_scan_arguments(p)
    p.add_argument(
        "--format",
        choices=sorted(FORMATS),
        default="text",
        help="what goes to stdout (default: text)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing to stdout")


def options_from_args(args: argparse.Namespace, path: Path | None = None) -> ScanOptions:
    return ScanOptions(
        path=path if path is not None else args.path,
        ref=args.ref,
        deploys=args.deploys,
        window=args.window,
        horizon=args.horizon,
        now=args.now,
        since=args.since,
        until=args.until,
        config=args.config,
        min_confidence=args.min_confidence,
        environments=args.environments,
        cache=args.cache,
        repository=args.repository,
    )


def write_outputs(args: argparse.Namespace, report: dict) -> None:
    if args.json_file:
        write_atomic(args.json_file, renderer("json")(report))
    if args.markdown_file:
        write_atomic(args.markdown_file, renderer("markdown")(report))


def run(args: argparse.Namespace) -> int:
    if args.since and args.until and args.since >= args.until:
        raise InputError("--since must be before --until")
    # git log starts first; the pipeline's imports (~15 ms) meanwhile.
    early = None if args.cache else head_start(args.path, args.ref)
    from scorer.pipeline import run_scan

    result = run_scan(options_from_args(args), early)
    write_outputs(args, result.report)
    if not args.quiet:
        sys.stdout.write(render_for_stdout(args.format, result.report))
    return 0


def render_for_stdout(fmt: str, report: dict) -> str:
    """The report as ``fmt``; text gets colour and bold only for a terminal (NO_COLOR and
    FORCE_COLOR are respected)."""
    if fmt == "text":
        from scorer.formats import text

        return text.render(report, color=text.use_color(sys.stdout))
    return renderer(fmt)(report)
