"""Evidence that a change is AI-assisted (METRIC.md section 2), from one commit.

``detect(raw, registry, note)`` returns every piece of evidence, one per distinct
``(agent, kind, text)``, in the order trailer, identity, note, line, footer:

``trailer`` (high)
    A trailer of the message's trailer block, as git parses it (``scorer.attribution.trailers`` with
    ``divider=False``, git log's reading), whose key is an attribution key or an agent key:

    - ``Co-authored-by:`` names an agent when its ``Name <email>`` (or bare name) is an agent
      identity, or the value matches an agent's ``values`` pattern. A person is not evidence,
      even one called Claude: only identities and patterns count here, never aliases.
    - ``Assisted-by: NAME:MODEL [TOOLS]`` (the Linux kernel and Fedora form) names agent NAME,
      matched against the agents' aliases; ``Assisted-by: Claude Code`` without a model too.
      An unknown NAME is agent ``other``. A ``Name <email>`` value that is no agent identity
      is a person who helped, not evidence.
    - ``Generated-by:`` and ``AI-assisted:`` name the agent their value starts with (alias),
      or whose identity/pattern it matches; any other value is agent ``other``, except a
      negative one (first word no, false, none, 0, n/a, off, …), which is not evidence.
    - ``Made-with:`` needs a known agent (``Made-with: Cursor``); anything else is nothing.
    - ``Agent-Signature: WORD …`` names the agent of its first word (``claude-opus-4-8-max on
      behalf of maphew`` is claude-code, ``codex-gpt-5.5-high`` codex: the longest run of the
      word's ``-``-separated parts that is an alias), else agent ``other``; a negative word is
      nothing.
    - An agent-specific key (``Claude-Session``, ``Copilot-Session``, ``Amp-Thread-ID``, …)
      names its agent whatever the value (unless the registry restricts the value).

    **The most specific match wins.** One value may name several agents (``Assisted-by:
    Claude Opus 4.5 via Crush``: the model's maker and the tool it ran in). It credits only
    the agents found by the first of these rules that finds a known agent:

    1. ``via``: in a tool-name value (every key above but ``Co-authored-by``), the text after
       the last word ``via`` starts with an agent alias — the tool (``… via Crush`` is crush);
    2. identity: the value's ``Name <email>``, or the bare value as a name, is an agent
       identity;
    3. pattern: an agent's ``values`` regular expression matches the value;
    4. alias: in a tool-name value without ``<email>``, the alias the value starts with,
       longest alias first (``Claude Code (opus)`` is claude-code before ``claude``).

    Every agent found by the deciding rule counts. When no rule finds one, the fallbacks
    above apply (``other``, or nothing). An agent-specific key credits its agent in any case.

``identity`` (high)
    The author (as recorded, and after ``.mailmap`` when that differs) is an agent identity
    (``claude[bot]``, ``Cursor Agent <cursoragent@cursor.com>``, ``Jane Doe (aider)``, …).
    The committer alone counts only for agents with ``committer: true`` in the registry
    (METRIC.md v2): aider commits the user's own pending edits with ``Name (aider)`` as
    committer, and an agent that rebases a person's commits becomes their committer.

``note`` (high)
    A git-ai authorship log under ``refs/notes/ai`` that attributes lines to an AI session
    (``scorer.attribution.notes``).

``line`` (medium)
    A line anywhere in the message, outside the trailer block, that would be an attribution
    trailer naming an agent by the rules above, e.g. a ``Co-Authored-By: Claude
    <noreply@anthropic.com>`` followed by another paragraph. The key starts the line: an
    indented line is a quoted example, a code block or a continuation line. The one exception
    is a line indented by exactly four spaces inside a quoted commit message — after a git
    commit header (``commit <hex>``/``Author:``/``Date:`` lines, then a blank line), as in
    ``git merge --squash`` messages and git-log output in squash bodies; see
    ``quoted_message_lines``. GitHub's own squash bodies do not indent the squashed messages.

``footer`` (medium)
    A footer convention (a line starting, after emoji or punctuation, with e.g.
    ``Generated with [Claude Code](…)`` or ``Generated with Crush``) or a subject convention
    (aider's ``aider: `` prefix).

``text`` is the exact matched trailer (continuation lines included), line or
``Name <email>``, at most 300 characters.

Speed: the common commit has no evidence. Its message costs one ``re.search`` (the
registry's prefilter, which has a literal ``\\n`` prefix) and its identities one dict
lookup each (verdicts are cached per name and email in the registry).
"""

