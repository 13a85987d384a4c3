"""Git-compatible trailer parsing, in pure Python.

``parse_trailers(message)`` returns exactly the trailers that
``git interpret-trailers --parse --no-divider`` prints for ``message`` (git 2.39, default
configuration: separator ``:`` only, comment character ``#``, no ``trailer.<token>.*``
entries), in order, duplicates included. ``divider=True`` gives ``git interpret-trailers
--parse`` instead, where a line starting with ``---`` followed by whitespace ends the message
(the patch part of a ``format-patch`` mail).

scorer reads commit messages with ``divider=False``. That is how git itself reads them for
``git log --format=%(trailers)`` (``pretty.c`` sets ``no_divider``), and it matters in
practice: GitHub squash merges put ``---------`` lines and plain ``---`` lines between the
squashed commits' messages, and with a divider everything after the first ``---`` line,
including the ``Co-authored-by:`` trailers GitHub appends, would be ignored.

This exists (instead of ``pygit2.Commit.message_trailers``) because libgit2 returns the
trailers as a dict, collapsing repeated keys such as several ``Co-authored-by`` lines.

How git finds the trailer block (``trailer.c``, ``commit.c``, ``wt-status.c``):

1. The end of the log message: with a divider, the first line starting ``---`` plus a
   whitespace character; then a scissors line (``# ------------------------ >8
   ------------------------`` followed by a newline, the first one anywhere in the
   message) cuts off everything from it on; then a trailing run of comment lines
   (``#...``), empty lines (exactly ``\\n``) and an old-style ``Conflicts:`` block (a line
   exactly ``Conflicts:`` followed by tab-indented lines) is ignored.
2. The first paragraph (up to the first blank line, skipping comment lines) is the title and
   never holds trailers, so a message that is a single paragraph has no trailers, however
   trailer-like it looks.
3. From the end, git walks back to the last blank line. The lines in between are the
   trailer block when they are all trailers (``Token: value``, where the token is ASCII
   letters, digits and ``-``, optionally followed by spaces/tabs before ``:``; indented
   lines are continuations of the trailer above), or when at least one line starts with a
   git-generated prefix (``Signed-off-by: ``, ``(cherry picked from commit ``) and at
   least 25% of the lines are trailers (``3 * trailers >= non_trailers``).
4. Values are trimmed and continuation lines unfolded: each newline and the whitespace
   after it becomes a single space.

Offsets are character offsets into ``message``; a trailer's ``end`` includes the newline
of its last line, and its continuation lines (``start`` is always the start of a line).

Behaviour of git that may surprise (all reproduced here, all checked by
``tests/test_trailers.py`` against the real ``git``):

- One stray line in the last paragraph hides every trailer in it, unless a
  ``Signed-off-by: `` or ``(cherry picked from commit `` line is present and the 25% rule
  holds: ``Co-authored-by: X`` followed by ``Generated with Y`` in the same paragraph
  gives no trailers at all. The git-generated prefixes are case- and space-sensitive
  (``signed-off-by: x`` and ``Signed-off-by:x`` do not count), a multi-line trailer counts
  once, and indented lines under a non-trailer line count as non-trailer lines.
- ``Key : value`` is printed ``Key: value``; an empty value is printed ``Key: `` (with the
  space). ``Bug #42``, ``Reviewed by: x`` (space in the token), ``http://x: y`` and
  ``Key_1: x`` are not trailers.
- "Whitespace" is git's ``isspace``: space, tab, ``\\n`` and ``\\r`` only (not ``\\v``,
  ``\\f`` or non-ASCII spaces), and token characters are ASCII only: ``Réviewé-by: x`` is
  not a trailer.
- With CRLF line endings, ``\\r`` is trimmed from single-line values but kept inside
  unfolded ones: ``Key: a\\r\\n b\\r\\n`` gives the value ``"a\\r b"``.
- ``"(cherry picked from commit ...)"`` lines count as trailers when deciding whether the
  block is a trailer block, but are not printed by ``--parse`` (they have no ``:`` token).
- A trailing whitespace-only line (``"  "``, or ``"\\r"`` with CRLF) is not ignored like an
  empty line: it is glued onto the last trailer as a continuation line (and disappears
  when the value is trimmed).
- Comment lines are skipped everywhere, but a comment line inside the block stops the
  following indented line from being a continuation.
- The scissors line needs its trailing newline and must start a line; ``\\r\\n`` does not
  count.
- Only lines that are exactly empty (``\n``) are dropped from the end as "blank"; but
  ``\r\n`` and other whitespace-only lines still separate paragraphs.
- A trailing ``Conflicts:`` line followed by tab-indented lines (old ``git merge``
  messages) is dropped, so trailers above it still count.
- Text after a NUL character is invisible to git (C strings); it is ignored here too.
- ``git log --format=%(trailers)`` first skips whitespace-only lines at the start of the
  message (``pretty.c``), ``git interpret-trailers`` does not; this module follows
  ``interpret-trailers``. They can differ only for a message that starts with a blank
  line (``"\\nKey: v"``: one trailer here, none in ``git log``, where ``Key: v`` becomes
  the title); ``git commit`` never writes such messages, ``git commit-tree`` can.
- git 2.39 hangs (an endless loop in ``ignore_non_trailer``) on ``--parse`` *with* the
  divider when the first scissors line comes after the ``---`` divider; git 2.43 fixed
  that by clamping, and this module follows the fixed behaviour.
"""

