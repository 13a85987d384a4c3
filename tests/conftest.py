from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gitbuild import GitRepo

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture
def sc(repo: GitRepo, tmp_path: Path):
    """A repository with one root commit, deployed one hour later as ``d0`` (deploy log)."""
    from scenario import ANN, Scenario

    s = Scenario(repo, tmp_path)
    s.base = repo.commit("Initial\n", when=T0, author=ANN)
    s.deploy(s.base, T0 + timedelta(hours=1), ident="d0")
    return s
