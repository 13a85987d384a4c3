"""attribution.trailers against the real git (`git interpret-trailers --parse`, `git log`)."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scorer.attribution.trailers import Trailer, parse_trailers, trailer_block

CUT = "# ------------------------ >8 ------------------------"


# --------------------------------------------------------------------------- the oracle


@pytest.fixture(scope="module")
def git_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment in which no user or system git configuration applies."""
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        LC_ALL="C",
    )
    return env


def _hangs_git_239(message: str) -> bool:
    """git 2.39 loops forever on --parse (with divider) when the first scissors line comes
    after the "---" divider (fixed in git 2.43)."""
    m = re.search(r"^---[ \t\n\r]", message, re.MULTILINE)
    if m is None or message.startswith(CUT + "\n"):
        return False
    i = message.find("\n" + CUT + "\n")
    return i >= 0 and i + 1 > m.start()


def _oracle_input(message: str, divider: bool) -> tuple[str, bool]:
    """What to feed git: the message, or for the git 2.39 hang its fixed equivalent."""
    if divider and _hangs_git_239(message):
        m = re.search(r"^---[ \t\n\r]", message, re.MULTILINE)
        assert m is not None
        return message[: m.start()], False
    return message, divider


def git_parse_many(env: dict[str, str], messages: list[str], divider: bool) -> str:
    """One `git interpret-trailers --parse` over many files: its concatenated output."""
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i, message in enumerate(messages):
            p = Path(d, f"m{i}")
            p.write_bytes(message.encode("utf-8"))
            paths.append(str(p))
        args = ["git", "interpret-trailers", "--parse"]
        if not divider:
            args.append("--no-divider")
        out = subprocess.run([*args, *paths], env=env, capture_output=True, check=True, timeout=60)
    return out.stdout.decode("utf-8")


def git_parse(env: dict[str, str], message: str, *, divider: bool = False) -> list[str]:
    """`git interpret-trailers --parse [--no-divider]`, message on stdin, one entry a line."""
    message, divider = _oracle_input(message, divider)
    args = ["git", "interpret-trailers", "--parse"]
    if not divider:
        args.append("--no-divider")
    out = subprocess.run(
        args, input=message.encode("utf-8"), env=env, capture_output=True, check=True, timeout=20
    )
    # Values never hold "\n" (unfolded) but may hold "\r": split on "\n" only.
    return out.stdout.decode("utf-8").split("\n")[:-1]


def ours(message: str, *, divider: bool = False) -> list[str]:
    """What git prints for our trailers: `--parse` always writes "key: value"."""
    return [f"{t.key}: {t.value}" for t in parse_trailers(message, divider=divider)]


def assert_agrees(env: dict[str, str], message: str, divider: bool) -> None:
    assert ours(message, divider=divider) == git_parse(env, message, divider=divider), (
        f"divider={divider} message={message!r}"
    )


def assert_all_agree(env: dict[str, str], messages: list[str], divider: bool) -> None:
    """Batch: one git process for all messages; on a mismatch, find the message."""
    fed = [_oracle_input(m, divider) for m in messages]
    groups: dict[bool, list[int]] = {}
    for i, (_, div) in enumerate(fed):
        groups.setdefault(div, []).append(i)
    for div, idx in groups.items():
        got = git_parse_many(env, [fed[i][0] for i in idx], div)
        want = "".join(line + "\n" for i in idx for line in ours(messages[i], divider=divider))
        if got != want:
            for i in idx:
                assert_agrees(env, messages[i], divider)
            pytest.fail(f"batch differs but no single message does: {messages!r}")


# --------------------------------------------------------------------------- explicit cases

