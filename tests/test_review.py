"""Review of METRIC.md against the code on hard cases: every expected number is worked out by
hand from METRIC.md in the comments next to it.

Unless a test says otherwise: now = T0 + 40d, window 7d, so the headline period is
[T0 + 5d, T0 + 33d), 4 weeks, and every deploy in it is judged.

The bugs this review found (time to restore at equal times, reverted merges counted as
reverted changes, an AI change plus its AI revert raising the score) are fixed; their tests
stay here as regressions.
"""

from __future__ import annotations

import contextlib
import io
import json
from datetime import timedelta

import pytest
from conftest import T0
from scenario import ANN, BOB, CLAUDE, ai_msg, hours

from scorer.cli import main
from scorer.util.times import iso

NOW = T0 + timedelta(days=40)
D = timedelta(days=1)
W = timedelta(days=7)
CARA = ("Cara Diaz", "cara@example.com")


def _env(when, person=ANN) -> dict[str, str]:
    """Author and committer for a raw ``git`` call (merge, revert -m, octopus)."""
    return {
        "GIT_AUTHOR_NAME": person[0],
        "GIT_AUTHOR_EMAIL": person[1],
        "GIT_COMMITTER_NAME": person[0],
        "GIT_COMMITTER_EMAIL": person[1],
        "GIT_AUTHOR_DATE": iso(when),
        "GIT_COMMITTER_DATE": iso(when),
    }


def _rows(report: dict) -> dict[str, dict]:
    return {d["id"]: d for d in report["deploys"]}


def _shipped(report: dict) -> dict[str, int]:
    return {d["id"]: d["shipped_changes"] for d in report["deploys"]}


# --- section 8: DORA by hand ------------------------------------------------------------------


def test_dora_split_by_hand(sc):
    r = sc.repo
    a = r.commit(ai_msg("A"), when=T0 + 6 * D, author=ANN)
    sc.deploy(a, T0 + 7 * D, ident="A1")
    h = r.commit("Human\n", when=T0 + 8 * D, author=BOB)
    sc.deploy(h, T0 + 10 * D, ident="H1")
    r.branch("exp")
    r.checkout("exp")
    x = r.commit(ai_msg("Experiment"), when=T0 + 11 * D, author=ANN)
    r.checkout("main")
    sc.deploy(x, T0 + 12 * D, ident="X")  # ships x (P = H1 = h)
    sc.deploy(h, T0 + 13 * D, ident="R")  # rolls X back; h is an ancestor of x: ships nothing
    y = r.commit(ai_msg("Y"), when=T0 + 14 * D, author=BOB)
    sc.deploy(y, T0 + 15 * D, status="failure", ident="F")  # would have shipped y
    sc.deploy(y, T0 + 16 * D, ident="Y")  # ships y (P = R = h; F is never P)
    r.merge("exp", when=T0 + 17 * D)  # so that x is in the scanned history (not a change)
    rep = sc.scan(NOW)
    # (the report lists the deploys from the period's start: d0 is before it)
    assert sc.outcomes(rep) == {
        "A1": "survived",  # H1, X, R all contain a within 7d
        "H1": "survived",  # X, R, Y contain h
        "X": "rolled_back",  # R (13d) runs h, which does not contain x
        "R": "survived",  # Y contains h
        "F": "failed",
        "Y": "survived",  # nothing later; now >= 16d + 7d
    }
    assert _shipped(rep) == {"A1": 1, "H1": 1, "X": 1, "R": 0, "F": 0, "Y": 1}
    ai, non_ai = rep["dora"]["ai"], rep["dora"]["non_ai"]
    # AI group = deploys whose changes include an AI change: A1 [a], X [x], F [y attempted], Y [y]
    # successful: A1, X, Y = 3 -> 3 / 4 weeks = 0.75 per week
    # lead: a 7d-6d = 24h (A1), x 12d-11d = 24h (X), y 16d-14d = 48h (Y) -> median 24h
    # CFR: (F failed + X rolled back) / 4 judged = 0.5
    # restore: X 12d -> R 13d = 24h; F 15d -> Y 16d = 24h -> median 24h
    assert ai == {
        "deploys": 4,
        "successful_deploys": 3,
        "deployment_frequency_per_week": 0.75,
        "lead_time_hours_median": 24.0,
        "change_failure_rate": 0.5,
        "failed_or_rolled_back": 2,
        "judged_deploys": 4,
        "time_to_restore_hours_median": 24.0,
    }
    # non-AI group: H1 [h], R [] -> 2 successful -> 0.5 per week; lead h 10d-8d = 48h;
    # CFR 0 / 2; nothing to restore. (d0 is before the period.)
    assert non_ai == {
        "deploys": 2,
        "successful_deploys": 2,
        "deployment_frequency_per_week": 0.5,
        "lead_time_hours_median": 48.0,
        "change_failure_rate": 0.0,
        "failed_or_rolled_back": 0,
        "judged_deploys": 2,
        "time_to_restore_hours_median": None,
    }
    m = rep["metric"]
    # survived in period: A1, H1, R, Y = 4; with a counted change: A1 (a), Y (y) = 2;
    # contributors: ann (a, x), bob (h, y) = 2; ND = 2 / 2 / 4 = 0.25; 4 / 2 / 4 = 0.5
    assert (m["deploys_survived"], m["ai_deploys_survived"], m["contributors"]) == (4, 2, 2)
    assert m["normalized_deployments"] == 0.25
    assert m["deploys_survived_per_dev_week"] == 0.5
    assert m["ai_share_of_survived_deploys"] == 0.5


