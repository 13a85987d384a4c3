"""METRIC.md section 9: each of these, added to a repository, leaves the score unchanged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import T0
from scenario import ANN, BOB, CLAUDE, Scenario, ai_msg, hours

NOW = T0 + timedelta(days=40)
D = timedelta(days=1)

GAMES = [
    "none",
    "empty_ai_commits",
    "whitespace_ai_commits",
    "unshipped_ai_commits",
    "more_ai_in_counted_deploy",
    "reverted_ai_change",
    "rolled_back_deploy",
    "pending_deploy",
    "failed_deploy",
    "ai_change_and_ai_revert",
    "blank_line_ai_commit",
    "rename_ai_commit",
    "mode_ai_commit",
    "new_author_trivial_commit",
]


def build(repo, tmp_path, game: str) -> dict:
    sc = Scenario(repo, tmp_path)
    r = repo
    r.write({"app.py": "def main():\n    return 1\n"})
    base = r.commit("Initial\n", when=T0, author=ANN)
    sc.deploy(base, T0 + hours(1))
    # The honest baseline: two AI deploys that survive, one human deploy, two people.
    a = r.commit(ai_msg("Add search"), when=T0 + 6 * D, author=ANN)
    if game == "more_ai_in_counted_deploy":
        for i in range(5):
            r.commit(ai_msg(f"More AI {i}"), when=T0 + 6 * D + hours(i + 1), author=ANN)
    if game == "empty_ai_commits":
        for i in range(5):
            r.commit(ai_msg(f"Nothing {i}"), when=T0 + 6 * D + hours(i + 1), author=ANN, empty=True)
    sc.deploy(
        a if game not in ("more_ai_in_counted_deploy", "empty_ai_commits") else r.head(), T0 + 7 * D
    )
    h = r.commit("Human fix\n", when=T0 + 9 * D, author=BOB)
    sc.deploy(h, T0 + 10 * D)
    if game == "whitespace_ai_commits":
        r.commit(
            ai_msg("Reformat"),
            when=T0 + 11 * D,
            author=BOB,
            files={"app.py": "def main():\n        return   1\n"},
        )
        sc.deploy(r.head(), T0 + 11 * D + hours(2))
    if game == "reverted_ai_change":
        x = r.commit(ai_msg("Gamed"), when=T0 + 11 * D, author=BOB)
        sc.deploy(x, T0 + 11 * D + hours(2))
        r.revert(x, when=T0 + 12 * D, author=BOB)
        sc.deploy(r.head(), T0 + 12 * D + hours(1))
    if game == "rolled_back_deploy":
        current = r.head()
        r.branch("experiment")
        r.checkout("experiment")
        x = r.commit(ai_msg("Experiment"), when=T0 + 11 * D, author=BOB)
        r.checkout("main")
        sc.deploy(x, T0 + 11 * D + hours(2))
        sc.deploy(current, T0 + 12 * D)
    if game == "failed_deploy":
        r.branch("broken")
        r.checkout("broken")
        x = r.commit(ai_msg("Broken build"), when=T0 + 11 * D, author=BOB)
        r.checkout("main")
        sc.deploy(x, T0 + 11 * D + hours(2), status="failure")
    if game == "ai_change_and_ai_revert":
        x = r.commit(ai_msg("Churn"), when=T0 + 11 * D, author=BOB)
        r.git("revert", "--no-edit", "--no-commit", x)
        r.commit(
            ai_msg(f'Revert "Churn"\n\nThis reverts commit {x}.'),
            when=T0 + 11 * D + hours(1),
            author=BOB,
            files={},
        )
        sc.deploy(r.head(), T0 + 11 * D + hours(2))
    if game == "blank_line_ai_commit":
        r.commit(
            ai_msg("Spacing"),
            when=T0 + 11 * D,
            author=BOB,
            files={"app.py": "\ndef main():\n\n    return 1\n\n"},
        )
        sc.deploy(r.head(), T0 + 11 * D + hours(2))
    if game == "rename_ai_commit":
        r.git("mv", "app.py", "main.py")
        r.commit(ai_msg("Rename"), when=T0 + 11 * D, author=BOB, files={})
        sc.deploy(r.head(), T0 + 11 * D + hours(2))
    if game == "mode_ai_commit":
        (r.path / "app.py").chmod(0o755)
        r.git("add", "app.py")
        r.commit(ai_msg("Make executable"), when=T0 + 11 * D, author=BOB, files={})
        sc.deploy(r.head(), T0 + 11 * D + hours(2))
    if game == "new_author_trivial_commit":
        # a new person's only commit, in a week nobody else was active: trivial, so no
        # developer-week is added
        r.commit("Nothing\n", when=T0 + 22 * D, author=("Dee New", "dee@example.com"), empty=True)
    b = r.commit(ai_msg("Add export"), when=T0 + 14 * D, author=BOB)
    sc.deploy(b, T0 + 15 * D)
    if game == "unshipped_ai_commits":
        # In a week its author is active anyway: AI trailers on work that never ships (v2
        # counts activity per developer-week, so new weeks of any work lower the rate).
        for i in range(5):
            r.commit(ai_msg(f"Never shipped {i}"), when=T0 + 14 * D + hours(i + 1), author=BOB)
    if game == "pending_deploy":
        x = r.commit(ai_msg("Brand new"), when=T0 + 36 * D, author=ANN)
        sc.deploy(x, T0 + 37 * D)
    return sc.scan(NOW)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    from gitbuild import GitRepo

    tmp = tmp_path_factory.mktemp("baseline")
    return build(GitRepo(tmp / "repo"), tmp, "none")


def test_baseline(baseline):
    m = baseline["metric"]
    assert (m["ai_deploys_survived"], m["deploys_survived"], m["contributors"]) == (2, 3, 2)
    # v2: Ann and Bob in the first week, Bob in the second: 3 developer-weeks (v1: 2 / 2 / 4)
    assert m["developer_weeks"] == 3.0
    assert m["normalized_deployments"] == 0.666667


@pytest.mark.parametrize("game", GAMES[1:])
def test_gaming_leaves_the_score_unchanged(repo, tmp_path, baseline, game):
    report = build(repo, tmp_path, game)
    assert (
        report["metric"]["normalized_deployments"] == baseline["metric"]["normalized_deployments"]
    )
    assert report["metric"]["ai_deploys_survived"] == baseline["metric"]["ai_deploys_survived"]


def test_trivial_burst_is_a_signal(repo, tmp_path):
    report = build(repo, tmp_path, "empty_ai_commits")
    kinds = [s["kind"] for s in report["signals"]]
    assert kinds.count("trivial-ai-burst") == 1
    assert report["metric"]["ai_changes_by_outcome"]["trivial"] == 5


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
