"""The config file: every bad key or value is an error naming file and line (exit 2), and
flags win over the file, the file over the defaults."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import T0
from gitbuild import GitRepo
from scenario import ANN, Scenario, ai_msg
from untrusted import ESC, NOW, day

from scorer.cli import main
from scorer.config import load_config
from scorer.errors import InputError
from scorer.util.times import iso

CASES = [
    ("window: 7d\nenviroments: [prod]\n", 2, "unknown key 'enviroments'"),
    ("window: soon\n", 1, "window: not a duration: 'soon'"),
    ("window: -3d\n", 1, "window: not a duration"),
    ("min_confidence: low\n", 1, "min_confidence must be high or medium, not 'low'"),
    ("environments: []\n", 1, "environments must name at least one environment"),
    ("environments: [1, 2]\n", 1, "environments must be a list of non-empty strings"),
    ("exclude_paths: {a: b}\n", 1, "exclude_paths must be a list of non-empty strings"),
    ("deploys:\n  - tags:v*\n  - ftp:x\n", 3, "unknown deploy source 'ftp:x'"),
    ("deploys:\n  - source: log:d.csv\n    env: prod\n", 3, "unknown key 'env'"),
    ("deploys:\n  - environment: prod\n", 2, "a deploy source mapping needs 'source'"),
    ("agents:\n  - id: acme\n    values: ['(']\n", 2, "agents: values"),
    (
        "agents:\n  - id: acme\n    name: A\n  - id: acme\n    name: B\n",
        4,
        "agents: id 'acme' is defined twice",
    ),
    ("agents:\n  - just a string\n", 2, "each agent entry must be a mapping"),
    ("window: 7d\nwindow: 8d\n", 2, "duplicate key 'window'"),
    ("window: [7d\n", 2, "invalid YAML"),
    ("- a list\n", 1, "the config file must be a mapping"),
]


@pytest.mark.parametrize(("text", "line", "message"), CASES)
def test_bad_config_names_file_and_line(tmp_path, text, line, message):
    cfg = tmp_path / "cfg.yml"
    cfg.write_text(text)
    with pytest.raises(InputError) as err:
        load_config(cfg, tmp_path)
    assert str(err.value).startswith(f"{cfg}:{line}: ")
    assert message in str(err.value)


def test_bad_config_exits_2_with_one_line(repo, tmp_path, capsys):
    repo.commit("one\n", when=T0)
    (repo.path / ".normalized-deployments.yml").write_text("window: 7d\nbogus: 1\n")
    assert main(["scan", str(repo.path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"scorer: error: {repo.path / '.normalized-deployments.yml'}:2: unknown key "
        "'bogus' (known: window, environments, deploys, min_confidence, "
        "exclude_paths, version_files, agents, survival_horizon)\n"
    )


def test_missing_config_file(repo, tmp_path, capsys):
    repo.commit("one\n", when=T0)
    assert main(["scan", str(repo.path), "--config", str(tmp_path / "nope.yml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_empty_config_is_defaults(tmp_path):
    (tmp_path / "c.yml").write_text("# nothing here\n")
    cfg = load_config(tmp_path / "c.yml", tmp_path)
    assert (cfg.window, cfg.environments, cfg.deploys, cfg.min_confidence) == (None,) * 4


def test_precedence_flags_over_file_over_defaults(repo, tmp_path):
    sc = Scenario(repo, tmp_path)
    x = repo.commit(ai_msg("x"), when=T0, author=ANN)
    sc.deploy(x, T0 + timedelta(hours=1), environment="staging")
    repo.tag("v1", x, when=T0 + timedelta(hours=1))
    sc.log = repo.path / "ops" / "deploys.jsonl"  # a log named in the config lives in the repo
    sc.log.parent.mkdir()
    sc.log.write_text("")
    (repo.path / ".normalized-deployments.yml").write_text(
        "window: 3d\nenvironments: [staging]\ndeploys:\n  - source: log:ops/deploys.jsonl\n"
        "    environment: staging\n"
    )
    from scorer.pipeline import ScanOptions, run_scan

    now = T0 + timedelta(days=10)
    r = run_scan(ScanOptions(path=repo.path, now=now, progress=False)).report
    assert r["window_days"] == 3.0
    assert r["settings"]["environments"] == ["staging"]
    assert r["settings"]["deploys"] == ["log:ops/deploys.jsonl"]
    r = run_scan(
        ScanOptions(
            path=repo.path,
            now=now,
            progress=False,
            window=timedelta(days=5),
            deploys=["tags:v*"],
            environments=["production"],
        )
    ).report
    assert (r["window_days"], r["settings"]["deploys"]) == (5.0, ["tags:v*"])
    assert r["history"]["deploys"] == 1


def test_extra_agent_from_config_is_evidence(repo, tmp_path):
    from scorer.pipeline import ScanOptions, run_scan

    repo.commit("Add thing\n\nGenerated-by: acme-agent 2.1\n", when=T0, author=ANN)
    (repo.path / ".normalized-deployments.yml").write_text(
        "agents:\n  - id: acme\n    name: ACME agent\n    aliases: [acme-agent]\n"
    )
    r = run_scan(
        ScanOptions(
            path=repo.path,
            now=T0 + timedelta(days=1),
            progress=False,
            since=T0 - timedelta(days=1),
            until=T0 + timedelta(days=1),
        )
    ).report
    assert list(r["agents"]) == ["acme"]


def test_the_readme_config_example_is_valid(tmp_path):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "c.yml").write_text(example)
    cfg = load_config(tmp_path / "c.yml", tmp_path)
    assert cfg.window == timedelta(days=7)
    assert [s.text for s in cfg.deploys] == ["tags:v*", "log:ops/deploys.csv"]
    assert [a["id"] for a in cfg.agents] == ["acme-bot"]


def test_error_text_from_config_agent_keys_has_no_terminal_escapes(tmp_path, capsys):
    r = GitRepo(tmp_path / "repo")
    config = 'agents:\n  - id: acme\n    name: Acme\n    "\\e]0;owned\\a\\e[2J": 1\n'
    r.commit("Initial", when=day(0), files={".normalized-deployments.yml": config})
    assert main(["scan", str(r.path), "--now", iso(NOW)]) == 2
    err = capsys.readouterr().err
    assert "unknown key" in err
    assert ESC not in err and "\x07" not in err


def test_deploy_log_named_by_the_repository_config_stays_inside_it(tmp_path, capsys):
    r = GitRepo(tmp_path / "repo")
    c1 = r.commit("Initial", when=day(0), author=ANN)
    outside = tmp_path / "outside.jsonl"
    outside.write_text(json.dumps({"id": "RUNNER-SECRET", "sha": c1, "time": iso(day(0.5))}) + "\n")
    r.commit(
        "Config",
        when=day(1),
        files={".normalized-deployments.yml": "deploys:\n  - log:../outside.jsonl\n"},
    )
    out = tmp_path / "report.json"
    code = main(["scan", str(r.path), "--now", iso(NOW), "--json", str(out), "--quiet"])
    assert "RUNNER-SECRET" not in (out.read_text() if out.exists() else "")
    assert code == 2
