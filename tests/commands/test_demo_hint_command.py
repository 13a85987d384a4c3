"""The demo's "score it again yourself" line runs as typed: after the README's first command
(``.venv/bin/scorer demo``, venv not activated) it says ``.venv/bin/scorer scan …``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_demo(tmp_path: Path, argv0: str, path: str) -> str:
    code = (
        "import sys; sys.argv[0] = sys.argv[1]; del sys.argv[1]; "
        "from scorer.cli import main; raise SystemExit(main())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, argv0, "demo", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PATH": path},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()[-1]


def test_not_on_the_path_the_hint_names_the_venv_script(tmp_path):
    last = run_demo(tmp_path, ".venv/bin/scorer", "/usr/bin:/bin")
    assert last.startswith(f"  .venv/bin/scorer scan {tmp_path / 'demo' / 'example'} --deploys ")


@pytest.mark.parametrize("argv0", ["scorer", "-m"])
def test_otherwise_scorer(tmp_path, argv0):
    last = run_demo(tmp_path, argv0, "/usr/bin:/bin")
    assert last.startswith(f"  scorer scan {tmp_path / 'demo' / 'example'} --deploys ")
