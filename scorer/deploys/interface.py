"""The one small interface every deploy source implements.

A source turns something outside the commit graph (tags, a log file, a deployments API) into
``DeployEvent`` values. It reports SHAs as it found them; ``scorer.deploys.resolve`` turns them
into full SHAs of the scanned history, so that every source gets the same rules for
abbreviations, ambiguity and deploys of unknown commits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from pathlib import Path

from scorer.model import DeployEvent
from scorer.util.record import Record


class SourceContext(Record):
    """What a source may look at. Sources do their own I/O; nothing else in the pipeline does.

    Never changed after it is made: ``ctx.replace(confine_to=...)`` makes a changed copy.
    """

    _fields = ("repo_path", "git_dir", "base_dir", "env", "repository", "confine_to", "memo")
    __slots__ = _fields
    _uncompared = _unshown = ("memo",)

    def __init__(
        self,
        repo_path: Path,  # the work tree (or git dir) being scanned
        git_dir: Path,
        base_dir: Path,  # relative file names in a deploy spec are relative to this
        env: Mapping[str, str] | None = None,  # environment variables (tokens, URLs)
        repository: str = "",  # "owner/name" when known (GITHUB_REPOSITORY or config)
        # Files a source may read must lie under one of these (empty: anywhere). Set for specs
        # from the repository's config file, which a pull request can change.
        confine_to: tuple[Path, ...] = (),
        # What the source learnt on an earlier run, for this one spec: a JSON-serialisable
        # dict the source reads and updates in place (the scan cache persists it), or None.
        # Only facts that cannot change may go in (e.g. about immutable git objects): the
        # events must be the same with a memo, an empty one, or none.
        memo: dict | None = None,
    ) -> None:
        self.repo_path = repo_path
        self.git_dir = git_dir
        self.base_dir = base_dir
        self.env = {} if env is None else env
        self.repository = repository
        self.confine_to = confine_to
        self.memo = memo


class DeploySource(ABC):
    """``SCHEME[:ARG]`` in ``--deploys``; ``environment`` overrides the source's default.

    ``events`` is all a source must implement. The rest has defaults a source overrides when it
    can do better:

    * ``events_since(ctx, mark)``, for per-merge runs that should not read every deploy again
      (``tags`` has it): the events new since the run that left ``mark`` (what ``events`` or
      ``events_since`` set the ``mark`` attribute to: a text the cache keeps), given that every
      event that run got is still reported exactly so; or None when the source cannot vouch
      for that (an event was deleted or changed, or it cannot tell). The default cannot.
    * ``skipped``: deploys left out because they never finished (an API's queued ones).
    * ``why_none(ctx)``: when it found no event, one line saying what it saw instead (the
      report's "why is it 0").
    """

    mark: str | None = None
    skipped = 0

    def __init__(self, arg: str | None, environment: str | None) -> None:
        self.arg = arg
        self.environment = environment

    @abstractmethod
    def events(self, ctx: SourceContext) -> Iterable[DeployEvent]:
        """Every deploy event the source knows, in source order; ``sha`` as the source gave it."""

    def events_since(self, ctx: SourceContext, mark: str) -> list[DeployEvent] | None:
        return None

    def why_none(self, ctx: SourceContext) -> str | None:
        return None