@pytest.mark.parametrize("failed_first", [True, False])
def test_time_to_restore_respects_source_order_at_equal_times(sc, failed_first):
    x = sc.repo.commit(ai_msg("x"), when=T0 + 6 * D, author=ANN)
    if failed_first:
        sc.deploy(x, T0 + 7 * D, status="failure", ident="f")
        sc.deploy(x, T0 + 7 * D, ident="s")
    else:
        sc.deploy(x, T0 + 7 * D, ident="s")
        sc.deploy(x, T0 + 7 * D, status="failure", ident="f")
    y = sc.repo.commit(ai_msg("y"), when=T0 + 8 * D, author=ANN)
    sc.deploy(y, T0 + 9 * D, ident="s2")
    rep = sc.scan(NOW)
    assert sc.outcomes(rep) == {"f": "failed", "s": "survived", "s2": "survived"}
    # Section 3: events of one environment are ordered by time, then by source order.
    # failed_first: the next survived deploy after f is s (same instant): restore 0 h.
    #   (the code says 48 h: s2 at 9d - 7d)
    # otherwise: s comes before f, so the next survived deploy after f is s2: 9d - 7d = 48 h.
    #   f then redeploys the code s already runs: it would have shipped nothing, so the DORA
    #   split files it with the deploys without AI changes.
    if failed_first:
        assert rep["dora"]["ai"]["time_to_restore_hours_median"] == 0.0
    else:
        assert rep["dora"]["non_ai"]["time_to_restore_hours_median"] == 48.0
        assert rep["dora"]["ai"]["time_to_restore_hours_median"] is None


# --- sections 4 and 5: linking and rollbacks on hard graphs ---------------------------------


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
    assert m_["normalized_deployments"] == 0.125  # 1 / 2 / 4
    assert rep["history"]["commits"] == 6 and rep["history"]["changes"] == 5


def test_criss_cross_merges(sc):
    """Two merges with the same changes but neither an ancestor of the other: by section 5's
    definition (ancestry, not content) the later one rolls the earlier one back."""
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
    # m2 is not an ancestor of m1 -> m2 rolled back by m1 (9d <= 8d + 7d); m1 and m3 survive
    assert sc.outcomes(rep) == {
        "m2": "rolled_back",
        "m1": "survived",
        "m3": "survived",
    }
    assert _rows(rep)["m2"]["rolled_back_by"] == "m1"
    # a1 was shipped only by the rolled-back m2: it never counts; b2 counts via m3
    status = {row["sha"]: row["status"] for row in rep["ai_changes"]}
    assert status == {a1: "rolled_back", b2: "counted"}
    assert rep["metric"]["ai_deploys_survived"] == 1


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


# --- section 6: reverts -----------------------------------------------------------------------


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


def test_ai_change_and_its_ai_revert_do_not_move_the_score(sc):
    h = sc.repo.commit("Human work\n", when=T0 + 6 * D, author=BOB)
    sc.deploy(h, T0 + 6 * D + hours(2), ident="h")
    x = sc.repo.commit(ai_msg("Gamed"), when=T0 + 7 * D, author=ANN)
    sc.repo.git("revert", "--no-edit", "--no-commit", x)
    sc.repo.commit(
        f'Revert "Gamed"\n\nThis reverts commit {x}.\n\n{CLAUDE}\n',
        when=T0 + 7 * D + hours(1),
        author=ANN,
        files={},
    )
    sc.deploy(sc.repo.head(), T0 + 8 * D, ident="both")
    rep = sc.scan(NOW)
    # Without x and its revert: no AI change at all, ai_deploys_survived = 0, ND = 0.
    # Section 9: AI-assisted changes reverted inside the window leave ND unchanged -> 0.
    # The code counts the revert commit itself (AI trailer, substantive, survived): 1.
    assert rep["history"]["reverted_ai_changes"] == 1
    assert rep["metric"]["ai_deploys_survived"] == 0


