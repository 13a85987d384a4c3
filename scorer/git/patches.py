"""``git patch-id --stable`` of a batch of commits: is a change in R as a cherry-pick?

METRIC.md section 5 (v2) says a later deploy still runs a change when it holds a change with
the same patch-id (``scorer.outcomes.containment``). This module is the I/O at that edge: one
``git diff-tree --stdin -p`` for the whole batch, piped straight into one ``git patch-id
--stable`` (git documents that it reads ``diff-tree --stdin`` output, the commit name before
each patch), so the patches stream through the pipe and never sit in Python's memory. The diff
is the one ``git cherry`` and ``git log --cherry-pick`` hash: no rename detection, full index
lines (a binary change is hashed by its blob ids), 3 lines of context.

Asked only about rollback candidates (a later deploy whose commit does not descend from the
earlier one's), so a run whose deploys follow one line of history never starts these
processes. Answers are remembered: a commit's patch never changes.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterable

from scorer.errors import RepositoryError
from scorer.git.diffs import is_partial_clone
from scorer.git.log import Repo, git_command, git_env

_DIFF = ("diff-tree", "--stdin", "-p", "--full-index", "--no-renames", "--root", "--no-color")
_PATCH_ID = ("patch-id", "--stable")
_RETRY = 64  # commits per batch once a batch failed


def patch_ids(repo: Repo, shas: Iterable[str]) -> dict[str, str | None]:
    """``git patch-id --stable`` of each commit's diff against its first parent (a root
    commit: against the empty tree). None for a commit with no textual diff (empty, or
    mode-only): git gives it no patch-id, and it equals nothing."""
    shas = list(dict.fromkeys(shas))
    if not shas:
        return {}
    data = "".join(f"{sha}\n" for sha in shas).encode("ascii")
    env = git_env()
    try:
        diff = subprocess.Popen(
            [*git_command(repo), *_DIFF],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
    except OSError as err:
        raise RepositoryError(f"cannot run git diff-tree: {err}") from None
    assert diff.stdin is not None and diff.stdout is not None and diff.stderr is not None
    try:
        hasher = subprocess.Popen(
            [*git_command(repo), *_PATCH_ID],
            stdin=diff.stdout,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
    except OSError as err:
        diff.kill()
        diff.wait()
        raise RepositoryError(f"cannot run git patch-id: {err}") from None
    diff.stdout.close()  # patch-id holds the pipe now: git diff-tree sees it close if it dies

    def feed() -> None:
        # git reads as it diffs: writing from a thread keeps a long list from blocking us.
        with contextlib.suppress(BrokenPipeError, ValueError):
            diff.stdin.write(data)
        with contextlib.suppress(BrokenPipeError):
            diff.stdin.close()

    errors: list[bytes] = []
    writer = threading.Thread(target=feed, daemon=True)
    drain = threading.Thread(target=lambda: errors.append(diff.stderr.read()), daemon=True)
    writer.start()
    drain.start()
    out, hash_err = hasher.communicate()
    writer.join()
    drain.join()
    diff.stderr.close()
    for name, proc, err in (("diff-tree", diff, errors[0]), ("patch-id", hasher, hash_err)):
        if proc.wait() != 0:
            detail = err.decode("utf-8", "replace").strip().splitlines()
            raise RepositoryError(
                f"git {name} could not compute patch ids ("
                + (detail[-1] if detail else f"exit {proc.returncode}")
                + "); the repository may be missing objects (try git fsck)"
            )
    found: dict[str, str | None] = dict.fromkeys(shas)
    for line in out.decode("ascii", "replace").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] in found:
            found[parts[1]] = parts[0]
    return found


class PatchIds:
    """Patch-ids of one repository's commits, each computed once.

    In a partial clone the diff would need blobs git may fetch from the network (not every
    supported git honours ``GIT_NO_LAZY_FETCH``): there every answer is None, so no change is
    found equivalent and containment falls back to ancestry (v1's answer, never a kinder one).
    """

    def __init__(self, repo: Repo):
        self.repo = repo
        self.known: dict[str, str | None] = {}
        self.batches = 0  # git pipelines started (tests check that the fast path starts none)
        self._partial: bool | None = None

    def _batch(self, shas: list[str]) -> int:
        """Patch-ids of ``shas`` into ``known``. A batch git fails on (a snapshot missing some
        objects) is read again in runs of _RETRY commits; a run that fails too gets no
        patch-ids. Returns how many commits got none."""
        try:
            self.known.update(patch_ids(self.repo, shas))
            return 0
        except RepositoryError:
            if len(shas) <= _RETRY:
                self.known.update(dict.fromkeys(shas))
                return len(shas)
            return sum(self._batch(shas[k : k + _RETRY]) for k in range(0, len(shas), _RETRY))

    def __call__(self, shas: Iterable[str]) -> dict[str, str | None]:
        shas = list(dict.fromkeys(shas))
        need = [sha for sha in shas if sha not in self.known]
        if need:
            if self._partial is None:
                self._partial = is_partial_clone(self.repo)
            if self._partial:
                self.known.update(dict.fromkeys(need))
            else:
                self.batches += 1
                failed = self._batch(need)
                if failed:
                    # A snapshot without some blobs: those changes get no patch-id, equal
                    # nothing, and containment falls back to ancestry (v1's answer) for them.
                    print(
                        f"scorer: no patch-id for {failed} change(s) whose objects git cannot "
                        "read; containment falls back to ancestry for them",
                        file=sys.stderr,
                        flush=True,
                    )
        return {sha: self.known[sha] for sha in shas}


_PATHS = ("diff-tree", "--stdin", "-r", "--name-only", "-z", "--no-renames", "--root",
          "--format=%x01%H")  # fmt: skip
_WHITESPACE = str.maketrans("", "", " \t\n\r\v\f")


def changed_paths(repo: Repo, shas: Iterable[str]) -> dict[str, tuple[str, ...] | None]:
    """The paths each commit's diff against its first parent touches (the diff patch-ids
    hash), whitespace removed and sorted: two commits with the same patch-id have the same
    paths (``git patch-id`` hashes each file's header, whitespace removed). Trees only, no
    blob is read. None for every commit when git cannot say (a treeless partial clone)."""
    shas = list(dict.fromkeys(shas))
    if not shas:
        return {}
    proc = subprocess.run(
        [*git_command(repo), *_PATHS],
        input="".join(f"{sha}\n" for sha in shas).encode("ascii"),
        capture_output=True,
        env=git_env(),
        check=False,
    )
    if proc.returncode != 0:
        return dict.fromkeys(shas)
    found: dict[str, tuple[str, ...] | None] = dict.fromkeys(shas, ())
    for record in proc.stdout.split(b"\x01")[1:]:
        tokens = record.split(b"\0")
        sha = tokens[0].decode("ascii", "replace").strip()
        if sha in found:
            names = (t.lstrip(b"\n").decode("utf-8", "surrogateescape") for t in tokens[1:])
            found[sha] = tuple(sorted(n.translate(_WHITESPACE) for n in names if n))
    return found


class ChangedPaths:
    """``changed_paths`` of one repository's commits, each asked once."""

    def __init__(self, repo: Repo):
        self.repo = repo
        self.known: dict[str, tuple[str, ...] | None] = {}

    def __call__(self, shas: Iterable[str]) -> dict[str, tuple[str, ...] | None]:
        shas = list(dict.fromkeys(shas))
        need = [sha for sha in shas if sha not in self.known]
        if need:
            self.known.update(changed_paths(self.repo, need))
        return {sha: self.known[sha] for sha in shas}
