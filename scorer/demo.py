"""The example repository ``scorer demo`` builds: a month and a half of a small team's work
with AI-assisted and human commits, deploys, a failed deploy, a rollback, a revert and some
gaming noise, dated relative to ``now`` so the headline period always has data.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

ANN = ("Ann Lee", "ann@example.com")
BOB = ("Bob Roy", "bob@example.com")
CARA_AIDER = ("Cara Diaz (aider)", "cara@example.com")
COPILOT = ("Copilot", "198982749+Copilot@users.noreply.github.com")
DEPENDABOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
CLAUDE = "Co-authored-by: Claude <noreply@anthropic.com>"


def build_demo(root: Path, now: datetime) -> tuple[Path, Path]:
    """Create ``root/example`` (the repository) and ``root/deploys.jsonl``; return both."""
    repo = _Example(root / "example")
    start = now - timedelta(days=38)  # the period is days 3 to 31
    deploys: list[dict] = []

    def at(day: float, hour: int = 10) -> datetime:
        return start + timedelta(days=day, hours=hour - 10)

    def deploy(day: float, sha: str, status: str = "success", hour: int = 16) -> None:
        deploys.append(
            {
                "id": f"deploy-{len(deploys) + 1}",
                "sha": sha,
                "time": at(day, hour).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "environment": "production",
                "status": status,
            }
        )

    repo.commit(
        "Initial commit\n",
        when=at(0),
        author=ANN,
        files={"README.md": "# example\n", "app.py": "print('hi')\n"},
    )
    sha = repo.commit(
        f"Add login form\n\nValidates the e-mail field.\n\n{CLAUDE}\n", when=at(1), author=ANN
    )
    deploy(1, sha)
    repo.commit("Fix typo in README\n", when=at(3), author=BOB, files={"README.md": "# Example\n"})
    sha = repo.commit("aider: add rate limiter to the API\n", when=at(4), author=CARA_AIDER)
    deploy(4, sha)
    sha = repo.commit(
        "Add pagination to /orders\n\nCo-authored-by: Copilot "
        "<198982749+Copilot@users.noreply.github.com>\n",
        when=at(8),
        author=BOB,
    )
    deploy(8, sha, status="failure")
    sha = repo.commit("Fix pagination off-by-one\n", when=at(8, 14), author=BOB)
    deploy(8, sha, hour=18)
    # Week 3: an AI change that ships and is rolled back two days later.
    good = sha
    sha = repo.commit(f"Rewrite caching layer\n\n{CLAUDE}\n", when=at(15), author=ANN)
    deploy(15, sha)
    deploy(17, good)  # rollback: production runs the previous release again
    # An AI change that ships, then is reverted inside the window.
    bad = repo.commit(f"Speed up search with an index\n\n{CLAUDE}\n", when=at(19), author=ANN)
    repo.commit(
        "Bump requests from 2.31 to 2.32\n",
        when=at(19, 12),
        author=DEPENDABOT,
        files={"requirements.txt": "requests==2.32\n"},
    )
    sha = repo.commit("Add CSV export\n", when=at(20), author=BOB)
    deploy(20, sha)
    sha = repo.revert(bad, when=at(22), author=ANN)
    deploy(22, sha)
    # Gaming noise: a burst of empty and whitespace-only AI-attributed commits.
    for n in range(4):
        repo.commit(f"Tidy up {n}\n\n{CLAUDE}\n", when=at(24, 10 + n), author=BOB, empty=True)
    repo.commit(
        f"Reformat\n\n{CLAUDE}\n", when=at(24, 15), author=BOB, files={"app.py": "print('hi')   \n"}
    )
    sha = repo.commit(
        "Add health check endpoint\n\nAssisted-by: Crush:claude-sonnet-4\n",
        when=at(25),
        author=CARA_AIDER,
    )
    deploy(25, sha)
    sha = repo.commit(f"Add audit log\n\n{CLAUDE}\n", when=at(26), author=ANN)
    deploy(26, sha)
    sha = repo.commit(
        "Copilot: add retries to the payment client\n", when=at(27), author=COPILOT, committer=BOB
    )
    deploy(28, sha)
    sha = repo.commit(
        "Document the API\n", when=at(29), author=BOB, files={"docs/api.md": "# API\n"}
    )
    deploy(30, sha)
    sha = repo.commit(f"Add dark mode\n\n{CLAUDE}\n", when=at(33), author=ANN)
    deploy(34, sha)  # still inside its rollback window at `now`: pending
    repo.commit(f"Experiment: new onboarding flow\n\n{CLAUDE}\n", when=at(36), author=ANN)

    log = root / "deploys.jsonl"
    log.write_text("".join(json.dumps(d) + "\n" for d in deploys), encoding="utf-8")
    return repo.path, log


class _Example:
    """The few git commands the example needs, with no user or system configuration, so the
    example is the same on every machine. (The tests build theirs with ``tests/gitbuild.py``.)"""

    def __init__(self, path: Path):
        self.path = path
        self._n = 0
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
        self._env = env
        path.mkdir(parents=True, exist_ok=True)
        self._git(["init", "-q", "-b", "main"])

    def _git(self, args: list[str], who=None, when=None, data: bytes | None = None) -> str:
        env = dict(self._env)
        if who is not None:
            stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")
            author, committer = who
            env.update(
                GIT_AUTHOR_NAME=author[0],
                GIT_AUTHOR_EMAIL=author[1],
                GIT_COMMITTER_NAME=committer[0],
                GIT_COMMITTER_EMAIL=committer[1],
                GIT_AUTHOR_DATE=stamp,
                GIT_COMMITTER_DATE=stamp,
            )
        proc = subprocess.run(
            ["git", "-C", str(self.path), *args], env=env, input=data, capture_output=True
        )
        if proc.returncode:
            raise RuntimeError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode().strip()

    def commit(self, message, *, when, author, committer=None, files=None, empty=False) -> str:
        """Commit ``files`` (default: a new file of its own) and return the SHA."""
        self._n += 1
        if files is None and not empty:
            files = {f"src/file{self._n}.txt": f"change {self._n}\n"}
        for name, content in (files or {}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        if files:
            self._git(["add", "-A"])
        who = (author, committer or author)
        args = ["commit", "-q", "--allow-empty", "--no-verify", "--cleanup=verbatim", "-F", "-"]
        self._git(args, who, when, message.encode())
        return self._git(["rev-parse", "HEAD"])

    def revert(self, sha: str, *, when, author) -> str:
        self._git(["revert", "--no-edit", sha], (author, author), when)
        return self._git(["rev-parse", "HEAD"])