from __future__ import annotations

import re

from scorer.attribution.notes import note_evidence
from scorer.attribution.registry import (
    AGENT,
    AGENT_SIGNATURE,
    ASSISTED_BY,
    ATTRIBUTION_KEYS,
    CO_AUTHORED_BY,
    MADE_WITH,
    OTHER,
    Registry,
)
from scorer.attribution.trailers import parse_trailers
from scorer.model import FOOTER, HIGH, IDENTITY, LINE, MEDIUM, NOTE, TRAILER, Evidence, RawCommit

__all__ = ["MAX_TEXT", "attribute", "author_is_human", "detect", "reverted_shas"]

MAX_TEXT = 300
_KIND_ORDER = {TRAILER: 0, IDENTITY: 1, NOTE: 2, LINE: 3, FOOTER: 4}
_NEGATIVE = frozenset({"no", "false", "none", "0", "n/a", "na", "n", "off", "nil", "null", "-"})
# "Name <email>": a person-or-agent identity as a trailer value.
_IDENT_RE = re.compile(r"(.*?)\s*<([^<>]*)>\s*\Z", re.DOTALL)
_REVERT_RE = re.compile(r"[Tt]his\s+reverts\s+commit\s+([0-9a-fA-F]{7,40})(?![0-9A-Za-z])")
_WORD = re.compile(r"\w")
_WORDS_RE = re.compile(r"[^\s(),;]+")
# "Claude Opus 4.5 via Crush": the tool after the last " via " (a word, any case).
_VIA_RE = re.compile(r".*\s[Vv][Ii][Aa]\s+(\S.*)", re.DOTALL)
_NONE: tuple[Evidence, ...] = ()


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT]


def _is_negative(value: str) -> bool:
    """``no``, ``None.``, ``false (written by hand)``, ``n/a``: the first word says no."""
    words = _WORDS_RE.findall(value)
    return bool(words) and words[0].lower().rstrip(".,;:!") in _NEGATIVE


def value_agents(registry: Registry, key: str, value: str) -> tuple[str, ...]:
    """The agent ids a trailer ``key: value`` names (``key`` lower-cased); ``()`` for none.

    This is the rule table of the module docstring; it is shared by ``trailer`` and ``line``
    evidence and cached per registry.
    """
    cache = registry.value_cache
    hit = cache.get((key, value))
    if hit is not None:
        return hit
    result = _value_agents(registry, key, value.strip())
    if len(cache) < 100_000:
        cache[(key, value)] = result
    return result


def _value_agents(registry: Registry, key: str, value: str) -> tuple[str, ...]:
    if not value:
        return ()
    found: dict[str, None] = {}
    for agent, rule in registry.key_rules.get(key, ()):
        if rule.matches(value):
            found.setdefault(agent.id)
    if key not in ATTRIBUTION_KEYS or _is_negative(value):
        return tuple(found)
    if key == AGENT_SIGNATURE:  # the first word names the agent; any other is `other`
        found.setdefault(registry.lookup_word(value.split(None, 1)[0]) or OTHER)
        return tuple(found)
    tool_key = key != CO_AUTHORED_BY  # a tool-name value: Assisted-by, Generated-by, …
    ident = _IDENT_RE.match(value)
    # The most specific rule that names a known agent decides (module docstring).
    named: tuple[str, ...] = ()
    if tool_key:
        via = _VIA_RE.search(value)
        if via is not None:
            agent = registry.lookup_name(via.group(1))
            named = (agent,) if agent is not None else ()
    if not named:
        if ident is not None:
            named = registry.identity(ident.group(1).strip(), ident.group(2).strip())[1]
        else:  # a bare name: "Co-authored-by: Copilot", "Co-authored-by: claude[bot]"
            named = registry.identity(value, "")[1]
    if not named:
        named = tuple(a.id for a in registry.agents if a._values_res and a.matches_value(value))
    if not named and tool_key and ident is None:
        agent = registry.lookup_name(value)
        named = (agent,) if agent is not None else ()
    for i in named:
        found.setdefault(i)
    if found or not tool_key:
        return tuple(found)
    if key == MADE_WITH or (key == ASSISTED_BY and ident is not None):
        return ()
    return (OTHER,)


