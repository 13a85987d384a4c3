"""``scorer ci`` on a pull request of hostile commits: the PR comment, the job summary, the
step outputs and the workflow commands on stdout and stderr stay inert, and the token is in
nothing scorer writes. Raw error text on stderr (workflow commands, terminal escapes) was once
a way in; its test stays as a regression.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from gh_fake import FakeGitHub, bot_user, example, user
from gitbuild import GitRepo
from pytest_httpserver import HTTPServer
from scenario import ANN, BOB
from untrusted import (
    ESC,
    HOSTILE,
    HOSTILE_TRAILER,
    NOW,
    TOKEN,
    ai,
    assert_inert_markdown,
    clean_env,
    command_lines,
    day,
)

from scorer.cli import main
from scorer.github.comment import MARKER
from scorer.util.times import iso


class PrWorld:
    """main: two AI changes deployed (deploy log); a PR branch of hostile commits merged into a
    merge commit (as refs/pull/N/merge); a hostile PR title and branch name."""

    def __init__(self, tmp: Path, fake: FakeGitHub) -> None:
        self.tmp, self.fake = tmp, fake
        r = self.repo = GitRepo(tmp / "repo")
        c1 = r.commit("Initial commit", when=day(0), author=ANN)
        c2 = r.commit(ai("Add the parser"), when=day(1), author=ANN)
        self.base = c2
        rows = [
            {"id": "d1", "sha": c1, "time": iso(day(0.5))},
            {"id": "d2", "sha": c2, "time": iso(day(1.5))},
            # a deploy of a commit not in the history: its id is shown in a signal
            {"id": f"{HOSTILE} {ESC}[2J", "sha": "ab" * 20, "time": iso(day(2))},
        ]
        self.log = tmp / "deploys.jsonl"
        self.log.write_text("".join(json.dumps(x) + "\n" for x in rows))
        r.branch("feature")
        r.checkout("feature")
        r.commit(ai(HOSTILE), when=day(10), author=("@octocat <img src=x>", "evil@example.com"))
        r.commit(ai("Second", HOSTILE_TRAILER), when=day(10.5), author=BOB)
        head = r.head()
        r.checkout("main")
        self.merge = r.merge("feature", when=day(11), message="Merge pull request #7")
        pr = example("pulls/get")
        pr.update(number=7, title=HOSTILE)
        pr["base"].update(sha=self.base, ref="main")
        pr["head"].update(sha=head, ref="feature/<b>x</b>@octocat|`[l](javascript:x)")
        self.event = tmp / "event.json"
        self.event.write_text(json.dumps({"action": "opened", "number": 7, "pull_request": pr}))
        self.output = tmp / "github_output"
        self.summary = tmp / "step_summary.md"
        self.output.touch()
        self.summary.touch()

    def env(self) -> dict[str, str]:
        return {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(self.event),
            "GITHUB_REPOSITORY": self.fake.repo,
            "GITHUB_SHA": self.merge,
            "GITHUB_WORKSPACE": str(self.repo.path),
            "GITHUB_API_URL": self.fake.base_url,
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "RUNNER_TEMP": str(self.tmp),
        }


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeGitHub:
    return FakeGitHub(token=TOKEN).install(httpserver)


@pytest.fixture
def pr_world(tmp_path: Path, fake: FakeGitHub) -> PrWorld:
    return PrWorld(tmp_path, fake)


def test_pr_comment_summary_outputs_and_stdout_stay_inert(pr_world, fake, monkeypatch, capsys):
    # comments that look like ours but are not: a user and another bot, both with the marker
    fake.add_comment(7, f"{MARKER} forged by a user", user("github-actions-bot"))
    fake.add_comment(7, f"{MARKER} forged by another bot", user("evil-app[bot]", "Bot", 9))
    clean_env(monkeypatch, pr_world.env())
    assert main(["ci", "--now", iso(NOW), "--deploys", f"log:{pr_world.log}"]) == 0
    out = capsys.readouterr()

    # the forgeries are untouched and exactly one new comment is ours
    bodies = [c["body"] for c in fake.comments[7]]
    assert bodies[:2] == [f"{MARKER} forged by a user", f"{MARKER} forged by another bot"]
    assert len(fake.calls("PATCH", r"/issues/comments/")) == 0
    ours = [c for c in fake.comments[7] if c["user"]["login"] == bot_user()["login"]]
    assert len(ours) == 1
    body = ours[0]["body"]
    assert body.startswith(MARKER + "\n") and body.count(MARKER) == 1
    html = assert_inert_markdown(body, marker_allowed=True)
    assert "<code>" in html  # the evidence text is shown, as code
    assert "feature/&lt;b&gt;x&lt;/b&gt;@octocat¦`[l](javascript:x)" in html  # as code

    # the job summary (the report as Markdown, with the hostile deploy id in a signal)
    summary = pr_world.summary.read_text()
    assert "deploys-not-in-history" in summary
    assert_inert_markdown(summary)

    # stdout/stderr: no workflow command but scorer's own, no terminal escapes, no token
    assert command_lines(out.out + out.err) == []
    assert ESC not in out.out + out.err
    assert "pwned" not in out.out + out.err and "from-the-body" not in out.out + out.err

    # step outputs: exactly the five documented names
    names = re.findall(
        r"^([A-Za-z0-9_-]+)<<(ghadelimiter_[0-9a-f]{32})$", pr_world.output.read_text(), re.M
    )
    assert sorted(n for n, _ in names) == [
        "ai-deploys-survived",
        "contributors",
        "deploys-survived",
        "normalized-deployments",
        "report-path",
    ]
    # the token is in nothing scorer wrote
    written = [pr_world.output, pr_world.summary, pr_world.tmp / "normalized-deployments.json"]
    for f in written:
        assert TOKEN not in f.read_text()
    assert TOKEN not in body + out.out + out.err


def test_report_path_with_newlines_cannot_inject_a_step_output(pr_world, fake, monkeypatch):
    env = pr_world.env()
    env["GITHUB_EVENT_NAME"] = "push"
    clean_env(monkeypatch, env)
    odd = pr_world.tmp / "x\nreport-path=/etc/passwd\nghadelimiter_0\nevil<<EOF"
    odd.mkdir(parents=True)
    target = odd / "r.json"
    args = ["ci", "--now", iso(NOW), "--deploys", f"log:{pr_world.log}"]
    assert main([*args, "--report-path", str(target)]) == 0
    text = pr_world.output.read_text()
    blocks = re.findall(r"^([A-Za-z0-9_-]+)<<(\S+)\n(.*?)\n\2$", text, re.M | re.S)
    values = {name: value for name, _, value in blocks}
    assert set(values) == {
        "normalized-deployments",
        "ai-deploys-survived",
        "deploys-survived",
        "contributors",
        "report-path",
    }
    assert values["report-path"] == str(target)
    assert json.loads(target.read_text())["schema_version"] == 1


def test_error_text_from_the_repository_config_cannot_inject_commands(
    pr_world, fake, monkeypatch, capsys
):
    r = pr_world.repo
    r.checkout("feature")
    # YAML double-quoted escapes: \n is a newline, \e is ESC, \a is BEL
    config = (
        'deploys:\n  - "log:deploys\\n::warning::pwned\\n::stop-commands::tok'
        '\\e]0;owned\\a.jsonl"\n'
    )
    r.commit("Config", when=day(11.2), files={".normalized-deployments.yml": config})
    r.checkout("main")
    r.merge("feature", when=day(11.3))
    env = pr_world.env()
    env["GITHUB_SHA"] = r.head()
    clean_env(monkeypatch, env)
    assert main(["ci", "--now", iso(NOW)]) == 2
    out = capsys.readouterr()
    assert "deploy log not found" in out.err
    # the annotation on stdout is escaped; nothing else may look like a command
    assert [c for c in command_lines(out.out + out.err) if not c.startswith("::error ")] == []
    assert ESC not in out.err and "\x07" not in out.err
