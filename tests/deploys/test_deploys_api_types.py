"""Deployments APIs answering with the wrong JSON types are one clear line each (issue 13,
case 10); a deployment id carrying a newline cannot forge a workflow command on stderr or
stdout (case 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gh_fake import FakeGitHub
from gitbuild import GitRepo
from werkzeug import Response

from scorer.cli import main
from scorer.deploys.github import GitHubSource
from scorer.deploys.gitlab import GitLabSource
from scorer.deploys.interface import SourceContext
from scorer.errors import ServiceError
from scorer.rest import RestClient

TOKEN = "t0ken-SECRET"
SHA = "a" * 40
FORGED = "7\n::warning file=x::pwned"


@pytest.fixture
def fake(httpserver) -> FakeGitHub:
    return FakeGitHub(token=TOKEN).install(httpserver)


def _json(data: object) -> Response:
    return Response(json.dumps(data), content_type="application/json")


def _github_events(fake: FakeGitHub, deployments: list, statuses: list | None = None) -> list:
    fake.route("GET", r"/repos/octo/app/deployments", lambda _r, _m: _json(deployments))
    fake.route("GET", r"/repos/octo/app/deployments/\d+/statuses", lambda _r, _m: _json(statuses))
    env = {"GITHUB_API_URL": fake.base_url, "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "octo/app"}
    src = GitHubSource(
        None, None, client_factory=lambda c: RestClient.from_github_env(c.env), log=print
    )
    return list(src.events(SourceContext(Path("."), Path(".git"), Path("."), env=env)))


def _status(created_at: object = "2026-09-01T12:00:00Z", state: object = "success") -> dict:
    return {"id": 1, "state": state, "created_at": created_at}


@pytest.mark.parametrize(
    ("deployments", "statuses", "line"),
    [
        (["abc"], [], "a GitHub deployment is a string ('abc'), not a JSON object"),
        (
            [{"id": 5, "sha": SHA}],
            [_status(created_at=1700000000)],
            "GitHub deployment 5: a status's created_at is a number (1700000000), not a string",
        ),
        ([{"id": 5, "sha": SHA}], ["done"], "GitHub deployment 5: a status is a string ('done'), "
         "not a JSON object"),
        ([{"id": "5/../../x", "sha": SHA}], [], "a GitHub deployment's id is a string "
         "('5/../../x'), not an integer"),
        ([{"id": 5, "sha": ["x"]}], [_status()], "GitHub deployment 5: sha is a list (['x']), "
         "not a string"),
        ([{"id": 5, "sha": SHA}], [_status(state=3)], "GitHub deployment 5: a status's state is "
         "a number (3), not a string"),
    ],
)  # fmt: skip
def test_github_wrong_types_are_one_line(fake, deployments, statuses, line):
    with pytest.raises(ServiceError) as err:
        _github_events(fake, deployments, statuses)
    assert str(err.value) == line


def test_a_deployment_id_with_a_newline_is_one_escaped_line(fake):
    with pytest.raises(ServiceError) as err:
        _github_events(fake, [{"id": FORGED, "sha": SHA}], [])
    assert str(err.value) == (
        "a GitHub deployment's id is a string ('7\\n::warning file=x::pwned'), not an integer"
    )


def test_gitlab_wrong_types_are_one_line(httpserver):
    answers = iter(
        [
            ["abc"],
            [{"id": True, "status": "success"}],
            [{"id": 3, "status": "success", "sha": SHA, "finished_at": 1700000000}],
            [{"id": 4, "status": {"x": 1}}],
        ]
    )
    httpserver.expect_request("/api/v4/projects/42/deployments").respond_with_handler(
        lambda _r: _json(next(answers))
    )
    env = {"CI_API_V4_URL": httpserver.url_for("/api/v4"), "CI_PROJECT_ID": "42"}
    context = SourceContext(Path("."), Path(".git"), Path("."), env=env)
    lines = []
    for _ in range(4):
        with pytest.raises(ServiceError) as err:
            list(GitLabSource(None, None).events(context))
        lines.append(str(err.value))
    assert lines == [
        "a GitLab deployment is a string ('abc'), not a JSON object",
        "a GitLab deployment's id is a boolean (True), not an integer",
        "GitLab deployment 3: finished_at is a number (1700000000), not a string",
        "GitLab deployment 4: status is an object ({'x': 1}), not a string",
    ]


def test_skipped_deployment_ids_on_stderr_are_escaped(capsys):
    src = GitLabSource(None, None)  # the shared ApiSource log, by default to stderr
    src.skip(FORGED)
    src.report_skipped("created")
    err = capsys.readouterr().err
    assert err == (
        "scorer: gitlab deployments: skipped 1 not finished (created), e.g. "
        "7\\x0a::warning file=x::pwned\n"
    )


def test_scan_against_a_forged_deployment_id_prints_no_workflow_command(
    fake, tmp_path, monkeypatch, capsys
):
    r = GitRepo(tmp_path / "repo")
    r.commit("Initial", when="2026-09-01T12:00:00+0000")
    fake.route(
        "GET", r"/repos/octo/app/deployments", lambda _r, _m: _json([{"id": FORGED, "sha": SHA}])
    )
    for k, v in {"GITHUB_API_URL": fake.base_url, "GITHUB_TOKEN": TOKEN}.items():
        monkeypatch.setenv(k, v)
    rc = main(["scan", str(r.path), "--deploys", "github", "--repository", "octo/app"])
    out, err = capsys.readouterr()
    assert rc == 1
    assert not any(line.startswith("::") for line in (out + err).splitlines())
    assert err == (
        "scorer: error: a GitHub deployment's id is a string ('7\\n::warning file=x::pwned'), "
        "not an integer\n"
    )
