"""Substantive verdicts outlive the commit cache (issue 12, item 3): a .mailmap edit throws
the commit cache away, and the next run diffs nothing it judged before; another
``exclude_paths`` or another version of section 1's rule does not reuse them. The file
itself: appended block by block, a cut-short block dropped, another key started afresh."""

from __future__ import annotations

import json
import zlib
from datetime import timedelta

import pytest
from conftest import T0
from scenario import ANN, BOB, ai_msg

import scorer.git.diffs as diffs
from scorer.git.log import history_rewrites, open_repo
from scorer.incremental import verdicts as store
from scorer.pipeline import ScanOptions, run_scan

NOW = T0 + timedelta(days=40)
D = timedelta(days=1)
A = "a" * 40
B = "b" * 40
C = "c" * 40


# --- the file ---------------------------------------------------------------------------


def test_verdicts_are_kept_block_by_block_and_read_back(tmp_path):
    key = store.verdict_key([])
    store.append(tmp_path, key, {A: True, B: False})
    store.append(tmp_path, key, {C: True})
    assert store.load(tmp_path, key) == {A: True, B: False, C: True}
    data = (tmp_path / store.VERDICTS_FILE).read_bytes()
    header, _, body = data.partition(b"\n")
    assert json.loads(header) == {"format": store.FORMAT, "key": key, "width": 20}
    assert len(body) == 2 * 8 + 3 * 21  # two blocks: length and CRC, then 21 bytes a verdict


def test_another_key_reads_nothing_and_starts_the_file_afresh(tmp_path):
    store.append(tmp_path, store.verdict_key([]), {A: True})
    other = store.verdict_key(["docs/**"])
    assert other != store.verdict_key([])
    assert store.load(tmp_path, other) == {}
    store.append(tmp_path, other, {B: False})
    assert store.load(tmp_path, other) == {B: False}
    assert store.load(tmp_path, store.verdict_key([])) == {}


def test_a_block_cut_short_ends_the_file_and_the_next_append_drops_it(tmp_path):
    key = store.verdict_key([])
    store.append(tmp_path, key, {A: True})
    store.append(tmp_path, key, {B: False})
    path = tmp_path / store.VERDICTS_FILE
    path.write_bytes(path.read_bytes()[:-5])  # a write cut short
    assert store.load(tmp_path, key) == {A: True}
    store.append(tmp_path, key, {C: True})
    assert store.load(tmp_path, key) == {A: True, C: True}
    assert path.read_bytes().count(b"\n") >= 1


def test_a_block_whose_checksum_fails_is_not_used(tmp_path):
    key = store.verdict_key([])
    store.append(tmp_path, key, {A: True})
    store.append(tmp_path, key, {B: True})
    path = tmp_path / store.VERDICTS_FILE
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # B's verdict byte flipped: its block's CRC fails
    path.write_bytes(bytes(data))
    assert store.load(tmp_path, key) == {A: True}


def test_many_blocks_are_folded_into_one(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "_BLOCKS", 3)
    key = store.verdict_key([])
    for k in range(5):
        store.append(tmp_path, key, {f"{k:040x}": k % 2 == 0})
    body = (tmp_path / store.VERDICTS_FILE).read_bytes().partition(b"\n")[2]
    length = int.from_bytes(body[:4], "little")
    assert zlib.crc32(body[8 : 8 + length]) == int.from_bytes(body[4:8], "little")
    assert len(body) < 5 * (8 + 21)  # folded at the fourth append
    assert store.load(tmp_path, key) == {f"{k:040x}": k % 2 == 0 for k in range(5)}


def test_another_version_of_section_1s_rule_is_another_key(monkeypatch):
    before = store.verdict_key([])
    monkeypatch.setattr(store, "SUBSTANTIVE_RULES", store.SUBSTANTIVE_RULES + 1)
    assert store.verdict_key([]) != before


# --- a scan with a cache ------------------------------------------------------------------


