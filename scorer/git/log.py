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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from scorer.errors import RepositoryError
from scorer.model import RawCommit
from scorer.util.times import parse_unix

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
        # What open_repo's one rev-parse already learnt, each answered once (later calls ask
        # git again): ref -> commit id for resolve_ref, and the git-ai notes tip for notes_tip
        # ("" when there is no such ref, None when not known).
        self._resolved: dict[str, str] = {}
        self._notes_tip: str | None = None
        self._config: dict[str, list[str]] | None = None  # see config_values()
        self._config_proc: subprocess.Popen[str] | None = None  # see prefetch_config()

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


NOTES_REF = "refs/notes/ai"
# rev-parse --glob appends "/*" to a pattern without glob characters; the class keeps this
# one an exact match of NOTES_REF (which, as a ref, cannot also be a directory of refs).
_NOTES_GLOB = "refs/notes/a[i]"
_NO_WORK_TREE = "fatal: this operation must be run in a work tree"
_HEX = frozenset("0123456789abcdef")


def _is_oid(text: str) -> bool:
    return len(text) in (40, 64) and _HEX.issuperset(text)


def open_repo(path: Path, ref: str = "HEAD") -> Repo:
    """Open ``path`` or fail with a message that says what to do.

    One ``git rev-parse`` in the common case; it also resolves ``ref`` (for ``resolve_ref``)
    and reads the git-ai notes tip (for ``notes_tip``). When it fails, the step-by-step calls
    below run and say precisely why (or open the repository after all: a bad ``ref`` is
    ``resolve_ref``'s error to report, with its own message).
    """
    if not path.exists():
        raise RepositoryError(f"{path}: no such directory")
    repo = _open_in_one_call(path, ref)
    return repo if repo is not None else _open_step_by_step(path)


def _open_in_one_call(path: Path, ref: str) -> Repo | None:
    """The repository from one rev-parse, or None when its answer is anything but the
    expected one (then the step-by-step calls decide)."""
    refs = ["HEAD"]
    # Plain revisions only: rev-parse without --verify prints two lines for A..B, a
    # negation for ^A, and takes -x for an option (resolve_ref rejects those).
    if ref != "HEAD" and ref and not ref.startswith(("-", "^")) and ".." not in ref:
        refs.append(ref)
    proc = _git(
        path,
        "rev-parse",
        "--absolute-git-dir",
        "--is-bare-repository",
        "--is-shallow-repository",
        *(f"{r}^{{commit}}" for r in refs),  # a commit id each, or git fails
        f"--glob={_NOTES_GLOB}",  # the notes tip, or no line at all
        "--show-toplevel",  # last: without a work tree (bare, inside .git) git dies here
    )
    if proc.returncode == 0:
        has_top = True
    elif proc.stderr.strip() == _NO_WORK_TREE:
        has_top = False  # everything before --show-toplevel was printed
    else:
        return None
    lines = proc.stdout.split("\n")
    if lines[-1] != "":
        return None
    lines.pop()
    top = lines.pop() if has_top else ""
    fixed = 3 + len(refs)
    if len(lines) not in (fixed, fixed + 1):
        return None
    git_dir, bare, shallow = lines[:3]
    shas = lines[3:fixed]
    notes = lines[fixed] if len(lines) > fixed else ""
    if bare not in ("true", "false") or shallow not in ("true", "false"):
        return None
    if not all(_is_oid(x) for x in shas) or (notes and not _is_oid(notes)):
        return None
    if not git_dir.strip() or (has_top and not top.strip()):
        return None
    if shallow == "true":
        raise RepositoryError(_shallow_message(path))
    if bare == "true":
        repo = Repo(work_dir=path, git_dir=Path(git_dir), bare=True)
    else:
        repo = Repo(work_dir=Path(top) if top else path, git_dir=Path(git_dir))
    repo._resolved = dict(zip(refs, shas, strict=True))
    repo._notes_tip = notes
    return repo


