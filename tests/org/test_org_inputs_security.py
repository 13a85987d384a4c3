"""``scorer org``: its inputs (report files, zips, GitHub artifacts) are untrusted. A crafted
report is a problem line, not a crash; zip member names are labels, never paths; a zip bomb
is bounded; artifacts from forks' pull requests are ignored; the storage host an artifact
download redirects to never sees the token; hostile names and bidi controls stay inert in
every output. Each of these was once a way in; the tests stay as regressions.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from gh_fake import FakeGitHub, _json, example
from org_reports import report as org_report
from pytest_httpserver import HTTPServer
from untrusted import BIDI, ESC, TOKEN, assert_inert_markdown, clean_env, gfm
from werkzeug import Response

from scorer.cli import main


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


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeGitHub:
    return FakeGitHub(token=TOKEN).install(httpserver)


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
