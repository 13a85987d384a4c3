"""What the code survival stage (METRIC.md section 10) read from git, kept for the next run.

Two things, in one small JSON file (``survival.json``) next to the cache:

- the lines each change added, per path (a commit never changes; kept per ``exclude_paths``);
- blame counts per (file, commit, boundary). A per-merge run whose ``S`` did not move reuses
  every file (also under a newer boundary: the cohort moves forward every day); one whose
  ``S`` moved re-blames only the files a commit of ``old...new`` touched (blame at ``new`` of
  any other file is its blame at ``old``). Rework states are commits of past deploys: their
  entries are reused as they are.

Only the entries a run used are written back, so the file stays the size of one cohort. A
file that cannot be read or does not match is ignored (the stage computes without it).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from pathlib import Path

from scorer.git.blame import Added, Blamed, Blamer, added_lines, touched_between
from scorer.git.log import Repo, is_ancestor
from scorer.git.paths import PathFilter
from scorer.util.atomic import write_atomic

FILE = "survival.json"
VERSION = 1


class BlameCache:
    def __init__(self, directory: Path, fresh: bool = False):
        self.path = directory / FILE
        self._old: dict = {} if fresh else _read(self.path)
        self._added: dict[str, dict[str, int]] = {}
        self._blames: dict[str, dict[str, dict[str, int]]] = {}
        self._exclude: tuple[str, ...] = ()
        self.reused = 0  # files answered from the cache (tests, bench)
        self.blamed = 0  # files git blamed

    def empty(self) -> bool:
        """No blame kept from a past run (a first run, or one after a cache was dropped)."""
        return not self._old.get("blames")

    def added(self, repo: Repo, shas: list[str], exclude: PathFilter) -> Added:
        self._exclude = exclude.patterns
        known = (
            self._old.get("added", {}) if self._old.get("exclude") == list(exclude.patterns) else {}
        )
        out = Added()
        need = [s for s in shas if s not in known]
        for s in shas:
            if s in known:
                out.lines[s] = dict(known[s])
        if need:
            found = added_lines(repo, need, exclude)
            out.lines.update(found.lines)
            out.origin, out.runs = found.origin, found.runs
            out.missing = found.missing
        self._added.update((s, out.lines[s]) for s in shas if s in out.lines)
        return out

    def blame(
        self, blamer: Blamer, asks: Mapping[str, set[str]], added: Added | None
    ) -> dict[str, Blamed]:
        """Per commit of ``asks``, the kept counts of its paths; git blames the rest, every
        commit's at once."""
        out: dict[str, Blamed] = {}
        need: dict[str, set[str]] = {}
        for at, paths in asks.items():
            reuse = self._reusable(blamer, at)
            out[at] = Blamed()
            need[at] = set()
            for p in paths:
                if p in reuse:
                    out[at].files[p] = reuse[p]
                else:
                    need[at].add(p)
            self.reused += len(paths) - len(need[at])
            self.blamed += len(need[at])
        need = {at: ps for at, ps in need.items() if ps}
        if need:
            for at, found in blamer.counts_at(need, added).items():
                out[at].files.update(found.files)
                out[at].missing = found.missing
                # Files that do not exist at ``at``: remembered as empty (still not there).
                for p in need[at] - set(found.files) - set(found.missing):
                    out[at].files[p] = {}
        for at, paths in asks.items():
            key = f"{at} {blamer.boundary or '-'}"
            kept = self._blames.setdefault(key, {})
            kept.update((p, c) for p, c in out[at].files.items() if p in paths)
        return out

    def _reusable(self, blamer: Blamer, at: str) -> dict:
        """Counts at ``at`` a file of a past run holds: kept at ``at`` itself, or at the
        previous run's ``S`` for every file no commit between the two touched (blamed the
        same)."""
        repo, boundary = blamer.repo, blamer.boundary
        reuse = self._entry(repo, at, boundary)
        if reuse is not None:
            return reuse
        prior = self._old.get("s")
        if isinstance(prior, str) and prior != at:
            found = self._entry(repo, prior, boundary)
            if found:
                touched = touched_between(repo, prior, at)
                if touched is not None:
                    return {p: c for p, c in found.items() if p not in touched}
        return {}

    def _entry(self, repo: Repo, at: str, boundary: str | None) -> dict | None:
        """Blame counts at ``at`` kept under a boundary that serves ``boundary``: the same,
        or an ancestor of it (none: the whole history). Blame gives a commit above its
        boundary the lines unbounded blame gives it; a boundary lower down only lumps fewer
        old lines together, so its counts hold for every commit of ``boundary..at`` (the
        cohort moves forward every day; its blames need not be made again)."""
        old = self._old.get("blames", {})
        exact = old.get(f"{at} {boundary or '-'}")
        if exact is not None:
            return exact
        for key, files in old.items():
            at_old, _, b_old = key.partition(" ")
            if at_old != at:
                continue
            if b_old == "-" or (boundary and is_ancestor(repo, b_old, boundary)):
                return files
        return None

    def save(self, s: str | None) -> None:
        data = {
            "version": VERSION,
            "s": s,
            "exclude": list(self._exclude),
            "added": self._added,
            "blames": self._blames,
        }
        if data == self._old:
            return
        with contextlib.suppress(OSError):
            write_atomic(self.path, json.dumps(data, separators=(",", ":"), sort_keys=True))


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    added, blames = data.get("added"), data.get("blames")
    if not isinstance(added, dict) or not isinstance(blames, dict):
        return {}
    if not all(_counts(v) for v in added.values()):
        return {}
    if not all(
        isinstance(v, dict) and all(_counts(c) for c in v.values()) for v in blames.values()
    ):
        return {}
    if not isinstance(data.get("s"), (str, type(None))) or not isinstance(
        data.get("exclude"), list
    ):
        return {}
    return data


def _counts(value: object) -> bool:
    """``{name: count}``: what both parts of the file hold."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and type(n) is int and n >= 0 for k, n in value.items()
    )
