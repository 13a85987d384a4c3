"""A snapshot missing some objects (a fetched archive without its large files) cannot give a
patch-id for every change: those changes fall back to ancestry, with one line on stderr, and
the scan goes on (seen on cline/cline's snapshot: 'unable to read <blob>' aborted the scan)."""

from __future__ import annotations

from datetime import timedelta

from conftest import T0
from scenario import ANN, ai_msg

from scorer.pipeline import ScanOptions, run_scan

D = timedelta(days=1)


def _outcomes_with_a_blob_missing(repo, path: str) -> dict[str, str]:
    """x fixes a.txt on main (deployed as v1); the release branch cherry-picks it, then y
    writes ``path`` (deployed as v1.1), and y's blob is deleted from the object store."""
    base = repo.commit("base\n", when=T0, author=ANN, files={"a.txt": "a\n"})
    x = repo.commit(ai_msg("fix"), when=T0 + D, author=ANN, files={"a.txt": "fixed\n"})
    repo.tag("v1", when=T0 + D + timedelta(hours=1), message="v1")
    repo.branch("release", base)
    repo.checkout("release")
    repo.git("cherry-pick", x, env={"GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@x",
                                    "GIT_COMMITTER_DATE": "2026-09-03T12:00:00+0000"})  # fmt: skip
    y = repo.commit("other\n", when=T0 + 2 * D, author=ANN, files={path: "big file\n"})
    repo.tag("v1.1", when=T0 + 2 * D + timedelta(hours=1), message="v1.1")
    repo.checkout("main")
    blob = repo.git("rev-parse", f"{y}:{path}")
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    result = run_scan(
        ScanOptions(path=repo.path, deploys=["tags:v*"], now=T0 + 20 * D, progress=False)
    )
    return {d["id"]: d["outcome"] for d in result.report["deploys"]}


def test_a_missing_blob_is_one_line_and_ancestry(repo, capsys):
    # y changes the same path as x: a possible equivalent, whose patch-id git must compute.
    # x's twin on the release branch cannot be told apart without y's patch: ancestry says
    # v1.1 does not contain v1
    assert _outcomes_with_a_blob_missing(repo, "a.txt") == {
        "v1": "rolled_back",
        "v1.1": "survived",
    }
    err = capsys.readouterr().err
    assert "whose objects git cannot read; containment falls back to ancestry for them" in err


def test_a_missing_blob_in_a_change_of_other_paths_asks_nothing_of_it(repo, capsys):
    """A change of R that touches other paths than D's change cannot be its equivalent: its
    patch-id is not computed, so its missing blob does not matter (the cherry-pick is found)."""
    assert _outcomes_with_a_blob_missing(repo, "b.txt") == {"v1": "survived", "v1.1": "survived"}
    assert "containment falls back" not in capsys.readouterr().err
