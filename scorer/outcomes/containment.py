"""Does a later deploy R still run what deploy D ran? (METRIC.md section 5, v2)

v1 asked only "is D.sha an ancestor of (or equal to) R.sha". Real histories break that in two
ways, each of which made a deploy read as rolled back while everything it shipped kept running:

* a fix shipped by D reaches R as a cherry-pick (forward to the next release, or back to a
  release branch): same patch, another commit;
* a release tagged on a version-bump commit that is never merged, followed by a main-line
  release holding everything else it had: only the bump is missing, and the bump is the one
  thing the next release must not carry.

The rule: R contains D when every change D runs that R does not (``git rev-list R..D``, merges
aside: they are never changes, section 1) either does not decide, or has a change with the
same ``git patch-id --stable`` among those R runs that D does not (``git rev-list D..R``: the
same two ranges ``git cherry R D`` compares). A change does not decide when, ignoring
whitespace and ``exclude_paths`` as section 1 does, it changes nothing or only paths matched
by ``version_files`` (a release's version bump, changelog entry): such a change is a label on a
release, not code a rollback would take away. A bump that also changes code still decides.

Why the changes of ``R..D`` and not only those D shipped: a redeploy ships nothing, yet the
code it runs is what a rollback takes away; v1's answer for it is kept. When D is an ancestor
of R nothing is asked of git (the fast path); patch-ids and diffs are read only for a
rollback candidate, and only of the commits in those two ranges.

Pure: the graph, and two questions about rows (does a change decide; its patch-id) in.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence

from scorer.outcomes.graph import Graph

Decides = Callable[[list[int]], dict[int, bool]]
PatchIds = Callable[[list[int]], dict[int, str | None]]
Paths = Callable[[list[int]], dict[int, tuple[str, ...] | None]]
_ROUND = 64  # changes of D that have no possible equivalent, judged per round


class Containment:
    """``contains(d, r)``: R's code contains D's (rows of the deployed commits), remembered
    per pair. ``decides(rows)``: which changes decide containment; ``patch_ids(rows)``: their
    patch-ids (None: no textual diff, equal to nothing); ``paths(rows)``: the paths each
    changes (None: unknown), which two changes with the same patch-id share.

    The paths make a divergent pair cheap (two release lines deployed to one environment:
    thousands of changes on each side). A change of D whose paths no change of R has can have
    no equivalent there: if it decides, R does not contain D, found in the first round of such
    changes; only changes with a possible equivalent need patch-ids, and only those of R
    that change the same paths. The answer is the rule's, with fewer diffs."""

    def __init__(
        self, graph: Graph, decides: Decides, patch_ids: PatchIds, paths: Paths | None = None
    ):
        self.graph = graph
        self.decides = decides
        self.patch_ids = patch_ids
        self.paths = paths or (lambda rows: dict.fromkeys(rows))
        self.memo: dict[tuple[int, int], bool] = {}
        self._sides: dict[tuple[int, int], _Sides] = {}  # prefetched, until answered

    def __call__(self, d: int, r: int) -> bool:
        graph = self.graph
        if graph.contains(d, r):
            return True
        found = self.memo.get((d, r))
        if found is None:
            found = self.memo[(d, r)] = self._equivalent(d, r)
            self._sides.pop((d, r), None)
        return found

    def prefetch(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Ask git once for what ``(d, r)`` pairs will need: every change's paths, then the
        verdicts of each pair's first round and of its changes with a possible equivalent,
        then those changes' patch-ids: one process each, not one per pair."""
        graph = self.graph
        todo = [
            (d, r) for d, r in dict.fromkeys(pairs) if (d, r) not in self.memo
            and not graph.contains(d, r)
        ]  # fmt: skip
        if not todo:
            return
        # Arrays: two release lines deployed as one environment give hundreds of pairs
        # whose sides hold ~12k changes each (rails/rails: 274), all kept until answered.
        changes: dict[tuple[int, int], tuple[array, array]] = {}
        rows: set[int] = set()
        for d, r in todo:
            a, b = _changes(graph, graph.range(d, r)), _changes(graph, graph.range(r, d))
            rows.update(a)
            rows.update(b)
            changes[(d, r)] = array("i", a), array("i", b)
        keys = self.paths(sorted(rows))
        ask: set[int] = set()
        for pair, (a, b) in changes.items():
            sides = self._sides[pair] = _Sides(a, b, keys)
            ask.update(sides.alone[:_ROUND])
            ask.update(sides.paired)
        verdicts = self.decides(sorted(ask)) if ask else {}
        ids: set[int] = set()
        for pair in todo:
            sides = self._sides[pair]
            if any(verdicts[c] for c in sides.alone[:_ROUND]):
                continue  # refuted by its first round: no patch-id needed
            for c in sides.paired:
                if verdicts[c]:
                    ids.add(c)
                    ids.update(sides.candidates(c))
        if ids:
            self.patch_ids(sorted(ids))

    def _equivalent(self, d: int, r: int) -> bool:
        sides = self._sides.get((d, r))
        if sides is None:
            graph = self.graph
            missing = _changes(graph, graph.range(d, r))
            if not missing:
                return True
            other = _changes(graph, graph.range(r, d))
            sides = _Sides(missing, other, self.paths([*missing, *other]))
        alone, paired = sides.alone, sides.paired
        for k in range(0, len(alone), _ROUND):
            if any(self.decides(alone[k : k + _ROUND]).values()):
                return False  # a change that decides, and no change of R like it
        verdicts = self.decides(paired) if paired else {}
        need = [c for c in paired if verdicts[c]]
        if not need:
            return True
        ids = self.patch_ids(sorted({*need, *(x for c in need for x in sides.candidates(c))}))
        for c in need:
            running = {ids[x] for x in sides.candidates(c)} - {None}
            if ids[c] is None or ids[c] not in running:
                return False
        return True


class _Sides:
    """One pair's changes: those of D that R lacks, split by whether R has a change on the
    same paths (``paired``: only such a change can have the same patch-id) or not
    (``alone``); ``candidates(c)``: the changes of R that may be ``c``'s equivalent (all of
    them where some paths are unknown). Only what ``candidates`` needs for the paired
    changes is kept (a pair's sides wait for its answer: see ``Containment.prefetch``)."""

    def __init__(
        self, missing: Sequence[int], other: Sequence[int], keys: dict[int, tuple[str, ...] | None]
    ):
        self.keys = keys
        self.unknown = any(keys[c] is None for c in other)
        by_key: dict[tuple[str, ...] | None, list[int]] = {}
        for c in other:
            by_key.setdefault(keys[c], []).append(c)
        everything = self.unknown or any(keys[c] is None for c in missing)
        self.other: Sequence[int] = other if everything and other else ()
        alone, paired = array("i"), array("i")
        for c in missing:
            key = keys[c]
            found = other if self.unknown or key is None else by_key.get(key)
            (paired if found else alone).append(c)
        self.alone, self.paired = alone, paired
        self.by_key = {keys[c]: by_key[keys[c]] for c in paired if keys[c] in by_key}

    def candidates(self, c: int) -> Sequence[int]:
        key = self.keys[c]
        return self.other if self.unknown or key is None else self.by_key.get(key, ())


def _changes(graph: Graph, rows: Sequence[int]) -> list[int]:
    """The changes among ``rows`` (merges are walked, never changes: section 1)."""
    parents = graph.parents
    return [c for c in rows if len(parents[c]) <= 1]
