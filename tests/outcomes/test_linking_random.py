"""Deploy outcomes on random histories and random deploy sequences agree with a literal,
quadratic reading of METRIC.md section 5 (ancestry from git itself)."""

from __future__ import annotations

import random
import subprocess
from datetime import timedelta

import pytest
from conftest import T0
from test_graph import _graph, _random_dag

from scorer.model import DeployEvent
from scorer.outcomes.linking import (
    FAILED,
    PENDING,
    ROLLED_BACK,
    SURVIVED,
    link_deploys,
    order_events,
)

pytestmark = pytest.mark.slow  # random histories: CI runs them, the quick loop not

WINDOW = timedelta(days=2)


def _git_is_ancestor(repo, a: str, b: str) -> bool:
    cmd = ["git", "-C", str(repo.path), "merge-base", "--is-ancestor", a, b]
    return subprocess.run(cmd, env=repo.env).returncode == 0


def _literal(repo, events, now):
    """Section 5 word for word, one environment."""
    ordered = order_events(events)
    out = {}
    for i, d in enumerate(ordered):
        if d.status != "success":
            out[d.id] = FAILED
            continue
        rolled = any(
            r.status == "success"
            and d.time < r.time <= d.time + WINDOW
            and not _git_is_ancestor(repo, d.sha, r.sha)
            for r in ordered[i + 1 :]
        )
        if rolled:
            out[d.id] = ROLLED_BACK
        elif now < d.time + WINDOW:
            out[d.id] = PENDING
        else:
            out[d.id] = SURVIVED
    return out


def test_outcomes_match_the_literal_definition(repo):
    shas = _random_dag(repo, seed=21, n=40)
    graph = _graph(repo.path)
    shas = [s for s in shas if s in graph.index]
    rng = random.Random(4)
    for trial in range(12):
        events = []
        t = T0
        for k in range(rng.randint(3, 14)):
            t += timedelta(hours=rng.choice([0, 0, 6, 12, 30, 60]))  # ties on purpose
            events.append(
                DeployEvent(
                    id=f"t{trial}-{k}",
                    sha=rng.choice(shas),
                    environment="production",
                    time=t,
                    status=rng.choice(["success"] * 5 + ["failure", "error"]),
                )
            )
        now = t + timedelta(hours=rng.choice([1, 30, 100]))
        got = {r.event.id: r.outcome for r in link_deploys(graph, events, WINDOW, now)}
        assert got == _literal(repo, events, now), trial
