"""The action's ``horizon`` input reaches ``scorer ci --horizon`` as written (code survival,
METRIC.md section 10), and an empty one adds nothing."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from yaml import safe_load

ACTION = Path(__file__).resolve().parents[2] / "action.yml"


def _run(tmp_path: Path, horizon: str | None) -> list[str]:
    action = safe_load(ACTION.read_text())
    assert "horizon" in action["inputs"]
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "scorer")
    assert step["env"]["SCORER_HORIZON"] == "${{ inputs.horizon }}"
    record = tmp_path / "args.json"
    py = tmp_path / "scorer-venv" / "bin" / "python"
    py.parent.mkdir(parents=True)
    py.write_text(
        "#!/usr/bin/env python3\nimport json, sys\n"
        f"json.dump(sys.argv[1:], open({str(record)!r}, 'w'))\n"
    )
    py.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(tmp_path)}
    for name in ("DEPLOYS", "WINDOW", "ENVIRONMENTS", "MIN_CONFIDENCE", "CONFIG", "COMMENT",
                 "COMMENT_AUTHOR", "REPORT_PATH", "CACHE"):  # fmt: skip
        env[f"SCORER_{name}"] = ""
    if horizon is not None:
        env["SCORER_HORIZON"] = horizon
    proc = subprocess.run(
        ["bash", "-c", step["run"]], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(record.read_text())


def test_horizon_input_is_passed_on(tmp_path):
    args = _run(tmp_path, "45d")
    assert args[args.index("--horizon") + 1] == "45d"


def test_empty_or_unset_horizon_adds_nothing(tmp_path):
    assert "--horizon" not in _run(tmp_path / "a", "")
    assert "--horizon" not in _run(tmp_path / "b", None)
