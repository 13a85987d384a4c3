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


def _dag(rng: random.Random, n: int) -> Graph:
    """A random DAG, newest first as git lists it: row i's parents are rows after it."""
    parents = []
    for i in range(n):
        k = rng.choice([0, 1, 1, 1, 2, 2, 3]) if i < n - 1 else 0
        parents.append(tuple(sorted(set(rng.sample(range(i + 1, n), min(k, n - 1 - i))))))
    return Graph([f"{i:040x}" for i in range(n)], parents)


@pytest.mark.parametrize("seed", range(12))
def test_deploy_after_deploy_ranges_equal_only_in(seed, monkeypatch):
    """Linking asks range(next deploy, previous) in turn: the walk from the marked previous
    tip must give only_in's rows in only_in's order, and ancestry as is_ancestor, through
    rollbacks and deploys from other branches (which drop the marks until the next first
    deploy)."""
    rng = random.Random(seed)
    graph = _dag(rng, 120)
    plain = Graph(graph.shas, graph.parents)
    walked: list[bool] = []  # whether each range came from the marks
    walk = Graph._walk_on

    def spy(g, tip, base, move=True):
        rows = walk(g, tip, base, move)
        walked.append(rows is not None)
        return rows

    monkeypatch.setattr(Graph, "_walk_on", spy)
    previous = None
    for _ in range(60):
        later = [x for x in range(120) if previous is not None and plain.is_ancestor(previous, x)]
        # Forward as deploys usually go; now and then a rollback or another branch's deploy.
        tip = rng.choice(later) if later and rng.random() < 0.9 else rng.randrange(120)
        graph.memo_only_in.clear()
        expected = plain.only_in(tip, () if previous is None else (previous,))
        assert list(graph.range(tip, previous)) == expected
        if previous is not None:
            assert graph.memo_ancestor[(previous, tip)] == plain.is_ancestor(previous, tip)
        roll = rng.random()
        if roll < 0.05:
            previous = None  # another environment's first deploy
        elif roll < 0.85:
            previous = tip  # else a failed deploy: the next one ships from the same commit
    assert any(walked) and not all(walked)  # both ways were taken


@pytest.mark.parametrize("seed", range(12))
def test_deploys_in_turn_walk_on_after_rollbacks_and_failed_deploys(seed, monkeypatch):
    """As linking asks (``in_turn``): a failed deploy leaves the marks where they were (the
    next deploy ships from the same commit), and deploys that go forward after a rollback
    get their marks back. Every range equals only_in's, ancestry is_ancestor's, and only the
    first deploy and those from a rollback (or another branch's deploy) to the next deploy
    that goes forward again walk with a heap."""
    rng = random.Random(seed)
    graph = _dag(rng, 150)
    plain = Graph(graph.shas, graph.parents)
    heap_walks = 0
    only_in = Graph.only_in

    def spy(g, tip, exclude=()):
        nonlocal heap_walks
        heap_walks += g is graph
        return only_in(g, tip, exclude)

    monkeypatch.setattr(Graph, "only_in", spy)
    previous, lost, allowed = None, True, 0
    for _ in range(80):
        later = [x for x in range(150) if previous is not None and plain.is_ancestor(previous, x)]
        tip = rng.randrange(150) if not later or rng.random() < 0.1 else rng.choice(later)
        failed = rng.random() < 0.15
        expected = plain.only_in(tip, () if previous is None else (previous,))
        assert list(graph.range(tip, previous, in_turn=True, move=not failed)) == expected
        forward = previous is not None and plain.is_ancestor(previous, tip)
        if previous is not None:
            assert graph.memo_ancestor[(previous, tip)] == forward
        allowed += lost  # marks lost: a heap walk, until a deploy goes forward again
        if lost and (forward or previous is None):
            lost = False
        elif not lost and not forward and not failed:
            lost = True  # a rollback drops the marks (a failed one keeps them)
        if not failed:
            previous = tip
    assert heap_walks <= allowed
