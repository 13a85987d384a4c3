"""Reachability over the scanned commit graph, in memory.

Every question the metric asks of the graph is "reachable from A and not from B" (what a deploy
shipped) or "is A an ancestor of B" (was a deploy rolled back). Both are answered with
generation numbers, the way git's commit-graph does: walking in decreasing generation order
means a commit's marks are final when it is popped, so a walk stops as soon as only
uninteresting commits remain, and its cost is the size of the range, not of the history.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence


class Graph:
    def __init__(self, shas: Sequence[str], parents: Sequence[Sequence[str]]):
        self.shas = list(shas)
        self.index = idx = {sha: i for i, sha in enumerate(self.shas)}
        self.missing_parents = 0
        try:
            self.parents: list[tuple[int, ...]] = [
                tuple(map(idx.__getitem__, ps)) for ps in parents
            ]
        except KeyError:
            # Parents outside the scanned set (grafts, missing objects) are dropped, and counted.
            self.parents = [tuple(idx[p] for p in ps if p in idx) for ps in parents]
            self.missing_parents = sum(1 for ps in parents for p in ps if p not in idx)
        self.generation = self._generations()

    def _generations(self) -> list[int]:
        """1 + the largest parent generation. git log lists children before parents (newest
        first), so one backwards pass settles nearly every commit; a depth-first walk handles
        the rest (commits listed out of order by clock skew)."""
        n = len(self.shas)
        gen = [0] * n
        parents = self.parents
        for node in range(n - 1, -1, -1):
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

    def _settle(self, start: int, gen: list[int]) -> None:
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

    def only_in(self, tip: int, exclude: Sequence[int] = ()) -> list[int]:
        """Commits reachable from ``tip`` and from none of ``exclude`` (``git rev-list tip ^x``)."""
        gen, parents = self.generation, self.parents
        seen: dict[int, bool] = {}  # node -> uninteresting
        heap: list[tuple[int, int]] = []
        interesting = 0
        for x in exclude:
            if x not in seen:
                seen[x] = True
                heapq.heappush(heap, (-gen[x], x))
        if tip in seen:
            return []
        seen[tip] = False
        heapq.heappush(heap, (-gen[tip], tip))
        interesting = 1
        out: list[int] = []
        while interesting:
            _, node = heapq.heappop(heap)
            stale = seen[node]
            if not stale:
                interesting -= 1
                out.append(node)
            for p in parents[node]:
                prev = seen.get(p)
                if prev is None:
                    seen[p] = stale
                    heapq.heappush(heap, (-gen[p], p))
                    if not stale:
                        interesting += 1
                elif stale and prev is False:
                    seen[p] = True  # now known reachable from an excluded tip
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