EXPLICIT: list[str] = [
    "",
    "\n",
    "subject",
    "subject\n",
    "Key: value\n",  # a single paragraph is the title
    "Key: value\nOther: x\n",
    "\nKey: value\n",  # an empty title
    "\nKey: value",
    "subject\n\nKey: value",  # no trailing newline
    "subject\n\nKey: value\n",
    "subject\n\nKey: value\n\n\n",  # trailing blank lines
    "subject\n\nKey: value   \n",  # trailing whitespace
    "subject\n\nKey: value\n   \n",
    "subject\n\nKey : value\n",
    "subject\n\nKey\t:\tvalue\n",
    "subject\n\nKey :value\nKey2:\n",
    "subject\n\nBug #42\n",
    "subject\n\nReviewed by: x\n",  # a space inside the token
    "subject\n\nRéviewé-by: x\n",  # non-ASCII token characters
    "subject\n\n-: x\n",
    "subject\n\n: x\n",
    "subject\n\nKey_1: x\n",
    "subject\n\nhttp://example.com: x\n",
    "subject\n\nKey: a\n  b\n\tc\nOther: d\n",  # continuation lines
    "subject\n\nKey: a\n\n  b\n",
    "subject\n\nKey: \n  folded\n",
    "subject\n\n  Key: indented\n",
    "subject\n\nbody\n\nKey: a\n",
    "subject\n\nKey: a\n\nbody\n",  # the last paragraph is not trailers
    "subject\n\nKey: a\nnot a trailer\n",
    "subject\n\nSigned-off-by: A <a@x>\nnot a trailer\n",  # git-generated prefix + 25%
    "subject\n\nSigned-off-by:A <a@x>\nnot a trailer\n",
    "subject\n\n(cherry picked from commit 1234abcd)\nnot a trailer\n",
    "subject\n\n(cherry picked from commit 1234abcd)\n",
    "subject\n\nKey: a\n(cherry picked from commit 1234abcd)\n",
    # 25% rule boundary: 1 trailer with 3 non-trailer lines is exactly 25%...
    "subject\n\nSigned-off-by: A <a@x>\nx1\nx2\nx3\n",
    # ...one more non-trailer line is just over
    "subject\n\nSigned-off-by: A <a@x>\nx1\nx2\nx3\nx4\n",
    "subject\n\nSigned-off-by: A <a@x>\nKey: b\nx1\nx2\nx3\nx4\nx5\nx6\n",
    "subject\n\nSigned-off-by: A <a@x>\nKey: b\nx1\nx2\nx3\nx4\nx5\nx6\nx7\n",
    "subject\n\nSigned-off-by: A <a@x>\n  c1\n  c2\n  c3\nx\n",
    "subject\n\nx\n  c1\n  c2\nSigned-off-by: A <a@x>\n",
    # continuation lines under a non-trailer line count as non-trailer lines
    "subject\n\nSigned-off-by: A <a@x>\nx\n  c1\n  c2\n",
    "subject\n\nSigned-off-by: A <a@x>\nx\n  c1\n  c2\n  c3\n",
    "subject\n\n  c1\nSigned-off-by: A <a@x>\nx\n",
    "subject\n\n  c1\n  c2\nSigned-off-by: A <a@x>\nx\n",
    "subject\n\n  indented\nKey: a\n",
    "subject\n\nSigned-off-by: A <a@x>\n# c\n  c1\nx\ny\n",
    # comments
    "subject\n\nKey: a\n# comment\nOther: b\n",
    "subject\n\nKey: a\n# comment\n  not a continuation\n",
    "# comment\nsubject\n\nKey: a\n",
    "# comment\n\nKey: a\n",
    "subject\n# comment\n\nKey: a\n# trailing comment\n",
    "# only\n# comments\n",
    "#\n\nKey: a\n",
    "subject\n\nKey: a\n#\n\n#\n",
    # the cut line
    f"subject\n\nKey: a\n{CUT}\nOther: b\n",
    f"subject\n\nKey: a\n{CUT}",  # no newline after it: not a cut line
    f"subject\n\nKey: a\n{CUT}\r\nOther: b\n",
    f"{CUT}\nsubject\n\nKey: a\n",
    f"subject\n\nKey: a\n\nbody\n{CUT}\n",
    f"subject\n\nKey: a\nbody {CUT}\nx\n",
    # dividers
    "subject\n\nKey: a\n---\nOther: b\n",
    "subject\n\nKey: a\n--- \nOther: b\n",
    "subject\n\nKey: a\n---\tstat\n",
    "subject\n\nKey: a\n---x\n",
    "subject\n\nKey: a\n----\n",
    "subject\n\nKey: a\n---",
    "subject\n\nKey: a\n---\r\n",
    "subject\n\nKey: a\n\n---\n\nOther: b\n",
    "---\n\nKey: a\n",
    f"subject\n\nKey: a\n---\n{CUT}\nOther: b\n",  # git 2.39 hangs with the divider
    f"subject\n\nKey: a\n{CUT}\n---\nOther: b\n",
    # Conflicts:
    "subject\n\nKey: a\nConflicts:\n\tfile.c\n",
    "subject\n\nKey: a\n\nConflicts:\n\tfile.c\n\tother.c\n",
    "subject\n\nKey: a\nConflicts:\n\tfile.c\nmore\n",
    "subject\n\nKey: a\nConflicts:\n\tfile.c\n# c\n\tx.c\n",
    "subject\n\nKey: a\nConflicts: \n\tfile.c\n",
    "Conflicts:\n\tf\n\nKey: a\n",
    "subject\n\nConflicts:\n\tf\n\nKey: a\n\n\tx\n",  # a tab line outside the block
    "subject\n\nKey: a\n\nConflicts:\n\tf\n\n\tg\n#c\n",
    # CRLF
    "subject\r\n\r\nKey: a\r\nOther: b\r\n",
    "subject\r\n\r\nKey: a\r\n  b\r\n",
    "subject\r\n\r\nKey: a\r\n\r\n",
    "subject\r\n\r\nbody\r\n\r\nKey: a\r\n",
    "subject\r\n\r\nSigned-off-by: A <a@x>\r\nnot\r\n",
    # odd whitespace
    "subject\n\nKey: a\x0b\n",
    "subject\n\nKey: a\x0c\n\x0cb: c\n",
    "subject\n\nKey: a\u00a0\n",
    "subject\n\nKey: a\u2028b\n",
    "subject\n\nKey: a\x85b\n",
    "subject\n\nKey: \u00e9\u4e2d\U0001f600\n",
    "subject\n\n\u00e9: a\n",
    # NUL
    "subject\n\nKey: a\0b\n",
    "subject\0\n\nKey: a\n",
    # GitHub squash merge
    "Add feature (#123)\n\n"
    "* first commit\n\n"
    "---------\n\n"
    "* second commit\n\n"
    "Co-authored-by: Claude <noreply@anthropic.com>\n\n"
    "---------\n\n"
    "Co-authored-by: Claude <noreply@anthropic.com>\n"
    "Co-authored-by: Jane Doe <jane@example.com>\n",
    "Fix (#7)\n\n* a\n\n---\n\n* b\n\nCo-authored-by: A <a@x>\nCo-authored-by: B <b@x>\n",
    "Fix\n\nCo-authored-by: A <a@x>\nCo-authored-by: A <a@x>\nco-authored-by: A <a@x>\n",
]


