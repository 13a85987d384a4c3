"""The history as attributed rows: every commit git lists, with the evidence that it is
AI-assisted (section 2), whether its author is a person, and the commits it says it reverts."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator, Sequence

from scorer.attribution.detect import attribute, reverted_shas
from scorer.attribution.notes import read_ai_notes
from scorer.attribution.registry import Registry
from scorer.git.log import Repo, clear_progress, iter_raw_commits, notes_tip, tty_progress
from scorer.model import CommitRow, RawCommit
from scorer.outcomes.table import CommitTable

SUBJECT_MAX = 200


_new_row = tuple.__new__  # a CommitRow without namedtuple's Python-level __new__ (per commit)


def commit_row(raw: RawCommit, registry: Registry, note: str | None) -> CommitRow:
    """The attribution stage for one commit (the message is dropped)."""
    msg = raw.message
    end = msg.find("\n")
    subject = (msg if end < 0 else msg[:end]).strip()
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    evidence, human = attribute(raw, registry, note)
    return _new_row(
        CommitRow,
        (
            raw.sha,
            raw.parents,
            raw.mailmap_name,
            raw.mailmap_email.strip().lower(),
            raw.author_time,
            raw.committer_time,
            subject,
            evidence,
            reverted_shas(msg),
            human,
        ),
    )


def read_rows(
    repo: Repo,
    head: str | Sequence[str],
    registry: Registry,
    progress: bool,
    exclude: tuple[str, ...] = (),
    log: subprocess.Popen | None = None,
    unverified: bool = False,
) -> Iterator[CommitRow]:
    """The rows of every commit reachable from ``head`` (one tip or several) and not from
    ``exclude``, newest first (``log``: that ``git log``, already started; ``unverified``:
    from a ref name, ``iter_raw_commits`` checks it began at ``head``)."""
    notes = read_ai_notes(repo.git_dir, tip=notes_tip(repo))
    show = tty_progress("scorer: reading") if progress else None
    try:
        for raw in iter_raw_commits(
            repo, head, exclude=exclude, progress=show, proc=log, unverified=unverified
        ):
            yield commit_row(raw, registry, notes.get(raw.sha))
    finally:
        clear_progress()


def add_rows(table: CommitTable, rows: Iterable[CommitRow]) -> CommitTable:
    """``rows`` added to ``table`` (those it does not hold yet: a deployed branch read
    earlier may since have been merged), their parents linked."""
    table.extend(rows)
    table.link()
    return table
