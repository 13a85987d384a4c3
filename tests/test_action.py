"""action.yml and the workflows: schema-valid, zizmor-clean, no expression inside a script, every
input through env:, third-party actions pinned, and the script passes inputs on as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
INPUTS = {
    "github-token",
    "deploys",
    "window",
    "environments",
    "min-confidence",
    "config",
    "comment",
    "report-path",
    "cache",
}
OUTPUTS = {
    "normalized-deployments",
    "ai-deploys-survived",
    "deploys-survived",
    "contributors",
    "report-path",
}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("check-jsonschema")
    cmd = [exe] if exe else [sys.executable, "-m", "check_jsonschema"]
    return subprocess.run(
        [*cmd, "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_action_yml_passes_the_schemastore_schema():
    proc = check_jsonschema("vendor.github-actions", ACTION)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_pass_the_schemastore_schema():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "self-test.yml", "zizmor.yml"}
    proc = check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# In the README's venv (.venv/bin/python -m pytest) the venv's scripts are not on the PATH.
ZIZMOR = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(not ZIZMOR, reason="zizmor is not installed")
def test_zizmor_finds_nothing_at_medium_or_above():
    proc = subprocess.run(
        [ZIZMOR, "--offline", "--min-severity", "medium", str(ACTION), *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_inputs_and_outputs():
    action = load(ACTION)
    assert set(action["inputs"]) >= INPUTS
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"
    assert all(spec.get("description") for spec in action["inputs"].values())
    assert set(action["outputs"]) >= OUTPUTS
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.scorer.outputs.{name} }}}}"


def _steps(doc: dict) -> list[dict]:
    if "runs" in doc:
        return doc["runs"]["steps"]
    return [s for job in doc["jobs"].values() for s in job.get("steps", [])]


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_no_expression_inside_a_script_and_actions_pinned(path):
    for step in _steps(load(path)):
        if "run" in step:
            assert "${{" not in step["run"], step["run"]
        if "uses" in step and not step["uses"].startswith("./"):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


def test_every_input_reaches_the_script_through_env():
    action = load(ACTION)
    env_values = " ".join(
        str(v) for step in _steps(action) for v in (step.get("env") or {}).values()
    )
    with_values = " ".join(
        str(v) for step in _steps(action) for v in (step.get("with") or {}).values()
    )
    for name in action["inputs"]:
        ref = f"inputs.{name}"
        assert ref in env_values or ref in with_values, name


def test_setup_python_leaves_the_callers_python_alone():
    steps = _steps(load(ACTION))
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["update-environment"] is False
    assert any("GITHUB_ACTION_PATH" in s.get("run", "") for s in steps)


def _script(step_id: str) -> str:
    return next(s for s in _steps(load(ACTION)) if s.get("id") == step_id)["run"]


@pytest.fixture
def stub_python(tmp_path: Path) -> tuple[Path, Path]:
    """A fake venv python that records its arguments as JSON."""
    record = tmp_path / "args.json"
    py = tmp_path / "scorer-venv" / "bin" / "python"
    py.parent.mkdir(parents=True)
    py.write_text(
        "#!/usr/bin/env python3\nimport json, sys\n"
        f"json.dump(sys.argv[1:], open({str(record)!r}, 'w'))\n"
    )
    py.chmod(0o755)
    return tmp_path, record


def run_script(runner_temp: Path, **inputs: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(runner_temp)}
    for name in ("DEPLOYS", "WINDOW", "ENVIRONMENTS", "MIN_CONFIDENCE", "CONFIG",
                 "COMMENT", "COMMENT_AUTHOR", "REPORT_PATH", "CACHE"):  # fmt: skip
        env[f"SCORER_{name}"] = inputs.get(name.lower(), "")
    # a file that tags:v* would match if the script let the shell expand it
    (runner_temp / "tags:v1").write_text("")
    return subprocess.run(
        ["bash", "-c", _script("scorer")],
        env=env,
        cwd=runner_temp,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_script_passes_inputs_on_as_written(stub_python):
    tmp, record = stub_python
    proc = run_script(
        tmp,
        deploys="tags:v*\n  github:production  log:deploys log.jsonl",
        environments="production, staging",
        window="72h",
        min_confidence="high",
        config="cfg $(touch pwned).yml",
        comment="off",
        report_path="out/report.json",
    )
    assert proc.returncode == 0, proc.stderr
    args = json.loads(record.read_text())
    assert args[:4] == ["-m", "scorer", "ci", "--comment"]
    assert args[4] == "off"
    pairs = list(zip(args[5::2], args[6::2], strict=True))
    assert pairs == [
        ("--deploys", "tags:v*"),
        ("--deploys", "github:production"),
        ("--deploys", "log:deploys"),
        ("--deploys", "log.jsonl"),
        ("--environment", "production"),
        ("--environment", "staging"),
        ("--window", "72h"),
        ("--min-confidence", "high"),
        ("--config", "cfg $(touch pwned).yml"),
        ("--report-path", "out/report.json"),
    ]
    assert not (tmp / "pwned").exists()


def test_script_with_defaults(stub_python):
    tmp, record = stub_python
    assert run_script(tmp, comment="on").returncode == 0
    assert json.loads(record.read_text()) == ["-m", "scorer", "ci", "--comment", "on"]


def test_cache_on_passes_the_restored_directory(stub_python):
    tmp, record = stub_python
    assert run_script(tmp, comment="on", cache="on").returncode == 0
    assert json.loads(record.read_text()) == [
        "-m", "scorer", "ci", "--comment", "on", "--cache", str(tmp / "scorer-cache"),
    ]  # fmt: skip


def test_cache_steps_restore_the_newest_and_save_a_new_one():
    steps = _steps(load(ACTION))
    assert load(ACTION)["inputs"]["cache"]["default"] == "on"
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore@"))
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save@"))
    names = [s.get("id") or s.get("uses", "").split("@")[0] for s in steps]
    assert names.index("cache-name") < names.index("cache-restore") < names.index("scorer")
    assert names.index("scorer") < names.index("cache-key") < names.index("actions/cache/save")
    for step in (restore, save):
        assert step["if"].startswith("inputs.cache == 'on'")
        assert step["with"]["path"] == "${{ runner.temp }}/scorer-cache"
    # a key per ref and contents, restored by the ref's prefix (then any of this OS): each run
    # gets the newest cache it may read, and saves only a cache whose contents are new
    assert "run_id" not in str(restore) + str(save)
    assert save["with"]["key"] == "${{ steps.cache-key.outputs.key }}"
    assert "steps.cache-restore.outputs.cache-matched-key" in save["if"]
