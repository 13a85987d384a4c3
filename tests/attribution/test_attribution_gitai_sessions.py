"""git-ai notes in both published forms (METRIC.md v2 section 2): the v3 standard
(``authorship/3.0.0``, prompt hashes) and the later session keys (``s_<id>::t_<id>`` for AI
sessions, ``h_<id>`` for known humans), alone or mixed in one note.

The notes below are written as git-ai writes them, taken from git-ai itself
(github.com/git-ai-project/git-ai): ``docs/migrations/sessions-v2-note-format.md`` (the session
and trace keys, the ``sessions`` map), ``tests/integration/sessions_backwards_compat.rs`` (an
old-format note and a mixed prompts+sessions note) and
``src/authorship/authorship_log_serialization.rs`` (two-space indented attestations, the
``---`` divider, pretty-printed JSON without a trailing newline). Each is stored byte for byte
as a blob under ``refs/notes/ai`` of a real repository (``git notes add -C``), read with
``read_ai_notes`` and judged by ``detect``.
"""

from __future__ import annotations

import json

import pytest
from gitbuild import GitRepo

from scorer.attribution.detect import detect
from scorer.attribution.notes import note_evidence, read_ai_notes
from scorer.attribution.registry import OTHER, Registry, load_registry
from scorer.git.log import iter_raw_commits, open_repo, resolve_ref
from scorer.model import Evidence

WHEN = "2026-03-02T10:00:00+0000"


def _note(attestations: str, meta: dict) -> str:
    """git-ai's serialize_to_string(): attestations, "---", pretty JSON, no final newline."""
    return f"{attestations}---\n{json.dumps(meta, indent=2)}"


def note(agent: str, text: str) -> Evidence:
    return Evidence(agent, "note", text, "high")


JANE = "Jane Doe <jane@example.org>"

# The session form: one session, two checkpoints (trace ids), and a known human's lines.
SESSIONS = _note(
    "src/main.rs\n"
    "  s_c9883b05a2487d::t_9f8e7d6c5b4a32 1-10\n"
    "  s_c9883b05a2487d::t_a1b2c3d4e5f678 15-20\n"
    "  h_a1b2c3d4e5f678 11-14\n",
    {
        "schema_version": "authorship/3.0.0",
        "git_ai_version": "1.4.0",
        "base_commit_sha": "7734793b756b3921c88db5375a8c156e9532447b",
        "prompts": {},
        "humans": {"h_a1b2c3d4e5f678": {"author": JANE}},
        "sessions": {
            "s_c9883b05a2487d": {
                "agent_id": {"tool": "cursor", "id": "session_123", "model": "gpt-4"},
                "human_author": "alice@example.com",
            }
        },
    },
)
# git-ai's mixed note (prompts for one file, a session for another), with its tool names
# replaced by real ones.
MIXED = _note(
    "old_file.txt\n  5a1b2c3d4e5f6789 1-5\n"
    "new_file.txt\n  s_1234567890abcd::t_fedcba0987654321 1-5\n",
    {
        "schema_version": "authorship/3.0.0",
        "git_ai_version": "1.0.0",
        "base_commit_sha": "abc123",
        "prompts": {
            "5a1b2c3d4e5f6789": {
                "agent_id": {"tool": "claude", "id": "test_agent", "model": "claude-opus-4-5"},
                "human_author": None,
                "messages": [],
                "total_additions": 5,
                "total_deletions": 0,
                "accepted_lines": 5,
                "overriden_lines": 0,
            }
        },
        "sessions": {
            "s_1234567890abcd": {
                "agent_id": {"tool": "github-copilot-cli", "id": "new_agent", "model": "unknown"},
                "human_author": None,
            }
        },
    },
)
# The v3 standard before sessions: no "sessions" key at all.
PROMPTS_ONLY = _note(
    "test.txt\n  5a1b2c3d4e5f6789 1-10\n",
    {
        "schema_version": "authorship/3.0.0",
        "git_ai_version": "1.0.0",
        "base_commit_sha": "abc123",
        "prompts": {
            "5a1b2c3d4e5f6789": {
                "agent_id": {"tool": "codex-cloud", "id": "a", "model": "gpt-5-codex"},
                "human_author": None,
                "messages": [],
                "total_additions": 10,
                "total_deletions": 2,
                "accepted_lines": 8,
                "overriden_lines": 1,
            }
        },
        "humans": {"h_abcdef12345678": {"author": "Test User <test@example.com>"}},
    },
)
# Only a known human's lines are attested; the AI session wrote nothing that was committed.
HUMAN_LINES_ONLY = _note(
    "src/a.py\n  h_a1b2c3d4e5f678 1-5\n",
    {
        "schema_version": "authorship/3.0.0",
        "base_commit_sha": "x",
        "prompts": {},
        "humans": {"h_a1b2c3d4e5f678": {"author": JANE}},
        "sessions": {
            "s_c9883b05a2487d": {
                "agent_id": {"tool": "claude", "id": "s", "model": "claude-opus-4-5"},
                "human_author": JANE,
            }
        },
    },
)
# A human key with a trace id (announced by git-ai as a possible future form): still human.
HUMAN_TRACE = _note(
    "src/a.py\n  h_a1b2c3d4e5f678::t_9f8e7d6c5b4a32 1-5\n",
    {
        "schema_version": "authorship/3.0.0",
        "base_commit_sha": "x",
        "prompts": {},
        "humans": {"h_a1b2c3d4e5f678": {"author": JANE}},
        "sessions": {},
    },
)
# A session key whose session is not in this note (a foreign cherry-pick): git-ai skips it.
UNKNOWN_SESSION = _note(
    "src/a.py\n  s_00000000000000::t_11111111111111 1-5\n",
    {
        "schema_version": "authorship/3.0.0",
        "base_commit_sha": "x",
        "prompts": {},
        "sessions": {
            "s_c9883b05a2487d": {"agent_id": {"tool": "cursor", "id": "s", "model": "m"}},
        },
    },
)
# A session attested with no line range (every line it wrote was removed before the commit).
NO_RANGES = _note(
    "src/a.py\n  s_c9883b05a2487d::t_9f8e7d6c5b4a32 \n",
    {
        "schema_version": "authorship/3.0.0",
        "base_commit_sha": "x",
        "prompts": {},
        "sessions": {
            "s_c9883b05a2487d": {"agent_id": {"tool": "cursor", "id": "s", "model": "m"}},
        },
    },
)