def _message_evidence(msg: str, registry: Registry, add, lowtext: str | None = None) -> None:
    """Trailer, line and footer evidence of ``msg``; ``lowtext`` is ``"\n" + msg.lower()``."""
    if lowtext is None:
        lowtext = "\n" + msg.lower()
    # lowtext[i + 1] is the lower-cased msg[i], unless lower-casing changed the length (a
    # handful of characters such as "İ" do): then offsets are found in msg itself.
    same = len(lowtext) == len(msg) + 1
    if same:
        key_lines = [
            (m.start(), m.group(1), msg[m.start(2) - 1 : m.end(2) - 1], m.end() - 1)
            for m in registry.key_line_re.finditer(lowtext)
        ]
    else:
        key_lines = [
            (m.start(), m.group(1).lower(), m.group(2), m.end())
            for m in registry.key_line_slow.finditer(msg)
        ]
    quoted_lines = []
    if "\n    " not in lowtext:
        quoted = ()  # no line indented by four spaces (the common case)
    elif same:
        quoted = registry.quoted_key_line_re.finditer(lowtext)
    else:
        quoted = registry.quoted_key_line_slow.finditer(msg)
    for m in quoted:
        if same:
            start, key, value = m.start(), m.group(1), msg[m.start(2) - 1 : m.end(2) - 1]
            end = m.end() - 1
        else:
            start, key, value, end = m.start(), m.group(1).lower(), m.group(2), m.end()
        quoted_lines.append((start, key, value, end))
    if quoted_lines:
        inside = quoted_message_lines(msg)
        key_lines += [(s + 4, k, v, e) for s, k, v, e in quoted_lines if s in inside]
    if key_lines:
        # Every line of the trailer block that starts with a key is one of its trailers, so
        # a key line is outside the block exactly when no trailer starts there.
        trailer_starts = set()
        for t in parse_trailers(msg):
            trailer_starts.add(t.start)
            key = t.key.lower()
            if key in registry.key_names:
                agents = value_agents(registry, key, t.value)
                if agents:
                    text = _bounded(msg[t.start : t.end].rstrip("\r\n"))
                    for a in agents:
                        add(a, TRAILER, text, HIGH)
        for start, key, value, end in key_lines:
            if start in trailer_starts:
                continue  # a trailer of the block: read above, as git reads it
            agents = value_agents(registry, key, value.rstrip("\r"))
            if agents:
                text = _bounded(msg[start:end].rstrip("\r"))
                for a in agents:
                    add(a, LINE, text, MEDIUM)
    if registry.footer_line_re is None:
        return
    low = lowtext[1:]  # footers and subjects are compared lower-cased
    nl = low.find("\n")
    subject = low if nl < 0 else low[:nl]
    for text, agent in registry.subjects:
        if subject.startswith(text):
            add(agent, FOOTER, _bounded(_line_at(msg, low, same, 0)), MEDIUM)
    for m in registry.footer_line_re.finditer(lowtext):
        start = m.start()  # the line's offset in low
        nl = low.find("\n", start)
        line = low[start : len(low) if nl < 0 else nl]
        for text, agent in registry.footers:
            p = line.find(text)
            if p >= 0 and not _WORD.search(line, 0, p):
                add(agent, FOOTER, _bounded(_line_at(msg, low, same, start)), MEDIUM)


# A commit header as git prints it (git log, git merge --squash's "Squashed commit of the
# following:"): the lines before a commit's message, which follows indented by four spaces.
_HEADER_RE = re.compile(
    r"(?:commit [0-9a-f]{7,40}(?:[ \t].*)?|Merge:[ \t].*|Author:[ \t].*|AuthorDate:[ \t].*"
    r"|Commit:[ \t].*|CommitDate:[ \t].*|Date:[ \t].*)\Z"
)


