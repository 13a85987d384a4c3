"""Report files, the step outputs and the job summary that cannot be written (a directory in
the way, a full disk): one line each, ``ci`` emits ``::error::`` and still writes what it can,
and the old file stays intact (issue 13, case 6). "Full disk": the child's RLIMIT_FSIZE."""

from __future__ import annotations

import json
import os

from ci_env import ci_env, run_ci
from gitbuild import GitRepo
from hostile_run import scorer_child

from scorer.cli import main

NOW = "2026-10-01T00:00:00Z"
CLAUDE = "Co-authored-by: Claude <noreply@anthropic.com>"


def _repo(tmp_path) -> GitRepo:
    r = GitRepo(tmp_path / "repo")
    r.commit("Initial", when="2026-09-01T12:00:00+0000")
    r.commit(f"Add parser\n\n{CLAUDE}\n", when="2026-09-02T12:00:00+0000")
    r.tag("v1", when="2026-09-02T13:00:00+0000")
    return r


def _no_temp_left(directory) -> bool:
    return not [p for p in os.listdir(directory) if p.endswith(".tmp")]


def test_scan_json_on_a_directory_is_one_line(tmp_path, capsys):
    r = _repo(tmp_path)
    target = tmp_path / "out"
    target.mkdir()
    rc = main(["scan", str(r.path), "--now", NOW, "--json", str(target), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err == f"scorer: error: {target}: cannot write: Is a directory\n"
    assert target.is_dir() and list(target.iterdir()) == []
    assert _no_temp_left(tmp_path)


def test_scan_markdown_on_a_full_disk_keeps_the_old_file(tmp_path):
    r = _repo(tmp_path)
    old = tmp_path / "summary.md"
    old.write_text("the old summary\n")
    run = scorer_child(
        "scan", str(r.path), "--now", NOW, "--markdown", str(old), "--quiet", fsize=200
    )
    assert run.returncode == 2
    assert run.stderr == f"scorer: error: {old}: cannot write: File too large\n"
    assert old.read_text() == "the old summary\n"
    assert _no_temp_left(tmp_path)


def test_ci_report_path_on_a_full_disk(tmp_path):
    r = _repo(tmp_path)
    report = tmp_path / "report.json"
    report.write_text('{"old": true}\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    env.update({k: v for k, v in ci_env(tmp_path, r.path, r.head()).items() if v is not None})
    run = scorer_child(
        "ci", "--now", NOW, "--deploys", "tags:v*", "--report-path", str(report),
        fsize=1500, env=env,
    )  # fmt: skip
    assert run.returncode == 2
    line = f"{report}: cannot write: File too large"
    assert f"::error title=scorer::{line}" in run.stdout.splitlines()
    assert f"scorer: error: {report}: cannot write: File too large" in run.stderr.splitlines()
    assert "Traceback" not in run.stderr
    assert report.read_text() == '{"old": true}\n'
    outputs = (tmp_path / "github_output").read_text()
    assert "normalized-deployments<<" in outputs  # what could be written was
    assert "report-path<<ghadelimiter_" in outputs and f"\n{report}\n" not in outputs


def test_ci_unwritable_outputs_and_summary_are_one_error_each(tmp_path, monkeypatch, capsys):
    r = _repo(tmp_path)
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    env = ci_env(
        tmp_path,
        r.path,
        r.head(),
        GITHUB_OUTPUT=str(blocked),
        GITHUB_STEP_SUMMARY=str(tmp_path / "nodir" / "summary.md"),
    )
    rc = run_ci(monkeypatch, env, "--now", NOW, "--deploys", "tags:v*")
    out, err = capsys.readouterr()
    assert rc == 2
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert errors == [
        f"::error title=scorer::{tmp_path}/nodir/summary.md: cannot write the job summary: "
        "No such file or directory",
        f"::error title=scorer::{blocked}: cannot write the step outputs: Is a directory",
    ]
    assert "Traceback" not in err
    assert json.loads((tmp_path / "normalized-deployments.json").read_text())["metric"]


def test_a_failed_output_append_is_cut_back_off(tmp_path):
    """A GITHUB_OUTPUT append that fails half-way leaves the file as it was (the runner
    would otherwise read half an output block)."""
    out = tmp_path / "github_output"
    out.write_text("earlier<<ghadelimiter_x\nvalue\nghadelimiter_x\n")
    code = (
        "from scorer.github import actions\n"
        "import sys\n"
        f"actions.set_outputs({{'big': 'x' * 5000}}, {str(out)!r})\n"
    )
    import subprocess
    import sys

    from hostile_run import ROOT

    run = subprocess.run(
        [sys.executable, "-c", "import resource; resource.setrlimit(resource.RLIMIT_FSIZE, "
         f"(1000, 1000)); exec({code!r})"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"scorer.errors.InputError: {out}: cannot write the step outputs: File too large"
    )
    assert out.read_text() == "earlier<<ghadelimiter_x\nvalue\nghadelimiter_x\n"
