"""The agent registry: which names, emails, trailers and footers mean which agent.

The registry is data (``agents.yml`` beside this file, schema documented at its top),
extended or overridden per repository by the ``agents:`` entries of the configuration file:
an entry whose ``id`` is already known replaces that agent entirely, a new ``id`` adds one.

Everything is compiled once here; ``scorer.attribution.detect`` only runs the compiled
matchers. Matching is case-insensitive throughout.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence

from scorer.util.record import FrozenRecord

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~9 ms) at run time
if TYPE_CHECKING:
    from typing import Any

# yaml (~19 ms to import) is imported only when agents.yml is actually parsed: a warm scan can
# rebuild the registry from its data (Registry.from_data), keyed by registry_source_digest().

__all__ = [
    "AGENT_KIND",
    "ATTRIBUTION_KEYS",
    "KINDS",
    "OTHER",
    "REVIEW_BOT",
    "Agent",
    "KeyRule",
    "Registry",
    "agent_from_mapping",
    "load_registry",
    "registry_source_digest",
]

OTHER = "other"  # the agent id of evidence that names an agent the registry does not know
OTHER_NAME = "Other (unknown agent)"

# Trailer keys that attribute a change to a tool (METRIC.md section 2), lower-cased.
CO_AUTHORED_BY = "co-authored-by"
ASSISTED_BY = "assisted-by"
GENERATED_BY = "generated-by"
MADE_WITH = "made-with"
AI_ASSISTED = "ai-assisted"
# "Agent-Signature: claude-opus-4-8-max on behalf of maphew" (steveyegge/beads): the agent is
# named by the value's first word (Registry.lookup_word).
AGENT_SIGNATURE = "agent-signature"
ATTRIBUTION_KEYS = (
    CO_AUTHORED_BY,
    ASSISTED_BY,
    GENERATED_BY,
    MADE_WITH,
    AI_ASSISTED,
    AGENT_SIGNATURE,
)

# What an agent is (the `kind` field): a coding agent, or a review bot whose suggestions are
# committed (as co-author, or as author of the fix). Both are evidence with their agent id; a
# report can tell them apart with Registry.kind_of().
AGENT_KIND = "agent"
REVIEW_BOT = "review-bot"
KINDS = (AGENT_KIND, REVIEW_BOT)

SCHEMA_VERSION = 1
# The list-valued fields of an agent entry, in the order of agents.yml.
LIST_FIELDS = (
    "aliases",
    "names",
    "emails",
    "identities",
    "driven_names",
    "values",
    "keys",
    "footers",
    "subjects",
)
AGENT_FIELDS = ("id", "name", "kind", "committer", *LIST_FIELDS)
BOT_FIELDS = ("names", "emails", "identities")

_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
_KEY_RE = re.compile(r"[A-Za-z0-9-]+\Z")  # a git trailer token
# Where an alias ends inside a value: "Claude Code (opus)", "Crush:glm-4.6", "aider/0.80".
ALIAS_END = " \t(:/[<,;"


class KeyRule(FrozenRecord):
    """An agent-specific trailer key; ``value`` (a regex) restricts the values that count."""

    _fields = ("key", "value", "value_re")
    __slots__ = _fields
    _uncompared = _unshown = ("value_re",)

    def __init__(
        self, key: str, value: str | None = None, value_re: re.Pattern[str] | None = None
    ) -> None:
        self.key = key
        self.value = value
        self.value_re = value_re

    def matches(self, value: str) -> bool:
        if not value:
            return False
        return self.value_re is None or self.value_re.search(value) is not None

    def to_data(self) -> str | dict[str, str]:
        return self.key if self.value is None else {"key": self.key, "value": self.value}


class Agent(FrozenRecord):
    """One agent of the registry, as data plus its compiled matchers (hashable, never
    changed; equal when the data is, wherever it came from)."""

    _fields = (
        *AGENT_FIELDS,
        "source",
        "_names_re",
        "_emails_re",
        "_identities_re",
        "_driven_re",
        "_values_res",
    )
    __slots__ = _fields
    _COMPILED = ("_names_re", "_emails_re", "_identities_re", "_driven_re", "_values_res")
    _uncompared = ("source", *_COMPILED)
    _unshown = _COMPILED

    def __init__(
        self,
        id: str,
        name: str,
        kind: str = AGENT_KIND,
        committer: bool = False,
        aliases: tuple[str, ...] = (),
        names: tuple[str, ...] = (),
        emails: tuple[str, ...] = (),
        identities: tuple[str, ...] = (),
        driven_names: tuple[str, ...] = (),
        values: tuple[str, ...] = (),
        keys: tuple[KeyRule, ...] = (),
        footers: tuple[str, ...] = (),
        subjects: tuple[str, ...] = (),
        source: str = "shipped",  # "shipped" or "config"
        # Compiled forms (built by agent_from_mapping).
        _names_re: re.Pattern[str] | None = None,
        _emails_re: re.Pattern[str] | None = None,
        _identities_re: re.Pattern[str] | None = None,
        _driven_re: re.Pattern[str] | None = None,
        _values_res: tuple[re.Pattern[str], ...] = (),
    ) -> None:
        self.id = id
        self.name = name
        self.kind = kind  # AGENT_KIND or REVIEW_BOT
        self.committer = committer  # is a committer alone (not the author) evidence?
        self.aliases = aliases
        self.names = names
        self.emails = emails
        self.identities = identities
        self.driven_names = driven_names
        self.values = values
        self.keys = keys
        self.footers = footers
        self.subjects = subjects
        self.source = source
        self._names_re = _names_re
        self._emails_re = _emails_re
        self._identities_re = _identities_re
        self._driven_re = _driven_re
        self._values_res = _values_res

    def all_aliases(self) -> tuple[str, ...]:
        """The id, the name and the aliases, lower-cased, without duplicates."""
        seen: dict[str, None] = {}
        for a in (self.id, self.name, *self.aliases):
            seen.setdefault(" ".join(a.lower().split()))
        return tuple(seen)

    def identity_kind(self, name: str, email: str) -> str | None:
        """``"agent"`` when ``name``/``email`` is this agent, ``"driven"`` when it is a person
        working through it (aider's ``Name (aider)``), else None."""
        if self._names_re is not None and self._names_re.fullmatch(name):
            return "agent"
        if self._emails_re is not None and self._emails_re.fullmatch(email):
            return "agent"
        if self._identities_re is not None and self._identities_re.fullmatch(f"{name} <{email}>"):
            return "agent"
        if self._driven_re is not None and self._driven_re.fullmatch(name):
            return "driven"
        return None

    def matches_value(self, value: str) -> bool:
        return any(r.search(value) for r in self._values_res)

    def evidence_kinds(self) -> tuple[str, ...]:
        """The kinds of evidence this entry can produce (for ``scorer agents``)."""
        # Every agent can be named by a trailer (Assisted-by: NAME, …), a misplaced trailer
        # line and a git-ai note (its tool name is an alias).
        kinds = ["trailer"]
        if self.names or self.emails or self.identities or self.driven_names:
            kinds.append("identity")
        kinds += ["note", "line"]
        if self.footers or self.subjects:
            kinds.append("footer")
        return tuple(kinds)

    def to_data(self) -> dict[str, Any]:
        """The entry as registry data (the schema of agents.yml), empty fields and defaults
        (``kind: agent``, ``committer: false``) left out."""
        data: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.kind != AGENT_KIND:
            data["kind"] = self.kind
        if self.committer:
            data["committer"] = True
        for key in LIST_FIELDS:
            value = getattr(self, key)
            if value:
                data[key] = [k.to_data() for k in value] if key == "keys" else list(value)
        return data


def _trie_branches(words: Iterable[tuple[str, str]]) -> list[str]:
    """The top-level branches of a regex that matches each literal ``text`` followed by its
    ``suffix`` (a regex), factored by common prefixes. The re module rejects a branch that
    starts with a literal character with one comparison, so a trie costs one comparison per
    distinct first letter where a plain alternation tries every word."""
    tree: dict[str | None, Any] = {}
    for text, suffix in words:
        node = tree
        for ch in text:
            node = node.setdefault(ch, {})
        node.setdefault(None, set()).add(suffix)

    def alternatives(node: dict[str | None, Any]) -> list[str]:
        out = [re.escape(ch) + group(sub) for ch, sub in sorted(node.items(), key=_key) if ch]
        return out + sorted(node.get(None, ()), reverse=True)  # the empty suffix last

    def group(node: dict[str | None, Any]) -> str:
        alts = alternatives(node)
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return alternatives(tree)


def _key(item: tuple[str | None, Any]) -> str:
    return item[0] or ""


def _trie(words: Iterable[str]) -> str:
    """A regex alternation of the literal ``words`` (see _trie_branches)."""
    branches = _trie_branches((w, "") for w in words)
    return "(?:" + "|".join(branches) + ")" if branches else "(?!)"


def _fail(key: str, what: str) -> ValueError:
    return ValueError(f"{key}: {what}")


class LazyPattern:
    """A regular expression compiled on first use. A per-merge run reads a handful of
    commits, and compiling all of the registry's ~90 patterns up front would cost it ~10 ms;
    most are never asked. For whole-string globs (``globs``), a text that lacks a glob's
    literal pieces is refused without compiling anything."""

    __slots__ = ("_globs", "_re", "flags", "pattern")

    def __init__(self, pattern: str, flags: int, globs: Iterable[str] | None = None):
        self.pattern = pattern
        self.flags = flags
        self._re: re.Pattern[str] | None = None
        pieces = None
        if globs is not None:
            pieces = [tuple(p.lower() for p in g.split("*")) for g in globs]
            if not all(p.isascii() for g in pieces for p in g):
                pieces = None
        self._globs = pieces

    def _compiled(self) -> re.Pattern[str]:
        if self._re is None:
            self._re = re.compile(self.pattern, self.flags)
        return self._re

    def _may_fullmatch(self, text: str) -> bool:
        """False only when no glob can match (ASCII: lower-casing is what IGNORECASE does)."""
        if self._globs is None or not text.isascii():
            return True
        t = text.lower()
        for pieces in self._globs:
            head, tail = pieces[0], pieces[-1]
            if len(pieces) == 1:
                if t == head:
                    return True
                continue
            if not t.startswith(head) or not t.endswith(tail):
                continue
            pos, stop = len(head), len(t) - len(tail)
            for mid in pieces[1:-1]:
                k = t.find(mid, pos, stop)
                if k < 0:
                    break
                pos = k + len(mid)
            else:
                if pos <= stop:
                    return True
        return False

    def fullmatch(self, text: str) -> re.Match[str] | None:
        if not self._may_fullmatch(text):
            return None
        return self._compiled().fullmatch(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self._compiled().search(text)

    def match(self, text: str, *args: int) -> re.Match[str] | None:
        return self._compiled().match(text, *args)

    def finditer(self, text: str, *args: int):
        return self._compiled().finditer(text, *args)

    def __getattr__(self, name: str):
        return getattr(self._compiled(), name)


def glob_regex(globs: Iterable[str]) -> LazyPattern | None:
    """One case-insensitive pattern for whole-string globs in which only ``*`` is special."""
    globs = tuple(globs)
    pattern = _glob_alternation(globs)
    return None if pattern is None else LazyPattern(pattern, _GLOB_FLAGS, globs)


def _glob_alternation(globs: Iterable[str]) -> str | None:
    parts = [".*".join(re.escape(p) for p in g.split("*")) for g in globs]
    return "|".join(f"(?:{p})" for p in parts) if parts else None


_GLOB_FLAGS = re.IGNORECASE | re.DOTALL


def _strings(entry: Mapping[str, Any], key: str, *, strip: bool = True) -> tuple[str, ...]:
    raw = entry.get(key)
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        raise _fail(key, f"must be a list of strings, not {type(raw).__name__}")
    out = []
    for i, item in enumerate(raw, 1):
        if not isinstance(item, str) or not item.strip():
            raise _fail(key, f"item {i} must be a non-empty string, not {item!r}")
        out.append(item.strip() if strip else item)
    return tuple(dict.fromkeys(out))


def _regex(key: str, i: int, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as err:
        raise _fail(key, f"item {i}: invalid regular expression {pattern!r}: {err}") from None


def _key_rules(entry: Mapping[str, Any]) -> tuple[KeyRule, ...]:
    raw = entry.get("keys")
    if raw is None:
        return ()
    if isinstance(raw, (str, Mapping)):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        raise _fail("keys", f"must be a list, not {type(raw).__name__}")
    rules = []
    for i, item in enumerate(raw, 1):
        value = None
        if isinstance(item, Mapping):
            extra = sorted(set(item) - {"key", "value"}, key=str)
            if extra:
                raise _fail("keys", f"item {i}: unknown key {extra[0]!r} (known: key, value)")
            key, value = item.get("key"), item.get("value")
            if value is not None and (not isinstance(value, str) or not value):
                raise _fail("keys", f"item {i}: value must be a non-empty regular expression")
        else:
            key = item
        if not isinstance(key, str) or not _KEY_RE.match(key.strip()):
            raise _fail("keys", f"item {i}: {key!r} is not a trailer key (letters, digits, -)")
        value_re = _regex("keys", i, value) if value is not None else None
        rules.append(KeyRule(key.strip(), value, value_re))
    return tuple(rules)


def agent_from_mapping(entry: Mapping[str, Any], *, source: str = "config") -> Agent:
    """Validate and compile one registry entry.

    Raises ``ValueError("<key>: <what is wrong>")`` for a bad entry (unknown key, wrong type,
    invalid regular expression, bad id).
    """
    if not isinstance(entry, Mapping):
        raise _fail("agents", f"an agent entry must be a mapping, not {type(entry).__name__}")
    for key in entry:
        if key not in AGENT_FIELDS:
            raise _fail(str(key), f"unknown key (known: {', '.join(AGENT_FIELDS)})")
    agent_id = entry.get("id")
    if agent_id is None:
        raise _fail("id", "missing: every agent entry needs an id")
    if not isinstance(agent_id, str) or not _ID_RE.match(agent_id):
        raise _fail("id", f"{agent_id!r} is not a lower-case slug ([a-z0-9][a-z0-9._-]*)")
    if agent_id == OTHER:
        raise _fail("id", f"{OTHER!r} is reserved for agents the registry does not know")
    name = entry.get("name", agent_id)
    if not isinstance(name, str) or not name.strip():
        raise _fail("name", f"must be a non-empty string, not {name!r}")
    exact = ("values", "footers", "subjects")  # kept as written: "aider: " ends in a space
    kind = entry.get("kind", AGENT_KIND)
    if kind not in KINDS:
        raise _fail("kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
    committer = entry.get("committer", False)
    if not isinstance(committer, bool):
        raise _fail("committer", f"must be true or false, not {committer!r}")
    lists = {k: _strings(entry, k, strip=k not in exact) for k in LIST_FIELDS if k != "keys"}
    for k in ("names", "emails", "identities", "driven_names"):
        for i, g in enumerate(lists[k], 1):
            if not g.strip("*"):
                raise _fail(k, f"item {i}: {g!r} would match everyone")
    values = tuple(_regex("values", i, p) for i, p in enumerate(lists["values"], 1))
    for k in ("footers", "subjects"):
        for i, text in enumerate(lists[k], 1):
            if not text.strip():
                raise _fail(k, f"item {i} must be a non-empty string")
            if "\n" in text or "\r" in text:
                raise _fail(k, f"item {i}: a footer or subject is one line of text")
    return Agent(
        id=agent_id,
        name=name.strip(),
        kind=kind,
        committer=committer,
        aliases=lists["aliases"],
        names=lists["names"],
        emails=lists["emails"],
        identities=lists["identities"],
        driven_names=lists["driven_names"],
        values=lists["values"],
        keys=_key_rules(entry),
        footers=lists["footers"],
        subjects=lists["subjects"],
        source=source,
        _names_re=glob_regex(lists["names"]),
        _emails_re=glob_regex(lists["emails"]),
        _identities_re=glob_regex(lists["identities"]),
        _driven_re=glob_regex(lists["driven_names"]),
        _values_res=values,
    )


_MANY_PEOPLE = 64  # identities after which every agent's globs are asked at once

# Identity verdicts, cached per (name, email). Ordered: >= AGENT is not a human contributor.
HUMAN = 0
DRIVEN = 1  # a person working through an agent: evidence, but a human contributor
AGENT = 2
BOT = 3


class Registry:
    """The effective set of agents and bots, with every matcher compiled once.

    Identity verdicts and trailer values are cached per registry, so one registry should
    serve every commit of a scan (sharing it across threads is safe: at worst a verdict is
    computed twice).
    """

    def __init__(self, agents: Sequence[Agent], bots: Mapping[str, Sequence[str]] | None = None):
        ids = [a.id for a in agents]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"id: duplicate agent id {dupes[0]!r}")
        self.agents: tuple[Agent, ...] = tuple(agents)
        self._by_id = {a.id: a for a in self.agents}
        # Agents whose identity counts as the committer alone (``committer: true``).
        self.committer_ids = frozenset(a.id for a in self.agents if a.committer)
        self.bots = {k: tuple((bots or {}).get(k, ())) for k in BOT_FIELDS}
        self._bot_names = glob_regex((*self.bots["names"], "*[bot]"))
        self._bot_emails = glob_regex(self.bots["emails"])
        self._bot_identities = glob_regex(self.bots["identities"])
        self.identity_cache: dict[tuple[str, str], tuple[int, tuple[str, ...]]] = {}
        self._any_agent: tuple[re.Pattern[str] | None, ...] | None = None  # _may_be_agent
        self.value_cache: dict[tuple[str, str], tuple[str, ...]] = {}  # see detect.py
        # A message's deciding tail -> its message evidence, in the order found and sorted.
        self.message_cache: dict[str, tuple[tuple, tuple]] = {}  # see detect._deciding_tail

        # Aliases: longest first, so "claude code" wins over "claude".
        alias_map: dict[str, str] = {}
        for a in self.agents:
            for alias in a.all_aliases():
                alias_map.setdefault(alias, a.id)
        self._alias_map = alias_map
        alias_alt = "|".join(
            re.escape(x).replace(r"\ ", r"[ \t]+") for x in sorted(alias_map, key=len, reverse=True)
        )
        end = re.escape(ALIAS_END)
        # Compiled when a run first needs it (a per-merge run often does not): ~1.6 ms.
        self._alias_re = LazyPattern(rf"[ \t]*({alias_alt})[ \t]*(?:[{end}]|\Z)", re.IGNORECASE)

        # Agent-specific trailer keys.
        self.key_rules: dict[str, list[tuple[Agent, KeyRule]]] = {}
        for a in self.agents:
            for rule in a.keys:
                self.key_rules.setdefault(rule.key.lower(), []).append((a, rule))
        keys = sorted({*ATTRIBUTION_KEYS, *self.key_rules}, key=len, reverse=True)
        self.key_names = frozenset(keys)
        key_trie = _trie(keys)
        # Lines that would be an attribution trailer (key at the start of a line), searched in
        # "\n" + the lower-cased message (see the prefilter below); group 1 is the key, group 2
        # the value. _key_line_slow does the same on the message itself, for the rare message
        # whose lower-cased form has another length (then offsets would not carry over).
        self.key_line_re = re.compile(rf"\n({key_trie})[ \t]*:[ \t]*([^\n]*)")
        self.key_line_slow = LazyPattern(
            rf"^({key_trie})[ \t]*:[ \t]*([^\n]*)", re.IGNORECASE | re.MULTILINE
        )
        # The same, indented by exactly four spaces: such a line counts only inside a quoted
        # commit message (detect.quoted_message_lines); group 1 is the key, group 2 the value.
        self.quoted_key_line_re = LazyPattern(rf"\n {{4}}({key_trie})[ \t]*:[ \t]*([^\n]*)", 0)
        self.quoted_key_line_slow = LazyPattern(
            rf"^ {{4}}({key_trie})[ \t]*:[ \t]*([^\n]*)", re.IGNORECASE | re.MULTILINE
        )

        # Footers and subjects: lower-cased text, with the agents that use it.
        self.footers: list[tuple[str, str]] = [
            (f.lower(), a.id) for a in self.agents for f in a.footers
        ]
        self.subjects: list[tuple[str, str]] = [
            (f.lower(), a.id) for a in self.agents for f in a.subjects
        ]
        texts = sorted({t for t, _ in (*self.footers, *self.subjects)})
        text_trie = _trie(texts)
        # Lines that may be a footer (after leading emoji or punctuation), in "\n" + the
        # lower-cased message. Branches that start with a literal character are rejected by
        # the re module with one comparison, hence the trie and the "at least one" class.
        self.footer_line_re = (
            LazyPattern(rf"\n(?:{text_trie}|[^\w\n][^\w\n]*{text_trie})", 0) if texts else None
        )
        # The prefilter, searched in "\n" + the lower-cased message (lower-casing and a
        # case-sensitive pattern are much faster than re.IGNORECASE): every line start is then
        # preceded by "\n", the literal prefix that makes this one search fast on ordinary
        # messages. It matches every message that can hold trailer, line or footer evidence
        # (and a few more: subjects are looked for at every line start); identity and note
        # evidence do not depend on the message.
        branches = _trie_branches([(k, r"[ \t]*:") for k in keys] + [(t, "") for t in texts])
        branches.append(rf" {{4}}{key_trie}[ \t]*:")  # a key line of a quoted commit message
        if texts:  # a footer after leading emoji or punctuation
            branches.append(rf"[^\w\n][^\w\n]*(?:{text_trie})")
        self._prefilter = re.compile(r"\n(?:" + "|".join(branches) + ")")
        self.prefilter_search = self._prefilter.search

    # -- lookups -------------------------------------------------------------------------------

    def get(self, agent_id: str) -> Agent | None:
        return self._by_id.get(agent_id)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._by_id

    def __iter__(self):
        return iter(self.agents)

    def __len__(self) -> int:
        return len(self.agents)

    def kind_of(self, agent_id: str) -> str:
        """The ``kind`` of an agent id: ``agent`` or ``review-bot`` (``other`` and ids the
        registry does not know are ``agent``)."""
        agent = self._by_id.get(agent_id)
        return agent.kind if agent else AGENT_KIND

    def ids_of_kind(self, kind: str) -> frozenset[str]:
        """The agent ids of one ``kind`` (e.g. the review bots, reported separately)."""
        return frozenset(a.id for a in self.agents if a.kind == kind)

    def lookup_word(self, word: str) -> str | None:
        """The agent id a single word names, for ``Agent-Signature: claude-opus-4-8-max``:
        the word is cut at the first space, tab or one of ( : / [ < , ; and then the longest
        run of its ``-``-separated parts, from its start, that is an alias wins
        ("claude-code-opus" is claude-code, "claude-opus-4-8-max" claude, "codex-gpt-5.5"
        codex; "claudette" is nothing)."""
        cut = len(word)
        for ch in ALIAS_END:
            i = word.find(ch)
            if 0 <= i < cut:
                cut = i
        parts = word[:cut].lower().split("-")
        for n in range(len(parts), 0, -1):
            agent = self._alias_map.get("-".join(parts[:n]))
            if agent is not None:
                return agent
        return None

    def lookup_name(self, text: str) -> str | None:
        """The agent id whose alias starts ``text`` ("Claude Code (opus 4)", "crush"), or None."""
        m = self._alias_re.match(text)
        if m is None:
            return None
        return self._alias_map.get(" ".join(m.group(1).lower().split()))

    def identity(self, name: str, email: str) -> tuple[int, tuple[str, ...]]:
        """``(verdict, agent ids)`` for one name/email: verdict is HUMAN, DRIVEN (a person
        working through an agent), AGENT or BOT. Cached."""
        key = (name, email)
        hit = self.identity_cache.get(key)
        if hit is not None:
            return hit
        verdict = HUMAN
        ids: list[str] = []
        many = len(self.identity_cache) >= _MANY_PEOPLE
        for a in self.agents if not many or self._may_be_agent(name, email) else ():
            kind = a.identity_kind(name, email)
            if kind == "agent":
                verdict = AGENT
                ids.append(a.id)
            elif kind == "driven":
                if verdict == HUMAN:
                    verdict = DRIVEN
                ids.append(a.id)
        if verdict == HUMAN and self._is_bot(name, email):
            verdict = BOT
        result = (verdict, tuple(ids))
        if len(self.identity_cache) < 1_000_000:
            self.identity_cache[key] = result
        return result

    def _may_be_agent(self, name: str, email: str) -> bool:
        """Whether any agent's name, email, identity or driven-name glob matches: one
        pattern each over every agent. Per agent, that is ~60 checks a person, and a cold scan
        of rails/rails meets 7,794 people; a per-merge run meets a few (the patterns are
        compiled only past ``_MANY_PEOPLE``)."""
        if self._any_agent is None:
            fields = (
                (a.names for a in self.agents),
                (a.emails for a in self.agents),
                (a.identities for a in self.agents),
                (a.driven_names for a in self.agents),
            )
            sources = (_glob_alternation(g for globs in f for g in globs) for f in fields)
            self._any_agent = tuple(
                None if p is None else re.compile(p, _GLOB_FLAGS) for p in sources
            )
        names, emails, identities, driven = self._any_agent
        return bool(
            (names is not None and names.fullmatch(name))
            or (emails is not None and emails.fullmatch(email))
            or (identities is not None and identities.fullmatch(f"{name} <{email}>"))
            or (driven is not None and driven.fullmatch(name))
        )

    def _is_bot(self, name: str, email: str) -> bool:
        if self._bot_names is not None and self._bot_names.fullmatch(name.strip()):
            return True
        if self._bot_emails is not None and self._bot_emails.fullmatch(email.strip()):
            return True
        ident = f"{name.strip()} <{email.strip()}>"
        return (
            self._bot_identities is not None and self._bot_identities.fullmatch(ident) is not None
        )

    # -- data ----------------------------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        """The effective registry in the schema of agents.yml."""
        return {
            "schema_version": SCHEMA_VERSION,
            "agents": [a.to_data() for a in self.agents],
            "bots": {k: list(v) for k, v in self.bots.items() if v},
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any], *, source: str = "data") -> Registry:
        """The registry ``to_data()`` describes (the same agents, bots and verdicts), without
        reading agents.yml. Entries are validated as configuration entries are: ValueError
        for anything that is not registry data. ``to_data()`` does not say where an agent
        came from, so every agent's ``source`` is ``source``."""
        if not isinstance(data, Mapping) or data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError("registry data: unsupported schema_version")
        entries = data.get("agents") or []
        bots = data.get("bots") or {}
        if not isinstance(entries, (list, tuple)) or not isinstance(bots, Mapping):
            raise ValueError("registry data: agents must be a list and bots a mapping")
        extra = sorted(set(bots) - set(BOT_FIELDS), key=str)
        if extra:
            raise ValueError(f"registry data: bots: unknown key {extra[0]!r}")
        agents = []
        for entry in entries:
            try:
                agents.append(agent_from_mapping(entry, source=source))
            except ValueError as err:
                ident = entry.get("id") if isinstance(entry, Mapping) else None
                raise ValueError(f"registry data: agent {ident!r}: {err}") from None
        return cls(agents, {k: _strings(bots, k) for k in BOT_FIELDS})


_SHIPPED_BYTES: bytes | None = None


def _shipped_bytes() -> bytes:
    """The packaged agents.yml, read once (beside this module; else via importlib.resources,
    e.g. from a zip)."""
    global _SHIPPED_BYTES
    if _SHIPPED_BYTES is None:
        try:
            with open(os.path.join(os.path.dirname(__file__), "agents.yml"), "rb") as fh:
                _SHIPPED_BYTES = fh.read()
        except OSError:
            from importlib import resources

            _SHIPPED_BYTES = (
                resources.files("scorer.attribution").joinpath("agents.yml").read_bytes()
            )
    return _SHIPPED_BYTES


def registry_source_digest(config_agents: Iterable[Mapping[str, Any] | Agent] = ()) -> str:
    """A SHA-256 (hex) of everything ``load_registry(config_agents)`` is built from: the
    packaged agents.yml and the configuration's agent entries (canonical JSON), plus the
    scorer version (the code that compiles them). Cheap: neither yaml nor a regex is touched.
    Equal digests give equal registries, so ``Registry.from_data`` of a ``to_data()`` kept
    under this digest can stand in for ``load_registry`` on a later run."""
    import json

    from scorer import __version__
    from scorer.util.sha import sha256

    entries = [e.to_data() if isinstance(e, Agent) else e for e in config_agents]
    # Non-JSON values (a YAML date, say) keep their type in the text: never equal to a string.
    canonical = json.dumps(
        entries,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=lambda o: {"__python__": f"{type(o).__module__}.{type(o).__qualname__}:{o!r}"},
    )
    h = sha256()
    for part in (f"scorer {__version__} registry {SCHEMA_VERSION}", _shipped_bytes(), canonical):
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def _shipped() -> dict[str, Any]:
    import yaml

    text = _shipped_bytes().decode("utf-8")
    # libyaml's loader when pyyaml has it: the registry is read on every cold run.
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError("agents.yml: unsupported schema_version")
    return data


_SHIPPED_AGENTS: tuple[Agent, ...] | None = None
_SHIPPED_BOTS: dict[str, tuple[str, ...]] | None = None


def _shipped_registry() -> tuple[tuple[Agent, ...], dict[str, tuple[str, ...]]]:
    global _SHIPPED_AGENTS, _SHIPPED_BOTS
    if _SHIPPED_AGENTS is None or _SHIPPED_BOTS is None:
        data = _shipped()
        agents = []
        for entry in data.get("agents") or []:
            try:
                agents.append(agent_from_mapping(entry, source="shipped"))
            except ValueError as err:
                raise ValueError(f"agents.yml: agent {entry.get('id')!r}: {err}") from None
        bots = data.get("bots") or {}
        _SHIPPED_BOTS = {k: _strings(bots, k) for k in BOT_FIELDS}
        _SHIPPED_AGENTS = tuple(agents)
    return _SHIPPED_AGENTS, _SHIPPED_BOTS


def load_registry(extra: Sequence[Mapping[str, Any]] = ()) -> Registry:
    """The shipped registry plus the configuration's ``agents:`` entries.

    An extra entry with a known id replaces that agent (in its place); a new id is appended.
    Raises ValueError("<key>: ...") for a bad extra entry or two extra entries with one id.
    """
    shipped, bots = _shipped_registry()
    agents = list(shipped)
    position = {a.id: i for i, a in enumerate(agents)}
    seen: set[str] = set()
    for entry in extra:
        agent = entry if isinstance(entry, Agent) else agent_from_mapping(entry)
        if agent.id in seen:
            raise _fail("id", f"agent {agent.id!r} is defined twice in the configuration")
        seen.add(agent.id)
        if agent.id in position:
            agents[position[agent.id]] = agent
        else:
            position[agent.id] = len(agents)
            agents.append(agent)
    return Registry(agents, bots)
