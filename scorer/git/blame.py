"""Lines, as git sees them (METRIC.md section 10): what a change added, and what of it
``git blame -w -M`` still attributes to it at a later commit.

- ``added_lines``: one ``git diff-tree --stdin -p -w --ignore-blank-lines -M`` over the
  cohort's changes, each against its first parent. ``-w`` leaves out lines that differ from a
  deleted line only in whitespace (blame -w would not attribute them to the change); blank
  lines are not counted. Binary files add no lines.
- ``Blamer``: ``git blame --incremental -w -M`` of each file the cohort wrote, at ``S`` (and
  at the rework states), bounded with ``B..S`` so that blame stops at ``B`` (below the
  cohort). Blame walks every commit of the range to find the few that changed its file; for
  thousands of files, ``RangeHistory`` reads the range once and hands each blame its file's
  simplified history as grafts (``-S``), and a file one commit wrote and nothing changed
  since is counted without blame. Only non-blank lines are counted, as for the added ones
  (blame's ranges, less the blank lines of the file as committed: ``blank_lines``).

Partial clones: a blob git does not have makes ``git blame`` (or the diff) fail, since lazy
fetching is off (``git_env``); the file (or change) is counted as missing and left out, never
a crash.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence

from scorer.errors import RepositoryError
from scorer.git.diffs import CatFile
from scorer.git.log import (
    Repo,
    clear_progress,
    config_values,
    git_command,
    git_env,
    tty_progress,
)
from scorer.git.paths import PathFilter
from scorer.util.threads import Background

_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_HEX = frozenset(b"0123456789abcdef")
# What -w ignores (git's isspace), removed with bytes.translate; within a line, no newline.
_SPACES = b" \t\r\v\f"
# Both sides use git's default diff (plumbing ignores diff.algorithm; blame may not).
_MYERS = ("-c", "diff.algorithm=myers")
_ESCAPES = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b",
            b"f": b"\f", b"r": b"\r", b"v": b"\v"}  # fmt: skip


class Added:
    """What the cohort's changes added: ``lines[sha][path]`` (non-blank lines, exclude_paths
    left out), and the changes git could not diff (objects missing)."""

    def __init__(self) -> None:
        self.lines: dict[str, dict[str, int]] = {}
        self.missing: list[str] = []
        # (sha, path) -> the path in the parent ("" for a new file); and, for a file changed
        # in place, its hunks' added lines (blank ones too), whitespace removed: what blame
        # -M could find moved from the parent (``Blamer``'s fast path).
        self.origin: dict[tuple[str, str], str] = {}
        self.runs: dict[tuple[str, str], list[list[bytes]]] = {}

    def paths(self) -> set[str]:
        return {p for files in self.lines.values() for p in files}

    def total(self, sha: str) -> int:
        return sum(self.lines.get(sha, {}).values())


def unquote_path(raw: bytes) -> str:
    """A path as git prints it in a patch header: C-quoted when it holds odd bytes."""
    if raw[:1] == b'"' and raw[-1:] == b'"':
        body, out, i = raw[1:-1], bytearray(), 0
        while i < len(body):
            c = body[i : i + 1]
            if c == b"\\" and i + 1 < len(body):
                nxt = body[i + 1 : i + 2]
                if nxt in _ESCAPES:
                    out += _ESCAPES[nxt]
                    i += 2
                    continue
                if body[i + 1 : i + 4].isdigit():
                    out.append(int(body[i + 1 : i + 4], 8))
                    i += 4
                    continue
            out += c
            i += 1
        raw = bytes(out)
    return raw.decode("utf-8", "surrogateescape")


def _is_sha_line(line: bytes) -> bool:
    return len(line) in (40, 64) and _HEX.issuperset(line)


def parse_added(output: bytes, exclude: PathFilter, into: Added) -> None:
    """Count the added non-blank lines of ``git diff-tree --stdin -p`` output, per change
    and path (the post-image path: where blame at a later commit finds them)."""
    sha: str | None = None
    path: str | None = None
    source = ""
    runs: list[list[bytes]] | None = None
    run: list[bytes] = []
    old_left = new_left = 0
    for line in output.split(b"\n"):
        if old_left > 0 or new_left > 0:
            tag = line[:1]
            if tag == b"+":
                new_left -= 1
                if runs is not None:
                    run.append(line[1:].translate(None, _SPACES))
                if path is not None and line[1:].strip():
                    files = into.lines.setdefault(sha, {})  # type: ignore[arg-type]
                    files[path] = files.get(path, 0) + 1
            elif tag == b"-":
                old_left -= 1
            elif tag == b"\\":  # "\ No newline at end of file"
                pass
            else:
                old_left -= 1
                new_left -= 1
            continue
        if _is_sha_line(line):
            sha = line.decode("ascii")
            into.lines.setdefault(sha, {})
            path = None
        elif line.startswith(b"--- "):
            origin = line[4:]
            source = "" if origin == b"/dev/null" else unquote_path(origin)[2:]
        elif line.startswith(b"+++ "):
            target = line[4:]
            runs = None
            if target == b"/dev/null":
                path = None
            else:
                name = unquote_path(target)
                name = name[2:] if name.startswith("b/") else name
                path = None if exclude.excluded(name) else name
                if path is not None and sha is not None:
                    into.origin[(sha, path)] = source
                    if source == path:
                        runs = into.runs.setdefault((sha, path), [])
        elif line.startswith(b"@@ "):
            m = _HUNK.match(line)
            if m:
                old_left = 1 if m.group(1) is None else int(m.group(1))
                new_left = 1 if m.group(2) is None else int(m.group(2))
                if runs is not None:
                    run = []
                    runs.append(run)
        elif line.startswith(b"diff --git "):
            path = None
            runs = None


_DIFF = (
    *_MYERS,
    "-c",
    "core.quotePath=true",
    "diff-tree",
    "--stdin",
    "-r",
    "-p",
    "-w",  # no --ignore-blank-lines: the hunks blame sees (blank lines are not counted)
    "-M",
    "--root",
    "--always",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--unified=0",
    "--diff-filter=d",  # a deleted file adds nothing: not its whole text as "-" lines
)


def added_lines(repo: Repo, shas: Sequence[str], exclude: PathFilter, workers: int = 2) -> Added:
    """Lines each change of ``shas`` (not merges) adds against its first parent. Git
    processes (``workers``, each single-threaded: reading and diffing blobs is the cost) over
    shares of the changes; where one fails (a missing object), each of its changes alone,
    and those that still fail are counted as missing."""
    out = Added()
    if not shas:
        return out
    shares = max(1, min(workers, len(shas) // _SHARE_MIN))
    parts = [list(shas[k::shares]) for k in range(shares)]

    def diff(part: list[str]) -> subprocess.CompletedProcess:
        return _run([*_DIFF], "".join(f"{s}\n" for s in part).encode("ascii"), repo)

    from concurrent.futures import ThreadPoolExecutor  # (logging and all: only survival)

    with ThreadPoolExecutor(max_workers=shares) as pool:
        done = list(pool.map(diff, parts))
    for part, proc in zip(parts, done, strict=True):
        if proc.returncode == 0:
            parse_added(proc.stdout, exclude, out)
            continue
        for sha in part:
            one = _run([*_DIFF], f"{sha}\n".encode("ascii"), repo)
            if one.returncode == 0:
                parse_added(one.stdout, exclude, out)
            else:
                out.missing.append(sha)
    return out


_SHARE_MIN = 32  # changes below which one git process diffs them all


def _run(args: list[str], stdin: bytes | None, repo: Repo) -> subprocess.CompletedProcess:
    cmd = [*git_command(repo), *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, env=git_env(), check=False)


def existing_paths(repo: Repo, commit: str, paths: Iterable[str]) -> dict[str, str] | None:
    """Those of ``paths`` that are files at ``commit``, from its trees alone (one ``git
    ls-tree``; blobs may be missing): a file deleted or renamed away since is not blamed (its
    lines did not survive). None when git cannot read the trees (a partial clone without
    them)."""
    wanted = set(paths)
    if not wanted:
        return {}
    # A few paths (a rework state's): named, so that git lists only them, not the whole tree.
    named = ["--", *sorted(wanted)] if len(wanted) <= _NAMED_MAX else []
    proc = _run(["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", commit, *named],
                None, repo)  # fmt: skip
    if proc.returncode != 0:
        return None
    found = {}
    for entry in proc.stdout.split(b"\0"):
        head, _, name = entry.partition(b"\t")
        fields = head.split(b" ")
        if fields[1:2] == [b"blob"]:
            path = name.decode("utf-8", "surrogateescape")
            if path in wanted:
                found[path] = fields[2].decode("ascii")
    return found


def existing_at(
    repo: Repo, wanted: Mapping[str, Iterable[str]]
) -> dict[str, dict[str, str] | None]:
    """``existing_paths`` at several commits (the rework states, a few paths each): one
    ``git cat-file --batch-check`` of every ``commit:path``. "missing" does not tell a path
    that is not there from a tree a partial clone lacks, so a commit with such an answer (or
    a path git cannot be asked about this way: a newline) is listed by ``existing_paths``,
    as is a commit alone or with many paths (one ``ls-tree`` is as quick)."""
    paths = {at: set(ps) for at, ps in wanted.items()}
    listed = {at for at, ps in paths.items() if len(paths) == 1 or len(ps) > _NAMED_MAX}
    listed.update(at for at, ps in paths.items() if "\n" in at or any("\n" in p for p in ps))
    asked = [(at, p) for at, ps in paths.items() if at not in listed for p in sorted(ps)]
    found: dict[str, dict[str, str] | None] = {at: {} for at in paths}
    if asked:
        reader = CatFile(repo, "--batch-check")
        try:
            answers = reader.types([f"{at}:{p}" for at, p in asked])
        except RepositoryError:  # git stopped short: ls-tree lists them
            answers = [None] * len(asked)
        finally:
            reader.close()
        for (at, p), answer in zip(asked, answers, strict=True):
            if answer is None:
                listed.add(at)
            elif answer[0] == "blob":
                found[at][p] = answer[1]  # type: ignore[index]
    for at in listed:
        found[at] = existing_paths(repo, at, paths[at])
    return found


_NAMED_MAX = 256  # paths existing_paths names to git; more: it lists the whole tree


class Blamed:
    """Per file, non-blank lines per commit at one commit; files git could not blame."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, int]] = {}
        self.missing: list[str] = []