@pytest.mark.parametrize("divider", [False, True], ids=["no-divider", "divider"])
def test_explicit_cases_agree_with_git(git_env: dict[str, str], divider: bool) -> None:
    for message in EXPLICIT:
        assert_agrees(git_env, message, divider)


BASIC_MESSAGE = "subject\n\nbody\n"
BASIC_PATCH = (
    "---\n foo.txt | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n\n"
    "diff --git a/foo.txt b/foo.txt\nindex 0353767..1d91aa1 100644\n--- a/foo.txt\n"
    "+++ b/foo.txt\n@@ -1,3 +1,3 @@\n\n-bar\n+baz\n\n--\n1.9.rc0.11.ga562ddc\n\n"
)
COMMENTED = (
    "# comment\n\n# other comment\nCc: \n# yet another comment\nReviewed-by: Johan\n"
    "Reviewed-by: \n# last comment\n\n"
)

# Inputs from git's t/t7513-interpret-trailers.sh, with what --parse prints for them.
T7513 = [
    (
        "with message that has comments",
        BASIC_MESSAGE + COMMENTED + BASIC_PATCH,
        True,
        ["Cc: ", "Reviewed-by: Johan", "Reviewed-by: "],
    ),
    (
        "with message that has an old style conflict block",
        BASIC_MESSAGE + COMMENTED + "Conflicts:\n\n",
        False,
        ["Cc: ", "Reviewed-by: Johan", "Reviewed-by: "],
    ),
    ("with basic patch", BASIC_MESSAGE + BASIC_PATCH, True, []),
    ("with only a title in the message", "area: change\n", False, []),
    ("with multiline title in the message", "place of\ncode: change\n", False, []),
    (
        "with non-trailer lines mixed with Signed-off-by",
        "\nthis is not a trailer\nthis is not a trailer\nSigned-off-by: a <a@example.com>\n"
        "this is not a trailer\n",
        False,
        ["Signed-off-by: a <a@example.com>"],
    ),
    (
        "with non-trailer lines mixed with cherry picked from",
        "\nthis is not a trailer\nthis is not a trailer\n(cherry picked from commit x)\n"
        "this is not a trailer\n",
        False,
        [],
    ),
    (
        "with non-trailer lines mixed with a non-configured trailer",
        "\nthis is not a trailer\nthis is not a trailer\nI-am-not-configured: x\n"
        "this is not a trailer\n",
        False,
        [],
    ),
    (
        "with all non-configured trailers",
        "\nI-am-not-configured: x\nI-am-also-not-configured: x\n",
        False,
        ["I-am-not-configured: x", "I-am-also-not-configured: x"],
    ),
    ("line with leading whitespace is not trailer", "\n\ttoken: value\n", False, []),
    (
        "multiline field treated as one trailer for 25% check",
        "\nSigned-off-by: a <a@example.com>\nname: value on\n\tmultiple lines\n"
        + "this is not a trailer\n" * 6,
        False,
        ["Signed-off-by: a <a@example.com>", "name: value on multiple lines"],
    ),
    ("with cut line", f"my subject\n{CUT}\nignore this\n", False, []),
    (
        "only trailers",
        "my subject\n\nmy body\n\nexisting: existing-value\n",
        False,
        ["existing: existing-value"],
    ),
    (
        "only-trailers omits non-trailer in middle of block",
        "subject\n\nit is important that the trailers below are signed-off-by\n"
        'so that they meet the "25% trailers Git knows about" heuristic\n\n'
        "Signed-off-by: nobody <nobody@nowhere>\nthis is not a trailer\n"
        "Signed-off-by: somebody <somebody@somewhere>\n",
        False,
        ["Signed-off-by: nobody <nobody@nowhere>", "Signed-off-by: somebody <somebody@somewhere>"],
    ),
    (
        "unfold",
        "my subject\n\nmy body\n\nfoo: \n  continued\n   across\n    several\n     lines\n   \n",
        False,
        ["foo: continued across several lines"],
    ),
    (
        "handling of --- lines in input",
        "subject\n\nbody\n\nnot-a-trailer: too soon\n"
        "------ this is just a line in the commit message with a bunch of\n"
        "------ dashes; it does not have any syntactic meaning.\n\n"
        "real-trailer: just right\n---\nbelow the dashed line may be a patch, etc.\n\n"
        "not-a-trailer: too late\n",
        True,
        ["real-trailer: just right"],
    ),
    (
        "suppress --- handling",
        'subject\n\nThis commit message has a "---" in it, but because we tell\n'
        "interpret-trailers not to respect that, it has no effect.\n\n"
        "not-a-trailer: too soon\n---\n\nThis is still the commit message body.\n\n"
        "real-trailer: just right\n",
        False,
        ["real-trailer: just right"],
    ),
    # (git 2.43; git 2.39 hangs on this one, see _hangs_git_239)
    (
        "handling of --- lines in conjunction with cut-lines",
        f"subject\n\nmy-trailer: here\n---\n{CUT}\n",
        True,
        ["my-trailer: here"],
    ),
]


