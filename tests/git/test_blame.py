"""scorer.git.blame on real repositories: added lines as git diff -w counts them, surviving
lines as git blame -w -M attributes them, bounded blame equal to a naive whole-history blame
over every file, partial clones without a crash."""

from __future__ import annotations

import random
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from gitbuild import GitRepo, isolated_git_env
from hypothesis import given
from hypothesis import strategies as st

import scorer.git.blame as blame_module
from scorer.git.blame import (
    Blamer,
    added_lines,
    blame_counts,
    blame_file,
    blank_lines,
    existing_at,
    existing_paths,
    lines_per_commit,
    touched_between,
    unquote_path,
)
from scorer.git.log import open_repo
from scorer.git.paths import PathFilter

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def at(n: int) -> datetime:
    return T0 + timedelta(hours=n)


def text(*names: str) -> str:
    return "".join(f"{n}\n" for n in names)


def test_added_lines_leave_out_blank_and_whitespace_only(tmp_path):
    g = GitRepo(tmp_path / "r")
    g.commit("one", when=at(1), files={"a.py": text("x = 1", "y = 2", "z = 3")})
    two = g.commit(
        "two",
        when=at(2),
        files={
            "a.py": text("x  =  1", "", "y = 22", "z = 3", "   ", "w = 4"),
            "b.bin": b"\0\1\2\n\3\n",
        },
    )
    repo = open_repo(g.path)
    found = added_lines(repo, [two], PathFilter())
    # "x  =  1" differs from a deleted line only in whitespace; blank lines do not count;
    # the binary file adds no lines.
    assert found.lines == {two: {"a.py": 2}}
    assert found.missing == []


def test_added_lines_odd_paths_renames_and_excludes(tmp_path):
    g = GitRepo(tmp_path / "r")
    body = text(*[f"line number {k} of a long enough file" for k in range(10)])
    one = g.commit(
        "one",
        when=at(1),
        files={
            "dir/tab\there.txt": text("1", "2"),
            "é.txt": text("a"),
            "gen/x.py": text("g"),
            "old.py": body,
        },
    )
    two = g.commit("two", when=at(2), files={"old.py": None, "new.py": body + "extra\n"})
    repo = open_repo(g.path)
    found = added_lines(repo, [one, two], PathFilter(["gen/**"]))
    assert found.lines[one] == {"dir/tab\there.txt": 2, "é.txt": 1, "old.py": 10}
    # a rename (git's -M follows it) adds only the new line
    assert found.lines[two] == {"new.py": 1}
    assert unquote_path(b'"b/caf\\303\\251\\t.txt"') == "b/café\t.txt"


def test_blame_counts_moves_within_a_file_and_missing_paths(tmp_path):
    g = GitRepo(tmp_path / "r")
    long = ["alpha_beta_gamma_delta_epsilon()", "zeta_eta_theta_iota_kappa()"]
    tail = "the_tail_of_the_file_long_enough()"
    one = g.commit(
        "one", when=at(1), files={"m.py": text("head", *long, tail), "gone.py": text("g")}
    )
    two = g.commit(
        "two", when=at(2), files={"m.py": text("head", tail, "", *long), "gone.py": None}
    )
    repo = open_repo(g.path)
    assert set(existing_paths(repo, two, ["m.py", "gone.py", "nope"])) == {"m.py"}
    found = blame_counts(repo, two, {"m.py", "gone.py"}, None)
    # the two moved lines stay with "one"; the blank line is not counted
    assert found.files == {"m.py": {one: 4}}
    assert found.missing == []
    bounded = blame_counts(repo, two, {"m.py"}, one)
    assert bounded.files == {"m.py": {one: 4}}  # one is the boundary: blame stops there
    assert touched_between(repo, one, two) == {"m.py", "gone.py"}
    assert touched_between(repo, two, two) == set()
    assert touched_between(repo, one, "0" * 40) is None


