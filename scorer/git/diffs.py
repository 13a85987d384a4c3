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
import subprocess
import threading
from collections.abc import Iterable, Iterator

from scorer.errors import RepositoryError
from scorer.git.log import Repo, config_values, git_command, git_env
from scorer.git.paths import PathFilter

_WS_BYTES = b" \t\r\n\v\f"  # what git diff -w ignores (bytes.translate deletes them in C)
_BINARY_SNIFF = 8000  # git's heuristic: a NUL in the first 8000 bytes means binary


def same_ignoring_whitespace(old: bytes, new: bytes) -> bool:
    """The same non-blank lines, whitespace removed: what ``git diff -w --ignore-blank-lines``
    needs to show no hunk (METRIC.md section 1, v2; ``Substance.same_content`` asks git in the
    rare case this holds and the bytes differ). The whole-blob comparison first settles nearly
    every real change without splitting lines."""
    if old == new:
        return True
    if old.translate(None, _WS_BYTES) != new.translate(None, _WS_BYTES):
        return False
    return _lines(old) == _lines(new)


def _lines(data: bytes) -> list[bytes]:
    return [x for x in (line.translate(None, _WS_BYTES) for line in data.split(b"\n")) if x]


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


_BATCH_BYTES = 64 << 20  # blob bytes asked of one cat-file round at most (memory: one pair)
_REGULAR = ("100644", "100755")  # modes of a regular file: a change between them is mode-only


