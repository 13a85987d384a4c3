"""The scanned history as columns: one row per commit, no message bodies.

Why columns and not a list of objects: a 100k-commit history is read on every merge. Rows of
plain arrays cost a fraction of the memory and time of 100k objects, serialize to a cache in
a few milliseconds, and the questions the metric asks (who authored what when, which commits
carry evidence) are loops over one or two columns. Evidence, reverts and subjects of commits
with evidence are sparse. ``table[i]`` still gives a ``Commit`` for code that wants one row.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Iterator, Sequence

from scorer.model import CONFIDENCE_RANK, Commit, Evidence


class CommitTable(Sequence[Commit]):
    def __init__(self) -> None:
        self.shas: list[str] = []
        self.index: dict[str, int] = {}
        self.parents: list[tuple[int, ...]] = []  # row numbers of the parents
        self.author_time = array("q")
        self.committer_time = array("q")
        self.person = array("l")  # row in ``people`` of the author after .mailmap
        self.people: list[tuple[str, str]] = []  # (name, lower-cased email)
        self._people_ix: dict[tuple[str, str], int] = {}
        self.human = bytearray()  # 1 when the author is a person (not an agent, not a bot)
        self.subjects: list[str] = []
        self.evidence: dict[int, tuple[Evidence, ...]] = {}
        self.reverts: dict[int, tuple[str, ...]] = {}
        self._pending: list[tuple[int, tuple[str, ...]]] = []  # parents not yet resolved
        self.missing_parents = 0
        # Rows sorted by author time (an incremental cache keeps it), so that a period is a
        # slice, not a pass over every row; None until first needed.
        self.by_author_time: array | None = None
        # Agent ids of kind review-bot (METRIC.md section 2, v2): their evidence is reported
        # apart and does not make a change AI-assisted. Set from the registry by the scan.
        self.review_bots: frozenset[str] = frozenset()

    # --- building -------------------------------------------------------------------------

    def add(
        self,
        sha: str,
        parents: tuple[str, ...],
        name: str,
        email: str,
        author_time: int,
        committer_time: int,
        subject: str,
        evidence: tuple[Evidence, ...],
        reverts: tuple[str, ...],
        human: bool,
    ) -> int:
        row = len(self.shas)
        self.shas.append(sha)
        self.index[sha] = row
        self.parents.append(())
        self._pending.append((row, parents))
        self.author_time.append(author_time)
        self.committer_time.append(committer_time)
        key = (name, email)
        p = self._people_ix.get(key)
        if p is None:
            p = self._people_ix[key] = len(self.people)
            self.people.append(key)
        self.person.append(p)
        self.human.append(1 if human else 0)
        self.subjects.append(subject)
        if evidence:
            self.evidence[row] = evidence
        if reverts:
            self.reverts[row] = reverts
        return row

    def extend(self, rows: Iterable[Sequence]) -> None:
        """``add`` for each of ``rows`` (``CommitRow``s) that the table does not hold yet (a
        deployed branch read earlier may since have been merged), in one loop with the
        columns at hand: a cold scan adds ~100k rows."""
        shas, index, parents, pending = self.shas, self.index, self.parents, self._pending
        atime, ctime, person, human = (self.author_time, self.committer_time, self.person,
                                       self.human)  # fmt: skip
        people, people_ix, subjects = self.people, self._people_ix, self.subjects
        evidence, reverts = self.evidence, self.reverts
        row = len(shas)
        for sha, ps, name, email, a, c, subject, ev, rv, hu in rows:
            if sha in index:
                continue
            shas.append(sha)
            index[sha] = row
            parents.append(())
            pending.append((row, ps))
            atime.append(a)
            ctime.append(c)
            key = (name, email)
            p = people_ix.get(key)
            if p is None:
                p = people_ix[key] = len(people)
                people.append(key)
            person.append(p)
            human.append(1 if hu else 0)
            subjects.append(subject)
            if ev:
                evidence[row] = ev
            if rv:
                reverts[row] = rv
            row += 1

    def link(self) -> None:
        """Turn parent SHAs into rows once every commit is in; parents outside the scanned set
        (grafts, missing objects) are dropped and counted."""
        index = self.index
        if self.by_author_time is not None and self._pending:
            self._sort_new_rows([row for row, _ in self._pending])
        pending, get = self._pending, index.__getitem__
        start = len(self.parents) - len(pending)
        try:  # the common case at once: every parent known, the pending rows the last ones
            linked = [(get(ps[0]),) if len(ps) == 1 else tuple(map(get, ps)) for _, ps in pending]
        except KeyError:
            linked = None
        if linked is not None and (not pending or pending[0][0] == start):
            if isinstance(self.parents, list):
                self.parents[start:] = linked
            else:  # a cache's compact column
                for row, ps in enumerate(linked, start):
                    self.parents[row] = ps
            self._pending = []
            return
        for row, ps in pending:
            try:
                self.parents[row] = tuple(map(get, ps))
            except KeyError:
                self.parents[row] = tuple(index[p] for p in ps if p in index)
                self.missing_parents += sum(1 for p in ps if p not in index)
        self._pending = []

    def _sort_new_rows(self, rows: list[int]) -> None:
        order, key = self.by_author_time, self.author_time.__getitem__
        if order is None:
            return
        if len(rows) > 64:  # one sort beats many inserts into a long array
            self.by_author_time = array("i", sorted(range(len(self)), key=key))
            return
        for row in rows:
            order.insert(bisect.bisect_right(order, key(row), key=key), row)

    def sort_by_author_time(self) -> array:
        if self.by_author_time is None:
            self.by_author_time = array(
                "i", sorted(range(len(self)), key=self.author_time.__getitem__)
            )
        return self.by_author_time

    # --- reading --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.shas)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        name, email = self.people[self.person[i]]
        return Commit(
            sha=self.shas[i],
            parents=tuple(self.shas[p] for p in self.parents[i]),
            author_name=name,
            author_email=email,
            author_time=self.author_time[i],
            committer_time=self.committer_time[i],
            subject=self.subjects[i],
            evidence=self.evidence.get(i, ()),
            reverts=self.reverts.get(i, ()),
            human=bool(self.human[i]),
        )

    def __iter__(self) -> Iterator[Commit]:
        for i in range(len(self)):
            yield self[i]

    def authored_between(self, lo: float, hi: float) -> Sequence[int]:
        """Rows with ``lo <= author_time < hi``, in author-time order (in row order while
        rows await ``link``). The first call sorts the rows (git lists them nearly in time
        order already: ~12 ms for 100k, the cost of two passes over them; a scan asks for
        periods several times)."""
        order, atime = self.by_author_time, self.author_time
        if order is None and not self._pending:
            order = self.sort_by_author_time()
        if order is None:
            return [i for i in range(len(self)) if lo <= atime[i] < hi]
        key = atime.__getitem__
        a = bisect.bisect_left(order, lo, key=key)
        return order[a : bisect.bisect_left(order, hi, lo=a, key=key)]

    def email(self, i: int) -> str:
        return self.people[self.person[i]][1]

    def ai(self, i: int, min_confidence: str) -> bool:
        """AI-assisted at ``min_confidence``: evidence of an agent that is not a review bot."""
        floor, bots = CONFIDENCE_RANK[min_confidence], self.review_bots
        return any(
            CONFIDENCE_RANK[e.confidence] >= floor and e.agent not in bots
            for e in self.evidence.get(i, ())
        )

    def agents(self, i: int, min_confidence: str, *, review_bots: bool = False) -> list[str]:
        """The agents the evidence of row ``i`` names at ``min_confidence``: coding agents, or
        (``review_bots``) the review bots whose suggestions it carries."""
        floor, bots = CONFIDENCE_RANK[min_confidence], self.review_bots
        seen: dict[str, None] = {}
        for e in self.evidence.get(i, ()):
            if CONFIDENCE_RANK[e.confidence] >= floor and (e.agent in bots) is review_bots:
                seen.setdefault(e.agent)
        return list(seen)