@pytest.mark.parametrize("named_max", [0, 256])  # the whole tree listed; the paths named
def test_existing_paths_takes_odd_names_literally(tmp_path, monkeypatch, named_max):
    monkeypatch.setattr(blame_module, "_NAMED_MAX", named_max)
    g = GitRepo(tmp_path / "r")
    odd = {":(glob)x.py": "1\n", "*.py": "2\n", "d/[ab].py": "3\n", "d/a.py": "4\n"}
    head = g.commit("one", when=at(1), files={**odd, "dir/f.py": "5\n", "gone.py": "6\n"})
    head = g.commit("two", when=at(2), files={"gone.py": None})
    repo = open_repo(g.path)
    asked = [*odd, "dir", "gone.py", "nope.py", "d/b.py"]
    found = existing_paths(repo, head, asked)
    # Files only: a directory, a deleted file and a glob's matches are not the names asked.
    assert sorted(found) == sorted(odd)
    assert found["*.py"] == g.git("rev-parse", f"{head}:*.py").strip()


def test_existing_at_several_commits_answers_as_ls_tree_does(tmp_path):
    g = GitRepo(tmp_path / "r")
    names = {":(glob)x.py": "1\n", "*.py": "2\n", "d/[ab].py": "3\n", "sp ace.py": "4\n",
             "-dash.py": "5\n", "ünï.py": "6\n", 'q"uote.py': "7\n", "dir/f.py": "8\n"}  # fmt: skip
    one = g.commit("one", when=at(1), files={**names, "gone.py": "9\n"})
    two = g.commit("two", when=at(2), files={"gone.py": None, "new.py": "10\n"})
    three = g.commit("three", when=at(3), files={"sp ace.py": None})
    asked = [*names, "dir", "gone.py", "new.py", "nope.py", "d/b.py", "d"]
    repo = open_repo(g.path)
    want = {c: existing_paths(repo, c, asked) for c in (one, two, three)}
    assert existing_at(repo, dict.fromkeys((one, two, three), asked)) == want
    assert sorted(want[three]) == sorted({*names, "new.py"} - {"sp ace.py"})
    assert existing_at(repo, {one: asked, "0" * 40: ["new.py"]}) == {one: want[one], "0" * 40: None}


def test_partial_clone_missing_blobs_are_counted(tmp_path):
    g = GitRepo(tmp_path / "src")
    one = g.commit("one", when=at(1), files={"a.py": text("1", "2")})
    two = g.commit("two", when=at(2), files={"a.py": text("1", "2", "3")})
    g.git("config", "uploadpack.allowfilter", "true")
    env = isolated_git_env()
    clone = tmp_path / "clone"
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--no-checkout",
            "--filter=blob:none",
            f"file://{g.path}",
            str(clone),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    repo = open_repo(clone)
    found = blame_counts(repo, two, {"a.py"}, None)
    assert found.files == {} and found.missing == ["a.py"]
    diffs = added_lines(repo, [one, two], PathFilter())
    assert sorted(diffs.missing) == sorted([one, two])


def _naive(path, at_sha: str) -> dict[str, int]:
    """Non-blank lines per commit of ``git blame -w -M`` over every file at ``at_sha``, the
    porcelain parsed here."""
    env = isolated_git_env()

    def git(*args: str) -> bytes:
        return subprocess.run(
            ["git", "-C", str(path), *args], env=env, check=True, capture_output=True
        ).stdout

    counts: dict[str, int] = {}
    for name in git("ls-tree", "-r", "-z", "--name-only", at_sha).split(b"\0"):
        if not name:
            continue
        out = git("blame", "-w", "-M", "--porcelain", at_sha, "--", name.decode())
        sha = None
        for line in out.split(b"\n"):
            if line.startswith(b"\t"):
                if line[1:].strip():
                    counts[sha] = counts.get(sha, 0) + 1
            elif (
                line[:40]
                and all(c in b"0123456789abcdef" for c in line[:40])
                and (line[40:41] == b" ")
            ):
                sha = line[:40].decode()
    return counts


WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "lambda"]


def _random_line(rnd: random.Random) -> str:
    kind = rnd.random()
    if kind < 0.1:
        return ""
    return " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 6)))


def _edit(rnd: random.Random, files: dict[str, list[str]]) -> dict[str, str | None]:
    """One random change: add a file, delete one, or edit lines (replace, insert, delete,
    move a block within the file, re-indent)."""
    op = rnd.random()
    if not files or op < 0.15:
        name = f"f{rnd.randint(0, 999)}.txt"
        files[name] = [_random_line(rnd) for _ in range(rnd.randint(1, 12))]
        return {name: text(*files[name])}
    name = rnd.choice(sorted(files))
    if op < 0.22 and len(files) > 1:
        del files[name]
        return {name: None}
    lines = files[name]
    for _ in range(rnd.randint(1, 3)):
        k = rnd.randint(0, max(0, len(lines) - 1))
        what = rnd.random()
        if what < 0.3 and lines:
            lines[k] = _random_line(rnd)
        elif what < 0.55:
            lines.insert(k, _random_line(rnd))
        elif what < 0.7 and len(lines) > 1:
            del lines[k]
        elif what < 0.85 and len(lines) > 3:
            block = lines[k : k + 3]
            del lines[k : k + 3]
            lines[rnd.randint(0, len(lines)) : rnd.randint(0, len(lines))] = block
        elif what < 0.93 and lines:
            lines.insert(rnd.randint(0, len(lines)), lines[k])  # a copy (blame -M sees it)
        elif lines:
            lines[k] = "    " + lines[k].strip() + "  "
    if not lines:
        lines.append(_random_line(rnd))
    return {name: text(*lines)}


@pytest.mark.slow  # a differential test (~8 s): CI runs it, the quick loop not
@pytest.mark.parametrize("seed", range(10))
def test_bounded_blame_equals_naive_blame_of_every_file(tmp_path, seed):
    rnd = random.Random(seed)
    g = GitRepo(tmp_path / "r")
    files: dict[str, list[str]] = {}
    n = 0
    shas: list[str] = []
    for _ in range(6):  # before the cohort
        n += 1
        shas.append(g.commit(f"c{n}", when=at(n), files=_edit(rnd, files)))
    base = shas[-1]
    cohort: list[str] = []
    for _ in range(rnd.randint(8, 16)):
        n += 1
        if rnd.random() < 0.2:  # a side branch, merged back
            g.branch(f"b{n}")
            g.checkout(f"b{n}")
            side = {k: list(v) for k, v in files.items()}
            name = f"side{n}.txt"
            side[name] = [_random_line(rnd) for _ in range(4)]
            cohort.append(g.commit(f"side {n}", when=at(n), files={name: text(*side[name])}))
            g.checkout("main")
            files[name] = side[name]
            g.merge(f"b{n}", when=at(n))
            continue
        cohort.append(g.commit(f"c{n}", when=at(n), files=_edit(rnd, files)))
    for _ in range(4):  # after the cohort
        n += 1
        g.commit(f"c{n}", when=at(n), files=_edit(rnd, files))
    s = g.head()
    repo = open_repo(g.path)
    added = added_lines(repo, cohort, PathFilter())
    paths = added.paths()
    naive = _naive(g.path, s)
    want = {c: naive.get(c, 0) for c in cohort}
    # git blame on every file, and with the fast path (files only one commit touched)
    for fast in (None, added):
        bounded = blame_counts(repo, s, paths, base, fast)
        got: dict[str, int] = {}
        for counts in bounded.files.values():
            for sha, k in counts.items():
                got[sha] = got.get(sha, 0) + k
        assert {c: got.get(c, 0) for c in cohort} == want
        assert bounded.missing == []


