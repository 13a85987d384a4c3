"""The incremental cache: a cached run's report equals an uncached run's, key for key (but
generated_at), after every kind of change; whatever invalidates the cache is said once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import T0
from scenario import ANN, BOB, ai_msg

from scorer.cli import main
from scorer.incremental import cache

NOW = "2026-10-20T00:00:00Z"


def _scan(capsys, repo, *extra):
    code = main(["scan", str(repo.path), "--format", "json", "--now", NOW, *extra])
    out = capsys.readouterr()
    assert code == 0, out.err
    report = json.loads(out.out)
    report.pop("generated_at")
    return report, out.err


def _both(capsys, repo, cache_dir, *extra):
    """(uncached report, cached report, stderr of the cached run)."""
    plain, _ = _scan(capsys, repo, *extra)
    cached, err = _scan(capsys, repo, "--cache", str(cache_dir), *extra)
    return plain, cached, err


def _history(repo, n=12, start=0):
    for i in range(start, start + n):
        when = T0 + timedelta(days=i)
        msg = ai_msg(f"AI change {i}") if i % 3 == 0 else f"Human change {i}\n"
        repo.commit(msg, when=when, author=ANN if i % 2 else BOB)
        if i % 4 == 3:
            repo.tag(f"v{i}", when=when + timedelta(hours=2))


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "cache"


def test_cold_then_warm_equal_and_file_written(capsys, repo, cache_dir):
    _history(repo)
    plain, cold, err = _both(capsys, repo, cache_dir)
    assert plain == cold and err == ""
    assert cache.cache_path(cache_dir).is_file()
    warm, err = _scan(capsys, repo, "--cache", str(cache_dir))
    assert warm == plain and err == ""
    assert sum(w["ai_deploys_survived"] for w in warm["weeks"]) > 0  # not a trivial report


def test_new_commits_and_tags_are_read_incrementally(capsys, repo, cache_dir):
    _history(repo)
    _scan(capsys, repo, "--cache", str(cache_dir))
    _history(repo, n=10, start=12)
    repo.revert(
        repo.git("rev-list", "-n1", "--grep", "AI change 12", "HEAD"), when=T0 + timedelta(days=23)
    )
    plain, warm, err = _both(capsys, repo, cache_dir)
    assert warm == plain and err == ""
    state = cache.load(cache_dir, _key(cache_dir))
    assert state.head == repo.head() and len(state.table) == 23


def _key(cache_dir):
    # the key of the file on disk: read it back from the header
    data = cache.cache_path(cache_dir).read_bytes()
    size = int.from_bytes(data[len(cache.MAGIC) : len(cache.MAGIC) + 8], "little")
    return json.loads(data[len(cache.MAGIC) + 8 : len(cache.MAGIC) + 8 + size])["key"]


def test_merges_and_branches_after_the_cache(capsys, repo, cache_dir):
    _history(repo, n=6)
    _scan(capsys, repo, "--cache", str(cache_dir))
    repo.branch("topic")
    repo.checkout("topic")
    repo.commit(ai_msg("On topic"), when=T0 + timedelta(days=7), author=BOB)
    repo.checkout("main")
    repo.commit("On main\n", when=T0 + timedelta(days=7, hours=1), author=ANN)
    repo.merge("topic", when=T0 + timedelta(days=8))
    repo.tag("v-merge", when=T0 + timedelta(days=8, hours=1))
    plain, warm, err = _both(capsys, repo, cache_dir)
    assert warm == plain and err == ""


def test_force_push_falls_back_to_cold(capsys, repo, cache_dir):
    _history(repo)
    _scan(capsys, repo, "--cache", str(cache_dir))
    repo.git("reset", "-q", "--hard", "HEAD~3")
    repo.commit(ai_msg("Rewritten"), when=T0 + timedelta(days=13), author=ANN)
    plain, warm, err = _both(capsys, repo, cache_dir)
    assert warm == plain
    assert err.startswith("scorer: cache not used: its head ")
    assert "(a cache of another branch, or a rewritten history); scanning the whole" in err
    # the rebuilt cache is used from then on
    again, err = _scan(capsys, repo, "--cache", str(cache_dir))
    assert again == plain and err == ""


def test_long_rewritten_history_is_found_out_early(capsys, repo, cache_dir, monkeypatch):
    """New commits are read before the cache; a rewritten history lists everything since the
    rewrite, so past a number of rows git is asked whether the cached head is still in the
    history rather than reading them all."""
    from scorer.incremental import session as scan

    monkeypatch.setattr(scan, "_ASK_ANCESTRY_AFTER", 2)
    _history(repo)
    _scan(capsys, repo, "--cache", str(cache_dir))
    repo.git("reset", "-q", "--hard", "HEAD~6")
    for k in range(4):
        repo.commit(f"Rewritten {k}\n", when=T0 + timedelta(days=13 + k), author=ANN)
    plain, warm, err = _both(capsys, repo, cache_dir)
    assert warm == plain
    assert err.startswith("scorer: cache not used: its head ")
    assert "(a cache of another branch, or a rewritten history)" in err


def test_many_new_commits_on_top_of_the_cache(capsys, repo, cache_dir, monkeypatch):
    from scorer.incremental import session as scan

    monkeypatch.setattr(scan, "_ASK_ANCESTRY_AFTER", 2)
    _history(repo, n=6)
    _scan(capsys, repo, "--cache", str(cache_dir))
    _history(repo, n=7, start=6)
    plain, warm, err = _both(capsys, repo, cache_dir)
    assert warm == plain and err == ""


def test_cached_head_reached_through_a_second_parent(capsys, repo, cache_dir):
    """The cached head is in the new history only as the second parent of a merge: still
    the cache's history, extended."""
    _history(repo, n=6)
    _scan(capsys, repo, "--cache", str(cache_dir))
    repo.branch("other", "HEAD~2")
    repo.checkout("other")
    repo.commit(ai_msg("On other"), when=T0 + timedelta(days=7), author=BOB)
    repo.merge("main", when=T0 + timedelta(days=8))
    plain, warm, err = _both(capsys, repo, cache_dir)
    assert warm == plain and err == ""
    assert warm["history"]["commits"] == 8


