"""A small REST client for the GitHub API (and GitLab's, which answers in the same style).

The API, on purpose small::

    client = RestClient.from_github_env(os.environ)      # GITHUB_API_URL, GITHUB_TOKEN/GH_TOKEN
    client.get_json("/repos/o/r")                          # one JSON document
    for item in client.paginate("/repos/o/r/deployments", params={"per_page": 100}): ...
    client.post("/repos/o/r/issues/1/comments", {"body": "..."})
    client.patch("/repos/o/r/issues/comments/7", {"body": "..."})
    client.download("/repos/o/r/actions/artifacts/11/zip", Path("a.zip"))

What it does for every request:

* **Timeouts**: every request has a connect and a read timeout, and one total deadline
  (``deadline``, default 120 s) for the whole exchange, headers and body: a server that
  trickles one byte every few seconds, or never answers, is cut off there. Each attempt that
  ends that way (or with a connection error) counts its time against the wait budget below.
* **Rate limits**: a 403/429 with ``x-ratelimit-remaining: 0`` waits until ``x-ratelimit-reset``;
  a ``Retry-After`` (secondary limits) is honoured; a 429, or a 403 whose message says "rate
  limit", without either header waits a minute, then longer.
* **Transient failures**: 5xx answers and connection errors are retried with exponential backoff,
  at most ``max_tries`` times in all — for GET, PATCH, PUT and DELETE only. A POST is retried only
  after a rate-limit answer (the request was refused, so it cannot have been applied): a POST that
  met a 502 may have created its object, and retrying it could create a second one.
* **A bounded total wait**: all waits of one client add up to at most ``max_wait`` seconds (default
  600; ``SCORER_HTTP_MAX_WAIT`` in the environment): sleeps before a retry, and the time of
  attempts that got no complete answer. A wait that would go past it is not started: the request
  fails at once with a :class:`APIError` that says how long the service asked to wait. An
  attempt's deadline is also cut to what is left of the budget (but at least
  ``MIN_ATTEMPT`` seconds), so a silent server costs a run about ``max_wait``, not
  ``max_tries`` read timeouts.
* **Pagination ends**: a ``Link: rel="next"`` (or ``x-next-page``) that leads back to a page
  already read, or more than ``page_cap`` pages (default 1000), is an :class:`APIError`.
* **One line per wait** to the log (stderr by default), naming the method, the path and the
  reason — never a header, never the token.
* **The token goes only to the configured API origin** (scheme, host and port). Redirects are
  never followed by requests itself; :meth:`download` and pagination follow them here and drop
  the credentials when the target is another origin (e.g. the signed blob-storage URL an
  artifact download redirects to). The token is not in ``repr()``, in error messages, nor in log
  lines.
"""

from __future__ import annotations

import email.utils
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import requests.auth

from scorer import __version__
from scorer.errors import InputError, ServiceError
from scorer.util.textsafe import one_line

DEFAULT_GITHUB_API = "https://api.github.com"
DEFAULT_TIMEOUT = (10.0, 60.0)  # connect, read (seconds)
DEFAULT_MAX_TRIES = 5
DEFAULT_MAX_WAIT = 600.0
MAX_REDIRECTS = 5
DEFAULT_DEADLINE = 120.0  # seconds for one attempt, headers and body
MIN_ATTEMPT = 5.0  # an attempt's deadline is never cut below this by the wait budget
DEFAULT_PAGE_CAP = 1000  # pages of one listing: 100k items at per_page=100
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


class _HeaderAuth(requests.auth.AuthBase):
    """Sets the credential headers (possibly none) on one request. Passing an auth object
    always also keeps requests from adding ``~/.netrc`` credentials of its own."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self._headers)
        return request

    def __repr__(self) -> str:
        return "<credentials>" if self._headers else "<no credentials>"


_NO_AUTH = _HeaderAuth({})


class _Deadline(Exception):
    """An attempt that did not finish within its deadline (the worker thread is abandoned)."""


def _bounded(seconds: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, or :class:`_Deadline` after ``seconds``. Socket timeouts bound
    each read, not a whole answer (one byte every 2 s never trips them), so the call runs in a
    daemon thread that is left behind when it overruns; its socket times out, or the process
    ends."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as err:  # handed to the caller below
            box["error"] = err
        finally:
            done.set()

    threading.Thread(target=work, name="scorer-http", daemon=True).start()
    if not done.wait(max(0.0, seconds)):
        raise _Deadline()
    if "error" in box:
        raise box["error"]
    return box["value"]


class APIError(ServiceError):
    """A request that failed for good. ``status`` is None when no answer came at all."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "", url: str = ""):
        super().__init__(message)
        self.status = status
        self.method = method
        self.url = url