@pytest.mark.parametrize(
    ("message", "divider", "expected"),
    [case[1:] for case in T7513],
    ids=[case[0] for case in T7513],
)
def test_git_test_suite_cases(
    git_env: dict[str, str], message: str, divider: bool, expected: list[str]
) -> None:
    assert ours(message, divider=divider) == expected
    assert git_parse(git_env, message, divider=divider) == expected


def test_the_divider_option() -> None:
    squash = (
        "Add feature (#123)\n\n* first commit\n\n---------\n\n* second commit\n\n---\n\n"
        "Co-authored-by: Claude <noreply@anthropic.com>\n"
        "Co-authored-by: Jane Doe <jane@example.com>\n"
    )
    keys = [(t.key, t.value) for t in parse_trailers(squash)]
    assert keys == [
        ("Co-authored-by", "Claude <noreply@anthropic.com>"),
        ("Co-authored-by", "Jane Doe <jane@example.com>"),
    ]
    assert parse_trailers(squash, divider=True) == []  # "---" ends the message there
    assert trailer_block(squash, divider=True) == (len(squash), len(squash))


# --------------------------------------------------------------------------- offsets


def test_duplicates_are_all_returned_in_order() -> None:
    message = "Fix\n\nCo-authored-by: A <a@x>\nCo-authored-by: A <a@x>\nco-authored-by: B <b@x>\n"
    assert parse_trailers(message) == [
        Trailer("Co-authored-by", "A <a@x>", 5, 29),
        Trailer("Co-authored-by", "A <a@x>", 29, 53),
        Trailer("co-authored-by", "B <b@x>", 53, 77),
    ]
    assert trailer_block(message) == (5, 77)