def _shallow_message(path: Path) -> str:
    return (
        f"{path}: shallow clone: the history is incomplete, so deploys and reverts cannot be "
        "linked. Fetch the full history (actions/checkout: fetch-depth: 0; "
        "elsewhere: git fetch --unshallow)"
    )


def _open_step_by_step(path: Path) -> Repo:
    """One question at a time, for a precise error message."""
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
        raise RepositoryError(_shallow_message(path))
    if _git(path, "rev-parse", "--verify", "-q", "HEAD^{commit}").returncode != 0:
        raise RepositoryError(f"{path}: empty repository: there are no commits to score yet")
    if bare == "true":
        return Repo(work_dir=path, git_dir=Path(git_dir), bare=True)
    top = _git(path, "rev-parse", "--show-toplevel").stdout.strip()
    return Repo(work_dir=Path(top) if top else path, git_dir=Path(git_dir))


# The configuration scorer reads, all in one `git config` (see config_values).
_CONFIG_KEYS = (
    r"^(mailmap\.file|extensions\.partialclone|remote\..*\.promisor|blame\.ignorerevsfile)$"
)


def config_values(repo: Repo) -> dict[str, list[str]]:
    """``mailmap.file``, the partial-clone settings (``extensions.partialclone``,
    ``remote.*.promisor``) and ``blame.ignoreRevsFile``: key -> values in git's order, from
    one ``git config`` per repository, read on first use. Keys as git prints them
    (lower-case but for subsections); a boolean set without ``= value`` has the value ``""``."""
    if repo._config is None:
        started, repo._config_proc = repo._config_proc, None
        if started is not None:
            stdout, _ = started.communicate()
            returncode = started.returncode
        else:
            proc = _git(repo.git_dir, "config", "-z", "--get-regexp", _CONFIG_KEYS)
            returncode, stdout = proc.returncode, proc.stdout
        values: dict[str, list[str]] = {}
        if returncode == 0:  # 1: none of them is set
            for item in stdout.split("\0"):
                if item:
                    key, _, value = item.partition("\n")
                    values.setdefault(key, []).append(value)
        repo._config = values
    return repo._config


def prefetch_config(repo: Repo) -> None:
    """Start the ``git config`` that :func:`config_values` reads, so that git runs while the
    caller does something else (a warm run reads its cache meanwhile)."""
    if repo._config is None and repo._config_proc is None:
        with contextlib.suppress(OSError):
            repo._config_proc = subprocess.Popen(
                ["git", "-C", str(repo.git_dir), "config", "-z", "--get-regexp", _CONFIG_KEYS],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,  # decoded as _git decodes
                env=git_env(),
            )


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
    files = config_values(repo).get("mailmap.file")
    extra = files[-1].strip() if files else ""  # the last one wins, as with --get
    if extra.startswith(("~", "%(prefix)")):  # git expands these paths: let it
        extra = _git(repo.git_dir, "config", "--path", "--get", "mailmap.file").stdout.strip()
    if extra:
        with contextlib.suppress(OSError):
            parts.append(Path(extra).read_bytes())
    return b"\0".join(parts)


def _common_dir(repo: Repo) -> Path:
    """Where refs and info/ live: a linked worktree's ``commondir`` names it (as git reads it)."""
    with contextlib.suppress(OSError):
        text = Path(repo.git_dir, "commondir").read_text(encoding="utf-8").strip()
        if text:
            return Path(repo.git_dir, text)
    return Path(repo.git_dir)


def history_rewrites(repo: Repo) -> bytes:
    """What makes ``git log`` show another history with HEAD unmoved: the replace refs
    (``git replace``, under ``GIT_REPLACE_REF_BASE``), the grafts file (``info/grafts`` or
    ``GIT_GRAFT_FILE``) and whether ``GIT_NO_REPLACE_OBJECTS`` turns replacements off. Part of
    the cache key: a cache read through other replacements would report another history."""
    common = _common_dir(repo)
    graft_file = os.environ.get("GIT_GRAFT_FILE") or str(common / "info" / "grafts")
    try:
        grafts = Path(graft_file).read_bytes()
    except OSError:
        grafts = b""
    off = b"1" if "GIT_NO_REPLACE_OBJECTS" in os.environ else b"0"
    return b"\0".join([off, _replace_refs(repo, common), grafts])


