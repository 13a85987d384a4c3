"""The one small interface every deploy source implements.

A source turns something outside the commit graph (tags, a log file, a deployments API) into
``DeployEvent`` values. It reports SHAs as it found them; ``scorer.deploys.resolve`` turns them
into full SHAs of the scanned history, so that every source gets the same rules for
abbreviations, ambiguity and deploys of unknown commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from scorer.model import DeployEvent


@dataclass(frozen=True)
class SourceContext:
    """What a source may look at. Sources do their own I/O; nothing else in the pipeline does."""

    repo_path: Path  # the work tree (or git dir) being scanned
    git_dir: Path
    base_dir: Path  # relative file names in a deploy spec are relative to this
    env: Mapping[str, str] = field(default_factory=dict)  # environment variables (tokens, URLs)
    repository: str = ""  # "owner/name" when known (GITHUB_REPOSITORY or config)
    # Files a source may read must lie under one of these (empty: anywhere). Set for specs
    # from the repository's config file, which a pull request can change.
    confine_to: tuple[Path, ...] = ()


class DeploySource(Protocol):
    """``SCHEME[:ARG]`` in ``--deploys``; ``environment`` overrides the source's default."""

    def __init__(self, arg: str | None, environment: str | None) -> None: ...

    def events(self, ctx: SourceContext) -> Iterable[DeployEvent]:
        """Every deploy event the source knows, in source order; ``sha`` as the source gave it."""
        ...
