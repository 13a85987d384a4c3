"""scorer.trailers against the real git (`git interpret-trailers --parse`, `git log`)."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from scorer.trailers import Trailer, parse_trailers, trailer_block

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