from __future__ import annotations

import re

from scorer.util.record import FrozenRecord

__all__ = ["Trailer", "parse_trailers", "trailer_block"]


class Trailer(FrozenRecord):
    """One trailer of a commit message's trailer block (hashable, never changed)."""

    _fields = ("key", "value", "start", "end")
    __slots__ = _fields

    def __init__(self, key: str, value: str, start: int, end: int) -> None:
        self.key = key  # the token as written, whitespace-trimmed (e.g. "Co-authored-by")
        self.value = value  # trimmed, continuation lines unfolded as interpret-trailers does
        self.start = start  # offset in the message where this trailer's first line starts
        self.end = end  # offset just past its last (continuation) line, newline included


_WS = " \t\n\r"  # git's isspace()
_COMMENT = "#"
_CUT_LINE = "# ------------------------ >8 ------------------------\n"
_CUT_PATTERN = "\n" + _CUT_LINE
_CONFLICTS = "Conflicts:\n"
_GIT_GENERATED_PREFIXES = ("Signed-off-by: ", "(cherry picked from commit ")

# A line is a trailer when it matches this at its start (git's find_separator() >= 1).
_TRAILER_RE = re.compile(r"[A-Za-z0-9-]+[ \t]*:")
# A whitespace-only line (git's is_blank_line()); \Z is the end of the (NUL-free) string.
_BLANK_RE = re.compile(r"[ \t\r]*(?:\n|\Z)")
# The patch divider: a line starting with "---" and a whitespace character.
_DIVIDER_RE = re.compile(r"^---[ \t\n\r]", re.MULTILINE)
# Unfolding: a newline and all the whitespace after it become one space.
_FOLD_RE = re.compile(r"\n[ \t\n\r]*")


def _end_of_log_message(msg: str, divider: bool) -> int:
    """git's find_end_of_log_message(): where the part that may hold trailers ends."""
    end = len(msg)
    if divider:
        m = _DIVIDER_RE.search(msg)
        if m is not None:
            end = m.start()

    # wt_status_locate_end(): the first scissors line anywhere in the message.
    if msg.startswith(_CUT_LINE):
        cutoff = 0
    else:
        i = msg.find(_CUT_PATTERN)
        cutoff = end if i < 0 else min(i + 1, end)  # min(): git >= 2.43, see docstring

    # ignore_non_trailer(): drop a trailing run of comment lines, empty lines and an
    # old-style "Conflicts:" block.
    if msg.find(_CONFLICTS, 0, cutoff) >= 0:
        return _ignore_non_trailer_slow(msg, end, cutoff)
    # Without "Conflicts:", the run is the trailing lines that start with "#" or are empty,
    # found from the end. (git records the run's start as 0 for "none", so a run that
    # starts at offset 0 is cut one line later; such a run holds no trailers either way.)
    bol = cutoff
    while bol > 0:
        prev = msg.rfind("\n", 0, bol - 1) + 1  # start of the line before bol
        c = msg[prev]
        if c != _COMMENT and c != "\n":
            break
        bol = prev
    return bol if bol else cutoff


def _ignore_non_trailer_slow(msg: str, end: int, cutoff: int) -> int:
    """The forward state machine of git's ignore_non_trailer(), for "Conflicts:" blocks."""
    boc = 0
    bol = 0
    in_conflicts = False
    while bol < cutoff:
        nl = msg.find("\n", bol, end)
        nxt = end if nl < 0 else nl + 1
        c = msg[bol]
        if c == _COMMENT or c == "\n":
            if not boc:
                boc = bol
        elif msg.startswith(_CONFLICTS, bol):
            in_conflicts = True
            if not boc:
                boc = bol
        elif in_conflicts and c == "\t":
            pass
        elif boc:
            boc = 0
            in_conflicts = False
        bol = nxt
    return boc if boc else cutoff


