"""``tags:GLOB`` — every matching tag is a successful deploy of the commit it points to.

Time: the tagger date of an annotated tag (when the release was cut), else the committer date
of the target commit (a lightweight tag has no date of its own).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

import pygit2

from scorer.deploys.interface import SourceContext
from scorer.errors import RepositoryError
from scorer.model import DeployEvent
from scorer.timeutil import from_unix


class TagsSource:
    def __init__(self, arg: str | None, environment: str | None) -> None:
        self.glob = arg or "*"
        self.environment = environment or "production"

    def events(self, ctx: SourceContext) -> Iterator[DeployEvent]:
        try:
            repo = pygit2.Repository(str(ctx.git_dir))
        except pygit2.GitError as err:
            raise RepositoryError(f"cannot read tags: {err}") from None
        names = sorted(
            ref[len("refs/tags/") :]
            for ref in repo.references
            if ref.startswith("refs/tags/")
            and fnmatch.fnmatchcase(ref[len("refs/tags/") :], self.glob)
        )
        for name in names:
            try:
                target = repo.references[f"refs/tags/{name}"].peel()
            except (KeyError, pygit2.GitError, ValueError):
                continue  # a dangling tag points at nothing we can read
            tagger_time = None
            obj = repo.get(repo.references[f"refs/tags/{name}"].target)
            if isinstance(obj, pygit2.Tag) and obj.tagger is not None:
                tagger_time = obj.tagger.time
            try:
                commit = target.peel(pygit2.Commit)
            except (pygit2.GitError, ValueError, TypeError, pygit2.InvalidSpecError):
                continue  # a tag of a tree or blob is not a deploy of code
            when = tagger_time if tagger_time is not None else commit.commit_time
            yield DeployEvent(
                id=name,
                sha=str(commit.id),
                environment=self.environment,
                time=from_unix(when),
                status="success",
                where=f"tag {name}",
            )
