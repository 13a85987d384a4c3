"""`scorer org`: merging repository reports into one org report, its inputs and outputs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from org_reports import person, report, write, zip_of

from scorer.formats import org_html, org_markdown
from scorer.org.merge import OrgMerger, problem_line
from scorer.org.sources import read_inputs

HOSTILE = [
    "<script>alert(1)</script>",
    'x"onmouseover="alert(2)',
    "@octocat/please-ping",
    "evil<!-- hidden -->repo",
    "</table><img src=x onerror=alert(3)>",
]


def merge(*reports: dict) -> dict:
    m = OrgMerger()
    for i, r in enumerate(reports):
        m.add(r, f"input{i}.json")
    return m.result()


def kinds(org: dict) -> list[str]:
    return [p["kind"] for p in org["problems"]]


# --- aggregation -----------------------------------------------------------------------------


def test_totals_add_up_to_hand_sums_and_people_are_counted_once():
    org = merge(
        report("acme/api", ai=3, survived=5, people=("ann@x.io", "bob@x.io")),
        report("acme/web", ai=1, survived=4, people=("Bob@X.io", "cat@x.io", "dan@x.io")),
        report("acme/ops", ai=0, survived=2, people=("ann@x.io",), agents={}),
    )
    t = org["totals"]
    assert t["repositories"] == 3
    assert t["ai_deploys_survived"] == 3 + 1 + 0
    assert t["deploys_survived"] == 5 + 4 + 2
    # ann, bob (twice, case differs in the email but the hash is of the normalised email), cat, dan
    assert t["contributors"] == 4
    assert t["contributors_sum"] == 2 + 3 + 1
    assert t["weeks"] == 4.0
    # v2: each repository's developer-weeks added (bob counts in api and in web): 8 + 12 + 4
    assert t["developer_weeks"] == 24.0
    assert org["normalized_deployments"] == pytest.approx(4 / 24)
    assert t["deploys_survived_per_dev_week"] == pytest.approx(11 / 24)
    assert t["ai_share_of_survived_deploys"] == pytest.approx(4 / 11)
    assert t["changes"] == 30 and t["ai_changes"] == 9
    assert org["period"]["aligned"] is True
    assert org["problems"] == []
    assert [r["name"] for r in org["repositories"]] == ["acme/api", "acme/ops", "acme/web"]
    agent = org["agents"]["claude-code"]
    assert agent["deploys_survived"] == 4
    assert agent["repositories"] == 2
    assert agent["share_of_survived_deploys"] == pytest.approx(4 / 11)


def test_weekly_trend_counts_survived_deploys_by_iso_week():
    org = merge(
        report(
            "a", ai=1, survived=2, deploy_times=["2026-02-02T10:00:00Z", "2026-02-04T10:00:00Z"]
        ),
        report(
            "b",
            ai=2,
            survived=3,
            deploy_times=["2026-02-03T10:00:00Z", "2026-02-10T10:00:00Z", "2026-02-26T10:00:00Z"],
        ),
    )
    weeks = {w["week"]: w for w in org["weeks"]}
    assert weeks["2026-W06"]["deploys_survived"] == 3
    assert weeks["2026-W06"]["ai_deploys_survived"] == 2  # a's first, b's first
    assert weeks["2026-W06"]["repositories"] == 2
    assert weeks["2026-W07"]["ai_deploys_survived"] == 1
    assert weeks["2026-W06"]["complete"] is True
    # The week of 2026-02-23 ends after now - window (2026-02-23): not judged yet.
    assert weeks["2026-W09"]["complete"] is False
    assert weeks["2026-W06"]["normalized_deployments"] == pytest.approx(2 / 1)


def test_weekly_trend_prefers_week_entries_with_counts():
    r = report("a", ai=1, survived=1)
    r["weeks"] = [
        {
            "week": "2026-W05",
            "complete": True,
            "normalized_deployments": 0.5,
            "ai_deploys_survived": 4,
            "deploys_survived": 9,
        },
    ]
    org = merge(r)
    assert org["weeks"][0]["week"] == "2026-W05"
    assert org["weeks"][0]["deploys_survived"] == 9


def test_periods_of_different_lengths_are_reported_and_rates_are_added():
    org = merge(
        report("a", ai=4, people=("p@x",), weeks=4.0),
        report("b", ai=2, people=("q@x",), weeks=2.0, since="2026-02-09T00:00:00Z"),
    )
    assert org["period"]["aligned"] is False
    assert org["period"]["weeks"] is None
    assert "period-mismatch" in kinds(org)
    # 4/4 + 2/2 AI deploys survived per week, over 2 people
    assert org["normalized_deployments"] == pytest.approx((4 / 4 + 2 / 2) / 2)
    line = problem_line(next(p for p in org["problems"] if p["kind"] == "period-mismatch"))
    assert "2 different headline periods" in line


def test_shifted_periods_of_equal_length_keep_the_formula_but_are_reported():
    org = merge(
        report("a", ai=4, people=("p@x",)),
        report(
            "b", ai=2, people=("q@x",), since="2026-01-27T00:00:00Z", until="2026-02-24T00:00:00Z"
        ),
    )
    assert org["period"]["aligned"] is False
    assert org["period"]["weeks"] == 4.0
    assert org["normalized_deployments"] == pytest.approx(6 / 2 / 4)
    assert kinds(org) == ["period-mismatch"]


def test_settings_mismatch_is_reported():
    b = report("b")
    b["window_days"] = 3.0
    assert "settings-mismatch" in kinds(merge(report("a"), b))


def test_zero_contributors_gives_zero_not_a_division_error():
    org = merge(report("bots-only", ai=2, survived=2, people=()))
    assert org["normalized_deployments"] == 0.0
    assert any("no human contributors" in c for c in org["caveats"])


def test_report_without_hashes_is_counted_but_flagged():
    org = merge(
        report("a", people=("p@x", "q@x")),
        report("b", people=("p@x",), hashed=False),
    )
    assert org["totals"]["contributors"] == 3  # 2 distinct + 1 that cannot be matched
    assert kinds(org) == ["contributors"]


def test_no_per_person_figure_anywhere():
    org = merge(report("a", people=("alice@corp.example", "bob@corp.example")))
    text = json.dumps(org)
    assert person("alice@corp.example") not in text
    assert "alice" not in text
    page = org_html.render(org)
    assert person("alice@corp.example") not in page


# --- problems with inputs ------------------------------------------------------------------


def test_duplicates_keep_the_newest_whatever_the_order():
    old = report("acme/api", ai=1, generated_at="2026-03-01T00:00:00Z")
    new = report("acme/api", ai=5, survived=6, generated_at="2026-03-02T00:00:00+00:00")
    for order in ((old, new), (new, old)):
        org = merge(*order)
        assert org["totals"]["repositories"] == 1
        assert org["totals"]["ai_deploys_survived"] == 5
        assert kinds(org) == ["duplicate"]
        assert "2026-03-01T00:00:00Z" in problem_line(org["problems"][0])


def test_duplicate_names_differing_in_case_are_one_repository():
    org = merge(report("Acme/API", generated_at="2026-03-01T00:00:00Z"), report("acme/api"))
    assert org["totals"]["repositories"] == 1
    assert org["repositories"][0]["name"] == "acme/api"


@pytest.mark.parametrize(
    ("mutate", "kind"),
    [
        (lambda r: r.update(schema_version=2), "schema-version"),
        (lambda r: r.update(schema_version="1"), "schema-version"),
        (lambda r: r.pop("schema_version"), "not-a-report"),
        (lambda r: r["metric"].update(ai_deploys_survived=-1), "invalid"),
        (lambda r: r["metric"].update(contributors=1.5), "invalid"),
        (lambda r: r["metric"].pop("deploys_survived"), "invalid"),
        (lambda r: r["period"].update(since="last tuesday"), "invalid"),
        (lambda r: r.update(generated_at=None), "invalid"),
        (lambda r: r["repository"].update(name=""), "invalid"),
        (lambda r: r.update(contributors_hashed=[1, 2]), "invalid"),
        (lambda r: r.update(agents={"x": 3}), "invalid"),
    ],
)
def test_bad_reports_are_listed_never_merged(mutate, kind):
    bad = report("bad/repo", ai=7)
    mutate(bad)
    org = merge(report("good/repo", ai=1), bad)
    assert org["totals"]["repositories"] == 1
    assert org["totals"]["ai_deploys_survived"] == 1
    assert kinds(org) == [kind]
    assert problem_line(org["problems"][0]).startswith(f"{kind}: input1.json: ")


def test_mixed_inputs_directory_zip_corrupt_and_versions(tmp_path):
    d = tmp_path / "reports"
    write(d / "a.json", report("acme/a", ai=1))
    write(d / "nested" / "deeper" / "b.json", report("acme/b", ai=2))
    write(d / "v2.json", {**report("acme/v2"), "schema_version": 2})
    (d / "corrupt.json").write_text('{"schema_version": 1, "repository": ')
    (d / "notes.txt").write_text("not a report, not read")
    write(d / ".git" / "c.json", report("hidden/ignored"))
    zip_of(
        d / "artifact.zip",
        {
            "scorer-report/report.json": report("acme/c", ai=3),
            "scorer-report/sub/other.json": report("acme/d", ai=4),
            "inner.zip": _zip_bytes({"deep/report.json": report("acme/e", ai=5)}),
            "summary.md": "# not a report",
        },
    )
    zip_of(d / "empty.zip", {"readme.txt": "nothing"})
    (d / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    write(d / "dup.json", report("acme/a", ai=9, generated_at="2026-01-01T00:00:00Z"))
    m = OrgMerger()
    for item in read_inputs([str(d)]):
        if item.ok:
            m.add(item.report, item.source)
        else:
            m.add_unreadable(item.kind, item.source, item.detail)
    org = m.result()
    names = [r["name"] for r in org["repositories"]]
    assert names == ["acme/a", "acme/b", "acme/c", "acme/d", "acme/e"]
    assert org["totals"]["ai_deploys_survived"] == 1 + 2 + 3 + 4 + 5
    by_kind = {}
    for p in org["problems"]:
        by_kind.setdefault(p["kind"], []).append(p["source"])
    assert sorted(by_kind) == ["corrupt", "duplicate", "not-a-report", "schema-version"]
    assert any(s.endswith("corrupt.json") for s in by_kind["corrupt"])
    assert any(s.endswith("broken.zip") for s in by_kind["corrupt"])
    assert any(s.endswith("empty.zip") for s in by_kind["not-a-report"])
    assert by_kind["duplicate"] == [str(d / "dup.json")]
    srcs = {r["name"]: r["source"] for r in org["repositories"]}
    assert srcs["acme/e"].endswith("artifact.zip!inner.zip!deep/report.json")
    assert org["inputs"] == {"inputs_read": 10, "reports_merged": 5, "problems": 5}


def _zip_bytes(members: dict) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return zip_of(Path(tmp) / "z.zip", members).read_bytes()


# --- the command -----------------------------------------------------------------------------


def org_main(argv: list[str]) -> int:
    """``scorer org`` as ``scorer.cli.main`` runs it, without importing the other commands."""
    import argparse

    from scorer.commands import org as command
    from scorer.errors import ScorerError

    parser = argparse.ArgumentParser(prog="scorer org")
    command.add_arguments(parser)
    try:
        return command.run(parser.parse_args(argv))
    except ScorerError as err:
        print(f"scorer: error: {err}", file=sys.stderr)
        return err.exit_code


def run_org(*args: str, capsys=None) -> tuple[int, str, str]:
    code = org_main(list(args))
    if capsys is None:
        return code, "", ""
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_every_output_atomically(tmp_path, capsys):
    src = tmp_path / "in"
    write(src / "a.json", report("acme/a", ai=2, survived=3, people=("p@x", "q@x")))
    write(src / "b.json", report("acme/b", ai=1, survived=1, people=("q@x",)))
    (src / "bad.json").write_text("{")
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, _ = run_org(
        str(src),
        "--json",
        str(out / "org.json"),
        "--markdown",
        str(out / "org.md"),
        "--html",
        str(out / "org.html"),
        "--jsonl",
        str(out / "org.jsonl"),
        capsys=capsys,
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["org.html", "org.json", "org.jsonl", "org.md"]
    org = json.loads((out / "org.json").read_text())
    assert org["schema_version"] == 1 and org["kind"] == "scorer-org-report"
    assert org["totals"]["contributors"] == 2
    assert org["normalized_deployments"] == pytest.approx(3 / (2 * 4 + 1 * 4))
    # the problem is in every output, one line each
    line = f"corrupt: {src / 'bad.json'}: line 1 column 2"
    assert line in stdout
    assert any(problem_line(p).startswith(line) for p in org["problems"])
    assert "bad\\.json" in (out / "org.md").read_text()
    assert str(src / "bad.json") in (out / "org.html").read_text()
    rows = [json.loads(x) for x in (out / "org.jsonl").read_text().splitlines()]
    assert [r["name"] for r in rows] == ["acme/a", "acme/b"]
    assert (
        "normalized deployments: 0.25 = 3 AI deploys survived / 12 developer-weeks "
        "(2 distinct contributors)" in stdout
    )


def test_cli_output_into_an_input_directory_is_not_read_back(tmp_path, capsys):
    write(tmp_path / "a.json", report("acme/a"))
    for _ in range(2):
        code, _, _ = run_org(str(tmp_path), "--json", str(tmp_path / "org.json"), capsys=capsys)
        assert code == 0
    org = json.loads((tmp_path / "org.json").read_text())
    assert org["problems"] == [] and org["totals"]["repositories"] == 1


def test_cli_reads_an_org_report_as_a_problem_not_a_repository(tmp_path, capsys):
    write(tmp_path / "a.json", report("acme/a"))
    run_org(str(tmp_path / "a.json"), "--json", str(tmp_path / "org.json"), capsys=capsys)
    code, out, _ = run_org(str(tmp_path), "--format", "json", capsys=capsys)
    org = json.loads(out)
    assert code == 0
    assert kinds(org) == ["not-a-report"]


def test_cli_format_json_and_markdown_on_stdout(tmp_path, capsys):
    write(tmp_path / "a.json", report("acme/a"))
    code, out, _ = run_org(str(tmp_path), "--format", "json", capsys=capsys)
    assert code == 0 and json.loads(out)["totals"]["repositories"] == 1
    code, out, _ = run_org(str(tmp_path), "--format", "markdown", capsys=capsys)
    assert code == 0 and out.startswith("## Normalized deployments")


def test_cli_exit_codes(tmp_path, capsys):
    assert run_org(capsys=capsys)[0] == 2  # no input at all
    code, _, err = run_org(str(tmp_path / "missing.json"), capsys=capsys)
    assert code == 2 and "missing.json: no such file or directory" in err
    (tmp_path / "bad.json").write_text("nope")
    code, _, err = run_org(str(tmp_path / "bad.json"), capsys=capsys)
    assert code == 2
    assert "corrupt:" in err and "no repository report could be merged" in err
    write(tmp_path / "ok.json", report("acme/ok"))
    assert run_org(str(tmp_path), capsys=capsys)[0] == 0
    assert run_org(str(tmp_path), "--strict", capsys=capsys)[0] == 2
    code, _, err = run_org(str(tmp_path), "--github-org", "acme", capsys=capsys)
    assert code == 2 and "--artifact-name" in err
    code, _, _ = run_org(
        str(tmp_path / "ok.json"), "--json", str(tmp_path / "no" / "dir" / "o.json"), capsys=capsys
    )
    assert code == 2


def test_jsonl_rows_carry_salted_hashes_that_count_the_same(tmp_path, monkeypatch, capsys):
    write(tmp_path / "in" / "a.json", report("acme/a", people=("p@x", "q@x")))
    write(tmp_path / "in" / "b.json", report("acme/b", people=("q@x", "r@x")))
    plain = tmp_path / "plain.jsonl"
    salted = tmp_path / "salted.jsonl"
    run_org(str(tmp_path / "in"), "--jsonl", str(plain), capsys=capsys)
    monkeypatch.setenv("SCORER_ORG_SALT", "org-secret")
    run_org(str(tmp_path / "in"), "--jsonl", str(salted), capsys=capsys)
    p_rows = [json.loads(x) for x in plain.read_text().splitlines()]
    s_rows = [json.loads(x) for x in salted.read_text().splitlines()]
    assert person("p@x") in p_rows[0]["contributors_hashed"]
    s_hashes = {h for r in s_rows for h in r["contributors_hashed"]}
    assert person("p@x") not in s_hashes
    assert all(r["contributors_salted"] for r in s_rows)
    # a warehouse's COUNT(DISTINCT) over the rows finds the same people
    assert len(s_hashes) == len({h for r in p_rows for h in r["contributors_hashed"]}) == 3
    assert "org-secret" not in salted.read_text()


# --- hostile names ---------------------------------------------------------------------------


def hostile_org() -> dict:
    reports = [
        report(
            name, ai=1, agents={name: {"changes": 1, "counted_changes": 1, "deploys_survived": 1}}
        )
        for name in HOSTILE
    ]
    m = OrgMerger()
    for i, r in enumerate(reports):
        m.add(r, f"drop/{HOSTILE[i]}.json")
    m.add({"nope": 1}, '<script>src="https://evil.example/x.js"</script>')
    return m.result()


def test_html_escapes_every_report_string():
    page = org_html.render(hostile_org())
    assert "<script>alert" not in page
    assert '"onmouseover=' not in page
    assert "<img" not in page
    assert "<!-- hidden" not in page
    assert "</table><img" not in page
    # exactly the one script of ours, and it is the last element
    assert page.count("<script>") == 1 and page.count("</script>") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "x&quot;onmouseover=&quot;alert(2)" in page


def test_markdown_neutralises_every_report_string():
    text = org_markdown.render(hostile_org())
    assert "<script" not in text and "<img" not in text and "<!--" not in text
    assert "@octocat" not in text  # no mention pings
    assert 'onmouseover="' not in text


def test_text_output_has_no_terminal_escapes(tmp_path, capsys):
    write(tmp_path / "a.json", report("evil\x1b[2J\x1b]0;owned\x07/repo"))
    code, out, _ = run_org(str(tmp_path), capsys=capsys)
    assert code == 0 and "\x1b" not in out and "\x07" not in out


def test_page_references_no_url_at_all():
    org = merge(*(report(f"acme/r{i}", ai=i % 3, survived=3) for i in range(6)))
    page = org_html.render(org)
    assert not re.search(r"https?:", page, re.I)
    assert not re.search(r"""(src|href|action|xlink:href)\s*=""", page, re.I)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # and the CSP forbids any load anyway


# --- the page in a real browser -----------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install -y chromium) — the page is not rendered",
)


def chromium(*args: str, timeout: int = 60) -> str:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
            # no network: every host name fails to resolve, every request would go nowhere
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            f"--user-data-dir={profile}",
            *args,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
        return done.stdout


@needs_chromium
def test_page_renders_charts_and_table_in_chromium(tmp_path):
    org = merge(
        *(report(f"acme/r{i}", ai=i % 3, survived=3) for i in range(7)),
        *(report(name, ai=1) for name in HOSTILE),
    )
    page = tmp_path / "org.html"
    page.write_text(org_html.render(org))
    dom = chromium("--dump-dom", page.as_uri())
    assert dom.count("<svg") >= 2
    assert "<rect" in dom
    body = dom.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr>") == 12
    # the page's own script ran under its Content-Security-Policy (hash-allowed)
    assert 'data-sortable="yes"' in dom
    assert "alert(1)" in dom and "<script>alert" not in dom


@needs_chromium
def test_table_sorts_on_click_in_chromium(tmp_path):
    org = merge(
        report("b-mid", ai=2, survived=4),
        report("a-high", ai=4, survived=4),
        report("c-low", ai=0, survived=4),
    )
    html = org_html.render(org)
    # Drop the CSP so that the test's own click script may run; the page's script is unchanged.
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    click = (
        "<script>document.querySelectorAll('#repos th button')[1].click();"
        "document.querySelectorAll('#repos th button')[1].click();</script>"
    )
    page = tmp_path / "sort.html"
    page.write_text(html.replace("</body>", click + "</body>"))
    dom = chromium("--dump-dom", page.as_uri())
    order = re.findall(r'<td class="name" data-v="([^"]+)"', dom)
    assert order == ["a-high", "b-mid", "c-low"]  # Normalized, descending after two clicks
    assert 'aria-sort="descending"' in dom


# --- fetching the artifacts from GitHub ------------------------------------------------------

TOKEN = "t0ken-SECRET-org"
ARTIFACT = "scorer-report"


class ArtifactOrg:
    """The org endpoints the fake GitHub lacks, as extra routes: repositories, artifacts,
    artifact zips that redirect to a storage host on another origin."""

    def __init__(self, fake, httpserver):
        from gh_fake import example

        self.fake = fake
        self.example = example
        port = httpserver.port
        self.storage_base = f"http://127.0.0.1:{port}"  # another origin than localhost:port
        self.repos: list[dict] = []
        self.artifacts: dict[str, list[dict]] = {}
        self.zips: dict[int, bytes] = {}
        self.storage_requests: list[dict] = []
        self.locked: set[str] = set()
        self.gone: set[int] = set()
        fake.per_page_max = 2  # force pagination
        fake.route("GET", r"/orgs/acme/repos", self._repos)
        fake.route("GET", r"/repos/acme/([^/]+)/actions/artifacts", self._artifacts)
        fake.route("GET", r"/repos/acme/([^/]+)/actions/artifacts/(\d+)/zip", self._zip)
        fake.route("GET", r"/storage/(\d+)", self._storage)

    def add_repo(self, name: str, archived: bool = False) -> None:
        r = self.example("repos/list-for-org")[0]
        # GitHub's examples disagree (default branch "master", artifact runs on "main"); the
        # org report takes only artifacts made on the default branch.
        r.update(name=name, full_name=f"acme/{name}", archived=archived, default_branch="main")
        self.repos.append(r)

    def add_artifact(
        self,
        repo: str,
        art_id: int,
        created: str,
        data: bytes | None,
        *,
        expired: bool = False,
        name: str = ARTIFACT,
    ) -> None:
        a = self.example("actions/list-artifacts-for-repo")["artifacts"][0]
        a.update(id=art_id, name=name, expired=expired, created_at=created)
        self.artifacts.setdefault(repo, []).append(a)
        if data is not None:
            self.zips[art_id] = data

    def _authorized(self, request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    def _repos(self, request, m):
        from gh_fake import _json

        if not self._authorized(request):
            return _json({"message": "Bad credentials"}, 401)
        return self.fake._page(request, self.repos)

    def _artifacts(self, request, m):
        from gh_fake import _json

        if not self._authorized(request):
            return _json({"message": "Bad credentials"}, 401)
        if m[1] in self.locked:
            return _json({"message": "Resource not accessible by integration"}, 403)
        items = [a for a in self.artifacts.get(m[1], []) if a["name"] == request.args.get("name")]
        page = self.fake._page(request, items)
        body = json.loads(page.get_data())
        page.set_data(json.dumps({"total_count": len(items), "artifacts": body}))
        return page

    def _zip(self, request, m):
        from gh_fake import _json
        from werkzeug import Response

        if not self._authorized(request):
            return _json({"message": "Bad credentials"}, 401)
        art = int(m[2])
        if art in self.gone:
            return _json({"message": "Artifact has expired"}, 410)
        return Response(
            "", status=302, headers={"Location": f"{self.storage_base}/storage/{art}?sig=abc"}
        )

    def _storage(self, request, m):
        from werkzeug import Response

        self.storage_requests.append(dict(request.headers))
        return Response(self.zips[int(m[1])], status=200, content_type="application/zip")


@pytest.fixture
def gh(httpserver, monkeypatch):
    from gh_fake import FakeGitHub

    fake = FakeGitHub(token=TOKEN).install(httpserver)
    org = ArtifactOrg(fake, httpserver)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", fake.base_url)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    return org


def zbytes(members: dict) -> bytes:
    return _zip_bytes(members)


def test_github_org_fetches_the_newest_unexpired_artifact_of_each_repo(gh, tmp_path, capsys):
    from gh_fake import Fault

    for name in ("api", "web", "empty", "locked", "gone"):
        gh.add_repo(name, archived=name == "empty")
    gh.add_artifact(
        "api", 1, "2026-02-01T00:00:00Z", zbytes({"report.json": report("acme/api", ai=1)})
    )
    gh.add_artifact(
        "api", 2, "2026-03-01T00:00:00Z", zbytes({"report.json": report("acme/api", ai=2)})
    )
    gh.add_artifact("api", 3, "2026-03-02T00:00:00Z", None, expired=True)
    gh.add_artifact("api", 4, "2026-03-03T00:00:00Z", None, name="other-artifact")
    gh.add_artifact(
        "web", 5, "2026-03-01T00:00:00Z", zbytes({"out/r.json": report("acme/web", ai=3)})
    )
    gh.add_artifact("gone", 6, "2026-03-01T00:00:00Z", None)
    gh.gone.add(6)
    gh.locked.add("locked")
    gh.fake.fault(r"/repos/acme/web/actions/artifacts$", Fault(429, {"Retry-After": "0"}))
    out = tmp_path / "org.json"
    code, stdout, stderr = run_org(
        "--github-org", "acme", "--artifact-name", ARTIFACT, "--json", str(out), capsys=capsys
    )
    assert code == 0, stderr
    org = json.loads(out.read_text())
    rows = {r["name"]: r for r in org["repositories"]}
    assert sorted(rows) == ["acme/api", "acme/web"]
    assert rows["acme/api"]["metric"]["ai_deploys_survived"] == 2  # artifact 2, not 1 or 3
    assert rows["acme/api"]["source"] == "github:acme/api#artifact-2!report.json"
    problems = {p["source"]: p for p in org["problems"]}
    assert problems["github:acme/empty"]["kind"] == "no-artifact"
    assert "(archived)" in problems["github:acme/empty"]["detail"]
    assert problems["github:acme/locked"]["kind"] == "fetch"
    assert "403" in problems["github:acme/locked"]["detail"]
    assert problems["github:acme/gone"]["kind"] == "fetch"
    assert "410" in problems["github:acme/gone"]["detail"]
    # the rate limit was waited out, the pages were followed
    assert len(gh.fake.calls("GET", r"/repos/acme/web/actions/artifacts$")) == 2
    assert len(gh.fake.calls("GET", r"/orgs/acme/repos")) == 3
    # the storage host never saw the token; nothing printed or written holds it
    assert len(gh.storage_requests) == 2
    assert all("Authorization" not in h for h in gh.storage_requests)
    assert TOKEN not in stdout + stderr + out.read_text()


def test_github_org_with_a_refused_token_fails_with_exit_1(gh, monkeypatch, capsys):
    gh.add_repo("api")
    monkeypatch.setenv("GITHUB_TOKEN", "wrong-token")
    code, _, err = run_org("--github-org", "acme", "--artifact-name", ARTIFACT, capsys=capsys)
    assert code == 1
    assert "401" in err and "wrong-token" not in err


def test_github_org_needs_a_token(gh, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_TOKEN")
    code, _, err = run_org("--github-org", "acme", "--artifact-name", ARTIFACT, capsys=capsys)
    assert code == 2 and "GITHUB_TOKEN" in err


def test_github_org_and_local_files_together(gh, tmp_path, capsys):
    gh.add_repo("api")
    gh.add_artifact("api", 1, "2026-03-01T00:00:00Z", zbytes({"report.json": report("acme/api")}))
    write(tmp_path / "local.json", report("elsewhere/tool", ai=4))
    code, out, _ = run_org(
        str(tmp_path / "local.json"),
        "--github-org",
        "acme",
        "--artifact-name",
        ARTIFACT,
        "--format",
        "json",
        capsys=capsys,
    )
    assert code == 0
    assert json.loads(out)["totals"]["ai_deploys_survived"] == 1 + 4


# --- reports produced by real `scorer scan` runs -----------------------------------------------


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    from org_reports import real_org

    return real_org(tmp_path_factory.mktemp("real-org"))


def test_real_scans_merge_to_the_hand_sums(scanned, tmp_path, capsys):
    from org_reports import HOSTILE_NAME

    reports = scanned
    # as actions/download-artifact delivers them: one directory per artifact, and one zip
    inputs = tmp_path / "artifacts"
    (inputs / "api-report").mkdir(parents=True)
    shutil.copy(reports["acme/api"], inputs / "api-report" / "report.json")
    zip_of(tmp_path / "web.zip", {"scorer-report/report.json": reports["acme/web"].read_bytes()})
    out = tmp_path / "out"
    out.mkdir()
    code, _, stderr = run_org(
        str(inputs),
        str(tmp_path / "web.zip"),
        str(reports[HOSTILE_NAME]),
        "--json",
        str(out / "org.json"),
        "--html",
        str(out / "org.html"),
        "--markdown",
        str(out / "org.md"),
        "--jsonl",
        str(out / "org.jsonl"),
        capsys=capsys,
    )
    assert code == 0, stderr
    org = json.loads((out / "org.json").read_text())
    t = org["totals"]
    assert t["repositories"] == 3
    assert t["ai_deploys_survived"] == 1 + 2 + 1
    assert t["deploys_survived"] == 2 + 3 + 1
    assert t["contributors"] == 4  # ann, bob (also as BOB@X.IO), cat, dan
    assert t["contributors_sum"] == 2 + 2 + 1
    # v2: the repositories' developer-weeks added
    dw = sum(json.loads(p.read_text())["metric"]["developer_weeks"] for p in reports.values())
    assert t["developer_weeks"] == dw == 6.0
    assert org["normalized_deployments"] == pytest.approx(4 / 6)
    assert org["period"] == {
        "aligned": True,
        "since": "2026-01-26T00:00:00Z",
        "until": "2026-02-23T00:00:00Z",
        "weeks": 4.0,
        "periods": [
            {
                "since": "2026-01-26T00:00:00Z",
                "until": "2026-02-23T00:00:00Z",
                "weeks": 4.0,
                "repositories": 3,
            }
        ],
    }
    assert org["problems"] == []
    assert org["agents"]["claude-code"]["deploys_survived"] == 3
    assert org["agents"]["cursor"]["deploys_survived"] == 1
    # every repository figure is the report's own
    for name, path in reports.items():
        rep = json.loads(path.read_text())
        row = next(r for r in org["repositories"] if r["name"] == name)
        for k in (
            "normalized_deployments",
            "ai_deploys_survived",
            "deploys_survived",
            "contributors",
        ):
            assert row["metric"][k] == rep["metric"][k]
    # the weekly trend adds the reports' weeks
    weeks = {w["week"]: w for w in org["weeks"]}
    assert weeks["2026-W05"]["ai_deploys_survived"] == 1  # api v1.1.0
    assert weeks["2026-W06"]["ai_deploys_survived"] == 2  # web v0.2.0, hostile v1.0.0
    assert (
        sum(w["deploys_survived"] for w in org["weeks"] if "2026-W05" <= w["week"] <= "2026-W08")
        == 6
    )
    # the hostile name is escaped in every output
    page = (out / "org.html").read_text()
    assert "<script>alert" not in page and '"onmouseover' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=x" in page
    md = (out / "org.md").read_text()
    assert "<script" not in md and "@octocat" not in md and "<!--" not in md
    assert not re.search(r"https?:", page)
    rows = [json.loads(x) for x in (out / "org.jsonl").read_text().splitlines()]
    assert len({h for r in rows for h in r["contributors_hashed"]}) == 4


def test_real_scans_duplicates_versions_and_corruption(scanned, tmp_path, capsys):
    from org_reports import REAL_ORG, build_repo, scan

    reports = scanned
    d = tmp_path / "in"
    d.mkdir()
    # acme/api scanned again after one more AI deploy: the newer report must win
    repo = build_repo(
        tmp_path / "api2",
        [
            *REAL_ORG["acme/api"],
            (
                "commit",
                f"More\n\n{'Co-authored-by: Claude <noreply@anthropic.com>'}",
                "Ann",
                "ann@x.io",
                "2026-02-12T10:00:00+00:00",
            ),
            ("tag", "v1.3.0", "2026-02-13T10:00:00+00:00"),
        ],
    )
    newer = scan(repo.path, "acme/api", d / "api-new.json")
    older = json.loads(reports["acme/api"].read_text())
    older["generated_at"] = "2020-01-01T00:00:00Z"
    write(d / "api-old.json", older)
    v2 = json.loads(reports["acme/web"].read_text())
    v2["schema_version"] = 2
    write(d / "web-v2.json", v2)
    (d / "truncated.json").write_text(reports["acme/web"].read_text()[:200])
    code, out, _ = run_org(str(d), "--format", "json", capsys=capsys)
    assert code == 0
    org = json.loads(out)
    assert [r["name"] for r in org["repositories"]] == ["acme/api"]
    assert org["totals"]["ai_deploys_survived"] == newer["metric"]["ai_deploys_survived"] == 2
    lines = [problem_line(p) for p in org["problems"]]
    assert sorted(p["kind"] for p in org["problems"]) == ["corrupt", "duplicate", "schema-version"]
    assert any("api-old.json" in x and "2020-01-01" in x for x in lines)


@needs_chromium
def test_real_report_page_in_chromium(scanned, tmp_path, capsys):
    reports = scanned
    page = tmp_path / "org.html"
    code, _, _ = run_org(*map(str, reports.values()), "--html", str(page), capsys=capsys)
    assert code == 0
    dom = chromium("--dump-dom", page.as_uri())
    assert dom.count("<svg") == 3  # trend, agents, code survival
    assert dom.count("<rect") >= 4
    body = dom.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr>") == 3
    shot = tmp_path / "org.png"
    chromium("--window-size=1366,900", f"--screenshot={shot}", page.as_uri())
    assert shot.stat().st_size > 10_000


def test_scorer_cli_wires_the_org_command(tmp_path, capsys):
    from scorer.cli import main

    write(tmp_path / "a.json", report("acme/a", ai=2, people=("p@x",)))
    assert main(["org", str(tmp_path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["normalized_deployments"] == 0.5
    assert main(["org", str(tmp_path / "nope")]) == 2
    assert "nope: no such file or directory" in capsys.readouterr().err


def test_metric_v1_and_v2_reports_are_not_added_together():
    """A v1 report beside v2 ones is a problem line, not merged, unless asked for; asked for,
    it counts contributors x weeks developer-weeks."""
    v2 = report("acme/api", ai=3, survived=5, people=("ann@x.io", "bob@x.io"), developer_weeks=5)
    v1 = report("acme/old", ai=1, survived=1, people=("cat@x.io",), version=1)
    org = merge(v2, v1)
    assert [r["name"] for r in org["repositories"]] == ["acme/api"]
    [line] = [p for p in org["problems"] if p["kind"] == "metric-version"]
    assert line["detail"] == (
        "acme/old: metric v1 figures are not added to v2 ones; rescan it with this scorer "
        "(or pass --allow-mixed-versions); not merged"
    )
    assert org["normalized_deployments"] == pytest.approx(3 / 5)
    m = OrgMerger(allow_mixed_versions=True)
    for r in (v2, v1):
        m.add(r, "x")
    mixed = m.result()
    assert [p["kind"] for p in mixed["problems"]] == []
    assert mixed["totals"]["developer_weeks"] == 5 + 4.0
    assert mixed["normalized_deployments"] == pytest.approx(4 / 9)
