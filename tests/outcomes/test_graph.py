"""The in-memory graph answers exactly what git answers, on real repositories with merges."""

from __future__ import annotations

import random
import subprocess
from datetime import timedelta

import pytest
from conftest import T0

from scorer.git.log import iter_raw_commits, open_repo
from scorer.outcomes.graph import Graph, PrefixIndex
from scorer.outcomes.reverts import prefix_matcher


def _random_dag(repo, seed: int, n: int = 60) -> list[str]:
    rng = random.Random(seed)
    branches = ["main"]
    shas = [repo.commit("root\n", when=T0 - timedelta(hours=1))]
    for i in range(n):
        action = rng.random()
        when = T0 + timedelta(hours=i)
        if action < 0.15 and len(branches) < 4:
            name = f"b{i}"
            repo.branch(name)
            branches.append(name)
            repo.checkout(name)
        elif action < 0.3 and len(branches) > 1:
            other = rng.choice([b for b in branches if b != "main"])
            repo.checkout("main")
            shas.append(repo.merge(other, when=when))
            continue
        elif action < 0.4:
            repo.checkout(rng.choice(branches))
        shas.append(repo.commit(f"commit {i}\n", when=when))
    return shas


def _graph(path):
    r = open_repo(path)
    raws = list(iter_raw_commits(r, "HEAD"))
    return Graph.from_shas([c.sha for c in raws], [c.parents for c in raws])


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
def test_only_in_and_is_ancestor_agree_with_git(repo):
    shas = _random_dag(repo, seed=7)
    graph = _graph(repo.path)
    rng = random.Random(1)
    reachable = [s for s in shas if s in graph.index]
    for _ in range(40):
        a, b = rng.choice(reachable), rng.choice(reachable)
        expected = set(repo.git("rev-list", b, f"^{a}").split())
        got = {graph.shas[i] for i in graph.only_in(graph.index[b], [graph.index[a]])}
        assert got == expected
        git_says = (
            subprocess.run(
                ["git", "-C", str(repo.path), "merge-base", "--is-ancestor", a, b], env=repo.env
            ).returncode
            == 0
        )
        assert graph.is_ancestor(graph.index[a], graph.index[b]) is git_says


def test_only_in_without_exclude_is_all_ancestors(repo):
    _random_dag(repo, seed=3, n=30)
    graph = _graph(repo.path)
    head = graph.index[repo.head()]
    assert {graph.shas[i] for i in graph.only_in(head)} == set(repo.git("rev-list", "HEAD").split())


def test_generations_increase_from_parents(repo):
    _random_dag(repo, seed=11, n=40)
    graph = _graph(repo.path)
    for node, parents in enumerate(graph.parents):
        for p in parents:
            assert graph.generation[node] > graph.generation[p]


def test_prefix_index():
    idx = PrefixIndex(["abc123" + "0" * 34, "abc124" + "0" * 34, "ffff" + "1" * 36])
    assert idx.matches("abc12") == ["abc123" + "0" * 34, "abc124" + "0" * 34]
    assert idx.matches("ffff") == ["ffff" + "1" * 36]
    assert idx.matches("0000") == []


def test_prefix_matcher_full_ids_and_abbreviations():
    a, b, c = "abc123" + "0" * 34, "abc124" + "0" * 34, "ffff" + "1" * 36
    matches = prefix_matcher(Graph.from_shas([a, b, c], [(b,), (c,), ()]))
    assert matches(b) == [1]  # a full id: looked up, not searched
    assert matches(b.upper()) == [1]
    assert matches("abc124" + "0" * 33 + "1") == []  # a full id of no commit here
    assert matches("abc12") == [0, 1]  # ambiguous (resolve_reverts leaves it out)
    assert matches("ABC123") == [0]
    # In a SHA-256 history a 40-digit name is an abbreviation.
    long = "ab" * 32
    assert prefix_matcher(Graph.from_shas([long], [()]))(long[:40]) == [0]


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
def test_range_settles_ancestry_as_git_does(repo):
    shas = _random_dag(repo, seed=5, n=50)
    graph = _graph(repo.path)
    rng = random.Random(2)
    reachable = [s for s in shas if s in graph.index]
    for _ in range(60):
        a, b = rng.choice(reachable), rng.choice(reachable)
        ia, ib = graph.index[a], graph.index[b]
        graph.range(ib, ia)
        git_says = (
            subprocess.run(
                ["git", "-C", str(repo.path), "merge-base", "--is-ancestor", a, b], env=repo.env
            ).returncode
            == 0
        )
        assert graph.memo_ancestor[(ia, ib)] is git_says


def test_commits_out_of_date_order_get_generations(repo):
    # Clock skew: children dated before their parents, so git log lists them out of order.
    for i in range(6):
        repo.commit(f"c{i}\n", when=T0 - timedelta(days=i), commit_time=T0 - timedelta(days=i))
    graph = _graph(repo.path)
    for node, parents in enumerate(graph.parents):
        for p in parents:
            assert graph.generation[node] > graph.generation[p]
