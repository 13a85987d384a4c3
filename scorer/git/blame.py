"""Lines, as git sees them (METRIC.md section 10): what a change added, and what of it
``git blame -w -M`` still attributes to it at a later commit.

Two reads, both bounded:

- ``added_lines``: one ``git diff-tree --stdin -p -w --ignore-blank-lines -M`` over the
  cohort's changes, each against its first parent. ``-w`` leaves out lines that differ from a
  deleted line only in whitespace (blame -w would not attribute them to the change); blank
  lines are not counted. Binary files add no lines.
- ``blame_counts``: one ``git blame --porcelain -w -M`` per file, at ``S``, bounded with
  ``B..S`` so that blame stops at ``B`` (below the cohort) instead of walking the whole
  history. Only non-blank lines are counted, as for the added ones.

Partial clones: a blob git does not have makes ``git blame`` (or the diff) fail, since lazy
fetching is off (``git_env``); the file (or change) is counted as missing and left out, never
a crash.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from scorer.git.log import Repo, git_command, git_env
from scorer.git.paths import PathFilter

_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_HEX = frozenset(b"0123456789abcdef")
_WS = re.compile(rb"[ \t\r\n\v\f]+")  # what -w ignores
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
        # in place, its added lines with whitespace removed (``blame_counts``' fast path).
        self.origin: dict[tuple[str, str], str] = {}
        self.text: dict[tuple[str, str], set[bytes]] = {}

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
    text: set[bytes] | None = None
    old_left = new_left = 0
    for line in output.split(b"\n"):
        if old_left > 0 or new_left > 0:
            tag = line[:1]
            if tag == b"+":
                new_left -= 1
                if path is not None and line[1:].strip():
                    files = into.lines.setdefault(sha, {})  # type: ignore[arg-type]
                    files[path] = files.get(path, 0) + 1
                    if text is not None:
                        text.add(_WS.sub(b"", line[1:]))
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
            text = None
            if target == b"/dev/null":
                path = None
            else:
                name = unquote_path(target)
                name = name[2:] if name.startswith("b/") else name
                path = None if exclude.excluded(name) else name
                if path is not None and sha is not None:
                    into.origin[(sha, path)] = source
                    if source == path:
                        text = into.text.setdefault((sha, path), set())
        elif line.startswith(b"@@ "):
            m = _HUNK.match(line)
            if m:
                old_left = 1 if m.group(1) is None else int(m.group(1))
                new_left = 1 if m.group(2) is None else int(m.group(2))
        elif line.startswith(b"diff --git "):
            path = None


_DIFF = (
    *_MYERS,
    "-c",
    "core.quotePath=true",
    "diff-tree",
    "--stdin",
    "-r",
    "-p",
    "-w",
    "--ignore-blank-lines",
    "-M",
    "--root",
    "--always",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--unified=0",
)


def added_lines(repo: Repo, shas: Sequence[str], exclude: PathFilter) -> Added:
    """Lines each change of ``shas`` (not merges) adds against its first parent. One git
    process for all; when it fails (a missing object), each change alone, and those that
    still fail are counted as missing."""
    out = Added()
    if not shas:
        return out
    proc = _run([*_DIFF], "".join(f"{s}\n" for s in shas).encode("ascii"), repo)
    if proc.returncode == 0:
        parse_added(proc.stdout, exclude, out)
        return out
    for sha in shas:
        one = _run([*_DIFF], f"{sha}\n".encode("ascii"), repo)
        if one.returncode == 0:
            parse_added(one.stdout, exclude, out)
        else:
            out.missing.append(sha)
    return out


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
    proc = _run(["ls-tree", "-r", "-z", "--full-tree", commit], None, repo)
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


def parse_blame(output: bytes) -> dict[str, int]:
    """Non-blank lines per commit in ``git blame --porcelain`` output."""
    counts: dict[str, int] = {}
    current = ""
    for line in output.split(b"\n"):
        if line[:1] == b"\t":
            if line[1:].strip():
                counts[current] = counts.get(current, 0) + 1
        elif len(line) > 40 and line[40:41] == b" " and _HEX.issuperset(line[:40]):
            current = line[:40].decode("ascii")
        elif len(line) > 64 and line[64:65] == b" " and _HEX.issuperset(line[:64]):
            current = line[:64].decode("ascii")
    return counts


class Blamed:
    """Per file, non-blank lines per commit at one commit; files git could not blame."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, int]] = {}
        self.missing: list[str] = []


def blame_file(repo: Repo, at: str, path: str, boundary: str | None) -> dict[str, int] | None:
    """``git blame --porcelain -w -M`` of ``path`` at ``at`` (``boundary..at`` when given):
    non-blank lines per commit; None when git cannot (a missing blob)."""
    rev = f"{boundary}..{at}" if boundary else at
    proc = _run([*_MYERS, "blame", "--porcelain", "-w", "-M", rev, "--", path], None, repo)
    if proc.returncode != 0:
        return None
    return parse_blame(proc.stdout)


