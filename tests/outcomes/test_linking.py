"""Linking and rollbacks (METRIC.md sections 4 and 5) on hard graphs: octopus and
criss-cross merges, a rollback to older code and redeploys, two interleaved environments,
deploys at equal times. Each expected number is worked out by hand in the comments next to it.

now = T0 + 40d, window 7d: the headline period is [T0 + 5d, T0 + 33d), 4 weeks, and every
deploy in it is judged.
"""

from __future__ import annotations

from datetime import timedelta

from conftest import T0
from scenario import ANN, BOB, ai_msg, hours
from scenario import git_env as _env
from scenario import shipped as _shipped

NOW = T0 + timedelta(days=40)
D = timedelta(days=1)


def _rows(report: dict) -> dict[str, dict]:
    return {d["id"]: d for d in report["deploys"]}


def test_octopus_merge_deploy_ships_every_branch(sc):
    r = sc.repo
    for b in ("a", "b", "c"):
        r.branch(b, sc.base)
        r.checkout(b)
        r.commit(ai_msg(f"On {b}"), when=T0 + 6 * D, author=BOB)
    r.checkout("main")
    r.commit("On main\n", when=T0 + 6 * D + hours(1), author=ANN)
    env = _env(T0 + 7 * D, ("Mia Merger", "mia@example.com"))
    r.git("merge", "-q", "--no-ff", "--no-edit", "a", "b", "c", env=env)
    m = r.head()
    assert len(r.git("rev-list", "--parents", "-n1", m).split()) == 5  # an octopus
    sc.deploy(m, T0 + 8 * D, ident="oct")
    rep = sc.scan(NOW)
    # shipped = rev-list oct ^base minus the merge = 3 branch changes + 1 main change
    row = _rows(rep)["oct"]
    assert (row["shipped_changes"], row["ai_changes"], row["counted_ai_changes"]) == (4, 3, 3)
    m_ = rep["metric"]
    # one deploy, however many AI changes; contributors ann + bob (mia only merged) = 2
    assert (m_["ai_deploys_survived"], m_["contributors"]) == (1, 2)
    # v2: two people, each active in one week: 2 developer-weeks (v1: 1 / 2 / 4 = 0.125)
    assert m_["normalized_deployments"] == 0.5
    assert rep["history"]["commits"] == 6 and rep["history"]["changes"] == 5


def test_criss_cross_merges(sc):
    """Two merges with the same changes but neither an ancestor of the other. v1 (ancestry)
    read the later one as rolling the earlier one back; v2 (section 5: R contains D when every
    change D runs is reachable from R, or has a same-patch twin there) sees m1 run every change
    of m2: nothing was rolled back."""
    r = sc.repo
    a1 = r.commit(ai_msg("a1"), when=T0 + 6 * D, author=ANN)
    r.branch("side", sc.base)
    r.checkout("side")
    b1 = r.commit("b1\n", when=T0 + 6 * D + hours(1), author=BOB)
    r.checkout("main")
    m1 = r.merge("side", when=T0 + 7 * D)  # a1 + b1
    r.checkout("side")
    r.git("merge", "-q", "--no-ff", "--no-edit", a1, env=_env(T0 + 7 * D))
    m2 = r.head()  # b1 + a1: criss-cross with m1
    r.checkout("main")
    assert set(r.git("merge-base", "--all", m1, m2).split()) == {a1, b1}  # two merge bases
    sc.deploy(m2, T0 + 8 * D, ident="m2")  # ships a1, b1
    sc.deploy(m1, T0 + 9 * D, ident="m1")  # rev-list m1 ^m2 = {m1}: a merge, no change
    r.checkout("side")
    b2 = r.commit(ai_msg("b2"), when=T0 + 10 * D, author=BOB)
    r.checkout("main")
    r.commit("a2\n", when=T0 + 10 * D + hours(1), author=ANN)
    m3 = r.merge("side", when=T0 + 11 * D)
    sc.deploy(m3, T0 + 12 * D, ident="m3")  # rev-list m3 ^m1 = {m3, b2, a2, m2}: 2 changes
    rep = sc.scan(NOW)
    assert _shipped(rep) == {"m2": 2, "m1": 0, "m3": 2}
    # m2 is not an ancestor of m1, but m1 runs a1 and b1 (rev-list m2 ^m1 = {m2}: a merge, no
    # change): m1 contains m2, and every deploy survives
    assert sc.outcomes(rep) == {"m2": "survived", "m1": "survived", "m3": "survived"}
    assert "rolled_back_by" not in _rows(rep)["m2"]
    status = {row["sha"]: row["status"] for row in rep["ai_changes"]}
    assert status == {a1: "counted", b2: "counted"}
    assert rep["metric"]["ai_deploys_survived"] == 2


