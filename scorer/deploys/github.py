"""``github[:ENV]`` — the GitHub Deployments API.

Each deployment is read with its statuses. The latest status decides (METRIC.md section 3):
``success``, ``failure`` and ``error`` are deploys that happened; ``inactive`` is what GitHub
sets on a deployment that a newer one replaced, so an ``inactive`` after a ``success`` is a
successful deploy (and one after ``failure``/``error`` keeps that status). A deployment whose
latest status is still ``pending``/``queued``/``in_progress``, or that has no status at all, is
not a deploy that happened: it is skipped, counted in ``skipped`` and reported on stderr.

The event's time is when its deciding status was created (when the deploy finished), not when
the deployment was requested. Repository: ``ctx.repository`` or ``GITHUB_REPOSITORY``; API URL:
``GITHUB_API_URL`` (GitHub Enterprise Server works); token: ``GITHUB_TOKEN`` or ``GH_TOKEN``
(the workflow needs ``permissions: deployments: read``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote

from scorer.deploys.api import ApiSource, api_id, api_object, api_text
from scorer.deploys.interface import SourceContext
from scorer.errors import InputError, ServiceError
from scorer.model import DeployEvent
from scorer.rest import RestClient
from scorer.util.textsafe import one_line
from scorer.util.times import parse_instant

FINAL = {"success": "success", "failure": "failure", "error": "error"}


def decide(statuses: list[dict]) -> tuple[str, str] | None:
    """The normalised status and its time from a deployment's statuses (any order), or None
    when the deployment has not finished (no status, or the latest is still in progress)."""
    ordered = sorted(statuses, key=lambda s: (s.get("created_at") or "", s.get("id") or 0))
    for st in reversed(ordered):
        state = str(st.get("state", "")).lower()
        if state in FINAL:
            return FINAL[state], st.get("created_at") or ""
        if state == "inactive":
            continue  # replaced later: what it was before decides
        return None  # pending, queued, in_progress (or a state we do not know): not finished
    return None


class GitHubSource(ApiSource):
    scheme = "github"

    def default_client(self, ctx: SourceContext) -> RestClient:
        return RestClient.from_github_env(ctx.env)

    def events(self, ctx: SourceContext) -> Iterator[DeployEvent]:
        repo = (ctx.repository or ctx.env.get("GITHUB_REPOSITORY") or "").strip()
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise InputError(
                "deploy source github needs the repository as owner/name: set GITHUB_REPOSITORY "
                "(set by GitHub Actions) or the repository in the config file"
            )
        client = self._client_factory(ctx)
        base = f"/repos/{quote(repo, safe='/')}"
        params: dict[str, object] = {"per_page": 100}
        if self.environment:
            params["environment"] = self.environment
        found: list[DeployEvent] = []
        for item in client.paginate(f"{base}/deployments", params):
            dep = api_object(item, "a GitHub deployment")
            dep_id = api_id(dep.get("id"), "a GitHub deployment's")
            what = f"GitHub deployment {dep_id}"
            statuses = [
                _status(st, what)
                for st in client.paginate(
                    f"{base}/deployments/{dep_id}/statuses", {"per_page": 100}
                )
            ]
            decided = decide(statuses)
            if decided is None:
                self.skip(dep_id)
                continue
            status, when = decided
            found.append(
                DeployEvent(
                    id=str(dep_id),
                    sha=api_text(dep.get("sha"), f"{what}: sha"),
                    environment=api_text(dep.get("environment"), f"{what}: environment")
                    or "production",
                    time=_time(when, dep_id),
                    status=status,
                    where=what,
                )
            )
        self.report_skipped("no status, or pending/queued/in_progress")
        # GitHub lists newest first; events go out oldest first (ties: by deployment id).
        found.sort(key=lambda ev: (ev.time, int(ev.id) if ev.id.isdigit() else 0))
        yield from found


def _status(item: object, what: str) -> dict:
    """A deployment status with the types ``decide`` relies on."""
    st = api_object(item, f"{what}: a status")
    api_text(st.get("state"), f"{what}: a status's state")
    api_text(st.get("created_at"), f"{what}: a status's created_at")
    if st.get("id") is not None:
        api_id(st.get("id"), f"{what}: a status's")
    return st


def _time(text: str, dep_id: object) -> datetime:
    try:
        return parse_instant(text)
    except ValueError:
        raise ServiceError(
            f"GitHub deployment {dep_id}: status has no valid time {one_line(repr(text))}"
        ) from None
