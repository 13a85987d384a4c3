"""Commit metadata agrees with an independent reader (pydriller), and bad repositories give
one clear line and the documented exit code."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta

import pytest
from conftest import T0
from gitbuild import GitRepo
from pydriller import Repository

from scorer.cli import main
from scorer.errors import RepositoryError
from scorer.git.log import iter_raw_commits, open_repo, resolve_ref

HUGE = "Huge message\n\n" + ("x" * 99 + "\n") * 30_000  # ~3 MB


def _build_varied(repo: GitRepo) -> None:
    repo.commit("Root commit\n", when=T0, author=("Zoë Ünicode", "zoe@example.com"))
    repo.branch("topic")
    repo.commit(
        "Main work\n\nBody line.\n",
        when=T0 + timedelta(hours=1),
        author=("Ann", "ann@example.com"),
        committer=("Bot", "bot@example.com"),
        commit_time=T0 + timedelta(hours=2),
    )
    repo.checkout("topic")
    repo.commit(HUGE, when=T0 + timedelta(hours=3))
    repo.checkout("main")
    repo.merge("topic", when=T0 + timedelta(hours=4))
    # A Latin-1 message that declares its encoding: git log re-encodes it to UTF-8.
    repo.git("config", "i18n.commitEncoding", "ISO-8859-1")
    repo.commit("Caf\xe9 na\xefve\n".encode("latin-1"), when=T0 + timedelta(hours=5))
    repo.git("config", "--unset", "i18n.commitEncoding")
    # Invalid UTF-8 with no encoding header at all (git commit would fix the bytes up, so the
    # object is written by hand, as other tools and old gits do).
    write_raw_commit(repo, b"Broken \xff\xfe bytes\n")


def write_raw_commit(repo: GitRepo, message: bytes) -> str:
    tree = repo.git("rev-parse", "HEAD^{tree}")
    parent = repo.head()
    ident = b"Raw Writer <raw@example.com> 1788000000 +0000"
    body = (
        b"tree "
        + tree.encode()
        + b"\nparent "
        + parent.encode()
        + b"\nauthor "
        + ident
        + b"\ncommitter "
        + ident
        + b"\n\n"
        + message
    )
    sha = repo.git("hash-object", "-t", "commit", "-w", "--stdin", input=body)
    repo.git("update-ref", "HEAD", sha)
    return sha


def test_metadata_agrees_with_pydriller(repo):
    _build_varied(repo)
    ours = {c.sha: c for c in iter_raw_commits(open_repo(repo.path), "HEAD")}
    theirs = {c.hash: c for c in Repository(str(repo.path)).traverse_commits()}
    assert set(ours) == set(theirs)
    for sha, c in ours.items():
        t = theirs[sha]
        assert c.parents == tuple(t.parents)
        assert (c.author_name, c.author_email) == (t.author.name, t.author.email)
        assert (c.committer_name, c.committer_email) == (t.committer.name, t.committer.email)
        assert c.author_time == int(t.author_date.timestamp())
        assert c.committer_time == int(t.committer_date.timestamp())
        if c.message.isascii():  # pydriller mis-decodes re-encoded and invalid messages
            assert c.message.rstrip("\n") == t.msg.rstrip("\n")
    broken = next(c for c in ours.values() if c.message.startswith("Broken"))
    assert broken.message == "Broken \ufffd\ufffd bytes\n"
    latin = next(c for c in ours.values() if c.message.startswith("Caf"))
    assert latin.message == "Café naïve\n"
    huge = next(c for c in ours.values() if c.message.startswith("Huge"))
    assert huge.message == HUGE


def test_metadata_agrees_with_git_log_field_by_field(repo):
    _build_varied(repo)
    out = repo.git("log", "--format=%H %P|%ae|%at|%ct")
    expected = {}
    for line in out.splitlines():
        head, email, at, ct = line.split("|")
        sha, *parents = head.split()
        expected[sha] = (tuple(parents), email, int(at), int(ct))
    ours = {
        c.sha: (c.parents, c.author_email, c.author_time, c.committer_time)
        for c in iter_raw_commits(open_repo(repo.path), "HEAD")
    }
    assert ours == expected


def test_mailmap_is_applied(repo):
    repo.write({".mailmap": "Ann Lee <ann@example.com> <ann@old.example>\n"})
    repo.commit("Add mailmap\n", when=T0, author=("ann", "ann@old.example"))
    (c,) = list(iter_raw_commits(open_repo(repo.path), "HEAD"))
    assert (c.author_name, c.author_email) == ("ann", "ann@old.example")
    assert (c.mailmap_name, c.mailmap_email) == ("Ann Lee", "ann@example.com")


def test_not_a_repository(tmp_path, capsys):
    assert main(["scan", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"scorer: error: {tmp_path}: not a git repository (run scorer inside a clone)"
    ]


def test_missing_path(tmp_path, capsys):
    assert main(["scan", str(tmp_path / "nope")]) == 1
    assert "no such directory" in capsys.readouterr().err


def test_empty_repository(tmp_path, capsys):
    GitRepo(tmp_path / "empty")
    assert main(["scan", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err
    assert "empty repository" in err
    assert "Traceback" not in err


def test_shallow_clone_says_fetch_depth_0(repo, tmp_path, capsys):
    for i in range(3):
        repo.commit(f"c{i}\n", when=T0 + timedelta(hours=i))
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)],
        check=True,
        env=repo.env,
    )
    with pytest.raises(RepositoryError, match="fetch-depth: 0"):
        open_repo(clone)
    assert main(["scan", str(clone)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "git fetch --unshallow" in err[0]


def test_bad_and_ambiguous_refs(repo):
    repo.commit("one\n", when=T0)
    r = open_repo(repo.path)
    with pytest.raises(RepositoryError, match="does not name a commit"):
        resolve_ref(r, "no-such-branch")
    assert resolve_ref(r, "HEAD") == repo.head()


def test_bare_repository_is_scanned(repo, tmp_path):
    repo.commit("one\n", when=T0)
    bare = tmp_path / "bare.git"
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(repo.path), str(bare)], check=True, env=repo.env
    )
    (c,) = list(iter_raw_commits(open_repo(bare), "HEAD"))
    assert c.sha == repo.head()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_repository_of_another_user_says_safe_directory(repo, monkeypatch):
    repo.commit("one\n", when=T0)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    subprocess.run(["chown", "-R", "65534:65534", str(repo.path)], check=True)
    with pytest.raises(RepositoryError, match=r"git config --global --add safe\.directory"):
        open_repo(repo.path)


def test_sha256_repository_scans_and_caches(tmp_path, capsys):
    from scorer.cli import main

    repo = GitRepo(tmp_path / "s256", object_format="sha256")
    repo.commit("One\n\nCo-authored-by: Claude <noreply@anthropic.com>\n", when=T0)
    repo.tag("v1", when=T0 + timedelta(hours=1))
    args = [
        "scan",
        str(repo.path),
        "--format",
        "json",
        "--now",
        "2026-10-01T00:00:00Z",
        "--cache",
        str(tmp_path / "cache"),
    ]
    assert main(args) == 0
    cold = capsys.readouterr().out
    repo.commit("Two\n", when=T0 + timedelta(hours=2))
    assert main(args) == 0
    warm = json.loads(capsys.readouterr().out)
    assert len(warm["repository"]["head"]) == 64
    assert (
        warm["history"]["commits"] == 2 and warm["metric"]["ai_changes_by_outcome"]["counted"] == 1
    )
    assert json.loads(cold)["history"]["deploys"] == 1


# --------------------------------------------------------------------------- one rev-parse


@pytest.fixture
def git_calls(monkeypatch):
    """Every git command scorer.git.log runs through subprocess.run."""
    import scorer.git.log as history

    calls: list[list[str]] = []
    real = history.subprocess.run

    def run(args, *a, **kw):
        calls.append(list(args))
        return real(args, *a, **kw)

    monkeypatch.setattr(history.subprocess, "run", run)
    return calls


def _layouts(repo: GitRepo, tmp_path) -> dict[str, object]:
    """The same history as a work tree, a subdirectory of it, a linked worktree, a bare
    clone and the .git directory itself."""
    repo.write({"sub/f.txt": "x\n"})
    repo.commit("one\n", when=T0)
    repo.tag("v1", when=T0 + timedelta(hours=1))  # annotated: ^{commit} peels it
    repo.commit("two\n", when=T0 + timedelta(hours=2))
    repo.git("worktree", "add", "-q", str(tmp_path / "linked"), "HEAD~1")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)], check=True)
    return {
        "work tree": repo.path,
        "subdirectory": repo.path / "sub",
        "linked worktree": tmp_path / "linked",
        "bare": bare,
        "git dir": repo.path / ".git",
    }


def test_open_repo_is_one_git_call_and_agrees_with_the_step_by_step_calls(
    repo, tmp_path, git_calls
):
    from scorer.git.log import _open_step_by_step, notes_tip

    for name, path in _layouts(repo, tmp_path).items():
        for ref in ("HEAD", "v1", "main~1", "HEAD^{commit}"):
            git_calls.clear()
            r = open_repo(path, ref)
            sha = resolve_ref(r, ref)
            head = resolve_ref(r, "HEAD") if ref != "HEAD" else sha  # both read by open_repo
            tip = notes_tip(r)
            assert len(git_calls) == 1, (name, ref, git_calls)
            slow = _open_step_by_step(path)
            assert (r.work_dir, r.git_dir, r.bare) == (slow.work_dir, slow.git_dir, slow.bare)
            want = subprocess.run(
                ["git", "-C", str(path), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            assert (head, sha, tip) == (resolve_ref(slow, "HEAD"), want, ""), (name, ref)
            # The ref open_repo resolved answers once, then git is asked again; the notes tip
            # is kept for the run (the cache key and the notes reader both ask for it).
            git_calls.clear()
            assert resolve_ref(r, ref) == sha and notes_tip(r) == "" and notes_tip(r) == ""
            assert len(git_calls) == 1


def test_open_repo_reads_the_notes_tip(repo, git_calls):
    from scorer.git.log import notes_tip

    repo.commit("one\n", when=T0)
    who = {
        f"GIT_{r}_{k}": v
        for r in ("AUTHOR", "COMMITTER")
        for k, v in (("NAME", "N"), ("EMAIL", "n@x"))
    }
    repo.git("notes", "--ref=ai", "add", "-m", "a note", "HEAD", env=who)
    repo.git("notes", "--ref=aid", "add", "-m", "another ref", "HEAD", env=who)
    tip = repo.git("rev-parse", "refs/notes/ai")
    git_calls.clear()
    r = open_repo(repo.path)
    assert notes_tip(r) == tip and len(git_calls) == 1
    assert notes_tip(r) == tip and len(git_calls) == 1  # kept for the run: no second process


def test_resolve_ref_answers_as_before_whatever_the_ref(repo):
    """Whether open_repo resolved the ref or left it to resolve_ref, the answer (or the
    error message) is what resolve_ref alone gives."""
    from scorer.git.log import _open_step_by_step

    first = repo.commit("one\n", when=T0)
    second = repo.commit("two\n", when=T0 + timedelta(hours=1))
    repo.git("branch", first[:8], second)  # a branch named like an abbreviated SHA
    repo.git("tag", "t1", first)

    def answer(r, ref):
        try:
            return resolve_ref(r, ref)
        except RepositoryError as err:
            return f"error: {err}"

    refs = ["HEAD", "t1", first[:8], first[:7], "HEAD~1..HEAD", "^HEAD", "nope", "HEAD:x"]
    refs += ["-h", "", "HEAD^{tree}", "main@{0}", ":/one", "HEAD^@", "HEAD^!", "t1 ", "a\nb"]
    for ref in refs:
        assert answer(open_repo(repo.path, ref), ref) == answer(
            _open_step_by_step(repo.path), ref
        ), ref
    assert answer(open_repo(repo.path, "nope"), "nope").startswith(
        "error: ref 'nope' does not name a commit ("
    )


def test_open_repo_errors_are_unchanged(tmp_path):
    empty = GitRepo(tmp_path / "empty")
    bare_empty = GitRepo(tmp_path / "bare-empty", bare=True)
    for path in (empty.path, bare_empty.path):
        for ref in ("HEAD", "main"):
            with pytest.raises(RepositoryError, match="empty repository"):
                open_repo(path, ref)
    (tmp_path / "plain").mkdir()
    with pytest.raises(RepositoryError, match="not a git repository"):
        open_repo(tmp_path / "plain", "main")
