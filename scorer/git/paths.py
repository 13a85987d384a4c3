"""``exclude_paths`` globs, matched the way people expect from .gitignore.

A pattern without ``/`` matches a file name at any depth (``*.lock``); a pattern with ``/`` is
anchored at the repository root (``docs/**``, ``src/gen/*.py``). ``*`` and ``?`` stay inside one
path segment, ``**`` spans segments, a trailing ``/`` or ``/**`` matches everything below.
"""

from __future__ import annotations

import re
from collections.abc import Sequence


def _translate(pattern: str) -> str:
    p = pattern.strip()
    if p.endswith("/"):
        p += "**"
    anchored = "/" in p.rstrip("/")
    p = p.lstrip("/")
    out = []
    i = 0
    while i < len(p):
        c = p[i]
        if p.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif p.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    body = "".join(out)
    return body if anchored else f"(?:.*/)?{body}"


class PathFilter:
    """True for paths that ``exclude_paths`` leaves out of the substantive test."""

    def __init__(self, patterns: Sequence[str] = ()):
        self.patterns = tuple(patterns)
        self._regex = (
            re.compile("|".join(f"(?:{_translate(p)})" for p in self.patterns) + r"\Z")
            if self.patterns
            else None
        )

    def excluded(self, path: str) -> bool:
        return bool(self._regex and self._regex.match(path))
