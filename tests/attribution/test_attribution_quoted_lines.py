"""METRIC.md v2 section 2, `line` evidence: the key starts the line, except in a quoted commit
message (a squash body), whose lines git indents by four spaces.

The rule (scorer.attribution.detect.quoted_message_lines): a line indented by exactly four
spaces counts when it follows a git commit header (``commit <hex>`` / ``Author:`` / ``Date:``
lines, with an ``Author:`` line, then a blank line), up to the first line that is neither blank
nor indented by four spaces. Checked on real histories: GitHub's default squash bodies (2,907
squash merges of cline/cline, charmbracelet/crush and steveyegge/beads) never indent the
squashed messages, so their trailer lines start the line; the indented ones are ``git merge
--squash`` messages and git-log output pasted into a squash body (cline's "Detailed commits:").
"""

from __future__ import annotations

import pytest
from gitbuild import GitRepo
from hypothesis import given, settings
from hypothesis import strategies as st

from scorer.attribution.detect import _message_evidence, detect, quoted_message_lines
from scorer.attribution.registry import Registry, load_registry
from scorer.git.log import iter_raw_commits, open_repo, resolve_ref
from scorer.model import Evidence, RawCommit

JANE = ("Jane Doe", "jane@example.org")
WHEN = "2026-03-02T10:00:00+0000"
CLAUDE = "Co-Authored-By: Claude <noreply@anthropic.com>"


def _commits(repo: GitRepo) -> dict[str, RawCommit]:
    opened = open_repo(repo.path)
    return {c.sha: c for c in iter_raw_commits(opened, resolve_ref(opened, "HEAD"))}


def line(agent: str, text: str) -> Evidence:
    return Evidence(agent, "line", text, "medium")


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


# GitHub's default squash body (Pull request title and commit details): "* subject" bullets,
# each squashed commit's body NOT indented, "---------" before the co-authors. Shape of
# cline/cline 1b1e6f3 ("feat(hub): add drain and upgrade commands", #13468).
GITHUB_SQUASH = (
    "feat(hub): add drain and upgrade commands (#13468)\n\n"
    "* feat(hub): add drain and upgrade commands\n\n"
    "* feat(hub): wire bot profiles\n\n"
    "Completes the wiring the previous commits' primitives needed.\n\n"
    "Co-Authored-By: Claude Sonnet 5 <noreply@anthropic.com>\n\n"
    "* fix(hub): dedupe replayed events by eventId\n\n"
    "---------\n\n"
    "Co-authored-by: Bob Smith <bob@example.org>\n"
)
# git-log output inside a squash body, as in cline/cline's "Marketplace (#4538)".
DETAILED_COMMITS = (
    "Marketplace (#4538)\n\n"
    "* chore: merge marketplace squashed\n\n"
    "Detailed commits:\n\n"
    "Author: Dicha Arkana <51877647+elianiva@users.noreply.github.com>\n"
    "Date:   Wed May 21 00:36:02 2025 +0700\n\n"
    "    feat: better UI for marketplace item list (#11)\n\n"
    "    * feat: better source config UI\n\n"
    "    ---------\n\n"
    "    Co-authored-by: Cursor Agent <cursoragent@cursor.com>\n\n"
    "commit 1a1166567257f\n"
    "Author: Matt Rubens <mrubens@users.noreply.github.com>\n"
    "Date:   Wed May 21 10:00:00 2025 +0700\n\n"
    "    docs: update contributors list\n\n"
    "    Made-with: Cursor\n"
    "        Generated-by: Codex CLI\n"  # eight spaces: indented inside the quoted message
)
# charmbracelet/crush 24da509 ("fix: properly follow the `Assisted-by` header spec"): quoted
# examples, indented by four spaces, in an ordinary body.
QUOTED_EXAMPLE = (
    "fix: properly follow the `Assisted-by` header spec (#2871)\n\n"
    "We were not using the correct format. According to the SPEC it should be:\n\n"
    "    Assisted-by: AGENT_NAME:MODEL_VERSION\n\n"
    "So now it'll look like this:\n\n"
    "    Assisted-by: Crush:kimi-k2.6\n\n"
    "See:\n\n"
    "https://docs.kernel.org/process/coding-assistants.html#attribution\n"
)

