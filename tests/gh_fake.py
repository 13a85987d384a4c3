"""A local fake GitHub for tests: pytest-httpserver answering like the REST API.

Objects are built from the real response examples in ``shared/fixtures/github-rest-examples.json``
(the octokit OpenAPI description), with only the fields a test cares about changed. The fake
keeps state (deployments, their statuses, issue comments), paginates with ``Link`` headers
exactly like GitHub, checks the token, and can be told to inject faults (rate limits, 502s) in
front of any path.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from werkzeug import Request, Response

# A copy of shared/fixtures/github-rest-examples.json (octokit's OpenAPI examples, MIT; see
# the LICENSE beside it), kept in the repository so that GitHub-hosted CI, which has no shared/,
# runs these tests too.
FIXTURE_FILE = Path(__file__).resolve().parent / "fixtures" / "github-rest-examples.json"

_EXAMPLES: dict | None = None


def example(operation: str, status: str | None = None) -> object:
    """A deep copy of the fixture's example answer for ``operation``, e.g. ``pulls/get``."""
    global _EXAMPLES
    if _EXAMPLES is None:
        _EXAMPLES = json.loads(FIXTURE_FILE.read_text())["operations"]
    responses = _EXAMPLES[operation]["responses"]
    status = status or next(s for s in responses if s.startswith("2"))
    examples = responses[status]["examples"]
    return copy.deepcopy(examples.get("default") or next(iter(examples.values())))


def user(login: str, type_: str = "User", id_: int = 1) -> dict:
    u = copy.deepcopy(example("issues/list-comments")[0]["user"])
    u.update(login=login, type=type_, id=id_)
    return u


BOT = "github-actions[bot]"


def bot_user() -> dict:
    return user(BOT, "Bot", 41898282)


@dataclass
class Fault:
    """Answer ``status`` with ``headers`` (and a JSON ``message``) ``times`` times."""

    status: int
    headers: dict = field(default_factory=dict)
    message: str = ""
    times: int = 1
    methods: tuple[str, ...] = ("GET", "POST", "PATCH", "DELETE")


