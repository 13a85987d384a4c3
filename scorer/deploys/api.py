"""What the deployments-API sources (``github``, ``gitlab``) share: the environment filter,
the injectable client and log (tests pass a local server's client and collect the lines), and
the count of deployments left out because they never finished."""

from __future__ import annotations

import sys
from collections.abc import Callable

from scorer.deploys.interface import DeploySource, SourceContext
from scorer.rest import RestClient

SAMPLE = 5


class ApiSource(DeploySource):
    scheme = ""

    def __init__(
        self,
        arg: str | None,
        environment: str | None,
        *,
        client_factory: Callable[[SourceContext], RestClient] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.environment = (arg or environment or "").strip() or None
        self.skipped = 0
        self.skipped_sample: list[str] = []
        self._client_factory = client_factory or self.default_client
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))

    def default_client(self, ctx: SourceContext) -> RestClient:
        raise NotImplementedError

    def skip(self, deployment_id: object) -> None:
        """Leave out a deployment that never finished, and count it for the report."""
        self.skipped += 1
        if len(self.skipped_sample) < SAMPLE:
            self.skipped_sample.append(str(deployment_id))

    def report_skipped(self, states: str) -> None:
        if self.skipped:
            self._log(
                f"scorer: {self.scheme} deployments: skipped {self.skipped} not finished "
                f"({states}), e.g. {', '.join(self.skipped_sample)}"
            )
