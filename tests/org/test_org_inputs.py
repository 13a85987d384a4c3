"""``scorer org`` inputs that would poison or stop the org report: numbers that disagree with
their own period (case 7), an artifact holding another repository's report (case 7), and
special files in an input directory (case 9) — each a problem line, never merged, never a
hang or a crash (issue 13)."""

from __future__ import annotations

import io
import json
import os
import zipfile

import pytest
from hostile_run import scorer_child
from org_reports import report

from scorer.cli import main
from scorer.org.merge import OrgMerger


def _strict_json(text: str) -> dict:
    def no_constant(name: str) -> None:
        raise AssertionError(f"not JSON: {name}")

    return json.loads(text, parse_constant=no_constant)


def _merge(*reports: dict) -> dict:
    m = OrgMerger()
    for n, r in enumerate(reports):
        m.add(r, f"r{n}.json")
    return m.result()


def _poisoned(**changes) -> dict:
    r = report("acme/bad", ai=1, people=("b@example.com",))
    for dotted, value in changes.items():
        block, key = dotted.split("__")
        r[block][key] = value
    return r


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        (
            {"period__weeks": 5e-324},
            "period.weeks is 4.94066e-324 but the period lasts 4 weeks",
        ),
        (
            {"period__weeks": 1e-6, "metric__weeks": 1e-6, "metric__normalized_deployments": 1e6},
            "period.weeks is 1e-06 but the period lasts 4 weeks",
        ),
        (
            {"metric__weeks": 5e-324},
            "metric.weeks is 4.94066e-324 but the period lasts 4 weeks",
        ),
        (
            {"period__until": "2026-01-26T00:00:01Z", "period__weeks": 1 / 604800},
            "the period is shorter than a day",
        ),
        (
            {"metric__normalized_deployments": 1000.0},
            "metric.normalized_deployments is 1000, but the report's own counts give 0.25",
        ),
        (
            {"period__attribution_coverage": 7.0},
            "period.attribution_coverage is 7, but the report's own counts give 0.3",
        ),
        ({"period__ai_changes": 11}, "period.ai_changes exceeds period.changes"),
    ],
)
def test_a_report_whose_numbers_disagree_is_a_problem_not_merged(changes, detail):
    good = report("acme/good", ai=2, people=("a@example.com",))
    org = _merge(good, _poisoned(**changes))
    assert [r["name"] for r in org["repositories"]] == ["acme/good"]
    assert [p for p in org["problems"] if p["kind"] == "invalid"] == [
        {"kind": "invalid", "source": "r1.json", "detail": detail}
    ]
    assert org["normalized_deployments"] == 0.5
    _strict_json(json.dumps(org))


def test_window_days_out_of_range_is_a_problem():
    bad = report("acme/bad")
    bad["window_days"] = 1e6
    org = _merge(report("acme/good"), bad)
    assert org["problems"][-1]["detail"] == "window_days is not between 0 and 10 years"


def test_org_json_stays_valid_json_with_a_poisoned_input(tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    (d / "good.json").write_text(json.dumps(report("acme/good", ai=2)))
    (d / "bad.json").write_text(json.dumps(_poisoned(period__weeks=5e-324)))
    out = tmp_path / "org.json"
    assert main(["org", str(d), "--json", str(out), "--format", "json"]) == 0
    org = _strict_json(out.read_text())
    assert org["normalized_deployments"] == 0.5
    assert [p["kind"] for p in org["problems"]] == ["invalid"]
    capsys.readouterr()


# -- special files in an input directory ----------------------------------------------------


def test_special_files_in_an_input_directory_are_problem_lines(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "good.json").write_text(json.dumps(report("acme/good", ai=2)))
    os.symlink(tmp_path / "nowhere.json", d / "dangling.json")
    os.symlink("/dev/zero", d / "zero.json")
    os.symlink("/dev/zero", d / "zero.zip")
    os.mkfifo(d / "fifo.json")
    os.mkfifo(d / "fifo.zip")
    with open(d / "sparse.json", "wb") as fh:
        fh.truncate(2 << 30)  # 2 GiB, no blocks
    os.symlink(d / "good.json", d / "link-to-good.json")  # a link to a regular file is read
    out = tmp_path / "org.json"
    run = scorer_child(
        "org", str(d), "--json", str(out), "--format", "json", timeout=30, memory=1 << 30
    )
    assert run.returncode == 0, run.stderr
    org = _strict_json(out.read_text())
    assert [(p["kind"], os.path.basename(p["source"]), p["detail"]) for p in org["problems"]] == [
        ("corrupt", "dangling.json", "a dangling symbolic link"),
        ("corrupt", "fifo.json", "not a regular file (a FIFO)"),
        ("corrupt", "fifo.zip", "not a regular file (a FIFO)"),
        ("duplicate", "link-to-good.json", org["problems"][3]["detail"]),
        ("corrupt", "sparse.json", "2147483648 bytes: too large to be a report"),
        ("corrupt", "zero.json", "not a regular file (a character device)"),
        ("corrupt", "zero.zip", "not a regular file (a character device)"),
    ]
    assert [r["name"] for r in org["repositories"]] == ["acme/good"]


def test_a_fifo_named_as_an_input_does_not_hang(tmp_path):
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    run = scorer_child("org", str(fifo), timeout=30)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"scorer: corrupt: {fifo}: not a regular file (a FIFO)",
        "scorer: error: no repository report could be merged from the inputs",
    ]


# -- --github-org: the report must be of the artifact's repository ---------------------------

TOKEN = "t0ken-SECRET-org"


def _zip(members: dict[str, dict]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, json.dumps(data))
    return buf.getvalue()


def test_github_org_artifact_with_another_repositorys_report(httpserver, tmp_path, monkeypatch):
    from gh_fake import FakeGitHub, _json, example
    from werkzeug import Response

    fake = FakeGitHub(token=TOKEN).install(httpserver)
    repos = []
    for name in ("api", "web"):
        r = example("repos/list-for-org")[0]
        r.update(name=name, full_name=f"acme/{name}", default_branch="main")
        repos.append(r)
    zips = {
        1: _zip({"report.json": report("acme/api", ai=1)}),
        2: _zip({"report.json": report("acme/api", ai=9, people=("x@example.com",))}),
    }

    def artifacts(request, m):
        a = example("actions/list-artifacts-for-repo")["artifacts"][0]
        a.update(id=1 if m[1] == "api" else 2, name="scorer-report", expired=False)
        return _json({"total_count": 1, "artifacts": [a]})

    fake.route("GET", r"/orgs/acme/repos", lambda request, m: _json(repos))
    fake.route("GET", r"/repos/acme/([^/]+)/actions/artifacts", artifacts)
    fake.route(
        "GET",
        r"/repos/acme/[^/]+/actions/artifacts/(\d+)/zip",
        lambda request, m: Response(zips[int(m[1])], content_type="application/zip"),
    )
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", fake.base_url)
    out = tmp_path / "org.json"
    argv = ["org", "--github-org", "acme", "--artifact-name", "scorer-report", "--json", str(out)]
    assert main([*argv, "--format", "json"]) == 0
    org = json.loads(out.read_text())
    assert [r["name"] for r in org["repositories"]] == ["acme/api"]
    assert org["repositories"][0]["metric"]["ai_deploys_survived"] == 1
    assert [p for p in org["problems"] if p["kind"] == "repository-mismatch"] == [
        {
            "kind": "repository-mismatch",
            "source": "github:acme/web#artifact-2!report.json",
            "detail": "the report is of 'acme/api', but the artifact came from acme/web; "
            "not merged",
        }
    ]
