"""``tags:GLOB`` — every matching tag is a successful deploy of the commit it points to.

Time: the tagger date of an annotated tag (when the release was cut), else the committer date
of the target commit (a lightweight tag has no date of its own). Tags of trees or blobs are
not deploys of code and are left out. Read with one ``git for-each-ref`` (a few milliseconds
for thousands of tags); a tag of a tag is peeled with pygit2.
"""

from __future__ import annotations

import fnmatch
import subprocess
from collections.abc import Iterator

from scorer.deploys.interface import SourceContext
from scorer.errors import RepositoryError
from scorer.history import git_env
from scorer.model import DeployEvent
from scorer.timeutil import from_unix

_FORMAT = (
    "%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)"
    "%00%(taggerdate:unix)%00%(committerdate:unix)%00%(*committerdate:unix)"
)


class TagsSource:
    def __init__(self, arg: str | None, environment: str | None) -> None:
        self.glob = arg or "*"
        self.environment = environment or "production"

    def events(self, ctx: SourceContext) -> Iterator[DeployEvent]:
        proc = subprocess.run(
            [
                "git",
                "--git-dir",
                str(ctx.git_dir),
                "for-each-ref",
                f"--format={_FORMAT}",
                "refs/tags/",
            ],
            capture_output=True,
            env=git_env(),
            check=False,
        )
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip()
            raise RepositoryError(f"cannot read tags: {detail or f'exit {proc.returncode}'}")
        rows = []
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            ref, otype, oid, ptype, pid, tagged, cdate, pcdate = line.split("\0")
            name = ref.removeprefix("refs/tags/")
            if not fnmatch.fnmatchcase(name, self.glob):
                continue
            if otype == "commit":
                rows.append((name, oid, int(cdate or 0)))
            elif otype == "tag" and ptype == "commit":
                rows.append((name, pid, int(tagged or pcdate or 0)))
            elif otype == "tag" and ptype == "tag":
                peeled = _peel_nested(ctx, name)
                if peeled is not None:
                    rows.append((name, peeled, int(tagged or 0)))
        for name, sha, when in sorted(rows):
            yield DeployEvent(
                id=name,
                sha=sha,
                environment=self.environment,
                time=from_unix(when),
                status="success",
                where=f"tag {name}",
            )


def _peel_nested(ctx: SourceContext, name: str) -> str | None:
    """The commit under a tag of a tag (rare: for-each-ref peels one level only)."""
    import pygit2

    try:
        repo = pygit2.Repository(str(ctx.git_dir))
        return str(repo.references[f"refs/tags/{name}"].peel(pygit2.Commit).id)
    except (KeyError, ValueError, TypeError, pygit2.GitError, pygit2.InvalidSpecError):
        return None
