"""The Actions environment of a ``scorer ci`` run, for tests of hostile conditions: the
variables the runner sets, pointed at temp files, and ``main(["ci", ...])`` run with them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from scorer.cli import main


def ci_env(tmp: Path, repo_path: Path, head: str, **over: str | None) -> dict[str, str | None]:
    """A push event on ``repo_path`` (no API unless GITHUB_API_URL is given)."""
    event = tmp / "event.json"
    event.write_text(json.dumps({"ref": "refs/heads/main"}))
    output, summary = tmp / "github_output", tmp / "step_summary.md"
    output.touch()
    summary.touch()
    env: dict[str, str | None] = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "octo/app",
        "GITHUB_SHA": head,
        "GITHUB_WORKSPACE": str(repo_path),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(tmp),
        "SCORER_HTTP_MAX_WAIT": "0",
    }
    env.update(over)
    return env


def run_ci(monkeypatch, env: dict[str, str | None], *args: str) -> int:
    """``scorer ci ARGS`` with exactly ``env``'s Actions variables set."""
    for key in list(os.environ):
        if key.startswith(("GITHUB_", "RUNNER_", "GH_", "SCORER_")):
            monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        if value is not None:
            monkeypatch.setenv(key, value)
    return main(["ci", *args])
