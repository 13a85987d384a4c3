"""Build real git repositories with exact messages, people, dates and tags, via the git CLI.

A test helper (it is not part of the package): the tests and bench/ build their repositories
with it; ``scorer demo`` builds its example with a few git commands of its own.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

Person = tuple[str, str]
DEFAULT_PERSON: Person = ("Ann Human", "ann@example.com")


def isolated_git_env(home: Path | None = None) -> dict[str, str]:
    """git with no user or system configuration, so builds are the same on every machine."""
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("GIT_"):
            del env[key]
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    if home is not None:
        env["HOME"] = str(home)
    return env


def _stamp(when: datetime | str) -> str:
    if isinstance(when, str):
        return when
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _people_env(
    author: Person, committer: Person, when: datetime | str, commit_time: datetime | str
) -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": committer[0],
        "GIT_COMMITTER_EMAIL": committer[1],
        "GIT_AUTHOR_DATE": _stamp(when),
        "GIT_COMMITTER_DATE": _stamp(commit_time),
    }


class GitRepo:
    """A repository under construction. Every method is one or two git commands."""

    def __init__(
        self, path: Path, *, branch: str = "main", bare: bool = False, object_format: str = "sha1"
    ):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.env = isolated_git_env()
        self._n = 0
        self.git(
            "init",
            "-q",
            "-b",
            branch,
            f"--object-format={object_format}",
            *(["--bare"] if bare else []),
        )

    def git(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        check: bool = True,
    ) -> str:
        full_env = dict(self.env)
        if env:
            full_env.update(env)
        proc = subprocess.run(
            ["git", "-C", str(self.path), *args],
            env=full_env,
            input=input,
            capture_output=True,
            check=False,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"git {' '.join(args)} failed: {proc.stderr.decode('utf-8', 'replace')}"
            )
        return proc.stdout.decode("utf-8", "replace").strip()

    def write(self, files: Mapping[str, str | bytes | None]) -> None:
        for name, content in files.items():
            target = self.path / name
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")

    def commit(
        self,
        message: str | bytes,
        *,
        when: datetime | str,
        author: Person = DEFAULT_PERSON,
        committer: Person | None = None,
        commit_time: datetime | str | None = None,
        files: Mapping[str, str | bytes | None] | None = None,
        empty: bool = False,
    ) -> str:
        """Commit ``files`` (default: one new line in a file of its own) and return the SHA."""
        self._n += 1
        if files is None and not empty:
            files = {f"src/file{self._n}.txt": f"change {self._n}\n"}
        if files:
            self.write(files)
            self.git("add", "-A")
        committer = committer or author
        env = _people_env(author, committer, when, commit_time or when)
        data = message if isinstance(message, bytes) else message.encode("utf-8")
        self.git(
            "commit",
            "-q",
            "--allow-empty",
            "--no-verify",
            "--cleanup=verbatim",
            "-F",
            "-",
            env=env,
            input=data,
        )
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def tag(
        self,
        name: str,
        target: str = "HEAD",
        *,
        when: datetime | str | None = None,
        message: str | None = None,
        tagger: Person = DEFAULT_PERSON,
    ) -> None:
        """An annotated tag when ``when`` or ``message`` is given, else a lightweight tag."""
        if when is None and message is None:
            self.git("tag", name, target)
            return
        env = {"GIT_COMMITTER_NAME": tagger[0], "GIT_COMMITTER_EMAIL": tagger[1]}
        if when is not None:
            env["GIT_COMMITTER_DATE"] = _stamp(when)
        self.git("tag", "-a", name, "-m", message or name, target, env=env)

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.git("branch", name, start)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def merge(
        self,
        branch: str,
        *,
        when: datetime | str,
        message: str | None = None,
        author: Person = DEFAULT_PERSON,
    ) -> str:
        env = _people_env(author, author, when, when)
        self.git(
            "merge",
            "-q",
            "--no-ff",
            "--no-edit",
            "-m",
            message or f"Merge {branch}",
            branch,
            env=env,
        )
        return self.head()

    def revert(self, sha: str, *, when: datetime | str, author: Person = DEFAULT_PERSON) -> str:
        """``git revert``: the message says ``This reverts commit <sha>.`` as git writes it."""
        env = _people_env(author, author, when, when)
        self.git("revert", "--no-edit", sha, env=env)
        return self.head()


def days(n: float) -> timedelta:
    return timedelta(days=n)