class FakeGitHub:
    """State plus a router. Mount with :meth:`install` on a pytest-httpserver ``HTTPServer``."""

    def __init__(self, owner_repo: str = "octo/app", *, token: str = "t0ken-SECRET") -> None:
        self.repo = owner_repo
        self.token = token
        self.read_only = False
        self.per_page_max = 100
        self.deployments: list[dict] = []
        self.statuses: dict[int, list[dict]] = {}
        self.comments: dict[int, list[dict]] = {}
        self.faults: list[tuple[re.Pattern, Fault]] = []
        self.requests: list[dict] = []
        self._ids = itertools.count(1000)
        self.base_url = ""
        self.extra_routes: list[
            tuple[str, re.Pattern, Callable[[Request, re.Match], Response]]
        ] = []

    # -- building state from the fixture examples -----------------------------------------

    def add_deployment(
        self,
        sha: str,
        environment: str = "production",
        statuses: list[tuple[str, str]] = (),
        *,
        created_at: str | None = None,
        id_: int | None = None,
    ) -> dict:
        """A deployment of ``sha`` with ``statuses`` as (state, created_at), oldest first."""
        dep = example("repos/list-deployments")[0]
        dep_id = id_ if id_ is not None else next(self._ids)
        dep.update(
            id=dep_id,
            sha=sha,
            ref=sha,
            environment=environment,
            original_environment=environment,
            created_at=created_at or (statuses[0][1] if statuses else "2024-01-01T00:00:00Z"),
            url=f"{self.base_url}/repos/{self.repo}/deployments/{dep_id}",
            statuses_url=f"{self.base_url}/repos/{self.repo}/deployments/{dep_id}/statuses",
        )
        self.deployments.append(dep)
        self.statuses[dep_id] = []
        for state, when in statuses:
            self.add_status(dep_id, state, when)
        return dep

    def add_status(self, deployment_id: int, state: str, created_at: str) -> dict:
        st = example("repos/list-deployment-statuses")[0]
        st.update(
            id=next(self._ids),
            state=state,
            created_at=created_at,
            updated_at=created_at,
            environment=next(
                d["environment"] for d in self.deployments if d["id"] == deployment_id
            ),
        )
        self.statuses[deployment_id].append(st)
        return st

    def add_comment(self, issue: int, body: str, author: dict) -> dict:
        c = example("issues/list-comments")[0]
        cid = next(self._ids)
        c.update(
            id=cid,
            body=body,
            user=author,
            url=f"{self.base_url}/repos/{self.repo}/issues/comments/{cid}",
        )
        self.comments.setdefault(issue, []).append(c)
        return c

    def fault(self, path_regex: str, fault: Fault) -> None:
        self.faults.append((re.compile(path_regex), fault))

    def route(self, method: str, path_regex: str, handler: Callable) -> None:
        self.extra_routes.append((method, re.compile(path_regex), handler))

    # -- serving ---------------------------------------------------------------------------

    def install(self, httpserver) -> FakeGitHub:
        self.base_url = httpserver.url_for("").rstrip("/")
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self.handle)
        return self

    def handle(self, request: Request) -> Response:
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.args),
                "headers": dict(request.headers),
                "json": request.get_json(silent=True),
            }
        )
        for pattern, fault in self.faults:
            if fault.times > 0 and request.method in fault.methods and pattern.search(request.path):
                fault.times -= 1
                return _json(
                    {"message": fault.message} if fault.message else {}, fault.status, fault.headers
                )
        for method, pattern, handler in self.extra_routes:
            m = pattern.fullmatch(request.path)
            if m and method == request.method:
                return handler(request, m)
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"message": "Bad credentials"}, 401)
        repo = re.escape(self.repo)
        path = request.path
        if m := re.fullmatch(rf"/repos/{repo}/deployments", path):
            items = self.deployments
            if env := request.args.get("environment"):
                items = [d for d in items if d["environment"] == env]
            return self._page(request, sorted(items, key=lambda d: -d["id"]))  # newest first
        if m := re.fullmatch(rf"/repos/{repo}/deployments/(\d+)/statuses", path):
            sts = self.statuses.get(int(m[1]))
            if sts is None:
                return _json({"message": "Not Found"}, 404)
            return self._page(request, list(reversed(sts)))  # newest first, like GitHub
        if m := re.fullmatch(rf"/repos/{repo}/issues/(\d+)/comments", path):
            issue = int(m[1])
            if request.method == "GET":
                return self._page(request, self.comments.get(issue, []))
            if request.method == "POST":
                if self.read_only:
                    return _json({"message": "Resource not accessible by integration"}, 403)
                c = self.add_comment(issue, request.get_json()["body"], bot_user())
                return _json(c, 201)
        if m := re.fullmatch(rf"/repos/{repo}/issues/comments/(\d+)", path):
            cid = int(m[1])
            found = [c for cs in self.comments.values() for c in cs if c["id"] == cid]
            if not found:
                return _json({"message": "Not Found"}, 404)
            if request.method == "PATCH":
                if self.read_only:
                    return _json({"message": "Resource not accessible by integration"}, 403)
                found[0]["body"] = request.get_json()["body"]
                return _json(found[0], 200)
            if request.method == "GET":
                return _json(found[0], 200)
        return _json({"message": "Not Found"}, 404)

    def _page(self, request: Request, items: list) -> Response:
        per_page = min(int(request.args.get("per_page", 30)), self.per_page_max)
        page = int(request.args.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        last = max(1, -(-len(items) // per_page))
        links = []
        base = f"{self.base_url}{request.path}"
        args = {k: v for k, v in request.args.items() if k != "page"}
        if page < last:
            links.append(f'<{base}?{urlencode({**args, "page": page + 1})}>; rel="next"')
            links.append(f'<{base}?{urlencode({**args, "page": last})}>; rel="last"')
        if page > 1:
            links.append(f'<{base}?{urlencode({**args, "page": 1})}>; rel="first"')
            links.append(f'<{base}?{urlencode({**args, "page": page - 1})}>; rel="prev"')
        if links:
            headers["Link"] = ", ".join(links)
        return _json(chunk, 200, headers)

    # -- assertions helpers ----------------------------------------------------------------

    def calls(self, method: str, path_regex: str) -> list[dict]:
        pattern = re.compile(path_regex)
        return [r for r in self.requests if r["method"] == method and pattern.search(r["path"])]


def _json(data: object, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(data), status=status, headers=headers or {}, content_type="application/json"
    )