def blame_config_problem(repo: Repo) -> str | None:
    """Why git blame cannot give the definition's answer here, or None. A repository's own
    ``blame.ignoreRevsFile`` makes every ``git blame`` leave out the commits it lists (or
    fail, the file missing), and no command-line option can undo a value set in its config."""
    if not config_values(repo).get("blame.ignorerevsfile"):
        return None
    # (The value is not repeated: reasons are the report's own words, never escaped.)
    return (
        "this repository's git config sets blame.ignoreRevsFile: git blame would leave out "
        "the commits it lists (or fail), so the lines were not read; unset it to get the "
        "figure (git config --unset blame.ignoreRevsFile)"
    )


def blame_file(
    repo: Repo,
    at: str,
    path: str,
    boundary: str | None,
    grafts: str | None = None,
    env: Mapping[str, str] | None = None,
) -> list[tuple[str, int, int]] | None:
    """``git blame --incremental -w -M`` of ``path`` at ``at``: (commit, first line at
    ``at``, lines) per range of lines; None when git cannot (a missing blob). Bounded with
    ``boundary..at``; given ``grafts`` (the text of ``RangeHistory.plans``, on git's
    standard input), blame walks only the commits that changed the file. ``--incremental``
    prints the ranges without the file's text (``--porcelain`` prints every line, which
    Python would then read line by line); which lines are blank comes from the file itself
    (``blank_lines``). ``env``: ``git_env()``, built once for many blames."""
    rev = f"{boundary}..{at}" if boundary else at
    args = ["blame", "--incremental", "--no-textconv", "-w", "-M"]
    args += [*(("-S", "/dev/stdin") if grafts else ()), rev]
    args += ["--", path]
    cmd = [*git_command(repo), *_MYERS, *args]
    code, out = _spawn(cmd, (grafts or "").encode("ascii"), git_env() if env is None else env)
    if code != 0:
        return None
    return [(m.group(1).decode("ascii"), int(m.group(2)), int(m.group(3)))
            for m in _ENTRY.finditer(out)]  # fmt: skip


