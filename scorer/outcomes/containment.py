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

from collections.abc import Callable, Sequence

from scorer.outcomes.graph import Graph

Decides = Callable[[list[int]], dict[int, bool]]
PatchIds = Callable[[list[int]], dict[int, str | None]]


class Containment:
    """``contains(d, r)``: R's code contains D's (rows of the deployed commits), remembered
    per pair. ``decides(rows)``: which changes decide containment; ``patch_ids(rows)``: their
    patch-ids (None: no textual diff, equal to nothing)."""

    def __init__(self, graph: Graph, decides: Decides, patch_ids: PatchIds):
        self.graph = graph
        self.decides = decides
        self.patch_ids = patch_ids
        self.memo: dict[tuple[int, int], bool] = {}

    def __call__(self, d: int, r: int) -> bool:
        graph = self.graph
        if graph.contains(d, r):
            return True
        found = self.memo.get((d, r))
        if found is None:
            found = self.memo[(d, r)] = self._equivalent(d, r)
        return found

    def prefetch(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Ask git once for what ``(d, r)`` pairs will need (their changes' verdicts and
        patch-ids): one diff and one patch-id pipeline, not one per pair."""
        graph = self.graph
        missing: set[int] = set()
        other: set[int] = set()
        for d, r in pairs:
            if (d, r) not in self.memo and not graph.contains(d, r):
                missing.update(_changes(graph, graph.range(d, r)))
                other.update(_changes(graph, graph.range(r, d)))
        if not missing:
            return
        verdicts = self.decides(sorted(missing))
        need = [c for c in missing if verdicts[c]]
        if need and other:
            self.patch_ids(sorted({*need, *other}))

    def _equivalent(self, d: int, r: int) -> bool:
        graph = self.graph
        missing = _changes(graph, graph.range(d, r))
        if not missing:
            return True
        verdicts = self.decides(missing)
        need = [c for c in missing if verdicts[c]]
        if not need:
            return True
        candidates = _changes(graph, graph.range(r, d))
        if not candidates:
            return False
        ids = self.patch_ids([*need, *candidates])
        running = {ids[c] for c in candidates} - {None}
        return all(ids[c] is not None and ids[c] in running for c in need)


def _changes(graph: Graph, rows: Sequence[int]) -> list[int]:
    """The changes among ``rows`` (merges are walked, never changes: section 1)."""
    parents = graph.parents
    return [c for c in rows if len(parents[c]) <= 1]
