"""Report formats. Each module exposes ``render(report: dict) -> str``; adding a format is one
module and one entry in ``FORMATS``."""

from __future__ import annotations

import importlib
from collections.abc import Callable

FORMATS: dict[str, str] = {
    "text": "scorer.formats.text",
    "json": "scorer.formats.json",
    "markdown": "scorer.formats.markdown",
}


def renderer(name: str) -> Callable[[dict], str]:
    return importlib.import_module(FORMATS[name]).render
