"""Deploy sources github[:ENV] and gitlab[:ENV] against local fake APIs."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from gh_fake import FakeGitHub, Fault
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scorer.deploys.github import GitHubSource, decide
from scorer.deploys.gitlab import GitLabSource
from scorer.deploys.interface import SourceContext
from scorer.errors import InputError
from scorer.rest import RestClient

TOKEN = "t0ken-SECRET"
SHA = ["a" * 40, "b" * 40, "c" * 40, "d" * 40, "e" * 40, "f" * 40]


def ctx(env: dict, repository: str = "") -> SourceContext:
    return SourceContext(Path("."), Path(".git"), Path("."), env=env, repository=repository)


def no_sleep_client(env):
    return RestClient.from_github_env(env, sleep=lambda s: None, log=lambda line: None)


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeGitHub:
    return FakeGitHub(token=TOKEN).install(httpserver)


def gh_env(fake: FakeGitHub) -> dict:
    return {
        "GITHUB_API_URL": fake.base_url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": fake.repo,
    }


def source(arg=None, env=None, logs=None) -> GitHubSource:
    return GitHubSource(
        arg,
        env,
        client_factory=lambda c: no_sleep_client(c.env),
        log=(logs.append if logs is not None else lambda line: None),
    )


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([("success", "2024-01-01T10:00:00Z")], ("success", "2024-01-01T10:00:00Z")),
        (
            [
                ("pending", "2024-01-01T09:00:00Z"),
                ("in_progress", "2024-01-01T09:30:00Z"),
                ("success", "2024-01-01T10:00:00Z"),
                ("inactive", "2024-01-03T10:00:00Z"),
            ],
            ("success", "2024-01-01T10:00:00Z"),
        ),
        ([("failure", "2024-01-01T10:00:00Z")], ("failure", "2024-01-01T10:00:00Z")),
        ([("error", "2024-01-01T10:00:00Z")], ("error", "2024-01-01T10:00:00Z")),
        (
            [("success", "2024-01-01T10:00:00Z"), ("failure", "2024-01-01T11:00:00Z")],
            ("failure", "2024-01-01T11:00:00Z"),
        ),
        (
            [("failure", "2024-01-01T10:00:00Z"), ("inactive", "2024-01-02T00:00:00Z")],
            ("failure", "2024-01-01T10:00:00Z"),
        ),
        ([], None),
        ([("pending", "2024-01-01T10:00:00Z")], None),
        ([("queued", "2024-01-01T10:00:00Z")], None),
        ([("success", "2024-01-01T10:00:00Z"), ("in_progress", "2024-01-02T00:00:00Z")], None),
        ([("inactive", "2024-01-01T10:00:00Z")], None),
    ],
)
def test_latest_status_decides(states, expected):
    statuses = [{"id": i, "state": s, "created_at": t} for i, (s, t) in enumerate(states)]
    assert decide(statuses) == expected
    assert decide(list(reversed(statuses))) == expected  # order of the answer does not matter


def test_events_from_deployments_and_statuses(fake):
    fake.add_deployment(SHA[0], statuses=[("success", "2024-01-01T10:00:00Z")])
    fake.add_deployment(
        SHA[1], statuses=[("pending", "2024-01-02T09:00:00Z"), ("failure", "2024-01-02T10:00:00Z")]
    )
    fake.add_deployment(
        SHA[2], statuses=[("success", "2024-01-03T10:00:00Z"), ("inactive", "2024-01-05T00:00:00Z")]
    )
    fake.add_deployment(SHA[3], statuses=[("error", "2024-01-04T10:00:00Z")])
    fake.add_deployment(SHA[4], "staging", statuses=[("success", "2024-01-04T11:00:00Z")])
    fake.add_deployment(SHA[5], statuses=[("in_progress", "2024-01-06T10:00:00Z")])
    fake.add_deployment(SHA[5], statuses=[])
    logs: list[str] = []
    src = source(logs=logs)
    events = list(src.events(ctx(gh_env(fake))))
    assert [(e.sha, e.environment, e.status) for e in events] == [
        (SHA[0], "production", "success"),
        (SHA[1], "production", "failure"),
        (SHA[2], "production", "success"),
        (SHA[3], "production", "error"),
        (SHA[4], "staging", "success"),
    ]
    assert events[0].time == datetime(2024, 1, 1, 10, tzinfo=timezone.utc)
    assert events[2].time == datetime(2024, 1, 3, 10, tzinfo=timezone.utc)  # not the inactive
    assert all(e.where.startswith("GitHub deployment ") for e in events)
    assert src.skipped == 2
    assert len(logs) == 1 and "skipped 2" in logs[0]
    # the token went to every call
    assert all(r["headers"].get("Authorization") == f"Bearer {TOKEN}" for r in fake.requests)


def test_environment_filter_is_sent_to_the_api(fake):
    fake.add_deployment(SHA[0], "production", statuses=[("success", "2024-01-01T10:00:00Z")])
    fake.add_deployment(SHA[1], "staging", statuses=[("success", "2024-01-02T10:00:00Z")])
    events = list(source("staging").events(ctx(gh_env(fake))))
    assert [e.sha for e in events] == [SHA[1]]
    assert fake.calls("GET", r"/deployments$")[0]["query"]["environment"] == "staging"
    # the config's environment works the same when the spec has none
    events = list(source(None, "production").events(ctx(gh_env(fake))))
    assert [e.sha for e in events] == [SHA[0]]


def test_many_deployments_over_several_pages_with_rate_limits_and_502s(fake):
    for i in range(230):
        fake.add_deployment(
            SHA[i % 6], statuses=[("success", f"2024-02-01T{i // 60:02d}:{i % 60:02d}:00Z")]
        )
    fake.fault(r"/deployments$", Fault(502, {}, "Server Error"))
    fake.fault(r"/statuses$", Fault(429, {"Retry-After": "1"}, "secondary rate limit"))
    fake.fault(
        r"/deployments$",
        Fault(
            403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"}, "API rate limit exceeded"
        ),
    )
    events = list(source().events(ctx(gh_env(fake))))
    assert len(events) == 230
    assert [e.time for e in events] == sorted(e.time for e in events)
    pages = fake.calls("GET", r"/deployments$")
    assert {p["query"].get("page", "1") for p in pages} == {"1", "2", "3"}


def test_repository_is_required():
    with pytest.raises(InputError, match="GITHUB_REPOSITORY"):
        list(source().events(ctx({})))


def test_repository_from_context_wins(fake):
    fake.add_deployment(SHA[0], statuses=[("success", "2024-01-01T10:00:00Z")])
    env = gh_env(fake) | {"GITHUB_REPOSITORY": "someone/else"}
    assert len(list(source().events(ctx(env, repository=fake.repo)))) == 1


def test_gh_token_fallback(fake):
    fake.add_deployment(SHA[0], statuses=[("success", "2024-01-01T10:00:00Z")])
    env = gh_env(fake)
    env["GH_TOKEN"] = env.pop("GITHUB_TOKEN")
    assert len(list(GitHubSource(None, None).events(ctx(env)))) == 1


# ---------------------------------------------------------------------------------- GitLab


class FakeGitLab:
    def __init__(self, deployments: list[dict], per_page_max: int = 2) -> None:
        self.deployments = deployments
        self.per_page_max = per_page_max
        self.requests: list[dict] = []

    def handle(self, request: Request) -> Response:
        self.requests.append(
            {"path": request.path, "headers": dict(request.headers), "query": dict(request.args)}
        )
        if (
            request.headers.get("PRIVATE-TOKEN") != "glpat-x"
            and request.headers.get("JOB-TOKEN") != "job-x"
        ):
            return Response(json.dumps({"message": "401 Unauthorized"}), 401)
        items = self.deployments
        if env := request.args.get("environment"):
            items = [d for d in items if d["environment"]["name"] == env]
        per = min(int(request.args.get("per_page", 20)), self.per_page_max)
        page = int(request.args.get("page", 1))
        chunk = items[(page - 1) * per : page * per]
        more = page * per < len(items)
        return Response(
            json.dumps(chunk),
            200,
            content_type="application/json",
            headers={"x-next-page": str(page + 1) if more else ""},
        )


def gl_dep(id_, sha, status, when, env="production"):
    return {
        "id": id_,
        "iid": id_,
        "ref": "main",
        "sha": sha,
        "status": status,
        "created_at": "2024-01-01T00:00:00.000Z",
        "updated_at": when,
        "environment": {"id": 1, "name": env},
    }


def test_gitlab_deployments(httpserver: HTTPServer):
    fake = FakeGitLab(
        [
            gl_dep(1, SHA[0], "success", "2024-01-01T10:00:00.000+00:00"),
            gl_dep(2, SHA[1], "failed", "2024-01-02T10:00:00.000Z"),
            gl_dep(3, SHA[2], "canceled", "2024-01-03T10:00:00.000Z"),
            gl_dep(4, SHA[3], "running", "2024-01-04T10:00:00.000Z"),
            gl_dep(5, SHA[4], "created", "2024-01-05T10:00:00.000Z"),
            gl_dep(6, SHA[5], "success", "2024-01-06T10:00:00.000Z", env="staging"),
        ]
    )
    httpserver.expect_request("/api/v4/projects/42/deployments").respond_with_handler(fake.handle)
    env = {
        "CI_API_V4_URL": httpserver.url_for("/api/v4"),
        "CI_PROJECT_ID": "42",
        "GITLAB_TOKEN": "glpat-x",
        "CI_JOB_TOKEN": "job-x",
    }
    logs: list[str] = []
    src = GitLabSource(None, None, log=logs.append)
    events = list(src.events(ctx(env)))
    assert [(e.id, e.status, e.environment) for e in events] == [
        ("1", "success", "production"),
        ("2", "failure", "production"),
        ("3", "error", "production"),
        ("6", "success", "staging"),
    ]
    assert src.skipped == 2 and "skipped 2" in logs[0]
    assert len(fake.requests) == 3  # pagination by x-next-page
    assert all(r["headers"].get("Private-Token") == "glpat-x" for r in fake.requests)
    assert all("Job-Token" not in r["headers"] for r in fake.requests)

    # with the job token only, it is sent as JOB-TOKEN; gitlab:ENV filters
    env.pop("GITLAB_TOKEN")
    fake.requests.clear()
    events = list(GitLabSource("staging", None, log=logs.append).events(ctx(env)))
    assert [e.id for e in events] == ["6"]
    assert fake.requests[0]["headers"].get("Job-Token") == "job-x"
    assert fake.requests[0]["query"]["environment"] == "staging"


def test_gitlab_needs_api_url_and_project():
    with pytest.raises(InputError, match="CI_API_V4_URL"):
        list(GitLabSource(None, None).events(ctx({"CI_PROJECT_ID": "1"})))
    with pytest.raises(InputError, match="CI_PROJECT_ID"):
        list(
            GitLabSource(None, None).events(ctx({"CI_API_V4_URL": "https://gitlab.example/api/v4"}))
        )
