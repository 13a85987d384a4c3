"""git-ai authorship logs: reading ``refs/notes/ai`` and what a note says (``note`` evidence).

A git-ai authorship log (the Git AI Standard, schema ``authorship/3.0.0``) is a git note on a
commit, under ``refs/notes/ai``, in two sections split by a line that is exactly ``---``:

1. Attestations: a file path at the start of a line (quoted when it holds spaces), then
   indented lines ``<hash> <ranges>`` saying which lines of that file a session wrote, e.g.
   ``  d9978a8723e02b52 1-4,9-10,12``. A hash is a prompt id (16 hex digits; 7 in old logs),
   a session and trace ``s_<id>::t_<id>``, or a human ``h_<id>``.
2. JSON metadata: ``{"schema_version": "authorship/3.0.0", "prompts": {...},
   "sessions": {...}, "humans": {...}}``. A prompt or session record carries
   ``"agent_id": {"tool": "cursor", "id": "...", "model": "..."}``.

A note is ``note`` evidence (high) for each agent whose session is attested with at least one
line range: ``s_`` hashes are looked up (up to ``::``) in ``sessions``, other hashes in
``prompts``; ``h_`` hashes are people and never evidence. The record's tool is mapped through
the registry's aliases (``claude`` is Claude Code, ``github-copilot`` Copilot, ``droid``
Factory); an unknown tool is agent ``other``. A note that does not have this shape — no
divider, invalid JSON, no attested session with a record naming a tool — is not evidence,
and never an error.

Both published forms are read, alone or mixed in one note (git-ai writes mixed notes while a
repository moves from one to the other). The source of truth is git-ai itself
(github.com/git-ai-project/git-ai): ``src/authorship/authorship_log_serialization.rs`` (an
``s_`` key is split on ``::`` and looked up in ``sessions``, ``h_`` in ``humans``, anything
else in ``prompts``) and ``docs/migrations/sessions-v2-note-format.md`` ("Attribution Note
Format: Sessions & Trace IDs", git-ai 1.4.0: ``s_`` + 14 hex digits ``::`` ``t_`` + 14 hex
digits per checkpoint; ``sessions`` may be absent from older notes; ``h_<id>::t_<id>`` may
come for people, which the ``h_`` prefix already covers). The 3.0.0 form without sessions
is git-ai's ``tests/integration/sessions_backwards_compat.rs``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from pathlib import Path

from scorer.attribution.registry import OTHER, Registry
from scorer.errors import RepositoryError
from scorer.model import HIGH, NOTE, Evidence

__all__ = ["DEFAULT_REF", "note_evidence", "read_ai_notes"]

DEFAULT_REF = "refs/notes/ai"
_RANGES_RE = re.compile(r"[0-9]+(?:-[0-9]+)?(?:,[0-9]+(?:-[0-9]+)?)*\Z")
_HASH_RE = re.compile(r"[0-9A-Za-z_:.-]+\Z")
# Tools that git-ai records for edits that are not an agent's.
_HUMAN_TOOLS = frozenset({"human", "known_human", "mock_known_human"})
_MAX_TEXT = 300


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_TERMINAL_PROMPT="0", GIT_NO_LAZY_FETCH="1", GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    return env


def read_ai_notes(
    git_dir: Path, ref: str = DEFAULT_REF, *, tip: str | None = None
) -> dict[str, str]:
    """Every note under ``ref``: annotated object id → note text (UTF-8, bad bytes replaced).

    Two git processes at most: ``git notes list`` (which prints nothing when the ref does not
    exist) and one ``git cat-file --batch`` that streams the note blobs, each blob read once
    however many commits share it. None at all when ``tip`` is ``""``: the caller knows the
    ref does not exist (``scorer.git.log.notes_tip``), the common case.
    """
    if tip == "":
        return {}
    base = ["git", "--git-dir", str(git_dir)]
    try:
        listed = subprocess.run(
            [*base, "notes", f"--ref={ref}", "list"],
            capture_output=True,
            env=_env(),
            check=False,
        )
    except FileNotFoundError:
        raise RepositoryError("git is not installed or not on PATH") from None
    if listed.returncode != 0:
        detail = listed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RepositoryError(
            f"cannot list git notes {ref} ({detail[-1] if detail else 'git notes failed'})"
        )
    pairs: list[tuple[str, str]] = []
    for line in listed.stdout.decode("ascii", "replace").splitlines():
        parts = line.split()
        if len(parts) == 2:
            pairs.append((parts[0], parts[1]))  # (note blob, annotated object)
    if not pairs:
        return {}
    blobs = _read_blobs(base, list(dict.fromkeys(b for b, _ in pairs)))
    return {obj: blobs[blob] for blob, obj in pairs if blob in blobs}


def _read_blobs(base: list[str], shas: list[str]) -> dict[str, str]:
    proc = subprocess.Popen(
        [*base, "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_env(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def feed() -> None:  # a thread, so that neither pipe can fill up and block the other
        try:
            for sha in shas:
                stdin.write(sha.encode("ascii") + b"\n")
            stdin.close()
        except (BrokenPipeError, OSError):
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    out: dict[str, str] = {}
    try:
        for _ in shas:
            header = stdout.readline()
            if not header:
                break
            parts = header.split()
            if len(parts) != 3:  # "<sha> missing"
                continue
            size = int(parts[2])
            data = stdout.read(size)
            stdout.read(1)  # the newline after the contents
            if parts[1] == b"blob":
                out[parts[0].decode("ascii")] = data.decode("utf-8", "replace")
    finally:
        stdout.close()
        writer.join()
        proc.wait()
    return out


def _attested_hashes(attestations: list[str]) -> list[str]:
    """The hashes of the attestation section that have valid line ranges under a file."""
    hashes: dict[str, None] = {}
    in_file = False
    for raw in attestations:
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if line[0] not in " \t":
            in_file = True  # a file path
            continue
        parts = line.split()
        if in_file and len(parts) == 2 and _HASH_RE.match(parts[0]) and _RANGES_RE.match(parts[1]):
            hashes.setdefault(parts[0])
    return list(hashes)


def note_evidence(note: str, registry: Registry) -> tuple[Evidence, ...]:
    """The ``note`` evidence of one git-ai authorship log; ``()`` for anything else."""
    lines = note.split("\n")
    i = next((n for n, line in enumerate(lines) if line.rstrip("\r") == "---"), -1)
    if i < 0:
        return ()
    hashes = _attested_hashes(lines[:i])
    if not hashes:
        return ()
    try:
        meta = json.loads("\n".join(lines[i + 1 :]))
    except (ValueError, RecursionError):
        return ()
    if not isinstance(meta, dict):
        return ()
    prompts = meta.get("prompts")
    sessions = meta.get("sessions")
    prompts = prompts if isinstance(prompts, dict) else {}
    sessions = sessions if isinstance(sessions, dict) else {}
    found: dict[tuple[str, str], Evidence] = {}
    for h in hashes:
        if h.startswith("h_"):
            continue  # a person's lines
        record = sessions.get(h.split("::", 1)[0]) if h.startswith("s_") else prompts.get(h)
        if not isinstance(record, dict):
            continue
        agent_id = record.get("agent_id")
        if not isinstance(agent_id, dict):
            continue
        tool = agent_id.get("tool")
        if not isinstance(tool, str) or not tool.strip():
            continue
        tool = tool.strip()
        if tool.lower() in _HUMAN_TOOLS:
            continue
        agent = registry.lookup_name(tool) or OTHER
        model = agent_id.get("model")
        text = f"git-ai note: {tool}"
        if isinstance(model, str) and model.strip() and model.strip() != "unknown":
            text += f" ({model.strip()})"
        text = text[:_MAX_TEXT]
        found.setdefault((agent, text), Evidence(agent, NOTE, text, HIGH))
    return tuple(found.values())
