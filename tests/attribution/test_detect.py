"""Attribution (METRIC.md section 2) on real repositories built with the git CLI.

Every commit of the shared repository below is read back with a tiny ``git log -z`` reader
(independent of scorer.git.log), and ``detect`` must give exactly the listed evidence.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scorer.attribution import registry as registry_module
from scorer.attribution.detect import (
    _message_evidence,
    author_is_human,
    detect,
    reverted_shas,
)
from scorer.attribution.notes import note_evidence, read_ai_notes
from scorer.attribution.registry import (
    OTHER,
    Registry,
    agent_from_mapping,
    load_registry,
    registry_source_digest,
)
from scorer.cli import main
from scorer.model import Evidence, RawCommit

H, M = "high", "medium"
HUMAN = ("Jane Doe", "jane@example.org")


def ev(agent: str, kind: str, text: str) -> Evidence:
    return Evidence(agent, kind, text, H if kind in ("trailer", "identity", "note") else M)


# --------------------------------------------------------------------------- git helpers


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(tmp),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        LC_ALL="C",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.org",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.org",
    )
    return env


class Repo:
    def __init__(self, path: Path):
        self.path = path
        self.env = _env(path.parent)
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        self.n = 0

    def git(self, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> str:
        out = subprocess.run(
            ["git", "-C", str(self.path), *args],
            env={**self.env, **(env or {})},
            input=input,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    def commit(
        self,
        message: str,
        author: tuple[str, str] = HUMAN,
        committer: tuple[str, str] | None = None,
    ) -> str:
        """A commit with exactly ``message`` (no cleanup), the given author and committer."""
        self.n += 1
        committer = committer or author
        date = f"2026-01-01T00:{self.n // 60:02d}:{self.n % 60:02d}+00:00"
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_COMMITTER_DATE": date,
        }
        (self.path / f"f{self.n}.txt").write_text(f"{self.n}\n")
        self.git("add", f"f{self.n}.txt")
        self.git("commit", "-q", "--cleanup=verbatim", "-F", "-", env=env, input=message)
        return self.git("rev-parse", "HEAD").strip()

    def raw_commits(self) -> dict[str, RawCommit]:
        """sha -> RawCommit, read with ``git log -z`` (mailmap applied to %aN/%aE)."""
        fmt = "%H%x00%P%x00%an%x00%ae%x00%aN%x00%aE%x00%cn%x00%ce%x00%at%x00%ct%x00%B"
        out = subprocess.run(
            ["git", "-C", str(self.path), "log", "-z", f"--format={fmt}", "HEAD"],
            env=self.env,
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        fields = out.split("\0")
        commits = {}
        for i in range(0, len(fields) - 10, 11):
            f = fields[i : i + 11]
            sha = f[0].lstrip("\n")
            commits[sha] = RawCommit(
                sha, tuple(f[1].split()), f[2], f[3], f[4], f[5], f[6], f[7], int(f[8]),
                int(f[9]), f[10],
            )  # fmt: skip
        return commits


# --------------------------------------------------------------------------- the cases

CLAUDE = "Co-Authored-By: Claude <noreply@anthropic.com>"
CLAUDE_FOOTER = "🤖 Generated with [Claude Code](https://claude.com/claude-code)"

# (name, message, author, committer, expected evidence)
CASES: list[tuple[str, str, tuple[str, str], tuple[str, str] | None, tuple[Evidence, ...]]] = [
    # --- Claude Code
    (
        "claude-trailer+footer",
        f"Add parser\n\nBody.\n\n{CLAUDE_FOOTER}\n\n{CLAUDE}\n",
        HUMAN,
        None,
        (ev("claude-code", "trailer", CLAUDE), ev("claude-code", "footer", CLAUDE_FOOTER)),
    ),
    (
        "claude-model-name",
        "Fix\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n",
        HUMAN,
        None,
        (ev("claude-code", "trailer", "Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>"),),
    ),
    (
        "claude-session",
        "Fix\n\nClaude-Session: https://claude.ai/code/session_01AbC\n",
        HUMAN,
        None,
        (ev("claude-code", "trailer", "Claude-Session: https://claude.ai/code/session_01AbC"),),
    ),
    (
        "claude-bot",
        "Fix flaky test (#12)\n",
        ("claude[bot]", "209825114+claude[bot]@users.noreply.github.com"),
        None,
        (
            ev(
                "claude-code",
                "identity",
                "claude[bot] <209825114+claude[bot]@users.noreply.github.com>",
            ),
        ),
    ),
    # --- GitHub Copilot
    (
        "copilot-swe-agent",
        "Implement feature\n\nCo-authored-by: octocat <583231+octocat@users.noreply.github.com>\n",
        ("copilot-swe-agent[bot]", "198982749+Copilot@users.noreply.github.com"),
        ("GitHub", "noreply@github.com"),
        (
            ev(
                "copilot",
                "identity",
                "copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>",
            ),
        ),
    ),
    (
        "copilot-coauthor",
        "Apply suggestion\n\n"
        "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>\n",
        HUMAN,
        None,
        (
            ev(
                "copilot",
                "trailer",
                "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
            ),
        ),
    ),
    (
        "copilot-bare-coauthor",
        "Fix\n\nCo-authored-by: Copilot\nCo-authored-by: Claude\n",
        HUMAN,
        None,
        (ev("copilot", "trailer", "Co-authored-by: Copilot"),),  # "Claude" may be a person
    ),
    (
        "copilot-author-name",
        "Update docs\n",
        ("Copilot", "copilot@github.com"),
        None,
        (ev("copilot", "identity", "Copilot <copilot@github.com>"),),
    ),
    (
        "copilot-generated-by",
        "Fix\n\nGenerated-by: GitHub Copilot\n",
        HUMAN,
        None,
        (ev("copilot", "trailer", "Generated-by: GitHub Copilot"),),
    ),
    # --- Cursor
    (
        "cursor-agent-author",
        "Refactor\n\nMade-with: Cursor\n",
        ("Cursor Agent", "cursoragent@cursor.com"),
        None,
        (
            ev("cursor", "trailer", "Made-with: Cursor"),
            ev("cursor", "identity", "Cursor Agent <cursoragent@cursor.com>"),
        ),
    ),
    (
        "cursor-committer",  # v2: a committer alone is no evidence (cursor has no committer:)
        "Refactor\n",
        HUMAN,
        ("Cursor Agent", "cursoragent@cursor.com"),
        (),
    ),
    # --- OpenAI Codex
    (
        "codex-coauthor",
        "Fix\n\nCo-authored-by: Codex <noreply@openai.com>\n"
        "Co-authored-by: Codex <codex@openai.com>\n",
        HUMAN,
        None,
        (
            ev("codex", "trailer", "Co-authored-by: Codex <noreply@openai.com>"),
            ev("codex", "trailer", "Co-authored-by: Codex <codex@openai.com>"),
        ),
    ),
    (
        "codex-connector",
        "Add tests\n",
        (
            "chatgpt-codex-connector[bot]",
            "199175422+chatgpt-codex-connector[bot]@users.noreply.github.com",
        ),
        None,
        (
            ev(
                "codex",
                "identity",
                "chatgpt-codex-connector[bot] "
                "<199175422+chatgpt-codex-connector[bot]@users.noreply.github.com>",
            ),
        ),
    ),
    # --- Aider
    (
        "aider-author",
        "feat: add --verbose flag\n\nCo-authored-by: aider (gpt-4o) <aider@aider.chat>\n",
        ("Jane Doe (aider)", "jane@example.org"),
        ("Jane Doe (aider)", "jane@example.org"),
        (
            ev("aider", "trailer", "Co-authored-by: aider (gpt-4o) <aider@aider.chat>"),
            ev("aider", "identity", "Jane Doe (aider) <jane@example.org>"),
        ),
    ),
    (
        "aider-subject",
        "aider: Added error handling to the parser\n",
        HUMAN,
        None,
        (ev("aider", "footer", "aider: Added error handling to the parser"),),
    ),
    (
        "aider-noreply",
        "Fix\n\nCo-authored-by: aider (claude-sonnet) <noreply@aider.dev>\n",
        HUMAN,
        None,
        (ev("aider", "trailer", "Co-authored-by: aider (claude-sonnet) <noreply@aider.dev>"),),
    ),
    # --- Amp
    (
        "amp",
        "Update log4j\n\nAmp-Thread-ID: https://ampcode.com/threads/T-652c6d27\n"
        "Co-authored-by: Amp <amp@ampcode.com>\n",
        HUMAN,
        None,
        (
            ev("amp", "trailer", "Amp-Thread-ID: https://ampcode.com/threads/T-652c6d27"),
            ev("amp", "trailer", "Co-authored-by: Amp <amp@ampcode.com>"),
        ),
    ),
    # --- opencode
    (
        "opencode",
        "Fix websocket\n\n🤖 Generated with [opencode](https://opencode.ai)\n\n"
        "Co-Authored-By: opencode <noreply@opencode.ai>\n",
        HUMAN,
        None,
        (
            ev("opencode", "trailer", "Co-Authored-By: opencode <noreply@opencode.ai>"),
            ev("opencode", "footer", "🤖 Generated with [opencode](https://opencode.ai)"),
        ),
    ),
    # --- Crush
    (
        "crush",
        "Fix\n\n💘 Generated with Crush\n\nAssisted-by: Crush:glm-4.6\n"
        "Co-Authored-By: Crush <crush@charm.land>\n",
        HUMAN,
        None,
        (
            ev("crush", "trailer", "Assisted-by: Crush:glm-4.6"),
            ev("crush", "trailer", "Co-Authored-By: Crush <crush@charm.land>"),
            ev("crush", "footer", "💘 Generated with Crush"),
        ),
    ),
    # --- OpenHands, Devin, Jules, Factory, Gemini, Replit
    (
        "openhands",
        "Fix\n\nCo-authored-by: openhands <openhands@all-hands.dev>\n",
        HUMAN,
        None,
        (ev("openhands", "trailer", "Co-authored-by: openhands <openhands@all-hands.dev>"),),
    ),
    (
        "devin",
        "Add endpoint\n",
        ("Devin AI", "158243242+devin-ai-integration[bot]@users.noreply.github.com"),
        None,
        (
            ev(
                "devin",
                "identity",
                "Devin AI <158243242+devin-ai-integration[bot]@users.noreply.github.com>",
            ),
        ),
    ),
    (
        "jules",
        "Add endpoint\n",
        ("google-labs-jules[bot]", "161369871+google-labs-jules[bot]@users.noreply.github.com"),
        None,
        (
            ev(
                "jules",
                "identity",
                "google-labs-jules[bot] "
                "<161369871+google-labs-jules[bot]@users.noreply.github.com>",
            ),
        ),
    ),
    (
        "factory",
        "Fix\n\nCo-authored-by: factory-droid[bot] "
        "<138933559+factory-droid[bot]@users.noreply.github.com>\n",
        HUMAN,
        None,
        (
            ev(
                "factory-droid",
                "trailer",
                "Co-authored-by: factory-droid[bot] "
                "<138933559+factory-droid[bot]@users.noreply.github.com>",
            ),
        ),
    ),
    (
        "gemini",
        "Fix\n\nAssisted-by: Gemini:gemini-2.5-pro\nCo-Authored-By: Gemini <noreply@google.com>\n",
        HUMAN,
        None,
        (
            ev("gemini-cli", "trailer", "Assisted-by: Gemini:gemini-2.5-pro"),
            ev("gemini-cli", "trailer", "Co-Authored-By: Gemini <noreply@google.com>"),
        ),
    ),
    (
        "replit",
        "Update UI\n\nReplit-Commit-Author: Agent\nReplit-Commit-Session-Id: 4a5df6fe\n",
        HUMAN,
        None,
        (ev("replit-agent", "trailer", "Replit-Commit-Author: Agent"),),
    ),
    # --- unknown agents: `other`
    (
        "assisted-by-unknown",
        "mm: fix race\n\nAssisted-by: Frobnicator:gpt-9 coccinelle sparse\n"
        "Signed-off-by: Jane Doe <jane@example.org>\n",
        HUMAN,
        None,
        (ev(OTHER, "trailer", "Assisted-by: Frobnicator:gpt-9 coccinelle sparse"),),
    ),
    (
        "assisted-by-kernel-claude",
        "mm: fix race\n\nAssisted-by: Claude:claude-3-opus coccinelle\n"
        "Signed-off-by: Jane Doe <jane@example.org>\n",
        HUMAN,
        None,
        (ev("claude-code", "trailer", "Assisted-by: Claude:claude-3-opus coccinelle"),),
    ),
    (
        "generated-by-unknown",
        "Fix\n\nGenerated-by: SomeModel 3\n",
        HUMAN,
        None,
        (ev(OTHER, "trailer", "Generated-by: SomeModel 3"),),
    ),
    (
        "ai-assisted-yes",
        "Fix\n\nAI-assisted: yes\n",
        HUMAN,
        None,
        (ev(OTHER, "trailer", "AI-assisted: yes"),),
    ),
    # --- medium: a trailer line outside the trailer block
    (
        "line-then-paragraph",
        f"Fix\n\n{CLAUDE}\n\nAnd then another paragraph that is not a trailer.\n",
        HUMAN,
        None,
        (ev("claude-code", "line", CLAUDE),),
    ),
    (
        "line-mid-body",
        "Fix\n\nWe paired on this:\nCo-authored-by: Cursor Agent <cursoragent@cursor.com>\n"
        "and it worked.\n",
        HUMAN,
        None,
        (ev("cursor", "line", "Co-authored-by: Cursor Agent <cursoragent@cursor.com>"),),
    ),
    (
        "line-crlf",
        "Fix\r\n\r\nMade-with: Cursor\r\nmore words here\r\n",
        HUMAN,
        None,
        (ev("cursor", "line", "Made-with: Cursor"),),
    ),
    # --- not evidence
    (
        "human-coauthor",
        "Fix\n\nCo-authored-by: Bob Smith <bob@example.org>\n",
        HUMAN,
        None,
        (),
    ),
    (
        "claude-monet",
        "Paint\n\nCo-authored-by: Claude Monet <monet@example.org>\n",
        HUMAN,
        None,
        (),
    ),
    (
        "devin-smith",
        "Fix\n\nAssisted-by: Devin Smith <devin@example.org>\n",
        HUMAN,
        None,
        (),
    ),
    ("ai-assisted-no", "Fix\n\nAI-assisted: no\n", HUMAN, None, ()),
    ("generated-by-none", "Fix\n\nGenerated-by: None.\n", HUMAN, None, ()),
    ("ai-assisted-false", "Fix\n\nAI-assisted: false (written by hand)\n", HUMAN, None, ()),
    ("made-with-vim", "Fix\n\nMade-with: Vim\n", HUMAN, None, ()),
    ("replit-deployment", "Publish\n\nReplit-Commit-Author: Deployment\n", HUMAN, None, ()),
    (
        "subject-is-a-trailer-line",  # the title is never part of the trailer block
        f"{CLAUDE}\n",
        HUMAN,
        None,
        (ev("claude-code", "line", CLAUDE),),
    ),
    (
        "prose-mention",
        "Docs: explain that we never use the Co-authored-by: Claude trailer\n\n"
        "The text Generated with Crush is not a footer when it is in a sentence.\n",
        HUMAN,
        None,
        (),
    ),
    (
        "dependabot",
        "Bump requests from 2.31.0 to 2.32.0\n\nSigned-off-by: dependabot[bot] "
        "<support@github.com>\n",
        ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
        None,
        (),
    ),
    (
        "renovate",
        "chore(deps): update dependency ruff to v0.6.0\n",
        ("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com"),
        None,
        (),
    ),
    (
        "pre-commit-ci",
        "[pre-commit.ci] auto fixes\n\nCo-authored-by: pre-commit-ci[bot] "
        "<66853113+pre-commit-ci[bot]@users.noreply.github.com>\n",
        HUMAN,
        None,
        (),
    ),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    repo = Repo(tmp_path_factory.mktemp("attr") / "repo")
    shas = {}
    for name, message, author, committer, _expected in CASES:
        shas[name] = repo.commit(message, author, committer)
    return repo, shas, repo.raw_commits()


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def test_cases_are_distinct():
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_detect_exact_evidence(built, registry, case):
    name, message, _author, _committer, expected = case
    _repo, shas, raws = built
    raw = raws[shas[name]]
    assert raw.message == message  # the reader gives back exactly what was committed
    assert detect(raw, registry) == expected


def test_every_shipped_agent_kind_is_exercised():
    kinds = {(e.agent, e.kind) for c in CASES for e in c[4]}
    for agent in (
        "claude-code", "copilot", "cursor", "codex", "aider", "amp", "opencode", "crush",
        "openhands", "devin", "jules", "factory-droid", "gemini-cli", OTHER,
    ):  # fmt: skip
        assert any(a == agent for a, _ in kinds), agent
    assert {k for _, k in kinds} == {"trailer", "identity", "line", "footer"}  # note: below


def test_evidence_is_deduplicated(built, registry):
    repo = Repo(built[0].path.parent / "dedup")
    sha = repo.commit(f"Fix\n\n{CLAUDE}\n{CLAUDE}\n", ("claude[bot]", "claude@example.org"))
    raw = repo.raw_commits()[sha]
    assert detect(raw, registry) == (
        ev("claude-code", "trailer", CLAUDE),
        ev("claude-code", "identity", "claude[bot] <claude@example.org>"),
    )


def test_text_is_bounded(registry):
    long = "Claude " + "x" * 400 + " <noreply@anthropic.com>"
    raw = RawCommit("0" * 40, (), *HUMAN, *HUMAN, *HUMAN, 0, 0, f"Fix\n\nCo-authored-by: {long}\n")
    (e,) = detect(raw, registry)
    assert e.agent == "claude-code" and len(e.text) == 300
    assert e.text == f"Co-authored-by: {long}"[:300]


# --------------------------------------------------------------------------- people


@pytest.mark.parametrize(
    ("author", "human"),
    [
        (HUMAN, True),
        (("Jane Doe (aider)", "jane@example.org"), True),  # the person driving aider
        (("claude[bot]", "209825114+claude[bot]@users.noreply.github.com"), False),
        (("Cursor Agent", "cursoragent@cursor.com"), False),
        (("Copilot", "198982749+Copilot@users.noreply.github.com"), False),
        (("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"), False),
        (("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com"), False),
        (("Renovate Bot", "bot@renovateapp.com"), False),
        (("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com"), False),
        (("some-new-thing[bot]", "1+some-new-thing[bot]@users.noreply.github.com"), False),
        (("Claude Monet", "monet@example.org"), True),
    ],
)
def test_author_is_human(registry, author, human):
    raw = RawCommit("0" * 40, (), *author, *author, *HUMAN, 0, 0, "x\n")
    assert author_is_human(raw, registry) is human


def test_mailmap_identity(tmp_path, registry):
    """An agent hidden behind a corporate address is found through .mailmap, and a person's
    old address mapped by .mailmap stays a person."""
    repo = Repo(tmp_path / "repo")
    (repo.path / ".mailmap").write_text(
        "claude[bot] <209825114+claude[bot]@users.noreply.github.com> <claude@corp.example>\n"
        "Jane Doe <jane@example.org> <jdoe@old.example>\n"
    )
    repo.git("add", ".mailmap")
    bot = repo.commit("Fix\n", ("Claude", "claude@corp.example"))
    person = repo.commit("Fix\n", ("J. Doe", "jdoe@old.example"))
    raws = repo.raw_commits()
    assert raws[bot].mailmap_name == "claude[bot]"
    assert detect(raws[bot], registry) == (
        ev(
            "claude-code",
            "identity",
            "claude[bot] <209825114+claude[bot]@users.noreply.github.com>",
        ),
    )
    assert author_is_human(raws[bot], registry) is False
    assert detect(raws[person], registry) == ()
    assert author_is_human(raws[person], registry) is True


# --------------------------------------------------------------------------- reverts


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ('Revert "x"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.\n',
         ("0123456789abcdef0123456789abcdef01234567",)),
        ("Revert\n\nThis reverts commit ABCDEF1\n", ("abcdef1",)),
        ("Squash\n\n* Revert a\n\n  This reverts commit 1111111.\n\n"
         "* Revert b\n\n  This reverts commit 2222222222.\n\nThis reverts commit 1111111.\n",
         ("1111111", "2222222222")),
        ("This reverts commit 123456.\n", ()),  # 6 digits: too short
        ("This reverts commit 0123456789abcdef0123456789abcdef012345678\n", ()),  # 41
        ("This reverts commit 1234567g\n", ()),
        ("Revert a merge\n\nThis reverts commit 89abcdef, reversing\nchanges made to 1234567.\n",
         ("89abcdef",)),
        ("Nothing to see\n", ()),
    ],
)  # fmt: skip
def test_reverted_shas(message, expected):
    assert reverted_shas(message) == expected


def test_reverted_shas_of_git_revert(tmp_path):
    repo = Repo(tmp_path / "repo")
    first = repo.commit("Add\n")
    repo.commit("More\n")
    repo.git("revert", "--no-edit", first)
    head = repo.git("log", "-1", "--format=%B")
    assert reverted_shas(head) == (first,)


# --------------------------------------------------------------------------- notes


def _note(attestations: str, meta: dict) -> str:
    import json

    return f"{attestations}---\n{json.dumps(meta, indent=2)}\n"


CURSOR_SESSION_NOTE = _note(
    "src/main.rs\n  s_c9883b05a2487d::t_9f8e7d6c5b4a32 1-10\n  h_a1b2c3d4e5f678 11-14\n",
    {
        "schema_version": "authorship/3.0.0",
        "base_commit_sha": "7734793b756b3921c88db5375a8c156e9532447b",
        "prompts": {},
        "humans": {"h_a1b2c3d4e5f678": {"author": "Jane Doe <jane@example.org>"}},
        "sessions": {
            "s_c9883b05a2487d": {
                "agent_id": {"tool": "cursor", "id": "session_123", "model": "gpt-4"},
                "human_author": "jane@example.org",
            }
        },
    },
)
CLAUDE_PROMPT_NOTE = _note(
    '"src/my file.rs"\n  d9978a8723e02b52 1-4,9-10,12\nsrc/lib.rs\n  0123456789abcdef 3\n',
    {
        "schema_version": "authorship/3.0.0",
        "base_commit_sha": "x",
        "prompts": {
            "d9978a8723e02b52": {
                "agent_id": {"tool": "claude", "id": "c1", "model": "claude-opus-4-5"},
                "messages": [],
            },
            "0123456789abcdef": {"agent_id": {"tool": "zedbot", "id": "z", "model": "m"}},
        },
    },
)
HUMAN_ONLY_NOTE = _note(
    "src/a.py\n  h_a1b2c3d4e5f678 1-5\n",
    {"schema_version": "authorship/3.0.0", "humans": {"h_a1b2c3d4e5f678": {}}, "prompts": {}},
)


def test_notes_end_to_end(tmp_path, registry):
    repo = Repo(tmp_path / "repo")
    a = repo.commit("Cursor work\n")
    b = repo.commit("Claude work\n")
    c = repo.commit("Human work\n")
    d = repo.commit("Broken note\n")
    e = repo.commit("No note\n")
    for sha, text in (
        (a, CURSOR_SESSION_NOTE),
        (b, CLAUDE_PROMPT_NOTE),
        (c, HUMAN_ONLY_NOTE),
        (d, "src/x\n  0123456789abcdef 1-2\n---\n{not json\n"),
    ):
        repo.git("notes", "--ref=ai", "add", "-m", text, sha)
    notes = read_ai_notes(repo.path / ".git")
    assert set(notes) == {a, b, c, d}
    assert notes[a].rstrip("\n") == CURSOR_SESSION_NOTE.rstrip("\n")
    raws = repo.raw_commits()
    assert detect(raws[a], registry, notes.get(a)) == (
        ev("cursor", "note", "git-ai note: cursor (gpt-4)"),
    )
    assert detect(raws[b], registry, notes.get(b)) == (
        ev("claude-code", "note", "git-ai note: claude (claude-opus-4-5)"),
        ev(OTHER, "note", "git-ai note: zedbot (m)"),
    )
    assert detect(raws[c], registry, notes.get(c)) == ()
    assert detect(raws[d], registry, notes.get(d)) == ()
    assert detect(raws[e], registry, notes.get(e)) == ()
    # Another ref name, and a repository without notes: empty, no error.
    assert read_ai_notes(repo.path / ".git", "refs/notes/other") == {}


@pytest.mark.parametrize(
    "note",
    [
        "",
        "---",
        "just text\n",
        "src/a\n  abc 1-2\n---\n[1, 2]\n",  # metadata is not an object
        'src/a\n  abc 1-2\n---\n{"prompts": []}\n',
        'src/a\n  abc 1-2\n---\n{"prompts": {"abc": {"agent_id": "cursor"}}}\n',
        'src/a\n  abc 1-2\n---\n{"prompts": {"abc": {"agent_id": {"tool": 3}}}}\n',
        'src/a\n  abc x-y\n---\n{"prompts": {"abc": {"agent_id": {"tool": "cursor"}}}}\n',
        '  abc 1-2\n---\n{"prompts": {"abc": {"agent_id": {"tool": "cursor"}}}}\n',
        "src/a\n  abc 1-2\n---\n" + "[" * 100_000 + "\n",
        'src/a\n  abc 1-2\n---\n{"prompts": {"abc": {"agent_id": {"tool": "human"}}}}\n',
    ],
)
def test_malformed_notes_are_not_evidence(registry, note):
    assert note_evidence(note, registry) == ()


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_notes_never_crash(note):
    note_evidence(note, load_registry())
    note_evidence("f\n  abc 1\n---\n" + note, load_registry())


def test_read_ai_notes_without_ref_is_empty(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit("x\n")
    assert read_ai_notes(repo.path / ".git") == {}


# --------------------------------------------------------------------------- registry


def test_shipped_registry_loads_with_unique_ids(registry):
    ids = [a.id for a in registry.agents]
    assert len(ids) == len(set(ids)) >= 25
    assert OTHER not in ids
    for required in (
        "claude-code", "copilot", "cursor", "codex", "aider", "amp", "opencode", "crush",
        "openhands", "devin", "jules", "factory-droid", "gemini-cli",
    ):  # fmt: skip
        assert required in registry
    # Every entry round-trips through its data form.
    for a in registry.agents:
        assert agent_from_mapping(a.to_data()) == a


EXTRA_AGENTS = [
    {
        "id": "acme-bot",
        "name": "ACME Coder",
        "aliases": ["acme"],
        "names": ["acme-coder*"],
        "driven_names": ["* (acme)"],
        "values": [r"acme\s+coder"],
        "keys": ["Acme-Run", {"key": "Acme-Model", "value": "^acme-"}],
        "footers": ["Built by ACME"],
        "subjects": ["acme: "],
    },
    {"id": "cursor", "name": "Cursor (ours)", "emails": ["cursor@corp.example"]},
]


def _raw(message: str, author=HUMAN, committer=HUMAN) -> RawCommit:
    return RawCommit("0" * 40, (), *author, *author, *committer, 0, 0, message)


@pytest.mark.parametrize("extra", [[], EXTRA_AGENTS], ids=["shipped", "with-config"])
def test_registry_from_data_detects_the_same(built, extra):
    reg = load_registry(extra)
    data = reg.to_data()
    again = Registry.from_data(data)
    assert again.to_data() == data
    assert again.agents == reg.agents and again.bots == reg.bots
    raws = [
        *built[2].values(),  # every case above, as git reads it back
        _raw("Fix\n\nAcme-Run: 42\nAcme-Model: acme-7\n"),
        _raw("Fix\n\nCo-authored-by: ACME  Coder <x@y.z>\n"),
        _raw("acme: fix\n\nBuilt by ACME for you\n"),
        _raw("Fix", ("acme-coder-7", "a@b.c")),
        _raw("Fix", ("Jane (acme)", "jane@example.org")),
        _raw("Fix", ("Cursor Agent", "cursor@corp.example")),
        _raw("Fix", ("renovate[bot]", "bot@example.org")),
    ]
    found = 0
    for raw in raws:
        assert detect(raw, again) == detect(raw, reg), raw.message
        assert author_is_human(raw, again) == author_is_human(raw, reg), raw.author_name
        found += bool(detect(raw, reg))
    assert found >= len(built[2]) // 2
    for text in ("Claude Code (opus 4)", "crush", "ACME", "acme/1.0", "unknown tool"):
        assert again.lookup_name(text) == reg.lookup_name(text)


def test_registry_from_data_rejects_what_is_not_registry_data():
    data = load_registry().to_data()
    with pytest.raises(ValueError, match="schema_version"):
        Registry.from_data({**data, "schema_version": 2})
    with pytest.raises(ValueError, match="'acme'"):
        Registry.from_data({**data, "agents": [{"id": "acme", "values": ["(unclosed"]}]})
    with pytest.raises(ValueError, match="bots"):
        Registry.from_data({**data, "bots": {"nicknames": ["x"]}})


def test_registry_source_digest(monkeypatch):
    base = registry_source_digest([])
    assert base == registry_source_digest() and len(base) == 64
    one = [{"id": "acme", "keys": ["Acme-Run"]}]
    assert registry_source_digest(one) != base
    assert registry_source_digest([{"keys": ["Acme-Run"], "id": "acme"}]) == (
        registry_source_digest(one)
    )  # the order of keys in a mapping is not content
    assert registry_source_digest([{"id": "acme", "keys": ["Acme-Run2"]}]) != (
        registry_source_digest(one)
    )
    assert registry_source_digest([*one, {"id": "b"}]) != registry_source_digest(one)
    assert registry_source_digest([{"id": "b"}, *one]) != registry_source_digest(
        [*one, {"id": "b"}]
    )
    assert registry_source_digest([{"id": "a", "name": 1}]) != (
        registry_source_digest([{"id": "a", "name": "1"}])
    )
    # The packaged agents.yml is part of it.
    shipped = registry_module._shipped_bytes()
    monkeypatch.setattr(registry_module, "_SHIPPED_BYTES", shipped + b"\n# changed\n")
    assert registry_source_digest([]) != base


def test_registry_digest_and_from_data_need_no_yaml(tmp_path):
    """A warm scan rebuilds the registry from cached data: no yaml, no agents.yml parse."""
    data = load_registry(EXTRA_AGENTS).to_data()
    (tmp_path / "data.json").write_text(json.dumps(data))
    code = (
        "import json, sys\n"
        "from scorer.attribution.registry import Registry, registry_source_digest\n"
        f"data = json.load(open({str(tmp_path / 'data.json')!r}))\n"
        "reg = Registry.from_data(data)\n"
        "assert reg.to_data() == data\n"
        f"digest = registry_source_digest({EXTRA_AGENTS!r})\n"
        f"assert digest == {registry_source_digest(EXTRA_AGENTS)!r}\n"
        "assert 'yaml' not in sys.modules\n"
    )
    # -S: no site-packages, so importing yaml would fail outright.
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-S", "-c", code], cwd=root, check=True)


def test_shipped_yaml_parses_and_has_no_unknown_keys():
    path = Path(__file__).resolve().parents[2] / "scorer" / "attribution" / "agents.yml"
    data = yaml.safe_load(path.read_text("utf-8"))
    assert data["schema_version"] == 1
    assert set(data) == {"schema_version", "agents", "bots"}
    for entry in data["agents"]:
        agent_from_mapping(entry)


def test_extra_entry_overrides_an_agent():
    reg = load_registry([{"id": "claude-code", "name": "Claude (corp)", "emails": ["ai@corp.ex"]}])
    assert [a.id for a in reg.agents].count("claude-code") == 1
    assert reg.get("claude-code").name == "Claude (corp)"
    assert reg.get("claude-code").source == "config"
    old = RawCommit("0" * 40, (), *HUMAN, *HUMAN, *HUMAN, 0, 0, f"Fix\n\n{CLAUDE}\n")
    assert detect(old, reg) == ()  # the override replaced the shipped patterns
    new = RawCommit(
        "0" * 40, (), *HUMAN, *HUMAN, *HUMAN, 0, 0, "Fix\n\nCo-authored-by: A <ai@corp.ex>\n"
    )
    assert detect(new, reg) == (ev("claude-code", "trailer", "Co-authored-by: A <ai@corp.ex>"),)


def test_extra_entry_adds_an_in_house_agent(tmp_path):
    reg = load_registry(
        [
            {
                "id": "acme-bot",
                "name": "ACME Coder",
                "aliases": ["acme"],
                "names": ["acme-coder[bot]"],
                "keys": ["Acme-Run"],
                "footers": ["Written by ACME Coder"],
                "values": [r"^acme coder v\d+"],
            }
        ]
    )
    assert reg.get("acme-bot").source == "config"
    assert reg.get("claude-code") is not None  # shipped agents stay
    repo = Repo(tmp_path / "repo")
    sha = repo.commit(
        "Fix\n\n> Written by ACME Coder v2\n\nAcme-Run: 42\nAssisted-by: acme:big-model\n"
        "Generated-by: ACME Coder v3\n",
        ("acme-coder[bot]", "acme@corp.example"),
    )
    assert detect(repo.raw_commits()[sha], reg) == (
        ev("acme-bot", "trailer", "Acme-Run: 42"),
        ev("acme-bot", "trailer", "Assisted-by: acme:big-model"),
        ev("acme-bot", "trailer", "Generated-by: ACME Coder v3"),
        ev("acme-bot", "identity", "acme-coder[bot] <acme@corp.example>"),
        ev("acme-bot", "footer", "> Written by ACME Coder v2"),
    )
    assert author_is_human(repo.raw_commits()[sha], reg) is False


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"id": "x", "values": ["(unclosed"]}, "values"),
        ({"id": "x", "colour": "blue"}, "colour"),
        ({"name": "No id"}, "id"),
        ({"id": "Not A Slug"}, "id"),
        ({"id": "other"}, "id"),
        ({"id": "x", "names": "*"}, "names"),
        ({"id": "x", "emails": [3]}, "emails"),
        ({"id": "x", "keys": ["Bad Key"]}, "keys"),
        ({"id": "x", "keys": [{"key": "K", "value": "[z-a]"}]}, "keys"),
        ({"id": "x", "keys": [{"key": "K", "colour": "x"}]}, "keys"),
        ({"id": "x", "footers": ["two\nlines"]}, "footers"),
        ({"id": "x", "aliases": {"a": 1}}, "aliases"),
        ({"id": "x", "name": ""}, "name"),
    ],
)
def test_invalid_entries_name_the_key(entry, key):
    with pytest.raises(ValueError) as err:
        agent_from_mapping(entry)
    assert str(err.value).startswith(f"{key}: ")
    with pytest.raises(ValueError):
        load_registry([entry])


def test_extra_ids_must_be_unique():
    with pytest.raises(ValueError, match=r"^id: "):
        load_registry([{"id": "acme"}, {"id": "acme"}])


# --------------------------------------------------------------------------- speed


ORDINARY = [
    "Fix typo in README\n",
    "net: fix use-after-free in foo_bar()\n\nThe buffer was freed while still in use.\n"
    'Fixes: 0123456789ab ("net: add foo")\nReported-by: Bob <bob@example.org>\n'
    "Signed-off-by: Jane Doe <jane@example.org>\n",
    "Merge pull request #123 from user/branch\n\nGenerated code update\n",
    "feat: add generated client (#45)\n\n* regenerate with openapi-generator\n\n"
    "* made with love by the claude team; cursor moves; aider2: no\n",
]


@pytest.mark.parametrize("message", ORDINARY)
def test_ordinary_messages_cost_one_search(registry, message):
    """The prefilter rejects ordinary messages, so nothing else looks at them."""
    assert registry._prefilter.search("\n" + message.lower()) is None
    raw = RawCommit("0" * 40, (), *HUMAN, *HUMAN, *HUMAN, 0, 0, message)
    assert detect(raw, registry) == ()


FRAGMENTS = st.sampled_from(
    [
        "Co-authored-by: Claude <noreply@anthropic.com>",
        "co-AUTHORED-by :Codex <codex@openai.com>",
        "Assisted-by: Crush:glm", "AI-assisted: yes", "Made-with: Cursor", "Generated-by: x",
        "Claude-Session: 1", "Amp-Thread-ID: T", "🤖 Generated with [Claude Code](u)",
        "GENERATED WITH CRUSH", "* generated with opencode", "aider: x", "Signed-off-by: A <a@b>",
        "", " ", "plain words", "\tindented: x", "Generated with", "İstanbul", "K", "\r",
    ]
)  # fmt: skip


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
@given(st.lists(FRAGMENTS, max_size=8))
@settings(max_examples=400, deadline=None)
def test_prefilter_never_misses_evidence(lines):
    """Whatever the message, the one-search prefilter passes every message that has
    trailer, line or footer evidence (it may pass more)."""
    reg = load_registry()
    for sep in ("\n", "\r\n"):
        msg = sep.join(lines)
        found: list[tuple] = []
        _message_evidence(msg, reg, lambda *a, found=found: found.append(a))
        if found:
            assert reg._prefilter.search("\n" + msg.lower()) is not None, msg


# --------------------------------------------------------------------------- scorer agents


def test_agents_command_table(capsys):
    assert main(["agents"]) == 0
    out = capsys.readouterr().out
    assert "claude-code" in out and "Claude Code" in out and "identity" in out
    assert "other" in out


def test_agents_command_yaml_round_trips(capsys):
    assert main(["agents", "--format", "yaml"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    reg = load_registry()
    assert [a["id"] for a in data["agents"]] == [a.id for a in reg.agents]
    assert load_registry(data["agents"]).agents == reg.agents
    assert "dependabot" in data["bots"]["names"]


def test_agents_command_with_config(tmp_path, capsys):
    cfg = tmp_path / ".normalized-deployments.yml"
    cfg.write_text(
        "agents:\n  - id: acme-bot\n    name: ACME Coder\n    keys: [Acme-Run]\n"
        "  - id: cursor\n    name: Cursor (ours)\n    emails: [cursor@corp.example]\n"
    )
    assert main(["agents", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "acme-bot" in out and "Cursor (ours)" in out and "config" in out
    assert main(["agents", "--config", str(cfg), "--format", "yaml"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    cursor = next(a for a in data["agents"] if a["id"] == "cursor")
    assert cursor == {"id": "cursor", "name": "Cursor (ours)", "emails": ["cursor@corp.example"]}


def test_agents_command_bad_config(tmp_path, capsys):
    cfg = tmp_path / "bad.yml"
    cfg.write_text("agents:\n  - id: acme\n    values: ['(unclosed']\n")
    assert main(["agents", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "bad.yml:2" in err and "values" in err
