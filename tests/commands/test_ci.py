"""``scorer ci`` end to end against a local fake GitHub, on a real git repository; and the
Actions environment helpers (outputs, summary, workflow commands)."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from gh_fake import FakeGitHub, Fault, bot_user, example, user
from gitbuild import GitRepo
from pytest_httpserver import HTTPServer

from scorer.cli import main
from scorer.formats.mdsafe import ZWJ
from scorer.github import actions
from scorer.github.comment import COMMENT_LIMIT, MARKER, PrCommits, PullRequest, render_comment
from scorer.rest import RestClient
from scorer.util.times import iso

TOKEN = "t0ken-SECRET"
T0 = datetime(2026, 9, 1, 12, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(days=20)
CLAUDE = "Co-authored-by: Claude <noreply@anthropic.com>"
ANN = ("Ann Lee", "ann@example.com")
BOB = ("Bob Roy", "bob@example.com")
HOSTILE_SUBJECT = (
    f"{MARKER} <script>alert(1)</script> @octocat [x](javascript:alert(1)) "
    "::error::pwned `code` | cell"
)
HOSTILE_TITLE = "<!-- scorer:pr-comment --> Fix @github/security <img src=x onerror=alert(1)>"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def ai(subject: str) -> str:
    return f"{subject}\n\nBody.\n\n{CLAUDE}\n"


class World:
    """A repository with deploys (as GitHub deployments and as an identical deploy log) and a
    pull request merged into a merge commit, like refs/pull/N/merge."""

    def __init__(self, tmp: Path, fake: FakeGitHub) -> None:
        self.tmp = tmp
        self.fake = fake
        r = self.repo = GitRepo(tmp / "repo")
        c1 = r.commit("Initial commit", when=day(0), author=ANN)
        c2 = r.commit(ai("Add the parser"), when=day(1), author=ANN)
        c3 = r.commit(ai("Add the cache"), when=day(3), author=BOB)
        c4 = r.commit("Tune the cache", when=day(4), author=BOB)
        c5 = r.commit(ai("Speed up the parser"), when=day(6), author=ANN)
        self.base = c5
        # (sha, environment, statuses (state, time), in the log as (status, time) or None)
        plan = [
            (c1, "production", [("success", day(0.5))]),
            (c2, "production", [("pending", day(1.4)), ("success", day(1.5))]),
            (c3, "production", [("failure", day(3.5))]),
            (c4, "production", [("success", day(4.5)), ("inactive", day(5))]),
            (c2, "production", [("success", day(5))]),  # rolls c4 back
            (c5, "production", [("success", day(6.5))]),
            (c5, "staging", [("success", day(6.2))]),
            (c5, "production", [("in_progress", day(7))]),  # not finished: skipped
            (c4, "production", []),  # no status: skipped
        ]
        self.log_rows = []
        for i, (sha, env, statuses) in enumerate(plan):
            dep = fake.add_deployment(sha, env, [(s, iso(t)) for s, t in statuses], id_=100 + i)
            final = [s for s in statuses if s[0] in ("success", "failure", "error")]
            if final and statuses[-1][0] not in ("pending", "in_progress", "queued"):
                state, when = final[-1]
                self.log_rows.append(
                    {
                        "id": str(dep["id"]),
                        "sha": sha,
                        "time": iso(when),
                        "environment": env,
                        "status": state,
                    }
                )
        self.log = tmp / "deploys.jsonl"
        self.log.write_text("".join(json.dumps(row) + "\n" for row in self.log_rows))
        # the pull request
        r.branch("feature")
        r.checkout("feature")
        p1 = r.commit(ai(HOSTILE_SUBJECT), when=day(10), author=ANN)
        p2 = r.commit(ai("Empty AI commit"), when=day(10.5), author=ANN, empty=True)
        p3 = r.commit("Human follow-up", when=day(11), author=BOB)
        self.pr_commits = [p3, p2, p1]
        r.checkout("main")
        self.head = r.merge("feature", when=day(11.5), message="Merge pull request #7")
        self.head_sha = p3
        self.event = tmp / "event.json"
        pr = example("pulls/get")
        pr.update(number=7, title=HOSTILE_TITLE)
        pr["base"].update(sha=self.base, ref="main")
        pr["head"].update(sha=p3, ref="feature/<b>x</b>@octocat")
        self.event.write_text(
            json.dumps({"action": "synchronize", "number": 7, "pull_request": pr})
        )
        self.output = tmp / "github_output"
        self.summary = tmp / "step_summary.md"
        self.output.touch()
        self.summary.touch()

    def push_to_pr(self, message: str, when: datetime, **commit) -> str:
        """A new commit on the PR branch, and a fresh merge commit as refs/pull/7/merge."""
        r = self.repo
        r.checkout("feature")
        sha = r.commit(message, when=when, author=ANN, **commit)
        r.checkout("main")
        r.git("reset", "-q", "--hard", self.base)
        self.head = r.merge("feature", when=when, message="Merge pull request #7")
        self.head_sha = sha
        self.pr_commits.insert(0, sha)
        payload = json.loads(self.event.read_text())
        payload["pull_request"]["head"]["sha"] = sha
        self.event.write_text(json.dumps(payload))
        return sha

    def env(self, event: str = "pull_request") -> dict[str, str]:
        return {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(self.event),
            "GITHUB_REPOSITORY": self.fake.repo,
            "GITHUB_SHA": self.head,
            "GITHUB_WORKSPACE": str(self.repo.path),
            "GITHUB_API_URL": self.fake.base_url,
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "RUNNER_TEMP": str(self.tmp),
        }

    def outputs(self) -> dict[str, str]:
        return parse_outputs(self.output.read_text())


def parse_outputs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        name, delim = line.split("<<", 1)
        value = []
        for v in lines:
            if v == delim:
                break
            value.append(v)
        out[name] = "\n".join(value)
    return out


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeGitHub:
    return FakeGitHub(token=TOKEN).install(httpserver)


@pytest.fixture
def world(tmp_path: Path, fake: FakeGitHub) -> World:
    return World(tmp_path, fake)


def run_ci(world: World, monkeypatch, *args: str, event: str = "pull_request", **env_over) -> int:
    for key in list(__import__("os").environ):
        if key.startswith(("GITHUB_", "RUNNER_", "GH_")):
            monkeypatch.delenv(key, raising=False)
    env: dict[str, str | None] = dict(world.env(event))
    env.update(env_over)
    for k, v in env.items():
        if v is None:
            monkeypatch.delenv(k, raising=False)
        else:
            monkeypatch.setenv(k, v)
    env.setdefault("SCORER_HTTP_MAX_WAIT", "0")  # a real wait would fail the test at once
    return main(["ci", "--now", iso(NOW), *args])


def comments(fake: FakeGitHub) -> list[dict]:
    return fake.comments.get(7, [])


def ours(fake: FakeGitHub) -> list[dict]:
    return [c for c in comments(fake) if c["user"]["login"] == "github-actions[bot]"]


def test_ci_on_a_pull_request_end_to_end(world, fake, monkeypatch, capsys):
    assert run_ci(world, monkeypatch, "--deploys", "github") == 0
    out = capsys.readouterr()
    # outputs
    o = world.outputs()
    report_path = Path(o["report-path"])
    report = json.loads(report_path.read_text())
    assert report_path.parent == world.tmp
    m = report["metric"]
    assert o["normalized-deployments"] == f"{m['normalized_deployments']:.4f}"
    assert o["ai-deploys-survived"] == str(m["ai_deploys_survived"])
    assert o["deploys-survived"] == str(m["deploys_survived"])
    assert o["contributors"] == str(m["contributors"])
    assert m["ai_deploys_survived"] >= 1 and m["contributors"] == 2
    assert report["history"]["deploys_by_outcome"]["rolled_back"] == 1
    assert report["history"]["deploys_by_outcome"]["failed"] == 1
    # job summary
    summary = world.summary.read_text()
    assert "Normalized deployments" in summary
    # stdout: only our own lines; the hostile subject never reaches the runner's command parser
    assert "pwned" not in out.out
    assert "skipped 2 not finished" in out.err
    # the comment
    mine = ours(fake)
    assert len(mine) == 1
    body = mine[0]["body"]
    assert body.startswith(MARKER) and body.count("<!--") == 1
    assert "<script" not in body and "<img" not in body and "javascript:" not in body
    # no mention outside code spans (GitHub does not link mentions inside them)
    assert not re.search(r"@(octocat|github)", re.sub(r"(`+).*?\1", "", body))
    assert f"@{ZWJ}octocat" in body and f"@{ZWJ}github" in body
    assert "**3 of 3 commits**" not in body and "**2 of 3 commits** carry AI evidence" in body
    assert "no — trivial" in body and "no — no AI evidence" in body
    assert "will count" in body and "1 AI-assisted change from this pull request" in body
    assert "Weekly trend" in body
    assert len(body) <= COMMENT_LIMIT
    for sha in world.pr_commits:
        assert sha[:10] in body
    assert world.base[:10] not in body  # the base's own commits are not the PR's


def test_second_run_updates_the_same_comment_and_ignores_forgeries(world, fake, monkeypatch):
    forged_user = fake.add_comment(7, f"{MARKER}\nforged by a person", user("mallory"))
    forged_bot = fake.add_comment(7, f"{MARKER}\nforged by another bot", user("evil[bot]", "Bot"))
    assert run_ci(world, monkeypatch, "--deploys", f"log:{world.log}") == 0
    assert len(ours(fake)) == 1
    first_id = ours(fake)[0]["id"]
    assert fake.calls("POST", r"/issues/7/comments$")
    # a new push: same comment, updated in place (or left alone when nothing changed)
    world.push_to_pr(ai("Another AI change"), day(12))
    assert run_ci(world, monkeypatch, "--deploys", f"log:{world.log}") == 0
    assert len(ours(fake)) == 1 and ours(fake)[0]["id"] == first_id
    assert len(fake.calls("POST", r"/issues/7/comments$")) == 1
    patched = fake.calls("PATCH", r"/issues/comments/\d+$")
    assert patched and all(p["path"].endswith(f"/{first_id}") for p in patched)
    assert forged_user["body"].endswith("forged by a person")
    assert forged_bot["body"].endswith("forged by another bot")
    assert len(comments(fake)) == 3
    # a third run with nothing new: no write at all
    assert run_ci(world, monkeypatch, "--deploys", f"log:{world.log}") == 0
    assert len(fake.calls("PATCH", r"/issues/comments/\d+$")) == len(patched)


def test_an_old_ai_commit_of_the_pull_request_is_judged_too(world, fake, monkeypatch):
    """A branch rebased from long ago keeps its author dates: its AI commit is older than any
    week the report shows, so the scan never diffed it; the comment still says it is trivial
    (an empty commit), not that it will count."""
    old = world.push_to_pr(ai("Rebased old work"), NOW - timedelta(days=300), empty=True)
    assert run_ci(world, monkeypatch, "--deploys", f"log:{world.log}") == 0
    body = ours(fake)[0]["body"]
    line = next(x for x in body.splitlines() if old[:10] in x and x.startswith("|"))
    assert "no — trivial" in line


def test_configured_comment_author_for_an_app_token(world, fake, monkeypatch):
    c = fake.add_comment(7, f"{MARKER}\nold", user("my-app[bot]", "Bot"))
    args = ["--deploys", f"log:{world.log}", "--comment-author", "my-app[bot]"]
    assert run_ci(world, monkeypatch, *args) == 0
    assert not fake.calls("POST", r"/comments$")
    assert c["body"] != f"{MARKER}\nold" and c["body"].startswith(MARKER)


def test_read_only_token_skips_the_comment_with_a_notice(world, fake, monkeypatch, capsys):
    fake.read_only = True
    assert run_ci(world, monkeypatch, "--deploys", f"log:{world.log}") == 0
    out = capsys.readouterr().out
    assert "::notice::" in out and "read-only token" in out
    assert world.outputs()["report-path"]  # everything else still happened
    assert not comments(fake)


def test_read_only_token_on_patch_also_succeeds(world, fake, monkeypatch, capsys):
    fake.add_comment(7, f"{MARKER}\nold", bot_user())
    fake.read_only = True
    assert run_ci(world, monkeypatch, "--deploys", f"log:{world.log}") == 0
    assert "::notice::" in capsys.readouterr().out


def test_push_event_writes_everything_but_no_comment(world, fake, monkeypatch):
    assert run_ci(world, monkeypatch, "--deploys", f"log:{world.log}", event="push") == 0
    assert world.outputs()["contributors"] == "2"
    assert not fake.calls("GET", r"/comments$")


def test_comment_off(world, fake, monkeypatch):
    assert run_ci(world, monkeypatch, "--deploys", f"log:{world.log}", "--comment", "off") == 0
    assert not fake.requests


def test_report_path_option(world, fake, monkeypatch, tmp_path):
    target = tmp_path / "out" / "r.json"
    assert (
        run_ci(
            world,
            monkeypatch,
            "--deploys",
            f"log:{world.log}",
            "--report-path",
            str(target),
            event="push",
        )
        == 0
    )
    assert json.loads(target.read_text())["schema_version"] == 1
    assert world.outputs()["report-path"] == str(target)


def strip_volatile(report: dict) -> dict:
    report = json.loads(json.dumps(report))
    report.pop("generated_at", None)
    report.get("settings", {}).pop("deploys", None)
    for d in report["deploys"]:
        d.pop("source", None)
    return report


def test_deployments_api_and_deploy_log_give_identical_reports(world, fake, monkeypatch, capsys):
    sleeps: list[float] = []
    original = RestClient.from_github_env.__func__

    def no_sleep(cls, env, **kw):
        return original(cls, env, **{"sleep": sleeps.append, **kw})

    monkeypatch.setattr(RestClient, "from_github_env", classmethod(no_sleep))
    fake.fault(r"/deployments$", Fault(502, {}, "Server Error"))
    fake.fault(r"/statuses$", Fault(403, {"Retry-After": "0"}, "secondary rate limit"))
    fake.fault(
        r"/deployments$",
        Fault(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"}, "rate limit"),
    )
    fake.per_page_max = 2  # several pages
    a, b = world.tmp / "api.json", world.tmp / "log.json"
    assert (
        run_ci(world, monkeypatch, "--deploys", "github", "--report-path", str(a), event="push")
        == 0
    )
    assert (
        run_ci(
            world,
            monkeypatch,
            "--deploys",
            f"log:{world.log}",
            "--report-path",
            str(b),
            event="push",
        )
        == 0
    )
    ra, rb = json.loads(a.read_text()), json.loads(b.read_text())
    assert ra["deploys"] and len(ra["deploys"]) == len(world.log_rows) - 1  # staging filtered
    # The API also holds deployments that never finished: left out, and counted as such.
    assert ra["history"]["deploys_ignored"].pop("unfinished") == 2  # in_progress, no status
    assert "unfinished" not in rb["history"]["deploys_ignored"]
    assert strip_volatile(ra) == strip_volatile(rb)


def test_shallow_or_missing_head_is_said_in_the_comment(world, fake, monkeypatch):
    payload = json.loads(world.event.read_text())
    payload["pull_request"]["head"]["sha"] = "f" * 40
    world.event.write_text(json.dumps(payload))
    assert run_ci(world, monkeypatch, "--deploys", f"log:{world.log}") == 0
    assert "not in the scanned history" in ours(fake)[0]["body"]


def test_errors_become_an_error_annotation(world, fake, monkeypatch, capsys):
    rc = run_ci(world, monkeypatch, "--deploys", "log:/nonexistent.jsonl")
    assert rc == 2
    out = capsys.readouterr()
    assert "::error title=scorer::" in out.out
    assert "deploy log not found" in out.err


def test_comment_body_is_bounded():
    from scorer.github.comment import CommitRow
    from scorer.model import Commit, Evidence

    ev = (Evidence("claude-code", "trailer", "x" * 500, "high"),)
    rows = [
        CommitRow(
            Commit(f"{i:040x}", ("0" * 40,), "A", "a@x", 0, 0, "s" * 300, ev), True, True, False
        )
        for i in range(2000)
    ]
    report = {
        "metric": {
            "normalized_deployments": 1.0,
            "ai_deploys_survived": 1,
            "deploys_survived": 1,
            "contributors": 1,
            "developer_weeks": 1.0,
            "weeks": 4.0,
            "deploys_survived_per_dev_week": 1.0,
        },
        "period": {"since": "2026-01-01", "until": "2026-01-29", "partial": False},
        "weeks": [{"week": "2026-W01", "complete": True, "normalized_deployments": 0.5}],
    }
    pr = PullRequest(1, "a" * 40, "b" * 40, "t", "h", "main")
    body = render_comment(report, pr, PrCommits(rows), min_confidence="medium", window_days=7)
    assert len(body) <= COMMENT_LIMIT
    assert body.startswith(MARKER) and "Normalized deployments" in body
    assert "more commits with AI evidence: every commit is listed in this run's job summary" in body


# ------------------------------------------------------------------ the Actions environment


def test_outputs_use_random_delimiters_that_the_value_cannot_end(tmp_path):
    path = tmp_path / "out"
    evil = "x\nghadelimiter_\nreport-path<<EOF\n/etc/passwd\nEOF\n"
    actions.set_outputs({"a": "1", "multi": evil}, path)
    actions.set_outputs({"b": "two\nlines"}, path)
    assert parse_outputs(path.read_text()) == {"a": "1", "multi": evil, "b": "two\nlines"}
    delims = re.findall(r"<<(ghadelimiter_[0-9a-f]{32})", path.read_text())
    assert len(set(delims)) == 3
    with pytest.raises(ValueError):
        actions.format_output("bad\nname", "x")


def test_workflow_commands_are_escaped():
    buf = io.StringIO()
    line = actions.command("warning", "50% done\r\n::error::x", buf, title="a:b,c\nd", file=None)
    assert line == "::warning title=a%3Ab%2Cc%0Ad::50%25 done%0D%0A::error::x"
    assert buf.getvalue() == line + "\n"
    assert actions.notice("hi", out=buf) == "::notice::hi"
    assert buf.getvalue().count("\n") == 2


def test_summary_is_bounded_to_one_mib(tmp_path):
    path = tmp_path / "summary.md"
    path.write_text("x" * 1000 + "\n")
    written = actions.write_summary(("line é\n" * 300_000), path)
    size = path.stat().st_size
    assert size <= actions.SUMMARY_LIMIT and written == size - 1001
    text = path.read_text(encoding="utf-8")  # still valid UTF-8, cut at a line boundary
    assert "summary cut" in text
    assert actions.write_summary("more", path) == 0 or path.stat().st_size <= actions.SUMMARY_LIMIT


def test_summary_and_outputs_are_skipped_outside_actions(tmp_path):
    assert actions.write_summary("x", None) == 0
    actions.set_outputs({"a": 1}, None)
