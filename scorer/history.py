"""Read the commit graph from git: one streaming ``git log`` (the fast path for metadata and
messages) — the only module that reads commits.

Why a ``git log`` stream and not a pygit2 walk: on a 99k-commit repository the stream reads
every commit's metadata and message in ~0.85 s against ~1.5 s for a walk, and it applies
``.mailmap`` for us. It is read in chunks, never as one buffer, so memory stays flat.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from scorer.errors import RepositoryError
from scorer.model import RawCommit

# Field order of one commit in the stream; each field ends with NUL (-z ends the record).
_FORMAT = "%H%x00%P%x00%an%x00%ae%x00%aN%x00%aE%x00%cn%x00%ce%x00%at%x00%ct%x00%B"
_FIELDS = 11
_CHUNK = 1 << 20


class Repo:
    """An opened repository: where it is, and (on first use) a pygit2 handle for object reads.

    Everyday reads go through git itself (``log``, ``diff-tree``, ``cat-file``); pygit2 is
    imported only for partial clones, where libgit2 reads objects without fetching them. With
    what it pulls in, importing it costs ~50 ms, a good part of a per-merge run's budget.
    """

    def __init__(self, work_dir: Path, git_dir: Path, bare: bool = False):
        self.work_dir = work_dir  # what the user named (work tree or bare git dir)
        self.git_dir = git_dir
        self.bare = bare
        self._handle = None

    @property
    def handle(self):  # -> pygit2.Repository
        if self._handle is None:
            import pygit2

            try:
                self._handle = pygit2.Repository(str(self.git_dir))
            except pygit2.GitError as err:  # e.g. SHA-256 repositories, unknown to libgit2
                raise RepositoryError(f"{self.git_dir}: cannot read objects: {err}") from None
        return self._handle

    @property
    def name(self) -> str:
        base = self.work_dir if self.work_dir.name != ".git" else self.work_dir.parent
        return base.resolve().name


def _git(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(path), *args],
            capture_output=True,
            text=True,
            env=git_env(),
            check=False,
        )
    except FileNotFoundError:
        raise RepositoryError("git is not installed or not on PATH") from None


def git_env() -> dict[str, str]:
    """Environment for git subprocesses: never prompt, never fetch missing objects lazily."""
    env = dict(os.environ)
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_NO_LAZY_FETCH="1",
        GIT_OPTIONAL_LOCKS="0",
        LC_ALL="C",
        GIT_PAGER="cat",
    )
    return env


def open_repo(path: Path) -> Repo:
    """Open ``path`` or fail with a message that says what to do."""
    if not path.exists():
        raise RepositoryError(f"{path}: no such directory")
    proc = _git(
        path, "rev-parse", "--absolute-git-dir", "--is-bare-repository", "--is-shallow-repository"
    )
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()
        if any("not a git repository" in line for line in detail):
            raise RepositoryError(f"{path}: not a git repository (run scorer inside a clone)")
        if any("dubious ownership" in line for line in detail):
            raise RepositoryError(
                f"{path}: git refuses to read a repository owned by another user; trust it "
                f"with: git config --global --add safe.directory {path.resolve()}"
            )
        reason = detail[-1] if detail else f"exit {proc.returncode}"
        raise RepositoryError(f"{path}: cannot read repository: {reason}")
    git_dir, bare, shallow = proc.stdout.split("\n")[:3]
    if shallow == "true":
        raise RepositoryError(
            f"{path}: shallow clone: the history is incomplete, so deploys and reverts cannot be "
            "linked. Fetch the full history (actions/checkout: fetch-depth: 0; "
            "elsewhere: git fetch --unshallow)"
        )
    if _git(path, "rev-parse", "--verify", "-q", "HEAD^{commit}").returncode != 0:
        raise RepositoryError(f"{path}: empty repository: there are no commits to score yet")
    if bare == "true":
        return Repo(work_dir=path, git_dir=Path(git_dir), bare=True)
    top = _git(path, "rev-parse", "--show-toplevel").stdout.strip()
    return Repo(work_dir=Path(top) if top else path, git_dir=Path(git_dir))


def mailmap_bytes(repo: Repo) -> bytes:
    """What git maps names with: the work tree's .mailmap (bare: HEAD:.mailmap) and any
    ``mailmap.file``. Part of the cache key, since the mapping shapes every author."""
    parts = []
    if not repo.bare:
        with contextlib.suppress(OSError):
            parts.append(Path(repo.work_dir, ".mailmap").read_bytes())
    else:
        blob = _git(repo.git_dir, "cat-file", "blob", "HEAD:.mailmap")
        if blob.returncode == 0:
            parts.append(blob.stdout.encode("utf-8", "surrogateescape"))
    extra = _git(repo.git_dir, "config", "--path", "--get", "mailmap.file").stdout.strip()
    if extra:
        with contextlib.suppress(OSError):
            parts.append(Path(extra).read_bytes())
    return b"\0".join(parts)


def notes_tip(repo: Repo, ref: str = "refs/notes/ai") -> str:
    """The commit the git-ai notes ref points at, or "" (notes shape evidence: cache key)."""
    proc = _git(repo.git_dir, "rev-parse", "-q", "--verify", f"{ref}^{{commit}}")
    return proc.stdout.strip() if proc.returncode == 0 else ""


def is_ancestor(repo: Repo, older: str, newer: str) -> bool | None:
    """``git merge-base --is-ancestor``: True, False, or None when git does not know
    ``older`` (it was made in another repository)."""
    proc = _git(repo.git_dir, "merge-base", "--is-ancestor", older, newer)
    if proc.returncode in (0, 1):
        return proc.returncode == 0
    return None


def git_command(repo: Repo) -> list[str]:
    """``git`` pointed at the repository; from the work tree when there is one, so that git
    reads ``.mailmap`` there as it does for ``git log`` (bare repositories: HEAD:.mailmap)."""
    if not repo.bare:
        return ["git", "-C", str(repo.work_dir)]
    return ["git", "--git-dir", str(repo.git_dir)]


def resolve_ref(repo: Repo, ref: str) -> str:
    """The full commit id ``ref`` names, or a RepositoryError that says why not."""
    if not ref or ref.startswith("-"):
        raise RepositoryError(f"ref {ref!r} does not name a commit")
    proc = _git(repo.git_dir, "rev-parse", "--verify", f"{ref}^{{commit}}")
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()
        if any("ambiguous" in line for line in detail):
            raise RepositoryError(f"ref {ref!r} is ambiguous: use a longer SHA")
        msg = detail[-1].removeprefix("fatal: ") if detail else "unknown revision"
        raise RepositoryError(f"ref {ref!r} does not name a commit ({msg})")
    return proc.stdout.strip()


def iter_raw_commits(
    repo: Repo,
    tip: str,
    *,
    exclude: tuple[str, ...] = (),
    progress: Callable[[int], None] | None = None,
) -> Iterator[RawCommit]:
    """Every commit reachable from ``tip`` (and not from ``exclude``), streamed from git log."""
    args = [
        *git_command(repo),
        "-c",
        "log.showSignature=false",
        "-c",
        "i18n.logOutputEncoding=UTF-8",
        "log",
        "-z",
        "--no-color",
        "--encoding=UTF-8",
        f"--format={_FORMAT}",
        tip,
        *(f"^{sha}" for sha in exclude),
        "--",
    ]
    try:
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=git_env(), bufsize=0
        )
    except FileNotFoundError:
        raise RepositoryError("git is not installed or not on PATH") from None
    assert proc.stdout is not None
    # A bigger pipe lets git run ahead while Python digests a chunk (Linux; else the default).
    with contextlib.suppress(OSError, AttributeError, ImportError):
        import fcntl

        fcntl.fcntl(proc.stdout.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    # One incremental UTF-8 decode per chunk (it handles characters split across chunks, and
    # replaces invalid bytes as a per-field decode would), then one split: per-commit Python
    # work is what separates a scan from the git log floor.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending: list[str] = []
    tail = ""
    count = 0
    try:
        while True:
            chunk = proc.stdout.read(_CHUNK)
            if not chunk:
                break
            parts = (tail + decoder.decode(chunk)).split("\0")
            tail = parts.pop()
            if pending:
                parts[:0] = pending
                pending = []
            usable = len(parts) - len(parts) % _FIELDS
            if usable < len(parts):
                pending = parts[usable:]
            for i in range(0, usable, _FIELDS):
                (sha, parents, an, ae, amn, ame, cn, ce, at, ct, msg) = parts[i : i + _FIELDS]
                yield RawCommit(
                    sha.lstrip("\n"),
                    tuple(parents.split()),
                    an,
                    ae,
                    amn,
                    ame,
                    cn,
                    ce,
                    int(at or 0),
                    int(ct or 0),
                    msg,
                )
            count += usable // _FIELDS
            if progress is not None:
                progress(count)
        tail += decoder.decode(b"", final=True)
    finally:
        proc.stdout.close()
        stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        code = proc.wait()
    if code != 0 or tail or pending:
        detail = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {code}"
        raise RepositoryError(
            f"git log could not read the history ({detail}); "
            "the repository may be corrupt or missing objects (try git fsck)"
        )


def tty_progress(label: str) -> Callable[[int], None] | None:
    """A progress callback that redraws one stderr line, or None when stderr is not a TTY."""
    if not sys.stderr.isatty():
        return None
    last = [0.0]

    def show(n: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.1:  # a few redraws a second, not one per chunk
            return
        last[0] = now
        sys.stderr.write(f"\r{label} {n:,} commits…")
        sys.stderr.flush()

    return show


def clear_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