def _replace_refs(repo: Repo, common: Path) -> bytes:
    """The replace refs, as names and targets. Read from the ref files (a per-merge run cannot
    spare the ~5 ms of a ``git for-each-ref``): loose refs under the base, and the packed
    lines that name it. A reftable repository asks git."""
    base = (os.environ.get("GIT_REPLACE_REF_BASE") or "refs/replace/").rstrip("/") + "/"
    if (common / "reftable").is_dir():
        proc = _git(repo.git_dir, "for-each-ref", "--format=%(refname) %(objectname)", base)
        return proc.stdout.encode("utf-8", "surrogateescape")
    found: list[bytes] = []
    needle = b" " + base.encode()
    with contextlib.suppress(OSError):
        packed = Path(common, "packed-refs").read_bytes()
        if needle in packed:
            found += [line for line in packed.splitlines() if needle in line]
    loose = Path(common, base)
    if loose.is_dir():
        for root, _dirs, files in os.walk(loose):
            for name in sorted(files):
                with contextlib.suppress(OSError):
                    ref = Path(root, name)
                    found.append(str(ref.relative_to(common)).encode() + b" " + ref.read_bytes())
    return b"\n".join(sorted(found))


def notes_tip(repo: Repo, ref: str = NOTES_REF) -> str:
    """The commit the git-ai notes ref points at, or "" (notes shape evidence: cache key).

    For ``refs/notes/ai`` it is what ``open_repo`` read (the ref's object, which for a notes
    ref, always a commit, is the same thing)."""
    if ref == NOTES_REF and repo._notes_tip is not None:
        return repo._notes_tip  # a run reads the notes once: they do not move under it
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
    sha = repo._resolved.pop(ref, None)  # resolved by open_repo: once
    if sha is not None:
        return sha
    proc = _git(repo.git_dir, "rev-parse", "--verify", f"{ref}^{{commit}}")
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()
        if any("ambiguous" in line for line in detail):
            raise RepositoryError(f"ref {ref!r} is ambiguous: use a longer SHA")
        msg = detail[-1].removeprefix("fatal: ") if detail else "unknown revision"
        raise RepositoryError(f"ref {ref!r} does not name a commit ({msg})")
    return proc.stdout.strip()


def commit_ids(repo: Repo, names: Sequence[str]) -> dict[str, str]:
    """The full id of the commit each of ``names`` (SHAs, perhaps abbreviated) names, for
    those that name one commit in the repository (one ``git cat-file --batch-check``)."""
    names = [n for n in names if n and all(c in "0123456789abcdefABCDEF" for c in n)]
    if not names:
        return {}
    proc = subprocess.run(
        [*git_command(repo), "cat-file", "--batch-check=%(objectname) %(objecttype)"],
        input="".join(f"{n}^{{commit}}\n" for n in names).encode("ascii"),
        capture_output=True,
        env=git_env(),
        check=False,
    )
    found = {}
    for name, line in zip(names, proc.stdout.decode("ascii", "replace").splitlines(), strict=False):
        oid, _, kind = line.partition(" ")
        if kind == "commit":
            found[name] = oid
    return found