def test_offsets_with_continuations_comments_and_trailing_lines() -> None:
    message = "Subject\n\nBody text.\n\nKey : a\n  b\n# note\nOther: c\n  \n\n# tail\n"
    # Offsets: "Key" line 21, "  b" 29, "# note" 33, "Other" 40, "  " 49, "" 52, "# tail" 53.
    # The trailing empty line and comment are not part of the block; the whitespace-only
    # line is, as a continuation of "Other".
    assert trailer_block(message) == (21, 52)
    assert parse_trailers(message) == [
        Trailer("Key", "a b", 21, 33),
        Trailer("Other", "c", 40, 52),
    ]
    for t in parse_trailers(message):
        assert message[t.start : t.end].startswith(t.key)


def test_no_block_is_end_of_message() -> None:
    for message in ["", "subject\n", "subject\n\nbody\n", "Key: v\n", "s\n\nKey: v\nbody\n"]:
        assert trailer_block(message) == (len(message), len(message))
        assert parse_trailers(message) == []


# --------------------------------------------------------------------------- the grammar

_TOKENS = [
    "Co-authored-by",
    "Co-Authored-By",
    "Signed-off-by",
    "Assisted-by",
    "Key",
    "a-b-9",
    "-",
    "X",
    "Bug #",  # "#" is not a separator here
    "Reviewed by",  # a space inside the token: not a trailer
    "Réviewé-by",  # non-ASCII: not a trailer
    "K_2",
    "(Key)",
    "Key\t",
    "Key ",
]
_SEPARATORS = [":", ":", ":", " :", "\t:", "  :", "=", ""]
_VALUES = [
    "",
    " ",
    "v",
    " A <a@x>",
    " Claude <noreply@anthropic.com>",
    " a: b",
    " x  ",
    "\tx\t",
    " ü 中 😀",
    " \x0b",
    " \x0c",
    " \u00a0",
    " a\u2028b",
    " \x85",
]
_SPECIAL_LINES = [
    "Signed-off-by: A <a@x>",
    "Signed-off-by:A",
    "signed-off-by: a",
    "Signed-off-by: ",
    "(cherry picked from commit 0123abcd)",
    "(cherry picked from commit ",
    "(cherry picked from commit",
    "---",
    "--- ",
    "---\t",
    "---x",
    "----",
    "---------",
    "-- ",
    CUT,
    CUT,
    CUT + " ",
    " " + CUT,
    "# comment",
    "#",
    "#Key: v",
    "Conflicts:",
    "Conflicts: ",
    "\tpath.c",
    "\tKey: v",
    "",
    "",
    "",
    " ",
    "\t",
    "\r",
    "  \t ",
    " continuation",
    "  more: text",
    "\x0cff",
    "\x0bKey: v",
    "\u00a0nbsp",
    ":no token",
    "http://example.com: x",
    "plain text",
    "Key",
    "Key:",
]
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\0"),
    max_size=10,
)
_TRAILER_LINES = st.builds(
    lambda k, s, v: k + s + v,
    st.sampled_from(_TOKENS),
    st.sampled_from(_SEPARATORS),
    st.one_of(st.sampled_from(_VALUES), _TEXT.map(lambda t: " " + t)),
)
_VALID_TRAILER_LINES = st.builds(
    lambda k, s, v: k + s + v,
    st.sampled_from(["Co-authored-by", "Signed-off-by", "Assisted-by", "Key", "a-b-9", "Key "]),
    st.sampled_from([":", ":", ": ", " :", "\t:"]),
    st.one_of(st.sampled_from(_VALUES), _TEXT),
)
_LINES = st.one_of(
    _TRAILER_LINES,
    _TRAILER_LINES,
    _TRAILER_LINES,
    st.sampled_from(_SPECIAL_LINES),
    st.sampled_from(_SPECIAL_LINES),
    _TEXT,
)
# The last paragraph of most real messages: mostly trailers, some continuation lines,
# git-generated lines, comments and stray text (the 25% rule's territory).
_TRAILER_PARAGRAPH_LINES = st.one_of(
    _VALID_TRAILER_LINES,
    _VALID_TRAILER_LINES,
    _VALID_TRAILER_LINES,
    _VALID_TRAILER_LINES,
    _VALID_TRAILER_LINES,
    _TRAILER_LINES,
    st.sampled_from(
        [
            "Signed-off-by: A <a@x>",
            "Signed-off-by: A <a@x>",
            "(cherry picked from commit 0123abcd)",
            " continuation",
            "\tcontinuation: x",
            "  ",
            "# comment",
            "not a trailer",
            "Not a trailer either.",
            "Key:",
        ]
    ),
)
# What may follow the message: a patch, a scissors section, comments, Conflicts, blanks.
_TAILS = st.sampled_from(
    [
        ["---", " file | 1 +", "Key: in the patch"],
        ["--- ", "Key: in the patch"],
        ["---------", "", "Co-authored-by: X <x@x>"],
        [CUT, "Key: below the cut"],
        ["# comment", "#"],
        ["", "# comment", ""],
        ["Conflicts:", "\tfile.c", "\tother.c"],
        ["", "", ""],
        ["  ", ""],
    ]
)


