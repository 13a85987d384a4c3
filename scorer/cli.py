"""Argument parsing and wiring only: each subcommand lives in ``scorer/commands/<name>.py``.

A command module defines ``add_arguments(parser)`` and ``run(args) -> int``; its one-line help
is its entry in ``COMMANDS``. Adding a command is one new file and that entry. Only the module
of the command being run is imported, so ``scorer scan`` does not pay for the HTTP stack of
``scorer ci``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence

from scorer import __version__
from scorer.errors import ScorerError
from scorer.util.textsafe import one_line
from scorer.util.threads import wait_for_clean_ups

COMMANDS = {
    "scan": "score a repository: AI-assisted deploys that survived, per developer per week",
    "ci": "inside GitHub Actions: scan, job summary, outputs, report file, PR comment",
    "org": "merge many repositories' reports into one org report (JSON, Markdown, HTML)",
    "agents": "print the effective agent registry",
    "demo": "build a small example repository with deploys, a rollback and a revert; score it",
}


def _command_name(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def _top_help(argv: Sequence[str], command: str) -> bool:
    """Whether -h/--help comes before ``command`` (the top-level help is asked for)."""
    before = list(argv)[: list(argv).index(command)]
    return "-h" in before or "--help" in before


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, measuring the terminal without importing shutil: argparse makes
    one to check every option it is given, and shutil (with bz2 and lzma) costs every run
    ~3 ms. Same width as ``shutil.get_terminal_size``: $COLUMNS, the terminal, else 80."""

    def __init__(self, prog: str, indent_increment=2, max_help_position=24, width=None):
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scorer",
        formatter_class=_Formatter,
        description="Normalized deployments: AI-assisted changes that shipped and stayed "
        "shipped, per active developer per week.",
    )
    parser.add_argument("--version", action="version", version=f"scorer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _command_name(argv)
    # Each subparser costs start-up time (~0.15 ms): with a command named, and no help asked
    # for before it, only that one is built (the top-level help lists them all).
    wanted = [chosen] if chosen and not _top_help(argv, chosen) else list(COMMANDS)
    for name in wanted:
        help_text = COMMANDS[name]
        p = sub.add_parser(name, help=help_text, description=help_text, formatter_class=_Formatter)
        if name == chosen:
            module = importlib.import_module(f"scorer.commands.{name}")
            # SUPPRESS: no default of its own, or it would overwrite ``scorer --debug CMD``'s.
            p.add_argument(
                "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
            )
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse: --help (0) or bad usage (2), message already shown
        return int(stop.code or 0)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except ScorerError as err:
        if args.debug:
            raise
        # Messages can quote config values and file names from the repository: one safe line.
        print(f"scorer: error: {one_line(err)}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("scorer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:
    """The console entry point: ``main()``, then leave without tearing the interpreter down.
    Freeing every object and module at exit costs a per-merge run ~8 ms and serves nothing
    here: files are closed by then (reports and caches are written atomically), and the
    standard streams are flushed below. Tests call ``main()``, which returns normally.

    The cyclic garbage collector makes a young-generation pass every 1,000,000 allocations
    instead of 700: a scan allocates a few container objects per commit (~850k over a
    100k-commit history) and keeps nearly all of them (rows, parents, evidence), so with the
    default it ran ~520 times, walking the rows kept so far whenever it reached an older
    generation (0.15-0.3 s of a cold scan); every 100,000, 3 passes of ~10 ms found nothing
    to free. Cycles are still collected, in larger and rarer passes."""
    gc.set_threshold(1_000_000, *gc.get_threshold()[1:])
    code = main()
    wait_for_clean_ups()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):  # a closed pipe: nothing more can be said anyway
        code = code or 0
    os._exit(code)
