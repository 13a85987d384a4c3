"""Temp files that a killed run (kill -9 mid-write) left in the cache directory are removed
by the next run when their writer is gone or they are old; a live writer's are kept (issue
13, case 12)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from gitbuild import GitRepo

from scorer.cli import main

NOW = "2026-10-01T00:00:00Z"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_next_run_sweeps_a_dead_writers_temp_files(tmp_path, capsys):
    r = GitRepo(tmp_path / "repo")
    r.commit("Initial", when="2026-09-01T12:00:00+0000")
    cache = tmp_path / "cache"
    args = ["scan", str(r.path), "--now", NOW, "--cache", str(cache), "--quiet"]
    assert main(args) == 0
    dead = _dead_pid()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        planted = {
            f".scorer-commits.cache.{dead}.0a1b2c3d": True,  # before util.atomic: no .tmp
            f".scorer-state.cache.{dead}.deadbeef.tmp": True,
            f".scorer-commits.cache.{live.pid}.00ff00ff.tmp": False,  # a live writer's
            f".scorer-sources.cache.{live.pid}.11223344.tmp": True,  # live PID, but an hour old
            ".scorer-commits.cache.keep": False,  # not a temp file name
            "notes.txt": False,
        }
        for name in planted:
            (cache / name).write_bytes(b"x" * 1000)
        hour_ago = time.time() - 3600
        os.utime(cache / f".scorer-sources.cache.{live.pid}.11223344.tmp", (hour_ago, hour_ago))
        assert main(args) == 0
        left = {p.name for p in cache.iterdir()}
    finally:
        live.kill()
        live.wait()
    assert {name for name, swept in planted.items() if not swept} <= left
    assert {name for name, swept in planted.items() if swept} & left == set()
    assert "Traceback" not in capsys.readouterr().err