# --- sections 2 and 7: people and the period -------------------------------------------------


def test_contributors_use_author_time_and_ignore_merge_authors(sc):
    r = sc.repo
    r.branch("topic")
    r.checkout("topic")
    r.commit("Topic\n", when=T0 + 6 * D, author=ANN)
    r.checkout("main")
    r.merge("topic", when=T0 + 7 * D, author=("Mia Merger", "mia@example.com"))
    # authored in the period, committed after it: in
    r.commit("Late commit\n", when=T0 + 30 * D, commit_time=T0 + 35 * D, author=BOB)
    # authored before the period, committed inside it: out
    r.commit("Old work\n", when=T0 + 4 * D, commit_time=T0 + 6 * D, author=CARA)
    # authored exactly at `until` (exclusive): out
    r.commit("At until\n", when=T0 + 33 * D, author=("Dan", "dan@example.com"))
    rep = sc.scan(NOW)
    assert rep["metric"]["contributors"] == 2  # ann (Topic), bob (Late commit)
    assert rep["period"]["changes"] == 2


def test_aider_author_and_agent_committer(sc):
    r = sc.repo
    a = r.commit("aider: add parser\n", when=T0 + 6 * D, author=("Cara Diaz (aider)", CARA[1]))
    sc.deploy(a, T0 + 7 * D, ident="aider")
    c = r.commit(
        "Plain message\n",
        when=T0 + 8 * D,
        author=BOB,
        committer=("claude[bot]", "209825114+claude[bot]@users.noreply.github.com"),
    )
    sc.deploy(c, T0 + 9 * D, ident="committer")
    rep = sc.scan(NOW)
    # aider: identity (high) + subject (medium); the person driving aider is a contributor.
    # committer claude[bot]: v2, a committer alone is no evidence (no shipped agent has
    # `committer: true`); bob stays the (human) author of an ordinary change.
    assert rep["metric"]["contributors"] == 2  # cara, bob (ann's base is before the period)
    assert rep["metric"]["ai_deploys_survived"] == 1
    assert rep["metric"]["normalized_deployments"] == 0.125  # 1 / 2 / 4
    kinds = {row["sha"]: sorted({e["kind"] for e in row["evidence"]}) for row in rep["ai_changes"]}
    assert kinds == {a: ["footer", "identity"]}
    assert c not in kinds
    # --min-confidence high keeps aider's (identity is high)
    assert sc.scan(NOW, min_confidence="high")["metric"]["ai_deploys_survived"] == 1


def test_unicode_people_and_binary_junk_messages(sc):
    import hashlib

    r = sc.repo
    x = r.commit(
        b"junk \xff\xfe\x80 subject \xe4\xb8\xad\n\nbody \xc3\x28 \x01\x02\n\n"
        + CLAUDE.encode()
        + b"\n",
        when=T0 + 6 * D,
        author=("Zoë 中文", "ZOE@Example.COM"),
    )
    sc.deploy(x, T0 + 7 * D, ident="d")
    rep = sc.scan(NOW)
    assert rep["metric"]["ai_deploys_survived"] == 1
    assert rep["contributors_hashed"] == [hashlib.sha256(b"zoe@example.com").hexdigest()]
    (row,) = rep["ai_changes"]
    assert row["subject"].startswith("junk ") and row["subject"].endswith("subject 中")


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("content", ["", "failures"])
def test_empty_log_and_failures_only_log(repo, tmp_path, content):
    x = repo.commit(ai_msg("x"), when=T0 + 6 * D, author=ANN)
    log = tmp_path / "deploys.jsonl"
    lines = []
    if content == "failures":
        for k, status in enumerate(("failure", "error")):
            when = iso(T0 + 7 * D + hours(k))
            lines.append(json.dumps({"sha": x[:8], "time": when, "status": status}) + "\n")
    log.write_text("".join(lines))
    for fmt in ("text", "markdown"):
        code, out, err = _cli(
            "scan", str(repo.path), "--deploys", f"log:{log}", "--now", iso(NOW), "--format", fmt
        )
        assert code == 0, err
    code, out, err = _cli(
        "scan", str(repo.path), "--deploys", f"log:{log}", "--now", iso(NOW), "--format", "json"
    )
    rep = json.loads(out)
    m = rep["metric"]
    assert (m["normalized_deployments"], m["ai_deploys_survived"], m["contributors"]) == (0, 0, 1)
    assert m["why_zero"] == "no deploy in the period survived its rollback window"
    if content == "failures":
        assert m["deploys_by_outcome"]["failed"] == 2
        assert rep["dora"]["ai"]["change_failure_rate"] == 1.0  # 2 failed / 2 judged
        assert rep["dora"]["ai"]["successful_deploys"] == 0
    else:
        assert rep["history"]["deploys"] == 0


