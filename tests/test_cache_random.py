"""Random histories grown step by step: after every step the cached run's report equals a
cold run's (but generated_at)."""

from __future__ import annotations

import json
import random
from datetime import timedelta

from conftest import T0
from scenario import ANN, BOB, ai_msg

from scorer.cli import main

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
            repo.revert(rng.choice(made), when=when, author=rng.choice(PEOPLE))
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
    from scorer.gitbuild import GitRepo

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
