"""METRIC.md section 5 (v2): a later deploy R contains deploy D when every change D runs that R
does not is either a label (only ``version_files``, or trivial) or has a change with the same
``git patch-id --stable`` that R runs and D does not. Real repositories, exact outcomes; every
scenario is scanned without and with the cache (equal reports), and the cached run that
carries outcomes forward (``advance``) is held to the same rule.

The history a scan reads is what the scanned ref reaches, so each repository ends with a merge
(``-s ours``: main's content unchanged) of its release branches, made after the deploys and
never deployed: it makes the release commits part of the history without changing what any
deploy ran.
"""

from __future__ import annotations

import json
import random
import subprocess
from datetime import datetime, timedelta

import pytest
from conftest import T0
from gitbuild import GitRepo
from scenario import ANN, BOB, ai_msg, cold_and_cached

from scorer.errors import InputError
from scorer.git.log import open_repo
from scorer.git.patches import PatchIds, patch_ids
from scorer.outcomes.containment import Containment
from scorer.outcomes.graph import Graph
from scorer.outcomes.linking import link_deploys
from scorer.util.times import iso

WINDOW = timedelta(days=7)
NOW = T0 + timedelta(days=30)
APP = "".join(f"line {k}\n" for k in range(1, 21))


def h(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def _env(when: datetime, who=ANN) -> dict[str, str]:
    stamp = iso(when)
    return {
        "GIT_AUTHOR_NAME": who[0],
        "GIT_AUTHOR_EMAIL": who[1],
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_NAME": who[0],
        "GIT_COMMITTER_EMAIL": who[1],
        "GIT_COMMITTER_DATE": stamp,
    }


def cherry_pick(repo: GitRepo, sha: str, when: datetime) -> str:
    """``git cherry-pick`` onto the current branch: another commit, the same patch."""
    repo.git("cherry-pick", "--allow-empty", sha, env=_env(when))
    return repo.head()


def reach(repo: GitRepo, *branches: str) -> None:
    """Make ``branches`` part of main's history without changing main's content (see the
    module docstring)."""
    repo.checkout("main")
    repo.git("merge", "-q", "-s", "ours", "--no-edit", *branches, env=_env(T0 + timedelta(days=20)))


def edit(line: int, text: str, base: str = APP) -> str:
    lines = base.splitlines(keepends=True)
    lines[line - 1] = text + "\n"
    return "".join(lines)


class Log:
    """A deploy log, scanned without and with a cache that lives across scans."""

    def __init__(self, repo: GitRepo, tmp_path):
        self.repo = repo
        self.path = tmp_path / "deploys.jsonl"
        self.cache = tmp_path / "cache"
        self.events: list[dict] = []

    def deploy(self, ident: str, sha: str, when: datetime) -> None:
        self.events.append({"id": ident, "sha": sha, "time": iso(when)})

    def scan(self, now: datetime = NOW) -> tuple[dict, str]:
        self.path.write_text("".join(json.dumps(e) + "\n" for e in self.events))
        return cold_and_cached(
            self.repo.path, self.cache, deploys=[f"log:{self.path}"], now=now, window=WINDOW
        )


def outcomes(report: dict) -> dict[str, str]:
    return {d["id"]: d["outcome"] for d in report["deploys"]}


def rolled_back_by(report: dict) -> dict[str, str]:
    return {d["id"]: d["rolled_back_by"] for d in report["deploys"] if "rolled_back_by" in d}


@pytest.fixture
def log(repo, tmp_path) -> Log:
    return Log(repo, tmp_path)


def _start(repo: GitRepo, log: Log) -> str:
    base = repo.commit("Initial\n", when=T0, author=ANN, files={"app.py": APP})
    log.deploy("v1", base, h(1))
    return base


# --- cherry-picks -------------------------------------------------------------------------


def test_fix_backported_to_a_release_branch_is_still_running(repo, log):
    """V1 -> V2 (a fix) on main, then the fix cherry-picked onto a release branch from V1 and
    deployed as V2.1: V2.1 does not descend from V2, but runs its one change."""
    base = _start(repo, log)
    fix = repo.commit(
        ai_msg("Fix the parser"), when=h(2), author=BOB, files={"app.py": edit(3, "x")}
    )
    log.deploy("v2", fix, h(3))
    repo.branch("release-2", base)
    repo.checkout("release-2")
    log.deploy("v2.1", cherry_pick(repo, fix, h(4)), h(5))
    reach(repo, "release-2")

    report, _ = log.scan()
    assert outcomes(report) == {"v1": "survived", "v2": "survived", "v2.1": "survived"}
    assert rolled_back_by(report) == {}
    assert {d["id"]: d["counted_ai_changes"] for d in report["deploys"]}["v2"] == 1


def test_hotfix_forward_ported_to_main_is_still_running(repo, log):
    """A hotfix deployed from a release branch, then a main-line release that holds it as a
    cherry-pick among other changes, and a later main-line release after that."""
    base = _start(repo, log)
    repo.branch("release-1", base)
    repo.checkout("release-1")
    hotfix = repo.commit(ai_msg("Hotfix"), when=h(2), author=BOB, files={"app.py": edit(5, "y")})
    log.deploy("v1.1", hotfix, h(3))
    repo.checkout("main")
    repo.commit("Feature\n", when=h(4), author=ANN, files={"feature.py": "f = 1\n"})
    ported = cherry_pick(repo, hotfix, h(5))
    log.deploy("v2", ported, h(6))
    later = repo.commit("More\n", when=h(7), author=ANN, files={"more.py": "m = 1\n"})
    log.deploy("v3", later, h(8))
    reach(repo, "release-1")

    report, _ = log.scan()
    assert outcomes(report) == {
        "v1": "survived",
        "v1.1": "survived",
        "v2": "survived",
        "v3": "survived",
    }
    assert {d["id"]: d["counted_ai_changes"] for d in report["deploys"]}["v1.1"] == 1


def test_same_patch_not_reachable_from_r_is_still_a_rollback(repo, log):
    """The hotfix reaches main as a cherry-pick only after the main-line release R: R does not
    run it, so the hotfix deploy was rolled back by R."""
    base = _start(repo, log)
    repo.branch("release-1", base)
    repo.checkout("release-1")
    hotfix = repo.commit("Hotfix\n", when=h(2), author=BOB, files={"app.py": edit(5, "y")})
    log.deploy("v1.1", hotfix, h(3))
    repo.checkout("main")
    feature = repo.commit("Feature\n", when=h(4), author=ANN, files={"feature.py": "f = 1\n"})
    log.deploy("v2", feature, h(5))
    cherry_pick(repo, hotfix, h(6))  # on main, after v2: in the history, not in v2
    reach(repo, "release-1")

    report, _ = log.scan()
    assert outcomes(report) == {"v1": "survived", "v1.1": "rolled_back", "v2": "survived"}
    assert rolled_back_by(report) == {"v1.1": "v2"}


def test_release_branch_with_only_the_fix_rolls_back_the_rest(repo, log):
    """A release branch that cherry-picks the fix but not the feature deployed with it does
    not run the feature: V2 was rolled back."""
    base = _start(repo, log)
    repo.commit("Feature\n", when=h(2), author=ANN, files={"feature.py": "f = 1\n"})
    fix = repo.commit("Fix\n", when=h(2.5), author=BOB, files={"app.py": edit(3, "x")})
    log.deploy("v2", fix, h(3))
    repo.branch("release-2", base)
    repo.checkout("release-2")
    log.deploy("v2.1", cherry_pick(repo, fix, h(4)), h(5))
    reach(repo, "release-2")

    report, _ = log.scan()
    assert outcomes(report) == {"v1": "survived", "v2": "rolled_back", "v2.1": "survived"}
    assert rolled_back_by(report) == {"v2": "v2.1"}


# --- genuine rollbacks --------------------------------------------------------------------


def test_v1_v2_v1_is_rolled_back(repo, log):
    base = _start(repo, log)
    v2 = repo.commit("Two\n", when=h(2), author=ANN, files={"app.py": edit(2, "two")})
    log.deploy("v2", v2, h(3))
    log.deploy("v1-again", base, h(4))

    report, _ = log.scan()
    assert outcomes(report) == {"v1": "survived", "v2": "rolled_back", "v1-again": "survived"}
    assert rolled_back_by(report) == {"v2": "v1-again"}


def test_v1_v2_v3_v1_rolls_back_v2_and_v3(repo, log):
    """Both deploys that ran code V1 does not are rolled back, and so is V3's redeploy: it
    shipped nothing, but a rollback takes its code away all the same (the changes R lacks
    are those of ``R..D``, not only those D shipped)."""
    base = _start(repo, log)
    v2 = repo.commit("Two\n", when=h(2), author=ANN, files={"app.py": edit(2, "two")})
    log.deploy("v2", v2, h(3))
    v3 = repo.commit(
        "Three\n", when=h(4), author=ANN, files={"app.py": edit(3, "three", edit(2, "two"))}
    )
    log.deploy("v3", v3, h(5))
    log.deploy("v3-redeploy", v3, h(5.5))
    log.deploy("v1-again", base, h(6))

    report, _ = log.scan()
    assert outcomes(report) == {
        "v1": "survived",
        "v2": "rolled_back",
        "v3": "rolled_back",
        "v3-redeploy": "rolled_back",
        "v1-again": "survived",
    }
    assert rolled_back_by(report) == {
        "v2": "v1-again",
        "v3": "v1-again",
        "v3-redeploy": "v1-again",
    }


# --- the open point: releases tagged on unmerged version-bump commits ----------------------


def _bump_release(repo: GitRepo, bump_files: dict[str, str]) -> None:
    """v1.0.0 on main; v1.1.0 tagged on a bump commit on a branch never merged; main goes on
    and is released as v1.2.0 (its own bump commit) two days later."""
    repo.commit(
        "Initial\n",
        when=T0,
        author=ANN,
        files={"app.py": APP, "VERSION": "1.0.0\n", "CHANGELOG.md": "# Changes\n"},
    )
    repo.tag("v1.0.0", when=h(1))
    feature = repo.commit(
        ai_msg("Feature"), when=h(2), author=BOB, files={"app.py": edit(4, "feature")}
    )
    repo.branch("release-1.1", feature)
    repo.checkout("release-1.1")
    repo.commit("Release 1.1.0\n", when=h(3), author=ANN, files=bump_files)
    repo.tag("v1.1.0", when=h(4))
    repo.checkout("main")
    repo.commit("Other\n", when=h(24), author=ANN, files={"other.py": "o = 1\n"})
    repo.commit(
        "Release 1.2.0\n",
        when=h(48),
        author=ANN,
        files={"VERSION": "1.2.0\n", "CHANGELOG.md": "# Changes\n\n## 1.2.0\n"},
    )
    repo.tag("v1.2.0", when=h(49))
    reach(repo, "release-1.1")


def _scan_tags(repo: GitRepo, tmp_path, now: datetime = NOW) -> tuple[dict, str]:
    return cold_and_cached(
        repo.path, tmp_path / "cache", deploys=["tags:v*"], now=now, window=WINDOW
    )


def test_version_bump_release_followed_by_main_line_release_survived(repo, tmp_path):
    _bump_release(repo, {"VERSION": "1.1.0\n", "CHANGELOG.md": "# Changes\n\n## 1.1.0\n"})
    report, _ = _scan_tags(repo, tmp_path)
    assert outcomes(report) == {"v1.0.0": "survived", "v1.1.0": "survived", "v1.2.0": "survived"}
    assert {d["id"]: d["counted_ai_changes"] for d in report["deploys"]}["v1.1.0"] == 1


def test_version_bump_that_also_changes_code_decides(repo, tmp_path):
    _bump_release(repo, {"VERSION": "1.1.0\n", "app.py": edit(9, "patched", edit(4, "feature"))})
    report, _ = _scan_tags(repo, tmp_path)
    assert outcomes(report) == {
        "v1.0.0": "survived",
        "v1.1.0": "rolled_back",
        "v1.2.0": "survived",
    }
    assert rolled_back_by(report) == {"v1.1.0": "v1.2.0"}


def test_version_files_from_config_and_off(repo, tmp_path):
    """``version_files: []`` turns the rule off (v1's answer); a project's own list replaces
    the default. The cache, warm from the default's run, does not carry its outcomes over."""
    _bump_release(repo, {"VERSION": "1.1.0\n", "release.json": '{"v": "1.1.0"}\n'})
    config = repo.path / ".normalized-deployments.yml"
    report, _ = _scan_tags(repo, tmp_path)
    assert outcomes(report)["v1.1.0"] == "rolled_back"  # release.json is not a default
    config.write_text("version_files: [VERSION, release.json]\n")
    report, _ = _scan_tags(repo, tmp_path)
    assert outcomes(report)["v1.1.0"] == "survived"
    config.write_text("version_files: []\n")
    report, _ = _scan_tags(repo, tmp_path)
    assert outcomes(report)["v1.1.0"] == "rolled_back"


def test_version_files_must_be_strings(tmp_path):
    cfg = tmp_path / "cfg.yml"
    cfg.write_text("window: 7d\nversion_files:\n  - VERSION\n  - 3\n")
    from scorer.config import load_config

    with pytest.raises(InputError) as err:
        load_config(cfg, tmp_path)
    assert str(err.value) == f"{cfg}:3: version_files must be a list of non-empty strings"


# --- the cache carries outcomes forward by the same rule -----------------------------------


def test_pending_hotfix_judged_by_patch_id_when_carried_forward(repo, log):
    """The hotfix deploy is pending at the first run; the main-line release that holds it as a
    cherry-pick comes after. The cached run carries the outcomes forward (``advance``) and
    judges the pending deploy by patch-id, as a run without the cache does. (The scanned ref
    is a branch that merges main and the release branch, ``-s ours``, at each run: main itself
    never descends from the hotfix.)"""
    base = _start(repo, log)
    repo.branch("release-1", base)
    repo.checkout("release-1")
    hotfix = repo.commit(ai_msg("Hotfix"), when=h(2), author=BOB, files={"app.py": edit(5, "y")})
    log.deploy("v1.1", hotfix, h(3))
    repo.branch("scan", base)

    def scan_all(when: datetime) -> None:
        repo.checkout("scan")
        repo.git("merge", "-q", "-s", "ours", "--no-edit", "main", "release-1", env=_env(when))

    scan_all(h(3.5))
    first, _ = log.scan(now=h(4))
    assert outcomes(first) == {"v1": "pending", "v1.1": "pending"}

    repo.checkout("main")
    repo.commit("Feature\n", when=h(5), author=ANN, files={"feature.py": "f = 1\n"})
    log.deploy("v2", cherry_pick(repo, hotfix, h(6)), h(7))
    scan_all(h(7.5))
    report, use = log.scan()
    assert use == "incremental"
    assert outcomes(report) == {"v1": "survived", "v1.1": "survived", "v2": "survived"}
    assert {d["id"]: d["counted_ai_changes"] for d in report["deploys"]}["v1.1"] == 1


# --- the fast path, and patch-ids as git computes them -------------------------------------


def test_linear_history_asks_git_nothing(repo):
    """Deploys along one line of history are judged by ancestry alone: no diff, no patch-id
    (the callables below count what the rule asks; git itself is real)."""
    shas = []
    for k in range(5):
        shas.append(repo.commit(f"c{k}\n", when=h(k), author=ANN))
    rows = repo.git("log", "--format=%H %P", "HEAD").splitlines()
    graph = Graph.from_shas([r.split()[0] for r in rows], [r.split()[1:] for r in rows])
    asked: list[list[int]] = []
    ids = PatchIds(open_repo(repo.path))

    def decides(changes):
        asked.append(changes)
        return dict.fromkeys(changes, True)

    def patches(changes):
        found = ids([graph.shas[c] for c in changes])
        return {c: found[graph.shas[c]] for c in changes}

    from scorer.model import DeployEvent

    events = [
        DeployEvent(
            id=f"d{k}", sha=sha, environment="production", time=h(k + 0.5), status="success"
        )
        for k, sha in enumerate(shas)
    ]
    deploys = link_deploys(graph, events, WINDOW, NOW, Containment(graph, decides, patches))
    assert [d.outcome for d in deploys] == ["survived"] * 5
    assert asked == [] and ids.batches == 0


def _by_hand(repo: GitRepo, sha: str, *show_args: str) -> str:
    show = subprocess.run(
        ["git", "-C", str(repo.path), "show", *show_args, sha],
        capture_output=True,
        check=True,
        env=repo.env,
    ).stdout
    out = subprocess.run(
        ["git", "-C", str(repo.path), "patch-id", "--stable"],
        input=show,
        capture_output=True,
        check=True,
        env=repo.env,
    ).stdout.decode()
    return out.split()[0] if out.strip() else ""


def test_patch_ids_equal_git_patch_id_by_hand(repo):
    root = repo.commit("Initial\n", when=h(0), author=ANN, files={"app.py": APP, "b.txt": "b\n"})
    modify = repo.commit("Modify\n", when=h(1), author=ANN, files={"app.py": edit(7, "seven")})
    add = repo.commit("Add\n", when=h(2), author=ANN, files={"new.py": "n = 1\n"})
    both = repo.commit(
        "Both\n", when=h(3), author=ANN, files={"b.txt": None, "app.py": edit(1, "one")}
    )
    binary = repo.commit("Binary\n", when=h(4), author=ANN, files={"logo.bin": b"\0\1\2\3"})
    empty = repo.commit("Empty\n", when=h(5), author=ANN, empty=True)
    repo.git("mv", "new.py", "renamed.py")
    renamed = repo.commit("Rename\n", when=h(6), author=ANN, files={})
    repo.branch("side", root)
    repo.checkout("side")
    picked = cherry_pick(repo, modify, h(7))

    found = patch_ids(
        open_repo(repo.path), [root, modify, add, both, picked, binary, empty, renamed]
    )
    for sha in (root, modify, add, both, picked):
        assert found[sha] == _by_hand(repo, sha), sha
    # git show abbreviates a binary change's blob ids and finds renames; the diff git cherry
    # hashes (and this module) does neither.
    assert found[binary] == _by_hand(repo, binary, "--full-index")
    assert found[renamed] == _by_hand(repo, renamed, "--no-renames")
    assert found[renamed] != _by_hand(repo, renamed)
    assert found[picked] == found[modify] and found[picked] is not None
    assert found[empty] is None and _by_hand(repo, empty) == ""
    assert len({found[s] for s in (root, modify, add, both, binary, renamed)}) == 6


# --- random histories with cherry-picks, against git cherry --------------------------------


def _random_picks(repo: GitRepo, seed: int, n: int) -> list[str]:
    """A random history of branches, merges and cherry-picks (each commit adds its own file,
    so a pick applies cleanly; one that would be empty is skipped)."""
    rng = random.Random(seed)
    branches = ["main"]
    shas = [repo.commit("root\n", when=T0 - timedelta(hours=1))]
    changes: list[str] = []
    for i in range(n):
        action = rng.random()
        when = T0 + timedelta(hours=i)
        if action < 0.12 and len(branches) < 4:
            name = f"b{i}"
            repo.branch(name)
            branches.append(name)
            repo.checkout(name)
        elif action < 0.24 and len(branches) > 1:
            other = rng.choice([b for b in branches if b != "main"])
            repo.checkout("main")
            shas.append(repo.merge(other, when=when))
            continue
        elif action < 0.32:
            repo.checkout(rng.choice(branches))
        elif action < 0.5 and changes:
            before = repo.head()
            repo.git("cherry-pick", rng.choice(changes), env=_env(when), check=False)
            if repo.head() == before:  # already on this branch: nothing to pick
                repo.git("cherry-pick", "--abort", check=False)
                repo.git("reset", "-q", "--hard", check=False)
                continue
            shas.append(repo.head())
            continue
        changes.append(repo.commit(f"commit {i}\n", when=when))
        shas.append(changes[-1])
    return shas


def _git_cherry_contains(repo: GitRepo, d: str, r: str) -> bool:
    """Section 5 (v2) read through ``git cherry R D``: every change D runs that R does not
    has an equivalent in R (no ``+`` line). Every change here adds a file of code: all
    decide."""
    lines = repo.git("cherry", r, d).splitlines()
    return not any(line.startswith("+") for line in lines)


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
def test_outcomes_match_git_cherry_on_random_histories(repo, tmp_path):
    from scorer.accelerator import ScannedHistory, containment
    from scorer.config import Config, effective_settings
    from scorer.git.diffs import Substance
    from scorer.git.paths import PathFilter
    from scorer.model import DeployEvent
    from scorer.outcomes.linking import order_events

    shas = _random_picks(repo, seed=5, n=45)
    repo.checkout("main")
    repo.git(
        "merge",
        "-q",
        "-s",
        "ours",
        "--no-edit",
        *repo.git("for-each-ref", "--format=%(refname:short)", "refs/heads/b*").split(),
        env=_env(T0 + timedelta(days=30)),
        check=False,
    )
    rows = repo.git("log", "--format=%H %P", "HEAD").splitlines()
    graph = Graph.from_shas([r.split()[0] for r in rows], [r.split()[1:] for r in rows])
    shas = [s for s in shas if s in graph.index]
    git = open_repo(repo.path)
    settings = effective_settings(Config())
    window = timedelta(days=2)
    rng = random.Random(9)
    by_patch = 0  # pairs contained by patch-id only: the test must meet some
    for trial in range(10):
        history = ScannedHistory(None, graph)  # type: ignore[arg-type]
        contains = containment(history, settings, Substance(git, PathFilter(())))
        t, events = T0, []
        for k in range(rng.randint(3, 10)):
            t += timedelta(hours=rng.choice([0, 6, 12, 30, 60]))
            events.append(
                DeployEvent(
                    id=f"t{trial}-{k}",
                    sha=rng.choice(shas),
                    environment="production",
                    time=t,
                    status="success",
                )
            )
        now = t + timedelta(days=10)
        got = {r.event.id: r.outcome for r in link_deploys(graph, events, window, now, contains)}
        ordered = order_events(events)
        want = {}
        for i, d in enumerate(ordered):
            rolled = any(
                d.time < r.time <= d.time + window and not _git_cherry_contains(repo, d.sha, r.sha)
                for r in ordered[i + 1 :]
            )
            want[d.id] = "rolled_back" if rolled else "survived"
            by_patch += sum(
                1
                for r in ordered[i + 1 :]
                if not graph.contains(graph.index[d.sha], graph.index[r.sha])
                and _git_cherry_contains(repo, d.sha, r.sha)
            )
        assert got == want, trial
    assert by_patch > 0
