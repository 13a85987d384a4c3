"""The README's two commands work on a system whose Python is externally managed (PEP 668):
each makes a venv and runs only what is inside it; CI runs the second one exactly. The
distribution has a name of its own, and the action installs from a hash-pinned lock."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import scorer

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
VENV = "python3 -m venv .venv && "


def two_commands() -> list[str]:
    section = README[README.index("## Two commands") : README.index("## The metric")]
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_readme_commands_are_venv_lines():
    demo, tests = two_commands()
    assert demo == "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/scorer demo"
    assert tests == (
        "python3 -m venv .venv && .venv/bin/pip install '.[test]' && .venv/bin/python -m pytest -q"
    )
    for command in (demo, tests):
        assert command.startswith(VENV)
        # after the venv, every step runs a program of the venv: nothing touches the system
        # Python's packages (which PEP 668 forbids)
        for step in command[len(VENV) :].split(" && "):
            assert step.startswith(".venv/bin/"), step


def test_ci_runs_the_readme_test_command_exactly():
    _, tests = two_commands()
    lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[-1] == tests
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    runs = [s.get("run", "").strip() for s in workflow["jobs"]["test"]["steps"]]
    assert tests in runs


def test_distribution_name_and_command():
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11's TOML reader")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "normalized-deployments"  # "scorer" on PyPI is another project
    assert project["scripts"] == {"scorer": "scorer.cli:run"}
    assert project["dynamic"] == ["version"]
    setuptools_cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools_cfg["dynamic"]["version"] == {"attr": "scorer.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", scorer.__version__)


LOCK = ROOT / "requirements" / "action.txt"
COMPILE = (
    "pip-compile --allow-unsafe --generate-hashes --no-emit-index-url --strip-extras "
    "--output-file=requirements/action.txt pyproject.toml requirements/build.in"
)


def lock_entries() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from a pip-compile --generate-hashes file."""
    text = LOCK.read_text()
    entries = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"([A-Za-z0-9._-]+)==(\S+) \\", block)
        if m:
            entries[m[1].lower().replace("_", "-")] = (
                m[2],
                re.findall(r"sha256:[0-9a-f]{64}", block),
            )
    return entries


def test_the_lock_pins_every_runtime_dependency_by_hash():
    text = LOCK.read_text()
    assert COMPILE in " ".join(text.split())  # the header says how it was made
    assert COMPILE in " ".join(README.replace("\\\n", " ").split())  # and so does the README
    entries = lock_entries()
    pyproject = (ROOT / "pyproject.toml").read_text()
    deps = re.search(r"^dependencies = \[(.*?)\]", pyproject, re.S | re.M)[1]
    wanted = [name.lower() for name in re.findall(r'"([A-Za-z0-9._-]+)', deps)]
    assert wanted == ["pygit2", "pyyaml", "requests"]
    wanted.append("setuptools")  # the build backend, for pip install --no-build-isolation
    assert set(wanted) <= set(entries)
    for name, (version, hashes) in entries.items():
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+-]*", version), name
        assert hashes, name
    # every requirement line is pinned (--require-hashes refuses anything else)
    reqs = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert all("==" in line and line.endswith("\\") for line in reqs), reqs
    assert 'requires = ["setuptools>=77"]' in pyproject
    assert int(entries["setuptools"][0].split(".")[0]) >= 77


def test_the_action_installs_from_the_lock_only():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install scorer")
    script = install["run"]
    assert '--require-hashes --no-deps -r "${GITHUB_ACTION_PATH}/requirements/action.txt"' in script
    assert '--no-deps --no-build-isolation "${GITHUB_ACTION_PATH}"' in script
    # no other pip install line, so nothing reaches the venv unpinned
    assert script.count('"${pip[@]}"') == 2
    assert "pip install" not in script.replace('"${py}" -m pip install', "")
