"""The cache of the code survival stage (METRIC.md section 10): a run whose S did not move
blames nothing again; one whose S moved re-blames only the files a commit in between
touched; either way the report equals a run without the cache."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from gitbuild import GitRepo
from scenario import BOB, Scenario, ai_msg

from scorer.incremental.session import Session
from scorer.pipeline import ScanOptions, scan

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def ago(d: float) -> datetime:
    return NOW - timedelta(days=d)


def _scan(sc: Scenario, cache, now=NOW) -> tuple[dict, Session | None]:
    sc.log.write_text("".join(json.dumps(d) + "\n" for d in sc.deploys))
    opts = ScanOptions(path=sc.repo.path, deploys=[f"log:{sc.log}"], now=now, progress=False,
                       cache=cache, horizon=timedelta(days=30))  # fmt: skip
    if cache is None:
        from scorer.accelerator import Accelerator

        return scan(opts, Accelerator()).report["code_survival"], None
    session = Session(cache)
    return scan(opts, session).report["code_survival"], session


def _history(tmp_path) -> Scenario:
    repo = GitRepo(tmp_path / "repo")
    sc = Scenario(repo, tmp_path)
    sc.deploy(repo.commit("base", when=ago(80), files={"README": "x\n"}), ago(79))
    files = {f"f{k}.py": "".join(f"line {k}.{n}\n" for n in range(5)) for k in range(4)}
    repo.commit(ai_msg("A"), when=ago(50), files=files)
    h = repo.commit("H", when=ago(49), author=BOB, files={"h.py": "h1\nh2\n"})
    sc.deploy(h, ago(48))
    last = repo.commit("L", when=ago(5), author=BOB, files={"f0.py": "line 0.0\n"})
    sc.deploy(last, ago(4))
    return sc


def test_unmoved_s_blames_nothing_again(tmp_path):
    # 5 files at S, and f0.py (where A lost lines) at A's rework state: 6 blames, once.
    sc = _history(tmp_path)
    cold, _ = _scan(sc, None)
    first, s1 = _scan(sc, tmp_path / "cache")
    assert first == cold
    assert (s1._blame_cache.reused, s1._blame_cache.blamed) == (0, 6)
    assert (tmp_path / "cache" / "survival.json").is_file()
    again, s2 = _scan(sc, tmp_path / "cache")
    assert again == cold
    assert (s2._blame_cache.reused, s2._blame_cache.blamed) == (6, 0)
    assert cold["ai"] == {"surviving_lines": 16, "added_lines": 20, "rate": 0.8, "changes": 1}


def test_moved_s_reblames_only_touched_files(tmp_path):
    sc = _history(tmp_path)
    _scan(sc, tmp_path / "cache")
    repo = sc.repo
    newer = repo.commit("M", when=ago(2), author=BOB, files={"f1.py": "line 1.0\n"})
    sc.deploy(newer, ago(1))
    cold, _ = _scan(sc, None)
    warm, session = _scan(sc, tmp_path / "cache")
    assert warm == cold
    assert warm["deploy_sha"] == newer
    # f1.py alone changed between the two S: re-blamed at S, and now at the rework state
    # too (A lost lines in it); the other 4 at S and f0.py at the rework state reused.
    assert (session._blame_cache.reused, session._blame_cache.blamed) == (5, 2)
    assert cold["ai"]["surviving_lines"] == 12


def test_damaged_file_is_ignored(tmp_path):
    sc = _history(tmp_path)
    cold, _ = _scan(sc, None)
    _scan(sc, tmp_path / "cache")
    path = tmp_path / "cache" / "survival.json"
    data = json.loads(path.read_text())
    for key in data["blames"]:
        data["blames"][key] = {p: "not counts" for p in data["blames"][key]}
    path.write_text(json.dumps(data))
    warm, _ = _scan(sc, tmp_path / "cache")
    assert warm == cold
    path.write_text("{not json")
    warm, _ = _scan(sc, tmp_path / "cache")
    assert warm == cold


def test_next_day_with_a_newer_boundary_reuses_the_blames(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    sc = Scenario(repo, tmp_path)
    sc.deploy(repo.commit("base", when=ago(80), files={"README": "x\n"}), ago(79))
    one = repo.commit(ai_msg("one"), when=ago(57), files={"one.py": "1\n2\n", "both.py": "a\n"})
    sc.deploy(one, ago(56.5))
    two = repo.commit("two", when=ago(45), author=BOB, files={"two.py": "3\n", "both.py": "a\nb\n"})
    sc.deploy(two, ago(44))
    sc.deploy(repo.commit("L", when=ago(5), author=BOB, files={"one.py": "1\n"}), ago(4))
    first, _ = _scan(sc, tmp_path / "cache")
    assert first["ai"]["changes"] == 1 and first["human"]["changes"] == 1
    # Three days later "one" has left the cohort: the blame boundary is now two's parent
    # (a descendant of one's parent), S is the same: nothing is blamed again.
    later = NOW + timedelta(days=3)
    cold, _ = _scan(sc, None, later)
    warm, s2 = _scan(sc, tmp_path / "cache", later)
    assert warm == cold
    assert cold["ai"]["changes"] == 0
    assert cold["human"] == {"surviving_lines": 2, "added_lines": 2, "rate": 1.0, "changes": 1}
    assert s2._blame_cache.blamed == 0 and s2._blame_cache.reused == 2
