"""Counted nouns in reports: "1 contributor", "3 contributors", "… and 12 more signals"."""

from __future__ import annotations


def plural(n: float, word: str, many: str | None = None) -> str:
    """``n`` and ``word``, in the plural unless ``n`` is 1 (``many`` for irregular ones)."""
    count = f"{n:,}" if isinstance(n, int) else f"{n:g}"
    return f"{count} {word if n == 1 else (many or word + 's')}"


def more(n: int, what: str) -> str:
    """``… and 1 more signal``, ``… and 12 more signals``: what a shortened list left out."""
    return f"… and {plural(n, 'more ' + what)}"
