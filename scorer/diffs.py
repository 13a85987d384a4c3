"""Is a change substantive? (METRIC.md section 1) — the only place that diffs.

Diffs are the expensive read (``git log --numstat`` on rails: ~22 s), so callers ask only for
the changes whose verdict can matter (AI-assisted ones), and the tree-level comparison answers
most of them before any blob is read: an added, deleted or mode-changed path is substantive at
once; only modified text files need a whitespace-insensitive patch (``git diff -w``).
"""

from __future__ import annotations

import pygit2

from scorer.history import Repo
from scorer.paths import PathFilter

_IGNORE_WS = pygit2.enums.DiffOption.IGNORE_WHITESPACE
_MODIFIED = pygit2.enums.DeltaStatus.MODIFIED


class Substance:
    """Verdicts for one repository and one ``exclude_paths``; counts what it could not read."""

    def __init__(self, repo: Repo, exclude: PathFilter):
        self.repo = repo
        self.exclude = exclude
        self.missing_objects = 0  # changes judged from trees alone (partial clone)

    def substantive(self, sha: str) -> bool:
        """True unless the change is empty, whitespace-only or touches only excluded paths.

        When blobs are missing (a partial clone), a modified path counts as substantive: the
        tree says its content changed, and without the blobs whitespace cannot be ruled out.
        """
        handle = self.repo.handle
        try:
            commit = handle[sha]
            tree = commit.tree
            parent_tree = commit.parents[0].tree if commit.parents else None
        except (KeyError, pygit2.GitError):
            self.missing_objects += 1
            return True
        try:
            if parent_tree is None:
                diff = tree.diff_to_tree(swap=True)
            else:
                diff = parent_tree.diff_to_tree(tree)
        except (KeyError, pygit2.GitError):
            self.missing_objects += 1
            return True
        for delta in diff.deltas:
            path = delta.new_file.path or delta.old_file.path
            if self.exclude.excluded(path) and self.exclude.excluded(delta.old_file.path):
                continue
            if delta.status != _MODIFIED or delta.old_file.mode != delta.new_file.mode:
                return True
            if self._content_differs(delta.old_file.id, delta.new_file.id):
                return True
        return False

    def _content_differs(self, old_id: pygit2.Oid, new_id: pygit2.Oid) -> bool:
        handle = self.repo.handle
        try:
            old, new = handle[old_id], handle[new_id]
        except (KeyError, pygit2.GitError):
            self.missing_objects += 1
            return True
        if not isinstance(old, pygit2.Blob) or not isinstance(new, pygit2.Blob):
            return True  # submodule pointer moved
        if old.is_binary or new.is_binary:
            return True
        patch = old.diff(new, _IGNORE_WS)
        return bool(patch.hunks)
