"""Helpers for the org tests: repository reports, hand-built to the DESIGN.md contract, and
real ones made by ``scorer scan`` on small repositories built with the git CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import zipfile
from pathlib import Path

CLAUDE = "Co-authored-by: Claude <noreply@anthropic.com>"
NOW = "2026-03-02T00:00:00Z"  # a Monday: the period is 2026-01-26 .. 2026-02-23 (7d window)
SINCE = "2026-01-26T00:00:00Z"
UNTIL = "2026-02-23T00:00:00Z"


def person(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def report(
    name: str,
    *,
    ai: int = 1,
    survived: int = 2,
    people: tuple[str, ...] = ("a@example.com",),
    generated_at: str = NOW,
    since: str = SINCE,
    until: str = UNTIL,
    weeks: float = 4.0,
    agents: dict | None = None,
    deploy_times: list[str] | None = None,
    changes: int = 10,
    ai_changes: int = 3,
    hashed: bool = True,
    version: int = 2,
    developer_weeks: float | None = None,
) -> dict:
    """A schema_version 1 report as DESIGN.md describes it, of metric ``version`` (2: with
    ``developer_weeks``, by default every person active every week)."""
    contributors = len(people)
    dw = contributors * weeks if developer_weeks is None else developer_weeks
    times = deploy_times or [f"2026-02-{2 + 2 * i:02d}T12:00:00Z" for i in range(survived)]
    deploys = [
        {
            "id": f"v1.{i}.0",
            "sha": f"{i:040x}",
            "environment": "production",
            "time": t,
            "status": "success",
            "outcome": "survived",
            "shipped_changes": 2,
            "ai_changes": 1 if i < ai else 0,
            "counted_ai_changes": 1 if i < ai else 0,
        }
        for i, t in enumerate(times)
    ]
    r = {
        "schema_version": 1,
        "repository": {"name": name, "head": "f" * 40, "ref": "HEAD"},
        "generated_at": generated_at,
        "now": NOW,
        "window_days": 7.0,
        "min_confidence": "medium",
        "history": {
            "changes": changes,
            "ai_changes": ai_changes,
            "ai_changes_high": ai_changes,
            "trivial_ai_changes": 0,
            "reverted_changes": 0,
            "reverted_ai_changes": 0,
            "counted_ai_changes": ai,
            "deploys": survived,
            "deploys_by_outcome": {
                "survived": survived,
                "rolled_back": 0,
                "failed": 0,
                "pending": 0,
            },
            "deploys_not_in_history": 0,
        },
        "period": {
            "since": since,
            "until": until,
            "weeks": weeks,
            "partial": False,
            "changes": changes,
            "ai_changes": ai_changes,
            "attribution_coverage": ai_changes / changes if changes else 0.0,
        },
        "metric": {
            "normalized_deployments": ai / dw if dw else 0.0,
            "ai_deploys_survived": ai,
            "deploys_survived": survived,
            "contributors": contributors,
            "weeks": weeks,
            "deploys_survived_per_dev_week": survived / dw if dw else 0,
            "ai_share_of_survived_deploys": ai / survived if survived else 0.0,
        },
        "agents": agents
        if agents is not None
        else {
            "claude-code": {"changes": ai_changes, "counted_changes": ai, "deploys_survived": ai}
        },
        "dora": {"ai": {}, "non_ai": {}},
        "weeks": [],
        "deploys": deploys,
        "contributors_hashed": sorted(person(p) for p in people),
        "signals": [],
    }
    if version == 2:
        r["metric_version"] = 2
        r["metric"]["developer_weeks"] = dw
    if not hashed:
        del r["contributors_hashed"]
    return r


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def zip_of(path: Path, members: dict[str, bytes | str | dict]) -> Path:
    """A zip file like ``actions/download-artifact`` makes: members at any depth."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            if isinstance(data, dict):
                data = json.dumps(data)
            zf.writestr(name, data)
    return path


# --- real repositories -----------------------------------------------------------------------


