"""scorer.proc: child processes started with os.posix_spawnp, without the subprocess module.

Real processes (sh, cat, git): what they print, their exit status, pipes that fill up on both
streams at once, a missing program, a killed child, SIGPIPE, inherited descriptors, zombies.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from scorer import proc
from scorer.proc import DEVNULL, PIPE, Popen, capture

ENV = dict(os.environ)
pytestmark = pytest.mark.skipif(not hasattr(os, "posix_spawnp"), reason="POSIX only")


def test_signal_numbers_are_the_signal_modules():
    assert (proc.SIGPIPE, proc.SIGKILL) == (signal.SIGPIPE, signal.SIGKILL)


def test_capture_returns_both_streams_and_the_status():
    done = capture(["sh", "-c", "printf out; printf err >&2; exit 3"], env=ENV)
    assert (done.returncode, done.stdout, done.stderr) == (3, b"out", b"err")
    done = capture(["sh", "-c", "printf 'caf\\303\\251 \\377'"], env=ENV, text=True)
    assert done.stdout == "café \udcff"  # UTF-8, undecodable bytes kept as surrogates


def test_capture_feeds_input_and_never_deadlocks_on_full_pipes():
    # 1 MiB in, 1 MiB back on stdout and 256 KiB on stderr at the same time: each pipe
    # holds 64 KiB, so this only ends if input, stdout and stderr are all served together.
    data = os.urandom(1 << 20)
    script = "cat; head -c 262144 /dev/zero >&2"
    done = capture(["sh", "-c", script], env=ENV, input=data)
    assert done.returncode == 0
    assert done.stdout == data and done.stderr == b"\0" * 262144


def test_environment_is_the_one_given():
    done = capture(
        ["sh", "-c", 'printf %s "$SCORER_PROC_TEST"'], env={**ENV, "SCORER_PROC_TEST": "x"}
    )
    assert done.stdout == b"x"
    done = capture(["sh", "-c", 'printf %s "${SCORER_PROC_TEST-unset}"'], env=ENV)
    assert done.stdout == b"unset"


def test_a_missing_program_is_file_not_found():
    with pytest.raises(FileNotFoundError):
        capture(["scorer-no-such-program-xyz"], env=ENV)


def test_devnull_and_inherited_streams():
    done = capture(["sh", "-c", "printf gone; printf kept >&2"], env=ENV, stdout=DEVNULL)
    assert (done.stdout, done.stderr) == (None, b"kept")
    child = Popen(["sh", "-c", "read x; exit 7"], env=ENV, stdin=DEVNULL)  # EOF at once
    assert child.stdout is None and child.wait() == 7 and child.poll() == 7


def test_kill_and_the_status_of_a_killed_child():
    child = Popen(["sleep", "30"], env=ENV, stdout=PIPE)
    assert child.poll() is None
    child.kill()
    assert child.wait() == -signal.SIGKILL
    child.stdout.close()
    child.kill()  # already reaped: nothing to do


def test_the_child_dies_of_sigpipe_as_with_subprocess():
    # Python ignores SIGPIPE; a child must not inherit that (subprocess resets it): `yes`
    # writing to a pipe nobody reads any more is then ended by the signal, not an error.
    child = Popen(["yes"], env=ENV, stdout=PIPE)
    child.stdout.read(4096)
    child.stdout.close()
    assert child.wait() == -signal.SIGPIPE


def test_the_child_inherits_no_other_descriptor(tmp_path):
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc")
    kept = open(tmp_path / "held.txt", "w")  # noqa: SIM115 - open while the child starts
    try:
        done = capture(["sh", "-c", "ls /proc/$$/fd"], env=ENV)
    finally:
        kept.close()
    assert sorted(int(fd) for fd in done.stdout.split()) == [0, 1, 2]


def test_text_streams_and_communicate():
    child = Popen(["cat"], env=ENV, stdin=PIPE, stdout=PIPE, text=True)
    out, err = child.communicate("é\n")
    assert (out, err, child.returncode) == ("é\n", None, 0)


def test_a_dropped_child_is_reaped_by_the_next_start():
    child = Popen(["sh", "-c", "sleep 0.2"], env=ENV)
    pid = child.pid
    del child  # still running: remembered, not waited for here
    assert pid in proc._unreaped
    time.sleep(0.4)  # it has exited, and stays a zombie until someone waits for it
    capture(["true"], env=ENV)  # starting another child reaps it
    assert pid not in proc._unreaped
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_git_through_scorer_proc(tmp_path):
    done = capture(["git", "-C", str(tmp_path), "rev-parse", "--is-inside-work-tree"], env=ENV)
    assert done.returncode != 0 and b"not a git repository" in done.stderr.lower()
    done = capture([sys.executable, "-c", "import sys; sys.exit(0)"], env=ENV)
    assert done.returncode == 0 and done.stdout == b""
