"""Random histories grown step by step: after every step the cached run's report equals a
cold run's (but generated_at)."""

from __future__ import annotations

import json
import os
import random
from datetime import timedelta

import pytest
from conftest import T0
from scenario import ANN, BOB, ai_msg, cold_and_cached

from scorer.cli import main
from scorer.incremental import cache as cache_module

pytestmark = pytest.mark.slow  # random histories: CI runs them, the quick loop not

PEOPLE = [ANN, BOB, ("Cara (aider)", "cara@example.com")]


def _report(capsys, repo, *extra):
    assert (
        main(
            [
                "scan",
                str(repo.path),
                "--format",
                "json",
                "--now",
                (T0 + timedelta(days=60)).isoformat(),
                *extra,
            ]
        )
        == 0
    )
    out = capsys.readouterr()
    assert out.err == ""  # in particular, never "cache not used": each step extends the last
    report = json.loads(out.out)
    report.pop("generated_at")
    return report


def _grow(repo, rng, step, made):
    for k in range(rng.randint(2, 6)):
        when = T0 + timedelta(days=step * 5, hours=k)
        roll = rng.random()
        if roll < 0.15 and len(made) > 2:
            try:
                repo.revert(rng.choice(made), when=when, author=rng.choice(PEOPLE))
            except RuntimeError:  # already reverted, or a conflict: no revert this time
                repo.git("revert", "--abort", check=False)
                repo.git("reset", "-q", "--hard", "HEAD")
        elif roll < 0.25:
            repo.branch(f"b{step}-{k}")
            repo.checkout(f"b{step}-{k}")
            repo.commit(ai_msg(f"side {step}-{k}"), when=when, author=rng.choice(PEOPLE))
            repo.checkout("main")
            repo.merge(f"b{step}-{k}", when=when + timedelta(minutes=30))
        else:
            msg = ai_msg(f"work {step}-{k}") if rng.random() < 0.5 else f"work {step}-{k}\n"
            files = None if rng.random() < 0.8 else {}
            made.append(
                repo.commit(
                    msg, when=when, author=rng.choice(PEOPLE), files=files, empty=files == {}
                )
            )
    if rng.random() < 0.7:
        repo.tag(f"v{step}", when=T0 + timedelta(days=step * 5, hours=12))
    if rng.random() < 0.3 and len(made) > 3:  # a rollback: older code deployed again
        repo.tag(
            f"v{step}-rollback", rng.choice(made[:-2]), when=T0 + timedelta(days=step * 5, hours=20)
        )


def test_cached_reports_equal_cold_ones_as_history_grows(capsys, tmp_path):
    from gitbuild import GitRepo

    for seed in range(3):
        rng = random.Random(seed)
        repo = GitRepo(tmp_path / f"r{seed}")
        cache = tmp_path / f"cache{seed}"
        made = [repo.commit("root\n", when=T0, author=ANN)]
        for step in range(1, 6):
            _grow(repo, rng, step, made)
            cold = _report(capsys, repo)
            warm = _report(capsys, repo, "--cache", str(cache))
            assert warm == cold, (seed, step)


def test_per_merge_runs_carry_outcomes_forward_as_time_moves(tmp_path, monkeypatch):
    """The per-merge case: each run is later than the last, and what happened since is later
    too. Outcomes are carried forward (deploys pending at the last run survive or are rolled
    back now, new reverts reach older changes) and equal a cold run's at every step; a deploy
    dated before the last run (a late tag) makes the run recompute outcomes, still equal.
    Events files of tiny blocks: the cached events are read from several segments, and
    rewritten often."""
    from gitbuild import GitRepo

    monkeypatch.setattr(cache_module, "EVENT_BLOCK", 2)
    monkeypatch.setattr(cache_module, "MAX_EVENT_SEGMENTS", 5)

    uses = []
    for seed in range(int(os.environ.get("SCORER_RANDOM_SEEDS", "4"))):
        rng = random.Random(100 + seed)
        repo = GitRepo(tmp_path / f"r{seed}")
        cache = tmp_path / f"cache{seed}"
        made = [repo.commit("root\n", when=T0, author=ANN)]
        for step in range(1, 9):
            _grow(repo, rng, step, made)
            late = rng.random() < 0.15
            if late:  # a tag dated before the previous run
                repo.tag(f"v{step}-late", rng.choice(made), when=T0 + timedelta(days=step * 5 - 6))
            now = T0 + timedelta(days=step * 5 + 1)
            _, use = cold_and_cached(
                repo.path, cache, deploys=["tags:v*"], now=now, window=timedelta(days=7)
            )
            if step > 1:
                assert use == ("history" if late else "incremental"), (seed, step, use)
            uses.append(use)
    assert uses.count("incremental") >= 20


def test_deploy_log_with_environments_failures_and_short_shas(tmp_path, monkeypatch):
    """The same with a deploy log: two environments, failed deploys, redeploys of older
    commits, abbreviated SHAs, and unknown SHAs (a commit not yet in the history)."""
    from gitbuild import GitRepo

    monkeypatch.setattr(cache_module, "EVENT_BLOCK", 3)
    monkeypatch.setattr(cache_module, "MAX_EVENT_SEGMENTS", 6)

    uses = []
    for seed in range(int(os.environ.get("SCORER_RANDOM_SEEDS", "4"))):
        rng = random.Random(500 + seed)
        repo = GitRepo(tmp_path / f"r{seed}")
        log = tmp_path / f"deploys{seed}.jsonl"
        log.write_text("")
        cache = tmp_path / f"cache{seed}"
        made = [repo.commit("root\n", when=T0, author=ANN)]
        for step in range(1, 9):
            _grow(repo, rng, step, made)
            lines = []
            for k in range(rng.randint(0, 3)):
                when = T0 + timedelta(days=step * 5, hours=13 + k)
                sha = repo.head() if rng.random() < 0.6 else rng.choice(made)
                if rng.random() < 0.3:
                    sha = sha[:12]
                if rng.random() < 0.05:
                    sha = "0" * 40  # not in the history
                lines.append(
                    json.dumps(
                        {
                            "sha": sha,
                            "time": when.isoformat(),
                            "environment": rng.choice(["production", "staging"]),
                            "status": "success" if rng.random() < 0.8 else "failure",
                        }
                    )
                )
            with log.open("a") as fh:
                fh.writelines(line + "\n" for line in lines)
            now = T0 + timedelta(days=step * 5 + 1)
            _, use = cold_and_cached(
                repo.path,
                cache,
                deploys=[f"log:{log}"],
                environments=["production", "staging"],
                now=now,
                window=timedelta(days=7),
            )
            uses.append(use)
    assert uses.count("incremental") >= 10, uses
