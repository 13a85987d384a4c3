"""Errors a person can act on.

Each error maps to one exit code of the CLI contract and renders as one line; the CLI
never shows a traceback for these unless ``--debug`` is given.
"""

from __future__ import annotations


class ScorerError(Exception):
    """Base class: ``str(err)`` is the one line shown to the user."""

    exit_code = 1


class InputError(ScorerError):
    """Bad usage, configuration or input file (exit 2). Names the file and line when known."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


class RepositoryError(ScorerError):
    """The repository could not be read (exit 1); the message says what to do."""


class ServiceError(ScorerError):
    """A remote service (GitHub, GitLab) could not be read (exit 1)."""
