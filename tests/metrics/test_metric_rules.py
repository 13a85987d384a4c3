"""Every rule of METRIC.md, each on a real repository with a deploy log and a fixed `now`.

now = T0 + 40d, window 7d: the headline period is [T0 + 5d, T0 + 33d), 4 weeks.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import T0
from scenario import ANN, BOB, ai_msg, hours
from scenario import run_cli as _cli

from scorer.util.times import iso

NOW = T0 + timedelta(days=40)
D = timedelta(days=1)
W = timedelta(days=7)


def test_period_is_the_four_judged_weeks(sc):
    r = sc.scan(NOW)
    assert r["period"]["since"] == iso(T0 + 5 * D)
    assert r["period"]["until"] == iso(T0 + 33 * D)
    assert r["period"]["weeks"] == 4.0
    assert r["period"]["partial"] is False


def test_one_ai_deploy_survives(sc):
    x = sc.repo.commit(ai_msg("Add login"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 6 * D + hours(1), ident="d1")
    r = sc.scan(NOW)
    m = r["metric"]
    assert (m["ai_deploys_survived"], m["deploys_survived"], m["contributors"]) == (1, 1, 1)
    # v2: one person active in one week of the period: 1 developer-week (v1: 1 / 1 / 4 weeks)
    assert m["developer_weeks"] == 1.0
    assert m["normalized_deployments"] == 1.0
    assert m["deploys_survived_per_dev_week"] == 1.0
    assert m["ai_share_of_survived_deploys"] == 1.0
    assert r["metric"]["ai_changes_by_outcome"]["counted"] == 1
    assert r["agents"] == {
        "claude-code": {"changes": 1, "counted_changes": 1, "deploys_survived": 1}
    }
    (row,) = r["ai_changes"]
    assert (row["sha"], row["status"], row["first_deploy"]) == (x, "counted", "d1")


def test_rollback_v1_v2_v1(sc):
    x = sc.repo.commit(ai_msg("Risky"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 10 * D, ident="v2")
    sc.deploy(sc.base, T0 + 11 * D, ident="back-to-v1")
    r = sc.scan(NOW)
    assert sc.outcomes(r) == {"v2": "rolled_back", "back-to-v1": "survived"}
    assert r["metric"]["ai_deploys_survived"] == 0
    assert r["metric"]["deploys_survived"] == 1
    assert [d.get("rolled_back_by") for d in r["deploys"]] == ["back-to-v1", None]


def test_rollback_v1_v2_v3_v1_rolls_back_both(sc):
    v2 = sc.repo.commit(ai_msg("Two"), when=T0 + 6 * D, author=ANN)
    v3 = sc.repo.commit(ai_msg("Three"), when=T0 + 7 * D, author=ANN)
    sc.deploy(v2, T0 + 8 * D, ident="v2")
    sc.deploy(v3, T0 + 9 * D, ident="v3")
    sc.deploy(sc.base, T0 + 10 * D, ident="v1")
    r = sc.scan(NOW)
    assert sc.outcomes(r) == {"v2": "rolled_back", "v3": "rolled_back", "v1": "survived"}
    assert r["metric"]["ai_deploys_survived"] == 0


def test_reshipped_after_rollback_counts_once_it_survives(sc):
    x = sc.repo.commit(ai_msg("Feature"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 8 * D, ident="first")
    sc.deploy(sc.base, T0 + 9 * D, ident="rollback")
    y = sc.repo.commit("Fix the feature\n", when=T0 + 10 * D, author=ANN)
    sc.deploy(y, T0 + 11 * D, ident="again")
    r = sc.scan(NOW)
    assert sc.outcomes(r) == {"first": "rolled_back", "rollback": "survived", "again": "survived"}
    again = next(d for d in r["deploys"] if d["id"] == "again")
    assert (again["shipped_changes"], again["counted_ai_changes"]) == (2, 1)
    assert r["metric"]["ai_deploys_survived"] == 1
    (row,) = r["ai_changes"]
    assert row["first_deploy"] == "first"


def test_hotfix_from_another_branch_rolls_back(sc):
    x = sc.repo.commit(ai_msg("Main work"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 8 * D, ident="main")
    sc.repo.branch("hotfix", sc.base)
    sc.repo.checkout("hotfix")
    h = sc.repo.commit("Hotfix\n", when=T0 + 9 * D, author=BOB)
    sc.repo.checkout("main")
    sc.repo.merge("hotfix", when=T0 + 12 * D)
    sc.deploy(h, T0 + 9 * D + hours(1), ident="hotfix")
    r = sc.scan(NOW)
    assert sc.outcomes(r)["main"] == "rolled_back"
    assert sc.outcomes(r)["hotfix"] == "survived"


@pytest.mark.parametrize(
    ("after", "outcome"), [(W, "rolled_back"), (W + timedelta(seconds=1), "survived")]
)
def test_rollback_window_edge_is_inclusive(sc, after, outcome):
    x = sc.repo.commit(ai_msg("Edge"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 8 * D, ident="d")
    sc.deploy(sc.base, T0 + 8 * D + after, ident="r")
    assert sc.outcomes(sc.scan(NOW))["d"] == outcome


def test_equal_times_are_not_later(sc):
    x = sc.repo.commit(ai_msg("Same second"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 8 * D, ident="d")
    sc.deploy(sc.base, T0 + 8 * D, ident="same-time")
    r = sc.scan(NOW)
    assert sc.outcomes(r)["d"] == "survived"


@pytest.mark.parametrize(
    ("age", "outcome"), [(W - timedelta(seconds=1), "pending"), (W, "survived")]
)
def test_pending_until_the_window_closes(sc, age, outcome):
    x = sc.repo.commit(ai_msg("New"), when=T0 + 20 * D, author=ANN)
    sc.deploy(x, T0 + 21 * D, ident="d")
    r = sc.scan(T0 + 21 * D + age)
    assert sc.outcomes(r)["d"] == outcome


def test_failed_deploy_ships_nothing_and_is_never_previous(sc):
    x = sc.repo.commit(ai_msg("Try"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 7 * D, status="failure", ident="fail")
    sc.deploy(x, T0 + 7 * D + hours(2), status="error", ident="err")
    sc.deploy(x, T0 + 8 * D, ident="ok")
    r = sc.scan(NOW)
    assert sc.outcomes(r) == {"fail": "failed", "err": "failed", "ok": "survived"}
    rows = {d["id"]: d["shipped_changes"] for d in r["deploys"]}
    assert rows == {"fail": 0, "err": 0, "ok": 1}
    assert r["metric"]["ai_deploys_survived"] == 1
    assert r["dora"]["ai"]["change_failure_rate"] == pytest.approx(2 / 3, abs=1e-6)


def test_redeploy_of_running_code_ships_nothing(sc):
    x = sc.repo.commit(ai_msg("Once"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 7 * D, ident="a")
    sc.deploy(x, T0 + 9 * D, ident="b")
    r = sc.scan(NOW)
    assert {d["id"]: d["shipped_changes"] for d in r["deploys"]} == {"a": 1, "b": 0}
    assert r["metric"]["ai_deploys_survived"] == 1
    assert r["metric"]["deploys_survived"] == 2


@pytest.mark.parametrize(
    ("delay", "reverted"), [(3 * D, True), (W, True), (W + timedelta(seconds=1), False)]
)
def test_revert_inside_the_window(sc, delay, reverted):
    x = sc.repo.commit(ai_msg("Change"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 7 * D, ident="d")
    sc.repo.revert(x, when=T0 + 7 * D + delay, author=BOB)
    r = sc.scan(NOW)
    assert r["history"]["reverted_ai_changes"] == (1 if reverted else 0)
    assert r["metric"]["ai_deploys_survived"] == (0 if reverted else 1)


def test_revert_of_unshipped_change_counts_any_time(sc):
    x = sc.repo.commit(ai_msg("Never shipped"), when=T0 + 6 * D, author=ANN)
    sc.repo.revert(x, when=T0 + 30 * D, author=ANN)
    r = sc.scan(NOW)
    assert r["history"]["reverted_ai_changes"] == 1
    assert any(s["kind"] == "ai-self-revert" for s in r["signals"])


def test_reverted_revert_does_not_count(sc):
    x = sc.repo.commit(ai_msg("Change"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 7 * D, ident="d")
    y = sc.repo.revert(x, when=T0 + 8 * D, author=BOB)
    sc.repo.revert(y, when=T0 + 8 * D + hours(1), author=BOB)
    r = sc.scan(NOW)
    assert r["history"]["reverted_ai_changes"] == 0
    assert r["metric"]["ai_deploys_survived"] == 1


def test_trivial_changes_do_not_count(sc, tmp_path):
    (tmp_path / "cfg.yml").write_text("exclude_paths: ['docs/**', '*.lock']\n")
    sc.repo.write({"app.py": "def f():\n    return 1\n"})
    sc.repo.commit("Add app\n", when=T0 + 5 * D + hours(1), author=ANN)
    e = sc.repo.commit(ai_msg("Empty"), when=T0 + 6 * D, author=ANN, empty=True)
    w = sc.repo.commit(
        ai_msg("Whitespace"),
        when=T0 + 6 * D + hours(1),
        author=ANN,
        files={"app.py": "def f():\n        return   1\n"},
    )
    x = sc.repo.commit(
        ai_msg("Docs only"),
        when=T0 + 6 * D + hours(2),
        author=ANN,
        files={"docs/a.md": "hi\n", "deps/x.lock": "1\n"},
    )
    sc.deploy(x, T0 + 7 * D, ident="d")
    r = sc.scan(NOW, config=tmp_path / "cfg.yml")
    statuses = {row["sha"]: row["status"] for row in r["ai_changes"]}
    assert statuses == {e: "trivial", w: "trivial", x: "trivial"}
    assert r["metric"]["ai_changes_by_outcome"]["trivial"] == 3
    assert r["metric"]["ai_deploys_survived"] == 0
    assert r["metric"]["deploys_survived"] == 1


def test_binary_and_new_files_are_substantive(sc):
    x = sc.repo.commit(
        ai_msg("Logo"), when=T0 + 6 * D, author=ANN, files={"logo.png": b"\x89PNG\x00\x01"}
    )
    sc.deploy(x, T0 + 7 * D, ident="d")
    assert sc.scan(NOW)["ai_changes"][0]["status"] == "counted"


def test_merge_commits_are_not_changes(sc):
    sc.repo.branch("topic")
    sc.repo.checkout("topic")
    sc.repo.commit("Human change\n", when=T0 + 6 * D, author=BOB)
    sc.repo.checkout("main")
    sc.repo.commit("Other\n", when=T0 + 6 * D + hours(1), author=ANN)
    m = sc.repo.merge("topic", when=T0 + 7 * D, message=ai_msg("Merge topic"), author=ANN)
    sc.deploy(m, T0 + 8 * D, ident="d")
    r = sc.scan(NOW)
    assert r["history"]["changes"] == 3 and r["history"]["commits"] == 4
    assert r["history"]["ai_changes"] == 0
    assert r["deploys"][-1]["shipped_changes"] == 2


def test_contributors_mailmap_bots_agents_and_aider(sc):
    sc.repo.write({".mailmap": "Ann Lee <ann@example.com> <ann@old.example>\n"})
    sc.repo.commit("Mailmap\n", when=T0 + 6 * D, author=ANN)
    sc.repo.commit("Old address\n", when=T0 + 6 * D, author=("ann", "ANN@old.example"))
    sc.repo.commit(
        "Bump\n",
        when=T0 + 7 * D,
        author=("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
    )
    sc.repo.commit(
        "Agent work\n",
        when=T0 + 7 * D,
        author=("copilot-swe-agent[bot]", "198982749+Copilot@users.noreply.github.com"),
    )
    sc.repo.commit("aider: tweak\n", when=T0 + 8 * D, author=("Cara (aider)", "cara@example.com"))
    sc.repo.commit("Before the period\n", when=T0 + 4 * D, author=("Old", "old@example.com"))
    r = sc.scan(NOW)
    assert r["metric"]["contributors"] == 2  # ann, cara
    import hashlib

    assert r["contributors_hashed"] == sorted(
        hashlib.sha256(e.encode()).hexdigest() for e in ("ann@example.com", "cara@example.com")
    )


def test_period_edges(sc):
    x = sc.repo.commit(ai_msg("At since"), when=T0 + 5 * D, author=ANN)
    sc.deploy(x, T0 + 5 * D, ident="at-since")
    y = sc.repo.commit(ai_msg("At until"), when=T0 + 32 * D, author=ANN)
    sc.deploy(y, T0 + 33 * D, ident="at-until")
    r = sc.scan(NOW)
    assert r["metric"]["deploys_survived"] == 1
    assert r["metric"]["ai_deploys_survived"] == 1
    assert [d["id"] for d in r["deploys"]] == ["at-since", "at-until"]


def test_since_until_override_and_partial(sc):
    x = sc.repo.commit(ai_msg("x"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 7 * D, ident="d")
    r = sc.scan(NOW, since=T0 + 6 * D, until=T0 + 40 * D)
    assert r["period"]["partial"] is True
    assert r["period"]["weeks"] == pytest.approx(34 / 7, abs=1e-6)


def test_other_environments_and_future_deploys_are_ignored(sc):
    x = sc.repo.commit(ai_msg("x"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 7 * D, environment="staging", ident="s")
    sc.deploy(x, NOW + D, ident="future")
    r = sc.scan(NOW)
    assert r["history"]["deploys_ignored"] == {"after_now": 1, "other_environment": 1}
    assert r["metric"]["ai_deploys_survived"] == 0
    r = sc.scan(NOW, environments=["staging"])
    assert r["metric"]["ai_deploys_survived"] == 1


def test_deploy_of_unknown_commit_is_reported_not_fatal(sc):
    sc.deploy("f" * 40, T0 + 7 * D, ident="ghost")
    r = sc.scan(NOW)
    assert r["history"]["deploys_not_in_history"] == 1
    assert r["history"]["deploys_not_in_history_sample"][0]["id"] == "ghost"
    assert any(s["kind"] == "deploys-not-in-history" for s in r["signals"])


def test_no_contributors_scores_zero_with_a_reason(sc):
    r = sc.scan(NOW)
    assert r["metric"]["normalized_deployments"] == 0.0
    # v2: one line per cause, each saying what to change
    newest = (T0).date().isoformat()
    assert r["metric"]["why_zero"] == [
        {
            "kind": "no-changes",
            "detail": f"no change was authored in the period; the newest change is from "
            f"{newest}, 40 days before now; try --now 2026-09-09T00:00:00Z",
        },
        {"kind": "no-deploys-in-period", "detail": "no deploy in the period"},
    ]


def test_min_confidence_high_drops_medium_evidence(sc):
    x = sc.repo.commit(
        "Add thing\n\nCo-authored-by: Claude <noreply@anthropic.com>\n\nMore text after.\n",
        when=T0 + 6 * D,
        author=ANN,
    )
    sc.deploy(x, T0 + 7 * D, ident="d")
    assert sc.scan(NOW)["metric"]["ai_deploys_survived"] == 1
    r = sc.scan(NOW, min_confidence="high")
    assert r["metric"]["ai_deploys_survived"] == 0
    assert r["history"]["ai_changes"] == 0 and r["history"]["ai_changes_high"] == 0


def test_since_alone_ends_the_period_one_window_before_now(sc):
    r = sc.scan(NOW, since=T0 + 10 * D)
    assert (r["period"]["since"], r["period"]["until"]) == (iso(T0 + 10 * D), iso(T0 + 33 * D))
    r = sc.scan(NOW, since=T0 + 38 * D)  # after now - window: one day, partial
    assert (r["period"]["until"], r["period"]["partial"]) == (iso(T0 + 39 * D), True)


def test_same_second_tags_are_ordered_by_name(sc):
    x = sc.repo.commit(ai_msg("x"), when=T0 + 6 * D, author=ANN)
    sc.repo.tag("v2", x, when=T0 + 7 * D)
    sc.repo.tag("v1", sc.base, when=T0 + 7 * D)
    from scorer.pipeline import ScanOptions, run_scan

    r = run_scan(
        ScanOptions(path=sc.repo.path, deploys=["tags:v*"], now=NOW, progress=False)
    ).report
    # v1 first (by name) ships the root, then v2 ships x; the other order would be (2, 0)
    assert [(d["id"], d["shipped_changes"]) for d in r["deploys"]] == [("v1", 1), ("v2", 1)]


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
    if content == "failures":
        assert m["why_zero"] == [
            {
                "kind": "none-survived",
                "detail": "no deploy in the period survived its rollback window",
            }
        ]
        assert m["deploys_by_outcome"]["failed"] == 2
        assert rep["dora"]["ai"]["change_failure_rate"] == 1.0  # 2 failed / 2 judged
        assert rep["dora"]["ai"]["successful_deploys"] == 0
    else:
        assert rep["history"]["deploys"] == 0
        assert [c["kind"] for c in m["why_zero"]] == ["no-deploys"]


def test_until_only_override_is_28_days(sc):
    x = sc.repo.commit(ai_msg("x"), when=T0 + 20 * D, author=ANN)
    sc.deploy(x, T0 + 21 * D, ident="d")
    rep = sc.scan(NOW, until=T0 + 30 * D)
    # [30d - 28d, 30d) = [2d, 30d): 4 weeks, judged (30d <= 40d - 7d)
    assert (rep["period"]["since"], rep["period"]["until"]) == (iso(T0 + 2 * D), iso(T0 + 30 * D))
    assert rep["period"]["partial"] is False
    assert rep["metric"]["normalized_deployments"] == 1.0  # 1 / 1 developer-week (v1: 1 / 1 / 4)
    rep = sc.scan(NOW, until=T0 + 38 * D)  # reaches past now - window = 33d
    assert rep["period"]["partial"] is True