def test_blank_lines_as_git_splits_them():
    assert list(blank_lines(b"")) == []
    assert list(blank_lines(b"\n")) == [1]
    assert list(blank_lines(b"a\n\n  \t\nb\r\n\r\n\x0b\x0cx")) == [2, 3, 5]
    assert list(blank_lines(b"a\n   ")) == [2]  # a last line without a newline is a line
    assert list(blank_lines(b"a\n\n\n")) == [2, 3]


_PIECES = ["", " ", "\t", "\r", "x", " y ", "\x0b", "\x0c", "é"]


@given(st.lists(st.sampled_from(_PIECES), max_size=30), st.booleans())
def test_blank_lines_agree_with_splitting_every_line(lines, last_newline):
    data = "\n".join(lines).encode() + (b"\n" if last_newline and lines else b"")
    pieces = data.split(b"\n")
    if data.endswith(b"\n") or not data:
        pieces.pop()
    assert list(blank_lines(data)) == [k + 1 for k, x in enumerate(pieces) if not x.strip()]


def test_lines_per_commit_leave_out_blank_ones():
    a, b = "a" * 40, "b" * 40
    # lines 1-3 by a, 4-5 by b; lines 2 and 5 are blank
    assert lines_per_commit([(a, 1, 3), (b, 4, 2)], [2, 5]) == {a: 2, b: 1}
    assert lines_per_commit([(a, 2, 1)], [2]) == {}


def _naive_counts(output: bytes) -> dict[str, int]:
    """Non-blank lines per commit, a line of output at a time (the reference)."""
    counts: dict[str, int] = {}
    current = ""
    for line in output.split(b"\n"):
        head = line.split(b" ", 1)[0]
        if line[:1] == b"\t":
            if line[1:].strip():
                counts[current] = counts.get(current, 0) + 1
        elif len(head) in (40, 64) and all(c in b"0123456789abcdef" for c in head):
            current = head.decode("ascii")
    return counts


def test_incremental_ranges_and_blank_lines_count_as_porcelain_does(tmp_path):
    g = GitRepo(tmp_path / "r")
    rnd = random.Random(3)
    lines = ["x = 1", "", "   ", "\t", "y = 2 \r", "z", "# 40 hex: " + "a" * 40, "\tend"]
    files = {f"f{k}.txt": "".join(rnd.choice(lines) + "\n" for _ in range(30)) for k in range(4)}
    g.commit("one", when=at(1), files=files)
    for n in range(2, 8):
        name = f"f{rnd.randrange(4)}.txt"
        kept = files[name].splitlines(keepends=True)
        for _ in range(5):
            kept.insert(rnd.randrange(len(kept) + 1), rnd.choice(lines) + "\n")
        files[name] = "".join(kept[: rnd.randrange(10, len(kept) + 1)])
        head = g.commit(f"c{n}", when=at(n), files={name: files[name]})
    repo = open_repo(g.path)
    for name in files:
        want = _naive_counts(_porcelain(g, "--", name))
        blob = (g.path / name).read_bytes()
        assert lines_per_commit(blame_file(repo, head, name, None) or [], blank_lines(blob)) == want
        assert sum(want.values()) == sum(1 for x in files[name].splitlines() if x.strip())


def _porcelain(g: GitRepo, *args: str) -> bytes:
    """``git blame --porcelain -w -M``: plain git, every line of the file printed."""
    return subprocess.run(
        ["git", "blame", "--porcelain", "-w", "-M", *args],
        cwd=g.path, env=g.env, capture_output=True, check=True,
    ).stdout  # fmt: skip


