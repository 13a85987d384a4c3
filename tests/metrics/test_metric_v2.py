"""METRIC.md v2, rule by rule, on real repositories (deploy log or tags, fixed `now`).

now = T0 + 40d, window 7d: the period is [T0 + 5d, T0 + 33d), four 7-day buckets from T0 + 5d.
"""

from __future__ import annotations

from datetime import timedelta

from conftest import T0
from scenario import ANN, BOB, CLAUDE, ai_msg, hours

from scorer.pipeline import ScanOptions, run_scan

NOW = T0 + timedelta(days=40)
D = timedelta(days=1)
CARA = ("Cara Diaz", "cara@example.com")


def _scan_tags(repo, deploys: str, now=NOW) -> dict:
    return run_scan(ScanOptions(path=repo.path, deploys=[deploys], now=now, progress=False)).report


# --- section 7: developer-weeks --------------------------------------------------------------


def test_developer_weeks_count_people_in_the_weeks_they_were_active(sc):
    """Ann in weeks 1 and 2, Bob in week 1, a one-commit author in week 4: 4 developer-weeks
    (v1 would divide by 3 contributors x 4 weeks = 12)."""
    r = sc.repo
    a = r.commit(ai_msg("Search"), when=T0 + 6 * D, author=ANN)
    sc.deploy(a, T0 + 6 * D + hours(2), ident="a")
    b = r.commit("Fix\n", when=T0 + 7 * D, author=BOB)
    sc.deploy(b, T0 + 7 * D + hours(2), ident="b")
    c = r.commit(ai_msg("Export"), when=T0 + 13 * D, author=ANN)
    sc.deploy(c, T0 + 13 * D + hours(2), ident="c")
    d = r.commit("Typo fix in docs\n", when=T0 + 27 * D, author=CARA)
    sc.deploy(d, T0 + 27 * D + hours(2), ident="d")
    report = sc.scan(NOW)
    m = report["metric"]
    assert (m["contributors"], m["developer_weeks"], m["ai_deploys_survived"]) == (3, 4.0, 2)
    assert m["normalized_deployments"] == 0.5
    assert m["deploys_survived_per_dev_week"] == 1.0
    weeks = report["weeks"][-4:]
    assert [(w["contributors"], w["ai_deploys_survived"]) for w in weeks] == [
        (2, 1),
        (1, 1),
        (0, 0),
        (1, 0),
    ]
    assert [w["normalized_deployments"] for w in weeks] == [0.5, 1.0, 0.0, 0.0]


def test_headline_is_the_developer_weeks_weighted_mean_of_the_weeks(sc):
    r = sc.repo
    for k, (who, ai) in enumerate([(ANN, True), (BOB, False), (ANN, True), (BOB, True)]):
        for j in range(k + 1):  # more people-weeks as the weeks go on
            author = (f"Dev {j}", f"dev{j}@example.com") if j else who
            x = r.commit(
                ai_msg(f"w{k}c{j}") if ai else f"w{k}c{j}\n",
                when=T0 + 5 * D + k * 7 * D + hours(j + 1),
                author=author,
            )
        sc.deploy(x, T0 + 5 * D + k * 7 * D + hours(12), ident=f"w{k}")
    report = sc.scan(NOW)
    weeks = report["weeks"][-4:]
    dw = [w["developer_weeks"] for w in weeks]
    assert dw == [1.0, 2.0, 3.0, 4.0]
    mean = sum(w["normalized_deployments"] * w["developer_weeks"] for w in weeks) / sum(dw)
    assert report["metric"]["normalized_deployments"] == round(mean, 6) == 0.3


def test_a_trivial_commit_by_a_new_author_does_not_lower_the_score(sc):
    r = sc.repo
    a = r.commit(ai_msg("Search"), when=T0 + 6 * D, author=ANN)
    sc.deploy(a, T0 + 6 * D + hours(2), ident="a")
    before = sc.scan(NOW)["metric"]
    r.commit("Whitespace\n", when=T0 + 20 * D, author=CARA, files={"src/file1.txt": "change 1  \n"})
    r.commit("Empty\n", when=T0 + 21 * D, author=CARA, empty=True)
    after = sc.scan(NOW)["metric"]
    assert (after["contributors"], after["developer_weeks"]) == (1, 1.0)
    assert after["normalized_deployments"] == before["normalized_deployments"] == 1.0


