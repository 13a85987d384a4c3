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

from scorer.deploys.api import ApiSource, api_id, api_object, api_text
from scorer.deploys.interface import SourceContext
from scorer.errors import InputError, ServiceError
from scorer.model import DeployEvent
from scorer.rest import RestClient, max_wait_from
from scorer.util.textsafe import one_line
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
        for item in client.paginate(path, params):
            dep = api_object(item, "a GitLab deployment")
            dep_id = api_id(dep.get("id"), "a GitLab deployment's")
            what = f"GitLab deployment {dep_id}"
            status = STATUS.get(api_text(dep.get("status"), f"{what}: status").lower())
            if status is None:
                self.skip(dep_id)
                continue
            env = dep.get("environment")
            env_name = api_text(
                env.get("name") if isinstance(env, dict) else env, f"{what}: environment"
            )
            when = ""
            for field in ("finished_at", "updated_at", "created_at"):
                when = api_text(dep.get(field), f"{what}: {field}")
                if when:
                    break
            try:
                time = parse_instant(when)
            except ValueError:
                raise ServiceError(f"{what}: no valid time ({one_line(repr(when))})") from None
            found.append(
                DeployEvent(
                    id=str(dep_id),
                    sha=api_text(dep.get("sha"), f"{what}: sha"),
                    environment=env_name or "production",
                    time=time,
                    status=status,
                    where=what,
                )
            )
        self.report_skipped("created, running, blocked or skipped")
        found.sort(key=lambda ev: (ev.time, int(ev.id) if ev.id.isdigit() else 0))
        yield from found
