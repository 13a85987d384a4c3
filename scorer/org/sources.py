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

HTTP goes through the shared :class:`scorer.rest.RestClient` (pagination, rate-limit
waits, retries, the token kept to the API origin).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from scorer.errors import InputError, ServiceError

MAX_MEMBER_BYTES = 256 * 1024 * 1024  # one report inside a zip, uncompressed
MAX_ZIP_DEPTH = 3
MAX_ZIP_TOTAL = 64 << 20  # bytes one input may expand to; reports are kilobytes
MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024  # one downloaded artifact zip


@dataclass(frozen=True, slots=True)
class Loaded:
    """One input: ``report`` (parsed JSON) or a problem (``kind``, ``detail``)."""

    source: str
    report: object = None
    kind: str = ""
    detail: str = ""
    repository: str = ""  # the repository the report must be of (a GitHub artifact's), if known

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


def _open_regular(path: Path, source: str, limit: int) -> io.BufferedReader | Loaded:
    """``path`` opened for reading when it is (or links to) a regular file of at most
    ``limit`` bytes, else the problem. Opened without blocking and checked on the open file:
    a FIFO would hang a plain open, /dev/zero or a sparse file read until memory runs out."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        detail = "a dangling symbolic link" if path.is_symlink() else "no such file"
        return Loaded(source, kind="corrupt", detail=detail)
    except OSError as err:
        return Loaded(source, kind="corrupt", detail=f"cannot read: {err.strerror or err}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = _FILE_KINDS.get(stat.S_IFMT(st.st_mode), "special file")
            return Loaded(source, kind="corrupt", detail=f"not a regular file (a {kind})")
        if st.st_size > limit:
            return Loaded(
                source, kind="corrupt", detail=f"{st.st_size} bytes: too large to be a report"
            )
        os.set_blocking(fd, True)
        fh, fd = os.fdopen(fd, "rb"), -1
        return fh
    finally:
        if fd >= 0:
            os.close(fd)


_FILE_KINDS = {
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "FIFO",
    stat.S_IFSOCK: "socket",
    stat.S_IFDIR: "directory",
}


def read_json_file(path: Path, source: str | None = None) -> Loaded:
    """One report file: a regular file within MAX_MEMBER_BYTES, as zip members are."""
    source = source or str(path)
    opened = _open_regular(path, source, MAX_MEMBER_BYTES)
    if isinstance(opened, Loaded):
        return opened
    try:
        with opened:
            data = opened.read(MAX_MEMBER_BYTES + 1)
    except OSError as err:
        return Loaded(source, kind="corrupt", detail=f"cannot read: {err.strerror or err}")
    if len(data) > MAX_MEMBER_BYTES:  # it grew while it was read
        return Loaded(source, kind="corrupt", detail="too large to be a report")
    return _parse(data, source)


def read_zip(
    file: str | Path | io.BytesIO, source: str, depth: int = 0, budget: list[int] | None = None
) -> Iterator[Loaded]:
    """Every report JSON in a zip (members in name order, nested zips included).

    ``budget`` is what may still be decompressed from this input, nested zips included: a
    zip bomb (kilobytes that expand to gigabytes) costs at most MAX_ZIP_TOTAL, and the members
    it could not afford are listed as problems."""
    if budget is None:
        budget = [MAX_ZIP_TOTAL]
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
            if info.file_size > budget[0]:
                yield Loaded(
                    member,
                    kind="corrupt",
                    detail=f"not read: this input already expanded to "
                    f"{(MAX_ZIP_TOTAL - budget[0]) >> 20} MiB (limit {MAX_ZIP_TOTAL >> 20} MiB)",
                )
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(min(MAX_MEMBER_BYTES, budget[0]) + 1)
                budget[0] -= len(data)
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as err:
                yield Loaded(member, kind="corrupt", detail=f"cannot extract ({err})")
                continue
            if lower.endswith(".zip"):
                if depth >= MAX_ZIP_DEPTH:
                    yield Loaded(member, kind="corrupt", detail="zip files nested too deeply")
                    continue
                yield from read_zip(io.BytesIO(data), member, depth + 1, budget)
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
    if not path.exists() and not path.is_symlink():
        raise InputError("no such file or directory", path=str(path))
    if path.suffix.lower() == ".json":
        yield read_json_file(path)
        return
    # Only regular files are read (a FIFO, a device, a dangling link are problem lines); a
    # zip file is read from the file opened and checked here, never reopened by name.
    opened = _open_regular(path, str(path), MAX_ARTIFACT_BYTES)
    if isinstance(opened, Loaded):
        yield opened
        return
    with opened:
        if path.suffix.lower() == ".zip" or zipfile.is_zipfile(opened):
            opened.seek(0)
            yield from read_zip(opened, str(path))
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


def _trusted(artifact: dict, repo: dict) -> bool:
    """Made by a run of the repository's own default branch. A pull request's run, above all
    one from a fork (whose workflow file the fork controls), may upload anything under the
    same artifact name."""
    run = artifact.get("workflow_run")
    if not isinstance(run, dict):
        return False
    own = run.get("repository_id") is not None and (
        run.get("head_repository_id") == run.get("repository_id")
    )
    if repo.get("id") is not None and run.get("repository_id") != repo.get("id"):
        own = False
    branch = repo.get("default_branch")
    return own and (branch is None or run.get("head_branch") == branch)


def _newest_unexpired(
    artifacts: Iterable[dict], name: str, repo: dict | None = None
) -> tuple[dict | None, int]:
    """The newest unexpired artifact named ``name`` from the default branch, and how many
    others of that name were passed over for coming from elsewhere."""
    best, ignored = None, 0
    for a in artifacts:
        if not isinstance(a, dict) or a.get("expired") or a.get("name") != name:
            continue
        if repo is not None and not _trusted(a, repo):
            ignored += 1
            continue
        if best is None or str(a.get("created_at", "")) > str(best.get("created_at", "")):
            best = a
    return best, ignored


def github_client(env: Mapping[str, str], api_url: str | None = None):
    """The shared REST client, for ``api_url`` (else ``GITHUB_API_URL``) and ``GITHUB_TOKEN``."""
    from scorer.rest import RestClient

    env = dict(env)
    if api_url:
        env["GITHUB_API_URL"] = api_url
    return RestClient.from_github_env(env)


def read_github_org(
    org: str, artifact_name: str, client, *, workdir: str | None = None
) -> Iterator[Loaded]:
    """The newest unexpired artifact named ``artifact_name`` of every repository of ``org``.

    ``client`` is a :class:`scorer.rest.RestClient`: it paginates, waits out rate
    limits, retries 5xx answers, and follows the artifact download's redirect to the storage
    host without the token. A repository whose artifacts cannot be listed or downloaded is a
    problem line; a refused token (401) or an unreachable API stops the command (exit 1)."""
    from scorer.rest import APIError

    label = f"github:{org}"
    try:
        repos = list(client.paginate(f"/orgs/{org}/repos", {"per_page": 100, "type": "all"}))
    except APIError as err:
        if err.status != 404:
            raise ServiceError(f"cannot list the repositories of {org}: {err}") from None
        try:  # a user account rather than an organisation
            repos = list(client.paginate(f"/users/{org}/repos", {"per_page": 100}))
        except APIError as err2:
            raise ServiceError(
                f"cannot list the repositories of {org}: {err2}; check the name and that "
                "GITHUB_TOKEN can read it"
            ) from None
    if not repos:
        yield Loaded(label, kind="no-artifact", detail="no repository is visible to the token")
        return
    with tempfile.TemporaryDirectory(prefix="scorer-org-", dir=workdir) as tmp:
        for repo in sorted(repos, key=lambda r: str(r.get("full_name", ""))):
            full = str(repo.get("full_name") or f"{org}/{repo.get('name')}")
            source = f"github:{full}"
            try:
                best, ignored = _newest_unexpired(
                    client.paginate(
                        f"/repos/{full}/actions/artifacts",
                        {"name": artifact_name, "per_page": 100},
                        items_key="artifacts",
                    ),
                    artifact_name,
                    repo,
                )
            except APIError as err:
                if err.status == 401 or err.status is None:
                    raise
                yield Loaded(source, kind="fetch", detail=f"cannot list artifacts: {err}")
                continue
            if best is None:
                archived = " (archived)" if repo.get("archived") else ""
                elsewhere = f"; {ignored} from other branches or forks ignored" if ignored else ""
                yield Loaded(
                    source,
                    kind="no-artifact",
                    detail=f"no unexpired artifact named {artifact_name!r} from the default "
                    f"branch{archived}{elsewhere}",
                )
                continue
            art_id = best.get("id")
            zip_path = Path(tmp) / "artifact.zip"
            try:
                client.download(
                    f"/repos/{full}/actions/artifacts/{art_id}/zip",
                    zip_path,
                    max_bytes=MAX_ARTIFACT_BYTES,
                )
            except APIError as err:
                if err.status == 401:
                    raise
                yield Loaded(source, kind="fetch", detail=f"cannot download artifact: {err}")
                continue
            try:
                for item in read_zip(zip_path, f"{source}#artifact-{art_id}"):
                    yield dataclasses.replace(item, repository=full)
            finally:
                zip_path.unlink(missing_ok=True)
