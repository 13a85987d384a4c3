"""Security review: attacker-controlled strings (commit messages, names, branch names, PR titles,
tag names, deploy ids, repository and agent names, org report JSON, zip member names) against
every output scorer writes: the PR comment, the job summary, workflow commands on stdout and
stderr, step outputs, the text format on a terminal, the org report (Markdown, HTML, text), and
the token of the REST client.

The vulnerabilities this review found are fixed and their tests stay as regressions: raw error
text on stderr (workflow commands, terminal escapes), org artifacts from forks' pull requests,
crafted reports crashing ``scorer org``, zip bombs, config-named deploy logs outside the
repository, and bidi controls in the org outputs.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from gh_fake import FakeGitHub, _json, bot_user, example, user
from gitbuild import GitRepo
from org_reports import report as org_report
from pytest_httpserver import HTTPServer
from werkzeug import Response

from scorer.cli import main
from scorer.formats.mdsafe import ZWJ
from scorer.github.comment import MARKER
from scorer.rest import APIError, RestClient
from scorer.util.times import iso

TOKEN = "t0ken-SECRET-review"
T0 = datetime(2026, 9, 1, 12, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(days=20)
CLAUDE = "Co-authored-by: Claude <noreply@anthropic.com>"
ANN = ("Ann Lee", "ann@example.com")
BOB = ("Bob Roy", "bob@example.com")

ESC = "\x1b"
BIDI = ("\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f")
# one string with every trick: forged marker, mention, link, image, raw HTML, javascript: URL,
# table pipe, code fence, bidi override, terminal escapes (CSI and OSC 8 hyperlink), a
# workflow command, an autolink and an issue reference
HOSTILE = (
    f"{MARKER} @octocat [x](javascript:alert(1)) ![p](https://evil.example/p.png) "
    "<img src=x onerror=alert(1)> | cell ` code ``` \u202eevil\u202c "
    f"{ESC}[31mred{ESC}[0m {ESC}]8;;https://evil.example{ESC}\\click{ESC}]8;;{ESC}\\ "
    "::error::pwned https://evil.example www.evil.example #1"
)
# an attribution trailer naming no known agent: its text reaches the comment and a signal
HOSTILE_TRAILER = (
    "Generated-by: <img src=x onerror=alert(1)> @octocat ![t](https://evil.example/t.png) "
    f"{ESC}]0;owned\x07 \u202eevil | x"
)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def ai(subject: str, trailer: str = CLAUDE) -> str:
    return f"{subject}\n\nBody.\n\n::warning::from-the-body\n\n{trailer}\n"


def clean_env(monkeypatch, env: dict[str, str]) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(("GITHUB_", "RUNNER_", "GH_", "SCORER_", "CI_", "GITLAB_")):
            monkeypatch.delenv(key, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("SCORER_HTTP_MAX_WAIT", "0")


def command_lines(text: str) -> list[str]:
    """Lines the Actions runner would execute as workflow commands (it trims leading space)."""
    return [ln.lstrip() for ln in re.split(r"\r\n|\r|\n", text) if ln.lstrip().startswith("::")]


# --- a pull request with hostile commits, end to end through `scorer ci` ---------------------


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


def gfm(markdown: str) -> str:
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    # unsafe: raw HTML is passed through, so anything that survives escaping would show here
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def assert_inert_markdown(markdown: str, *, marker_allowed: bool = False) -> str:
    html = gfm(markdown)
    assert "<img" not in html and "<script" not in html and "<a " not in html, html
    assert html.count("<!--") == (1 if marker_allowed else 0)
    prose = re.sub(r"<code>.*?</code>", "", html, flags=re.S)  # code is shown, never run
    assert "javascript:" not in prose
    assert not re.search(r"(?i)https?://", prose)  # no autolink
    assert not re.search(r"@(?!" + ZWJ + r")[A-Za-z0-9_]", prose)
    for ch in (*BIDI, ESC, "\x07"):
        assert ch not in markdown
    if "| cell" in markdown.replace("\\|", "|").replace("¦", "|"):
        # the hostile "| cell" stayed inside its table cell (a split would drop the pipe)
        assert re.search(r"[|¦] cell", html), html
    return html


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


# --- the text format on a terminal --------------------------------------------------------------


def test_text_and_markdown_formats_carry_no_escapes_from_commit_data(tmp_path, capsys):
    r = GitRepo(tmp_path / "repo")
    c1 = r.commit("Initial", when=day(0), author=ANN)
    c2 = r.commit(ai(HOSTILE, HOSTILE_TRAILER), when=day(1), author=ANN)
    r.branch("side")
    r.checkout("side")
    side = r.commit("Side", when=day(1.2), author=ANN)
    r.checkout("main")
    r.tag("v1-<img>@octocat(x)!|`", side)  # a deploy of a commit not in the history
    log = tmp_path / "deploys.jsonl"
    rows = [
        {"id": "d1", "sha": c1, "time": iso(day(0.5))},
        {"id": "d2", "sha": c2, "time": iso(day(1.5))},
        {
            "id": f"{ESC}]0;o\x07{ESC}[2J\u202e<img src=x>@octocat",
            "sha": "cd" * 20,
            "time": iso(day(2)),
        },
    ]
    log.write_text("".join(json.dumps(x) + "\n" for x in rows))
    name = f"acme/{ESC}[2J{ESC}]0;title\x07\u202erepo\x9b31m"
    md = tmp_path / "r.md"
    args = ["scan", str(r.path), "--now", iso(NOW), "--deploys", f"log:{log}"]
    args += ["--deploys", "tags:v*", "--repository"]
    assert main([*args, name, "--markdown", str(md)]) == 0
    out = capsys.readouterr()
    assert "unknown-agent" in out.out and "deploys-not-in-history" in out.out
    assert "v1-<img>@octocat" in out.out  # the tag name is shown, as text
    assert "]0;o" in out.out and "<img src=x>@octocat" in out.out  # the log id too
    for ch in (ESC, "\x07", "\x9b", *BIDI):
        assert ch not in out.out and ch not in out.err
    assert_inert_markdown(md.read_text())


# --- error messages on stderr: workflow commands and terminal escapes -----------------------


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


def test_error_text_from_config_agent_keys_has_no_terminal_escapes(tmp_path, capsys):
    r = GitRepo(tmp_path / "repo")
    config = 'agents:\n  - id: acme\n    name: Acme\n    "\\e]0;owned\\a\\e[2J": 1\n'
    r.commit("Initial", when=day(0), files={".normalized-deployments.yml": config})
    assert main(["scan", str(r.path), "--now", iso(NOW)]) == 2
    err = capsys.readouterr().err
    assert "unknown key" in err
    assert ESC not in err and "\x07" not in err


# --- path traversal through the repository's config -----------------------------------------


def test_deploy_log_named_by_the_repository_config_stays_inside_it(tmp_path, capsys):
    r = GitRepo(tmp_path / "repo")
    c1 = r.commit("Initial", when=day(0), author=ANN)
    outside = tmp_path / "outside.jsonl"
    outside.write_text(json.dumps({"id": "RUNNER-SECRET", "sha": c1, "time": iso(day(0.5))}) + "\n")
    r.commit(
        "Config",
        when=day(1),
        files={".normalized-deployments.yml": "deploys:\n  - log:../outside.jsonl\n"},
    )
    out = tmp_path / "report.json"
    code = main(["scan", str(r.path), "--now", iso(NOW), "--json", str(out), "--quiet"])
    assert "RUNNER-SECRET" not in (out.read_text() if out.exists() else "")
    assert code == 2


# --- the org report: inputs from artifacts are untrusted ------------------------------------


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


ORG_ARGS = ("--github-org", "acme", "--artifact-name", "normalized-deployments")


def run_org(*args: str) -> int:
    return main(["org", *args])


def _week99(r):
    r["weeks"] = [{"week": "2026-W99", "ai_deploys_survived": 1, "deploys_survived": 1}]


def _huge(r):
    r["metric"]["ai_deploys_survived"] = 10**400


def _year_one(r):
    r["now"] = "0001-01-01T00:00:00+14:00"


def _unhashable_env(r):
    r["environments"] = [{"production": 1}]


def _window(r):
    r["window_days"] = 1e300


@pytest.mark.parametrize(
    "mutate", [_week99, _huge, _year_one, _unhashable_env, _window], ids=lambda f: f.__name__
)
def test_a_crafted_report_is_a_problem_line_not_a_crash(tmp_path, capsys, mutate):
    write_json(tmp_path / "in" / "good.json", org_report("acme/good"))
    evil = org_report("acme/evil")
    mutate(evil)
    write_json(tmp_path / "in" / "evil.json", evil)
    out = tmp_path / "org.json"
    html = tmp_path / "org.html"
    assert run_org(str(tmp_path / "in"), "--json", str(out), "--html", str(html)) == 0
    org = json.loads(out.read_text())
    assert [x["name"] for x in org["repositories"]] == ["acme/good"]
    assert [p["kind"] for p in org["problems"] if p["source"].endswith("evil.json")] == ["invalid"]


def test_zip_member_names_are_labels_never_paths(tmp_path, capsys):
    """No zip slip: members are read in memory, never extracted; hostile names are escaped."""
    z = tmp_path / "artifact.zip"
    name = "../../escaped.json"
    hostile = f"/tmp/<img src=x onerror=alert(1)>{ESC}[2J\u202e.json"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(name, json.dumps(org_report("acme/api")))
        zf.writestr(hostile, "{not json")
    before = set(tmp_path.parent.rglob("escaped.json"))
    html, md = tmp_path / "out" / "org.html", tmp_path / "out" / "org.md"
    html.parent.mkdir()
    assert run_org(str(z), "--html", str(html), "--markdown", str(md)) == 0
    out = capsys.readouterr()
    assert set(tmp_path.parent.rglob("escaped.json")) == before
    assert not Path("/tmp/<img src=x onerror=alert(1)>").exists()
    assert f"{z}!{name}" in out.out or "acme/api" in out.out
    assert ESC not in out.out + out.err
    page = html.read_text()
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in gfm(md.read_text())


def test_org_html_and_text_strip_bidi_controls(tmp_path, capsys):
    write_json(tmp_path / "in" / "a.json", org_report("acme/\u202eexe.txt\u202c"))
    html = tmp_path / "org.html"
    assert run_org(str(tmp_path / "in"), "--html", str(html)) == 0
    out = capsys.readouterr().out
    page = html.read_text()
    for ch in BIDI:
        assert ch not in out and ch not in page


def test_zip_bomb_total_expansion_is_bounded(tmp_path, capsys, monkeypatch):
    member = b" " * (6 * 1024 * 1024)  # 6 MiB of JSON whitespace, ~6 KiB compressed
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("report.json", json.dumps(org_report("acme/api")))
        for i in range(48):
            zf.writestr(f"filler/{i:03d}.json", member)
    assert z.stat().st_size < 1024 * 1024  # < 1 MiB on disk, 288 MiB inside
    expanded = 0
    real_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        nonlocal expanded
        data = real_read(self, n)
        expanded += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    out = tmp_path / "org.json"
    run_org(str(z), "--json", str(out))
    # a scorer report is kilobytes; 64 MiB (over 64x the file) is far more than any artifact
    assert expanded <= 64 * 1024 * 1024, (
        f"decompressed {expanded >> 20} MiB from {z.stat().st_size} bytes"
    )


# --- the org report from GitHub artifacts ---------------------------------------------------


class Artifacts:
    """/orgs/acme/repos, /repos/acme/R/actions/artifacts and the zip download, on the fake."""

    def __init__(self, fake: FakeGitHub):
        self.fake = fake
        self.repos: list[dict] = []
        self.artifacts: dict[str, list[dict]] = {}
        self.zips: dict[int, bytes] = {}
        fake.token = TOKEN
        fake.route("GET", r"/orgs/acme/repos", self._repos)
        fake.route("GET", r"/repos/acme/([^/]+)/actions/artifacts", self._list)
        fake.route("GET", r"/repos/acme/([^/]+)/actions/artifacts/(\d+)/zip", self._zip)

    def _ok(self, request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    def add_repo(self, name: str, repo_id: int) -> None:
        r = example("repos/list-for-org")[0]
        r.update(name=name, full_name=f"acme/{name}", id=repo_id, default_branch="main")
        self.repos.append(r)

    def add_artifact(self, repo: str, art_id: int, created: str, data: bytes, run: dict) -> None:
        a = example("actions/list-artifacts-for-repo")["artifacts"][0]
        a.update(id=art_id, name="normalized-deployments", expired=False, created_at=created)
        a["workflow_run"].update(run)
        self.artifacts.setdefault(repo, []).append(a)
        self.zips[art_id] = data

    def _repos(self, request, m):
        if not self._ok(request):
            return _json({"message": "Bad credentials"}, 401)
        return self.fake._page(request, self.repos)

    def _list(self, request, m):
        if not self._ok(request):
            return _json({"message": "Bad credentials"}, 401)
        items = self.artifacts.get(m[1], [])
        return _json({"total_count": len(items), "artifacts": items})

    def _zip(self, request, m):
        if not self._ok(request):
            return _json({"message": "Bad credentials"}, 401)
        return Response(self.zips[int(m[2])], status=200, content_type="application/zip")


def zip_bytes(members: dict[str, object]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data if isinstance(data, (str, bytes)) else json.dumps(data))
    return buf.getvalue()


def test_org_ignores_artifacts_from_fork_pull_requests(fake, tmp_path, monkeypatch, capsys):
    gh = Artifacts(fake)
    gh.add_repo("api", 1296269)
    main_run = {"repository_id": 1296269, "head_repository_id": 1296269, "head_branch": "main"}
    fork_run = {"repository_id": 1296269, "head_repository_id": 666, "head_branch": "main"}
    honest = org_report("acme/api", ai=1)
    forged = org_report("acme/api", ai=2, survived=2, generated_at="2026-03-02T00:00:01Z")
    forged["metric"]["ai_deploys_survived"] = 2
    gh.add_artifact("api", 1, "2026-03-01T00:00:00Z", zip_bytes({"r.json": honest}), main_run)
    gh.add_artifact("api", 2, "2026-03-02T00:00:00Z", zip_bytes({"r.json": forged}), fork_run)
    clean_env(monkeypatch, {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": fake.base_url})
    out = tmp_path / "org.json"
    code = run_org(*ORG_ARGS, "--json", str(out))
    assert code == 0
    rows = json.loads(out.read_text())["repositories"]
    assert [(r["name"], r["metric"]["ai_deploys_survived"]) for r in rows] == [("acme/api", 1)]
    assert rows[0]["source"].startswith("github:acme/api#artifact-1!")


def test_org_artifact_redirect_to_storage_gets_no_token_and_hostile_names_are_escaped(
    fake, tmp_path, monkeypatch, capsys
):
    """The download redirect leaves the API origin: the storage host never sees the token."""
    storage = HTTPServer(port=0)
    storage.start()
    try:
        seen: list[dict] = []

        def blob(request):
            seen.append(dict(request.headers))
            evil = org_report("acme/<script>alert(1)</script>@octocat")
            # acme/api's own report is merged; the hostile name, another repository's, is a
            # problem line (issue 13: not merged), rendered escaped like every name
            own = org_report("acme/api")
            return Response(
                zip_bytes({"x/a.json": own, "x/r.json": evil}), content_type="application/zip"
            )

        storage.expect_request("/blob/5").respond_with_handler(blob)
        gh = Artifacts(fake)
        gh.add_repo("api", 1)
        run = {"repository_id": 1, "head_repository_id": 1, "head_branch": "main"}
        gh.add_artifact("api", 5, "2026-03-01T00:00:00Z", b"", run)

        def redirect(request, m):
            loc = storage.url_for("/blob/5") + f"?sig=abc&leak={TOKEN}"
            return Response("", status=302, headers={"Location": loc})

        fake.extra_routes.insert(
            0, ("GET", re.compile(r"/repos/acme/api/actions/artifacts/5/zip"), redirect)
        )
        clean_env(monkeypatch, {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": fake.base_url})
        html = tmp_path / "org.html"
        code = run_org(*ORG_ARGS, "--html", str(html), "--format", "markdown")
        out = capsys.readouterr()
        assert code == 0, out.err
        assert len(seen) == 1 and "Authorization" not in seen[0]
        assert all(TOKEN not in v for v in seen[0].values())
        assert TOKEN not in out.out + out.err + html.read_text()
        assert "<script>alert" not in html.read_text()
        assert_inert_markdown(out.out)
    finally:
        storage.clear()
        storage.stop()


# --- the REST client and the token -----------------------------------------------------------


def test_token_reflected_by_the_server_is_never_printed(fake, capsys):
    """Error messages, wait-log lines and Location URLs that echo the token show ***."""
    logs: list[str] = []
    client = RestClient.from_github_env(
        {"GITHUB_API_URL": fake.base_url, "GITHUB_TOKEN": TOKEN},
        sleep=lambda s: None,
        log=logs.append,
    )

    def reflect(request, m):
        return _json({"message": f"bad token {TOKEN}\n::add-mask::x"}, 418)

    def loop(request, m):
        return Response("", status=302, headers={"Location": f"/loop/{TOKEN}"})

    fake.route("GET", r"/reflect", reflect)
    fake.route("GET", r"/loop/.*", loop)
    fake.route("GET", r"/ratelimited/.*", lambda r, m: _json({}, 429, {"Retry-After": "1"}))
    errors = []
    for path in ("/reflect", "/loop/x", f"/ratelimited/{TOKEN}"):
        with pytest.raises(APIError) as err:
            client.request("GET", path)
        errors.append(str(err.value) + " " + err.value.url)
    text = " ".join(errors + logs) + repr(client)
    assert TOKEN not in text
    assert "***" in text
    assert "\n" not in errors[0]  # the server's message is one line: no command injected


def test_link_next_to_another_origin_gets_no_token(fake, capsys):
    other = HTTPServer(port=0)
    other.start()
    try:
        seen: list[dict] = []

        def page2(request):
            seen.append(dict(request.headers))
            return Response("[]", content_type="application/json")

        other.expect_request("/page2").respond_with_handler(page2)
        # same host name and scheme, another port: another origin
        nxt = other.url_for("/page2")

        def page1(request, m):
            return _json([{"id": 1}], 200, {"Link": f'<{nxt}>; rel="next"'})

        fake.route("GET", r"/items", page1)
        client = RestClient.from_github_env(
            {"GITHUB_API_URL": fake.base_url, "GITHUB_TOKEN": TOKEN}, sleep=lambda s: None
        )
        assert [x["id"] for x in client.paginate("/items")] == [1]
        assert len(seen) == 1 and "Authorization" not in seen[0]
    finally:
        other.clear()
        other.stop()
