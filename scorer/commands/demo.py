"""``scorer demo [DIR]`` — build an example repository and score it: the first thing to run."""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from scorer.commands.scan import render_for_stdout
from scorer.demo import build_demo
from scorer.errors import InputError
from scorer.formats import FORMATS
from scorer.pipeline import ScanOptions, run_scan


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "dir", nargs="?", type=Path, help="where to build it (default: a new temporary directory)"
    )
    p.add_argument("--format", choices=sorted(FORMATS), default="text")


def run(args: argparse.Namespace) -> int:
    if args.dir is None:
        root = Path(tempfile.mkdtemp(prefix="scorer-demo-"))
    else:
        root = args.dir
        if root.exists() and any(root.iterdir()):
            raise InputError("directory is not empty; name a new one", path=str(root))
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    repo, log = build_demo(root, now)
    result = run_scan(ScanOptions(path=repo, deploys=[f"log:{log}"], now=now, progress=False))
    sys.stdout.write(render_for_stdout(args.format, result.report))
    if args.format == "text":
        print(
            f"\nThe example repository is in {repo} and its deploy log in {log}.\n"
            f"Score it again yourself:\n"
            f"  {_command()} scan {repo} --deploys log:{log} "
            f"--now {now.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        )
    return 0


def _command() -> str:
    """How to run scorer again as it was run: ``.venv/bin/scorer`` from a venv that is not
    activated (the README's first command), else ``scorer``."""
    import os
    import shutil

    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) != "scorer" or os.sep not in argv0:
        return "scorer"
    found = shutil.which("scorer")
    if found and os.path.realpath(found) == os.path.realpath(argv0):
        return "scorer"
    return argv0