class _BlobStream:
    """One ``git cat-file --batch`` process, asked for blobs a batch at a time and read one
    at a time: memory holds one blob pair, whatever the batch (a writer thread feeds git
    while the reader drains it, so neither pipe can fill)."""

    def __init__(self, repo: Repo):
        self._proc = subprocess.Popen(
            [*git_command(repo), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=git_env(),
        )

    def blobs(self, oids: list[str]) -> Iterator[bytes | None]:
        """The contents of ``oids``, in order (None: missing, or not a blob)."""
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        data = "".join(f"{oid}\n" for oid in oids).encode("ascii")

        def feed() -> None:
            with contextlib.suppress(BrokenPipeError, ValueError):
                proc.stdin.write(data)  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        try:
            for _ in oids:
                header = proc.stdout.readline().split()
                if len(header) != 3:  # "<oid> missing" (or ambiguous), or git died
                    if not header:
                        raise RepositoryError("git cat-file stopped while reading file contents")
                    yield None
                    continue
                size = int(header[2])
                body = proc.stdout.read(size + 1)[:size]
                yield body if header[1] == b"blob" else None
        finally:
            writer.join()

    def sizes(self, oids: list[str]) -> dict[str, int]:
        """Object sizes from one ``git cat-file --batch-check`` (headers only)."""
        proc = subprocess.run(
            [*self._proc.args[:-1], "--batch-check"],  # type: ignore[index]
            input="".join(f"{oid}\n" for oid in oids).encode("ascii"),
            capture_output=True,
            env=git_env(),
            check=False,
        )
        out = {}
        for line in proc.stdout.split(b"\n"):
            parts = line.split()
            if len(parts) == 3 and parts[2].isdigit():
                out[parts[0].decode("ascii")] = int(parts[2])
        return out

    def close(self) -> None:
        proc = self._proc
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        proc.wait()


def _batches(asked: list, size: dict[str, int]) -> Iterator[list]:
    """``asked`` (sha, pair) cut into runs of at most _BATCH_BYTES of blobs (at least one)."""
    batch: list = []
    total = 0
    for item in asked:
        n = size.get(item[1][0], 0) + size.get(item[1][1], 0)
        if batch and total + n > _BATCH_BYTES:
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += n
    if batch:
        yield batch


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
        """Verdicts from ``diff-tree --raw`` output (section 1, v2). A path that only moved
        (deleted and added with the same content) or only changed mode between regular files
        is not a change of that path; any other added, deleted or retyped path settles its
        commit at once; modified text files wait for the blob comparison, and only while
        nothing else settled their commit."""
        out = self._answers
        pending: dict[str, list[tuple[str, str]]] = {}
        current: str | None = None
        entries: list[tuple[str, ...]] = []
        tokens = output.split(b"\0")
        i = 0
        while i <= len(tokens):
            tok = tokens[i] if i < len(tokens) else b""
            if i == len(tokens) or not tok.startswith(b":"):
                if current is not None:
                    pairs = self._settle(entries)
                    out[current] = pairs is None
                    if pairs:
                        pending[current] = pairs
                if i < len(tokens) and tok.strip():
                    current, entries = tok.strip().decode("ascii"), []
                i += 1
                continue
            path = tokens[i + 1].decode("utf-8", "surrogateescape")
            i += 2
            if not self.exclude.excluded(path):
                entries.append(tuple(tok[1:].decode("ascii").split(" ")))
        if pending:
            self._compare(pending)

    def same_content(self, old_id: str, new_id: str, old: bytes, new: bytes) -> bool:
        """Whether two text blobs differ only in whitespace and blank lines, exactly as
        ``git diff -w --ignore-blank-lines`` says: the comparison of their non-blank,
        whitespace-free lines decides nearly every pair; where it finds them alike but the
        bytes differ (a whitespace-only edit, rare), git itself is asked, since where git
        puts a moved blank line can make it show a hunk."""
        if is_binary(old) or is_binary(new):
            return old == new
        if not same_ignoring_whitespace(old, new):
            return False
        if old == new:
            return True
        proc = subprocess.run(
            [*git_command(self.repo), "diff", "--quiet", "-w", "--ignore-blank-lines",
             old_id, new_id],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=git_env(),
            check=False,
        )  # fmt: skip
        return proc.returncode == 0

    @staticmethod
    def _settle(entries: list[tuple[str, ...]]) -> list[tuple[str, str]] | None:
        """None when the entries change something for sure; else the modified text files'
        blob pairs to compare (an empty list: nothing changed)."""
        deleted: dict[str, int] = {}
        for old_mode, _new_mode, old_id, _new_id, status in entries:
            if status == "D" and old_mode in _REGULAR:
                deleted[old_id] = deleted.get(old_id, 0) + 1
        pairs = []
        for old_mode, new_mode, old_id, new_id, status in entries:
            if status == "D":
                continue
            if status == "A" and new_mode in _REGULAR and deleted.get(new_id, 0) > 0:
                deleted[new_id] -= 1  # the same content under another name: a move
                continue
            if status != "M":
                return None  # added, or its type changed
            regular = old_mode in _REGULAR and new_mode in _REGULAR
            if old_id == new_id and regular:
                continue  # mode only
            if not regular:
                return None  # a link's target or a submodule moved
            pairs.append((old_id, new_id))
        if any(deleted.values()):
            return None  # a path went away for good
        return pairs

    def _compare(self, pending: dict[str, list[tuple[str, str]]]) -> None:
        """Whitespace-and-blank-line comparison of the pending commits' blob pairs, read in
        rounds: each commit's smallest pair first, then its next only while it stays
        undecided (the first pair settles nearly every real change), in batches of at most
        _BATCH_BYTES, one pair in memory at a time."""
        out = self._answers
        stream = _BlobStream(self.repo)
        try:
            size = stream.sizes(sorted({o for ps in pending.values() for p in ps for o in p}))
            queue = {
                sha: sorted(pairs, key=lambda p: size.get(p[0], 0) + size.get(p[1], 0))
                for sha, pairs in pending.items()
            }
            turn = 0
            while queue:
                asked = [(sha, pairs[turn]) for sha, pairs in queue.items() if turn < len(pairs)]
                if not asked:
                    break
                for batch in _batches(asked, size):
                    blobs = stream.blobs([oid for _, pair in batch for oid in pair])
                    for sha, _pair in batch:
                        old, new = next(blobs), next(blobs)
                        if out[sha]:
                            continue
                        if old is None or new is None:
                            self.missing.add(sha)
                            out[sha] = True
                        elif (
                            is_binary(old)
                            or is_binary(new)
                            or not same_ignoring_whitespace(old, new)
                        ):
                            out[sha] = True
                    for _ in blobs:  # drain (none left: two per pair)
                        pass
                queue = {
                    sha: ps for sha, ps in queue.items() if not out[sha] and turn + 1 < len(ps)
                }
                turn += 1
        finally:
            stream.close()

    def _blobs_differ(self, sha: str, old_id: str, new_id: str) -> bool:
        import pygit2

        handle = self.repo.handle
        try:
            old, new = handle[old_id].data, handle[new_id].data
        except (KeyError, pygit2.GitError):
            self.missing.add(sha)
            return True
        return not self.same_content(old_id, new_id, old, new)

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
        entries = [
            (
                f"{delta.old_file.mode:06o}",
                f"{delta.new_file.mode:06o}",
                str(delta.old_file.id),
                str(delta.new_file.id),
                delta.status_char(),
            )
            for delta in deltas
            if not self.exclude.excluded(delta.new_file.path or delta.old_file.path)
        ]
        pairs = self._settle(entries)
        if pairs is None:
            return True
        return any(self._blobs_differ(sha, old_id, new_id) for old_id, new_id in pairs)
