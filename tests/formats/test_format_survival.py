"""Code survival (METRIC.md section 10) as people read it: one sentence, the same in the text
report, the Markdown summary and the PR comment, with the cohort's dates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jsonschema
from gitbuild import GitRepo
from scenario import BOB, Scenario, ai_msg

from scorer.formats import markdown, text
from scorer.formats.json import schema
from scorer.github.comment import _score_section

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
SENTENCE = (
    "AI code still in production after 30 days: 75% (3 of 4 lines) vs human 50% (1 of 2 lines)"
)


def ago(d: float) -> datetime:
    return NOW - timedelta(days=d)


def _report(tmp_path) -> dict:
    repo = GitRepo(tmp_path / "repo")
    sc = Scenario(repo, tmp_path)
    sc.deploy(repo.commit("base", when=ago(80), files={"README": "x\n"}), ago(79))
    repo.commit(ai_msg("A"), when=ago(50), files={"a.py": "a1\na2\na3\na4\n"})
    h = repo.commit("H", when=ago(49), author=BOB, files={"h.py": "h1\nh2\n"})
    sc.deploy(h, ago(48))
    last = repo.commit("L", when=ago(5), author=BOB, files={"a.py": "a1\na2\na3\n", "h.py": "h1\n"})
    sc.deploy(last, ago(4))
    return sc.scan(NOW, horizon=timedelta(days=30))


def test_text_markdown_and_comment_say_the_same(tmp_path):
    report = _report(tmp_path)
    jsonschema.validate(report, schema(), cls=jsonschema.Draft202012Validator)
    cohort = (
        "changes first deployed 2026-04-04 → 2026-05-02, read at deploy "
        + report["code_survival"]["deploy_sha"][:12]
        + "; of the AI lines gone, 0% were replaced within 30 days of their first deploy"
    )
    plain = text.render(report)
    assert f"\n{SENTENCE}\n  {cohort}\n" in plain
    md = markdown.render(report)
    assert f"\n{SENTENCE}\n\n<sub>{cohort}</sub>\n" in md
    comment = "\n".join(_score_section(report))
    assert f"\n{SENTENCE} — {cohort}.\n" in comment


def test_no_figure_says_why(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    sc = Scenario(repo, tmp_path)
    sc.deploy(repo.commit("base", when=ago(3), files={"README": "x\n"}), ago(2))
    report = sc.scan(NOW, horizon=timedelta(days=30))
    jsonschema.validate(report, schema(), cls=jsonschema.Draft202012Validator)
    why = (
        "Code still in production after 30 days: — (no substantive change first deployed "
        "(survived) between 2026-04-04T12:00:00Z and 2026-05-02T12:00:00Z)"
    )
    assert f"\n{why}\n" in text.render(report)
    assert f"\n{why}\n" in markdown.render(report)


def test_comment_rebuilds_the_block_from_plain_numbers():
    block = {
        "horizon_days": 30,
        "cohort": {"since": "2026-04-04T12:00:00Z", "until": "2026-05-02T12:00:00Z"},
        "deploy_sha": "<img src=x onerror=alert(1)>",
        "ai": {"surviving_lines": "3", "added_lines": 4, "rate": 0.75},
        "human": {"surviving_lines": 1, "added_lines": 2, "rate": 0.5},
        "rework_share": None,
        "reason": None,
    }
    report = {
        "metric": {"ai_deploys_survived": 0, "deploys_survived": 0, "developer_weeks": 0,
                   "normalized_deployments": 0, "deploys_survived_per_dev_week": 0,
                   "contributors": 0},
        "period": {"since": "2026-05-01", "until": "2026-05-29"},
        "code_survival": block,
    }  # fmt: skip
    out = "\n".join(_score_section(report))
    assert f"{SENTENCE} — changes first deployed 2026-04-04 → 2026-05-02." in out
    assert "<img" not in out and "onerror" not in out
    block["ai"] = "not an object"
    assert SENTENCE not in "\n".join(_score_section(report))
