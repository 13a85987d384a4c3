"""Child processes (git), started with ``os.posix_spawnp``: the few ``subprocess`` calls
scorer makes, without importing ``subprocess``.

Importing ``subprocess`` (with ``locale``, ``signal``, ``selectors`` and ``select``) costs
every run ~3 ms; a per-merge run takes ~55 ms, most of it start-up, so that is 5% of it.
What scorer asks of a child is small: run git with an environment, pipe some of its
streams, read them, wait for it, or kill it. ``posix_spawnp`` does that in one call (glibc:
a vfork-like clone, as ``subprocess`` uses) and reports a missing program as
``FileNotFoundError``, as ``subprocess`` does.

The child's streams are the parent's unless asked otherwise (``PIPE``, ``DEVNULL``); every
other descriptor is closed in it, as ``subprocess``'s ``close_fds`` does: Python opens its
own non-inheritable, and before the first child starts, the ones this process inherited
itself (a CI runner's) are made so too. SIGPIPE is reset to its default (Python ignores
it, and a child would inherit that), as ``subprocess`` does. Where ``posix_spawnp`` does
not exist, ``subprocess`` does the work.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Mapping, Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

PIPE = -1
DEVNULL = -3
# signal.SIGPIPE and signal.SIGKILL on Linux, macOS and the BSDs (tests/test_proc.py checks
# them against the signal module, which costs ~0.5 ms to import)
SIGPIPE = 13
SIGKILL = 9
# Children whose Popen was dropped before they were waited for: reaped when the next child
# starts, as subprocess does, so that a long-lived caller (a test run) collects no zombies.
_unreaped: list[int] = []


class Completed:
    """What ``capture`` returns (``subprocess.CompletedProcess``'s fields that scorer reads)."""

    __slots__ = ("args", "returncode", "stderr", "stdout")

    def __init__(self, args: Sequence[str], returncode: int, stdout, stderr):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class Popen:
    """A started child: ``stdin``/``stdout``/``stderr`` are file objects for the streams
    given as ``PIPE`` (binary; text with ``text=True``), else None."""

    _sealed = False  # inherited descriptors made non-inheritable (once per process)

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        stdin: int | None = None,
        stdout: int | None = None,
        stderr: int | None = None,
        text: bool = False,
        bufsize: int = -1,
    ):
        _reap()
        if not Popen._sealed:
            _seal_inherited()
            Popen._sealed = True
        self.args = list(args)
        self.returncode: int | None = None
        self.stdin: IO | None = None
        self.stdout: IO | None = None
        self.stderr: IO | None = None
        actions: list[tuple] = []
        child_ends: list[int] = []
        mine: dict[int, int] = {}  # stream number -> the parent's end of its pipe
        try:
            for number, how in ((0, stdin), (1, stdout), (2, stderr)):
                if how == PIPE:
                    r, w = os.pipe()
                    child, parent = (r, w) if number == 0 else (w, r)
                    child_ends.append(child)
                    mine[number] = parent
                    actions.append((os.POSIX_SPAWN_DUP2, child, number))
                elif how == DEVNULL:
                    flags = os.O_RDONLY if number == 0 else os.O_WRONLY
                    actions.append((os.POSIX_SPAWN_OPEN, number, os.devnull, flags, 0))
                elif how is not None:
                    raise ValueError(f"unsupported stream setting {how!r}")
            self.pid = os.posix_spawnp(
                self.args[0], self.args, dict(env), file_actions=actions, setsigdef=(SIGPIPE,)
            )
        except BaseException:
            for fd in (*child_ends, *mine.values()):
                os.close(fd)
            raise
        for fd in child_ends:
            os.close(fd)
        for number, fd in mine.items():
            mode = "wb" if number == 0 else "rb"
            stream = open(fd, mode, buffering=bufsize)  # noqa: SIM115 (closed by the caller)
            if text:
                stream = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape")
            setattr(self, ("stdin", "stdout", "stderr")[number], stream)

    def __del__(self) -> None:
        if self.returncode is None and hasattr(self, "pid") and self.poll() is None:
            _unreaped.append(self.pid)

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(self.pid, SIGKILL)

    def communicate(self, input: bytes | str | None = None):
        """Write ``input`` (then close stdin), read stdout and stderr to the end, wait:
        ``(stdout, stderr)``, None for a stream that is not a pipe. A thread drains stderr
        and another writes stdin, so that no full pipe can stall git or this process."""
        threads = []
        errors: list = []
        if self.stdin is not None:

            def feed() -> None:
                try:
                    if input:
                        self.stdin.write(input)  # type: ignore[union-attr]
                    self.stdin.close()  # type: ignore[union-attr]
                except (BrokenPipeError, ValueError, OSError):
                    pass  # git exited early: its status says why

            threads.append(threading.Thread(target=feed, daemon=True))
        if self.stderr is not None:

            def drain() -> None:
                errors.append(self.stderr.read())  # type: ignore[union-attr]
                self.stderr.close()  # type: ignore[union-attr]

            threads.append(threading.Thread(target=drain, daemon=True))
        for t in threads:
            t.start()
        out = None
        if self.stdout is not None:
            out = self.stdout.read()
            self.stdout.close()
        for t in threads:
            t.join()
        self.wait()
        return out, (errors[0] if errors else None)


def capture(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    input: bytes | None = None,
    text: bool = False,
    stdout: int | None = PIPE,
    stderr: int | None = PIPE,
) -> Completed:
    """Run to the end with stdout and stderr captured (``subprocess.run(capture_output=True,
    check=False)``)."""
    proc = Popen(
        args,
        env=env,
        stdin=PIPE if input is not None else None,
        stdout=stdout,
        stderr=stderr,
        text=text,
    )
    out, err = proc.communicate(input)
    return Completed(proc.args, proc.returncode, out, err)  # type: ignore[arg-type]


def _seal_inherited() -> None:
    """Make the descriptors above 2 that this process inherited non-inheritable, so that no
    child gets them (a child holding a pipe's write end open delays its reader's EOF)."""
    for path in ("/proc/self/fd", "/dev/fd"):
        try:
            fds = [int(name) for name in os.listdir(path)]
        except (OSError, ValueError):
            continue
        for fd in fds:
            if fd > 2:
                with contextlib.suppress(OSError):  # the listing's own, closed by now
                    os.set_inheritable(fd, False)
        return


def _reap() -> None:
    for pid in list(_unreaped):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done == pid:
            _unreaped.remove(pid)


if not hasattr(os, "posix_spawnp"):  # pragma: no cover - Windows: subprocess does it all
    import subprocess as _subprocess

    PIPE, DEVNULL = _subprocess.PIPE, _subprocess.DEVNULL
    _TEXT = {"encoding": "utf-8", "errors": "surrogateescape"}

    class Popen(_subprocess.Popen):  # type: ignore[no-redef]
        def __init__(self, args, *, env, text=False, **kw):
            super().__init__(args, env=env, text=text, **kw, **(_TEXT if text else {}))

    def capture(args, *, env, input=None, text=False, stdout=PIPE, stderr=PIPE):  # type: ignore[no-redef]
        kw = _TEXT if text else {}
        done = _subprocess.run(
            args, env=env, input=input, stdout=stdout, stderr=stderr, check=False, **kw
        )
        return Completed(done.args, done.returncode, done.stdout, done.stderr)
