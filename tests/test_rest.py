"""The REST client against a local fake GitHub: pagination, rate limits, retries, redirects,
and the token never leaving the API host nor appearing in any message."""

from __future__ import annotations

import pytest
import requests
from gh_fake import BOT, FakeGitHub, Fault, _json, bot_user, user
from pytest_httpserver import HTTPServer
from werkzeug import Response

from scorer.errors import InputError, ServiceError
from scorer.rest import APIError, RestClient

TOKEN = "t0ken-SECRET"


class Clock:
    """A fake clock whose sleep advances time instead of waiting."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeGitHub:
    return FakeGitHub(token=TOKEN).install(httpserver)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def logs() -> list[str]:
    return []


def make_client(fake: FakeGitHub, clock: Clock, logs: list[str], **kw) -> RestClient:
    env = {"GITHUB_API_URL": fake.base_url, "GITHUB_TOKEN": TOKEN}
    kw.setdefault("sleep", clock.sleep)
    kw.setdefault("clock", clock.time)
    kw.setdefault("log", logs.append)
    return RestClient.from_github_env(env, **kw)


def test_paginates_over_several_pages_following_link_next(fake, clock, logs):
    for i in range(250):
        fake.add_comment(7, f"comment {i}", user(f"u{i}"))
    client = make_client(fake, clock, logs)
    bodies = [
        c["body"] for c in client.paginate("/repos/octo/app/issues/7/comments", {"per_page": 100})
    ]
    assert bodies == [f"comment {i}" for i in range(250)]
    pages = fake.calls("GET", r"/issues/7/comments$")
    assert [p["query"].get("page", "1") for p in pages] == ["1", "2", "3"]
    assert all(p["query"]["per_page"] == "100" for p in pages)
    assert not logs and not clock.sleeps


def test_paginate_items_key_and_max_pages(httpserver: HTTPServer, clock, logs):
    httpserver.expect_request("/things").respond_with_json(
        {"total_count": 3, "artifacts": [1, 2]},
        headers={"Link": f'<{httpserver.url_for("/things")}?page=2>; rel="next"'},
    )
    client = RestClient(
        httpserver.url_for(""), sleep=clock.sleep, clock=clock.time, log=logs.append
    )
    assert list(client.paginate("/things", items_key="artifacts", max_pages=1)) == [1, 2]


def test_gitlab_x_next_page(httpserver: HTTPServer, clock, logs):
    httpserver.expect_request("/items", query_string="per_page=2").respond_with_json(
        [1, 2], headers={"x-next-page": "2"}
    )
    httpserver.expect_request("/items", query_string="per_page=2&page=2").respond_with_json(
        [3], headers={"x-next-page": ""}
    )
    client = RestClient(
        httpserver.url_for(""), sleep=clock.sleep, clock=clock.time, log=logs.append
    )
    assert list(client.paginate("/items", {"per_page": 2})) == [1, 2, 3]


def test_primary_rate_limit_waits_until_reset(fake, clock, logs):
    fake.add_comment(1, "hi", user("a"))
    reset = int(clock.now) + 42
    fake.fault(
        r"/comments$",
        Fault(
            403,
            {
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(reset),
                "x-ratelimit-limit": "5000",
            },
            "API rate limit exceeded for installation ID 1.",
        ),
    )
    client = make_client(fake, clock, logs)
    assert [c["body"] for c in client.paginate("/repos/octo/app/issues/1/comments")] == ["hi"]
    assert clock.sleeps == [43.0]
    assert len(logs) == 1
    assert "rate limit" in logs[0] and "waiting 43s" in logs[0]
    assert "/repos/octo/app/issues/1/comments" in logs[0]
    assert TOKEN not in logs[0]


def test_primary_rate_limit_on_429_too(fake, clock, logs):
    fake.fault(
        r"/comments$",
        Fault(429, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(clock.now) + 5)}),
    )
    client = make_client(fake, clock, logs)
    assert list(client.paginate("/repos/octo/app/issues/1/comments")) == []
    assert clock.sleeps == [6.0]


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_honours_retry_after(fake, clock, logs, status):
    fake.fault(
        r"/comments$",
        Fault(status, {"Retry-After": "30"}, "You have exceeded a secondary rate limit.", times=2),
    )
    client = make_client(fake, clock, logs)
    assert client.get_json("/repos/octo/app/issues/1/comments") == []
    assert clock.sleeps == [30.0, 30.0]
    assert len(logs) == 2 and all("Retry-After" in line for line in logs)


def test_secondary_rate_limit_without_headers_waits_a_minute(fake, clock, logs):
    fake.fault(r"/comments$", Fault(403, {}, "You have exceeded a secondary rate limit."))
    client = make_client(fake, clock, logs)
    assert client.get_json("/repos/octo/app/issues/1/comments") == []
    assert clock.sleeps == [60.0]


def test_5xx_retried_with_exponential_backoff(fake, clock, logs):
    fake.fault(r"/comments$", Fault(502, {}, "Server Error", times=3))
    client = make_client(fake, clock, logs)
    assert client.get_json("/repos/octo/app/issues/1/comments") == []
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert len(logs) == 3 and all("HTTP 502" in line for line in logs)


def test_5xx_gives_up_after_max_tries(fake, clock, logs):
    fake.fault(r"/comments$", Fault(502, {}, "Server Error", times=10))
    client = make_client(fake, clock, logs, max_tries=3)
    with pytest.raises(APIError) as info:
        client.get_json("/repos/octo/app/issues/1/comments")
    assert info.value.status == 502
    assert "HTTP 502 after 3 tries" in str(info.value)
    assert clock.sleeps == [1.0, 2.0]
    assert len(fake.calls("GET", "/comments$")) == 3


def test_post_is_not_retried_on_5xx(fake, clock, logs):
    """A POST that met a 502 may have created the comment: retrying could post a second."""
    fake.fault(r"/comments$", Fault(502, {}, "Server Error", methods=("POST",)))
    client = make_client(fake, clock, logs)
    with pytest.raises(APIError) as info:
        client.post("/repos/octo/app/issues/1/comments", {"body": "x"})
    assert info.value.status == 502
    assert len(fake.calls("POST", "/comments$")) == 1
    assert not clock.sleeps


def test_post_is_retried_after_a_rate_limit(fake, clock, logs):
    fake.fault(
        r"/comments$", Fault(403, {"Retry-After": "3"}, "secondary rate limit", methods=("POST",))
    )
    client = make_client(fake, clock, logs)
    created = client.post("/repos/octo/app/issues/1/comments", {"body": "x"})
    assert created["body"] == "x" and created["user"]["login"] == BOT
    assert clock.sleeps == [3.0]


def test_connection_errors_are_retried_then_reported(clock, logs):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = RestClient(
        f"http://127.0.0.1:{port}",
        auth_value=f"Bearer {TOKEN}",
        max_tries=3,
        sleep=clock.sleep,
        clock=clock.time,
        log=logs.append,
        timeout=(1, 1),
    )
    with pytest.raises(APIError) as info:
        client.get_json("/x")
    assert info.value.status is None
    assert "failed after 3 tries: ConnectionError" in str(info.value)
    assert clock.sleeps == [1.0, 2.0]
    assert TOKEN not in str(info.value) and not any(TOKEN in line for line in logs)


def test_total_wait_is_bounded(fake, clock, logs):
    reset = int(clock.now) + 3600
    fake.fault(
        r"/comments$",
        Fault(
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
            "API rate limit exceeded",
        ),
    )
    client = make_client(fake, clock, logs, max_wait=300)
    with pytest.raises(ServiceError) as info:
        client.get_json("/repos/octo/app/issues/1/comments")
    msg = str(info.value)
    assert "3601s" in msg and "300s wait budget" in msg and "SCORER_HTTP_MAX_WAIT" in msg
    assert not clock.sleeps  # it did not start a wait it could not finish


def test_wait_budget_adds_up_over_requests(fake, clock, logs):
    client = make_client(fake, clock, logs, max_wait=100)
    for _ in range(2):
        fake.fault(r"/comments$", Fault(429, {"Retry-After": "40"}))
        client.get_json("/repos/octo/app/issues/1/comments")
    fake.fault(r"/comments$", Fault(429, {"Retry-After": "40"}))
    with pytest.raises(APIError, match="wait budget"):
        client.get_json("/repos/octo/app/issues/1/comments")
    assert clock.sleeps == [40.0, 40.0]


def test_max_wait_from_environment():
    client = RestClient.from_github_env({"SCORER_HTTP_MAX_WAIT": "12"})
    assert client.max_wait == 12
    with pytest.raises(InputError, match="SCORER_HTTP_MAX_WAIT"):
        RestClient.from_github_env({"SCORER_HTTP_MAX_WAIT": "soon"})


def test_every_request_has_a_timeout(fake, clock, logs, monkeypatch):
    seen = []
    original = requests.Session.request

    def spy(self, method, url, **kw):
        seen.append(kw.get("timeout"))
        return original(self, method, url, **kw)

    monkeypatch.setattr(requests.Session, "request", spy)
    for i in range(3):
        fake.add_comment(2, str(i), user("a"))
    client = make_client(fake, clock, logs)
    list(client.paginate("/repos/octo/app/issues/2/comments", {"per_page": 1}))
    client.post("/repos/octo/app/issues/2/comments", {"body": "x"})
    assert len(seen) == 4 and all(t for t in seen)


def test_token_sent_to_api_host_only_never_to_a_redirect_elsewhere(
    fake, clock, logs, tmp_path, monkeypatch
):
    # a ~/.netrc with credentials for every host: requests must not add them anywhere
    netrc = tmp_path / "netrc"
    netrc.write_text("default login someone password netrc-SECRET\n")
    monkeypatch.setenv("NETRC", str(netrc))
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    try:
        seen = {}

        def blob(request):
            seen.update(request.headers)
            return Response(b"PK\x03\x04 zip bytes", content_type="application/zip")

        other.expect_request("/blob/artifact.zip").respond_with_handler(blob)
        target = other.url_for("/blob/artifact.zip") + "?sig=abc"
        fake.route(
            "GET",
            r"/repos/octo/app/actions/artifacts/11/zip",
            lambda req, m: Response(status=302, headers={"Location": target}),
        )
        client = make_client(fake, clock, logs)
        out = client.download("/repos/octo/app/actions/artifacts/11/zip", tmp_path / "a.zip")
        assert out.read_bytes().startswith(b"PK")
        api_call = fake.calls("GET", "/artifacts/11/zip")[0]
        assert api_call["headers"]["Authorization"] == f"Bearer {TOKEN}"
        assert "Authorization" not in seen
        assert TOKEN not in repr(seen) and "netrc" not in repr(seen)
    finally:
        other.clear()
        if other.is_running():
            other.stop()


def test_link_to_another_host_gets_no_token(fake, clock, logs):
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    try:
        seen = {}

        def page2(request):
            seen.update(request.headers)
            return Response("[2]", content_type="application/json")

        other.expect_request("/page2").respond_with_handler(page2)
        fake.route(
            "GET",
            r"/pages",
            lambda req, m: Response(
                "[1]",
                content_type="application/json",
                headers={"Link": f'<{other.url_for("/page2")}>; rel="next"'},
            ),
        )
        client = make_client(fake, clock, logs)
        assert list(client.paginate("/pages")) == [1, 2]
        assert "Authorization" not in seen
    finally:
        other.clear()
        other.stop()


def test_token_never_in_repr_or_error_messages(fake, clock, logs):
    fake.fault(r"/comments$", Fault(401, {}, f"Bad credentials {TOKEN}"))
    client = make_client(fake, clock, logs)
    assert TOKEN not in repr(client)
    with pytest.raises(APIError) as info:
        client.get_json("/repos/octo/app/issues/1/comments")
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    assert "HTTP 401" in str(info.value) and "token" in str(info.value)


def test_read_only_token_403_is_an_api_error_with_status(fake, clock, logs):
    fake.read_only = True
    client = make_client(fake, clock, logs)
    with pytest.raises(APIError) as info:
        client.post("/repos/octo/app/issues/1/comments", {"body": "x"})
    assert info.value.status == 403
    assert "Resource not accessible by integration" in str(info.value)
    assert not clock.sleeps  # a permission 403 is not a rate limit


def test_patch_returns_json(fake, clock, logs):
    c = fake.add_comment(3, "old", bot_user())
    client = make_client(fake, clock, logs)
    assert (
        client.patch(f"/repos/octo/app/issues/comments/{c['id']}", {"body": "new"})["body"] == "new"
    )


def test_base_url_must_be_http():
    with pytest.raises(ServiceError):
        RestClient("file:///etc/passwd")


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
