"""Which verdicts a report needs (``scorer.outcomes.reach``): a deploy of the trend's earlier
weeks needs only one substantive AI change that counts, so its changes are diffed one at a
time until one is; the period's are all diffed. Real repositories, one scan each.

now = T0 + 40d, window 7d: the period is [T0 + 5d, T0 + 33d); the trend's eight earlier weeks
start at T0 - 51d.
"""

from __future__ import annotations

import json
from datetime import timedelta

from conftest import T0
from scenario import ANN, BOB, Scenario, ai_msg, hours

import scorer.outcomes as outcomes_module
from scorer.git.diffs import Substance
from scorer.outcomes.reach import Reach, likely_trend_firsts
from scorer.pipeline import ScanOptions, run_scan

NOW = T0 + timedelta(days=40)
D = timedelta(days=1)


def _run(sc: Scenario, cache=None):
    sc.log.write_text("".join(json.dumps(d) + "\n" for d in sc.deploys))
    return run_scan(
        ScanOptions(
            path=sc.repo.path, deploys=[f"log:{sc.log}"], now=NOW, progress=False, cache=cache
        )
    )


def _week(report: dict, start) -> dict:
    return next(w for w in report["weeks"] if w["start"] == start.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _trend_deploy(repo, sc):
    """A deploy at T0 - 20d (the trend's earlier weeks) of three AI changes, newest first:
    a whitespace-only edit (trivial), then two real ones by one person (whose week is
    settled by the newer)."""
    repo.commit("Initial\n", when=T0 - 60 * D, author=ANN, files={"app.py": "a = 1\n"})
    one = repo.commit(ai_msg("One"), when=T0 - 22 * D, author=BOB, files={"one.py": "x = 1\n"})
    two = repo.commit(ai_msg("Two"), when=T0 - 21 * D, author=BOB, files={"two.py": "y = 2\n"})
    spaces = repo.commit(
        ai_msg("Spaces"), when=T0 - 21 * D + hours(1), author=ANN, files={"app.py": "a  =  1\n"}
    )
    sc.deploy(spaces, T0 - 20 * D, ident="trend")
    return one, two, spaces


def test_a_trend_deploy_is_judged_only_until_one_change_counts(repo, tmp_path):
    sc = Scenario(repo, tmp_path)
    one, two, spaces = _trend_deploy(repo, sc)
    result = _run(sc)
    index, judged = result.history.index, result.outcomes.substantive
    # The newest change first (the deploy's range walk): trivial, so the next is judged, and
    # counts; the oldest is never diffed.
    assert judged.get(index[spaces]) is False
    assert judged.get(index[two]) is True
    assert index[one] not in judged
    week = _week(result.report, T0 - 23 * D)  # the bucket [T0 - 23d, T0 - 16d)
    assert (week["ai_deploys_survived"], week["deploys_survived"]) == (1, 1)


def test_the_trend_deploys_first_candidates_go_to_git_as_soon_as_deploys_are_linked(
    repo, tmp_path, monkeypatch
):
    sc = Scenario(repo, tmp_path)
    _one, two, spaces = _trend_deploy(repo, sc)
    seen: list = []  # what git was handed, and when trend_groups asked, in order
    feed, groups = Substance.feed, outcomes_module.trend_groups

    def spy_feed(self, shas):
        seen.append(list(shas))
        feed(self, shas)

    monkeypatch.setattr(Substance, "feed", spy_feed)
    monkeypatch.setattr(
        outcomes_module, "trend_groups", lambda *a: (seen.append("trend_groups"), groups(*a))[1]
    )
    result = _run(sc)
    table = result.history.commits
    reach = Reach(NOW.timestamp() - 60 * 86400, (T0 + 5 * D).timestamp())
    assert likely_trend_firsts(table, result.outcomes.deploys, reach) == [table.index[spaces]]
    # Handed to git before trend_groups asks for it; the next one only after its verdict.
    assert seen.index([spaces]) < seen.index("trend_groups") < seen.index([two])


def test_a_trend_deploy_of_trivial_changes_only_is_no_ai_deploy(repo, tmp_path):
    sc = Scenario(repo, tmp_path)
    repo.commit("Initial\n", when=T0 - 60 * D, author=ANN, files={"app.py": "a = 1\n"})
    first = repo.commit(
        ai_msg("Spaces"), when=T0 - 22 * D, author=ANN, files={"app.py": "a  = 1\n"}
    )
    second = repo.commit(ai_msg("Empty"), when=T0 - 21 * D, author=ANN, empty=True)
    sc.deploy(second, T0 - 20 * D, ident="trend")
    result = _run(sc)
    index, judged = result.history.index, result.outcomes.substantive
    assert (judged.get(index[first]), judged.get(index[second])) == (False, False)
    week = _week(result.report, T0 - 23 * D)
    assert (week["ai_deploys_survived"], week["deploys_survived"]) == (0, 1)


def test_the_period_and_its_deploys_are_judged_change_by_change(repo, tmp_path):
    """A period deploy lists how many of its changes count: each of them is diffed."""
    sc = Scenario(repo, tmp_path)
    repo.commit("Initial\n", when=T0 - 60 * D, author=ANN, files={"app.py": "a = 1\n"})
    made = [
        repo.commit(ai_msg(f"Work {k}"), when=T0 + 6 * D + hours(k), author=ANN) for k in range(3)
    ]
    sc.deploy(made[-1], T0 + 7 * D, ident="period")
    result = _run(sc)
    index, judged = result.history.index, result.outcomes.substantive
    assert all(judged.get(index[c]) is True for c in made)
    assert [d["counted_ai_changes"] for d in result.report["deploys"]] == [3]


def test_a_new_revert_of_the_counted_change_sends_the_warm_run_to_the_next_one(repo, tmp_path):
    """The cached run stopped at the trend deploy's first change that counts; a revert that
    arrives later (dated inside the deploy's window) takes that one away. The warm run judges
    the deploy's next change, as a cold run does: the same report."""
    sc = Scenario(repo, tmp_path)
    one, two, _ = _trend_deploy(repo, sc)
    cache = tmp_path / "cache"
    first = _run(sc, cache)
    assert first.cache_use == "cold"
    repo.revert(two, when=T0 - 19 * D, author=BOB)
    warm = _run(sc, cache)
    cold = _run(sc)
    assert warm.cache_use == "incremental"
    index = warm.history.index
    assert warm.outcomes.substantive.get(index[one]) is True
    for report in (warm.report, cold.report):
        report.pop("generated_at")
    assert warm.report == cold.report
    week = _week(cold.report, T0 - 23 * D)
    assert (week["ai_deploys_survived"], week["deploys_survived"]) == (1, 1)
