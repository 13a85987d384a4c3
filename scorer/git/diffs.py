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
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from itertools import pairwise
from queue import SimpleQueue

from scorer.errors import RepositoryError
from scorer.git.log import Repo, config_values, git_command, git_env
from scorer.git.paths import PathFilter

# Section 1's substantive rule as this module applies it. Bump it with any change that can
# change a verdict: ``scorer.incremental.verdicts`` keeps verdicts across scorer versions
# under it (and ``exclude_paths``).
SUBSTANTIVE_RULES = 1
_WS_BYTES = b" \t\r\n\v\f"  # what git diff -w ignores (bytes.translate deletes them in C)
_BINARY_SNIFF = 8000  # git's heuristic: a NUL in the first 8000 bytes means binary


def same_ignoring_whitespace(old: bytes, new: bytes) -> bool:
    """The same non-blank lines, whitespace removed: what ``git diff -w --ignore-blank-lines``
    shows no hunk for, but for ties in where git's diff places a moved blank line
    (``Substance`` asks git about the pairs this finds alike whose bytes differ). The
    whole-blob comparison first settles nearly every real change without splitting lines;
    it compares only what lies between the blobs' common prefix and suffix (deleting
    whitespace commutes with cutting them off), found by binary search with memcmp: a few
    lines changed in a 10 KB file cost ~20 us instead of ~90 us for two whole-blob
    ``translate`` calls."""
    if old == new:
        return True
    n = min(len(old), len(new))
    lo, hi = 0, n  # the common prefix is lo bytes long
    while lo < hi:
        mid = (lo + hi + 1) >> 1
        if new.startswith(old[lo:mid], lo):
            lo = mid
        else:
            hi = mid - 1
    prefix = lo
    lo, hi = 0, n - prefix  # the common suffix (of what follows the prefix)
    lo_old, lo_new = len(old), len(new)
    while lo < hi:
        mid = (lo + hi + 1) >> 1
        if new.endswith(old[lo_old - mid : lo_old - lo], 0, lo_new - lo):
            lo = mid
        else:
            hi = mid - 1
    middle_old = old[prefix : lo_old - lo]
    middle_new = new[prefix : lo_new - lo]
    if middle_old.translate(None, _WS_BYTES) != middle_new.translate(None, _WS_BYTES):
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
_PIPE_BYTES = 1 << 20  # what git may write ahead of a reader (Linux; elsewhere the default)
_NUMSTAT = ("diff-tree", "--stdin", "-r", "-z", "--numstat", "-w", "--ignore-blank-lines",
            "--no-renames", "--root", "--always", "--no-abbrev")  # fmt: skip


def _grow_pipe(stream) -> None:
    """A 1 MiB pipe: git runs ahead while the thread that reads it waits for the GIL."""
    with contextlib.suppress(OSError, AttributeError, ImportError):
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)


class _Reader:
    """Lines and counted bodies from a pipe, read up to 1 MiB at a time. The verdicts are
    worked out by a background thread while the main thread is busy reading the history: each
    read releases the GIL, and getting it back can take up to the switch interval (5 ms), so
    the thread reads seldom and much. Bodies come back as ``bytearray`` (one copy)."""

    def __init__(self, stream):
        self._fd = stream.fileno()
        self._buf = bytearray()
        self._pos = 0

    def _fill(self) -> bool:
        chunk = os.read(self._fd, _PIPE_BYTES)
        if not chunk:
            return False
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += chunk
        return True

    def line(self) -> bytes:
        """The next line without its newline; b"" at the end of the output."""
        while True:
            nl = self._buf.find(b"\n", self._pos)
            if nl >= 0:
                out = bytes(self._buf[self._pos : nl])
                self._pos = nl + 1
                return out
            if not self._fill():
                return b""

    def until(self, end: bytes, keep: int = 0) -> bytes | None:
        """What comes before ``end`` and its first ``keep`` bytes; the rest of ``end`` is
        read past. None when the output ends first."""
        scanned = 0  # bytes after _pos known not to start ``end``
        while True:
            i = self._buf.find(end, self._pos + scanned)
            if i >= 0:
                out = bytes(self._buf[self._pos : i + keep])
                self._pos = i + len(end)
                return out
            scanned = max(0, len(self._buf) - self._pos - len(end) + 1)
            if not self._fill():  # (moves what is unread to the front)
                return None

    def take(self, n: int, skip: int = 0) -> bytearray | None:
        """The next ``n`` bytes (then ``skip`` more dropped); None at the end of the output."""
        while len(self._buf) - self._pos < n + skip:
            if not self._fill():
                return None
        out = self._buf[self._pos : self._pos + n]
        self._pos += n + skip
        return out


