"""Make attacker-controlled text (commit messages, names, branch names, PR titles) inert in
GitHub-flavoured Markdown: no HTML, no forged hidden markers, no @mentions, no links.

Two shapes, both one line, both safe inside a table cell:

* :func:`md_text` — readable text, every character of it shown. ``<`` and ``>`` become the
  entities ``&lt;`` and ``&gt;`` ("Add Vec<T> support" reads as written; no tag, autolink or
  ``<!--`` marker can start, and entities are decoded even where a line turns into an HTML
  block, which backslash escapes are not); every other Markdown punctuation character is
  backslash-escaped (so no link, image, emphasis, code span, heading, list or table syntax can
  start, and a ``&`` of the text never begins an entity); ``@name`` gets a zero
  width joiner after the ``@`` (no notification, no team ping); ``#123``/``GH-123`` get one too
  (no cross-reference backlinks on other issues); URL schemes (``https:``, ``javascript:`` …)
  and ``www.`` get a zero width space so GitHub's autolinker makes no link.
* :func:`md_code` — an inline code span that cannot be broken out of: the fence is longer than
  any run of backticks inside, ``|`` becomes ``¦`` (a pipe would end a table cell even inside a
  code span) and ``<!--``/``-->`` are split so that the raw body never holds a comment marker.

Both turn control characters and line breaks into spaces, drop bidirectional-override
characters ("Trojan Source"), and cut the value to ``max_len`` characters (before escaping).
"""

from __future__ import annotations

import re

ZWJ = "\u200d"  # zero width joiner: invisible, breaks mentions and references
ZWSP = "\u200b"  # zero width space: invisible, breaks autolinks

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~&=$\"':])")
_ANGLE = {"<": "&lt;", ">": "&gt;"}
_MENTION = re.compile(r"@(?=[A-Za-z0-9_])")
_ISSUE_REF = re.compile(r"(#|\bGH-)(?=\d)", re.I)
_SCHEME = re.compile(
    r"(?i)(https?|ftps?|file|mailto|javascript|vbscript|data|xmpp|irc|ssh|git|tel|sms)(?=:)"
)
_WWW = re.compile(r"(?i)\b(www)(?=\.)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _line(value: object, max_len: int) -> str:
    s = _CONTROL.sub(" ", str(value))
    s = _BIDI.sub("", s)
    if max_len > 0 and len(s) > max_len:
        s = s[: max_len - 1] + "…"
    return s


def md_text(value: str, max_len: int = 200) -> str:
    """Plain inline text: one line, angle brackets as entities (shown, never stripped),
    Markdown escaped, @mentions neutralised."""
    s = _line(value, max_len).strip()
    s = _MENTION.sub("@" + ZWJ, s)
    s = _ISSUE_REF.sub(lambda m: m.group(1) + ZWJ, s)
    s = _SCHEME.sub(lambda m: m.group(1) + ZWSP, s)
    s = _WWW.sub("www" + ZWSP, s)
    s = _MD_SPECIAL.sub(r"\\\1", s)  # before the entities: their & and ; stay unescaped
    return s.replace("<", _ANGLE["<"]).replace(">", _ANGLE[">"])


def md_code(value: str, max_len: int = 200) -> str:
    """An inline code span that cannot be broken out of, whatever backticks the value holds."""
    s = _line(value, max_len)
    s = s.replace("|", "¦").replace("<!--", "<!" + ZWSP + "--").replace("-->", "--" + ZWSP + ">")
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s[:1] in ("`", " ") or s[-1:] in ("`", " ") or not s.strip() else ""
    return f"{fence}{pad}{s}{pad}{fence}"
