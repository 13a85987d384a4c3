"""The version of the rules a cache's verdicts and outcomes were decided by.

A warm run carries verdicts and outcomes forward; were a rule edited, it would carry the old
rule's answers. So the cache key includes a digest of the modules that decide what the cache
holds — attribution (which commits are AI-assisted), the substantive check, linking and the
outcomes of deploys and changes — and ``RULES_VERSION``. The digest follows any edit of those
files by itself; bump ``RULES_VERSION`` for a rule that lives elsewhere (a deploy source's
reading of its events, say) or when the files are not there to read (a zipped install).
"""

from __future__ import annotations

from pathlib import Path

from scorer.util.sha import sha256

RULES_VERSION = 1
_PACKAGE = Path(__file__).resolve().parent.parent
# What the cache holds is decided here (the report's figures are computed anew each run).
_RULE_FILES = (
    "attribution/agents.yml",
    "attribution/detect.py",
    "attribution/notes.py",
    "attribution/registry.py",
    "attribution/rows.py",
    "attribution/trailers.py",
    "git/diffs.py",
    "git/patches.py",
    "git/paths.py",
    "outcomes/__init__.py",
    "outcomes/change.py",
    "outcomes/containment.py",
    "outcomes/flags.py",
    "outcomes/linking.py",
    "outcomes/reverts.py",
)
_digest: list[str] = []


def rules_digest() -> str:
    """A digest of ``RULES_VERSION`` and the rule modules' text (read once a process)."""
    if not _digest:
        h = sha256(f"rules {RULES_VERSION}\n".encode())
        for name in _RULE_FILES:
            try:
                h.update(name.encode() + b"\0" + (_PACKAGE / name).read_bytes() + b"\0")
            except OSError:
                h.update(name.encode() + b"\0?\0")
        _digest.append(h.hexdigest())
    return _digest[0]