@st.composite
def messages(draw: st.DrawFn) -> str:
    """A commit message: paragraphs of lines from the grammar, joined by blank lines,
    often ending with a trailer-like paragraph and sometimes a tail (patch, scissors,
    comments), with "\n", "\r\n" or mixed line endings, with or without a final newline,
    rarely with a NUL."""
    paragraphs = draw(st.lists(st.lists(_LINES, min_size=1, max_size=5), max_size=3))
    if draw(st.sampled_from([True, True, True, False])):
        paragraphs.insert(0, [draw(_TEXT)])  # a subject
    if draw(st.sampled_from([True, True, True, False])):
        paragraphs.append(draw(st.lists(_TRAILER_PARAGRAPH_LINES, min_size=1, max_size=8)))
    lines = [line for para in paragraphs for line in [*para, ""]]
    if lines and draw(st.booleans()):
        lines.pop()
    if draw(st.sampled_from([False, False, False, False, True])):
        lines.extend(draw(_TAILS))
    mode = draw(st.sampled_from(["\n", "\n", "\r\n", "mixed"]))
    if mode == "mixed":
        eols = draw(
            st.lists(st.sampled_from(["\n", "\r\n"]), min_size=len(lines), max_size=len(lines))
        )
    else:
        eols = [mode] * len(lines)
    text = "".join(line + eol for line, eol in zip(lines, eols, strict=True))
    if text and draw(st.booleans()):
        text = text[: -len(eols[len(lines) - 1])]
    if text and draw(st.sampled_from([False] * 40 + [True])):
        i = draw(st.integers(0, len(text)))
        text = text[:i] + "\0" + text[i:]
    return text


# --------------------------------------------------------------------------- properties


@pytest.mark.slow  # ~15-40 s: 1,500 batches through git; .ci/run runs it, `-m "not slow"` skips
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(messages(), min_size=1, max_size=8))
def test_agrees_with_git_interpret_trailers(git_env: dict[str, str], batch: list[str]) -> None:
    assert_all_agree(git_env, batch, divider=False)
    assert_all_agree(git_env, batch, divider=True)


def _skip_blank_lines(message: str) -> str:
    """pretty.c's skip_blank_lines(): `git log` drops whitespace-only lines before the
    subject (git's whitespace: space, tab, CR, LF)."""
    pos = 0
    while pos < len(message):
        nl = message.find("\n", pos)
        end = len(message) if nl < 0 else nl + 1
        if message[pos:end].strip(" \t\r\n"):
            break
        pos = end
    return message[pos:]


@pytest.fixture(scope="module")
def log_repo(tmp_path_factory: pytest.TempPathFactory) -> pygit2.Repository:
    return pygit2.init_repository(str(tmp_path_factory.mktemp("log-repo")), bare=True)


