"""Make attacker-controlled text (commit messages, names, branch names, PR titles) inert in
GitHub-flavoured Markdown: no HTML, no forged hidden markers, no @mentions, no links."""

from __future__ import annotations

import re

_HTML_COMMENT = re.compile(r"<!--.*?(-->|$)", re.S)
_TAG = re.compile(r"<[^>]*>?")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def md_text(value: str, max_len: int = 200) -> str:
    """Plain inline text: one line, HTML removed, Markdown escaped, @mentions neutralised."""
    s = _CONTROL.sub(" ", value.replace("\r", " ").replace("\n", " "))
    s = _HTML_COMMENT.sub("", s)
    s = _TAG.sub("", s)
    if len(s) > max_len:
        s = s[: max_len - 1] + "…"
    s = _MD_SPECIAL.sub(r"\\\1", s)
    # A zero-width joiner after "@" keeps the text readable but stops GitHub's mention.
    return _MENTION.sub("@\u200d", s)


def md_code(value: str, max_len: int = 200) -> str:
    """An inline code span that cannot be broken out of, whatever backticks the value holds."""
    s = _CONTROL.sub(" ", value.replace("\r", " ").replace("\n", " "))
    if len(s) > max_len:
        s = s[: max_len - 1] + "…"
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return f"{fence}{pad}{s}{pad}{fence}"