@pytest.mark.parametrize(
    "config",
    [
        "exclude_paths: ['src/**']\n",
        "agents:\n  - id: acme\n    name: ACME\n    values: ['acme']\n",
    ],
)
def test_config_change_invalidates(capsys, repo, cache_dir, tmp_path, config):
    _history(repo)
    _scan(capsys, repo, "--cache", str(cache_dir))
    cfg = tmp_path / "cfg.yml"
    cfg.write_text(config)
    plain, warm, err = _both(capsys, repo, cache_dir, "--config", str(cfg))
    assert warm == plain
    assert err == (
        "scorer: cache not used: agent registry, exclude_paths, .mailmap or git-ai "
        "notes changed; scanning the whole history\n"
    )


def test_window_change_does_not_invalidate(capsys, repo, cache_dir):
    _history(repo)
    _scan(capsys, repo, "--cache", str(cache_dir))
    plain, warm, err = _both(capsys, repo, cache_dir, "--window", "3d")
    assert warm == plain and err == ""


def test_mailmap_change_invalidates(capsys, repo, cache_dir):
    _history(repo)
    _scan(capsys, repo, "--cache", str(cache_dir))
    (repo.path / ".mailmap").write_text("Bob Roy <ann@example.com> <bob@example.com>\n")
    plain, warm, err = _both(capsys, repo, cache_dir)
    assert warm == plain and "mailmap" in err
    assert plain["metric"]["contributors"] in (0, 1)


