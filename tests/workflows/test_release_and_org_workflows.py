"""The release workflow and the examples (per-repository and org report): schema-valid,
zizmor-clean, every action pinned by commit, least privilege per job, and the README shows the
per-repository example as it is."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
ORG = ROOT / "examples" / "org-report.yml"
PER_REPO = ROOT / "examples" / "normalized-deployments.yml"
FILES = [RELEASE, ORG, PER_REPO]
ZIZMOR = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def on(doc: dict) -> dict:
    return doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as True


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def test_schema():
    exe = shutil.which("check-jsonschema")
    cmd = [exe] if exe else [sys.executable, "-m", "check_jsonschema"]
    proc = subprocess.run(
        [*cmd, "--builtin-schema", "vendor.github-workflows", *map(str, FILES)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(not ZIZMOR, reason="zizmor is not installed")
def test_zizmor_finds_nothing():
    proc = subprocess.run(
        [ZIZMOR, "--offline", "--min-severity", "low", *map(str, FILES)],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_pinned_no_expressions_in_scripts_and_no_default_permissions(path):
    doc = load(path)
    assert doc["permissions"] == {}
    for job in doc["jobs"].values():
        assert "permissions" in job
        for step in steps(job):
            if "run" in step:
                assert "${{" not in step["run"], step["run"]
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_release_builds_attaches_publishes_and_moves_the_major_tag():
    doc = load(RELEASE)
    assert on(doc) == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}}
    jobs = doc["jobs"]
    assert set(jobs) == {"build", "github-release", "pypi", "major-tag"}
    build = " ".join(s.get("run", "") for s in steps(jobs["build"]))
    assert "-m build" in build and "twine check --strict dist/*" in build
    assert "scorer.__version__" in build  # the tag must name the package's version
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["github-release"]["permissions"] == {"contents": "write"}
    assert "gh release upload" in steps(jobs["github-release"])[-1]["run"]
    pypi = jobs["pypi"]
    assert pypi["permissions"] == {"id-token": "write"}  # trusted publishing, nothing else
    assert pypi["environment"]["name"] == "pypi"
    assert steps(pypi)[-1]["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert "with" not in steps(pypi)[-1]  # no password: trusted publishing
    major = jobs["major-tag"]
    assert major["needs"] == ["github-release", "pypi"]
    script = steps(major)[0]["run"]
    assert 'major="${TAG%%.*}"' in script and "git/refs/tags/${major}" in script


def test_release_major_tag_script_picks_the_major(tmp_path):
    """The major-tag script moves vX only for the newest X.y.z (a stub gh answers)."""
    script = steps(load(RELEASE)["jobs"]["major-tag"])[0]["run"]
    calls = tmp_path / "calls"
    gh = tmp_path / "bin" / "gh"
    gh.parent.mkdir()
    gh.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {calls}\n'
        'case "$*" in\n'
        '  *"/tags --jq"*) printf "v1.2.0\\nv1.10.0\\nv2.0.0\\nv1.9.9\\n" ;;\n'
        '  *"git/ref/tags/v1") exit 0 ;;\n'
        "esac\n"
    )
    gh.chmod(0o755)

    def run(tag: str) -> subprocess.CompletedProcess:
        calls.write_text("")
        env = {
            "PATH": f"{gh.parent}:{os.environ['PATH']}",
            "GH_REPO": "octo/app",
            "TAG": tag,
            "SHA": "a" * 40,
        }
        return subprocess.run(
            ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30
        )

    proc = run("v1.10.0")
    assert proc.returncode == 0, proc.stderr
    assert calls.read_text().splitlines()[-1] == (
        f"api -X PATCH repos/octo/app/git/refs/tags/v1 -f sha={'a' * 40} -F force=true"
    )
    proc = run("v1.9.9")  # an older 1.y.z released later: v1 stays
    assert proc.returncode == 0, proc.stderr
    assert "PATCH" not in calls.read_text()
    assert "v1.9.9 is not the newest v1.y.z (v1.10.0); v1 stays" in proc.stdout


def test_org_report_example():
    doc = load(ORG)
    assert "schedule" in on(doc) and "workflow_dispatch" in on(doc)
    report, deploy = doc["jobs"]["report"], doc["jobs"]["deploy"]
    assert report["permissions"] == {"contents": "read"}
    merge = next(s for s in steps(report) if "scorer" in s.get("run", "") and "org" in s["run"])
    assert 'org --github-org "${ORG}"' in merge["run"]
    assert "--artifact-name normalized-deployments" in merge["run"]
    assert "--html site/index.html" in merge["run"]
    assert merge["env"]["GITHUB_TOKEN"] == "${{ secrets.SCORER_ORG_TOKEN }}"
    assert "actions: read" in ORG.read_text()
    upload = steps(report)[-1]
    assert upload["uses"].startswith("actions/upload-pages-artifact@")
    assert upload["with"] == {"path": "site/", "retention-days": 1}
    assert deploy["needs"] == "report"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert steps(deploy)[0]["uses"].startswith("actions/deploy-pages@")
    assert "Retention" in ORG.read_text()


def test_per_repository_example_runs_weekly_and_is_the_readmes():
    doc = load(PER_REPO)
    triggers = on(doc)
    assert set(triggers) == {"push", "pull_request", "schedule", "workflow_dispatch"}
    assert triggers["schedule"] == [{"cron": "23 5 * * 1"}]
    upload = steps(doc["jobs"]["score"])[-1]
    assert upload["with"]["name"] == "normalized-deployments"  # what the org report reads
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## GitHub Action") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)[1]
    assert block == PER_REPO.read_text(encoding="utf-8")
