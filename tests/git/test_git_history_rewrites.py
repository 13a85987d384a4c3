"""``git replace`` and ``info/grafts`` change the history ``git log`` shows without moving
HEAD: they are part of the cache key, so a cached scan reports what a cold scan does (issue 13,
case 4)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from gitbuild import GitRepo
from scenario import ai_msg, cold_and_cached

from scorer.git.log import history_rewrites, open_repo
from scorer.pipeline import ScanOptions, run_scan
from scorer.util.times import iso

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(days=30)


def build(tmp_path) -> tuple[GitRepo, dict, dict]:
    """c1 <- c2 (AI) <- c3 (AI) <- c4; deploys of c2 (d1) and c4 (d2)."""
    r = GitRepo(tmp_path / "repo")
    c = {
        "c1": r.commit("Initial", when=T0),
        "c2": r.commit(ai_msg("Add parser"), when=T0 + timedelta(days=1)),
        "c3": r.commit(ai_msg("Add cache"), when=T0 + timedelta(days=2)),
        "c4": r.commit("Tune", when=T0 + timedelta(days=3)),
    }
    log = tmp_path / "deploys.jsonl"
    rows = [
        {"id": "d1", "sha": c["c2"], "time": iso(T0 + timedelta(days=1, hours=1))},
        {"id": "d2", "sha": c["c4"], "time": iso(T0 + timedelta(days=3, hours=1))},
    ]
    log.write_text("".join(json.dumps({**row, "status": "success"}) + "\n" for row in rows))
    options = {"deploys": [f"log:{log}"], "now": NOW}
    return r, c, options


def _figures(report: dict) -> tuple:
    return (
        report["metric"]["ai_deploys_survived"],
        sorted(d["id"] for d in report["deploys"]),
        [s["kind"] for s in report["signals"]],
    )


@pytest.mark.parametrize("how", ["replace", "grafts"])
def test_cached_scan_follows_a_history_rewritten_with_head_unmoved(tmp_path, how):
    r, c, options = build(tmp_path)
    cache = tmp_path / "cache"
    before, _ = cold_and_cached(r.path, cache, **options)
    head = r.head()
    if how == "replace":
        r.git("replace", "--graft", c["c4"], c["c1"])  # c2 and c3 leave the history
    else:
        (r.path / ".git" / "info").mkdir(exist_ok=True)
        (r.path / ".git" / "info" / "grafts").write_text(f"{c['c4']} {c['c1']}\n")
    assert r.head() == head
    after, use = cold_and_cached(r.path, cache, **options)  # asserts cold == cached
    assert use == "cold"  # the key changed: the cache was rebuilt
    assert _figures(before) == (2, ["d1", "d2"], [])
    # v2: d1's commit is still history (what production ran), but no longer under d2
    assert _figures(after) == (0, ["d1", "d2"], [])


def test_no_replace_objects_is_part_of_the_key(tmp_path, monkeypatch):
    r, c, _ = build(tmp_path)
    r.git("replace", "--graft", c["c4"], c["c1"])
    repo = open_repo(r.path)
    with_replace = history_rewrites(repo)
    monkeypatch.setenv("GIT_NO_REPLACE_OBJECTS", "1")
    assert history_rewrites(repo) != with_replace
    monkeypatch.delenv("GIT_NO_REPLACE_OBJECTS")
    r.git("pack-refs", "--all")  # packed, the replace ref is still seen
    packed = history_rewrites(repo)
    assert c["c4"].encode() in packed and packed != b"0\0\0"
    r.git("replace", "-d", c["c4"])
    assert history_rewrites(repo) == b"0\0\0"  # no replace ref, no grafts


def test_a_cached_scan_without_rewrites_reads_its_cache(tmp_path):
    r, _, options = build(tmp_path)
    cache = tmp_path / "cache"
    run_scan(ScanOptions(path=r.path, cache=cache, progress=False, **options))
    result = run_scan(ScanOptions(path=r.path, cache=cache, progress=False, **options))
    assert result.cache_use == "incremental"  # the key holds: history_rewrites is stable
