"""``tags:GLOB[,GLOB…]`` — every matching tag is a successful deploy of the commit it points to.

A glob starting with ``!`` excludes (``tags:v*,!*.dev*,!*-rc*``: releases, not the ``.dev``
or release-candidate tags pushed beside them). A tag is a deploy when it matches at least one
plain glob and no ``!`` glob; with only ``!`` globs, every other tag is.

Time: the tagger date of an annotated tag (when the release was cut), else the committer date
of the target commit (a lightweight tag has no date of its own). Tags of trees or blobs are
not deploys of code and are left out. Read with one ``git for-each-ref``; a tag of a tag is
peeled with pygit2.

Peeling and dates make git read every tag and commit object (~16-40 ms for 2,500 annotated
tags, against ~4 ms for names and object ids alone). With a memo (``SourceContext.memo``,
kept by the scan cache) the source lists names and object ids only and asks git about the
objects it has not seen before: what it needs of an object never changes, so the memo holds
it by object id (``oid -> [type, peeled type, peeled id, tagger date, committer date, peeled
committer date]`` as for-each-ref prints them, plus the commit under a tag of a tag). Objects
no longer tagged are dropped from it. The events are the same with a memo or without one.

A tag's event depends only on its name and its object, so the tags a run read (``mark``: its
``refs/tags/NAME\0OBJECT`` lines, a set: their order does not matter) are all a later run
needs to vouch that none of those events changed: if every one of those lines is still
listed, the events are those of the new lines alone (``events_since``).
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from collections.abc import Iterator, Sequence

from scorer.deploys.interface import DeploySource, SourceContext
from scorer.errors import RepositoryError
from scorer.git.log import git_env
from scorer.model import DeployEvent
from scorer.util.times import from_unix

_FIELDS = (
    "%(objecttype)%00%(*objecttype)%00%(*objectname)"
    "%00%(taggerdate:unix)%00%(committerdate:unix)%00%(*committerdate:unix)"
)
_FORMAT = f"%(refname)%00%(objectname)%00{_FIELDS}"
_LIST_FORMAT = "%(refname)%00%(objectname)"
_FACTS = 6  # fields of _FIELDS: one memo entry (a 7th, when present, is the peeled commit)
# Above this many unknown objects, one listing of every tag beats naming them on the
# command line (and keeps the command line short).
_MAX_NAMED = 500


class TagsSource(DeploySource):
    def __init__(self, arg: str | None, environment: str | None) -> None:
        self.glob = arg or "*"
        self.environment = environment or "production"
        self._matches = _matcher(self.glob)
        self.mark = ""  # the matching tags read, for events_since on the next run

    def events(self, ctx: SourceContext) -> Iterator[DeployEvent]:
        memo = ctx.memo if isinstance(ctx.memo, dict) else None
        tags = list(self._full(ctx, ["refs/tags/"])) if memo is None else self._memo(ctx, memo)
        self.mark = "\n".join(sorted(f"refs/tags/{name}\0{oid}" for name, oid, _ in tags))
        return self._events(ctx, tags, memo)

    def events_since(self, ctx: SourceContext, mark: str) -> list[DeployEvent] | None:
        """The tags added since the run that left ``mark`` (its matching tags and their
        objects), or None when one of those was deleted or moved since. One listing of
        names and object ids; git is asked about the new tags alone."""
        lines = set(_for_each_ref(ctx, _LIST_FORMAT, ["refs/tags/"]))
        before = set(mark.split("\n")) if mark else set()
        if not before <= lines:
            return None
        fresh = sorted(line for line in lines - before if self._matches(line[10:].split("\0")[0]))
        if len(fresh) > _MAX_NAMED:
            return None
        self.mark = "\n".join([mark, *fresh]) if mark else "\n".join(fresh)
        if not fresh:
            return []
        wanted = dict(line[10:].split("\0") for line in fresh)  # name -> object id
        tags = [
            (name, oid, facts)
            for name, oid, facts in self._full(ctx, [line.split("\0")[0] for line in fresh])
            if wanted.get(name) == oid
        ]
        if len(tags) != len(wanted):
            return None  # a new tag moved between the two listings: read them all again
        return list(self._events(ctx, tags, None))

    def _events(self, ctx: SourceContext, tags: list, memo: dict | None) -> Iterator[DeployEvent]:
        rows = []
        for name, oid, facts in tags:
            otype, ptype, pid, tagged, cdate, pcdate = facts[:_FACTS]
            if otype == "commit":
                rows.append((name, oid, int(cdate or 0)))
            elif otype == "tag" and ptype == "commit":
                rows.append((name, pid, int(tagged or pcdate or 0)))
            elif otype == "tag" and ptype == "tag":
                peeled = facts[_FACTS] if len(facts) > _FACTS else _peel_nested(ctx, oid)
                if peeled is not None:
                    if memo is not None and len(facts) == _FACTS:
                        memo[oid] = [*facts, peeled]  # the peel is a fact of the object too
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

    def _memo(self, ctx: SourceContext, memo: dict) -> list[tuple[str, str, list[str]]]:
        """The matching tags with the facts of their objects: from the memo, else from git
        (and then kept in the memo). Entries of objects no longer tagged are dropped."""
        found: dict[str, tuple[str, list[str]]] = {}  # name -> (object id, facts)
        if not memo:  # nothing to look up: the one full listing of a run without a memo
            for name, oid, facts in self._full(ctx, ["refs/tags/"]):
                memo[oid] = facts
                found[name] = (oid, facts)
            return [(name, oid, facts) for name, (oid, facts) in found.items()]
        unknown = set()
        for line in _for_each_ref(ctx, _LIST_FORMAT, ["refs/tags/"]):
            ref, oid = line.split("\0")
            name = ref.removeprefix("refs/tags/")
            if not self._matches(name):
                continue
            facts = memo.get(oid)
            if _valid(facts):
                found[name] = (oid, facts)
            else:
                unknown.add(name)
        if unknown:
            # Named on the command line when they are few (for-each-ref matches a pattern
            # literally, and maybe more tags as a glob: only the asked ones are taken).
            few = len(unknown) <= _MAX_NAMED
            patterns = sorted(f"refs/tags/{n}" for n in unknown) if few else ["refs/tags/"]
            for name, oid, facts in self._full(ctx, patterns):
                if name in unknown:  # as git says now (a tag moved since: its new object)
                    memo[oid] = facts
                    found[name] = (oid, facts)
        for oid in set(memo) - {oid for oid, _ in found.values()}:
            del memo[oid]
        return [(name, oid, facts) for name, (oid, facts) in found.items()]

    def why_none(self, ctx: SourceContext) -> str | None:
        """What tags there are, when none matched: the first thing to check."""
        refs = _for_each_ref(ctx, "%(refname)", ["refs/tags/"])
        names = [r.removeprefix("refs/tags/") for r in refs]
        if not names:
            return "the repository has no tags"
        return (
            f"tags:{self.glob} matched 0 of {len(names)} tags (they look like {_looks_like(names)})"
        )

    def _full(self, ctx: SourceContext, patterns: Sequence[str]) -> Iterator[tuple]:
        """(name, object id, facts) of the matching tags among ``patterns``."""
        for line in _for_each_ref(ctx, _FORMAT, patterns):
            ref, oid, *facts = line.split("\0")
            name = ref.removeprefix("refs/tags/")
            if self._matches(name):
                yield name, oid, facts


def _matcher(spec: str):
    """``name -> bool`` for ``GLOB[,GLOB…]`` (``!GLOB`` excludes): one compiled regex, as
    ``fnmatch.fnmatchcase`` would match each glob, without its per-call overhead."""
    globs = [g.strip() for g in spec.split(",") if g.strip()]
    take = [fnmatch.translate(g) for g in globs if not g.startswith("!")] or [".*"]
    drop = [fnmatch.translate(g[1:]) for g in globs if g.startswith("!") and g[1:]]
    pattern = "(?!" + "|".join(drop) + ")" if drop else ""
    return re.compile(pattern + "(?:" + "|".join(take) + ")").match


def _looks_like(names: Sequence[str]) -> str:
    """What most tag names look like: their commonest stem before the first digit, as a
    glob (``release-*``), or a few names."""
    stems: dict[str, int] = {}
    for name in names:
        stem = re.match(r"[^0-9]*", name).group(0)  # type: ignore[union-attr]
        stems[stem] = stems.get(stem, 0) + 1
    stem, n = max(stems.items(), key=lambda kv: (kv[1], kv[0]))
    if stem and n * 2 >= len(names):
        return f"{stem}*"
    return ", ".join(sorted(names)[:3]) + (", …" if len(names) > 3 else "")


def _valid(entry: object) -> bool:
    """A memo entry as _memo writes it (a memo read back from disk may hold anything)."""
    if type(entry) is not list or not _FACTS <= len(entry) <= _FACTS + 1:
        return False
    try:
        "".join(entry)  # strings only
    except TypeError:
        return False
    return True


def _for_each_ref(ctx: SourceContext, fmt: str, patterns: Sequence[str]) -> list[str]:
    args = ["git", "--git-dir", str(ctx.git_dir), "for-each-ref", f"--format={fmt}", *patterns]
    code, out, err = _run_to_memory(args)
    if code != 0:
        detail = err.decode("utf-8", "replace").strip()
        raise RepositoryError(f"cannot read tags: {detail or f'exit {code}'}")
    return out.decode("utf-8", "replace").splitlines()


def _run_to_memory(args: list[str]) -> tuple[int, bytes, bytes]:
    """Run git to the end, its output captured. On Linux git writes into in-memory files
    read once it has exited: this runs in a background thread, and every wake-up to drain a
    pipe would have to win the GIL back from the busy main thread (2,500 tags: ~140 KB)."""
    if not hasattr(os, "memfd_create"):
        proc = subprocess.run(args, capture_output=True, env=git_env(), check=False)
        return proc.returncode, proc.stdout, proc.stderr
    out, err = os.memfd_create("stdout"), os.memfd_create("stderr")
    try:
        code = subprocess.run(args, stdout=out, stderr=err, env=git_env(), check=False).returncode
        return code, _read_all(out), _read_all(err)
    finally:
        os.close(out)
        os.close(err)


def _read_all(fd: int) -> bytes:
    size = os.lseek(fd, 0, os.SEEK_END)
    return os.pread(fd, size, 0) if size else b""


def _peel_nested(ctx: SourceContext, oid: str) -> str | None:
    """The commit under the tag object ``oid`` when it tags a tag (rare: for-each-ref peels
    one level only)."""
    import pygit2

    try:
        repo = pygit2.Repository(str(ctx.git_dir))
        return str(repo[oid].peel(pygit2.Commit).id)
    except (KeyError, ValueError, TypeError, pygit2.GitError, pygit2.InvalidSpecError):
        return None