def test_rollback_to_older_code_then_redeploys(sc):
    x = sc.repo.commit(ai_msg("Feature"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 8 * D, ident="v2")
    sc.deploy(sc.base, T0 + 9 * D, ident="back")  # ancestor of the previous deploy
    sc.deploy(sc.base, T0 + 10 * D, ident="back-again")  # code production already runs
    sc.deploy(x, T0 + 11 * D, ident="v2-again")  # P = back-again = base: ships x again
    rep = sc.scan(NOW)
    assert _shipped(rep) == {"v2": 1, "back": 0, "back-again": 0, "v2-again": 1}
    assert sc.outcomes(rep) == {
        "v2": "rolled_back",  # back (9d) runs base, which does not contain x
        "back": "survived",  # back-again = base, v2-again = x: both contain base
        "back-again": "survived",
        "v2-again": "survived",
    }
    (row,) = rep["ai_changes"]
    assert (row["status"], row["first_deploy"]) == ("counted", "v2")  # first deploy: v2
    m = rep["metric"]
    assert (m["deploys_survived"], m["ai_deploys_survived"]) == (3, 1)
    # restore: v2 (8d) -> back (9d) = 24 h; v2 is the only AI deploy judged bad of 2 AI ones
    assert rep["dora"]["ai"]["time_to_restore_hours_median"] == 24.0
    assert rep["dora"]["ai"]["change_failure_rate"] == 0.5


def test_two_environments_interleaved(sc):
    r = sc.repo
    sc.deploy(sc.base, T0 + hours(1), environment="staging", ident="s0")
    x = r.commit(ai_msg("Feature"), when=T0 + 6 * D, author=ANN)
    y = r.commit("Human\n", when=T0 + 9 * D, author=BOB)
    sc.deploy(x, T0 + 7 * D, environment="staging", ident="s1")
    sc.deploy(x, T0 + 8 * D, ident="p1")
    sc.deploy(sc.base, T0 + 8 * D + hours(1), environment="staging", ident="s2")
    sc.deploy(y, T0 + 10 * D, ident="p2")
    # a revert 7d + 1h after staging's deploy of x, but inside production's window (8d + 7d)
    r.revert(x, when=T0 + 14 * D + hours(1), author=BOB)
    both = sc.scan(NOW, environments=["production", "staging"])
    assert sc.outcomes(both) == {
        "p1": "survived",
        "p2": "survived",
        "s1": "rolled_back",  # staging only: s2 runs base
        "s2": "survived",
    }
    # staging's P is staging's own last deploy: s1 ships x, s2 ships nothing; p1 ships x
    assert _shipped(both) == {"p1": 1, "p2": 1, "s1": 1, "s2": 0}
    # x's first deploy is s1 (7d): the revert at 14d + 1h is outside 7d + 7d -> not reverted
    assert both["history"]["reverted_ai_changes"] == 0
    # survived in the period: p1, s2, p2 = 3; with a counted change: p1 = 1
    assert (both["metric"]["deploys_survived"], both["metric"]["ai_deploys_survived"]) == (3, 1)
    # production alone: x's first deploy is p1 (8d), 14d + 1h <= 15d -> reverted
    prod = sc.scan(NOW)
    assert prod["history"]["reverted_ai_changes"] == 1
    assert (prod["metric"]["deploys_survived"], prod["metric"]["ai_deploys_survived"]) == (2, 0)


def test_equal_time_deploy_of_an_ancestor_lets_a_later_deploy_reship(sc):
    r = sc.repo
    x = r.commit("x\n", when=T0 + 6 * D, author=ANN)
    y = r.commit(ai_msg("y"), when=T0 + 6 * D + hours(1), author=ANN)
    sc.deploy(y, T0 + 8 * D, ident="D1")  # ships x, y
    sc.deploy(x, T0 + 8 * D, ident="D2")  # same instant, later in the log: P = D1; ships nothing
    z = r.commit("z\n", when=T0 + 9 * D, author=BOB)
    sc.deploy(z, T0 + 10 * D, ident="D3")  # P = D2 = x: ships y and z
    rep = sc.scan(NOW)
    assert _shipped(rep) == {"D1": 2, "D2": 0, "D3": 2}
    # D2 is not *later* than D1 (equal times), so D1 is not rolled back; D3 contains y
    assert set(sc.outcomes(rep).values()) == {"survived"}
    # y counts, and both D1 and D3 shipped it: 2 AI deploys survived of 3 in the period
    m = rep["metric"]
    assert (m["deploys_survived"], m["ai_deploys_survived"]) == (3, 2)
    (row,) = rep["ai_changes"]
    assert (row["sha"], row["first_deploy"]) == (y, "D1")