@pytest.fixture
def counted(monkeypatch):
    """How many ``git diff-tree`` batches the scans start (git runs as always)."""
    started = [0]
    real = diffs._DiffTree.__init__

    def init(self, repo):
        started[0] += 1
        real(self, repo)

    monkeypatch.setattr(diffs._DiffTree, "__init__", init)
    return started


def _history(repo):
    repo.commit("Initial\n", when=T0 - 60 * D, author=ANN, files={"app.py": "a = 1\n"})
    for k in range(6):
        repo.commit(ai_msg(f"Work {k}"), when=T0 + (6 + k) * D, author=(ANN, BOB)[k % 2])
    repo.commit(
        ai_msg("Spaces"), when=T0 + 13 * D, author=ANN, files={"app.py": "a  =  1\n"}
    )  # trivial
    repo.tag("v1", when=T0 + 14 * D)


def _key(repo, exclude=()):
    return store.verdict_key(list(exclude), history_rewrites(open_repo(repo.path)))


def _scan(repo, cache):
    result = run_scan(
        ScanOptions(path=repo.path, deploys=["tags:v*"], now=NOW, progress=False, cache=cache)
    )
    report = dict(result.report)
    report.pop("generated_at")
    return report, result


def test_a_mailmap_edit_throws_the_commit_cache_away_but_not_the_verdicts(
    repo, tmp_path, counted, capsys
):
    _history(repo)
    cache = tmp_path / "cache"
    _, first = _scan(repo, cache)
    assert first.cache_use == "cold" and counted[0] >= 1
    kept = store.load(cache, _key(repo))
    assert len(kept) == 7 and sum(kept.values()) == 6  # six real changes, one trivial

    (repo.path / ".mailmap").write_text("Ann Lee <ann@example.com> <ann@old.example.com>\n")
    counted[0] = 0
    again, second = _scan(repo, cache)
    assert "cache not used" in capsys.readouterr().err
    assert second.cache_use == "cold"
    assert counted[0] == 0  # every verdict it needed was kept
    plain, _ = _scan(repo, None)
    assert again == plain


def test_other_exclude_paths_judge_again(repo, tmp_path, counted):
    _history(repo)
    cache = tmp_path / "cache"
    _scan(repo, cache)
    (repo.path / ".normalized-deployments.yml").write_text("exclude_paths:\n  - docs/**\n")
    counted[0] = 0
    _, result = _scan(repo, cache)
    assert result.cache_use == "cold"
    assert counted[0] >= 1
    assert len(store.load(cache, _key(repo, ["docs/**"]))) == 7


def test_a_replaced_parent_judges_again(repo, tmp_path, counted):
    """``git replace --graft`` gives a commit another parent, hence another diff: the kept
    verdicts are not used."""
    _history(repo)
    cache = tmp_path / "cache"
    _scan(repo, cache)
    spaces = repo.git("rev-parse", "HEAD").strip()
    root = repo.git("rev-list", "--max-parents=0", "HEAD").strip()
    repo.git("replace", "--graft", spaces, root)  # its parent is now the root commit
    counted[0] = 0
    _, result = _scan(repo, cache)
    assert result.cache_use == "cold"
    assert counted[0] >= 1


def test_a_warm_run_with_nothing_new_diffs_nothing(repo, tmp_path, counted):
    """A person-week's first change is judged substantive: its later changes are never
    asked of git, neither by the cold run nor by the next one (whose cache knows that
    verdict, not theirs)."""
    _history(repo)
    for k in range(3):  # one person-week of the trend's earlier weeks: three real changes
        repo.commit(
            f"Early {k}\n",
            when=T0 - 20 * D + k * timedelta(hours=1),
            author=ANN,
            files={f"e{k}.py": "1\n"},
        )
    cache = tmp_path / "cache"
    cold, _ = _scan(repo, cache)
    counted[0] = 0
    warm, result = _scan(repo, cache)
    assert result.cache_use == "incremental"
    assert counted[0] == 0
    assert warm == cold
