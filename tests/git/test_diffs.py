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


def test_follow_up_hands_git_the_next_change_once_the_one_before_is_trivial(repo, monkeypatch):
    repo.commit("root\n", when=T0, files={"a.py": "x = 1\n"})
    ws = repo.commit("ws\n", when=T0, files={"a.py": "x  =  1\n"})
    real = repo.commit("real\n", when=T0, files={"a.py": "x = 2\n"})
    never = repo.commit("more\n", when=T0, files={"a.py": "x = 3\n"})
    also_real = repo.commit("also\n", when=T0, files={"b.py": "y\n"})
    not_asked = repo.commit("after\n", when=T0, files={"b.py": "z\n"})
    known = repo.commit("known\n", when=T0, files={"c.py": "1\n"})
    unneeded = repo.commit("unneeded\n", when=T0, files={"c.py": "2\n"})
    substance = Substance(open_repo(repo.path), PathFilter([]), keep_open=True)
    fed: list[list[str]] = []
    feed = Substance.feed
    monkeypatch.setattr(
        Substance, "feed", lambda self, shas: feed(self, fed.append(list(shas)) or fed[-1])
    )
    try:
        substance.follow_up(
            [[ws, real, never], [also_real, not_asked], [known, unneeded]], {known: True}
        )
        substance._wait()  # the worker alone: nobody asked for a verdict yet
        # ws is trivial, so real went to git after it; real and also_real settle their groups,
        # and a verdict known already settles the third (nothing of it goes to git).
        assert fed == [[ws, also_real], [real]]
        assert substance.verdicts([ws, real, also_real]) == {ws: False, real: True, also_real: True}
    finally:
        substance.close()


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


def _git_shows_hunk(repo: GitRepo, sha: str) -> bool:
    """Section 1's definition for a commit that only modifies text files: ``git diff -w
    --ignore-blank-lines`` against its parent shows a hunk."""
    patch = repo.git("diff", "-w", "--ignore-blank-lines", f"{sha}^", sha)
    return any(line.startswith("@@ ") for line in patch.splitlines())


def _random_edits(repo: GitRepo, rng, commits: int, lines: list[str]) -> list[str]:
    """``commits`` commits, each rewriting one to three of three files with random lines
    (whitespace, blank lines and lines that differ only in spacing among them)."""
    names = ["a.txt", "b/c.txt", "b/d.txt"]

    def text() -> str:
        body = "\n".join(rng.choice(lines) for _ in range(rng.randrange(0, 7)))
        return body + ("\n" if rng.random() < 0.7 else "")

    repo.commit("root\n", when=T0, files={n: text() for n in names})
    shas = []
    for k in range(commits):
        picked = rng.sample(names, rng.randrange(1, 4))
        current = {n: (repo.path / n).read_text() for n in picked}
        files = {}
        for n in picked:
            if rng.random() < 0.6:  # edit the current text: whitespace moves, a line changes
                old = current[n].split("\n")
                i = rng.randrange(len(old))
                old[i] = rng.choice(lines)
                if rng.random() < 0.5:
                    old.insert(rng.randrange(len(old) + 1), rng.choice(["", " ", "\t"]))
                files[n] = "\n".join(old)
            else:
                files[n] = text()
        shas.append(repo.commit(f"c{k}\n", when=T0 + timedelta(minutes=k + 1), files=files))
    return shas


_SPACED = ["a", "a ", " a", "a  b", "a b", "ab", "", " ", "\t", "b", "x y z", "xy z", "\r"]


def test_verdicts_agree_with_git_on_random_edits(repo):
    """Differential: the verdict of every commit that only rewrites text files is whether
    ``git diff -w --ignore-blank-lines`` shows a hunk. The edits are mostly whitespace and
    blank lines, so the blob comparison, its rounds over a commit's pairs, and git's word on
    the pairs that look alike but differ in bytes are all exercised."""
    import random

    rng = random.Random(13)  # holds a pair the line rule finds alike and git does not
    shas = _random_edits(repo, rng, 40, _SPACED)
    got = _verdicts(repo, shas)
    assert [got[s] for s in shas] == [_git_shows_hunk(repo, s) for s in shas]
    assert 0 < sum(got.values()) < len(shas)


@pytest.mark.slow  # a differential test: CI runs it, the quick loop not
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_verdicts_agree_with_git_on_random_histories(tmp_path_factory, seed):
    import random

    repo = GitRepo(tmp_path_factory.mktemp("edits"))
    shas = _random_edits(repo, random.Random(seed), 12, _SPACED)
    got = _verdicts(repo, shas)
    assert [got[s] for s in shas] == [_git_shows_hunk(repo, s) for s in shas]


def test_same_ignoring_whitespace_compares_only_between_common_ends():
    """The prefix/suffix shortcut gives the whole-blob answer, wherever the change is."""
    import random

    rng = random.Random(5)
    alphabet = [b"a", b"b", b" ", b"\n", b"\t", b"ab", b"\r"]

    def whole(old: bytes, new: bytes) -> bool:
        ws = b" \t\r\n\v\f"
        if old.translate(None, ws) != new.translate(None, ws):
            return False
        strip = [[x for x in (ln.translate(None, ws) for ln in b.split(b"\n")) if x]
                 for b in (old, new)]  # fmt: skip
        return strip[0] == strip[1]

    for _ in range(20_000):
        old = b"".join(rng.choice(alphabet) for _ in range(rng.randrange(14)))
        new = bytearray(old)
        for _ in range(rng.randrange(4)):
            pos = rng.randrange(len(new) + 1)
            new[pos : pos + rng.randrange(2)] = rng.choice(alphabet) * rng.randrange(2)
        assert same_ignoring_whitespace(old, bytes(new)) is whole(old, bytes(new))


def test_an_unknown_commit_is_an_error_and_git_is_left_clean(repo):
    import threading

    from scorer.errors import RepositoryError

    a = repo.commit("a\n", when=T0, files={"a.py": "x = 1\n"})
    b = repo.commit("b\n", when=T0, files={"a.py": "x = 2\n"})
    threads = set(threading.enumerate())  # earlier tests may leave daemon threads
    s = Substance(open_repo(repo.path), PathFilter(()))
    s.feed([a])
    with pytest.raises(RepositoryError, match="did not answer for 1111"):
        s.verdicts([b, "1" * 40])
    with pytest.raises(RepositoryError):  # the first error stays the answer
        s.verdicts([a])
    assert _verdicts(repo, [a, b]) == {a: True, b: True}
    assert set(threading.enumerate()) <= threads  # workers and writers are gone