def _spawn(cmd: list[str], stdin: bytes, env: Mapping[str, str]) -> tuple[int, bytes]:
    """``subprocess.run(cmd, input=stdin, capture_output=True)`` for a process started
    thousands of times: ``os.posix_spawn`` converts the environment in C and starts git
    without Python's fork machinery (0.09 against 0.25 ms of this process's CPU, and
    ~0.2 ms sooner). git's errors go to /dev/null; the exit code says it failed."""
    exe = _which(cmd[0])
    if exe is None:
        proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env, check=False)
        return proc.returncode, proc.stdout
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        pid = os.posix_spawn(exe, cmd, env, file_actions=[
            (os.POSIX_SPAWN_DUP2, in_r, 0),
            (os.POSIX_SPAWN_DUP2, out_w, 1),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
        ])  # fmt: skip
    except BaseException:
        for fd in (in_w, out_r):
            os.close(fd)
        raise
    finally:
        os.close(in_r)
        os.close(out_w)
    try:
        # git reads its grafts whole before it writes a line: this cannot wait on the other
        if stdin:
            with contextlib.suppress(BrokenPipeError):  # git ended first (a bad revision)
                view = memoryview(stdin)
                while view:
                    view = view[os.write(in_w, view) :]
    finally:
        os.close(in_w)
    chunks = []
    try:
        while chunk := os.read(out_r, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(out_r)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks)


@functools.cache
def _which(name: str) -> str | None:
    if not hasattr(os, "posix_spawn"):
        return None
    import shutil  # (only when blaming: a warm scan's start-up does without it)

    return shutil.which(name)


# A range of lines in ``--incremental`` output: commit, its first line there, the first line
# at the blamed commit, how many; no other line of that output starts with a hex digit and
# a space after 40 (or 64) of them.
_ENTRY = re.compile(rb"^([0-9a-f]{40}|[0-9a-f]{64}) \d+ (\d+) (\d+)$", re.M)


def blank_lines(data: bytes) -> array:
    """The numbers (from 1) of the lines of ``data`` that are empty or whitespace only, as
    git splits lines (a last line without a newline is a line). Whitespace is removed first
    (in C), so that a blank line is an empty one: 2.4x faster than a pattern's matches."""
    lines = data.translate(None, _SPACES).split(b"\n")
    if data.endswith(b"\n") or not data:
        lines.pop()  # what follows the last newline is no line
    return array("i", [k for k, line in enumerate(lines, 1) if not line])