def blame_counts(
    repo: Repo,
    at: str,
    paths: Iterable[str],
    boundary: str | None,
    added: Added | None = None,
    workers: int = 2,
) -> Blamed:
    """Blame every path of ``paths`` that exists at ``at``: one git process per file, two at
    a time (each is single-threaded; the machine's other work keeps the rest).

    Fast path (``added`` given): a file that exactly one commit X of ``boundary..at``
    touched, that X added or changed in place, and none of whose added lines (whitespace
    removed) is a line of X's parent's version, is blamed without git: blame at ``at`` finds
    the file as X left it, gives X exactly the lines its ``-w`` diff adds (the same diff
    blame runs), and ``-M`` has no line of the parent to move them from. Every other line is
    older than ``boundary``. The differential test holds it to real ``git blame``."""
    out = Blamed()
    paths = set(paths)
    listed = existing_paths(repo, at, paths)
    if listed is None:
        out.missing.extend(sorted(paths))
        return out
    present = sorted(listed)
    if boundary and added is not None and present:
        quick = _without_blame(repo, at, {p: listed[p] for p in present}, boundary, added)
        out.files.update(quick)
        present = [p for p in present if p not in quick]
    if not present:
        return out
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for path, counts in zip(
            present, pool.map(lambda p: blame_file(repo, at, p, boundary), present), strict=True
        ):
            if counts is None:
                out.missing.append(path)
            else:
                out.files[path] = counts
    return out


def _touches(repo: Repo, boundary: str, at: str) -> dict[str, list[str]] | None:
    """Path -> the commits of ``boundary..at`` that touched it (a merge: only paths that
    differ from every parent, where blame gives the merge lines of its own)."""
    proc = _run(
        ["log", "--format=%x01%H", "--name-only", "-z", "--no-renames",
         "--diff-merges=dense-combined", f"{boundary}..{at}"],
        None,
        repo,
    )  # fmt: skip
    if proc.returncode != 0:
        return None
    out: dict[str, list[str]] = {}
    sha = ""
    for token in proc.stdout.split(b"\0"):
        if token[:1] == b"\x01":
            sha = token[1:].decode("ascii")
            continue
        token = token.lstrip(b"\n")
        if token:
            out.setdefault(token.decode("utf-8", "surrogateescape"), []).append(sha)
    return out


def _without_blame(
    repo: Repo, at: str, blobs: dict[str, str], boundary: str, added: Added
) -> dict[str, dict[str, int]]:
    """The files of ``blobs`` (path -> its blob at ``at``) the fast path of ``blame_counts``
    answers, and their counts. The file at ``at`` must be the very blob X left (a merge
    that took the other side's version, which ``dense-combined`` does not list, fails this)."""
    touches = _touches(repo, boundary, at)
    if touches is None:
        return {}
    single: list[tuple[str, str]] = []
    for p in blobs:
        shas = touches.get(p)
        if not shas or len(set(shas)) != 1:
            continue
        x = shas[0]
        if p in added.lines.get(x, {}) and (x, p) in added.origin:
            single.append((x, p))
    left = _object_names(repo, [f"{x}:{p}" for x, p in single])
    found: dict[str, dict[str, int]] = {}
    in_place: list[tuple[str, str]] = []
    for (x, p), oid in zip(single, left, strict=True):
        if oid is None or oid != blobs[p]:
            continue
        origin = added.origin[(x, p)]
        if origin == "":
            found[p] = {x: added.lines[x][p]}
        elif origin == p and (x, p) in added.text:
            in_place.append((x, p))
    if in_place:
        names = [f"{x}^:{p}" for x, p in in_place]
        for (x, p), blob in zip(in_place, _read_named(repo, names), strict=True):
            if blob is None:
                continue
            before = {_WS.sub(b"", line) for line in blob.split(b"\n")}
            if before.isdisjoint(added.text[(x, p)]):
                found[p] = {x: added.lines[x][p]}
    return found


def _object_names(repo: Repo, names: list[str]) -> list[str | None]:
    """The object ids ``names`` (``rev:path``) name, in order (one ``git cat-file
    --batch-check``, trees only); None for one git cannot resolve."""
    if not names or any("\n" in n for n in names):
        return [None] * len(names)
    data = "".join(f"{n}\n" for n in names).encode("utf-8", "surrogateescape")
    proc = _run(["cat-file", "--batch-check=%(objectname) %(objecttype)"], data, repo)
    lines = proc.stdout.split(b"\n")
    if proc.returncode != 0 or len(lines) < len(names):
        return [None] * len(names)
    out: list[str | None] = []
    for line in lines[: len(names)]:
        fields = line.split(b" ")
        ok = len(fields) == 2 and fields[1] == b"blob"
        out.append(fields[0].decode("ascii") if ok else None)
    return out


def _read_named(repo: Repo, names: list[str]) -> list[bytes | None]:
    """The blobs ``names`` (``rev:path``) name, in order, from one ``git cat-file --batch``;
    None for one git does not have (or that is not a blob)."""
    data = "".join(f"{n}\n" for n in names if "\n" not in n)
    if len(data.splitlines()) != len(names):
        return [None] * len(names)
    proc = _run(["cat-file", "--batch"], data.encode("utf-8", "surrogateescape"), repo)
    if proc.returncode != 0:
        return [None] * len(names)
    out: list[bytes | None] = []
    buf, pos = proc.stdout, 0
    for _ in names:
        end = buf.index(b"\n", pos)
        header = buf[pos:end].split(b" ")
        pos = end + 1
        if header[-1] in (b"missing", b"ambiguous") or len(header) != 3:
            out.append(None)
        elif header[1] == b"blob":
            size = int(header[2])
            out.append(buf[pos : pos + size])
            pos += size + 1
        else:
            pos += int(header[2]) + 1
            out.append(None)
    return out


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
