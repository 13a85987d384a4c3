"""A cache that cannot be written (a path that cannot be a directory, a full disk) or read:
the scan goes on without it, says so in one line, and prints the same report (issue 13,
case 5)."""

from __future__ import annotations

from gitbuild import GitRepo
from hostile_run import scorer_child

CLAUDE = "Co-authored-by: Claude <noreply@anthropic.com>"
NOW = "2026-10-01T00:00:00Z"


def _repo(tmp_path) -> GitRepo:
    r = GitRepo(tmp_path / "repo")
    r.commit("Initial", when="2026-09-01T12:00:00+0000")
    for n in range(30):
        r.commit(f"Change {n}\n\n{CLAUDE}\n", when=f"2026-09-{2 + n % 20:02d}T12:00:00+0000")
    r.tag("v1", when="2026-09-25T12:00:00+0000")
    return r


def _scan(r: GitRepo, *extra: str, fsize: int | None = None):
    return scorer_child("scan", str(r.path), "--now", NOW, *extra, fsize=fsize)


def test_a_cache_path_that_cannot_be_a_directory(tmp_path):
    r = _repo(tmp_path)
    plain = _scan(r)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    run = _scan(r, "--cache", str(blocker / "cache"))
    assert run.returncode == 0, run.stderr
    assert run.stdout == plain.stdout
    assert run.stderr.splitlines() == [
        "scorer: cache not used: cannot read "
        f"{blocker}/cache/scorer-state.cache: Not a directory; scanning the whole history",
        f"scorer: cache not saved: cannot write {blocker}/cache: Not a directory; the report "
        "is complete without it",
    ]


def test_a_full_disk_under_the_cache(tmp_path):
    r = _repo(tmp_path)
    plain = _scan(r)
    cache = tmp_path / "cache"
    run = _scan(r, "--cache", str(cache), fsize=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout == plain.stdout
    assert run.stderr.splitlines() == [
        f"scorer: cache not saved: cannot write {cache}: File too large; the report is "
        "complete without it",
    ]
    assert [p.name for p in cache.iterdir() if p.name.endswith(".tmp")] == []  # no temp left
    again = _scan(r, "--cache", str(cache))  # the disk has room again: the cache works
    assert again.returncode == 0 and again.stdout == plain.stdout
    assert "Traceback" not in again.stderr