def test_fast_path_answers_single_touch_files_and_leaves_copies_to_git(tmp_path):
    g = GitRepo(tmp_path / "r")
    long = "a_line_long_enough_for_blame_moves()"
    base = g.commit("base", when=at(1), files={"c.py": text(long, "x = 1"), "d.py": text("d")})
    x = g.commit("x", when=at(2), files={
        "new.py": text("n1", "", "n2"),  # a new file: the fast path
        "c.py": text(long, "x = 1", long, "y = 2"),  # a copy: blame -M gives it to base
        "d.py": text("d", "e"),  # changed in place, nothing copied: the fast path
    })  # fmt: skip
    repo = open_repo(g.path)
    added = added_lines(repo, [x], PathFilter())
    assert added.lines[x] == {"new.py": 2, "c.py": 2, "d.py": 1}
    blamer = Blamer(repo, base, [x], few=0)
    found = blamer.counts(x, {"new.py", "c.py", "d.py"}, added)
    assert blamer.quick == {"new.py", "d.py"}  # counted without git blame
    assert found.files["new.py"] == {x: 2} and found.files["d.py"] == {x: 1}
    assert found.files["c.py"][x] == 1  # git blame: only "y = 2" is x's
    assert (blamer.grafted, blamer.walked) == (1, 0)


@pytest.mark.parametrize(
    ("before", "after", "quick"),
    [
        # the line added again scores 1 + 19 (not more than blame's move score): x keeps it
        (["x" * 19, "other"], ["x" * 19, "other", "x" * 19], True),
        # 1 + 20: blame -M gives the copy to the parent; the fast path leaves it to git
        (["x" * 20, "other"], ["x" * 20, "other", "x" * 20], False),
        # two lines of 11, consecutive in the parent and added together: 22, a move
        (["a" * 11, "b" * 11, "other"], ["a" * 11, "b" * 11, "other", "a" * 11, "b" * 11], False),
        # short lines the parent has (Ruby's "end"), none of the runs worth a move
        (["def f", "  1", "end"], ["def f", "  1", "end", "def g", "  2", "end", "end"], True),
        # two lines the parent has, apart in the added block: two blocks of 1 + 12
        (
            ["a" * 12, "b" * 12, "other"],
            ["a" * 12, "b" * 12, "other", "a" * 12, "new", "b" * 12],
            True,
        ),
        # whitespace aside, the same 25 characters: blame -w moves it
        (["    " + "y" * 25], ["    " + "y" * 25, "\t" + "y" * 25 + "  "], False),
    ],
)
def test_fast_path_declines_only_what_blame_could_move(tmp_path, before, after, quick):
    g = GitRepo(tmp_path / "r")
    base = g.commit("base", when=at(1), files={"f.rb": text(*before)})
    x = g.commit("x", when=at(2), files={"f.rb": text(*after)})
    repo = open_repo(g.path)
    added = added_lines(repo, [x], PathFilter())
    blamer = Blamer(repo, base, [x], few=0)
    found = blamer.counts(x, {"f.rb"}, added)
    assert (blamer.quick == {"f.rb"}) is quick
    want = _naive_counts(_porcelain(g, f"{base}..{x}", "--", "f.rb"))
    assert _in_range(found.files["f.rb"], {x}) == _in_range(want, {x})  # B's lines aside


def _short_line(rnd: random.Random) -> str:
    """Lines as code has them: many short and repeated (blame -M ignores those), a few
    long enough to be moved."""
    return (
        rnd.choice(["end", "}", "", "  return nil", "x = 1", "  end", "else"])
        if (rnd.random() < 0.6)
        else _random_line(rnd)
    )