def test_a_partial_last_bucket_counts_by_its_share(repo, tmp_path):
    from scenario import Scenario

    sc = Scenario(repo, tmp_path)
    a = repo.commit(ai_msg("One"), when=T0 + 9 * D, author=ANN)
    sc.deploy(a, T0 + 9 * D + hours(1), ident="a")
    # a 10-day period: buckets of 7 and 3 days; Ann active in both
    repo.commit(ai_msg("Two"), when=T0 + 14 * D, author=ANN)
    report = sc.scan(NOW, since=T0 + 5 * D, until=T0 + 15 * D)
    m = report["metric"]
    assert m["developer_weeks"] == round(1 + 3 / 7, 6)
    assert [w["days"] for w in report["weeks"]] == [7.0, 3.0]  # only the range asked
    assert m["normalized_deployments"] == round(1 / (1 + 3 / 7), 6)


# --- section 6: outcomes ---------------------------------------------------------------------


def test_pending_is_not_failure_and_not_survived_is_a_rollback(sc):
    r = sc.repo
    x = r.commit(ai_msg("Risky"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 10 * D, ident="v2")
    sc.deploy(sc.base, T0 + 11 * D, ident="back")
    r.branch("next", sc.base)
    r.checkout("next")
    y = r.commit(ai_msg("New"), when=T0 + 30 * D, author=ANN)
    sc.deploy(y, T0 + 31 * D, ident="fresh")  # judged only at T0 + 38d: pending at T0 + 35d
    report = sc.scan(T0 + 35 * D, since=T0 + 5 * D, until=T0 + 35 * D)
    status = {c["sha"]: c["status"] for c in report["ai_changes"]}
    assert status == {x: "not_survived", y: "pending"}
    assert report["metric"]["ai_changes_by_outcome"] == {
        "trivial": 0,
        "reverted": 0,
        "revert": 0,
        "counted": 0,
        "pending": 1,
        "not_survived": 1,
        "unshipped": 0,
    }


def test_a_change_only_a_failed_deploy_tried_did_not_survive(sc):
    r = sc.repo
    x = r.commit(ai_msg("Broken"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 7 * D, status="failure", ident="f")
    report = sc.scan(NOW)
    assert [c["status"] for c in report["ai_changes"]] == ["not_survived"]


def test_a_squash_quoting_a_revert_is_not_a_revert_but_still_reverts(sc):
    r = sc.repo
    x = r.commit(ai_msg("Feature"), when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 6 * D + hours(1), ident="a")
    squash = r.commit(
        f"Tidy up (#12)\n\n* Revert feature\n\n    This reverts commit {x}.\n\n"
        "* Better version\n\nCo-authored-by: Claude <noreply@anthropic.com>\n",
        when=T0 + 7 * D,
        author=ANN,
    )
    sc.deploy(squash, T0 + 7 * D + hours(1), ident="b")
    report = sc.scan(NOW)
    status = {c["sha"]: c["status"] for c in report["ai_changes"]}
    assert status == {x: "reverted", squash: "counted"}
    assert report["metric"]["ai_deploys_survived"] == 1  # b: the squash counts itself


def test_an_ai_revert_commit_never_counts_itself(sc):
    r = sc.repo
    x = r.commit("Human feature\n", when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 6 * D + hours(1), ident="a")
    rv = r.revert(x, when=T0 + 20 * D, author=BOB)  # outside x's window: x is not reverted
    stamp = (T0 + 20 * D).strftime("%Y-%m-%dT%H:%M:%S+0000")
    who = {"GIT_COMMITTER_NAME": BOB[0], "GIT_COMMITTER_EMAIL": BOB[1], "GIT_COMMITTER_DATE": stamp}
    message = f'Revert "Human feature"\n\nThis reverts commit {x}.\n\n{CLAUDE}\n'
    r.git("commit", "--amend", "-q", "-m", message, env=who)
    rv = r.head()
    sc.deploy(rv, T0 + 20 * D + hours(1), ident="b")
    report = sc.scan(NOW)
    assert {c["sha"]: c["status"] for c in report["ai_changes"]} == {rv: "revert"}
    assert report["metric"]["ai_deploys_survived"] == 0


# --- sections 1 and 3: deployed branches, tag globs ------------------------------------------


def test_a_hotfix_deployed_from_an_unmerged_branch_is_history(repo):
    main1 = repo.commit(ai_msg("Feature"), when=T0 + 6 * D, author=ANN)
    repo.tag("v1.0.0", when=T0 + 6 * D + hours(1), message="release")
    repo.branch("hotfix", main1)
    repo.checkout("hotfix")
    fix = repo.commit(ai_msg("Hotfix"), when=T0 + 8 * D, author=BOB)
    repo.tag("v1.0.1", when=T0 + 8 * D + hours(1), message="hotfix")
    repo.checkout("main")
    repo.commit("Next\n", when=T0 + 9 * D, author=ANN)  # main goes on; hotfix never merged
    report = _scan_tags(repo, "tags:v*")
    assert report["history"]["deploys_not_in_history"] == 0
    assert [(d["id"], d["outcome"], d["shipped_changes"]) for d in report["deploys"]] == [
        ("v1.0.0", "survived", 1),
        ("v1.0.1", "survived", 1),
    ]
    assert {c["sha"]: c["status"] for c in report["ai_changes"]} == {
        main1: "counted",
        fix: "counted",
    }


def test_tag_globs_exclude_dev_tags_and_the_signal_names_twin_tags(repo):
    a = repo.commit(ai_msg("Feature"), when=T0 + 6 * D, author=ANN)
    repo.tag("v1.0.0", when=T0 + 6 * D + hours(1), message="release")
    b = repo.commit("Bump to dev\n", when=T0 + 6 * D + hours(1), author=ANN)
    repo.tag("v1.1.0.dev0", b, when=T0 + 6 * D + hours(1) + timedelta(seconds=5), message="dev")
    both = _scan_tags(repo, "tags:v*")
    assert both["metric"]["deploys"] == 2
    [twin] = [s for s in both["signals"] if s["kind"] == "same-release-twice"]
    assert twin["detail"].startswith("deploys v1.0.0 and v1.1.0.dev0 (production) are 5 s apart")
    only = _scan_tags(repo, "tags:v*,!*.dev*")
    assert [d["id"] for d in only["deploys"]] == ["v1.0.0"]
    assert not [s for s in only["signals"] if s["kind"] == "same-release-twice"]
    assert {c["sha"] for c in only["ai_changes"]} == {a}


# --- section 7: why is it 0 ------------------------------------------------------------------


def test_why_zero_names_the_tags_that_exist(repo):
    repo.commit(ai_msg("Feature"), when=T0 + 6 * D, author=ANN)
    for k in range(3):
        repo.tag(f"release-{k}.0", when=T0 + (6 + k) * D, message="r")
    report = _scan_tags(repo, "tags:v*")
    assert report["metric"]["normalized_deployments"] == 0.0
    assert report["metric"]["why_zero"][0] == {
        "kind": "no-deploys",
        "detail": "no deploy event matched the deploy sources (tags:v*); tags:v* matched 0 of "
        "3 tags (they look like release-*)",
    }


def test_why_zero_names_the_other_environment(sc):
    x = sc.repo.commit(ai_msg("Feature"), when=T0 + 6 * D, author=ANN)
    sc.deploys.clear()
    for k in range(3):
        sc.deploy(x, T0 + (6 + k) * D, environment="staging", ident=f"s{k}")
    why = sc.scan(NOW)["metric"]["why_zero"]
    assert why[0] == {
        "kind": "other-environment",
        "detail": "3 deploy(s) were in environment staging, which does not count "
        "(environments: production)",
    }


def test_why_zero_when_every_deploy_is_pending(sc):
    sc.deploys.clear()
    x = sc.repo.commit(ai_msg("Feature"), when=T0 + 38 * D, author=ANN)
    sc.deploy(x, T0 + 39 * D, ident="new")
    kinds = [c["kind"] for c in sc.scan(NOW)["metric"]["why_zero"]]
    assert "all-pending" in kinds


def test_signals_are_the_periods_and_at_most_twenty(sc):
    r = sc.repo
    for day in range(25):  # a burst of trivial AI commits on each of 25 days in the period
        for k in range(3):
            r.commit(ai_msg(f"noise {day} {k}"), when=T0 + (6 + day) * D + hours(k), author=BOB,
                     empty=True)  # fmt: skip
    for k in range(3):  # and one burst before the period: not listed
        r.commit(ai_msg(f"old {k}"), when=T0 + hours(k + 2), author=BOB, empty=True)
    report = sc.scan(NOW)
    assert len(report["signals"]) == 20
    assert report["signals_more"] == 5
    assert all(s["kind"] == "trivial-ai-burst" for s in report["signals"])


def test_review_bot_suggestions_are_reported_apart_and_do_not_count(sc):
    """A commit whose only evidence is a review bot's co-author line (its suggestion applied)
    is not AI-assisted: it is listed under review_bots, never in the score."""
    bot = "Co-authored-by: ellipsis-dev[bot] <65095814+ellipsis-dev[bot]@users.noreply.github.com>"
    x = sc.repo.commit(f"Apply review suggestion\n\n{bot}\n", when=T0 + 6 * D, author=ANN)
    sc.deploy(x, T0 + 6 * D + hours(1), ident="a")
    y = sc.repo.commit(f"Feature\n\n{bot}\n{CLAUDE}\n", when=T0 + 13 * D, author=ANN)
    sc.deploy(y, T0 + 13 * D + hours(1), ident="b")
    report = sc.scan(NOW)
    assert report["review_bots"] == {"ellipsis": {"changes": 2}}
    assert report["metric"]["ai_deploys_survived"] == 1  # b only: claude's evidence
    assert report["period"]["ai_changes"] == 1
    rows = {
        r["sha"]: (r["agents"], r["ai_at_min_confidence"], r["status"])
        for r in report["ai_changes"]
    }
    assert rows == {x: ([], False, "survived"), y: (["claude-code"], True, "counted")}
    assert set(report["agents"]) == {"claude-code"}


def test_only_changes_that_can_reach_the_report_are_diffed(repo, tmp_path):
    """Issue 12: an AI change long before the report's weeks, shipped by an old deploy, is
    never diffed; the period's are. The report is the same either way."""
    from scenario import Scenario

    sc = Scenario(repo, tmp_path)
    repo.commit("Initial\n", when=T0 - 300 * D, author=ANN)
    old = repo.commit(ai_msg("Old work"), when=T0 - 200 * D, author=ANN)
    sc.deploy(old, T0 - 199 * D, ident="old")
    new = repo.commit(ai_msg("New work"), when=T0 + 20 * D, author=ANN)
    sc.deploy(new, T0 + 20 * D + hours(1), ident="new")
    report = sc.scan(NOW)
    result = run_scan(
        ScanOptions(path=repo.path, deploys=[f"log:{sc.log}"], now=NOW, progress=False)
    )
    index, judged = result.history.index, result.outcomes.substantive
    assert index[new] in judged and index[old] not in judged
    assert report["metric"]["ai_deploys_survived"] == 1
    assert [d["id"] for d in report["deploys"]] == ["new"]


def test_a_person_week_is_judged_only_until_one_change_is_substantive():
    from scorer.outcomes.reach import until_substantive

    verdict = {1: False, 2: True, 3: True, 4: False, 5: False, 6: True}
    asked: list[list[int]] = []

    def judge(rows):
        asked.append(rows)
        return {i: verdict[i] for i in rows}

    until_substantive([[1, 2, 3], [4, 5], [6]], judge)
    assert asked == [[1, 4, 6], [2, 5]]  # 3 is never diffed: 2 already counts the person