def git_log_trailers(env: dict[str, str], repo: pygit2.Repository, batch: list[str]) -> list[str]:
    """`git log --format=%(trailers:only,unfold)` for commits with exactly these messages."""
    tree = repo.TreeBuilder().write()
    shas = []
    for i, message in enumerate(batch):
        # A raw object, so that the message is stored byte for byte; the time makes equal
        # messages distinct commits (git log --no-walk would print a commit only once).
        header = f"tree {tree}\nauthor A <a@x> {i} +0000\ncommitter A <a@x> {i} +0000\n\n"
        raw = header.encode() + message.encode("utf-8")
        shas.append(str(repo.write(pygit2.enums.ObjectType.COMMIT, raw)))
    out = subprocess.run(
        ["git", "log", "--no-walk=unsorted", "--format=%x00%(trailers:only,unfold)", *shas],
        cwd=repo.path,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return out.stdout.decode("utf-8").split("\0")[1:]


def _log_expected(message: str) -> str:
    # git log adds a newline after each commit's format output
    return "".join(f"{line}\n" for line in ours(_skip_blank_lines(message))) + "\n"


def test_git_log_reads_explicit_cases_the_same_way(
    git_env: dict[str, str], log_repo: pygit2.Repository
) -> None:
    batch = [m for m in EXPLICIT if "\0" not in m]
    got = git_log_trailers(git_env, log_repo, batch)
    assert got == [_log_expected(m) for m in batch]


def test_git_log_skips_leading_blank_lines_interpret_trailers_does_not(
    git_env: dict[str, str], log_repo: pygit2.Repository
) -> None:
    message = "\nKey: value\n"
    assert git_parse(git_env, message) == ["Key: value"] == ours(message)
    assert git_log_trailers(git_env, log_repo, [message]) == ["\n"]


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(messages().filter(lambda m: "\0" not in m), min_size=1, max_size=10))
def test_agrees_with_git_log_trailers(
    git_env: dict[str, str], log_repo: pygit2.Repository, batch: list[str]
) -> None:
    got = git_log_trailers(git_env, log_repo, batch)
    for message, output in zip(batch, got, strict=True):
        assert output == _log_expected(message), message
        if _skip_blank_lines(message) == message:
            assert output == "".join(f"{line}\n" for line in ours(message)) + "\n"


# --------------------------------------------------------------------------- pure properties

_KEY_RE = re.compile(r"[A-Za-z0-9-]+")


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=messages(), divider=st.booleans())
def test_offsets_are_consistent(message: str, divider: bool) -> None:
    trailers = parse_trailers(message, divider=divider)
    start, end = trailer_block(message, divider=divider)
    n = len(message)
    assert 0 <= start <= end <= n
    if (start, end) == (n, n):
        assert trailers == []
    else:
        assert start < end
        assert start == 0 or message[start - 1] == "\n"
    previous_end = start
    for t in trailers:
        assert previous_end <= t.start < t.end <= end
        assert t.start == 0 or message[t.start - 1] == "\n"
        # A trailer ends after its newline, at the end of the message, or at a NUL (git stops
        # reading a message at its first NUL).
        assert t.end == n or message[t.end - 1] == "\n" or message[t.end] == "\0"
        assert message.startswith(t.key, t.start)
        assert _KEY_RE.fullmatch(t.key)
        assert "\n" not in t.value and t.value == t.value.strip(" \t\r\n")
        previous_end = t.end


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=messages(), junk=messages())
def test_everything_below_the_scissors_is_ignored(message: str, junk: str) -> None:
    if message and not message.endswith("\n"):
        message += "\n"
    assert parse_trailers(message + CUT + "\n" + junk) == parse_trailers(message)


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=messages())
def test_divider_only_matters_with_a_divider_line(message: str) -> None:
    if not re.search(r"^---[ \t\r\n]", message, re.MULTILINE):
        assert parse_trailers(message, divider=True) == parse_trailers(message)
        assert trailer_block(message, divider=True) == trailer_block(message)


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
def test_linear_time_on_huge_messages() -> None:
    """100k-line messages of each shape parse in a fraction of a second each (a quadratic
    algorithm would take hours)."""
    shapes = [
        "subject\n\n" + "body text\n" * 100_000 + "Signed-off-by: x\n",
        "subject\n\n" + "Key: v\n" * 100_000,
        "subject\r\n\r\n" + "Key: v\r\n  more\r\n" * 50_000 + "Conflicts:\n\tx\n",
        "subject\n\nKey: v\n" + "# c\n" * 50_000 + "  \n" * 50_000,
        "subject\n\nKey: v" + "\n " * 100_000,
        "x" * 1_000_000,
    ]
    for message in shapes:
        for divider in (False, True):
            t0 = time.perf_counter()
            parse_trailers(message, divider=divider)
            trailer_block(message, divider=divider)
            assert time.perf_counter() - t0 < 10