class Repo:
    """A repository built with the git CLI: exact messages, authors, dates, annotated tags."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        self.n = 0

    def git(self, *args: str, env: dict | None = None) -> str:
        full = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "nobody",
            "GIT_AUTHOR_EMAIL": "nobody@example.com",
            "GIT_COMMITTER_NAME": "nobody",
            "GIT_COMMITTER_EMAIL": "nobody@example.com",
            **(env or {}),
        }
        return subprocess.run(
            ["git", *args], cwd=self.path, env=full, check=True, capture_output=True, text=True
        ).stdout.strip()

    def commit(self, message: str, author: str, email: str, when: str) -> str:
        self.n += 1
        f = self.path / f"file{self.n}.txt"
        f.write_text(f"change {self.n}\n")
        self.git("add", f.name)
        dates = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        self.git(
            "commit",
            "-q",
            "-m",
            message,
            env={
                **dates,
                "GIT_AUTHOR_NAME": author,
                "GIT_AUTHOR_EMAIL": email,
                "GIT_COMMITTER_NAME": author,
                "GIT_COMMITTER_EMAIL": email,
            },
        )
        return self.git("rev-parse", "HEAD")

    def tag(self, name: str, when: str) -> None:
        self.git(
            "tag",
            "-a",
            name,
            "-m",
            f"release {name}",
            env={"GIT_COMMITTER_DATE": when, "GIT_COMMITTER_NAME": "release"},
        )


def build_repo(path: Path, spec: list[tuple]) -> Repo:
    """``spec``: ("commit", message, author, email, when) and ("tag", name, when) steps."""
    repo = Repo(path)
    for step in spec:
        if step[0] == "commit":
            repo.commit(*step[1:])
        else:
            repo.tag(*step[1:])
    return repo


# The org used by the tests on real scans. Period (now 2026-03-02, 7-day window):
# 2026-01-26 .. 2026-02-23. Hand sums: AI deploys survived 1 + 2 + 1 = 4, deploys survived
# 2 + 3 + 1 = 6, people {ann, bob, cat, dan} = 4 (5 when each repository's are added).
CURSOR = "Co-authored-by: Cursor Agent <cursoragent@cursor.com>"
HOSTILE_NAME = '<script>alert(1)</script>"onmouseover=x @octocat <!-- c -->'
REAL_ORG = {
    "acme/api": [
        ("commit", "Initial", "Ann", "ann@x.io", "2026-01-20T10:00:00+00:00"),
        ("tag", "v1.0.0", "2026-01-21T10:00:00+00:00"),
        (
            "commit",
            f"Add search\n\nBody.\n\n{CLAUDE}",
            "Ann",
            "ann@x.io",
            "2026-01-28T10:00:00+00:00",
        ),
        ("tag", "v1.1.0", "2026-01-29T10:00:00+00:00"),
        ("commit", "Fix typo", "Bob", "bob@x.io", "2026-02-03T10:00:00+00:00"),
        ("tag", "v1.2.0", "2026-02-04T10:00:00+00:00"),
    ],
    "acme/web": [
        ("commit", "Scaffold", "Cat", "cat@x.io", "2026-01-27T09:00:00+00:00"),
        ("tag", "v0.1.0", "2026-01-27T12:00:00+00:00"),
        ("commit", f"Add login\n\n{CURSOR}", "Bob", "BOB@X.IO", "2026-02-05T10:00:00+00:00"),
        ("tag", "v0.2.0", "2026-02-06T10:00:00+00:00"),
        ("commit", f"Add signup\n\n{CLAUDE}", "Cat", "cat@x.io", "2026-02-10T10:00:00+00:00"),
        ("tag", "v0.3.0", "2026-02-11T10:00:00+00:00"),
    ],
    HOSTILE_NAME: [
        ("commit", f"Start\n\n{CLAUDE}", "Dan", "dan@x.io", "2026-02-02T10:00:00+00:00"),
        ("tag", "v1.0.0", "2026-02-03T10:00:00+00:00"),
    ],
}


def scan(repo: Path, name: str, out: Path, now: str = NOW) -> dict:
    """A real ``scorer scan`` of ``repo``; returns the report it wrote to ``out``."""
    import contextlib
    import io

    from scorer.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        args = ["scan", str(repo), "--now", now, "--repository", name, "--horizon", "30d"]
        code = main([*args, "--json", str(out)])
    assert code == 0, f"scorer scan {repo} exited {code}"
    return json.loads(out.read_text())


def real_org(base: Path) -> dict[str, Path]:
    """Build and scan the repositories of ``REAL_ORG``; returns name -> report file."""
    reports = {}
    for i, (name, spec) in enumerate(REAL_ORG.items()):
        repo = build_repo(base / "repos" / f"r{i}", spec)
        reports[name] = base / "reports" / f"r{i}.json"
        reports[name].parent.mkdir(parents=True, exist_ok=True)
        scan(repo.path, name, reports[name])
    return reports