class CatFile:
    """One ``git cat-file --batch`` (or ``--batch-check``) process, asked a list of objects
    (ids, or ``rev:path`` names without a newline) at a time and read as git answers: a
    writer thread feeds git while the caller reads, so neither pipe can fill; memory holds
    one blob pair, whatever the list."""

    def __init__(self, repo: Repo, option: str):
        self._proc = subprocess.Popen(
            [*git_command(repo), "cat-file", option],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=git_env(),
            bufsize=0,
        )
        _grow_pipe(self._proc.stdout)
        self._out = _Reader(self._proc.stdout)

    def _ask(self, oids: list[str]) -> threading.Thread:
        stdin = self._proc.stdin
        data = "".join(f"{oid}\n" for oid in oids).encode("utf-8", "surrogateescape")

        def feed() -> None:
            with contextlib.suppress(OSError, ValueError):
                stdin.write(data)  # type: ignore[union-attr]

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        return writer

    def _header(self) -> list[bytes]:
        line = self._out.line()
        if not line:
            raise RepositoryError("git cat-file stopped while reading file contents")
        return line.split()

    def blobs(self, oids: list[str]) -> Iterator[bytearray | None]:
        """The contents of ``oids``, in order (None: missing, or not a blob). Read to the end,
        or the process is out of step (``Substance`` then closes it)."""
        writer = self._ask(oids)
        try:
            for _ in oids:
                header = self._header()
                if len(header) != 3:  # "<oid> missing" (or ambiguous)
                    yield None
                    continue
                body = self._out.take(int(header[2]), 1)  # and the newline after it
                if body is None:
                    raise RepositoryError("git cat-file stopped while reading file contents")
                yield body if header[1] == b"blob" else None
        finally:
            writer.join()

    def sizes(self, oids: list[str]) -> dict[str, int]:
        """Object sizes (``--batch-check``: headers only)."""
        writer = self._ask(oids)
        out = {}
        try:
            for oid in oids:
                parts = self._header()
                if len(parts) == 3 and parts[2].isdigit():
                    out[oid] = int(parts[2])
        finally:
            writer.join()
        return out

    def types(self, names: list[str]) -> list[tuple[str, str] | None]:
        """(type, object id) of each of ``names``, in order (``--batch-check``); None where
        git answers "missing" (or ambiguous)."""
        writer = self._ask(names)
        out: list[tuple[str, str] | None] = []
        try:
            for _ in names:
                parts = self._header()
                found = len(parts) == 3 and parts[2].isdigit() and parts[-1] != b"missing"
                out.append((parts[1].decode("ascii"), parts[0].decode("ascii")) if found else None)
        finally:
            writer.join()
        return out

    def end_input(self) -> None:
        """Tell git there is nothing more to ask: it exits (``close`` waits for it)."""
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()

    def close(self) -> None:
        proc = self._proc
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        proc.wait()


def _close_all(tree: _DiffTree | None, streams: tuple[CatFile, ...]) -> None:
    """Each process told first, then each waited for: they exit side by side (each unmaps a
    large pack as it exits)."""
    if tree is not None:
        tree.end_input()
    for stream in streams:
        stream.end_input()
    if tree is not None:
        tree.close()
    for stream in streams:
        stream.close()


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


