"""Helpers for metric tests: a real repository, a deploy log, and one scan at a fixed `now`."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

from gitbuild import GitRepo

from scorer.cli import main
from scorer.pipeline import ScanOptions, run_scan
from scorer.util.times import iso

CLAUDE = "Co-authored-by: Claude <noreply@anthropic.com>"
ANN = ("Ann Lee", "ann@example.com")
BOB = ("Bob Roy", "bob@example.com")
CARA = ("Cara Diaz", "cara@example.com")


def ai_msg(subject: str) -> str:
    return f"{subject}\n\nBody.\n\n{CLAUDE}\n"


class Scenario:
    def __init__(self, repo: GitRepo, log_dir: Path):
        self.repo = repo
        self.log = log_dir / "deploys.jsonl"
        self.deploys: list[dict] = []

    def deploy(
        self,
        sha: str,
        when: datetime,
        status: str = "success",
        environment: str = "production",
        ident: str | None = None,
    ) -> str:
        ident = ident or f"d{len(self.deploys) + 1}"
        self.deploys.append(
            {
                "id": ident,
                "sha": sha,
                "time": iso(when),
                "status": status,
                "environment": environment,
            }
        )
        return ident

    def scan(self, now: datetime, **kw) -> dict:
        self.log.write_text("".join(json.dumps(d) + "\n" for d in self.deploys))
        opts = ScanOptions(
            path=self.repo.path, deploys=[f"log:{self.log}"], now=now, progress=False, **kw
        )
        return run_scan(opts).report

    @staticmethod
    def outcomes(report: dict) -> dict[str, str]:
        return {d["id"]: d["outcome"] for d in report["deploys"]}


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def git_env(when: datetime, person: tuple[str, str] = ANN) -> dict[str, str]:
    """Author and committer for a raw ``git`` call (merge, revert -m, octopus)."""
    return {
        "GIT_AUTHOR_NAME": person[0],
        "GIT_AUTHOR_EMAIL": person[1],
        "GIT_COMMITTER_NAME": person[0],
        "GIT_COMMITTER_EMAIL": person[1],
        "GIT_AUTHOR_DATE": iso(when),
        "GIT_COMMITTER_DATE": iso(when),
    }


def shipped(report: dict) -> dict[str, int]:
    """How many changes each deploy shipped, by deploy id."""
    return {d["id"]: d["shipped_changes"] for d in report["deploys"]}


def run_cli(*args: str) -> tuple[int, str, str]:
    """``scorer ARGS`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def cold_and_cached(path, cache: Path, *, events_read: bool = False, **options) -> tuple:
    """Scan without the cache, then with it; assert the reports are equal (but
    generated_at) and return the cached one and how the cache was used (and, with
    ``events_read``, which deploy events the cached run read: all, or only the new ones)."""
    reports, result = [], None
    for cache_dir in (None, cache):
        result = run_scan(ScanOptions(path=path, cache=cache_dir, progress=False, **options))
        report = dict(result.report)
        report.pop("generated_at")
        reports.append(report)
    assert reports[0] == reports[1]
    if events_read:
        return reports[1], result.cache_use, result.events_read
    return reports[1], result.cache_use
