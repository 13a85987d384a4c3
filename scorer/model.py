"""Plain values passed between the stages of the pipeline.

history -> attribution -> linking -> outcomes -> metric -> formats. Every stage takes these
values and returns new ones; nothing here does I/O.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from datetime import datetime

from scorer.util.record import FrozenRecord, Record

HIGH = "high"
MEDIUM = "medium"
CONFIDENCE_RANK = {MEDIUM: 1, HIGH: 2}

# Evidence kinds (METRIC.md section 2).
TRAILER = "trailer"
IDENTITY = "identity"
NOTE = "note"
LINE = "line"
FOOTER = "footer"


class Evidence(FrozenRecord):
    """One reason to believe an agent took part in a change. Hashable; never changed."""

    _fields = ("agent", "kind", "text", "confidence")
    __slots__ = _fields

    def __init__(self, agent: str, kind: str, text: str, confidence: str) -> None:
        self.agent = agent
        self.kind = kind
        self.text = text
        self.confidence = confidence

    def at_least(self, min_confidence: str) -> bool:
        return CONFIDENCE_RANK[self.confidence] >= CONFIDENCE_RANK[min_confidence]


class RawCommit(Record):
    """A commit as read from git, before attribution. Transient: the message is not kept."""

    _fields = (
        "sha",
        "parents",
        "author_name",
        "author_email",
        "mailmap_name",
        "mailmap_email",
        "committer_name",
        "committer_email",
        "author_time",
        "committer_time",
        "message",
    )
    __slots__ = _fields

    def __init__(
        self,
        sha: str,
        parents: tuple[str, ...],
        author_name: str,
        author_email: str,
        mailmap_name: str,
        mailmap_email: str,
        committer_name: str,
        committer_email: str,
        author_time: int,
        committer_time: int,
        message: str,
    ) -> None:
        self.sha = sha
        self.parents = parents
        self.author_name = author_name
        self.author_email = author_email
        self.mailmap_name = mailmap_name
        self.mailmap_email = mailmap_email
        self.committer_name = committer_name
        self.committer_email = committer_email
        self.author_time = author_time
        self.committer_time = committer_time
        self.message = message


# One commit as the history stage hands it on: git's fields (the author after .mailmap,
# lower-cased e-mail) and attribution's verdicts; the message itself is dropped. A named
# tuple: the warm path's rows are many and short-lived (``CommitTable.add(*row)`` stores them).
CommitRow = namedtuple(
    "CommitRow",
    "sha parents name email author_time committer_time subject evidence reverts human",
)


class Commit(Record):
    """A commit as kept for the rest of the pipeline (no message body, to bound memory)."""

    _fields = (
        "sha",
        "parents",
        "author_name",
        "author_email",
        "author_time",
        "committer_time",
        "subject",
        "evidence",
        "reverts",
        "human",
    )
    __slots__ = _fields

    def __init__(
        self,
        sha: str,
        parents: tuple[str, ...],
        author_name: str,  # after .mailmap
        author_email: str,  # after .mailmap, lower-cased
        author_time: int,
        committer_time: int,
        subject: str,
        evidence: tuple[Evidence, ...] = (),
        reverts: tuple[str, ...] = (),  # shas (maybe abbreviated) named by "This reverts commit"
        human: bool = True,  # author is a person (not an agent, not a bot)
    ) -> None:
        self.sha = sha
        self.parents = parents
        self.author_name = author_name
        self.author_email = author_email
        self.author_time = author_time
        self.committer_time = committer_time
        self.subject = subject
        self.evidence = evidence
        self.reverts = reverts
        self.human = human

    @property
    def is_change(self) -> bool:
        """A change is a non-merge commit (METRIC.md section 1)."""
        return len(self.parents) <= 1

    def ai(self, min_confidence: str, ignore: frozenset[str] = frozenset()) -> bool:
        """AI-assisted at ``min_confidence`` (``ignore``: agents whose evidence does not make
        a change AI-assisted, the review bots)."""
        return any(e.at_least(min_confidence) and e.agent not in ignore for e in self.evidence)

    def agents(self, min_confidence: str) -> list[str]:
        seen: dict[str, None] = {}
        for e in self.evidence:
            if e.at_least(min_confidence):
                seen.setdefault(e.agent)
        return list(seen)


class DeployEvent(FrozenRecord):
    """A deploy as a source reports it (METRIC.md section 3). ``sha`` is resolved and full.

    Hashable; never changed: ``ev.replace(sha=...)`` makes a changed copy."""

    _fields = ("id", "sha", "environment", "time", "status", "source", "order", "where")
    __slots__ = _fields

    def __init__(
        self,
        id: str,
        sha: str,
        environment: str,
        time: datetime,  # timezone-aware
        status: str,  # success | failure | error
        source: str = "",  # the spec that produced it, e.g. "tags:v*"
        order: int = 0,  # position in the source, for stable ordering of equal times
        where: str = "",  # file:line or API id, for error messages
    ) -> None:
        self.id = id
        self.sha = sha
        self.environment = environment
        self.time = time
        self.status = status
        self.source = source
        self.order = order
        self.where = where


class History(Record):
    """Every commit reachable from the scanned ref, newest first, plus what could not be read."""

    _fields = ("head", "ref", "commits", "index")
    __slots__ = _fields

    def __init__(
        self,
        head: str,
        ref: str,
        commits: Sequence[Commit],  # a scorer.outcomes.table.CommitTable in a scan
        index: dict[str, int] | None = None,  # sha -> position in commits (built when empty)
    ) -> None:
        self.head = head
        self.ref = ref
        self.commits = commits
        self.index = index if index else {c.sha: i for i, c in enumerate(commits)}