def lines_per_commit(
    entries: Iterable[tuple[str, int, int]], blank: Sequence[int]
) -> dict[str, int]:
    """Non-blank lines per commit: each entry's lines less the blank ones among them."""
    counts: dict[str, int] = {}
    for sha, first, n in entries:
        n -= bisect_left(blank, first + n) - bisect_left(blank, first)
        if n > 0:
            counts[sha] = counts.get(sha, 0) + n
    return counts


def _origins(repo: Repo, commits: list[str]) -> dict[str, frozenset[str] | None]:
    """Per commit, the added files git's rename and copy detection (``-C``, no file-count
    limit) finds an origin for; None when git does not answer. With copies, a deleted file
    may be the origin of several added ones, so an added file it leaves out has no deleted
    file similar enough: blame, which looks for one file's origin among the deleted files
    alone, finds none either."""
    found: dict[str, set[str]] = {c: set() for c in commits}
    # Each commit is one rename detection, on one core: two git processes share them.
    shares = min(2, len(commits))
    parts = [commits[k::shares] for k in range(shares)]

    def detect(part: list[str]) -> subprocess.CompletedProcess:
        stdin = "".join(f"{c}\n" for c in part).encode("ascii")
        return _run(_RENAMES, stdin, repo)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=shares) as pool:
        done = list(pool.map(detect, parts))
    answered: dict[str, frozenset[str] | None] = {}
    for part, proc in zip(parts, done, strict=True):
        if proc.returncode != 0 or b"detection was skipped" in proc.stderr:
            answered.update(dict.fromkeys(part))
        else:
            _read_origins(proc.stdout, found)
    return {c: answered[c] if c in answered else frozenset(v) for c, v in found.items()}


_RENAMES = ["diff-tree", "--stdin", "-r", "-C", "-l0", "--diff-filter=RC", "--name-status", "-z"]


def _read_origins(output: bytes, found: dict[str, set[str]]) -> None:
    """The added paths of each commit in ``diff-tree -C --name-status -z`` output."""
    current: set[str] | None = None
    tokens = iter(output.split(b"\0"))
    for token in tokens:
        name = token.strip(b"\n").decode("utf-8", "surrogateescape")
        if name in found:
            current = found[name]
        elif current is not None and token[:1] in (b"R", b"C") and token[1:].isdigit():
            next(tokens, b"")  # the origin
            current.add(next(tokens, b"").decode("utf-8", "surrogateescape"))


