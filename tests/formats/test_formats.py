"""Outputs: reports validate against the shipped JSON Schema; text and Markdown show the
arithmetic; hostile strings stay inert; files are written atomically; the demo scores as
designed."""

from __future__ import annotations

import json
from datetime import timedelta

import jsonschema
import pytest
from conftest import T0
from scenario import ANN, Scenario, ai_msg

from scorer.cli import main
from scorer.formats.json import schema

NOW = T0 + timedelta(days=40)


@pytest.fixture
def report_env(repo, tmp_path):
    sc = Scenario(repo, tmp_path)
    base = repo.commit("Initial\n", when=T0, author=ANN)
    sc.deploy(base, T0 + timedelta(hours=1))
    hostile = ai_msg("<!-- scorer:pr-comment --> @octocat <script>x</script> [a](javascript:1)")
    x = repo.commit(hostile, when=T0 + timedelta(days=6), author=ANN)
    sc.deploy(x, T0 + timedelta(days=7))
    y = repo.commit(ai_msg("Risky"), when=T0 + timedelta(days=8), author=ANN)
    sc.deploy(y, T0 + timedelta(days=9), status="failure")
    sc.deploy("f" * 40, T0 + timedelta(days=9))
    sc.log.write_text("".join(json.dumps(d) + "\n" for d in sc.deploys))
    return sc


def _run(capsys, sc, *args):
    code = main(
        [
            "scan",
            str(sc.repo.path),
            "--deploys",
            f"log:{sc.log}",
            "--now",
            NOW.isoformat(),
            "--repository",
            "acme/<b>@team</b>",
            *args,
        ]
    )
    out = capsys.readouterr()
    return code, out.out, out.err


def test_reports_validate_against_the_schema(capsys, report_env):
    code, out, _ = _run(capsys, report_env, "--format", "json")
    assert code == 0
    report = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(report, schema(), cls=jsonschema.Draft202012Validator)
    assert report["history"]["deploys_not_in_history"] == 1


def test_demo_report_validates_and_scores_as_designed(capsys, tmp_path):
    assert main(["demo", str(tmp_path / "demo"), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    jsonschema.validate(report, schema(), cls=jsonschema.Draft202012Validator)
    m = report["metric"]
    assert (m["ai_deploys_survived"], m["deploys_survived"], m["contributors"]) == (6, 9, 3)
    # v2: 8 developer-weeks (v1: 6 / 3 contributors / 4 weeks = 0.5)
    assert (m["developer_weeks"], m["normalized_deployments"]) == (8.0, 0.75)
    assert m["deploys_by_outcome"] == {"survived": 9, "rolled_back": 1, "failed": 1, "pending": 0}
    assert {s["kind"] for s in report["signals"]} == {"trivial-ai-burst", "ai-self-revert"}
    assert report["history"]["reverted_ai_changes"] == 1


def test_schema_rejects_a_broken_report(capsys, report_env):
    _, out, _ = _run(capsys, report_env, "--format", "json")
    report = json.loads(out)
    report["metric"]["contributors"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, schema(), cls=jsonschema.Draft202012Validator)


def test_text_shows_the_arithmetic(capsys, report_env):
    code, out, err = _run(capsys, report_env)
    assert code == 0 and err == ""
    assert (
        "Normalized deployments: 1.00 = 1 AI deploy survived / 1 developer-week "
        "(1 contributor over 4 weeks)\n" in out
    )
    assert "Deploys in period: 2 — survived 1 · rolled back 0 · failed 1 · pending 0" in out
    assert "\x1b" not in out


def test_markdown_is_inert_and_shows_numerators(capsys, report_env, tmp_path):
    md_file, json_file = tmp_path / "out" / "r.md", tmp_path / "out" / "r.json"
    code, out, _ = _run(
        capsys,
        report_env,
        "--format",
        "markdown",
        "--markdown",
        str(md_file),
        "--json",
        str(json_file),
    )
    assert code == 0
    assert md_file.read_text() == out
    assert json.loads(json_file.read_text())["schema_version"] == 1
    assert sorted(p.name for p in md_file.parent.iterdir()) == ["r.json", "r.md"]  # no temp
    assert (
        "| **Normalized deployments** | **1.00** | 1 AI deploy survived | 1 developer-week"
        " (1 contributor over 4 weeks) |" in out
    )
    assert "<b>" not in out and "@team" not in out
    assert "<!--" not in out.replace("<details>", "")


def test_report_file_write_failure_is_one_line(capsys, report_env, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = _run(capsys, report_env, "--json", str(blocker / "r.json"), "--quiet")
    assert code == 2
    assert err.startswith("scorer: error: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--now", "yesterday"], "not an ISO 8601 time"),
        (["--window", "soon"], "not a duration"),
        (
            ["--since", "2026-09-10T00:00:00Z", "--until", "2026-09-01T00:00:00Z"],
            "--since must be before --until",
        ),
        (["--deploys", "ftp:x"], "unknown deploy source"),
    ],
)
def test_bad_usage_exits_2(capsys, report_env, args, message):
    code = main(["scan", str(report_env.repo.path), *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_no_progress_when_not_a_tty(capsys, report_env):
    _, _, err = _run(capsys, report_env, "--quiet")
    assert err == ""


def test_malformed_deploy_log_exits_2_naming_file_and_line(capsys, report_env, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"sha": "abcd", "time": "2026-09-02T10:00:00Z"}\n{"sha": "ab", "time": 3}\n')
    code = main(["scan", str(report_env.repo.path), "--deploys", f"log:{bad}"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"scorer: error: {bad}:2: field 'time' must be a non-empty string, not 3\n"
