"""Start-up cost: the modules a scan imports stay clear of the heavy standard modules.

A warm ``scorer scan --cache`` is budgeted in tens of milliseconds, and importing
``dataclasses`` (with ``inspect``, ``ast``, ``dis``), ``typing``, ``yaml``, ``tempfile`` or
``statistics`` costs ~10-20 ms each. ``python -S`` runs without site-packages, so yaml could
not even be imported, and loads nothing of its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scorer.util.atomic import write_atomic

HEAVY = (
    "dataclasses",
    "inspect",
    "typing",
    "yaml",
    "tempfile",
    "statistics",
    "shutil",
    "_hashlib",  # hashlib's OpenSSL binding (~2 ms): scorer.util.sha uses the built-in SHA-256
)
SCAN_PATH = (
    "scorer.cli",
    "scorer.util.atomic",
    "scorer.formats",
    "scorer.formats.json",
    "scorer.config",
    "scorer.deploys",
    "scorer.deploys.tags",
    "scorer.deploys.log",
    "scorer.git.log",
    "scorer.git.diffs",
    "scorer.git.paths",
    "scorer.attribution.detect",
    "scorer.attribution.notes",
    "scorer.attribution.registry",
    "scorer.attribution.rows",
    "scorer.accelerator",
    "scorer.pipeline",
    "scorer.incremental.cache",
    "scorer.incremental.advance",
    "scorer.incremental.rules",
    "scorer.incremental.session",
    "scorer.metrics.report",
    "scorer.outcomes",
    "scorer.util.threads",
    "scorer.commands.scan",
)


def test_scan_path_modules_import_nothing_heavy():
    code = (
        f"import sys\nimport {', '.join(SCAN_PATH)}\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == []


def test_write_atomic_replaces_and_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "out" / "report.json"
    write_atomic(target, "one\n")
    write_atomic(target, "two\n")
    assert target.read_text() == "two\n"
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]

    class Boom(Exception):
        pass

    def fail(*args):
        raise Boom

    monkeypatch.setattr("scorer.util.atomic.os.replace", fail)
    with pytest.raises(Boom):
        write_atomic(target, "three\n")
    assert target.read_text() == "two\n"  # the old report survives a failed write
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]
