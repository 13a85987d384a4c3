"""Reverts (METRIC.md section 6) on hard cases: chains of reverts of reverts, a revert
naming an abbreviated SHA, a change reverted before it was deployed, a reverted merge. Each
expected number is worked out by hand in the comments next to it.

now = T0 + 40d, window 7d: the headline period is [T0 + 5d, T0 + 33d), 4 weeks. Reverted
merges were once counted as reverted changes; that test stays as a regression.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import T0
from scenario import ANN, BOB, ai_msg, hours
from scenario import git_env as _env
from scenario import shipped as _shipped

NOW = T0 + timedelta(days=40)
D = timedelta(days=1)


@pytest.mark.parametrize(
    ("depth", "reverted", "reverted_ai", "ai_deploys"),
    [
        # x <- y <- z <- w: w stands, so z is reverted and does not count, so y counts: x
        # is reverted. Reverted changes: x (by y), z (by w).
        (3, 2, 1, 0),
        # x <- y <- z <- w <- v: v stands, w is reverted, z counts, y is reverted, x stands.
        # Reverted changes: w (by v), y (by z).
        (4, 2, 0, 1),
    ],
)
def test_reverts_of_reverts_of_reverts(sc, depth, reverted, reverted_ai, ai_deploys):
    x = sc.repo.commit(ai_msg("Change"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 7 * D, ident="d")
    target = x
    for k in range(depth):  # never deployed: any time before now counts
        target = sc.repo.revert(target, when=T0 + 8 * D + hours(k), author=BOB)
    rep = sc.scan(NOW)
    assert rep["history"]["reverted_changes"] == reverted
    assert rep["history"]["reverted_ai_changes"] == reverted_ai
    assert rep["metric"]["ai_deploys_survived"] == ai_deploys


def test_revert_naming_an_abbreviated_sha(sc):
    x = sc.repo.commit(ai_msg("Change"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 7 * D, ident="d")
    sc.repo.commit(
        f"Undo it\n\nThis reverts commit {x[:9].upper()}.\n",
        when=T0 + 8 * D,
        author=BOB,
        files={"src/other.txt": "undo\n"},
    )
    sc.repo.commit(  # names no commit of the history: ignored
        "Undo something else\n\nThis reverts commit 0000000deadbeef.\n",
        when=T0 + 8 * D + hours(1),
        author=BOB,
    )
    rep = sc.scan(NOW)
    assert rep["history"]["reverted_changes"] == 1
    assert rep["metric"]["ai_deploys_survived"] == 0


def test_change_reverted_before_it_was_deployed_then_shipped(sc):
    x = sc.repo.commit(ai_msg("Change"), when=T0 + 6 * D, author=ANN)
    y = sc.repo.revert(x, when=T0 + 6 * D + hours(1), author=BOB)
    sc.deploy(y, T0 + 7 * D, ident="d")  # ships x and its revert together
    rep = sc.scan(NOW)
    # x's first deploy is d (7d); y (6d + 1h) is before 7d + 7d -> reverted
    assert _shipped(rep)["d"] == 2
    assert rep["history"]["reverted_ai_changes"] == 1
    assert (rep["metric"]["deploys_survived"], rep["metric"]["ai_deploys_survived"]) == (1, 0)


def test_reverted_merge_is_not_a_reverted_change(sc):
    r = sc.repo
    r.branch("topic")
    r.checkout("topic")
    r.commit("Topic\n", when=T0 + 6 * D, author=BOB)
    r.checkout("main")
    r.commit("Main\n", when=T0 + 6 * D + hours(1), author=ANN)
    m = r.merge("topic", when=T0 + 7 * D)
    r.git(
        "revert",
        "-m",
        "1",
        "--no-edit",
        m,
        env=_env(T0 + 8 * D),
    )
    rep = sc.scan(NOW)
    # Changes: Initial, Topic, Main, the revert = 4; none of them is named by a revert.
    assert rep["history"]["changes"] == 4
    assert rep["history"]["reverted_changes"] == 0  # actual: 1 (the merge)
