"""The report as JSON (the contract other programs read), and its JSON Schema."""

from __future__ import annotations

import json
from functools import lru_cache


def render(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


@lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON Schema of report schema_version 1, shipped inside the package."""
    from importlib import resources  # only here: most runs never ask for the schema

    text = resources.files("scorer.formats").joinpath("report.schema.json").read_text("utf-8")
    return json.loads(text)
