"""Untrusted text (commit data, names from reports and configs) made safe for one line of a
terminal, a log, or HTML text: no control characters (ANSI/OSC escapes, CR/LF that would
start a forged ``::workflow-command::`` line), no Unicode line separators, no bidi controls
that reorder what a reader sees."""

from __future__ import annotations

import re

# Compiled on first use: the class of Unicode ranges takes ~1.3 ms to compile, and most runs
# print no untrusted text at all.
_UNSAFE = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: object, replacement: str | None = None) -> str:
    """``text`` with every unsafe character replaced: by ``replacement`` when given, else by
    a visible escape such as ``\\x1b`` (so an error message still says what was there)."""
    s = str(text)
    if s.isascii() and s.isprintable():  # nothing to replace: no compiling for the common case
        return s
    return re.sub(_UNSAFE, _escape if replacement is None else replacement, s)
