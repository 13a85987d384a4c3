"""Reachability over the scanned commit graph, in memory.

Every question the metric asks of the graph is "reachable from A and not from B" (what a deploy
shipped) or "is A an ancestor of B" (was a deploy rolled back). Both are answered with
generation numbers, the way git's commit-graph does: walking in decreasing generation order
means a commit's marks are final when it is popped, so a walk stops as soon as only
uninteresting commits remain, and its cost is the size of the range, not of the history.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Sequence


class Graph:
    def __init__(
        self,
        shas: Sequence[str],
        parents: Sequence[tuple[int, ...]],
        index: dict[str, int] | None = None,
        generation: Sequence[int] | None = None,
    ):
        """``parents`` are row numbers; ``generation`` may come from a cache (it is extended
        for rows it does not cover)."""
        self.shas = shas
        self.parents = parents
        self.index = index if index is not None else {sha: i for i, sha in enumerate(shas)}
        self.generation = self._generations(generation if generation is not None else [])
        # Answers already known (from the incremental cache), and every new answer: the
        # history of a row never changes, so neither does the range between two rows.
        self.memo_only_in: dict[tuple[int, int], array] = {}
        self.memo_ancestor: dict[tuple[int, int], bool] = {}
        # The ancestors of one tip, marked (``_walk_on``): each deploy's range from the last.
        self._marks: bytearray | None = None
        self._marked = -1
        self._remarks = 0  # ``_remark``s so far

    @classmethod
    def from_shas(cls, shas: Sequence[str], parents: Sequence[Sequence[str]]) -> Graph:
        index = {sha: i for i, sha in enumerate(shas)}
        return cls(list(shas), [tuple(index[p] for p in ps if p in index) for ps in parents], index)

    def _generations(self, known: Sequence[int]) -> Sequence[int]:
        """1 + the largest parent generation. git log lists children before parents (newest
        first), so one backwards pass settles nearly every commit; a depth-first walk handles
        the rest (commits listed out of order by clock skew). Rows appended by an incremental
        scan come after the cached ones, so they are settled by the same walk."""
        n = len(self.shas)
        settled = min(len(known), n)
        gen = known if isinstance(known, (list, array)) else list(known)
        del gen[n:]
        gen.extend([0] * (n - settled))
        parents = self.parents
        for node in range(n - 1, settled - 1, -1):
            ps = parents[node]
            if not ps:
                gen[node] = 1
                continue
            best = 0
            for p in ps:
                g = gen[p]
                if not g:
                    break
                if g > best:
                    best = g
            else:
                gen[node] = best + 1
                continue
            self._settle(node, gen)
        return gen

    def _settle(self, start: int, gen: Sequence[int]) -> None:
        parents = self.parents
        stack = [start]
        while stack:
            node = stack[-1]
            if gen[node]:
                stack.pop()
                continue
            pending = [p for p in parents[node] if not gen[p]]
            if pending:
                stack.extend(pending)
                continue
            gen[node] = 1 + max((gen[p] for p in parents[node]), default=0)
            stack.pop()

    def range(
        self, tip: int, base: int | None, in_turn: bool = False, move: bool = True
    ) -> Sequence[int]:
        """``only_in(tip, [base])``, remembered (as an array: 4 bytes a row, where a list
        took ~36; two release lines deployed as one environment make thousands of ranges of
        ~12k rows: 250 MiB of lists on rails/rails). It also settles whether ``base`` is an
        ancestor of ``tip``: a path from tip to base runs through commits that are not
        ancestors of base, so base is then the parent of one of the commits returned.
        ``in_turn``: the caller asks deploy after deploy (``_walk_on``, ``_remark``), and the
        next one from ``tip`` unless not ``move``."""
        key = (tip, -1 if base is None else base)
        found = self.memo_only_in.get(key)
        if found is not None and in_turn and move and base is not None:
            marks = self._marks  # a range known before: the marks go on to tip all the same
            if marks is not None and self._marked == base and self.memo_ancestor.get((base, tip)):
                self._mark_ancestors(tip, found, marks)  # tip's: base's and these
        if found is None:
            walked = self._walk_on(tip, base, move) if base is not None else None
            rows = walked
            if rows is None:
                rows = self.only_in(tip, () if base is None else (base,))
                if base is None:
                    self._mark_ancestors(tip, rows)
            found = self.memo_only_in[key] = array("i", rows)
            if base is not None and (base, tip) not in self.memo_ancestor:
                parents = self.parents
                self.memo_ancestor[(base, tip)] = base == tip or any(
                    base in parents[n] for n in found
                )
            lost = in_turn and walked is None and self._marked != -1
            if lost and base is not None and self.memo_ancestor[(base, tip)]:
                self._remark(tip if move else base)  # forward again after a rollback
        return found

    def _remark(self, tip: int) -> None:
        """Mark ``tip``'s ancestors again when deploys go forward after a rollback (which
        dropped the marks; ``tip``: the next deploy's base, the last that did not fail):
        without them every later deploy's range was a heap walk
        (rails/rails with a deploy a day: 4,678 of 6,468, after two days deployed out of
        order). One depth-first walk of the history each time; at most ``_REMARKS`` times,
        so that deploys that keep going back and forth cost no more than before. Only in a
        run that linked from a first deploy (a per-merge run's few new deploys walk their
        ranges, not the history)."""
        if self._remarks >= _REMARKS:
            return
        self._remarks += 1
        marks = self._marks = bytearray(len(self.parents))
        self._mark_unmarked(tip, marks)
        self._marked = tip

    def _mark_ancestors(
        self, tip: int, rows: Sequence[int], marks: bytearray | None = None
    ) -> None:
        """The marks are ``tip``'s ancestors: ``rows`` added to ``marks`` (none: to none)."""
        if marks is None:
            marks = bytearray(len(self.parents))
        for x in rows:
            marks[x] = 1
        self._marks, self._marked = marks, tip

    def _mark_unmarked(self, tip: int, marks: bytearray, base: int = -1) -> tuple[list[int], bool]:
        """Depth-first from ``tip`` (unmarked), marking what it meets and stopping at what was
        marked: the rows it marked, and whether it met ``base`` among the marked ones."""
        parents, out, met = self.parents, [], False
        marks[tip] = 1
        stack = [tip]
        while stack:
            node = stack.pop()
            out.append(node)
            for p in parents[node]:
                if not marks[p]:
                    marks[p] = 1
                    stack.append(p)
                elif p == base:
                    met = True
        return out, met

    def _walk_on(self, tip: int, base: int, move: bool = True) -> list[int] | None:
        """``only_in(tip, [base])`` when ``base`` is the tip whose ancestors are marked (a
        deploy after the one before it: linking walks each environment's deploys in order).
        Every commit reachable from ``tip`` and not from ``base`` is reachable through
        unmarked ones alone, so a depth-first walk that stops at marked commits finds them
        without a heap; sorted as ``only_in`` returns them. When ``base`` is an ancestor of
        ``tip`` (the walk meets it), the marks are then ``tip``'s ancestors, for the next
        deploy; otherwise they are dropped. Not ``move``: they stay ``base``'s (a failed
        deploy: the next one ships from the same commit). None when ``base`` is not the
        marked tip."""
        marks = self._marks
        if marks is None or self._marked != base or len(marks) != len(self.parents):
            return None
        out: list[int] = []
        if marks[tip]:
            met = tip == base
        else:
            out, met = self._mark_unmarked(tip, marks, base)
        if not move:
            for x in out:
                marks[x] = 0
        elif met:
            self._marked = tip
        else:
            self._marks = None  # the ancestors of both: no one tip's
        self.memo_ancestor[(base, tip)] = met
        if len(out) > 1:
            gen, scale = self.generation, len(self.parents) + 1
            out.sort(key=lambda x: gen[x] * scale + x, reverse=True)  # only_in's order
        return out

    def contains(self, a: int, b: int) -> bool:
        """``is_ancestor(a, b)``, remembered."""
        found = self.memo_ancestor.get((a, b))
        if found is None:
            found = self.memo_ancestor[(a, b)] = self.is_ancestor(a, b)
        return found

    def only_in(self, tip: int, exclude: Sequence[int] = ()) -> list[int]:
        """Commits reachable from ``tip`` and from none of ``exclude`` (``git rev-list tip ^x``).

        The heap holds one int per commit (generation and row in one number, the newest
        generation first) and the marks are a byte per row: on a range of 10k commits (two
        release lines apart) that is about twice as fast as tuples and a dict."""
        gen, parents = self.generation, self.parents
        scale = len(parents) + 1
        mark = bytearray(scale)  # 0 unseen, 1 reachable from tip only, 2 from an excluded tip
        heap: list[int] = []
        push, pop = heapq.heappush, heapq.heappop
        for x in exclude:
            if not mark[x]:
                mark[x] = 2
                push(heap, -(gen[x] * scale + x))
        if mark[tip]:
            return []
        mark[tip] = 1
        push(heap, -(gen[tip] * scale + tip))
        interesting = 1
        out: list[int] = []
        while interesting:
            node = -pop(heap) % scale
            stale = mark[node]
            if stale == 1:
                interesting -= 1
                out.append(node)
            for p in parents[node]:
                prev = mark[p]
                if not prev:
                    mark[p] = stale
                    push(heap, -(gen[p] * scale + p))
                    if stale == 1:
                        interesting += 1
                elif stale == 2 and prev == 1:
                    mark[p] = 2  # now known reachable from an excluded tip
                    interesting -= 1
        return out

    def is_ancestor(self, a: int, b: int) -> bool:
        """True when ``a`` is ``b`` or one of its ancestors (``git merge-base --is-ancestor``)."""
        if a == b:
            return True
        gen, parents = self.generation, self.parents
        floor = gen[a]
        if gen[b] <= floor:
            return False
        seen = {b}
        stack = [b]
        while stack:
            node = stack.pop()
            for p in parents[node]:
                if p == a:
                    return True
                if p not in seen and gen[p] > floor:
                    seen.add(p)
                    stack.append(p)
        return False


_REMARKS = 16  # re-markings of a deploy's ancestors (``Graph._remark``) a graph allows


class PrefixIndex:
    """Full SHAs by unambiguous prefix, as git resolves abbreviations."""

    def __init__(self, shas: Sequence[str]):
        import bisect

        self._bisect = bisect.bisect_left
        self.sorted = sorted(shas)

    def matches(self, prefix: str, limit: int = 2) -> list[str]:
        prefix = prefix.lower()
        lo = self._bisect(self.sorted, prefix)
        out = []
        for sha in self.sorted[lo : lo + limit]:
            if not sha.startswith(prefix):
                break
            out.append(sha)
        return out
