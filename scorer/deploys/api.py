"""What the deployments-API sources (``github``, ``gitlab``) share: the environment filter,
the injectable client and log (tests pass a local server's client and collect the lines), and
the count of deployments left out because they never finished."""

from __future__ import annotations

import sys
from collections.abc import Callable

from scorer.deploys.interface import DeploySource, SourceContext
from scorer.errors import ServiceError
from scorer.rest import RestClient
from scorer.util.textsafe import one_line

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
        self._log = log or _stderr_line

    def default_client(self, ctx: SourceContext) -> RestClient:
        raise NotImplementedError

    def skip(self, deployment_id: object) -> None:
        """Leave out a deployment that never finished, and count it for the report."""
        self.skipped += 1
        if len(self.skipped_sample) < SAMPLE:
            self.skipped_sample.append(one_line(deployment_id))

    def report_skipped(self, states: str) -> None:
        if self.skipped:
            self._log(
                f"scorer: {self.scheme} deployments: skipped {self.skipped} not finished "
                f"({states}), e.g. {', '.join(self.skipped_sample)}"
            )


def _stderr_line(line: str) -> None:
    """One line: API data in it cannot start another (a forged ``::warning::``)."""
    print(one_line(line), file=sys.stderr, flush=True)


# -- the types an API answer must have ------------------------------------------------------
# A server (or a proxy) that answers with other JSON types is one ServiceError line naming the
# field, never a traceback. Values are shown short and escaped: they are the server's text.

_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}


def _shown(value: object) -> str:
    kind = _TYPE_NAMES.get(type(value), "a number" if isinstance(value, int | float) else "null")
    text = one_line(repr(value))
    return f"{kind} ({text[:60]}{'…' if len(text) > 60 else ''})"


def api_object(value: object, what: str) -> dict:
    if not isinstance(value, dict):
        raise ServiceError(f"{what} is {_shown(value)}, not a JSON object")
    return value


def api_id(value: object, what: str) -> int:
    """An object id: an integer (it goes into URL paths), never a boolean or a string."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ServiceError(f"{what} id is {_shown(value)}, not an integer")
    return value


def api_text(value: object, what: str, *, optional: bool = True) -> str:
    """A string field ("" when absent and ``optional``)."""
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise ServiceError(f"{what} is {_shown(value)}, not a string")
    return value
