"""The evidence of a message's deciding tail is worked out once per registry
(``detect._deciding_tail``): a message must get the same evidence whether its tail was seen
before, after another message with the same tail, or never."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scorer.attribution.detect import _deciding_tail, detect
from scorer.attribution.registry import load_registry
from scorer.model import RawCommit

# Lines that move git's trailer block, or that are (or look like) evidence; with CRLF and
# whitespace-only variants, comment lines, indented lines and a quoted commit header.
LINES = [
    "Fix the parser",
    "aider: fix the parser",
    "Co-authored-by: Claude <noreply@anthropic.com>",
    "Co-Authored-By: Claude <noreply@anthropic.com>\r",
    "co-authored-by: Jane Doe <jane@example.org>",
    "Assisted-by: Crush:claude-sonnet-4",
    "Made-with: Cursor",
    "Generated-by: no",
    "Signed-off-by: Jane Doe <jane@example.org>",
    "(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)",
    "Generated with [Claude Code](https://claude.com/claude-code)",
    "🤖 Generated with [Claude Code](https://claude.com/claude-code)",
    "# Generated with Crush",
    "#comment",
    "Conflicts:",
    "\tsrc/a.py",
    "# ------------------------ >8 ------------------------",
    "    Co-authored-by: Claude <noreply@anthropic.com>",
    "  continued value",
    "commit 0123456789abcdef0123456789abcdef01234567",
    "Author: Jane Doe <jane@example.org>",
    "Date:   Mon Jan 1 00:00:00 2024 +0000",
    "plain body text",
    "Key: value",
    "",
    " ",
    "\r",
    "İstanbul",
    "text\0after a NUL",
]


def _raw(message: str) -> RawCommit:
    who = ("Jane Doe", "jane@example.org")
    return RawCommit("0" * 40, (), *who, *who, *who, 0, 0, message)


def _fresh(message: str):
    return detect(_raw(message), load_registry(()))


# Heads that change how git reads a message's end, or where evidence may come from.
HEADS = [
    "Fix the parser",
    "Fix the parser\n\nplain body text",
    "aider: fix the parser\n\nplain body text",
    "Made-with: Cursor",
    "Fix\n\n# ------------------------ >8 ------------------------\nplain body text",
    "Fix\n\nConflicts:\n\tsrc/a.py",
    "Fix\n\ncommit 0123456789abcdef0123456789abcdef01234567\nAuthor: Jane <j@x.org>\n\n    body",
    "Fix\n\n    Co-authored-by: Claude <noreply@anthropic.com>",
    "Fix\0hidden",
    "İstanbul\n\nplain body text",
    "#comment\n\nplain body text",
    "Fix\n\nSigned-off-by: Jane Doe <jane@example.org>",
    "Fix\n\nplain body text\n",
    "\n",
    "",
]
TAILS = [
    "Made-with: Cursor",
    "Co-authored-by: Claude <noreply@anthropic.com>",
    "plain body text\nCo-authored-by: Claude <noreply@anthropic.com>",
    "Signed-off-by: Jane Doe <jane@example.org>\nAssisted-by: Crush:claude-sonnet-4\nplain",
    "🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n"
    "Co-Authored-By: Claude <noreply@anthropic.com>",
    "# Generated with Crush",
    "# Generated with Crush\nMade-with: Cursor",
    "#comment\nMade-with: Cursor",
    "Made-with: Cursor\n#comment",
    "Key: value\n  continued value\nMade-with: Cursor",
    " \nMade-with: Cursor",
    "Made-with: Cursor\r",
    "Generated with [Claude Code](https://claude.com/claude-code)\nplain body text",
]

LINE = st.sampled_from(LINES)
PART = st.one_of(st.lists(LINE, max_size=6).map("\n".join), st.sampled_from(HEADS))
TAIL = st.lists(LINE, min_size=1, max_size=5).map("\n".join)
END = st.sampled_from(["", "\n", "\n\n", "\n#end\n"])


def test_every_head_with_every_tail():
    for tail in TAILS:
        for end in ("", "\n", "\n\n", "\n#end\n"):
            registry = load_registry(())
            for order in (HEADS, HEADS[::-1]):
                for head in order:
                    message = f"{head}\n\n{tail}{end}"
                    assert detect(_raw(message), registry) == _fresh(message), repr(message)


@settings(max_examples=400, deadline=None)
@given(head1=PART, head2=PART, tail=TAIL, end=END)
def test_evidence_does_not_depend_on_what_was_seen_before(head1, head2, tail, end):
    registry = load_registry(())
    first, second = f"{head1}\n\n{tail}{end}", f"{head2}\n\n{tail}{end}"
    for message in (first, second, first):
        assert detect(_raw(message), registry) == _fresh(message), message


@settings(max_examples=200, deadline=None)
@given(head=PART, tail=TAIL, end=END)
def test_a_remembered_tail_is_the_message_end_after_an_empty_line(head, tail, end):
    message = f"{head}\n\n{tail}{end}"
    registry = load_registry(())
    found = registry.prefilter_search("\n" + message.lower())
    if found is None:
        return
    got = _deciding_tail(message, "\n" + message.lower(), found.start())
    if got is not None:
        assert message.endswith(got)
        assert message[: len(message) - len(got)].endswith("\n\n")
        assert "\n    " not in "\n" + message.lower()


def test_common_agent_footers_are_remembered():
    registry = load_registry(())
    tail = "Co-authored-by: Claude <noreply@anthropic.com>\n"
    one = detect(_raw(f"Fix a\n\nBody one.\n\n{tail}"), registry)
    two = detect(_raw(f"Fix b\n\nBody two,\nlonger.\n\n{tail}"), registry)
    assert one == two and one and one[0].kind == "trailer"
    assert list(registry.message_cache) == [tail]
    # the subject decides for aider's convention: no tail is remembered for it
    assert _deciding_tail("aider: x\n\ny", "\naider: x\n\ny", 0) is None
