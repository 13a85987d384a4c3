"""The PR comment of a pull request of thousands of commits, titled with angle brackets:
the title reads as written, the AI commits are listed first, the rest is counted, and the job
summary lists every commit (within its 1 MiB). End to end: ``scorer ci`` on a real repository
(built with ``git fast-import``) against the local fake GitHub."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from gh_fake import FakeGitHub, example
from gitbuild import GitRepo
from pytest_httpserver import HTTPServer

from scorer.cli import main
from scorer.github.actions import SUMMARY_LIMIT
from scorer.github.comment import COMMENT_LIMIT, LISTED_OTHERS, MARKER

cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm renders as GitHub does")

TOKEN = "t0ken-SECRET"
N = 3000
AI_EVERY = 10  # commits 0, 10, 20 … carry a Claude trailer: 300 of 3,000
TITLE = "Add Vec<T> support"
T0 = 1_788_000_000  # 2026-08-30


def _fast_import_stream() -> bytes:
    """main: one commit; feature: N commits on it; main again: the merge (refs/pull/N/merge)."""
    out = []

    def commit(ref: str, mark: int, t: int, msg: str, parents: list[int], path: str) -> None:
        data = msg.encode()
        out.append(
            f"commit {ref}\nmark :{mark}\n"
            f"author Ann Lee <ann@example.com> {t} +0000\n"
            f"committer Ann Lee <ann@example.com> {t} +0000\n"
            f"data {len(data)}\n".encode()
            + data
            + b"\n"
        )
        if parents:
            out.append(f"from :{parents[0]}\n".encode())
        for p in parents[1:]:
            out.append(f"merge :{p}\n".encode())
        if path:
            body = f"{path}\n".encode()
            out.append(f"M 100644 inline {path}\ndata {len(body)}\n".encode() + body + b"\n")
        out.append(b"\n")

    commit("refs/heads/main", 1, T0, "Initial commit\n", [], "README")
    for i in range(N):
        msg = f"Add Vec<T> support, part {i}\n"
        if i % AI_EVERY == 0:
            msg += "\nBody.\n\nCo-authored-by: Claude <noreply@anthropic.com>\n"
        commit("refs/heads/feature", 2 + i, T0 + 60 * (i + 1), msg, [i + 1], f"src/f{i}.txt")
    commit("refs/heads/main", 2 + N, T0 + 60 * (N + 2), "Merge pull request #7\n", [1, 1 + N], "")
    return b"".join(out)


@pytest.fixture(scope="module")
def big_pr(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bigpr")
    repo = GitRepo(tmp / "repo")
    repo.git("fast-import", "--quiet", input=_fast_import_stream())
    repo.git("reset", "-q", "--hard", "main")
    base = repo.git("rev-parse", "main^1")
    head = repo.git("rev-parse", "feature")
    feature = repo.git("rev-list", "--reverse", "feature", "^main^1").split()
    assert len(feature) == N
    return tmp, repo, base, head, feature


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeGitHub:
    return FakeGitHub(token=TOKEN).install(httpserver)


def run_ci(
    tmp: Path, repo: GitRepo, base: str, head: str, fake, monkeypatch, prefill: str = ""
) -> tuple[str, str]:
    pr = example("pulls/get")
    pr.update(number=7, title=TITLE)
    pr["base"].update(sha=base, ref="main")
    pr["head"].update(sha=head, ref="feature")
    event = tmp / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "number": 7, "pull_request": pr}))
    summary = tmp / "summary.md"
    summary.write_text(prefill, encoding="utf-8")
    for key in list(__import__("os").environ):
        if key.startswith(("GITHUB_", "RUNNER_", "GH_")):
            monkeypatch.delenv(key, raising=False)
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": fake.repo,
        "GITHUB_SHA": repo.head(),
        "GITHUB_WORKSPACE": str(repo.path),
        "GITHUB_API_URL": fake.base_url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_OUTPUT": str(tmp / "output"),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(tmp),
        "SCORER_HTTP_MAX_WAIT": "0",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert main(["ci", "--now", "2026-09-30T00:00:00Z", "--deploys", "tags:v*"]) == 0
    (posted,) = fake.comments[7]
    return posted["body"], summary.read_text(encoding="utf-8")


def gfm(markdown: str) -> str:
    from cmarkgfm.cmark import Options

    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def test_a_3000_commit_pr_titled_vec_t(big_pr, fake, monkeypatch):
    tmp, repo, base, head, feature = big_pr
    body, summary = run_ci(tmp, repo, base, head, fake, monkeypatch)
    assert body.startswith(MARKER) and body.count("<!--") == 1
    assert len(body) <= COMMENT_LIMIT
    html = gfm(body)
    # The title and subjects are shown with their angle brackets, as text.
    assert "<p>Add Vec&lt;T&gt; support · <code>feature</code> → <code>main</code>" in html
    assert "Vec<T>" not in html and "<t>" not in html.lower()
    assert "**300 of 3,000 commits** carry AI evidence" in body
    # Table rows: the 300 AI commits first (newest first), then LISTED_OTHERS of the rest.
    listed = re.findall(r"^\| `([0-9a-f]{10})` \| ", body, re.M)
    ai = [sha[:10] for i, sha in enumerate(feature) if i % AI_EVERY == 0][::-1]
    human = [sha[:10] for i, sha in enumerate(feature) if i % AI_EVERY][::-1]
    assert listed == ai + human[:LISTED_OTHERS]
    rest = N - len(ai) - LISTED_OTHERS
    assert (
        f"*… and {rest:,} more commits without AI evidence: every commit is listed in this "
        "run's job summary.*"
    ) in body
    assert "<td>Add Vec&lt;T&gt; support, part 2990</td>" in html
    # The job summary: the report, then every commit of the PR, newest first.
    assert len(summary.encode("utf-8")) <= SUMMARY_LIMIT
    assert "### The commits of pull request \\#\u200d7 (3,000)" in summary
    in_summary = re.findall(r"^\| `([0-9a-f]{10})` \| ", summary, re.M)
    assert in_summary == [sha[:10] for sha in reversed(feature)]
    assert "not listed" not in summary
    assert "<td>Add Vec&lt;T&gt; support, part 0</td>" in gfm(summary)


def test_summary_list_counts_what_does_not_fit(big_pr, fake, monkeypatch):
    tmp, repo, base, head, feature = big_pr
    # Another step already wrote most of the summary's 1 MiB.
    filler = "x" * 79 + "\n"
    prefill = filler * ((SUMMARY_LIMIT - 150_000) // len(filler))
    _, summary = run_ci(tmp, repo, base, head, fake, monkeypatch, prefill=prefill)
    assert summary.startswith(prefill)
    assert len(summary.encode("utf-8")) <= SUMMARY_LIMIT
    assert "summary cut" not in summary  # the list is bounded by itself, cut at a row
    shown = re.findall(r"^\| `([0-9a-f]{10})` \| ", summary, re.M)
    newest_first = [sha[:10] for sha in reversed(feature)]
    assert 100 < len(shown) < N and shown == newest_first[: len(shown)]
    ai_left = sum(1 for i in range(N - len(shown)) if i % AI_EVERY == 0)
    assert summary.endswith(
        f"*… and {N - len(shown):,} more commits ({ai_left:,} with AI evidence, "
        f"{N - len(shown) - ai_left:,} without) not listed: GitHub's step summary holds 1 MiB.*\n"
    )
