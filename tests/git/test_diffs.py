"""Substantive vs trivial agrees with ``git diff -w``; partial clones are judged without
fetching and say so."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from conftest import T0
from gitbuild import GitRepo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scorer.git.diffs import Substance, is_partial_clone, same_ignoring_whitespace
from scorer.git.log import open_repo
from scorer.git.paths import PathFilter

LINE = st.lists(st.sampled_from(["a", "b", " ", "\t", "\r", "x y", ""]), max_size=4).map("".join)
TEXT = st.lists(LINE, max_size=5).map("\n".join).flatmap(lambda s: st.sampled_from([s, s + "\n"]))


_BLOBS: dict = {}


def _blob_repo(tmp_path_factory):
    if "repo" not in _BLOBS:
        repo = GitRepo(tmp_path_factory.mktemp("blobs"))
        repo.commit("root\n", when=T0)
        _BLOBS["repo"] = repo
    return _BLOBS["repo"]


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old=TEXT, new=TEXT)
def test_whitespace_rule_agrees_with_git_diff_w(tmp_path_factory, old, new):
    """v2: blank lines are whitespace too: a blob pair is alike exactly when
    ``git diff --no-index -w --ignore-blank-lines`` of the two files shows no hunk."""
    d = tmp_path_factory.mktemp("ws")
    (d / "a").write_bytes(old.encode())
    (d / "b").write_bytes(new.encode())
    proc = subprocess.run(
        ["git", "diff", "--no-index", "-w", "--ignore-blank-lines", "--", str(d / "a"),
         str(d / "b")],
        capture_output=True,
    )  # fmt: skip
    git_same = "@@" not in proc.stdout.decode()
    repo = _blob_repo(tmp_path_factory)
    ids = [repo.git("hash-object", "-w", "--stdin", input=t.encode()) for t in (old, new)]
    substance = Substance(open_repo(repo.path), PathFilter(()))
    assert substance.same_content(*ids, old.encode(), new.encode()) is git_same
    if git_same:  # the line rule never calls a pair git sees alike different
        assert same_ignoring_whitespace(old.encode(), new.encode())


def _verdicts(repo: GitRepo, shas, exclude=()):
    return Substance(open_repo(repo.path), PathFilter(exclude)).verdicts(shas)


def test_verdicts_for_each_kind_of_change(repo):
    root = repo.commit("root\n", when=T0, files={"a.py": "x = 1\n", "docs/r.md": "hi\n"})
    empty = repo.commit("empty\n", when=T0, empty=True)
    ws = repo.commit("ws\n", when=T0, files={"a.py": "x  =  1 \r\n"})
    real = repo.commit("real\n", when=T0, files={"a.py": "x = 2\n"})
    docs = repo.commit("docs\n", when=T0, files={"docs/r.md": "hello\n"})
    added_empty = repo.commit("new empty file\n", when=T0, files={"new.txt": ""})
    deleted = repo.commit("delete\n", when=T0, files={"new.txt": None})
    (repo.path / "a.py").chmod(0o755)
    repo.git("add", "a.py")
    mode = repo.commit("mode\n", when=T0, files={})
    binary = repo.commit("bin\n", when=T0, files={"b.bin": b"\x00\x01"})
    binary2 = repo.commit("bin2\n", when=T0, files={"b.bin": b"\x00\x02"})
    repo.git("mv", "a.py", "c.py")
    renamed = repo.commit("rename\n", when=T0, files={})
    blank = repo.commit("blank lines\n", when=T0, files={"c.py": "\nx = 2\n\n\n"})
    repo.git("mv", "c.py", "d.py")
    moved_edited = repo.commit("rename and edit\n", when=T0, files={"d.py": "x = 3\n"})
    shas = [root, empty, ws, real, docs, added_empty, deleted, mode, binary, binary2, renamed]
    shas += [blank, moved_edited]
    got = _verdicts(repo, shas, exclude=["docs/**"])
    # v2: mode-only, rename-only and blank-line-only changes are trivial
    assert [got[s] for s in shas] == [
        True,
        False,
        False,
        True,
        False,
        True,
        True,
        False,
        True,
        True,
        False,
        False,
        True,
    ]
    assert _verdicts(repo, [docs])[docs] is True  # not excluded without the glob


def test_exclude_globs():
    f = PathFilter(["docs/**", "*.lock", "/gen/*.py", "vendor/"])
    assert [
        f.excluded(p)
        for p in [
            "docs/a/b.md",
            "x/y.lock",
            "y.lock",
            "gen/a.py",
            "gen/sub/a.py",
            "src/docs/a.md",
            "vendor/x/y.c",
            "src/a.py",
        ]
    ] == [True, True, True, True, False, False, True, False]


def _partial_clone(repo, tmp_path):
    """A blob-less clone (as ``--filter=blob:none`` CI checkouts make), with no checkout, so
    every blob is missing."""
    clone = tmp_path / "partial"
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--no-checkout",
            "--filter=blob:none",
            f"file://{repo.path}",
            str(clone),
        ],
        check=True,
        env=repo.env,
    )
    return clone


def test_partial_clone_is_judged_without_fetching(repo, tmp_path):
    repo.git("config", "uploadpack.allowFilter", "true")
    repo.commit("root\n", when=T0, files={"a.py": "x = 1\n"})
    ws = repo.commit(
        "ws\nCo-authored-by: Claude <noreply@anthropic.com>\n",
        when=T0 + timedelta(hours=1),
        files={"a.py": "x  =  1\n"},
    )
    clone = _partial_clone(repo, tmp_path)
    r = open_repo(clone)
    assert is_partial_clone(r)
    s = Substance(r, PathFilter())
    # Without the blobs, whitespace cannot be ruled out: substantive, and counted as missing.
    assert s.verdicts([ws]) == {ws: True}
    assert s.missing == {ws}
    assert not is_partial_clone(open_repo(repo.path))


def test_scan_of_partial_clone_reports_missing_objects(repo, tmp_path, capsys):
    import json

    from scorer.cli import main

    repo.git("config", "uploadpack.allowFilter", "true")
    repo.commit("root\n", when=T0, files={"a.py": "x = 1\n"})
    repo.commit(
        "ws\n\nCo-authored-by: Claude <noreply@anthropic.com>\n",
        when=T0 + timedelta(hours=1),
        files={"a.py": "x  =  1\n"},
    )
    repo.tag("v1", when=T0 + timedelta(hours=2))
    clone = _partial_clone(repo, tmp_path)
    assert main(["scan", str(clone), "--format", "json", "--now", "2026-10-01T00:00:00Z"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["history"]["missing_objects"] == 1
    assert report["metric"]["ai_changes_by_outcome"]["counted"] == 1
    assert [s["kind"] for s in report["signals"]] == ["missing-objects"]
