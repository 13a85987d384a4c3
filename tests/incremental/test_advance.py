"""Carrying outcomes forward (scorer/increment.py), case by case: each test runs at a first
`now`, changes the repository and the deploy log, runs again later, and asserts the exact
outcomes, that they equal a run without the cache, and which path the cached run took."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import T0
from scenario import ANN, BOB, ai_msg, cold_and_cached

from scorer.util.times import iso

WINDOW = timedelta(days=7)


class Runs:
    def __init__(self, repo, tmp_path):
        self.repo = repo
        self.log = tmp_path / "deploys.jsonl"
        self.cache = tmp_path / "cache"
        self.events: list[dict] = []

    def deploy(self, sha, when, ident, status="success", environment="production"):
        self.events.append(
            {
                "id": ident,
                "sha": sha,
                "time": iso(when),
                "status": status,
                "environment": environment,
            }
        )

    def scan(self, now, **kw):
        """(cached report, how the cache was used); asserts it equals an uncached run."""
        self.log.write_text("".join(json.dumps(e) + "\n" for e in self.events))
        return cold_and_cached(
            self.repo.path,
            self.cache,
            deploys=[f"log:{self.log}"],
            environments=["production", "staging"],
            now=now,
            window=kw.get("window", WINDOW),
            min_confidence=kw.get("min_confidence"),
        )


def outcomes(report):
    return {d["id"]: d["outcome"] for d in report["deploys"]}


@pytest.fixture
def runs(repo, tmp_path):
    return Runs(repo, tmp_path)


def test_pending_deploy_rolled_back_by_a_later_deploy(runs, repo):
    base = repo.commit("base\n", when=T0, author=ANN)
    runs.deploy(base, T0 + timedelta(hours=1), "d1")
    ai = repo.commit(ai_msg("AI work"), when=T0 + timedelta(days=1), author=BOB)
    runs.deploy(ai, T0 + timedelta(days=1, hours=1), "d2")
    report, use = runs.scan(T0 + timedelta(days=2))
    assert outcomes(report)["d2"] == "pending" and use == "cold"
    # two days later, production runs the old commit again: d2 is rolled back
    runs.deploy(base, T0 + timedelta(days=3), "d3")
    report, use = runs.scan(T0 + timedelta(days=4))
    assert use == "incremental"
    assert outcomes(report) == {"d1": "pending", "d2": "rolled_back", "d3": "pending"}
    assert {d["id"]: d.get("rolled_back_by") for d in report["deploys"]}["d2"] == "d3"


def test_pending_deploy_survives_as_time_passes(runs, repo):
    ai = repo.commit(ai_msg("AI work"), when=T0, author=BOB)
    runs.deploy(ai, T0 + timedelta(hours=1), "d1")
    report, _ = runs.scan(T0 + timedelta(days=1))
    assert (
        outcomes(report)["d1"] == "pending"
        and report["metric"]["ai_changes_by_outcome"]["counted"] == 0
    )
    report, use = runs.scan(T0 + timedelta(days=9))  # nothing new but time
    assert use == "incremental"
    assert (
        outcomes(report)["d1"] == "survived"
        and report["metric"]["ai_changes_by_outcome"]["counted"] == 1
    )


def test_revert_after_the_last_run_and_its_revert(runs, repo):
    ai = repo.commit(ai_msg("AI work"), when=T0, author=BOB)
    runs.deploy(ai, T0 + timedelta(hours=1), "d1")
    report, _ = runs.scan(T0 + timedelta(days=1))
    revert = repo.revert(ai, when=T0 + timedelta(days=2), author=ANN)
    runs.deploy(revert, T0 + timedelta(days=2, hours=1), "d2")
    report, use = runs.scan(T0 + timedelta(days=3))
    assert use == "incremental" and report["history"]["reverted_changes"] == 1
    # the revert is reverted in turn: the AI change is no longer reverted
    again = repo.revert(revert, when=T0 + timedelta(days=4), author=ANN)
    runs.deploy(again, T0 + timedelta(days=4, hours=1), "d3")
    report, use = runs.scan(T0 + timedelta(days=20))
    assert use == "incremental"
    assert report["history"]["reverted_changes"] == 1  # only the first revert, by the second
    assert report["metric"]["ai_changes_by_outcome"]["counted"] == 1


def test_failed_deploy_and_a_second_environment(runs, repo):
    a = repo.commit(ai_msg("A"), when=T0, author=BOB)
    runs.deploy(a, T0 + timedelta(hours=1), "p1")
    runs.scan(T0 + timedelta(hours=2))
    b = repo.commit(ai_msg("B"), when=T0 + timedelta(days=1), author=BOB)
    runs.deploy(b, T0 + timedelta(days=1, hours=1), "s1", environment="staging")
    runs.deploy(b, T0 + timedelta(days=1, hours=2), "p2", status="failure")
    runs.deploy(b, T0 + timedelta(days=1, hours=3), "p3")
    report, use = runs.scan(T0 + timedelta(days=10))
    assert use == "incremental"
    assert outcomes(report) == {
        "p1": "survived",
        "p2": "failed",
        "p3": "survived",
        "s1": "survived",
    }


@pytest.mark.parametrize(
    "change",
    ["late deploy", "edited deploy", "earlier now", "window", "min_confidence"],
)
def test_what_recomputes_outcomes_from_the_cached_commits(runs, repo, change):
    a = repo.commit(ai_msg("A"), when=T0, author=BOB)
    runs.deploy(a, T0 + timedelta(hours=1), "d1")
    runs.scan(T0 + timedelta(days=2))
    b = repo.commit("B\n", when=T0 + timedelta(days=2, hours=1), author=ANN)
    now, kw = T0 + timedelta(days=3), {}
    if change == "late deploy":
        runs.deploy(b, T0 + timedelta(days=1), "late")  # dated before the last run
    elif change == "edited deploy":
        runs.events[0]["status"] = "failure"
    elif change == "earlier now":
        now = T0 + timedelta(days=1)
    elif change == "window":
        kw["window"] = timedelta(days=1)
    else:
        kw["min_confidence"] = "high"
    report, use = runs.scan(now, **kw)
    assert use == "history"
    # and the next run, with nothing new, carries the recomputed outcomes forward
    report2, use2 = runs.scan(now, **kw)
    assert use2 == "incremental" and report2 == report


def test_abbreviated_sha_a_new_commit_could_match(runs, repo):
    a = repo.commit(ai_msg("A"), when=T0, author=BOB)
    runs.deploy("0000000", T0 + timedelta(hours=1), "ghost")  # matches nothing yet
    runs.deploy(a, T0 + timedelta(hours=2), "d1")
    report, _ = runs.scan(T0 + timedelta(days=1))
    assert report["history"]["deploys_not_in_history"] == 1
    repo.commit("B\n", when=T0 + timedelta(days=2), author=ANN)  # does not start 0000000
    report, use = runs.scan(T0 + timedelta(days=3))
    assert use == "incremental" and report["history"]["deploys_not_in_history"] == 1


def test_trivial_burst_grows_across_runs(runs, repo):
    """Two empty AI commits before the cached run, two after, same author and day (inside the
    period: signals are the period's): the burst signal counts four and names the earliest,
    as a cold run does."""
    for k in range(2):
        repo.commit(ai_msg(f"empty {k}"), when=T0 + timedelta(hours=k), author=BOB, empty=True)
    report, _ = runs.scan(T0 + WINDOW + timedelta(hours=3))
    assert not [s for s in report["signals"] if s["kind"] == "trivial-ai-burst"]
    first = repo.git("rev-list", "--max-parents=0", "HEAD").strip()
    for k in range(2, 4):
        repo.commit(ai_msg(f"empty {k}"), when=T0 + timedelta(hours=k + 2), author=BOB, empty=True)
    report, use = runs.scan(T0 + WINDOW + timedelta(hours=8))
    assert use == "incremental"
    [burst] = [s for s in report["signals"] if s["kind"] == "trivial-ai-burst"]
    assert burst["detail"].startswith("4 trivial (empty, whitespace-only, rename-only or")
    assert f"(e.g. {first[:12]})" in burst["detail"]
