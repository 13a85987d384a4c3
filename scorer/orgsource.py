"""Where the reports of ``scorer org`` come from: files, directories, zip files, GitHub.

Every reader yields :class:`Loaded` values one at a time — a parsed report, or a problem with
the input — so that the merge never holds more than one raw report in memory.

* a ``.json`` file is one report;
* a directory is searched recursively (hidden directories skipped) for ``*.json`` and ``*.zip``;
* a zip file — as ``actions/download-artifact`` or the REST artifacts API deliver it — may hold
  one or more report JSON files at any depth, and zip files inside it;
* ``--github-org ORG --artifact-name NAME`` lists the organisation's repositories
  (``GET /orgs/{org}/repos``, paginated) and, for each, downloads the newest unexpired artifact
  of that name (``GET /repos/{owner}/{repo}/actions/artifacts?name=NAME``, then
  ``/actions/artifacts/{id}/zip``, which redirects to a storage host: the redirect is followed
  without the ``Authorization`` header, which only ever goes to the configured API host).

The HTTP client here is deliberately small (pagination, rate-limit waits, retries on 5xx and
connection errors); it is meant to be merged into the shared ``scorer.github`` client.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from scorer.errors import InputError, ServiceError

MAX_MEMBER_BYTES = 256 * 1024 * 1024  # one report inside a zip, uncompressed
MAX_ZIP_DEPTH = 3
DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True, slots=True)
class Loaded:
    """One input: ``report`` (parsed JSON) or a problem (``kind``, ``detail``)."""

    source: str
    report: object = None
    kind: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.kind


def _parse(data: bytes, source: str) -> Loaded:
    try:
        return Loaded(source, json.loads(data))
    except UnicodeDecodeError as err:
        return Loaded(source, kind="corrupt", detail=f"not UTF-8 text ({err.reason})")
    except json.JSONDecodeError as err:
        return Loaded(
            source, kind="corrupt", detail=f"line {err.lineno} column {err.colno}: {err.msg}"
        )
    except RecursionError:
        return Loaded(source, kind="corrupt", detail="JSON nested too deeply")


def read_json_file(path: Path, source: str | None = None) -> Loaded:
    source = source or str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        return Loaded(source, kind="corrupt", detail=f"cannot read: {err.strerror or err}")
    return _parse(data, source)


def read_zip(file: str | Path | io.BytesIO, source: str, depth: int = 0) -> Iterator[Loaded]:
    """Every report JSON in a zip (members in name order, nested zips included)."""
    try:
        zf = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError) as err:
        yield Loaded(source, kind="corrupt", detail=f"not a readable zip file ({err})")
        return
    found = 0
    with zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            name = info.filename
            lower = name.lower()
            if info.is_dir() or not lower.endswith((".json", ".zip")):
                continue
            if "__MACOSX/" in name or Path(name).name.startswith("._"):
                continue
            member = f"{source}!{name}"
            found += 1
            if info.file_size > MAX_MEMBER_BYTES:
                yield Loaded(
                    member,
                    kind="corrupt",
                    detail=f"{info.file_size} bytes: too large to be a report",
                )
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_MEMBER_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as err:
                yield Loaded(member, kind="corrupt", detail=f"cannot extract ({err})")
                continue
            if lower.endswith(".zip"):
                if depth >= MAX_ZIP_DEPTH:
                    yield Loaded(member, kind="corrupt", detail="zip files nested too deeply")
                    continue
                yield from read_zip(io.BytesIO(data), member, depth + 1)
            else:
                yield _parse(data, member)
    if not found:
        yield Loaded(source, kind="not-a-report", detail="the zip file holds no .json file")


def _is_report_file(path: Path) -> bool:
    return path.suffix.lower() in (".json", ".zip")


def read_path(path: Path, exclude: frozenset[Path] = frozenset()) -> Iterator[Loaded]:
    """One INPUT argument: a report file, a zip file or a directory."""
    if path.is_dir():
        found = 0
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                p = Path(root) / name
                if not _is_report_file(p) or _resolved(p) in exclude:
                    continue
                found += 1
                yield from read_path(p)
        if not found:
            yield Loaded(str(path), kind="not-a-report", detail="no .json or .zip file in it")
        return
    if not path.exists():
        raise InputError("no such file or directory", path=str(path))
    if path.suffix.lower() == ".zip" or (
        path.suffix.lower() != ".json" and zipfile.is_zipfile(path)
    ):
        yield from read_zip(path, str(path))
    else:
        yield read_json_file(path)


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except OSError:
        return p.absolute()


def read_inputs(paths: Iterable[str], exclude: Iterable[str] = ()) -> Iterator[Loaded]:
    """All INPUT arguments in order. ``exclude``: files never read (the outputs themselves)."""
    skip = frozenset(_resolved(Path(p)) for p in exclude)
    for p in paths:
        yield from read_path(Path(p), skip)


# --- GitHub -------------------------------------------------------------------------------


class GitHubAPI:
    """A minimal GitHub REST client: the token goes only to ``api_url``'s host."""

    def __init__(
        self,
        api_url: str,
        token: str | None,
        *,
        session=None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        retries: int = 3,
        max_wait: float = 900.0,
        timeout: float = 60.0,
    ):
        import requests

        self.api_url = api_url.rstrip("/")
        parts = urlsplit(self.api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError(f"--api-url {api_url!r} is not an http(s) URL")
        self._origin = (parts.scheme, parts.netloc.lower())
        self._token = token
        self._requests = requests
        self.session = session or requests.Session()
        self.sleep = sleep
        self.clock = clock
        self.retries = retries
        self.max_wait = max_wait
        self.timeout = timeout

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.api_url}/{path_or_url.lstrip('/')}"

    def _is_api(self, url: str) -> bool:
        p = urlsplit(url)
        return (p.scheme, p.netloc.lower()) == self._origin

    def _headers(self, url: str) -> dict[str, str]:
        h = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "scorer-org",
        }
        if self._token and self._is_api(url):
            h["Authorization"] = f"Bearer {self._token}"
        return h

    def _rate_wait(self, resp) -> float | None:
        """Seconds to wait when ``resp`` is a rate-limit answer, else None."""
        if resp.status_code not in (403, 429):
            return None
        retry_after = resp.headers.get("Retry-After")
        if retry_after is not None:
            try:
                return max(float(retry_after), 1.0)
            except ValueError:
                return 60.0
        if resp.headers.get("X-RateLimit-Remaining") == "0":
            try:
                reset = float(resp.headers.get("X-RateLimit-Reset", "0"))
            except ValueError:
                reset = 0.0
            return max(reset - self.clock(), 0.0) + 1.0
        if resp.status_code == 429:
            return 60.0
        return None

    def request(self, url: str, *, params=None, allow_redirects: bool = True, stream=False):
        """GET with retries (5xx, connection errors) and rate-limit waits; returns the response."""
        url = self._url(url)
        if not self._is_api(url):
            raise ServiceError(f"refusing to send an API request outside {self.api_url}: {url}")
        attempt = 0
        while True:
            try:
                resp = self.session.get(
                    url,
                    params=params,
                    headers=self._headers(url),
                    allow_redirects=allow_redirects,
                    timeout=self.timeout,
                    stream=stream,
                )
            except self._requests.RequestException as err:
                attempt += 1
                if attempt > self.retries:
                    raise ServiceError(
                        f"cannot reach {self.api_url} ({type(err).__name__}); check the network "
                        "or --api-url"
                    ) from None
                self.sleep(2 ** (attempt - 1))
                continue
            wait = self._rate_wait(resp)
            if wait is not None:
                if wait > self.max_wait:
                    raise ServiceError(
                        f"GitHub rate limit exhausted for {wait:.0f} s more; try again later "
                        "(or use a token with a higher limit)"
                    )
                attempt += 1
                if attempt > self.retries + 2:
                    raise ServiceError("GitHub kept answering with rate limits; try again later")
                self.sleep(wait)
                continue
            if resp.status_code >= 500:
                attempt += 1
                if attempt > self.retries:
                    raise ServiceError(
                        f"GitHub answered {resp.status_code} for {_path(url)} "
                        f"{self.retries + 1} times; try again later"
                    )
                self.sleep(2 ** (attempt - 1))
                continue
            if resp.status_code == 401:
                raise ServiceError(
                    "GitHub refused the token (401): check GITHUB_TOKEN; it needs read access to "
                    "the repositories and their Actions artifacts"
                )
            return resp

    def get_json(self, url: str, params=None):
        resp = self.request(url, params=params)
        if resp.status_code != 200:
            raise _HTTPStatus(resp.status_code, _path(self._url(url)), _message(resp))
        try:
            return resp, resp.json()
        except ValueError:
            raise ServiceError(
                f"GitHub answered with something that is not JSON for {_path(url)}"
            ) from None

    def paginate(self, url: str, params=None, key: str | None = None) -> Iterator[dict]:
        """Every item of a list endpoint, following ``Link: rel=next`` on the API host."""
        next_url: str | None = url
        first = True
        while next_url:
            resp, data = self.get_json(next_url, params if first else None)
            first = False
            items = data.get(key, []) if key else data
            if not isinstance(items, list):
                raise ServiceError(f"unexpected answer from GitHub for {_path(self._url(url))}")
            yield from items
            nxt = resp.links.get("next", {}).get("url") if hasattr(resp, "links") else None
            next_url = nxt if nxt and self._is_api(urljoin(self._url(url), nxt)) else None

    def download(self, url: str, dest) -> None:
        """Download an artifact zip to the open binary file ``dest``.

        The API answers 302 with the storage URL; that one is fetched by a plain request
        without the Authorization header (and without the session's cookies)."""
        resp = self.request(url, allow_redirects=False, stream=True)
        hops = 0
        while resp.status_code in (301, 302, 303, 307, 308):
            location = resp.headers.get("Location")
            resp.close()
            if not location or hops >= 5:
                raise _HTTPStatus(resp.status_code, _path(self._url(url)), "bad redirect")
            hops += 1
            target = urljoin(resp.url or self._url(url), location)
            if self._is_api(target):
                resp = self.request(target, allow_redirects=False, stream=True)
                continue
            try:
                resp = self._requests.get(
                    target,
                    headers={"User-Agent": "scorer-org"},
                    allow_redirects=True,
                    timeout=self.timeout,
                    stream=True,
                )
            except self._requests.RequestException as err:
                raise _HTTPStatus(0, "artifact storage", type(err).__name__) from None
        if resp.status_code != 200:
            raise _HTTPStatus(resp.status_code, _path(self._url(url)), _message(resp))
        with resp:
            for chunk in resp.iter_content(1 << 16):
                dest.write(chunk)