def iter_raw_commits(
    repo: Repo,
    tip: str | Sequence[str],
    *,
    exclude: tuple[str, ...] = (),
    progress: Callable[[int], None] | None = None,
    proc: subprocess.Popen | None = None,
    unverified: bool = False,
) -> Iterator[RawCommit]:
    """Every commit reachable from ``tip`` (one or several) and not from ``exclude``, streamed
    from git log (``proc``: one :func:`start_log` already started with the same arguments;
    ``unverified``: a :func:`head_start` of a ref name, whose first commit must be ``tip``,
    a commit id, or git log is started again)."""
    if not unverified:
        yield from _raw_commits(repo, tip, exclude, progress, proc)
        return
    stream = _raw_commits(repo, tip, exclude, progress, proc)
    try:
        first = next(stream, None)
    except RepositoryError:
        first = None
    if first is not None and first.sha == tip:
        yield first
        yield from stream
        return
    # The ref moved after git log began, or git failed: again, from the head the scan resolved.
    if proc is not None and proc.poll() is None:
        proc.kill()
    stream.close()
    yield from _raw_commits(repo, tip, exclude, progress, None)


def _raw_commits(
    repo: Repo,
    tip: str | Sequence[str],
    exclude: tuple[str, ...],
    progress: Callable[[int], None] | None,
    proc: subprocess.Popen | None,
) -> Iterator[RawCommit]:
    if proc is None:
        proc = start_log(repo, tip, exclude)
    assert proc.stdout is not None
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
                    int(at or 0) if len(at) < 12 else parse_unix(at),  # 12 digits: year 9999+
                    int(ct or 0) if len(ct) < 12 else parse_unix(ct),
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


def start_log(
    repo: Repo, tip: str | Sequence[str], exclude: tuple[str, ...] = ()
) -> subprocess.Popen:
    """The ``git log`` process that :func:`iter_raw_commits` reads, started."""
    return _start_log(git_command(repo), tip, exclude)


def head_start(path: Path, ref: str | None) -> subprocess.Popen | None:
    """``git log`` of ``ref`` (default HEAD), started before the repository is opened and the
    pipeline imported: a cold scan's first ~20 ms, in which git streams on the other core.
    Its first commit has to be the head the scan resolves (``iter_raw_commits(...,
    unverified=True)`` starts again if the ref moved meanwhile). None for anything but a
    plain name (``resolve_ref`` has the say on those)."""
    ref = ref or "HEAD"
    if ref.startswith(("-", "^")) or ".." in ref or not path.is_dir():
        return None
    try:
        return _start_log(["git", "-C", str(path)], ref, ())
    except RepositoryError:
        return None


def _start_log(
    where: list[str], tip: str | Sequence[str], exclude: tuple[str, ...]
) -> subprocess.Popen:
    args = [
        *where,
        "-c",
        "log.showSignature=false",
        "-c",
        "i18n.logOutputEncoding=UTF-8",
        "log",
        "-z",
        "--no-color",
        "--encoding=UTF-8",
        f"--format={_FORMAT}",
        *([tip] if isinstance(tip, str) else tip),
        *(f"^{sha}" for sha in exclude),
        "--",
    ]
    try:
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=git_env(), bufsize=0
        )
    except FileNotFoundError:
        raise RepositoryError("git is not installed or not on PATH") from None
    # A bigger pipe lets git run ahead while Python digests a chunk (Linux; else the default).
    with contextlib.suppress(OSError, AttributeError, ImportError):
        import fcntl

        fcntl.fcntl(proc.stdout.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    return proc


def stop_log(proc: subprocess.Popen | None) -> None:
    """Stop a git process whose output is not wanted after all."""
    if proc is not None:
        proc.kill()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        proc.wait()


def tty_progress(
    label: str, unit: str = "commits", total: int | None = None
) -> Callable[[int], None] | None:
    """A progress callback that redraws one stderr line ("scorer: reading 12,000 commits…",
    "scorer: blaming 120 of 2,107 files…"), or None when stderr is not a TTY."""
    if not sys.stderr.isatty():
        return None
    last = [0.0]
    of = "" if total is None else f" of {total:,}"

    def show(n: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.1:  # a few redraws a second, not one per chunk
            return
        last[0] = now
        units = unit[:-1] if n == 1 and not of and unit.endswith("s") else unit  # "1 commit"
        sys.stderr.write(f"\r{label} {n:,}{of} {units}…")
        sys.stderr.flush()

    return show


def clear_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
