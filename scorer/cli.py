"""Argument parsing and wiring only: each subcommand lives in ``scorer/commands/<name>.py``.

A command module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
Adding a command is one new file and one entry in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from scorer import __version__
from scorer.errors import ScorerError

COMMANDS = ("scan", "ci", "org", "agents", "demo")


def _available_commands() -> dict[str, object]:
    found = {}
    for name in COMMANDS:
        try:
            found[name] = importlib.import_module(f"scorer.commands.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"scorer.commands.{name}":
                raise
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scorer",
        description="Normalized deployments: AI-assisted changes that shipped and stayed "
        "shipped, per active developer per week.",
    )
    parser.add_argument("--version", action="version", version=f"scorer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _available_commands().items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except ScorerError as err:
        if args.debug:
            raise
        print(f"scorer: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("scorer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
