"""Is a change substantive? (METRIC.md section 1) — the only place that diffs.

Diffs are the expensive read (``git log --numstat`` on rails: ~22 s), so callers ask only for
the changes whose verdict can matter (AI-assisted ones), all at once. One ``git diff-tree
--stdin --raw`` process lists the changed paths of every asked commit from trees alone
(~0.04 ms a commit; libgit2's tree diff measured ~2.5 ms). An added, deleted or mode-changed
path that ``exclude_paths`` does not cover is substantive at once; only a modified text file
needs its two blobs compared with whitespace ignored, as ``git diff -w`` does.

Partial clones: blobs (and with ``--filter=tree:0`` trees) may be missing, and git would fetch
them from the network. There the verdicts come from pygit2 (libgit2 never fetches): a path
whose blobs are missing counts as substantive, and the count is reported.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
from collections.abc import Iterable

from scorer.errors import RepositoryError
from scorer.git.log import Repo, config_values, git_command, git_env
from scorer.git.paths import PathFilter

_WS = re.compile(rb"[ \t\r\n\v\f]+")
_BINARY_SNIFF = 8000  # git's heuristic: a NUL in the first 8000 bytes means binary


def same_ignoring_whitespace(old: bytes, new: bytes) -> bool:
    """True when ``git diff -w`` shows no hunk between two text blobs."""
    if old == new:
        return True
    a, b = old.split(b"\n"), new.split(b"\n")
    if a and a[-1] == b"":
        a.pop()
    if b and b[-1] == b"":
        b.pop()
    if len(a) != len(b):
        return False
    return all(x == y or _WS.sub(b"", x) == _WS.sub(b"", y) for x, y in zip(a, b, strict=True))


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:_BINARY_SNIFF]


def is_partial_clone(repo: Repo) -> bool:
    """A clone made with ``--filter``: objects may be missing, and git would fetch them.

    This has to be known before git reads any object: not every supported git (2.30+)
    honours ``GIT_NO_LAZY_FETCH`` (it came with the 2024 security releases), and ``-c``
    cannot unset ``extensions.partialclone``, which git reads from the repository's own
    config file. The
    settings come from the one ``git config`` that also serves ``mailmap.file``
    (``history.config_values``), and only when a change has to be diffed at all."""
    for key, values in config_values(repo).items():
        if key.startswith("extensions."):
            return True
        if any(value.strip().lower() == "true" for value in values):
            return True
    return False


_SPLIT_AT = 1000
_DIFF_TREE = (
    "diff-tree",
    "--stdin",
    "-r",
    "-z",
    "--raw",
    "--no-renames",
    "--root",
    "--always",
    "--no-abbrev",
)


def read_blobs(repo: Repo, oids: Iterable[str]) -> dict[str, bytes]:
    """Contents of ``oids`` from one ``git cat-file --batch``; missing ones are left out."""
    oids = sorted(oids)
    proc = subprocess.run(
        [*git_command(repo), "cat-file", "--batch"],
        input="".join(f"{oid}\n" for oid in oids).encode("ascii"),
        capture_output=True,
        env=git_env(),
        check=False,
    )
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RepositoryError(
            "git cat-file could not read file contents ("
            + (detail[-1] if detail else f"exit {proc.returncode}")
            + ")"
        )
    data, pos, found = proc.stdout, 0, {}
    for oid in oids:
        end = data.index(b"\n", pos)
        header = data[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3:  # "<oid> missing" (or ambiguous)
            continue
        size = int(header[2])
        if header[1] == b"blob":
            found[oid] = data[pos : pos + size]
        pos += size + 1
    return found


class _DiffJob:
    """One ``git diff-tree --stdin`` over a list of commits, running in the background: a
    thread starts git (starting a process blocks the caller until git runs) and writes the
    SHAs (git reads as it diffs, so a big write would block), and another drains the
    answers (so a full pipe never stalls git)."""

    def __init__(self, repo: Repo, shas: list[str]):
        self.shas = shas
        self._chunks: list[bytes] = []
        self._proc: subprocess.Popen | None = None
        self._error: BaseException | None = None
        self._drain: threading.Thread | None = None
        command = [*git_command(repo), *_DIFF_TREE]
        data = "".join(f"{sha}\n" for sha in shas).encode("ascii")

        def drain(proc: subprocess.Popen) -> None:
            assert proc.stdout is not None
            for chunk in iter(lambda: proc.stdout.read(1 << 16), b""):
                self._chunks.append(chunk)
            proc.stdout.close()

        def run() -> None:
            try:
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=git_env(),
                )
            except OSError as err:  # handed to output()
                self._error = err
                return
            self._proc = proc
            self._drain = threading.Thread(target=drain, args=(proc,), daemon=True)
            self._drain.start()
            assert proc.stdin is not None
            # If git died, its exit status is reported by output().
            with contextlib.suppress(BrokenPipeError, ValueError):
                proc.stdin.write(data)
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()

        self._run = threading.Thread(target=run, daemon=True)
        self._run.start()

    def output(self) -> bytes:
        self._run.join()
        if self._error is not None:
            raise RepositoryError(f"cannot run git diff-tree: {self._error}")
        assert self._drain is not None and self._proc is not None
        self._drain.join()
        proc = self._proc
        assert proc.stderr is not None
        stderr = proc.stderr.read()
        proc.stderr.close()
        if proc.wait() != 0:
            detail = stderr.decode("utf-8", "replace").strip().splitlines()
            raise RepositoryError(
                "git diff-tree could not read changes ("
                + (detail[-1] if detail else f"exit {proc.returncode}")
                + "); the repository may be missing objects (try git fsck)"
            )
        return b"".join(self._chunks)


class Substance:
    """Verdicts for one repository and one ``exclude_paths``; counts what it could not read.

    ``feed(shas)`` hands SHAs to a running ``git diff-tree --stdin`` and returns at once, so
    git diffs on the second core while Python goes on (loading and linking deploys).
    ``verdicts`` collects the answers (and asks for any SHA that was not fed).
    """

    def __init__(self, repo: Repo, exclude: PathFilter):
        self.repo = repo
        self.exclude = exclude
        self.missing: set[str] = set()  # changes judged without some of their objects
        self._partial: bool | None = None
        self._jobs: list[_DiffJob] = []
        self._answers: dict[str, bool] = {}
        self._fed: set[str] = set()  # handed to a diff job already

    @property
    def partial(self) -> bool:
        """A partial clone (asked on first use: a run with nothing to diff never asks)."""
        if self._partial is None:
            self._partial = is_partial_clone(self.repo)
        return self._partial

    def feed(self, shas: Iterable[str]) -> None:
        shas = [sha for sha in dict.fromkeys(shas) if sha not in self._fed]
        if not shas or self.partial:
            return
        self._fed.update(shas)
        # Two git processes when there is enough work: the diff is git's CPU time, and the
        # main thread has only a few tenths of a second of its own work to overlap it with.
        parts = 2 if len(shas) >= _SPLIT_AT else 1
        size = -(-len(shas) // parts)
        for k in range(parts):
            self._jobs.append(_DiffJob(self.repo, shas[k * size : (k + 1) * size]))

    def verdicts(self, shas: Iterable[str]) -> dict[str, bool]:
        shas = list(dict.fromkeys(shas))
        if not shas:
            return {}
        if self.partial:
            return {sha: self._from_objects(sha) for sha in shas}
        self._collect()
        missing = [sha for sha in shas if sha not in self._answers]
        if missing:
            self.feed(missing)
            self._collect()
        return {sha: self._answers[sha] for sha in shas}

    # --- the fast path: git diff-tree over trees, blobs read only for modified files -------

    def _collect(self) -> None:
        jobs, self._jobs = self._jobs, []
        for job in jobs:
            self._parse(job.output())
            unanswered = [sha for sha in job.shas if sha not in self._answers]
            if unanswered:
                raise RepositoryError(f"git diff-tree did not answer for {unanswered[0]}")

    def _parse(self, output: bytes) -> None:
        """Verdicts from ``diff-tree --raw`` output. A commit is settled by its first path
        that is added, deleted or changes mode; modified text files wait for one batched
        blob read, and only when nothing else settled their commit."""
        out = self._answers
        modified: dict[str, list[tuple[str, str]]] = {}
        current: str | None = None
        tokens = output.split(b"\0")
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if not tok.startswith(b":"):
                if tok.strip():
                    current = tok.strip().decode("ascii")
                    out[current] = False
                i += 1
                continue
            path = tokens[i + 1].decode("utf-8", "surrogateescape")
            i += 2
            if current is None or out[current] or self.exclude.excluded(path):
                continue
            old_mode, new_mode, old_id, new_id, status = tok[1:].decode("ascii").split(" ")
            if status != "M" or old_mode != new_mode or not new_mode.startswith("100"):
                out[current] = True  # a path came or went, its mode, link or submodule moved
            else:
                modified.setdefault(current, []).append((old_id, new_id))
        pending = {sha: pairs for sha, pairs in modified.items() if not out[sha]}
        if not pending:
            return
        blobs = read_blobs(
            self.repo, {oid for pairs in pending.values() for p in pairs for oid in p}
        )
        for sha, pairs in pending.items():
            for old_id, new_id in pairs:
                old, new = blobs.get(old_id), blobs.get(new_id)
                if old is None or new is None:
                    self.missing.add(sha)
                    out[sha] = True
                    break
                if is_binary(old) or is_binary(new) or not same_ignoring_whitespace(old, new):
                    out[sha] = True
                    break

    def _blobs_differ(self, sha: str, old_id: str, new_id: str) -> bool:
        import pygit2

        handle = self.repo.handle
        try:
            old, new = handle[old_id].data, handle[new_id].data
        except (KeyError, pygit2.GitError):
            self.missing.add(sha)
            return True
        if is_binary(old) or is_binary(new):
            return True
        return not same_ignoring_whitespace(old, new)

    # --- the safe path for partial clones: libgit2, which never fetches ---------------------

    def _from_objects(self, sha: str) -> bool:
        import pygit2

        handle = self.repo.handle
        try:
            commit = handle[sha]
            tree = commit.tree
            parent_tree = commit.parents[0].tree if commit.parents else None
            diff = (
                tree.diff_to_tree(swap=True)
                if parent_tree is None
                else parent_tree.diff_to_tree(tree)
            )
            deltas = list(diff.deltas)
        except (KeyError, pygit2.GitError):
            self.missing.add(sha)
            return True
        for delta in deltas:
            path = delta.new_file.path or delta.old_file.path
            if self.exclude.excluded(path) and self.exclude.excluded(delta.old_file.path):
                continue
            if (
                delta.status != pygit2.enums.DeltaStatus.MODIFIED
                or delta.old_file.mode != delta.new_file.mode
            ):
                return True
            if self._blobs_differ(sha, str(delta.old_file.id), str(delta.new_file.id)):
                return True
        return False