def _stderr_line(line: str) -> None:
    """One line, whatever the server put in what it names (a path, a reason)."""
    print(one_line(line), file=sys.stderr, flush=True)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port
    if port is None:
        port = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


class RestClient:
    """A JSON REST client with pagination, retries, rate-limit waits and credential hygiene.

    ``auth_header``/``auth_value`` are sent only to ``base_url``'s origin; GitHub uses
    ``Authorization: Bearer TOKEN``, GitLab ``PRIVATE-TOKEN: TOKEN`` or ``JOB-TOKEN: TOKEN``.
    ``sleep``, ``clock`` and ``log`` are injectable so tests neither sleep nor print.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_GITHUB_API,
        *,
        auth_header: str = "Authorization",
        auth_value: str | None = None,
        headers: Mapping[str, str] | None = None,
        service: str = "GitHub",
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_tries: int = DEFAULT_MAX_TRIES,
        max_wait: float = DEFAULT_MAX_WAIT,
        deadline: float = DEFAULT_DEADLINE,
        page_cap: int = DEFAULT_PAGE_CAP,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] = _stderr_line,
        session: requests.Session | None = None,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ServiceError(f"{service} API URL must start with https:// (got {base_url!r})")
        self.base_url = base_url.rstrip("/")
        self.service = service
        self.timeout = timeout
        self.max_tries = max(1, max_tries)
        self.max_wait = max(0.0, max_wait)
        self.deadline = max(0.001, deadline)
        self.page_cap = max(1, page_cap)
        self.backoff = backoff
        self.waited = 0.0  # seconds spent waiting so far, against max_wait
        self._sleep = sleep
        self._clock = clock
        self._log = log
        self._auth = _HeaderAuth({auth_header: auth_value}) if auth_value else None
        self._secret = _secret_of(auth_value)
        self._origin = _origin(self.base_url)
        self._session = session or requests.Session()
        self._session.headers.update(
            {"User-Agent": f"scorer/{__version__}", "Accept": "application/json"}
        )
        if headers:
            self._session.headers.update(headers)

    @classmethod
    def from_github_env(cls, env: Mapping[str, str], **kwargs: Any) -> RestClient:
        """The GitHub client the Actions environment describes: ``GITHUB_API_URL`` (GitHub
        Enterprise Server works), ``GITHUB_TOKEN`` or ``GH_TOKEN``, ``SCORER_HTTP_MAX_WAIT``."""
        token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
        kwargs.setdefault("max_wait", max_wait_from(env))
        return cls(
            env.get("GITHUB_API_URL") or DEFAULT_GITHUB_API,
            auth_value=f"Bearer {token}" if token else None,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
            **kwargs,
        )

    def __repr__(self) -> str:
        auth = ", authenticated" if self._auth is not None else ""
        return f"<RestClient {self.service} {self.base_url}{auth}>"

    # -- the public API -------------------------------------------------------------------

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET one JSON document."""
        return self._json(self.request("GET", path, params=params))

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        items_key: str | None = None,
        max_pages: int | None = None,
    ) -> Iterator[Any]:
        """Yield the items of every page, following ``Link: rel="next"`` (GitHub, GitLab) or
        GitLab's ``x-next-page``. A page is a JSON list, or an object whose ``items_key`` holds
        the list (e.g. ``"artifacts"``). A next link back to a page already read, or more
        than ``page_cap`` pages, is an APIError: a hostile or broken server cannot loop."""
        url: str | None = self._url(path)
        page_params: dict[str, Any] | None = dict(params or {})
        pages = 0
        seen: set[str] = set()
        while url is not None:
            if pages >= self.page_cap:
                raise APIError(
                    f"{self.service} API: GET {self._show(url)}: more than {self.page_cap} "
                    "pages; stopped (the listing does not end)",
                    method="GET",
                    url=self._show(url),
                )
            resp = self.request("GET", url, params=page_params)
            if resp.url in seen:
                resp.close()
                raise APIError(
                    f"{self.service} API: GET {self._show(url)}: the next page link leads back "
                    f"to a page already read (after {pages} pages); stopped",
                    method="GET",
                    url=self._show(url),
                )
            seen.add(resp.url)
            data = self._json(resp)
            items = data.get(items_key) if items_key and isinstance(data, dict) else data
            if not isinstance(items, list):
                raise APIError(
                    f"{self.service} API: GET {self._show(url)} did not return a list",
                    status=resp.status_code,
                    method="GET",
                    url=self._show(url),
                )
            yield from items
            pages += 1
            if max_pages is not None and pages >= max_pages:
                return
            nxt = resp.links.get("next", {}).get("url")
            if nxt:
                url, page_params = urljoin(resp.url, nxt), None  # the link carries the query
            elif resp.headers.get("x-next-page", "").strip():
                page_params = dict(page_params or {}, page=resp.headers["x-next-page"].strip())
            else:
                url = None

    def post(self, path: str, json: Any) -> Any:
        """POST a JSON body; return the JSON answer (or None for an empty one)."""
        return self._json(self.request("POST", path, json=json))

    def patch(self, path: str, json: Any) -> Any:
        """PATCH a JSON body; return the JSON answer (or None for an empty one)."""
        return self._json(self.request("PATCH", path, json=json))

    def download(self, path: str, dest: Path, *, max_bytes: int | None = None) -> Path:
        """Stream a GET to ``dest`` (written atomically), following redirects; the token is
        dropped as soon as a redirect leaves the API origin."""
        started = time.monotonic()
        resp = self.request("GET", path, stream=True, headers={"Accept": "*/*"})
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")

        def copy() -> None:  # closes what it uses: past the deadline it is left running
            total = 0
            with os.fdopen(fd, "wb") as out, resp:
                for chunk in resp.iter_content(chunk_size=1 << 16):
                    total += len(chunk)
                    if max_bytes is not None and total > max_bytes:
                        raise APIError(
                            f"{self.service} API: download {self._show(path)} is larger "
                            f"than {max_bytes} bytes",
                            method="GET",
                            url=self._show(path),
                        )
                    out.write(chunk)

        try:
            try:
                _bounded(self.deadline - (time.monotonic() - started), copy)
            except _Deadline:
                raise APIError(
                    f"{self.service} API: download {self._show(path)} did not finish within "
                    f"{self.deadline:.0f}s",
                    method="GET",
                    url=self._show(path),
                ) from None
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return dest

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """One logical request: redirects, retries and waits included. Raises
        :class:`APIError` unless the final answer is 2xx."""
        method = method.upper()
        url = self._url(path)
        tries = 0
        redirects = 0
        while True:
            tries += 1
            limit = min(self.deadline, max(self.max_wait - self.waited, MIN_ATTEMPT))
            started = time.monotonic()
            try:
                resp = _bounded(
                    limit,
                    self._session.request,
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=headers,
                    auth=self._auth_for(url),
                    timeout=self._timeouts(limit),
                    allow_redirects=False,
                    stream=stream,
                )
            except (requests.RequestException, _Deadline) as err:
                spent = ""
                if isinstance(err, (_Deadline, requests.Timeout)):
                    self.waited += time.monotonic() - started  # no answer: a wait, too
                    if self.waited >= self.max_wait:
                        spent = f"; the {self.max_wait:.0f}s wait budget is spent"
                if isinstance(err, _Deadline):
                    reason = f"no complete answer within {limit:.0f}s"
                else:
                    reason = f"{type(err).__name__}"
                if method not in _IDEMPOTENT or tries >= self.max_tries or spent:
                    raise APIError(
                        f"{self.service} API: {method} {self._show(url)} failed after "
                        f"{tries} tr{'y' if tries == 1 else 'ies'}: {reason}{spent}; check the "
                        "network and the API URL (SCORER_HTTP_MAX_WAIT bounds the waits)",
                        method=method,
                        url=self._show(url),
                    ) from None
                self._wait(self._backoff(tries), f"{reason}", method, url)
                continue

            status = resp.status_code
            if status in _REDIRECT_STATUSES and resp.headers.get("Location"):
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    resp.close()
                    raise APIError(
                        f"{self.service} API: {method} {self._show(url)}: too many redirects",
                        status=status,
                        method=method,
                        url=self._show(url),
                    )
                url = urljoin(url, resp.headers["Location"])
                params = None  # the Location carries its own query
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, json = "GET", None
                resp.close()
                tries -= 1  # a redirect is not a failed try
                continue

            if 200 <= status < 300:
                return resp

            delay, reason = self._rate_limit_delay(resp, tries)
            if delay is not None and tries < self.max_tries:
                resp.close()
                self._wait(delay, reason, method, url)
                continue
            if status in _RETRY_STATUSES and method in _IDEMPOTENT and tries < self.max_tries:
                resp.close()
                self._wait(self._backoff(tries), f"HTTP {status}", method, url)
                continue
            raise self._error(resp, method, url, tries)

    # -- internals ------------------------------------------------------------------------

    def _timeouts(self, limit: float) -> float | tuple[float, float]:
        """The socket timeouts of one attempt, none longer than its deadline ``limit``."""
        if isinstance(self.timeout, tuple):
            return (min(self.timeout[0], limit), min(self.timeout[1], limit))
        return min(self.timeout, limit)

    def _url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _auth_for(self, url: str) -> _HeaderAuth:
        if self._auth is not None and _origin(url) == self._origin:
            return self._auth
        return _NO_AUTH

    def _show(self, url: str) -> str:
        """A URL as shown to people: the path under the API, no query string."""
        shown = url.split("?", 1)[0]
        if shown.startswith(self.base_url + "/"):
            shown = shown[len(self.base_url) :]
        elif not shown.startswith(("http://", "https://")):
            shown = "/" + shown.lstrip("/")
        return self._redact(shown)

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _backoff(self, tries: int) -> float:
        return self.backoff * (2 ** (tries - 1))

    def _rate_limit_delay(self, resp: requests.Response, tries: int) -> tuple[float | None, str]:
        """Seconds to wait before retrying, or None when the answer is not a rate limit."""
        if resp.status_code not in (403, 429):
            return None, ""
        h = resp.headers
        retry_after = _parse_retry_after(h.get("Retry-After"), self._clock())
        if retry_after is not None:
            return retry_after, "secondary rate limit (Retry-After)"
        remaining = h.get("x-ratelimit-remaining", h.get("ratelimit-remaining"))
        reset = h.get("x-ratelimit-reset", h.get("ratelimit-reset"))
        if remaining is not None and remaining.strip() == "0":
            try:
                delay = max(1.0, float(reset) - self._clock() + 1.0) if reset else 60.0
            except ValueError:
                delay = 60.0
            return delay, "rate limit exhausted (x-ratelimit-reset)"
        if resp.status_code == 429 or "rate limit" in _message_of(resp).lower():
            return 60.0 * (2 ** (tries - 1)), "secondary rate limit"
        return None, ""

    def _wait(self, delay: float, reason: str, method: str, url: str) -> None:
        delay = max(0.0, delay)
        if self.waited + delay > self.max_wait:
            raise APIError(
                f"{self.service} API: {method} {self._show(url)}: {reason}; waiting "
                f"{delay:.0f}s more would pass the {self.max_wait:.0f}s wait budget "
                f"({self.max_wait - self.waited:.0f}s left; SCORER_HTTP_MAX_WAIT sets it); try "
                "again later",
                method=method,
                url=self._show(url),
            )
        self.waited += delay
        self._log(
            f"scorer: {self.service} API {method} {self._show(url)}: {reason}; waiting {delay:.0f}s"
        )
        self._sleep(delay)

    def _error(self, resp: requests.Response, method: str, url: str, tries: int) -> APIError:
        status = resp.status_code
        message = _message_of(resp)
        resp.close()
        hint = {
            401: "the token is missing, expired or wrong",
            403: "the token lacks a permission (see the workflow's permissions:)",
            404: "not found, or the token cannot see it",
        }.get(status, "")
        text = f"{self.service} API: {method} {self._show(url)} returned HTTP {status}"
        if tries > 1:
            text += f" after {tries} tries"
        if message:
            text += f": {message}"
        if hint:
            text += f" ({hint})"
        return APIError(self._redact(text), status=status, method=method, url=self._show(url))

    def _json(self, resp: requests.Response) -> Any:
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise APIError(
                f"{self.service} API: {resp.request.method} {self._show(resp.url)} did not "
                "return JSON",
                status=resp.status_code,
                method=resp.request.method or "",
                url=self._show(resp.url),
            ) from None


def _secret_of(auth_value: str | None) -> str | None:
    if not auth_value:
        return None
    return auth_value.split(" ", 1)[-1] or None


def _message_of(resp: requests.Response) -> str:
    """The ``message`` of a JSON error answer, one line, bounded."""
    try:
        data = resp.json()
    except ValueError:
        return ""
    msg = data.get("message", "") if isinstance(data, dict) else ""
    if not isinstance(msg, str):
        msg = str(msg)
    return " ".join(msg.split())[:300]


def _parse_retry_after(value: str | None, now: float) -> float | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def max_wait_from(env: Mapping[str, str]) -> float:
    """``SCORER_HTTP_MAX_WAIT`` (seconds), else the default."""
    raw = env.get("SCORER_HTTP_MAX_WAIT", "").strip()
    if not raw:
        return DEFAULT_MAX_WAIT
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise InputError(
            f"SCORER_HTTP_MAX_WAIT must be a number of seconds (got {raw!r})"
        ) from None