def _raw_entries(tokens: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """(meta, path) of each ``--raw -z`` entry among one commit's NUL-separated tokens (the
    header and empty separators skipped; ``::`` for a combined merge entry)."""
    it = iter(tokens[1:])
    for token in it:
        meta = token.lstrip(b"\n")
        if meta[:1] == b":":
            yield meta, next(it, b"")


class _Root(str):
    """A commit outside the range where a file's history leaves it: grafted without parents,
    so that blame stops there as it stops at ``B``."""


class _Unsafe(Exception):
    """The file's history is one the grafts do not reproduce exactly: blame it in full."""


class RangeHistory:
    """What ``git blame`` walks, for every file at once, from two ``git log`` reads of
    ``boundary..tips`` (each commit's changed paths against its first parent, and the paths a
    merge changed against every parent).

    ``git blame`` of one file walks every commit of the range to find the few that changed
    it (~18 of its ~30 ms on a 3k-commit range, for each of thousands of files). The same
    walk done once gives each file's *simplified history* (what ``git log -- FILE`` shows,
    and what blame follows): a commit that left the file as one of its parents had it passes
    the blame to the first such parent whole; the others are the commits blame diffs.
    ``plans`` writes that history as git grafts (``git blame -S``), so that blame reads
    only those commits, with the same parents' contents and so the same diffs: the same
    counts for every commit of the range. A history the grafts cannot reproduce exactly
    (an octopus merge, a merge that adds the file, a type change, a renamed origin whose
    walk could cross the file's own grafts) gets ``None``: blame it over the whole range."""

    def __init__(self, repo: Repo, boundary: str, tips: Sequence[str]):
        self.repo = repo
        self.origins: dict[str, frozenset[str] | None] = {}  # ``_origins``, as asked
        self.parents: dict[str, list[str]] = {}
        self.touched: dict[str, list[str]] = {}  # path -> commits (first-parent diff)
        self.status: dict[tuple[str, str], str] = {}
        self.deletes: set[str] = set()  # commits whose first-parent diff deletes a path
        self.adds: dict[str, int] = {}  # commit -> paths its first-parent diff adds
        self.sources: dict[str, int] = {}  # commit -> paths it deletes or modifies
        self.combined: dict[str, dict[str, str]] = {}  # merge -> path -> statuses
        self.ok = self._read(repo, boundary, tips)
        self._forest()

    def _read(self, repo: Repo, boundary: str, tips: Sequence[str]) -> bool:
        revs = [*dict.fromkeys(tips), f"^{boundary}"]
        common = ["log", "-z", "--raw", "--no-renames", "--no-abbrev", *revs]
        cmd = git_command(repo)
        first = subprocess.Popen(
            [*cmd, *common, "--root", "--diff-merges=first-parent", "--format=%x01%H %P"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_env(),
        )  # fmt: skip
        merges = subprocess.Popen(
            [*cmd, *common, "--merges", "--diff-merges=combined", "--format=%x01%H"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_env(),
        )  # fmt: skip
        out_first, _ = first.communicate()
        out_merges, _ = merges.communicate()
        if first.returncode != 0 or merges.returncode != 0:
            return False
        for record in out_first.split(b"\x01")[1:]:
            tokens = record.split(b"\0")
            head = tokens[0].decode("ascii").split()
            sha = head[0]
            self.parents[sha] = head[1:]
            for meta, name in _raw_entries(tokens):
                status = meta[-1:].decode("ascii")
                path = name.decode("utf-8", "surrogateescape")
                self.touched.setdefault(path, []).append(sha)
                self.status[(sha, path)] = status
                if status == "D":
                    self.deletes.add(sha)
                if status == "A":
                    self.adds[sha] = self.adds.get(sha, 0) + 1
                else:  # what git's -C may take an added file's origin from
                    self.sources[sha] = self.sources.get(sha, 0) + 1
        for record in out_merges.split(b"\x01")[1:]:
            tokens = record.split(b"\0")
            sha = tokens[0].decode("ascii").strip()
            paths = self.combined.setdefault(sha, {})
            for meta, name in _raw_entries(tokens):
                statuses = meta.rsplit(b" ", 1)[-1].decode("ascii")
                paths[name.decode("utf-8", "surrogateescape")] = statuses
        return True

    def _forest(self) -> None:
        """The first-parent forest of the range: Euler-tour times and depths (is ``t`` on
        ``x``'s first-parent line?), and where each line leaves the range."""
        children: dict[str, list[str]] = {}
        roots = []
        for sha, ps in self.parents.items():
            if ps and ps[0] in self.parents:
                children.setdefault(ps[0], []).append(sha)
            else:
                roots.append(sha)
        self.tin: dict[str, int] = {}
        self.tout: dict[str, int] = {}
        self.depth: dict[str, int] = {}
        self.exit: dict[str, str | None] = {}  # commit -> the first commit below its line
        clock = 0
        for root in roots:
            ps = self.parents[root]
            leaves = ps[0] if ps else None
            stack = [(root, 0, False)]
            while stack:
                sha, d, done = stack.pop()
                if done:
                    self.tout[sha] = clock
                    continue
                self.tin[sha] = clock
                clock += 1
                self.depth[sha] = d
                self.exit[sha] = leaves
                stack.append((sha, d, True))
                stack.extend((c, d + 1, False) for c in children.get(sha, ()))

    def _rewrite(self, x: str | None, path: str, touched: list[str]) -> str | None:
        """The commit blame reaches from ``x`` for ``path``: the newest commit of ``x``'s
        simplified history (a ``_Root`` outside the range; None where the file never was)."""
        while True:
            if x is None:
                return None
            if x not in self.tin:
                return _Root(x)
            best, best_depth = None, -1
            tx = self.tin[x]
            for t in touched:  # the newest of them on x's first-parent line
                if self.tin[t] <= tx < self.tout[t] and self.depth[t] > best_depth:
                    best, best_depth = t, self.depth[t]
            if best is None:
                leaves = self.exit[x]
                return None if leaves is None else _Root(leaves)
            ps = self.parents[best]
            if len(ps) < 2 or path in self.combined.get(best, {}):
                return best
            if len(ps) != 2:
                raise _Unsafe  # an octopus merge: which parent it took the file from is unknown
            x = ps[1]  # the merge has the file as its second parent had it

    def plans(self, at: str, paths: Iterable[str]) -> dict[str, tuple[str, list[str]] | None]:
        """Per path, its simplified history from ``at`` as a graft file's text and its
        commits (newest first); None when blame must walk the range itself.

        Where a commit added the file and deleted others, blame looks for a rename (the
        file's origin under another name): git's rename detection is asked first, for all
        such commits at once. Where it pairs nothing, there is nothing to find (the parent is
        grafted without parents); where it pairs something, the parent keeps its real
        history, which blame walks (``boundary..at``) if it finds the file's origin there."""
        if at not in self.tin:
            return dict.fromkeys(paths)
        drafts: dict[str, tuple[str, list[str], set[str]] | None] = {}
        for path in paths:
            drafts[path] = self._draft(at, path)
        asked = {c for d in drafts.values() if d for c in d[2]} - self.origins.keys()
        # -C compares every added file with every source: a commit that moves thousands of
        # files is not asked (its files' blames look for their origins themselves).
        huge = {c for c in asked if self.adds.get(c, 0) * self.sources.get(c, 0) > _PAIRS}
        self.origins.update(dict.fromkeys(huge))
        if asked - huge:
            self.origins.update(_origins(self.repo, sorted(asked - huge)))
        plans: dict[str, tuple[str, list[str]] | None] = {}
        for path, d in drafts.items():
            if d is not None and any(self.renamed(c, path) for c in d[2]):
                d = self._draft(at, path, renamed=True)
            plans[path] = None if d is None else (d[0], d[1])
        return plans

    def renamed(self, commit: str, path: str) -> bool:
        """Whether blame may find an origin for ``path``, added by ``commit``, under another
        name (asked of git by ``plans``; a commit that deleted nothing: never)."""
        if commit not in self.deletes:
            return False
        found = self.origins.get(commit)
        return found is None or path in found

    def _draft(
        self, at: str, path: str, renamed: bool = False
    ) -> tuple[str, list[str], set[str]] | None:
        try:
            return self._grafts(at, path, renamed)
        except _Unsafe:
            return None

    def _grafts(self, at: str, path: str, renamed: bool) -> tuple[str, list[str], set[str]]:
        touched = self.touched.get(path, [])
        lines: dict[str, list[str]] = {}
        checks: set[str] = set()  # commits that added the file and deleted others
        roots: set[str] = set()
        real: set[str] = set()  # parents blame may walk from, to a renamed file's origin
        start = self._rewrite(at, path, touched)
        queue: list[str] = []
        if start != at:
            lines[at] = [] if start is None else [start]
        if isinstance(start, _Root):
            roots.add(start)
        elif start is not None:
            queue.append(start)
        order: list[str] = []
        while queue:
            c = queue.pop()
            if c in lines:
                continue
            ps = self.parents[c]
            targets: list[str | None]
            if len(ps) > 1:
                statuses = self.combined[c][path]
                if set(statuses) != {"M"}:
                    raise _Unsafe  # new, gone or retyped against a parent
                targets = [self._rewrite(p, path, touched) for p in ps]
            else:
                status = self.status[(c, path)]
                if status == "A":
                    # The file is new: every line is c's, unless blame finds its origin under
                    # another name. Where it cannot, c is grafted without parents, so that
                    # blame does not look (a commit that deletes many files makes that cost).
                    targets = []
                    if c in self.deletes:
                        checks.add(c)
                        if renamed and self.renamed(c, path):
                            real.add(ps[0])
                            targets = [ps[0]]
                            lines[c] = targets
                            order.append(c)
                            continue
                elif status == "M":
                    targets = [self._rewrite(ps[0] if ps else None, path, touched)]
                else:
                    raise _Unsafe
            parents = []
            for t in targets:
                if t is None or t in parents:
                    continue
                parents.append(t)
                if isinstance(t, _Root):
                    roots.add(t)
                else:
                    queue.append(t)
            lines[c] = parents
            order.append(c)
        if real and any(self.status[(c, path)] == "D" for c in touched):
            # The file had an earlier life in the range: its commits are grafted, and the
            # history of a renamed origin that blame walks from ``real`` may cross them.
            raise _Unsafe
        text = "".join(f"{c} {' '.join(ps)}\n" for c, ps in lines.items())
        text += "".join(f"{r}\n" for r in sorted(roots))
        return text, order, checks


_PAIRS = 250_000  # added x source files of a commit _origins asks git about, at most
_FEW = 16  # below this many files, blaming each over the range beats reading the range once


class Blamer:
    """Blame at ``S`` and at the rework states: every file git must blame over
    ``boundary..at``, through one ``RangeHistory`` of ``boundary..tips`` when there are enough
    of them, two git processes at a time (each is single-threaded)."""

    def __init__(
        self,
        repo: Repo,
        boundary: str | None,
        tips: Iterable[str],
        workers: int = 2,
        few: int = _FEW,
        progress: bool = False,
    ):
        self.repo = repo
        self.progress = progress  # a line on a terminal while files are blamed
        self.boundary = boundary
        self.tips = list(dict.fromkeys(tips))
        self.workers = max(1, workers)
        self.few = few
        self._history: RangeHistory | None = None
        self._reading: Background | None = None  # ``prefetch``
        self.quick: set[str] = set()  # files counted without blame (tests, bench)
        self.grafted = 0  # files blamed through their simplified history
        self.walked = 0  # files blamed over the whole range
        self.reused = 0  # files whose simplified history had been blamed already
        # (path, *its simplified history's commits) -> non-blank lines per commit
        self._memo: dict[tuple[str, ...], dict[str, int]] = {}

    def prefetch(self) -> None:
        """Start reading the range in a thread: a cold run's caller knows it will blame
        before it knows which files (while git diffs the cohort's changes)."""
        if self.boundary is not None and self._reading is None:
            self._reading = Background(RangeHistory, self.repo, self.boundary, self.tips)

    def history(self) -> RangeHistory | None:
        if self.boundary is None:
            return None
        if self._history is None:
            self.prefetch()
            self._history = self._reading.result()  # type: ignore[union-attr]
        return self._history if self._history.ok else None  # type: ignore[union-attr]

    def counts(self, at: str, paths: Iterable[str], added: Added | None = None) -> Blamed:
        """``counts_at`` at one commit."""
        return self.counts_at({at: paths}, added)[at]

    def counts_at(
        self, asks: Mapping[str, Iterable[str]], added: Added | None = None
    ) -> dict[str, Blamed]:
        """Blame, at each commit of ``asks``, every path it names that exists there: all
        of them in one pool (the rework states' few files each would leave a core idle).

        A file whose simplified history from a commit is one commit X that added it, or
        changed it in place where blame ``-M`` could move none of its added lines to the
        parent's version (``could_move``), is counted without blame: X has exactly the lines
        its ``-w`` diff adds (``added``). A file whose simplified history is one already
        blamed (at ``S`` and at a rework state after its last change) gets those counts:
        blame at a commit that left the file as its newest change had it is blame at that
        change. The differential tests hold every path to plain ``git blame``."""
        from concurrent.futures import ThreadPoolExecutor  # (only when blaming)

        out = {at: Blamed() for at in asks}
        wanted = {at: set(paths) for at, paths in asks.items()}
        with ThreadPoolExecutor(max_workers=1) as lister:
            # git lists the files while this thread plans their blames (the range was read
            # ahead, or is read now)
            listing = lister.submit(existing_at, self.repo, wanted)
            history = None
            if self._reading is not None or sum(len(ps) for ps in wanted.values()) >= self.few:
                history = self.history()
            plans: dict[str, dict[str, tuple[str, list[str]] | None]] = {}
            quick: dict[str, dict[str, dict[str, int]]] = {}
            pending: dict[tuple[str, str], list[str]] = {}  # whose parent's version tells
            if history is not None:
                plans = {at: history.plans(at, ps) for at, ps in wanted.items() if at in self.tips}
                if added is not None:
                    quick, pending = self._without_blame(plans, added, history)
            listed = listing.result()
        present: dict[str, set[str]] = {}
        for at, found in listed.items():
            if found is None:
                out[at].missing.extend(sorted(wanted[at]))
            elif found:
                present[at] = set(found)
        for at, files in quick.items():
            kept = {p: c for p, c in files.items() if p in present.get(at, ())}
            out[at].files.update(kept)
            self.quick.update(kept)
        waiting = {(at, p) for (_, p), ats in pending.items() for at in ats}
        jobs = self._jobs(present, plans, out, skip=waiting)
        if not jobs and not pending:
            return out

        def decide(reader: CatFile) -> list[tuple[str, str, tuple[str, list[str]] | None]]:
            """While git blames ``jobs``: the pending files counted, or handed to git."""
            for at, files in self._checked(pending, added, reader).items():  # type: ignore[arg-type]
                for p, counts in files.items():
                    if p in present.get(at, ()):
                        out[at].files[p] = counts
                        self.quick.add(p)
            declined: dict[str, set[str]] = {}
            for at, p in waiting:
                if p in present.get(at, ()) and p not in out[at].files:
                    declined.setdefault(at, set()).add(p)
            return self._jobs(declined, plans, out)

        self._blame(jobs, decide, listed, out)
        return out

    def _jobs(
        self,
        paths: Mapping[str, Iterable[str]],
        plans: Mapping[str, Mapping[str, tuple[str, list[str]] | None]],
        out: dict[str, Blamed],
        skip: Collection[tuple[str, str]] = (),
    ) -> list[tuple[str, str, tuple[str, list[str]] | None]]:
        """What git must blame of ``paths``: not counted yet, not already blamed through the
        same simplified history (the memo); the longest first (no plan: the whole range),
        so that no worker ends alone."""
        jobs: list[tuple[str, str, tuple[str, list[str]] | None]] = []
        for at, ps in paths.items():
            for path in sorted(ps):
                if path in out[at].files or (at, path) in skip:
                    continue
                plan = plans.get(at, {}).get(path)
                known = self._memo.get((path, *plan[1])) if plan and plan[1] else None
                if known is not None:
                    out[at].files[path] = known
                    self.reused += 1
                else:
                    jobs.append((at, path, plan))
        jobs.sort(key=lambda job: -len(job[2][1]) if job[2] else -(1 << 30))
        return jobs

    def _blame(
        self,
        first: list[tuple[str, str, tuple[str, list[str]] | None]],
        then: Callable[[CatFile], list[tuple[str, str, tuple[str, list[str]] | None]]],
        listed: Mapping[str, Mapping[str, str] | None],
        out: dict[str, Blamed],
    ) -> None:
        """git blames ``first``, two files at a time, while this thread runs ``then`` (the
        jobs it returns are blamed after them) and then reads each file at its commit (one
        blob at a time) for its blank lines; both read through one ``cat-file``."""
        from concurrent.futures import ThreadPoolExecutor

        env = git_env()

        def one(job: tuple[str, str, tuple[str, list[str]] | None]) -> list | None:
            at, path, plan = job
            grafts = None if plan is None else plan[0]
            return blame_file(self.repo, at, path, self.boundary, grafts, env)

        reader: CatFile | None = None
        show = None
        jobs: list[tuple[str, str, tuple[str, list[str]] | None]] = []
        try:
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                running = [(job, pool.submit(one, job)) for job in first]
                reader = CatFile(self.repo, "--batch")
                running += [(job, pool.submit(one, job)) for job in then(reader)]
                jobs = [job for job, _ in running]
                grafted = sum(1 for job in jobs if job[2] is not None)
                self.grafted += grafted
                self.walked += len(jobs) - grafted
                if not jobs:
                    return
                if self.progress:
                    show = tty_progress("scorer: blaming", "files", len(jobs))
                blobs = reader.blobs([listed[at][path] for at, path, _ in jobs])  # type: ignore[index]
                done = zip(running, blobs, strict=True)
                for k, (((at, path, plan), future), blob) in enumerate(done, 1):
                    entries = future.result()
                    if entries is None or blob is None:
                        out[at].missing.append(path)
                    else:
                        counts = lines_per_commit(entries, blank_lines(blob))
                        out[at].files[path] = counts
                        if plan and plan[1]:
                            self._memo[(path, *plan[1])] = counts
                    if show is not None:
                        show(k)
        except RepositoryError:  # cat-file stopped short: what is left cannot be counted
            for at, path, _ in jobs:
                if path not in out[at].files and path not in out[at].missing:
                    out[at].missing.append(path)
        finally:
            if reader is not None:
                reader.close()
            if show is not None:
                clear_progress()

    def _without_blame(
        self,
        plans: Mapping[str, Mapping[str, tuple[str, list[str]] | None]],
        added: Added,
        history: RangeHistory,
    ) -> tuple[dict[str, dict[str, dict[str, int]]], dict[tuple[str, str], list[str]]]:
        """Per commit, the files counted from ``added`` (see ``counts_at``) without reading
        anything; and the candidates whose parent's version must tell (``_checked``):
        (X, path) -> the commits asking."""
        found: dict[str, dict[str, dict[str, int]]] = {at: {} for at in plans}
        pending: dict[tuple[str, str], list[str]] = {}
        for at, by_path in plans.items():
            for p, plan in by_path.items():
                if plan is None or len(plan[1]) != 1:
                    continue
                x = plan[1][0]
                if p not in added.lines.get(x, {}) or (x, p) not in added.origin:
                    continue
                status, origin = history.status.get((x, p)), added.origin[(x, p)]
                if status == "A" and origin == "" and not history.renamed(x, p):
                    found[at][p] = {x: added.lines[x][p]}
                elif status == "M" and origin == p and (x, p) in added.runs:
                    pending.setdefault((x, p), []).append(at)
        return found, pending

    def _checked(
        self, pending: Mapping[tuple[str, str], list[str]], added: Added, reader: CatFile
    ) -> dict[str, dict[str, dict[str, int]]]:
        """The candidates blame ``-M`` could move nothing of, counted from ``added``: their
        parents' versions read through ``reader``."""
        found: dict[str, dict[str, dict[str, int]]] = {}
        if not pending:
            return found
        names = [f"{x}^:{p}" for x, p in pending]
        if any("\n" in n for n in names):  # not a name cat-file can be asked: to git blame
            return found
        for (x, p), blob in zip(pending, reader.blobs(names), strict=True):
            if blob is None:
                continue
            before = set(bytes(blob.translate(None, _SPACES)).split(b"\n"))
            if not could_move(added.runs[(x, p)], before):
                for at in pending[(x, p)]:
                    found.setdefault(at, {})[p] = {x: added.lines[x][p]}
        return found


def could_move(runs: Iterable[list[bytes]], before: set[bytes]) -> bool:
    """Whether ``git blame -M`` could give some of a change's added lines to its parent's
    version of the file: only a block of added lines, consecutive in one hunk, each of
    which (whitespace removed) is a line of the parent (``before``), that scores more than
    blame's move score (git's ``blame_entry_score``: 1 plus its alphanumeric characters;
    here a non-ASCII byte counts as one too, which can only answer "could" more often)."""
    for run in runs:
        score = 1
        for line in run:
            if line not in before:
                score = 1
                continue
            score += len(line.translate(None, _NOT_ALNUM))
            if score > _MOVE_SCORE:
                return True
    return False


_MOVE_SCORE = 20  # git blame's BLAME_DEFAULT_MOVE_SCORE: -M moves a block scoring more
_NOT_ALNUM = bytes(c for c in range(128) if not chr(c).isalnum())


def blame_counts(
    repo: Repo,
    at: str,
    paths: Iterable[str],
    boundary: str | None,
    added: Added | None = None,
    workers: int = 2,
) -> Blamed:
    """``Blamer(...).counts`` at one commit."""
    return Blamer(repo, boundary, [at], workers).counts(at, paths, added)


def touched_between(repo: Repo, old: str, new: str) -> set[str] | None:
    """Paths any commit on either side of ``old...new`` touched (merges against each parent):
    blame at ``new`` of any other path is its blame at ``old``. None when git cannot say (a
    commit gone)."""
    if old == new:
        return set()
    proc = _run(
        ["log", "--format=", "--name-only", "-z", "-m", "--no-renames", f"{old}...{new}"],
        None,
        repo,
    )
    if proc.returncode != 0:
        return None
    return {
        p.decode("utf-8", "surrogateescape").strip("\n")
        for p in proc.stdout.split(b"\0")
        if p.strip(b"\n")
    }