def quoted_message_lines(msg: str) -> frozenset[int]:
    """Offsets of the lines of ``msg`` that belong to a quoted commit message, where a line
    indented by exactly four spaces is read as if it were not indented (``line`` evidence).

    A quoted commit message is what git prints for a commit: a header — consecutive lines
    ``commit <7-40 hex>…``, ``Merge:``, ``Author:``, ``AuthorDate:``, ``Commit:``,
    ``CommitDate:``, ``Date:``, at least one of them ``Author:`` — then one blank line, then
    the message, every line indented by four spaces. The message runs up to the first line
    that is neither blank nor indented by four spaces. That is the body of ``git merge
    --squash`` ("Squashed commit of the following:"), and of GitHub squash bodies that hold
    such a log (a squashed commit's "Detailed commits:", a description pasted from ``git
    log``). Every other indented line is a quoted example, a code block or a continuation
    line, and no evidence.
    """
    lines = msg.split("\n")
    if lines[-1] == "":
        lines.pop()  # nothing after the last newline
    inside: list[int] = []
    offsets = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    i, n = 0, len(lines)
    while i < n:
        j, author = i, False
        while j < n and _HEADER_RE.match(lines[j].rstrip("\r")):
            author = author or lines[j].startswith("Author:")
            j += 1
        if j == i or not author or j >= n or lines[j].strip(" \t\r"):
            i = max(j, i + 1)
            continue
        j += 1  # the blank line after the header
        while j < n and (not lines[j].strip(" \t\r") or lines[j].startswith("    ")):
            inside.append(offsets[j])
            j += 1
        i = j
    return frozenset(inside)


def _line_at(msg: str, low: str, same: bool, pos: int) -> str:
    """The line of ``msg`` that starts at ``pos`` in its lower-cased form ``low``."""
    if not same:
        return msg.split("\n")[low.count("\n", 0, pos)].rstrip("\r")
    nl = msg.find("\n", pos)
    return msg[pos : len(msg) if nl < 0 else nl].rstrip("\r")


_MEMO_MAX = 100_000  # messages' deciding tails remembered per registry
_TAIL_MAX = 2_000  # characters: longer tails are read each time
_CUT = " >8 "  # in every scissors line


def _deciding_tail(msg: str, lowtext: str, first: int) -> str | None:
    """The end of ``msg`` that alone decides its trailer, line and footer evidence, when that
    is clear; None otherwise. Agents' commits repeat their footers and trailers (``Co-authored-
    by: Claude <noreply@anthropic.com>``, ``Generated with …``), so the evidence of a tail is
    worked out once per registry (``detect``) — the same answer, with no parsing.

    ``first`` is where the registry's prefilter matched ``lowtext`` (``"\\n" + msg.lower()``):
    the start, in ``msg``, of the first line that may hold such evidence; no earlier line can
    (the prefilter matches every key, footer and subject line). The tail starts after the
    last empty line before it (there is none when that line is the subject, whose
    conventions are then read). It decides alone when ``msg`` holds no NUL or scissors line
    (which cut the message short) and no line indented by four spaces (quoted commit
    messages depend on earlier lines); the checks for a ``Conflicts:`` block, a first
    candidate line that is a comment and lower-casing that moved offsets are conservative.
    Then git's trailer block lies in the tail: the title paragraph ends at that empty line
    or before, and walking back from the end, git stops at it at the latest; every candidate
    line, and the lines a footer or a trailer's text is cut from, lie in the tail too
    (``tests/attribution/test_detect_memo.py``)."""
    if first == 0 or msg.startswith("#", first) or len(lowtext) != len(msg) + 1:
        return None
    start = msg.rfind("\n\n", 0, first) + 2
    if start < 2 or len(msg) - start > _TAIL_MAX:
        return None
    if "\0" in msg or _CUT in msg or "Conflicts:" in msg or "\n    " in lowtext:
        return None
    return msg[start:]


def detect(raw: RawCommit, registry: Registry, note: str | None = None) -> tuple[Evidence, ...]:
    """Every piece of evidence that ``raw`` is AI-assisted; ``()`` for an ordinary commit.

    ``note`` is the commit's ``refs/notes/ai`` note text, if any.
    """
    return attribute(raw, registry, note)[0]


