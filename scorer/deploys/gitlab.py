"""``gitlab[:ENV]`` — the GitLab Deployments API (``GET /projects/:id/deployments``).

Environment variables (all set by GitLab CI): ``CI_API_V4_URL`` (e.g.
``https://gitlab.com/api/v4``), ``CI_PROJECT_ID`` (or ``CI_PROJECT_PATH``). Token:
``GITLAB_TOKEN`` (sent as ``PRIVATE-TOKEN``, a personal/project access token with ``read_api``),
else ``CI_JOB_TOKEN`` (sent as ``JOB-TOKEN``).

Status: ``success`` → success, ``failed`` → failure, ``canceled`` → error. ``created``,
``running``, ``blocked`` and ``skipped`` deployments did not happen: they are skipped, counted in
``skipped`` and reported on stderr. Time: ``finished_at`` when GitLab gives it, else
``updated_at`` (when the status last changed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from urllib.parse import quote

from scorer.deploys.api import ApiSource
from scorer.deploys.interface import SourceContext
from scorer.errors import InputError, ServiceError
from scorer.model import DeployEvent
from scorer.rest import RestClient, max_wait_from
from scorer.util.times import parse_instant

STATUS = {"success": "success", "failed": "failure", "canceled": "error"}


def gitlab_client(env: Mapping[str, str]) -> RestClient:
    api = (env.get("CI_API_V4_URL") or "").strip()
    if not api:
        server = (env.get("CI_SERVER_URL") or "").strip()
        if not server:
            raise InputError(
                "deploy source gitlab needs CI_API_V4_URL (set by GitLab CI), e.g. "
                "https://gitlab.com/api/v4"
            )
        api = server.rstrip("/") + "/api/v4"
    if token := (env.get("GITLAB_TOKEN") or "").strip():
        header, value = "PRIVATE-TOKEN", token
    elif token := (env.get("CI_JOB_TOKEN") or "").strip():
        header, value = "JOB-TOKEN", token
    else:
        header, value = "PRIVATE-TOKEN", None
    return RestClient(
        api,
        auth_header=header,
        auth_value=value,
        service="GitLab",
        max_wait=max_wait_from(env),  # SCORER_HTTP_MAX_WAIT, as for GitHub
    )


class GitLabSource(ApiSource):
    scheme = "gitlab"

    def default_client(self, ctx: SourceContext) -> RestClient:
        return gitlab_client(ctx.env)

    def events(self, ctx: SourceContext) -> Iterator[DeployEvent]:
        project = (ctx.env.get("CI_PROJECT_ID") or ctx.env.get("CI_PROJECT_PATH") or "").strip()
        if not project:
            raise InputError(
                "deploy source gitlab needs the project: set CI_PROJECT_ID (set by GitLab CI)"
            )
        client = self._client_factory(ctx)
        params: dict[str, object] = {"per_page": 100, "order_by": "id", "sort": "asc"}
        if self.environment:
            params["environment"] = self.environment
        found: list[DeployEvent] = []
        path = f"/projects/{quote(project, safe='')}/deployments"
        for dep in client.paginate(path, params):
            dep_id = dep.get("id")
            status = STATUS.get(str(dep.get("status", "")).lower())
            if status is None:
                self.skip(dep_id)
                continue
            env = dep.get("environment")
            env_name = env.get("name") if isinstance(env, dict) else env
            when = dep.get("finished_at") or dep.get("updated_at") or dep.get("created_at") or ""
            try:
                time = parse_instant(str(when))
            except ValueError:
                raise ServiceError(
                    f"GitLab deployment {dep_id}: no valid time ({when!r})"
                ) from None
            found.append(
                DeployEvent(
                    id=str(dep_id),
                    sha=str(dep.get("sha") or ""),
                    environment=str(env_name or "production"),
                    time=time,
                    status=status,
                    where=f"GitLab deployment {dep_id}",
                )
            )
        self.report_skipped("created, running, blocked or skipped")
        found.sort(key=lambda ev: (ev.time, int(ev.id) if ev.id.isdigit() else 0))
        yield from found