def test_new_ai_notes_invalidate(capsys, repo, cache_dir):
    _history(repo, n=4)
    _scan(capsys, repo, "--cache", str(cache_dir))
    note = (
        'src/file1.txt\n  s_abc 1-1\n---\n{"schema_version": "authorship/3.0.0", '
        '"sessions": {"s_abc": {"agent_id": {"tool": "cursor", "id": "x", '
        '"model": "m"}}}, "prompts": {}}\n'
    )
    repo.git(
        "notes",
        "--ref=ai",
        "add",
        "-m",
        note,
        repo.git("rev-parse", "HEAD~1"),
        env={
            "GIT_COMMITTER_NAME": "N",
            "GIT_COMMITTER_EMAIL": "n@example.com",
            "GIT_AUTHOR_NAME": "N",
            "GIT_AUTHOR_EMAIL": "n@example.com",
        },
    )
    plain, warm, err = _both(capsys, repo, cache_dir)
    assert warm == plain and "git-ai notes" in err


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "flip"])
def test_corrupt_cache_file(capsys, repo, cache_dir, damage):
    _history(repo)
    _scan(capsys, repo, "--cache", str(cache_dir))
    path = cache.cache_path(cache_dir)
    data = path.read_bytes()
    damaged = {
        "truncate": data[: len(data) // 2],
        "garbage": b"\x00\xffnot a cache" * 10,
        "empty": b"",
        "flip": data[:-10] + bytes(b ^ 0xFF for b in data[-10:]),
    }[damage]
    path.write_bytes(damaged)
    plain, warm, err = _both(capsys, repo, cache_dir)
    assert warm == plain
    assert err.startswith("scorer: cache not used: ") and err.count("\n") == 1


def test_cache_of_another_repository(capsys, repo, cache_dir, tmp_path):
    from gitbuild import GitRepo

    other = GitRepo(tmp_path / "other")
    other.commit("Unrelated\n", when=T0, author=ANN)
    _scan(capsys, other, "--cache", str(cache_dir))
    _history(repo)
    plain, warm, err = _both(capsys, repo, cache_dir)
    assert warm == plain
    assert "made for another repository" in err


def test_cached_runs_in_ci_too(capsys, repo, cache_dir, tmp_path, monkeypatch):
    _history(repo)
    for key in list(__import__("os").environ):
        if key.startswith("GITHUB_"):
            monkeypatch.delenv(key)
    out = tmp_path / "r.json"
    code = main(
        [
            "ci",
            str(repo.path),
            "--cache",
            str(cache_dir),
            "--report-path",
            str(out),
            "--now",
            NOW,
            "--comment",
            "off",
        ]
    )
    capsys.readouterr()
    assert code == 0 and cache.cache_path(cache_dir).is_file()


def test_cache_is_not_pickle(repo, cache_dir, capsys):
    _history(repo, n=3)
    _scan(capsys, repo, "--cache", str(cache_dir))
    data = cache.cache_path(cache_dir).read_bytes()
    assert data.startswith(b"SCORER-CACHE\n")
    assert b"\x80\x04\x95" not in data[:20]


def test_segments_are_appended_then_compacted(capsys, repo, cache_dir, monkeypatch):
    """Each warm run appends one segment of new rows; past MAX_SEGMENTS they are rewritten
    as one. Rows a failed run appended but never named are cut off."""
    monkeypatch.setattr(cache, "MAX_SEGMENTS", 3)
    _history(repo, n=4)
    _scan(capsys, repo, "--cache", str(cache_dir))
    for step in range(4):
        repo.commit(ai_msg(f"more {step}"), when=T0 + timedelta(days=20 + step), author=ANN)
        plain, warm, err = _both(capsys, repo, cache_dir)
        assert warm == plain and err == ""
        segments = cache.read_header(cache_dir)["segments"]
        assert len(segments) == [2, 3, 1, 2][step]
    rows = cache_dir / cache.COMMITS_FILE
    with rows.open("ab") as fh:
        fh.write(b"half of a segment from a run that died")
    repo.commit("last\n", when=T0 + timedelta(days=30), author=BOB)
    plain, warm, err = _both(capsys, repo, cache_dir)
    assert warm == plain and err == ""
    end = sum(cache.read_header(cache_dir)["segments"][-1])
    assert rows.stat().st_size == end


def test_damaged_column_found_when_first_read(capsys, repo, cache_dir):
    """SHAs are read only when a run needs a cached one; damage found then restarts the scan
    without the cache, with the one line, and the report is still right."""
    _history(repo)
    _scan(capsys, repo, "--cache", str(cache_dir))
    rows = cache_dir / cache.COMMITS_FILE
    data = bytearray(rows.read_bytes())
    header = cache.read_header(cache_dir)
    offset, _ = header["segments"][0]
    # the first column (shas) starts right after the segment header and its checksum
    size = int.from_bytes(data[offset + len(cache.SEGMENT_MAGIC) :][:8], "little")
    shas_at = offset + len(cache.SEGMENT_MAGIC) + 8 + size + 4
    data[shas_at] ^= 0xFF
    rows.write_bytes(bytes(data))
    plain, _ = _scan(capsys, repo)
    # a report that needs every SHA (a burst of trivial changes names its first one)
    warm, err = _scan(capsys, repo, "--cache", str(cache_dir), "--since", "2026-01-01T00:00:00Z")
    cold, _ = _scan(capsys, repo, "--since", "2026-01-01T00:00:00Z")
    assert warm == cold
    assert err == "scorer: cache not used: corrupt cache file (shas); scanning the whole history\n"
    again, err = _scan(capsys, repo, "--cache", str(cache_dir))
    assert again == plain and err == ""


def test_source_memos_round_trip(tmp_path):
    """Memos of string lists are packed as lines; anything else stays JSON; both read back
    equal, and a damaged file is an empty memo, never an error."""
    memos = {
        "tags:v*": {"a" * 40: ["tag", "commit", "b" * 40, "1700000000", "", ""], "c" * 40: []},
        "tags:odd": {"x": ["has\nnewline"], "y": ["ok"]},
        "log:deploys.csv": {"n": 3},
    }
    cache.save_memos(tmp_path, json.loads(json.dumps(memos)), "")
    back, text = cache.load_memos(tmp_path)
    assert back == memos and text
    (tmp_path / cache.SOURCES_FILE).write_text(text[: len(text) // 2])
    assert cache.load_memos(tmp_path) == ({}, "")


def test_cache_of_an_older_format_is_said_and_replaced(capsys, repo, cache_dir):
    _history(repo, n=4)
    cache_dir.mkdir()
    (cache_dir / "scorer-history.cache").write_bytes(b"SCORER-CACHE\n" + b"\0" * 40)
    plain, warm, err = _both(capsys, repo, cache_dir)
    assert warm == plain
    assert err == (
        "scorer: cache not used: made by an older scorer (another cache format); "
        "scanning the whole history\n"
    )
    assert not (cache_dir / "scorer-history.cache").exists()
    again, err = _scan(capsys, repo, "--cache", str(cache_dir))
    assert again == plain and err == ""
