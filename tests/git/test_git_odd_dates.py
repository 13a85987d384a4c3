"""Commit and tag dates outside what Python's datetime holds (year 10000, or a number past
64 bits) are read, clamped, reported as an ``odd-dates`` signal, and crash neither ``scan``
nor ``ci`` (issue 13, case 1)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from ci_env import ci_env, run_ci
from gitbuild import GitRepo

from scorer.cli import main
from scorer.util.times import MAX_UNIX, from_unix, parse_unix

CLAUDE = "Co-authored-by: Claude <noreply@anthropic.com>"
Y10K = "@253402300800 +0000"  # 10000-01-01T00:00:00Z
NOW = "2026-10-01T00:00:00Z"


def hostile_repo(tmp_path) -> tuple[GitRepo, str]:
    """Two ordinary commits (tagged v1), three empty AI commits dated year 10000 (a trivial
    burst), a tag v2 whose tagger date is year 10000, and a commit dated 10**20 seconds."""
    r = GitRepo(tmp_path / "repo")
    r.commit("Initial", when="2026-09-01T12:00:00+0000")
    r.commit(f"Add parser\n\n{CLAUDE}\n", when="2026-09-02T12:00:00+0000")
    r.tag("v1", when="2026-09-02T13:00:00+0000")
    for n in range(3):
        r.commit(f"Touch {n}\n\n{CLAUDE}\n", when=Y10K, empty=True)
    r.tag("v2", when=Y10K)
    tree = r.git("write-tree")
    stamp = "99999999999999999999 +0000"
    body = (
        f"tree {tree}\nparent {r.head()}\nauthor A <a@example.com> {stamp}\n"
        f"committer A <a@example.com> {stamp}\n\nFar future\n"
    )
    huge = r.git("hash-object", "-t", "commit", "-w", "--stdin", "--literally", input=body.encode())
    r.git("update-ref", "refs/heads/main", huge)
    return r, huge


def test_times_clamp_what_datetime_cannot_hold():
    assert from_unix(253402300800) == datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    assert parse_unix("99999999999999999999") == MAX_UNIX
    assert parse_unix("") == 0 and parse_unix("x") == 0
    assert from_unix(0) == datetime(1970, 1, 1, tzinfo=timezone.utc)


def test_scan_reads_year_10000_and_signals_it(tmp_path, capsys):
    r, _ = hostile_repo(tmp_path)
    out = tmp_path / "report.json"
    rc = main(["scan", str(r.path), "--now", NOW, "--deploys", "tags:v*", "--json", str(out)])
    assert rc == 0, capsys.readouterr().err
    report = json.loads(out.read_text())
    odd = [s for s in report["signals"] if s["kind"] == "odd-dates"]
    assert len(odd) == 1
    assert odd[0]["detail"].startswith("4 commit(s) carry a date outside years 1-9999 (e.g. ")
    assert [d["id"] for d in report["deploys"]] == ["v1"]  # v2, "after" now, is not judged
    assert "Traceback" not in capsys.readouterr().err


def test_scan_with_cache_reports_the_same_odd_dates(tmp_path, capsys):
    r, _ = hostile_repo(tmp_path)
    reports = []
    for n in range(2):
        out = tmp_path / f"r{n}.json"
        args = ["scan", str(r.path), "--now", NOW, "--deploys", "tags:v*", "--json", str(out)]
        assert main([*args, "--cache", str(tmp_path / "cache")]) == 0, capsys.readouterr().err
        reports.append(json.loads(out.read_text()))
    assert (
        [s for s in reports[0]["signals"] if s["kind"] == "odd-dates"]
        == [s for s in reports[1]["signals"] if s["kind"] == "odd-dates"]
        != []
    )


def test_ci_writes_report_outputs_and_summary_despite_year_10000(tmp_path, monkeypatch, capsys):
    r, huge = hostile_repo(tmp_path)
    env = ci_env(tmp_path, r.path, huge)
    assert run_ci(monkeypatch, env, "--now", NOW, "--deploys", "tags:v*") == 0
    report = json.loads((tmp_path / "normalized-deployments.json").read_text())
    assert any(s["kind"] == "odd-dates" for s in report["signals"])
    assert "normalized-deployments<<" in (tmp_path / "github_output").read_text()
    assert (tmp_path / "step_summary.md").read_text().strip() != ""
