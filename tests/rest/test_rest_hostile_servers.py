"""Servers that never end a listing, trickle, or stay silent (issue 13, cases 2 and 3).

The loopback servers here stop by themselves: a looping listing stops linking after a bounded
number of pages, a trickling server sends a bounded number of bytes, a silent one waits a
bounded time, so a client without the fix ends too (and the test fails on its assertions)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from gh_fake import FakeGitHub
from werkzeug import Response

from scorer.errors import ServiceError
from scorer.github.comment import upsert_comment
from scorer.org.sources import read_github_org
from scorer.rest import APIError, RestClient

TOKEN = "t0ken-SECRET"
LOOP_PAGES = 60  # a looping server stops linking after this many pages


def _looping(fake: FakeGitHub, path_regex: str, item: object, *, back_to_first: bool = True):
    """``path`` answers one item per page, its next link pointing back (page 2 -> page 1) or
    ever onward (page n -> n+1), for LOOP_PAGES pages."""
    served = [0]

    def handler(request, _m) -> Response:
        served[0] += 1
        page = int(request.args.get("page", 1))
        headers = {}
        if served[0] < LOOP_PAGES:
            nxt = 1 if back_to_first and page == 2 else page + 1
            headers["Link"] = f'<{fake.base_url}{request.path}?page={nxt}>; rel="next"'
        return Response(json.dumps([item]), headers=headers, content_type="application/json")

    fake.route("GET", path_regex, handler)
    return served


@pytest.fixture
def fake(httpserver) -> FakeGitHub:
    return FakeGitHub(token=TOKEN).install(httpserver)


def client(fake: FakeGitHub, **kw) -> RestClient:
    return RestClient(fake.base_url, auth_value=f"Bearer {TOKEN}", max_wait=0, **kw)


def test_paginate_stops_on_a_next_link_back_to_a_page_read(fake):
    served = _looping(fake, r"/repos/octo/app/deployments", {"id": 1})
    with pytest.raises(APIError) as err:
        list(client(fake).paginate("/repos/octo/app/deployments", {"per_page": 100}))
    assert str(err.value) == (
        "GitHub API: GET /repos/octo/app/deployments: the next page link leads back to a page "
        "already read (after 3 pages); stopped"
    )
    assert served[0] == 4  # ?per_page=100, ?page=2, ?page=1 (another URL), ?page=2 again


def test_paginate_stops_at_the_page_cap(fake):
    served = _looping(fake, r"/orgs/octo/repos", {"id": 1}, back_to_first=False)
    with pytest.raises(APIError) as err:
        list(client(fake, page_cap=10).paginate("/orgs/octo/repos"))
    assert str(err.value) == (
        "GitHub API: GET /orgs/octo/repos: more than 10 pages; stopped (the listing does not end)"
    )
    assert served[0] == 10


def test_pr_comments_listing_that_loops_is_an_error(fake):
    _looping(fake, r"/repos/octo/app/issues/7/comments", {"id": 5, "body": "x", "user": {}})
    with pytest.raises(APIError, match="leads back to a page already read"):
        upsert_comment(client(fake), "octo/app", 7, "body", authors=["github-actions[bot]"])
    assert fake.calls("POST", r"/comments$") == []


def test_org_repositories_listing_that_loops_is_an_error(fake, tmp_path):
    _looping(fake, r"/orgs/octo/repos", {"full_name": "octo/app", "name": "app"})
    with pytest.raises(ServiceError) as err:
        list(read_github_org("octo", "scorer-report", client(fake), workdir=str(tmp_path)))
    assert str(err.value) == (
        "cannot list the repositories of octo: GitHub API: GET /orgs/octo/repos: the next page "
        "link leads back to a page already read (after 3 pages); stopped"
    )


def test_deployments_listing_that_loops_fails_the_scan_in_one_line(fake, tmp_path, capsys):
    from gitbuild import GitRepo

    from scorer.cli import main

    r = GitRepo(tmp_path / "repo")
    r.commit("Initial", when="2026-09-01T12:00:00+0000")
    _looping(fake, r"/repos/octo/app/deployments", {"id": 1, "sha": r.head()})
    fake.route(
        "GET",
        r"/repos/octo/app/deployments/1/statuses",
        lambda _r, _m: Response("[]", content_type="application/json"),
    )
    env = {
        "GITHUB_API_URL": fake.base_url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "octo/app",
        "SCORER_HTTP_MAX_WAIT": "0",
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        rc = main(["scan", str(r.path), "--deploys", "github", "--repository", "octo/app"])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.strip().splitlines()[-1] == (
        "scorer: error: GitHub API: GET /repos/octo/app/deployments: the next page link leads "
        "back to a page already read (after 3 pages); stopped"
    )


# -- slow and silent servers --------------------------------------------------------------


@contextmanager
def raw_server(behaviour: str, *, step: float = 0.3, count: int = 40) -> Iterator[str]:
    """A loopback HTTP server that, per connection, ``trickle-head``s its status line, or
    ``trickle-body``s a JSON body, one byte every ``step`` seconds (``count`` bytes at most),
    or stays ``silent`` for ``step * count`` seconds; then it closes the connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)
                if behaviour == "trickle-head":
                    data = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" * 4
                elif behaviour == "trickle-body":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n")
                    data = b"[" + b" " * 398 + b"]"
                else:
                    data = b""
                for i in range(count):
                    if stop.is_set():
                        return
                    if data:
                        conn.sendall(data[i : i + 1])
                    time.sleep(step)
            except OSError:
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conns.append(conn)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        sock.close()


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
@pytest.mark.parametrize("behaviour", ["trickle-head", "trickle-body"])
def test_a_trickling_server_is_cut_off_at_the_request_deadline(behaviour):
    with raw_server(behaviour) as url:
        c = RestClient(url, deadline=1.0, max_tries=1, log=lambda _: None)
        started = time.monotonic()
        with pytest.raises(APIError) as err:
            c.get_json("/repos/octo/app")
        elapsed = time.monotonic() - started
    assert elapsed < 3.0
    assert str(err.value).startswith(
        "GitHub API: GET /repos/octo/app failed after 1 try: no complete answer within 1s"
    )


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
def test_a_silent_server_costs_the_run_its_wait_budget_not_five_read_timeouts():
    lines: list[str] = []
    with raw_server("silent", step=0.2, count=50) as url:
        c = RestClient(url, deadline=1.0, max_wait=3.0, log=lines.append, sleep=lambda _: None)
        started = time.monotonic()
        with pytest.raises(APIError) as err:
            c.get_json("/repos/octo/app")
        elapsed = time.monotonic() - started
    assert 1.9 < elapsed < 4.0
    assert str(err.value) == (
        "GitHub API: GET /repos/octo/app failed after 2 tries: no complete answer within 1s; "
        "the 3s wait budget is spent; check the network and the API URL (SCORER_HTTP_MAX_WAIT "
        "bounds the waits)"
    )
    assert lines == [
        "scorer: GitHub API GET /repos/octo/app: no complete answer within 1s; waiting 1s"
    ]


@pytest.mark.slow  # a differential or timing test: CI runs it, the quick loop not
def test_a_download_that_trickles_is_cut_off_and_leaves_no_file(tmp_path):
    with raw_server("trickle-body") as url:
        c = RestClient(url, deadline=1.0, max_tries=1)
        started = time.monotonic()
        with pytest.raises(APIError) as err:
            c.download("/a.zip", tmp_path / "a.zip")
        elapsed = time.monotonic() - started
    assert elapsed < 3.0
    assert str(err.value) == "GitHub API: download /a.zip did not finish within 1s"
    assert list(tmp_path.iterdir()) == []
