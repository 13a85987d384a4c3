"""Plain values passed between the stages of the pipeline.

history -> attribution -> linking -> outcomes -> metric -> formats. Every stage takes these
values and returns new ones; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

HIGH = "high"
MEDIUM = "medium"
CONFIDENCE_RANK = {MEDIUM: 1, HIGH: 2}

# Evidence kinds (METRIC.md section 2).
TRAILER = "trailer"
IDENTITY = "identity"
NOTE = "note"
LINE = "line"
FOOTER = "footer"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason to believe an agent took part in a change."""

    agent: str
    kind: str
    text: str
    confidence: str

    def at_least(self, min_confidence: str) -> bool:
        return CONFIDENCE_RANK[self.confidence] >= CONFIDENCE_RANK[min_confidence]


@dataclass(slots=True)
class RawCommit:
    """A commit as read from git, before attribution. Transient: the message is not kept."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    mailmap_name: str
    mailmap_email: str
    committer_name: str
    committer_email: str
    author_time: int
    committer_time: int
    message: str


@dataclass(slots=True)
class Commit:
    """A commit as kept for the rest of the pipeline (no message body, to bound memory)."""

    sha: str
    parents: tuple[str, ...]
    author_name: str  # after .mailmap
    author_email: str  # after .mailmap, lower-cased
    author_time: int
    committer_time: int
    subject: str
    evidence: tuple[Evidence, ...] = ()
    reverts: tuple[str, ...] = ()  # shas (maybe abbreviated) named by "This reverts commit"
    human: bool = True  # author is a person (not an agent, not a bot)

    @property
    def is_change(self) -> bool:
        """A change is a non-merge commit (METRIC.md section 1)."""
        return len(self.parents) <= 1

    def ai(self, min_confidence: str) -> bool:
        return any(e.at_least(min_confidence) for e in self.evidence)

    def agents(self, min_confidence: str) -> list[str]:
        seen: dict[str, None] = {}
        for e in self.evidence:
            if e.at_least(min_confidence):
                seen.setdefault(e.agent)
        return list(seen)


@dataclass(frozen=True, slots=True)
class DeployEvent:
    """A deploy as a source reports it (METRIC.md section 3). ``sha`` is resolved and full."""

    id: str
    sha: str
    environment: str
    time: datetime  # timezone-aware
    status: str  # success | failure | error
    source: str = ""  # the spec that produced it, e.g. "tags:v*"
    order: int = 0  # position in the source, for stable ordering of equal times
    where: str = ""  # file:line or API id, for error messages


@dataclass(slots=True)
class History:
    """Every commit reachable from the scanned ref, newest first, plus what could not be read."""

    head: str
    ref: str
    commits: Sequence[Commit]  # a scorer.table.CommitTable in a scan
    index: dict[str, int] = field(default_factory=dict)  # sha -> position in commits

    def __post_init__(self) -> None:
        if not self.index:
            self.index = {c.sha: i for i, c in enumerate(self.commits)}
