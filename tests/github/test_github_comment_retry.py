"""A PR comment POST answered 502 may or may not have created the comment: the comments are
listed again and the POST sent again only when ours is missing (bounded); a comment that
cannot be written is a ``::warning::`` and ``ci`` succeeds (issue 13, case 8). A comment id
that is not an integer is one clear line (case 10)."""

from __future__ import annotations

import json

import pytest
from ci_env import ci_env, run_ci
from gh_fake import FakeGitHub, Fault, bot_user, example
from gitbuild import GitRepo

from scorer.github.comment import MARKER, POST_TRIES, upsert_comment
from scorer.rest import APIError, RestClient

TOKEN = "t0ken-SECRET"
COMMENTS = r"/repos/octo/app/issues/7/comments$"
BODY = f"{MARKER}\nscore"


@pytest.fixture
def fake(httpserver) -> FakeGitHub:
    return FakeGitHub(token=TOKEN).install(httpserver)


def client(fake: FakeGitHub) -> RestClient:
    return RestClient(fake.base_url, auth_value=f"Bearer {TOKEN}", max_wait=0)


def test_post_502_that_created_the_comment_is_not_posted_twice(fake):
    def created_then_502(request, _m):
        fake.add_comment(7, request.get_json()["body"], bot_user())
        from werkzeug import Response

        return Response('{"message": "Bad Gateway"}', status=502)

    fake.route("POST", r"/repos/octo/app/issues/7/comments", created_then_502)
    assert upsert_comment(client(fake), "octo/app", 7, BODY) == "created"
    assert len(fake.calls("POST", COMMENTS)) == 1
    assert len(fake.calls("GET", COMMENTS)) == 2  # before, and after the 502
    assert [c["body"] for c in fake.comments[7]] == [BODY]


def test_post_502_that_created_nothing_is_posted_again(fake):
    fake.fault(COMMENTS, Fault(502, methods=("POST",)))
    assert upsert_comment(client(fake), "octo/app", 7, BODY) == "created"
    assert len(fake.calls("POST", COMMENTS)) == 2
    assert [c["body"] for c in fake.comments[7]] == [BODY]


def test_post_502_every_time_is_bounded(fake):
    fake.fault(COMMENTS, Fault(502, methods=("POST",), times=100))
    with pytest.raises(APIError, match="returned HTTP 502"):
        upsert_comment(client(fake), "octo/app", 7, BODY)
    assert len(fake.calls("POST", COMMENTS)) == POST_TRIES == 3
    assert fake.comments.get(7) is None


def test_a_comment_id_that_is_not_an_integer_is_one_line(fake):
    c = fake.add_comment(7, f"{MARKER}\nold", bot_user())
    c["id"] = "abc"
    with pytest.raises(APIError) as err:
        upsert_comment(client(fake), "octo/app", 7, BODY)
    assert str(err.value) == (
        "GitHub API: our comment on pull request #7 has the id 'abc', not an integer"
    )
    assert fake.calls("PATCH", r".") == [] and fake.calls("POST", r".") == []


def _pr_world(tmp_path, fake: FakeGitHub) -> dict:
    r = GitRepo(tmp_path / "repo")
    base = r.commit("Initial", when="2026-09-01T12:00:00+0000")
    r.tag("v1", when="2026-09-01T13:00:00+0000")
    head = r.commit("Change", when="2026-09-02T12:00:00+0000")
    pr = example("pulls/get")
    pr.update(number=7)
    pr["base"].update(sha=base, ref="main")
    pr["head"].update(sha=head, ref="feature")
    env = ci_env(
        tmp_path,
        r.path,
        head,
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_API_URL=fake.base_url,
        GITHUB_TOKEN=TOKEN,
    )
    (tmp_path / "event.json").write_text(json.dumps({"number": 7, "pull_request": pr}))
    return env


def test_ci_succeeds_with_a_warning_when_the_comment_cannot_be_written(
    tmp_path, fake, monkeypatch, capsys
):
    env = _pr_world(tmp_path, fake)
    fake.fault(COMMENTS, Fault(502, methods=("POST",), times=100))
    rc = run_ci(monkeypatch, env, "--now", "2026-10-01T00:00:00Z", "--deploys", "tags:v*")
    out, err = capsys.readouterr()
    assert rc == 0
    warnings = [line for line in out.splitlines() if line.startswith("::")]
    assert warnings == [
        "::warning title=scorer::scorer: the pull request comment was not written: GitHub API: "
        "POST /repos/octo/app/issues/7/comments returned HTTP 502"
    ]
    assert json.loads((tmp_path / "normalized-deployments.json").read_text())["metric"]
    assert "normalized-deployments<<" in (tmp_path / "github_output").read_text()
    assert "Traceback" not in err


def test_ci_succeeds_with_a_warning_when_the_api_is_unreachable(
    tmp_path, fake, monkeypatch, capsys
):
    env = _pr_world(tmp_path, fake)
    env["GITHUB_API_URL"] = "http://127.0.0.1:9"  # discard port: connection refused
    rc = run_ci(monkeypatch, env, "--now", "2026-10-01T00:00:00Z", "--deploys", "tags:v*")
    out, _ = capsys.readouterr()
    assert rc == 0
    assert [line for line in out.splitlines() if line.startswith("::")] == [
        "::warning title=scorer::scorer: the pull request comment was not written: GitHub API: "
        "GET /repos/octo/app/issues/7/comments: ConnectionError; waiting 1s more would pass the "
        "0s wait budget (0s left; SCORER_HTTP_MAX_WAIT sets it); try again later"
    ]