def test_until_only_override_is_28_days(sc):
    x = sc.repo.commit(ai_msg("x"), when=T0 + 20 * D, author=ANN)
    sc.deploy(x, T0 + 21 * D, ident="d")
    rep = sc.scan(NOW, until=T0 + 30 * D)
    # [30d - 28d, 30d) = [2d, 30d): 4 weeks, judged (30d <= 40d - 7d)
    assert (rep["period"]["since"], rep["period"]["until"]) == (iso(T0 + 2 * D), iso(T0 + 30 * D))
    assert rep["period"]["partial"] is False
    assert rep["metric"]["normalized_deployments"] == 0.25  # 1 / 1 / 4
    rep = sc.scan(NOW, until=T0 + 38 * D)  # reaches past now - window = 33d
    assert rep["period"]["partial"] is True


# --- the incremental cache --------------------------------------------------------------------


def test_cache_equals_cold_scan_as_history_tags_and_log_change(repo, tmp_path):
    cache_dir, log = tmp_path / "cache", tmp_path / "deploys.jsonl"
    deploys: list[dict] = []
    now = iso(NOW)

    def dep(sha: str, when, **kw) -> None:
        deploys.append({"sha": sha, "time": iso(when), **kw})

    def both(*extra: str) -> dict:
        log.write_text("".join(json.dumps(d) + "\n" for d in deploys))
        args = ["scan", str(repo.path), "--format", "json", "--now", now, "--window", "7d"]
        args += ["--deploys", f"log:{log}", "--deploys", "tags:v*", *extra]
        code, plain, err = _cli(*args)
        assert code == 0, err
        code, warm, err = _cli(*args, "--cache", str(cache_dir))
        assert code == 0 and err == "", err
        p, w = json.loads(plain), json.loads(warm)
        p.pop("generated_at")
        w.pop("generated_at")
        assert w == p
        return p

    base = repo.commit("Initial\n", when=T0, author=ANN)
    a = repo.commit(ai_msg("a"), when=T0 + 6 * D, author=ANN)
    dep(base, T0 + hours(1))
    dep(a[:10], T0 + 7 * D)
    both()
    # criss-cross merges, an octopus, a revert chain, tags and a rollback to older code
    repo.branch("side", base)
    repo.checkout("side")
    repo.commit(ai_msg("b"), when=T0 + 8 * D, author=BOB)
    repo.checkout("main")
    m1 = repo.merge("side", when=T0 + 9 * D)
    repo.checkout("side")
    repo.git("merge", "-q", "--no-ff", "--no-edit", a, env=_env(T0 + 9 * D))
    repo.checkout("main")
    y = repo.revert(a, when=T0 + 10 * D, author=BOB)
    z = repo.revert(y, when=T0 + 10 * D + hours(1), author=BOB)
    repo.tag("v1", m1, when=T0 + 9 * D + hours(2))
    dep(m1, T0 + 9 * D + hours(1))
    dep(base, T0 + 9 * D + hours(3))  # rollback to older code
    dep(z, T0 + 11 * D, status="failure")
    r1 = both()
    assert r1["history"]["reverted_changes"] == 1  # y (by z); a stands
    for n, br in enumerate(("o1", "o2")):
        repo.branch(br, z)
        repo.checkout(br)
        repo.commit(ai_msg(br), when=T0 + 12 * D + hours(n), author=CARA)
    repo.checkout("main")
    repo.commit("Main\n", when=T0 + 12 * D + hours(3), author=ANN)
    repo.git(
        "merge", "-q", "--no-ff", "--no-edit", "o1", "o2", "side",
        env=_env(T0 + 13 * D),
    )  # fmt: skip
    repo.revert(z, when=T0 + 13 * D + hours(1), author=CARA)
    repo.tag("v2", when=T0 + 14 * D)
    dep(repo.head(), T0 + 14 * D + hours(1), environment="staging")
    both()
    both("--environment", "production", "--environment", "staging", "--min-confidence", "high")
    deploys.pop(2)  # the deploy log is rewritten: one deploy gone
    both("--since", iso(T0 + 6 * D))