class _HTTPStatus(Exception):
    def __init__(self, status: int, where: str, message: str = ""):
        self.status = status
        super().__init__(f"HTTP {status} for {where}" + (f": {message}" if message else ""))


def _path(url: str) -> str:
    p = urlsplit(url)
    return p.path + (f"?{p.query}" if p.query else "")


def _message(resp) -> str:
    try:
        msg = resp.json().get("message", "")
    except Exception:
        msg = ""
    return str(msg)[:200]


def _newest_unexpired(artifacts: Iterable[dict], name: str) -> dict | None:
    best = None
    for a in artifacts:
        if not isinstance(a, dict) or a.get("expired") or a.get("name") != name:
            continue
        if best is None or str(a.get("created_at", "")) > str(best.get("created_at", "")):
            best = a
    return best


def read_github_org(
    org: str,
    artifact_name: str,
    *,
    api_url: str | None = None,
    token: str | None = None,
    api: GitHubAPI | None = None,
    workdir: str | None = None,
) -> Iterator[Loaded]:
    """The newest unexpired artifact named ``artifact_name`` of every repository of ``org``."""
    if api is None:
        api = GitHubAPI(api_url or DEFAULT_API_URL, token)
    label = f"github:{org}"
    try:
        repos = list(api.paginate(f"/orgs/{org}/repos", {"per_page": 100, "type": "all"}))
    except _HTTPStatus as err:
        if err.status != 404:
            raise ServiceError(f"cannot list the repositories of {org}: {err}") from None
        try:  # a user account rather than an organisation
            repos = list(api.paginate(f"/users/{org}/repos", {"per_page": 100, "type": "owner"}))
        except _HTTPStatus as err2:
            raise ServiceError(
                f"cannot list the repositories of {org}: {err2}; check the name and that "
                "GITHUB_TOKEN can read it"
            ) from None
    if not repos:
        yield Loaded(label, kind="no-artifact", detail="the organisation has no repository visible")
        return
    with tempfile.TemporaryDirectory(prefix="scorer-org-", dir=workdir) as tmp:
        for repo in sorted(repos, key=lambda r: str(r.get("full_name", ""))):
            full = str(repo.get("full_name") or f"{org}/{repo.get('name')}")
            source = f"github:{full}"
            try:
                artifacts = api.paginate(
                    f"/repos/{full}/actions/artifacts",
                    {"name": artifact_name, "per_page": 100},
                    key="artifacts",
                )
                best = _newest_unexpired(artifacts, artifact_name)
            except _HTTPStatus as err:
                yield Loaded(source, kind="fetch", detail=f"cannot list artifacts ({err})")
                continue
            if best is None:
                archived = " (archived)" if repo.get("archived") else ""
                yield Loaded(
                    source,
                    kind="no-artifact",
                    detail=f"no unexpired artifact named {artifact_name!r}{archived}",
                )
                continue
            art_id = best.get("id")
            zip_path = Path(tmp) / f"artifact-{int(art_id) if str(art_id).isdigit() else 0}.zip"
            try:
                with open(zip_path, "wb") as fh:
                    api.download(f"/repos/{full}/actions/artifacts/{art_id}/zip", fh)
            except _HTTPStatus as err:
                yield Loaded(source, kind="fetch", detail=f"cannot download artifact ({err})")
                zip_path.unlink(missing_ok=True)
                continue
            try:
                yield from read_zip(zip_path, f"{source}#artifact-{art_id}")
            finally:
                zip_path.unlink(missing_ok=True)