CASES = [
    ("github-squash", GITHUB_SQUASH, (line("claude-code", "Co-Authored-By: Claude Sonnet 5 "
                                                          "<noreply@anthropic.com>"),)),
    ("detailed-commits", DETAILED_COMMITS, (
        line("cursor", "Co-authored-by: Cursor Agent <cursoragent@cursor.com>"),
        line("cursor", "Made-with: Cursor"),
    )),
    ("quoted-example", QUOTED_EXAMPLE, ()),
    ("unindented-line", f"Fix\n\nWe paired:\n{CLAUDE}\nand it worked.\n",
     (line("claude-code", CLAUDE),)),
    ("two-spaces", f"Fix\n\nWe paired:\n  {CLAUDE}\nand it worked.\n", ()),
    ("tab", f"Fix\n\nWe paired:\n\t{CLAUDE}\nand it worked.\n", ()),
    ("four-spaces-no-header", f"Fix\n\nAn example:\n\n    {CLAUDE}\n\nDone.\n", ()),
    # A header needs an Author: line, and a blank line before the message.
    ("header-without-author", f"Fix\n\nDate:   Mon Jan 5 2026\n\n    {CLAUDE}\n\nDone.\n", ()),
    ("header-without-blank", f"Fix\n\nAuthor: A <a@b.c>\n    {CLAUDE}\n\nDone.\n", ()),
    # The quoted message ends at the first line that is neither blank nor indented.
    ("after-the-quote", f"Fix\n\nAuthor: A <a@b.c>\n\n    Subject\n\nNot quoted:\n\n    {CLAUDE}\n",
     ()),
    ("crlf", "Fix\r\n\r\ncommit 0123456789abcdef0123456789abcdef01234567\r\nAuthor: A <a@b.c>\r\n"
             "Date:   Mon Jan 5 2026\r\n\r\n    Subject\r\n\r\n    Made-with: Cursor\r\n",
     (line("cursor", "Made-with: Cursor"),)),
    # "İ" lower-cases to two characters: the offsets come from the slow path.
    ("length-changing-case", "İstanbul\n\nAuthor: A <a@b.c>\n\n    İ\n    Made-with: Cursor\nx\n",
     (line("cursor", "Made-with: Cursor"),)),
]  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, RawCommit]]:
    repo = GitRepo(tmp_path_factory.mktemp("quoted") / "repo")
    shas = {name: repo.commit(message, when=WHEN, author=JANE) for name, message, _ in CASES}
    return shas, _commits(repo)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_line_evidence(built, registry, case):
    name, message, expected = case
    shas, raws = built
    raw = raws[shas[name]]
    assert raw.message == message
    assert detect(raw, registry) == expected


def test_git_merge_squash_message(tmp_path, registry):
    """The message `git merge --squash` writes ("Squashed commit of the following:", each
    commit's message indented by four spaces), committed as git proposes it."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit("Initial\n", when=WHEN, author=JANE)
    repo.branch("topic")
    repo.checkout("topic")
    repo.commit(f"Add parser\n\nWritten with Claude.\n\n{CLAUDE}\n", when=WHEN, author=JANE)
    repo.commit("Assisted-by example in prose\n\nWe say\n    Made-with: Cursor\nhere.\n",
                when=WHEN, author=JANE)  # fmt: skip
    repo.checkout("main")
    repo.git("merge", "--squash", "-q", "topic")
    env = {"GIT_AUTHOR_NAME": JANE[0], "GIT_AUTHOR_EMAIL": JANE[1],
           "GIT_COMMITTER_NAME": JANE[0], "GIT_COMMITTER_EMAIL": JANE[1]}  # fmt: skip
    repo.git("commit", "-q", "--no-edit", env=env)
    raw = _commits(repo)[repo.head()]
    assert raw.message.startswith("Squashed commit of the following:\n\ncommit ")
    assert f"\n    {CLAUDE}\n" in raw.message
    # The second commit's message is quoted too, so its own indented line is eight spaces in.
    assert "\n        Made-with: Cursor\n" in raw.message
    assert detect(raw, registry) == (line("claude-code", CLAUDE),)


def test_quoted_message_lines():
    msg = (
        "Title\n"  # 0
        "\n"  # 6
        "commit 0123456\n"  # 7
        "Merge: 1111111 2222222\n"  # 22
        "Author: A <a@b.c>\n"  # 45
        "Date:   today\n"  # 63
        "\n"  # 77
        "    Subject\n"  # 78
        "\n"  # 90
        "      deeper\n"  # 91
        "after\n"  # 104
        "    not quoted\n"  # 110
    )
    assert quoted_message_lines(msg) == frozenset({78, 90, 91})
    assert quoted_message_lines("Author: A\n\n") == frozenset()
    assert quoted_message_lines("") == frozenset()


QUOTED_FRAGMENTS = st.sampled_from(
    [
        "commit 0123456789abcdef", "Author: A <a@b.c>", "Date:   today", "Merge: 1 2", "",
        "    Subject", f"    {CLAUDE}", "    made-with: cursor", "      Made-with: Cursor",
        "    Agent-Signature: codex-gpt-5", "plain words", "\tMade-with: Cursor", "\r", "İ",
    ]
)  # fmt: skip


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
@given(st.lists(QUOTED_FRAGMENTS, max_size=10))
@settings(max_examples=300, deadline=None)
def test_prefilter_passes_quoted_messages(lines):
    """The one-search prefilter passes every message whose quoted lines are evidence."""
    reg = load_registry()
    for sep in ("\n", "\r\n"):
        msg = sep.join(lines)
        found: list[tuple] = []
        _message_evidence(msg, reg, lambda *a, found=found: found.append(a))
        if found:
            assert reg._prefilter.search("\n" + msg.lower()) is not None, msg