@pytest.mark.slow  # a differential test (~6 s): CI runs it, the quick loop not
@pytest.mark.parametrize("seed", range(8))
def test_fast_path_equals_git_blame_on_files_one_change_touched(tmp_path, seed):
    """Each cohort change edits its own files in place (inserting lines, copies of the
    file's lines, blocks of them): every file it counts without blame has the lines plain
    ``git blame -w -M`` gives it, and it declines some (a copy blame could move)."""
    rnd = random.Random(seed)
    g = GitRepo(tmp_path / "r")
    files = {f"f{k}.rb": [_short_line(rnd) for _ in range(rnd.randint(3, 15))] for k in range(12)}
    base = g.commit("base", when=at(1), files={n: text(*ls) for n, ls in files.items()})
    cohort = []
    for n, name in enumerate(sorted(files), 2):
        lines = files[name]
        for _ in range(rnd.randint(1, 4)):
            k = rnd.randint(0, len(lines))
            what = rnd.random()
            if what < 0.4:
                lines.insert(k, _short_line(rnd))
            elif what < 0.7:
                lines.insert(k, rnd.choice(lines))  # a copy of one line
            else:
                j = rnd.randint(0, len(lines) - 1)
                lines[k:k] = lines[j : j + rnd.randint(2, 3)]  # a copied block
        cohort.append(g.commit(f"c{n}", when=at(n), files={name: text(*lines)}))
    s = g.head()
    repo = open_repo(g.path)
    added = added_lines(repo, cohort, PathFilter())
    blamer = Blamer(repo, base, [s], few=0)
    found = blamer.counts(s, added.paths(), added)
    for path in sorted(added.paths()):
        want = _naive_counts(_porcelain(g, f"{base}..{s}", "--", path))
        assert _in_range(found.files[path], set(cohort)) == _in_range(want, set(cohort)), path
    assert blamer.quick and blamer.grafted  # the fast path answered some, declined some


def test_fast_path_never_trusts_a_merge_that_dropped_the_change(tmp_path):
    g = GitRepo(tmp_path / "r")
    base = g.commit("base", when=at(1), files={"f.py": text("one")})
    g.branch("topic")
    g.checkout("topic")
    x = g.commit("x", when=at(2), files={"f.py": text("one", "two", "three")})
    g.checkout("main")
    env = {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "A",
           "GIT_COMMITTER_EMAIL": "a@x", "GIT_AUTHOR_DATE": "2026-01-02T00:00:00+0000",
           "GIT_COMMITTER_DATE": "2026-01-02T00:00:00+0000"}  # fmt: skip
    g.git("merge", "-q", "-s", "ours", "--no-edit", "topic", env=env)  # keeps main's f.py
    s = g.head()
    repo = open_repo(g.path)
    added = added_lines(repo, [x], PathFilter())
    assert added.lines[x] == {"f.py": 2}
    found = blame_counts(repo, s, {"f.py"}, base, added)
    assert found.files == {"f.py": {base: 1}}  # none of x's lines are at S
    grafted = Blamer(repo, base, [s], few=0)
    assert grafted.counts(s, {"f.py"}, added).files == {"f.py": {base: 1}}
    assert (grafted.grafted, grafted.walked, grafted.quick) == (1, 0, set())


