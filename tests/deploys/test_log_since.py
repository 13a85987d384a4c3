"""``log:`` reads only what was appended since the last run (issue 12): a JSON Lines log
vouches for its past by length, line count and digest; any other change reads it all and
says why in one line."""

from __future__ import annotations

import json
from datetime import timedelta

from conftest import T0
from scenario import ANN, ai_msg, cold_and_cached

from scorer.deploys import load_appended, load_events, parse_spec
from scorer.deploys.interface import SourceContext
from scorer.util.times import iso


def _line(sha: str, when, ident: str) -> str:
    return json.dumps({"sha": sha, "time": iso(when), "id": ident}) + "\n"


def _ctx(tmp_path) -> SourceContext:
    return SourceContext(repo_path=tmp_path, git_dir=tmp_path, base_dir=tmp_path)


def test_appended_lines_only_with_their_line_numbers(tmp_path, capsys):
    log = tmp_path / "deploys.jsonl"
    log.write_text(_line("a" * 40, T0, "d1") + "\n" + _line("b" * 40, T0, "d2"))
    spec = parse_spec(f"log:{log}")
    marks: dict = {}
    assert [e.id for e in load_events([spec], _ctx(tmp_path), marks=marks)] == ["d1", "d2"]
    with log.open("a") as fh:
        fh.write(_line("c" * 40, T0 + timedelta(hours=1), "d3"))
        fh.write(json.dumps({"sha": "d" * 40, "time": iso(T0)}) + "\n")  # no id: FILE:LINE
    found = load_appended([spec], _ctx(tmp_path), marks)
    assert found is not None
    events, new_marks = found
    assert [(e.id, e.where) for e in events] == [
        ("d3", f"{log}:4"),
        (f"{log}:5", f"{log}:5"),
    ]
    assert new_marks[spec.text].startswith(f"crc32 {log.stat().st_size} 5 ")
    assert load_appended([spec], _ctx(tmp_path), new_marks) == ([], new_marks)
    assert capsys.readouterr().err == ""


def test_a_changed_past_reads_everything_and_says_why(tmp_path, capsys):
    log = tmp_path / "deploys.jsonl"
    first = _line("a" * 40, T0, "d1")
    log.write_text(first)
    spec = parse_spec(f"log:{log}")
    marks: dict = {}
    load_events([spec], _ctx(tmp_path), marks=marks)
    cases = [
        (first.replace("d1", "dX") + _line("b" * 40, T0, "d2"), "lines before its end changed"),
        ("", "it is shorter than at the last run"),
    ]
    for content, why in cases:
        log.write_text(content)
        assert load_appended([spec], _ctx(tmp_path), marks) is None
        assert capsys.readouterr().err == (
            f"scorer: deploy log {log}: {why} since the last run; reading all of it\n"
            if "changed" in why
            else f"scorer: deploy log {log}: {why}; reading all of it\n"
        )
    log.write_text(first.rstrip("\n"))  # the last line had not ended ...
    marks = {}
    load_events([spec], _ctx(tmp_path), marks=marks)
    log.write_text(first + _line("b" * 40, T0, "d2"))  # ... and was finished since
    assert load_appended([spec], _ctx(tmp_path), marks) is None
    assert "its last line was not finished at the last run" in capsys.readouterr().err


def test_per_merge_runs_read_only_the_new_log_lines(repo, tmp_path):
    log = tmp_path / "deploys.jsonl"
    cache = tmp_path / "cache"
    a = repo.commit(ai_msg("one"), when=T0, author=ANN)
    log.write_text(_line(a, T0 + timedelta(hours=1), "d1"))
    opts = {"deploys": [f"log:{log}"], "window": timedelta(days=7)}
    _, use, read = cold_and_cached(
        repo.path, cache, events_read=True, now=T0 + timedelta(days=1), **opts
    )
    assert (use, read) == ("cold", "all")
    b = repo.commit(ai_msg("two"), when=T0 + timedelta(days=1, hours=1), author=ANN)
    with log.open("a") as fh:
        fh.write(_line(b, T0 + timedelta(days=1, hours=2), "d2"))
    report, use, read = cold_and_cached(
        repo.path, cache, events_read=True, now=T0 + timedelta(days=2), **opts
    )  # asserts the cached report equals a cold one
    assert (use, read) == ("incremental", "new")
    assert [d["id"] for d in report["deploys"]] == ["d1", "d2"]