def _find_trailer_block_start(msg: str, length: int) -> int:
    """git's find_trailer_block_start(): first line of the trailer block, or ``length``."""
    # The first paragraph is the title and cannot hold trailers.
    s = 0
    blank = _BLANK_RE.match
    while s < length:
        if blank(msg, s):  # (git skips comment lines first, but they are never blank)
            break
        nl = msg.find("\n", s)
        s = len(msg) if nl < 0 else nl + 1
    end_of_title = s

    only_spaces = True
    recognized_prefix = False
    trailer_lines = 0
    non_trailer_lines = 0
    possible_continuation_lines = 0
    trailer_match = _TRAILER_RE.match

    if length == 0:
        return length
    bol = msg.rfind("\n", 0, length - 1) + 1  # last line
    while bol >= end_of_title:
        c = msg[bol]
        if c == _COMMENT:
            non_trailer_lines += possible_continuation_lines
            possible_continuation_lines = 0
        elif blank(msg, bol):
            if not only_spaces:
                non_trailer_lines += possible_continuation_lines
                if recognized_prefix and trailer_lines * 3 >= non_trailer_lines:
                    return msg.index("\n", bol) + 1
                if trailer_lines and not non_trailer_lines:
                    return msg.index("\n", bol) + 1
                return length
        else:
            only_spaces = False
            if msg.startswith(_GIT_GENERATED_PREFIXES, bol):
                trailer_lines += 1
                possible_continuation_lines = 0
                recognized_prefix = True
            elif trailer_match(msg, bol):
                trailer_lines += 1
                possible_continuation_lines = 0
            elif c in _WS:
                possible_continuation_lines += 1
            else:
                non_trailer_lines += 1 + possible_continuation_lines
                possible_continuation_lines = 0
        if bol == 0:
            break
        bol = msg.rfind("\n", 0, bol - 1) + 1
    return length


def _block(message: str, divider: bool) -> tuple[str, int, int]:
    nul = message.find("\0")
    msg = message if nul < 0 else message[:nul]
    end = _end_of_log_message(msg, divider)
    return msg, _find_trailer_block_start(msg, end), end


def trailer_block(message: str, *, divider: bool = False) -> tuple[int, int]:
    """[start, end) character offsets of the trailer block; (n, n) with n=len(message) when
    there is none.

    ``end`` is git's end of the log message: the block may end with whitespace-only lines,
    and it may hold lines that are not trailers (comments, ``(cherry picked from ...)``,
    other text admitted by the 25% rule). ``start`` is the start of a line.
    """
    _msg, start, end = _block(message, divider)
    if start >= end:
        n = len(message)
        return n, n
    return start, end


def _unfold(value: str) -> str:
    if "\n" not in value:
        return value
    return _FOLD_RE.sub(" ", value).strip(_WS)


def parse_trailers(message: str, *, divider: bool = False) -> list[Trailer]:
    """The trailers of ``message`` in order, as ``git interpret-trailers --parse
    [--no-divider]`` prints them (``f"{t.key}: {t.value}"``), duplicates kept.

    ``divider=False`` (the default) is ``--no-divider``, git's reading of commit messages.
    """
    msg, start, end = _block(message, divider)
    if start >= end:
        return []
    out: list[Trailer] = []
    trailer_match = _TRAILER_RE.match
    # Current trailer: line start, separator offset, end of its last line.
    cur_start = -1
    cur_sep = -1
    cur_end = -1
    bol = start
    while bol < end:
        nl = msg.find("\n", bol, end)
        eol = end if nl < 0 else nl + 1
        c = msg[bol]
        if cur_start >= 0 and c in _WS:
            cur_end = eol  # continuation line
        else:
            if cur_start >= 0:
                out.append(_make(msg, cur_start, cur_sep, cur_end))
                cur_start = -1
            m = None if c == _COMMENT else trailer_match(msg, bol)
            if m is not None:
                cur_start, cur_sep, cur_end = bol, m.end() - 1, eol
        bol = eol
    if cur_start >= 0:
        out.append(_make(msg, cur_start, cur_sep, cur_end))
    return out


def _make(msg: str, start: int, sep: int, end: int) -> Trailer:
    key = msg[start:sep].strip(_WS)
    value = _unfold(msg[sep + 1 : end].strip(_WS))
    return Trailer(key, value, start, end)