class _DiffTree:
    """One ``git diff-tree --stdin`` for a run of batches, while the worker has work: a
    thread writes each batch's SHAs (git reads as it diffs, so a write may block) followed
    by a line that is no object id, which git echoes (and flushes) after the batch's
    answers, so the worker knows where they end. One process for the whole run: each new
    one would read its trees' delta chains again."""

    def __init__(self, repo: Repo):
        try:
            self._proc = subprocess.Popen(
                [*git_command(repo), *_DIFF_TREE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=git_env(),
                bufsize=0,
            )
        except OSError as err:
            raise RepositoryError(f"cannot run git diff-tree: {err}") from None
        _grow_pipe(self._proc.stdout)
        self._out = _Reader(self._proc.stdout)
        self._mark = f"scorer-{os.getpid()}-{id(self):x}-".encode("ascii")  # no hex oid
        self._sent = 0
        self._stderr = ""  # git's last line, once closed
        self._queue: SimpleQueue[bytes | None] = SimpleQueue()
        self._ended = False  # end_input() called
        self._writer = threading.Thread(target=self._write, daemon=True)
        self._writer.start()

    def _write(self) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        while True:
            data = self._queue.get()
            if data is None:
                break
            with contextlib.suppress(OSError, ValueError):  # git died: see answers()
                stdin.write(data)
        with contextlib.suppress(OSError):
            stdin.close()

    def send(self, shas: list[str]) -> bytes:
        """Ask for ``shas``; returns the mark that ends their answers."""
        self._sent += 1
        mark = self._mark + str(self._sent).encode("ascii")
        self._queue.put("".join(f"{sha}\n" for sha in shas).encode("ascii") + mark + b"\n")
        return mark

    def answers(self, mark: bytes) -> bytes:
        """git's output for the batch ``mark`` ends (its last path's NUL, then the mark)."""
        found = self._out.until(b"\0" + mark + b"\n", keep=1)
        if found is None:
            self.close()
            raise RepositoryError(
                "git diff-tree could not read changes ("
                + (self._stderr or f"exit {self._proc.returncode}")
                + "); the repository may be missing objects (try git fsck)"
            )
        return found

    def end_input(self) -> None:
        """Nothing more to ask: the writer closes git's input once it has written the rest."""
        if not self._ended:
            self._ended = True
            self._queue.put(None)

    def close(self) -> None:
        proc = self._proc
        if proc.returncode is not None:
            return  # closed already (answers() closes it when git stopped short)
        self.end_input()
        self._writer.join()
        assert proc.stdout is not None and proc.stderr is not None
        with contextlib.suppress(OSError):
            proc.stdout.close()
        with contextlib.suppress(OSError):
            detail = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
            self._stderr = detail[-1] if detail else ""
            proc.stderr.close()
        proc.wait()


# While a worker runs, the main thread is busy (reading the history): the worker gets the
# GIL back after each read only when the main thread gives it up, by default every 5 ms.
_SWITCH = 0.001
_switching = [0, 0.005]  # workers running, and the interval before the first
_switching_lock = threading.Lock()


def _switch_faster(on: bool) -> None:
    with _switching_lock:
        if on:
            if not _switching[0]:
                _switching[1] = sys.getswitchinterval()
                sys.setswitchinterval(min(_SWITCH, _switching[1]))
            _switching[0] += 1
        else:
            _switching[0] -= 1
            if not _switching[0]:
                sys.setswitchinterval(_switching[1])


class Substance:
    """Verdicts for one repository and one ``exclude_paths``; counts what it could not read.

    ``feed(shas)`` hands SHAs to ``git diff-tree --stdin`` and returns at once: a worker
    thread reads git's answers and compares the blobs it must, so git diffs on the second
    core while the main thread goes on (reading the rest of the history, linking deploys).
    ``verdicts`` waits for the answers (and asks for any SHA that was not fed).

    ``keep_open``: git's processes outlive the worker's idle spells, until ``close``. A run
    judges in rounds (the report's weeks, then a deploy's or a person's next change): a new
    process per round reads its trees' and blobs' delta chains again (~30 ms a round on a
    100k-commit history). Without it they close whenever the work runs out.
    """

    def __init__(self, repo: Repo, exclude: PathFilter, keep_open: bool = False):
        self.repo = repo
        self.exclude = exclude
        self.keep_open = keep_open
        self.missing: set[str] = set()  # changes judged without some of their objects
        self._partial: bool | None = None
        self._answers: dict[str, bool] = {}
        self._fed: set[str] = set()  # handed to a diff job already
        self._next: dict[str, str] = {}  # asked after a SHA found not substantive (follow_up)
        self._lock = threading.Lock()
        self._tree: _DiffTree | None = None  # the diff-tree the jobs were sent to
        self._jobs: deque[tuple[list[str], bytes]] = deque()  # sent; the worker reads them
        self._worker: threading.Thread | None = None
        self._error: BaseException | None = None
        self._streams: tuple[CatFile, CatFile] | None = None  # the worker's cat-files

    @property
    def partial(self) -> bool:
        """A partial clone (asked on first use: a run with nothing to diff never asks)."""
        if self._partial is None:
            self._partial = is_partial_clone(self.repo)
        return self._partial

    def remember(self, known: Mapping[str, bool]) -> None:
        """Verdicts known already (an earlier run's: ``scorer.incremental.verdicts``, or the
        cache's): answered without git, and never fed."""
        self._answers.update(known)

    def feed(self, shas: Iterable[str]) -> None:
        answers = self._answers
        shas = [sha for sha in dict.fromkeys(shas) if sha not in self._fed and sha not in answers]
        if not shas or self.partial:
            return
        self._fed.update(shas)
        with self._lock:
            if self._tree is None:
                self._tree = _DiffTree(self.repo)
            self._jobs.append((shas, self._tree.send(shas)))
            if self._worker is None:
                _switch_faster(True)
                self._worker = threading.Thread(target=self._work, daemon=True)
                self._worker.start()

    def follow_up(self, groups: Iterable[list[str]], known: Mapping[str, bool]) -> None:
        """Groups of SHAs that will be judged in turn until one is substantive
        (``until_substantive``): each group's next one goes to git as soon as the worker
        finds the one before not substantive, not a round trip later. ``known``: verdicts
        the caller has already (a group whose known one is substantive needs nothing)."""
        self.remember(known)
        groups = [group for group in groups if group]
        for group in groups:
            self._next.update(pairwise(group))
        self._follow(group[0] for group in groups)

    def _follow(self, shas: Iterable[str]) -> None:
        answers, nexts, ready = self._answers, self._next, []
        for sha in shas:
            at: str | None = sha
            while at is not None and answers.get(at) is False:
                at = nexts.get(at)
            if at is not None and at not in answers:
                ready.append(at)
        if ready:
            self.feed(ready)

    def verdicts(self, shas: Iterable[str]) -> dict[str, bool]:
        shas = list(dict.fromkeys(shas))
        if not shas:
            return {}
        if self.partial:
            known = self._answers
            return {sha: known[sha] if sha in known else self._from_objects(sha) for sha in shas}
        self.feed(shas)
        self._wait()
        return {sha: self._answers[sha] for sha in shas}

    # --- the fast path: git diff-tree over trees, blobs read only for modified files -------

    def _wait(self) -> None:
        """Until the worker has answered everything fed; its error, if any, raised here."""
        while True:
            with self._lock:
                worker = self._worker
            if worker is None:
                break
            worker.join()
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        """The worker: each job's ``diff-tree`` output parsed, and the blobs it leaves to
        compare read through two ``cat-file`` processes kept while there is work."""
        while True:
            with self._lock:
                if not self._jobs:
                    self._worker = None
                    tree = streams = None
                    if not self.keep_open or self._error is not None:
                        tree, self._tree = self._tree, None
                        streams, self._streams = self._streams, None
                    _switch_faster(False)
                    break
                # Every job sent so far at once: their blob pairs are then compared in one
                # pass sorted by path (versions of a file read one after the other).
                jobs = list(self._jobs)
                self._jobs.clear()
                tree = self._tree
            if self._error is not None:
                continue  # drained; the first error is what verdicts raises
            try:
                assert tree is not None
                pending: dict[str, list[tuple[str, str, str]]] = {}
                for shas, mark in jobs:
                    self._parse(tree.answers(mark), pending)
                    unanswered = [sha for sha in shas if sha not in self._answers]
                    if unanswered:
                        raise RepositoryError(f"git diff-tree did not answer for {unanswered[0]}")
                if pending:
                    self._compare(pending)
                if self._next:
                    nexts = self._next
                    self._follow([sha for shas, _ in jobs for sha in shas if sha in nexts])
            except BaseException as err:  # handed to verdicts()
                self._error = err
                self._close_streams()
        _close_all(tree, streams or ())

    def close(self) -> None:
        """Once the work fed is done, git's processes closed (``keep_open``); idempotent."""
        with contextlib.suppress(Exception):  # verdicts() raised it to whoever asked
            self._wait()
        with self._lock:
            tree, self._tree = self._tree, None
            streams, self._streams = self._streams, None
        _close_all(tree, streams or ())

    def _cat_files(self) -> tuple[CatFile, CatFile]:
        if self._streams is None:
            self._streams = (CatFile(self.repo, "--batch-check"), CatFile(self.repo, "--batch"))
        return self._streams

    def _close_streams(self) -> None:
        streams, self._streams = self._streams, None
        for stream in streams or ():
            stream.close()

    def _parse(self, output: bytes, pending: dict[str, list[tuple[str, str, str]]]) -> None:
        """Verdicts from ``diff-tree --raw`` output (section 1, v2). A path that only moved
        (deleted and added with the same content) or only changed mode between regular files
        is not a change of that path; any other added, deleted or retyped path settles its
        commit at once; modified text files wait for the blob comparison, and only while
        nothing else settled their commit (``pending``: their blob pairs, added)."""
        out = self._answers
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
                entries.append((*tok[1:].decode("ascii").split(" "), path))

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
    def _settle(entries: list[tuple[str, ...]]) -> list[tuple[str, str, str]] | None:
        """None when the entries change something for sure; else the modified text files'
        blob pairs and paths to compare (an empty list: nothing changed)."""
        deleted: dict[str, int] = {}
        for old_mode, _new_mode, old_id, _new_id, status, _path in entries:
            if status == "D" and old_mode in _REGULAR:
                deleted[old_id] = deleted.get(old_id, 0) + 1
        pairs = []
        for old_mode, new_mode, old_id, new_id, status, path in entries:
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
            pairs.append((old_id, new_id, path))
        if any(deleted.values()):
            return None  # a path went away for good
        return pairs

    def _compare(self, pending: dict[str, list[tuple[str, str, str]]]) -> None:
        """Whitespace-and-blank-line comparison of the pending commits' blob pairs, read in
        rounds: each commit's smallest pair first, then its next only while it stays
        undecided (the first pair settles nearly every real change), in batches of at most
        _BATCH_BYTES, one pair in memory at a time. Pairs the line rule finds alike but
        whose bytes differ (whitespace-only edits) are left to git (``_ask_git``)."""
        out = self._answers
        check, stream = self._cat_files()
        size = check.sizes(sorted({o for ps in pending.values() for p in ps for o in p[:2]}))
        queue = {
            sha: sorted(pairs, key=lambda p: size.get(p[0], 0) + size.get(p[1], 0))
            for sha, pairs in pending.items()
        }
        doubtful: dict[str, list[str]] = {}
        turn = 0
        while queue:
            asked = [(sha, pairs[turn]) for sha, pairs in queue.items() if turn < len(pairs)]
            if not asked:
                break
            # By path: versions of one file follow each other, and git inflates each from the
            # last one's delta chain, which it has just read (its delta base cache): ~35% less
            # of git's time at 80% AI, whichever way the pack's deltas go.
            asked.sort(key=lambda item: item[1][2])
            for batch in _batches(asked, size):
                blobs = stream.blobs([oid for _, pair in batch for oid in pair[:2]])
                for sha, pair in batch:
                    old, new = next(blobs), next(blobs)
                    if out[sha]:
                        continue
                    if old is None or new is None:
                        self.missing.add(sha)
                        out[sha] = True
                    elif is_binary(old) or is_binary(new):
                        out[sha] = True  # the ids differ: so do the bytes
                    elif not same_ignoring_whitespace(old, new):
                        out[sha] = True
                    elif old != new:
                        doubtful.setdefault(sha, []).append(pair[2])
                for _ in blobs:  # drain (none left: two per pair)
                    pass
            queue = {sha: ps for sha, ps in queue.items() if not out[sha] and turn + 1 < len(ps)}
            turn += 1
        doubtful = {sha: paths for sha, paths in doubtful.items() if not out[sha]}
        if doubtful:
            self._ask_git(doubtful)

    def _ask_git(self, doubtful: dict[str, list[str]]) -> None:
        """Commits left undecided with whitespace-only edits, settled by git itself: one
        ``diff-tree --numstat -w --ignore-blank-lines`` lists a modified path only when its
        diff shows a hunk (git omits the others' counts), which is section 1's definition."""
        proc = subprocess.run(
            [*git_command(self.repo), *_NUMSTAT],
            input="".join(f"{sha}\n" for sha in doubtful).encode("ascii"),
            capture_output=True,
            env=git_env(),
            check=False,
        )
        if proc.returncode != 0:
            raise RepositoryError("git diff-tree could not compare changes ignoring whitespace")
        current: str | None = None
        for tok in proc.stdout.split(b"\0"):
            fields = tok.split(b"\t", 2)
            if len(fields) == 3 and current is not None:
                path = fields[2].decode("utf-8", "surrogateescape")
                if path in doubtful[current]:
                    self._answers[current] = True
            elif tok.strip():
                sha = tok.strip().decode("ascii")
                current = sha if sha in doubtful else None

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
                delta.new_file.path or delta.old_file.path,
            )
            for delta in deltas
            if not self.exclude.excluded(delta.new_file.path or delta.old_file.path)
        ]
        pairs = self._settle(entries)
        if pairs is None:
            return True
        return any(self._blobs_differ(sha, old_id, new_id) for old_id, new_id, _ in pairs)
