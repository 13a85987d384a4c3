"""``scorer scan`` starts ``git log`` of the ref before it opens the repository
(``scorer.git.log.head_start``): the scan must read the history of the head it resolves,
whatever happened to the ref in between, and never leave the process behind."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from conftest import T0

from scorer.errors import ScorerError
from scorer.git.log import head_start
from scorer.pipeline import ScanOptions, run_scan

NOW = T0 + timedelta(days=40)


def _options(path: Path, **kw) -> ScanOptions:
    return ScanOptions(path=path, deploys=["tags:v*"], now=NOW, progress=False, **kw)


def test_the_early_log_is_used_when_the_ref_did_not_move(repo):
    for k in range(3):
        repo.commit(f"c{k}\n", when=T0 + timedelta(days=k))
    early = head_start(repo.path, None)
    assert early is not None
    result = run_scan(_options(repo.path), early)
    assert result.report["history"]["commits"] == 3
    assert early.poll() == 0  # read to its end, and waited for


def test_a_ref_that_moves_after_git_log_began_is_read_again_from_the_resolved_head(repo):
    for k in range(3):
        repo.commit(f"c{k}\n", when=T0 + timedelta(days=k))
    early = head_start(repo.path, None)
    assert early is not None
    early.wait()  # git log of the old HEAD is done, its output waiting in the pipe
    newest = repo.commit("c3\n", when=T0 + timedelta(days=3))
    result = run_scan(_options(repo.path), early)
    assert result.report["history"]["commits"] == 4
    assert result.report["repository"]["head"] == newest


def test_a_scan_that_fails_before_its_history_stops_the_early_log(repo, tmp_path):
    repo.commit("c0\n", when=T0)
    bad = tmp_path / "config.yml"
    bad.write_text("window: [\n")
    early = head_start(repo.path, None)
    assert early is not None
    with pytest.raises(ScorerError):
        run_scan(_options(repo.path, config=bad), early)
    assert early.poll() is not None
    assert early.stdout is not None and early.stdout.closed


def test_no_early_log_for_what_is_not_a_plain_ref_or_not_a_directory(tmp_path):
    assert head_start(tmp_path / "missing", None) is None
    assert head_start(tmp_path, "--output=x") is None
    assert head_start(tmp_path, "main..topic") is None


def test_a_directory_that_is_no_repository_gets_the_usual_error(tmp_path):
    early = head_start(tmp_path, None)  # git log fails at once; the scan says why
    with pytest.raises(ScorerError, match="not a git repository"):
        run_scan(_options(tmp_path), early)
    assert early is None or early.poll() is not None
