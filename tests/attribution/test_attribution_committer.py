"""METRIC.md v2 section 2: a committer is not an author.

The author's identity is evidence; a committer alone is evidence only for registry entries with
``committer: true``. aider commits the user's own pending edits with ``Name (aider)`` as
committer and the person as author: those commits are not AI-assisted. Every commit is built
with git and read back with scorer's own git log reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitbuild import GitRepo

from scorer.attribution.detect import author_is_human, detect
from scorer.attribution.registry import (
    Registry,
    agent_from_mapping,
    load_registry,
    registry_source_digest,
)
from scorer.cli import main
from scorer.git.log import iter_raw_commits, open_repo, resolve_ref
from scorer.model import Evidence, RawCommit

JANE = ("Jane Doe", "jane@example.org")
JANE_AIDER = ("Jane Doe (aider)", "jane@example.org")
CURSOR = ("Cursor Agent", "cursoragent@cursor.com")
CLINE = ("Cline Agent", "cline-agent@users.noreply.github.com")
WEB_FLOW = ("GitHub", "noreply@github.com")
COPILOT_SWE = ("copilot-swe-agent[bot]", "198982749+Copilot@users.noreply.github.com")
ACME = ("ACME Coder", "coder@acme.example")
WHEN = "2026-03-02T10:00:00+0000"


def _commits(repo: GitRepo) -> dict[str, RawCommit]:
    opened = open_repo(repo.path)
    return {c.sha: c for c in iter_raw_commits(opened, resolve_ref(opened, "HEAD"))}


def _identity(agent: str, who: tuple[str, str]) -> Evidence:
    return Evidence(agent, "identity", f"{who[0]} <{who[1]}>", "high")


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


# (name, author, committer, expected evidence, author is a human contributor)
CASES = [
    # aider's own edits: "(aider)" on the author (and the committer).
    ("aider-edit", JANE_AIDER, JANE_AIDER, (_identity("aider", JANE_AIDER),), True),
    # aider committing the user's pending edits before its own: the person is the author.
    ("aider-dirty-commit", JANE, JANE_AIDER, (), True),
    # An agent that rebases or amends a person's commit becomes only its committer.
    ("cursor-rebased", JANE, CURSOR, (), True),
    ("cline-rebased", JANE, CLINE, (), True),
    # An agent's own commit, whoever commits it (a person rebasing, GitHub's web-flow).
    ("cursor-authored", CURSOR, JANE, (_identity("cursor", CURSOR),), False),
    ("cline-authored", CLINE, CLINE, (_identity("cline", CLINE),), False),
    ("copilot-via-web-flow", COPILOT_SWE, WEB_FLOW, (_identity("copilot", COPILOT_SWE),), False),
    # GitHub's web-flow committer is a bot, not an agent.
    ("web-edit", JANE, WEB_FLOW, (), True),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, RawCommit]]:
    repo = GitRepo(tmp_path_factory.mktemp("committer") / "repo")
    shas = {}
    for name, author, committer, _expected, _human in CASES:
        shas[name] = repo.commit(f"{name}: change\n", when=WHEN, author=author, committer=committer)
    return shas, _commits(repo)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_only_the_author_is_evidence(built, registry, case):
    name, author, committer, expected, human = case
    shas, raws = built
    raw = raws[shas[name]]
    assert (raw.author_name, raw.committer_name) == (author[0], committer[0])
    assert detect(raw, registry) == expected
    assert author_is_human(raw, registry) is human


def test_no_shipped_agent_counts_as_committer(registry):
    """The documented choice (agents.yml, `committer:`): every shipped agent authors what it
    writes, so none counts as committer alone."""
    assert registry.committer_ids == frozenset()
    assert all(a.committer is False for a in registry.agents)


IN_HOUSE = {"id": "acme-coder", "name": "ACME Coder", "emails": ["coder@acme.example"]}


def test_committer_true_makes_the_committer_evidence(tmp_path):
    """An in-house agent that commits as itself with the requesting person as author."""
    repo = GitRepo(tmp_path / "repo")
    sha = repo.commit("Fix the parser\n", when=WHEN, author=JANE, committer=ACME)
    raw = _commits(repo)[sha]
    plain = load_registry([IN_HOUSE])
    committing = load_registry([{**IN_HOUSE, "committer": True}])
    assert detect(raw, plain) == ()
    assert committing.committer_ids == frozenset({"acme-coder"})
    assert detect(raw, committing) == (_identity("acme-coder", ACME),)
    # The person stays the contributor either way.
    assert author_is_human(raw, committing) is True
    # Only that agent: aider as committer is still nothing under the same registry.
    other = repo.commit("More\n", when=WHEN, author=JANE, committer=JANE_AIDER)
    assert detect(_commits(repo)[other], committing) == ()


def test_committer_field_is_data(tmp_path):
    entry = {**IN_HOUSE, "committer": True}
    agent = agent_from_mapping(entry)
    assert agent.committer is True
    assert agent.to_data() == {
        "id": "acme-coder",
        "name": "ACME Coder",
        "committer": True,
        "emails": ["coder@acme.example"],
    }
    assert agent_from_mapping(IN_HOUSE).to_data().get("committer") is None  # default omitted
    reg = load_registry([entry])
    again = Registry.from_data(reg.to_data())
    assert again.committer_ids == frozenset({"acme-coder"})
    # The cache key changes with it, so cached verdicts never outlive the setting.
    assert registry_source_digest([entry]) != registry_source_digest([IN_HOUSE])


@pytest.mark.parametrize("value", ["yes", 1, None, [True]])
def test_committer_must_be_a_boolean(value):
    with pytest.raises(ValueError, match=r"^committer: must be true or false"):
        agent_from_mapping({**IN_HOUSE, "committer": value})


def test_scan_counts_aider_edits_not_its_dirty_commits(tmp_path: Path, capsys):
    """End to end: of aider's two commits, only its own edit is an AI change."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit("Initial\n", when="2026-03-01T09:00:00+0000", author=JANE)
    repo.commit("wip: my own edits\n", when="2026-03-02T09:00:00+0000", author=JANE,
                committer=JANE_AIDER)  # fmt: skip
    aider = repo.commit("feat: add --verbose\n", when="2026-03-02T09:01:00+0000",
                        author=JANE_AIDER)  # fmt: skip
    repo.tag("v1.0.0", when="2026-03-02T12:00:00+0000")
    out = tmp_path / "report.json"
    code = main(["scan", str(repo.path), "--now", "2026-03-20T00:00:00Z", "--json", str(out),
                 "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    report = json.loads(out.read_text())
    assert report["history"]["ai_changes"] == 1
    assert [c["sha"] for c in report["ai_changes"]] == [aider]