def _env(n: int) -> dict[str, str]:
    stamp = at(n).strftime("%Y-%m-%dT%H:%M:%S+0000")
    return {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "A",
            "GIT_COMMITTER_EMAIL": "a@x", "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp}  # fmt: skip


def _merge(g: GitRepo, n: int, *args: str) -> None:
    """``git merge`` with ``args``; a conflict ``-X ours`` leaves (a file one side deleted)
    is resolved with what the work tree holds."""
    try:
        g.git("merge", "-q", "--no-edit", *args, env=_env(n))
    except RuntimeError:
        g.git("add", "-A")
        g.git("commit", "-q", "--no-edit", env=_env(n))


def _tree(g: GitRepo) -> dict[str, list[str]]:
    """The work tree's files, as ``_edit`` keeps them."""
    return {
        p.name: p.read_text(encoding="utf-8").splitlines() for p in sorted(g.path.glob("*.txt"))
    }


def _tangled_history(g: GitRepo, rnd: random.Random) -> tuple[str, str, list[str]]:
    """Before B: a few commits and a long-lived branch forked there. After B: commits on
    main, topic branches of 1-3 commits merged back (``--no-ff``; three-way merges of both
    sides' edits, conflicts resolved as ``-X ours``; ``-s ours`` merges that drop a side;
    the old branch merged in), renames, an octopus merge. Returns B, S and a middle commit."""
    files: dict[str, list[str]] = {}
    n = 0
    for _ in range(4):
        n += 1
        g.commit(f"c{n}", when=at(n), files=_edit(rnd, files))
    g.branch("old")
    n += 1
    g.commit(f"c{n}", when=at(n), files=_edit(rnd, files))
    base = g.head()
    g.checkout("old")
    n += 1
    g.commit(f"old{n}", when=at(n), files=_edit(rnd, _tree(g)))
    g.checkout("main")
    middle = base
    for step in range(rnd.randint(14, 22)):
        n += 1
        op = rnd.random()
        if op < 0.45:
            g.commit(f"c{n}", when=at(n), files=_edit(rnd, files))
        elif op < 0.85:
            topic = f"t{n}"
            g.branch(topic)
            g.checkout(topic)
            side = _tree(g)
            for _ in range(rnd.randint(1, 3)):
                n += 1
                g.commit(f"t{n}", when=at(n), files=_edit(rnd, side))
            g.checkout("main")
            if rnd.random() < 0.5:  # main moves on meanwhile: a three-way merge
                n += 1
                g.commit(f"c{n}", when=at(n), files=_edit(rnd, files))
            n += 1
            how = ["-s", "ours"] if rnd.random() < 0.15 else ["-X", "ours"]
            _merge(g, n, "--no-ff", *how, topic)
            files = _tree(g)
        elif op < 0.89 and len(files) > 1:  # a file added, an unrelated one deleted
            gone = rnd.choice(sorted(files))
            del files[gone]
            new = f"n{n}.txt"
            files[new] = [_random_line(rnd) for _ in range(rnd.randint(2, 8))]
            g.commit(f"swap{n}", when=at(n), files={gone: None, new: text(*files[new])})
        elif op < 0.94 and len(files) > 1:
            src = rnd.choice(sorted(files))
            dst = f"r{n}.txt"
            g.git("mv", src, dst)
            files[dst] = files.pop(src)
            g.commit(f"mv{n}", when=at(n), files=_edit(rnd, files) if rnd.random() < 0.5 else {})
        else:
            g.commit(f"c{n}", when=at(n), files=_edit(rnd, files))
        if step == 5:
            middle = g.head()
    n += 1
    _merge(g, n, "--no-ff", "-X", "ours", "old")
    files = _tree(g)
    if rnd.random() < 0.5:  # an octopus merge of two small branches
        for name in ("o1", "o2"):
            g.branch(name)
            g.checkout(name)
            n += 1
            new = f"{name}_{n}.txt"
            g.commit(name, when=at(n), files={new: text(*[_random_line(rnd) for _ in range(3)])})
            g.checkout("main")
        n += 1
        _merge(g, n, "o1", "o2")
    for _ in range(2):
        n += 1
        g.commit(f"c{n}", when=at(n), files=_edit(rnd, _tree(g)))
    return base, g.head(), middle


def _in_range(counts: dict[str, int], commits: set[str]) -> dict[str, int]:
    return {c: k for c, k in counts.items() if c in commits}


@pytest.mark.slow  # a differential test (~15 s): CI runs it, the quick loop not
@pytest.mark.parametrize("seed", range(12))
def test_grafted_blame_equals_git_blame_over_the_range(tmp_path, seed):
    """Every file at S (and at a middle commit), blamed through its simplified history
    (``RangeHistory`` grafts), gives every commit of B..S the lines plain ``git blame -w -M
    B..S`` gives it: merges of every kind, renames, a branch forked before B."""
    rnd = random.Random(seed)
    g = GitRepo(tmp_path / "r")
    base, s, middle = _tangled_history(g, rnd)
    repo = open_repo(g.path)
    commits = set(g.git("rev-list", f"{base}..{s}").split())
    blamer = Blamer(repo, base, [s, middle], few=0)
    for point in (s, middle):
        paths = set(existing_paths(repo, point, set(_tree_at(g, point))) or {})
        got = blamer.counts(point, paths)
        assert got.missing == []
        for path in sorted(paths):
            want = _naive_counts(_porcelain(g, f"{base}..{point}", "--", path))
            assert _in_range(got.files[path], commits) == _in_range(want, commits), path
    assert blamer.grafted and blamer.grafted >= blamer.walked  # the grafts did most


def _tree_at(g: GitRepo, commit: str) -> list[str]:
    return g.git("ls-tree", "-r", "--name-only", commit).split()


@pytest.mark.parametrize("limit", [250_000, 0])
def test_a_file_split_in_two_keeps_its_origin_in_both_halves(tmp_path, monkeypatch, limit):
    """One deleted file is the origin of two new ones (git's rename detection would pair it
    with one of them only): blame finds it for each, so both go through their real parent,
    and the counts equal plain ``git blame``; an unrelated new file is counted from grafts."""
    g = GitRepo(tmp_path / "r")
    body = [f"line {k} of a file long enough to be similar" for k in range(12)]
    base = g.commit("base", when=at(1), files={"g.txt": text(*body), "keep.txt": text("k")})
    old = g.commit("old", when=at(2), files={"g.txt": text(*body, "one more line of g")})
    split = g.commit("split", when=at(3), files={
        "g.txt": None,
        "f1.txt": text(*body[:11], "one more line of g", "f1 only"),
        "f2.txt": text(*body[1:], "one more line of g", "f2 only"),
        "new.txt": text("nothing", "like", "g"),
    })  # fmt: skip
    s = g.commit("later", when=at(4), files={"keep.txt": text("k", "k2")})
    repo = open_repo(g.path)
    # limit 0: a commit too big to ask git's -C about; every new file of it is blamed
    # through its real parent, as if git had found an origin
    monkeypatch.setattr("scorer.git.blame._PAIRS", limit)
    blamer = Blamer(repo, base, [s], few=0)
    paths = {"f1.txt", "f2.txt", "new.txt", "keep.txt"}
    got = blamer.counts(s, paths)
    history = blamer.history()
    assert history is not None
    assert history.renamed(split, "f1.txt") and history.renamed(split, "f2.txt")
    assert history.renamed(split, "new.txt") is (limit == 0)
    for path in sorted(paths):
        want = _naive_counts(_porcelain(g, f"{base}..{s}", "--", path))
        assert got.files[path] == want, path
    assert got.files["f1.txt"][old] == 1 and got.files["f2.txt"][old] == 1
    assert got.files["new.txt"] == {split: 3}


def test_spawn_feeds_large_input_and_survives_git_leaving_early(tmp_path):
    """``_spawn`` (blame's process starter): input beyond a pipe's buffer reaches git whole;
    a git that exits without reading it (a bad revision) gives its exit code, no hang."""
    from scorer.git.blame import _spawn
    from scorer.git.log import git_env

    g = GitRepo(tmp_path / "r")
    g.commit("one", when=at(1), files={"a.py": "a\n"})
    data = b"".join(b"line %d of the grafts\n" % k for k in range(40_000))  # ~1 MB
    assert len(data) > 900_000  # a pipe holds 64 KiB
    cmd = ["git", "-C", str(g.path), "hash-object", "--stdin"]
    want = subprocess.run(cmd, input=data, capture_output=True, check=True).stdout
    assert _spawn(cmd, data, git_env()) == (0, want)
    bad = ["git", "-C", str(g.path), "rev-parse", "--verify", "-q", "no-such-rev"]
    assert _spawn(bad, data, git_env()) == (1, b"")
    assert _spawn(["git", "-C", str(g.path), "rev-parse", "HEAD"], b"", git_env()) == (
        0,
        (g.head() + "\n").encode(),
    )