def attribute(
    raw: RawCommit, registry: Registry, note: str | None = None
) -> tuple[tuple[Evidence, ...], bool]:
    """``detect`` and ``author_is_human`` at once: the history stage asks both of every
    commit, and they look up the same identities."""
    msg = raw.message
    cache = registry.identity_cache
    name, email = raw.author_name, raw.author_email
    hit = cache.get((name, email)) or registry.identity(name, email)
    ids_author = hit[1]
    human = author_is_human(raw, registry, hit)
    hit = cache.get((raw.committer_name, raw.committer_email)) or registry.identity(
        raw.committer_name, raw.committer_email
    )
    # A committer alone is evidence only for agents that say so (``committer: true``): aider
    # commits the user's own pending edits with "Name (aider)" as committer, and an agent
    # that rebases or amends a person's commits becomes their committer.
    ids_committer = hit[1]
    if ids_committer:
        ids_committer = tuple(i for i in ids_committer if i in registry.committer_ids)
    ids_mailmap: tuple[str, ...] = ()
    if (raw.mailmap_email != email or raw.mailmap_name != name) and (
        raw.mailmap_name or raw.mailmap_email
    ):
        ids_mailmap = registry.identity(raw.mailmap_name, raw.mailmap_email)[1]
    lowtext = "\n" + msg.lower()
    first = registry.prefilter_search(lowtext)
    others = ids_author or ids_committer or ids_mailmap or note
    if first is None and not others:
        return _NONE, human  # the common case: one search, two cached lookups
    memo = registry.message_cache
    tail = known = None
    if first is not None:
        tail = _deciding_tail(msg, lowtext, first.start())
        known = memo.get(tail) if tail is not None else None
        if known is not None and not others:
            return known[1], human  # an agent's commit, its tail seen before: the common AI case

    found: dict[tuple[str, str, str], Evidence] = {}

    def add(agent: str, kind: str, text: str, confidence: str) -> None:
        key = (agent, kind, text)
        if key not in found:
            found[key] = Evidence(agent, kind, text, confidence)

    if first is not None:
        if known is not None:
            for e in known[0]:
                found[(e.agent, e.kind, e.text)] = e
        else:
            _message_evidence(msg, registry, add, lowtext)
            if tail is not None and len(memo) < _MEMO_MAX:
                ordered = tuple(found.values())
                memo[tail] = (ordered, tuple(sorted(ordered, key=lambda e: _KIND_ORDER[e.kind])))
    for (name, email), ids in (
        ((raw.author_name, raw.author_email), ids_author),
        ((raw.mailmap_name, raw.mailmap_email), ids_mailmap),
        ((raw.committer_name, raw.committer_email), ids_committer),
    ):
        if ids:
            text = _bounded(f"{name} <{email}>")
            for a in ids:
                add(a, IDENTITY, text, HIGH)
    if note:
        for e in note_evidence(note, registry):
            add(e.agent, e.kind, e.text, e.confidence)
    return tuple(sorted(found.values(), key=lambda e: _KIND_ORDER[e.kind])), human


def author_is_human(
    raw: RawCommit, registry: Registry, hit: tuple[int, tuple[str, ...]] | None = None
) -> bool:
    """Whether the author of ``raw`` is a person who counts as a contributor (METRIC.md §7).

    The rule: the author is NOT human when their identity, as recorded or after ``.mailmap``,
    is an agent identity (``claude[bot]``, ``Cursor Agent <cursoragent@cursor.com>``,
    ``Copilot``, …) or a bot (the registry's ``bots``, and any name ending in ``[bot]`` that no
    agent lists). Everyone else is human, including a ``Name (aider)`` author: aider appends
    " (aider)" to the name of the person driving it and keeps their email, so that person is
    the contributor (their email, after ``.mailmap``, is the contributor's identity). The
    committer does not matter here (GitHub commits web edits as ``GitHub``).

    ``hit``: the recorded author's ``registry.identity``, when the caller has it.
    """
    name, email = raw.author_name, raw.author_email
    if hit is None:
        hit = registry.identity_cache.get((name, email)) or registry.identity(name, email)
    if hit[0] >= AGENT:  # AGENT or BOT
        return False
    if (raw.mailmap_email != email or raw.mailmap_name != name) and (
        raw.mailmap_name or raw.mailmap_email
    ):
        return registry.identity(raw.mailmap_name, raw.mailmap_email)[0] < AGENT
    return True


def reverted_shas(message: str) -> tuple[str, ...]:
    """The commit ids (7–40 hex digits, lower-cased, in order, without repeats) named by
    ``This reverts commit <sha>`` in ``message`` — git's revert message, with or without the
    trailing period, anywhere in the message (squashed reverts keep several)."""
    if "everts" not in message:
        return ()
    return tuple(dict.fromkeys(m.group(1).lower() for m in _REVERT_RE.finditer(message)))
