"""The action's cache: one line of caches per ref, keyed by a hash of what is costly to read
again (commit rows, deploy-source memos), so a run that read nothing new saves nothing and a
later run of the same ref restores the newest. The step scripts run here as the runner would
run them, on a cache that a real ``scorer scan --cache`` wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from gitbuild import GitRepo

from scorer.cli import main

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = {s.get("id") or s.get("name"): s for s in ACTION["runs"]["steps"]}
T0 = datetime(2026, 9, 1, tzinfo=timezone.utc)


def run_step(step_id: str, runner_temp: Path, **env: str) -> dict[str, str]:
    """Run a step's script with bash; return what it wrote to GITHUB_OUTPUT."""
    out = runner_temp / "github_output"
    out.write_text("")
    full = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(runner_temp), "GITHUB_OUTPUT": str(out)}
    full.update(env)
    proc = subprocess.run(
        ["bash", "-c", STEPS[step_id]["run"]], env=full, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return dict(line.split("=", 1) for line in out.read_text().splitlines() if line)


@pytest.mark.parametrize(
    ("ref", "prefix"),
    [
        ("refs/heads/main", "scorer-history-v2-Linux-refs/heads/main-"),
        ("refs/pull/7/merge", "scorer-history-v2-Linux-refs/pull/7/merge-"),
        ("refs/heads/a,b c$(x)", "scorer-history-v2-Linux-refs/heads/a_b_c__x_-"),
    ],
)
def test_a_line_of_caches_per_ref(tmp_path, ref, prefix):
    out = run_step("cache-name", tmp_path, GITHUB_REF=ref, RUNNER_OS="Linux")
    assert out == {"prefix": prefix, "any": "scorer-history-v2-Linux-"}


def test_restore_and_save_use_the_keys():
    restore, save = STEPS["cache-restore"], STEPS["Save the scorer cache"]
    assert restore["with"]["key"] == "${{ steps.cache-name.outputs.prefix }}"
    assert restore["with"]["restore-keys"].split() == [
        "${{",
        "steps.cache-name.outputs.prefix",
        "}}",
        "${{",
        "steps.cache-name.outputs.any",
        "}}",
    ]
    assert save["with"]["key"] == "${{ steps.cache-key.outputs.key }}"
    assert save["if"] == (
        "inputs.cache == 'on' && steps.cache-key.outputs.key != '' && "
        "steps.cache-key.outputs.key != steps.cache-restore.outputs.cache-matched-key"
    )
    assert STEPS["cache-key"]["env"] == {
        "SCORER_CACHE_PREFIX": "${{ steps.cache-name.outputs.prefix }}"
    }


@pytest.fixture
def runner(tmp_path) -> Path:
    """RUNNER_TEMP with the action's venv python (this interpreter) in place."""
    temp = tmp_path / "runner"
    bin_dir = temp / "scorer-venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    return temp


def scan(repo: GitRepo, cache: Path, now: datetime) -> None:
    assert (
        main(["scan", str(repo.path), "--cache", str(cache), "--now", now.isoformat(), "--quiet"])
        == 0
    )


def key(runner: Path) -> str | None:
    out = run_step("cache-key", runner, SCORER_CACHE_PREFIX="scorer-history-v2-Linux-refs/x-")
    return out.get("key")


def test_the_key_changes_with_new_commits_only(tmp_path, runner):
    assert key(runner) is None  # no cache yet (cache off, or the scan failed): nothing to save
    repo = GitRepo(tmp_path / "repo")
    for i in range(5):
        repo.commit(f"change {i}", when=T0 + timedelta(hours=i))
    repo.tag("v1", when=T0 + timedelta(hours=5))
    cache = runner / "scorer-cache"
    scan(repo, cache, T0 + timedelta(days=1))
    first = key(runner)
    assert first is not None and first.startswith("scorer-history-v2-Linux-refs/x-")
    assert len(first) == len("scorer-history-v2-Linux-refs/x-") + 32
    state = (cache / "scorer-state.cache").read_bytes()
    # A later run that reads nothing new: the state file changed (it holds the run's time),
    # the key did not, so the save step is skipped.
    scan(repo, cache, T0 + timedelta(days=2))
    assert (cache / "scorer-state.cache").read_bytes() != state
    assert key(runner) == first
    # A new commit: a new key, saved.
    repo.commit("change 5", when=T0 + timedelta(days=2, hours=1))
    scan(repo, cache, T0 + timedelta(days=3))
    second = key(runner)
    assert second not in (None, first)
