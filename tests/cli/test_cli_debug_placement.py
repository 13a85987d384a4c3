"""``--debug`` shows the traceback wherever it is placed: before the command (where ``--help``
shows it) or after it. The subcommand's own flag must not reset the global one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scorer.cli import build_parser
from scorer.errors import ScorerError


@pytest.mark.parametrize(
    ("argv", "debug"),
    [
        (["--debug", "scan", "x"], True),
        (["scan", "--debug", "x"], True),
        (["--debug", "scan", "--debug", "x"], True),
        (["scan", "x"], False),
    ],
)
def test_debug_flag_in_either_place(argv, debug):
    args = build_parser(argv).parse_args(argv)
    assert args.debug is debug


@pytest.mark.parametrize(
    "before", [True, False], ids=["scorer --debug scan", "scorer scan --debug"]
)
def test_debug_prints_the_traceback(tmp_path, before):
    target = tmp_path / "not-a-repository"
    target.mkdir()
    argv = ["--debug", "scan", str(target)] if before else ["scan", "--debug", str(target)]
    proc = subprocess.run(
        [sys.executable, "-m", "scorer", *argv], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("Traceback (most recent call last):"), proc.stderr
    assert "scorer.errors." in proc.stderr


def test_without_debug_one_line(tmp_path):
    target = tmp_path / "not-a-repository"
    target.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "scorer", "scan", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("scorer: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_scorer_error_is_raised_under_debug_in_process(tmp_path):
    from scorer.cli import main

    target = tmp_path / "plain"
    target.mkdir()
    with pytest.raises(ScorerError):
        main(["--debug", "scan", str(target)])