CASES = [
    ("sessions", SESSIONS, (note("cursor", "git-ai note: cursor (gpt-4)"),)),
    ("mixed", MIXED, (
        note("claude-code", "git-ai note: claude (claude-opus-4-5)"),
        note("copilot", "git-ai note: github-copilot-cli"),
    )),
    ("prompts-only", PROMPTS_ONLY, (note("codex", "git-ai note: codex-cloud (gpt-5-codex)"),)),
    ("human-lines-only", HUMAN_LINES_ONLY, ()),
    ("human-trace", HUMAN_TRACE, ()),
    ("unknown-session", UNKNOWN_SESSION, ()),
    ("no-ranges", NO_RANGES, ()),
]  # fmt: skip


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="module")
def noted(tmp_path_factory: pytest.TempPathFactory):
    repo = GitRepo(tmp_path_factory.mktemp("gitai") / "repo")
    shas = {}
    for name, text, _expected in CASES:
        sha = repo.commit(f"{name}\n", when=WHEN)
        blob = repo.git("hash-object", "-w", "--stdin", input=text.encode("utf-8"))
        env = {"GIT_COMMITTER_NAME": "git-ai", "GIT_COMMITTER_EMAIL": "git-ai@example.org",
               "GIT_AUTHOR_NAME": "git-ai", "GIT_AUTHOR_EMAIL": "git-ai@example.org"}  # fmt: skip
        repo.git("notes", "--ref=ai", "add", "-f", "-C", blob, sha, env=env)
        shas[name] = sha
    opened = open_repo(repo.path)
    raws = {c.sha: c for c in iter_raw_commits(opened, resolve_ref(opened, "HEAD"))}
    return shas, raws, read_ai_notes(repo.path / ".git")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_git_ai_note(noted, registry, case):
    name, text, expected = case
    shas, raws, notes = noted
    sha = shas[name]
    assert notes[sha] == text  # stored and read back byte for byte
    assert detect(raws[sha], registry, notes[sha]) == expected


def test_crlf_note_reads_the_same(registry):
    """git-ai splits with Rust's str::lines(), which drops a "\\r" before each "\\n"."""
    assert note_evidence(SESSIONS.replace("\n", "\r\n"), registry) == (
        note("cursor", "git-ai note: cursor (gpt-4)"),
    )


def test_unknown_session_tool_is_other(registry):
    text = SESSIONS.replace('"tool": "cursor"', '"tool": "zed-agent"')
    assert note_evidence(text, registry) == (note(OTHER, "git-ai note: zed-agent (gpt-4)"),)
