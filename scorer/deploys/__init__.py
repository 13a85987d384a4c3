"""Deploy sources: the registry of ``SCHEME[:ARG]`` specs, and the shared resolution rules.

Adding a source is one new module implementing ``interface.DeploySource`` and one entry in
``SOURCES``. Sources report SHAs as they found them; ``resolve_events`` applies one set of rules
to all of them: full or unambiguous abbreviated SHAs of the scanned history are kept, an
ambiguous one is an input error naming where it came from, and unknown ones are counted and
sampled for the report (a deploy of a commit that is not in the scanned history cannot be
linked, but it is not the user's mistake either: the ref may simply be behind).
"""

from __future__ import annotations

import bisect
import importlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from scorer.deploys.interface import DeploySource, SourceContext
from scorer.errors import InputError
from scorer.model import DeployEvent
from scorer.util.record import FrozenRecord, Record

SOURCES: dict[str, str] = {
    "tags": "scorer.deploys.tags:TagsSource",
    "log": "scorer.deploys.log:LogSource",
    "github": "scorer.deploys.github:GitHubSource",
    "gitlab": "scorer.deploys.gitlab:GitLabSource",
}

STATUSES = ("success", "failure", "error")


class DeploySpec(FrozenRecord):
    """One ``--deploys`` value; ``environment`` may come from the config file's mapping form.

    Hashable; never changed: ``spec.replace(confine_to=...)`` makes a changed copy."""

    _fields = ("scheme", "arg", "environment", "confine_to")
    __slots__ = _fields

    def __init__(
        self,
        scheme: str,
        arg: str | None,
        environment: str | None = None,
        confine_to: tuple[Path, ...] = (),  # see SourceContext.confine_to
    ) -> None:
        self.scheme = scheme
        self.arg = arg
        self.environment = environment
        self.confine_to = confine_to

    @property
    def text(self) -> str:
        return self.scheme if self.arg is None else f"{self.scheme}:{self.arg}"


def parse_spec(text: str, environment: str | None = None) -> DeploySpec:
    scheme, sep, arg = text.partition(":")
    scheme = scheme.strip().lower()
    if scheme not in SOURCES:
        known = ", ".join(f"{k}:…" for k in SOURCES)
        raise InputError(f"unknown deploy source {text!r} (known: {known})")
    if scheme in ("tags", "log") and not arg:
        raise InputError(f"deploy source {text!r} needs an argument, e.g. tags:v* or log:FILE")
    return DeploySpec(scheme, arg if sep else None, environment)


def make_source(spec: DeploySpec) -> DeploySource:
    module_name, _, class_name = SOURCES[spec.scheme].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(spec.arg, spec.environment)


def load_events(
    specs: Sequence[DeploySpec],
    ctx: SourceContext,
    skipped: dict[str, int] | None = None,
    memos: dict[str, dict] | None = None,
    marks: dict[str, str] | None = None,
) -> list[DeployEvent]:
    """All events of all sources, each tagged with its spec and its order within the source.

    A source may count deploys it left out because they never finished (an API deployment
    still queued or in progress) in a ``skipped`` attribute; those counts are added to
    ``skipped`` by spec, so the report can show them.

    ``memos`` (JSON-serialisable, for the caller to keep between runs) holds each spec's
    ``SourceContext.memo`` by spec text: the sources update them in place; afterwards only
    the non-empty memos of ``specs`` are left in it.

    ``marks`` receives, by spec text, what each source that can say it read (its ``mark``
    attribute: see ``load_appended``).
    """
    events: list[DeployEvent] = []
    for spec in specs:
        source = make_source(spec)
        spec_ctx = ctx.replace(confine_to=spec.confine_to) if spec.confine_to else ctx
        if memos is not None:
            if not isinstance(memos.get(spec.text), dict):
                memos[spec.text] = {}
            spec_ctx = spec_ctx.replace(memo=memos[spec.text])
        _tag(spec, source.events(spec_ctx), events)
        if marks is not None and source.mark is not None:
            marks[spec.text] = source.mark
        if skipped is not None and source.skipped:
            skipped[spec.text] = skipped.get(spec.text, 0) + int(source.skipped)
    if memos is not None:
        wanted = {spec.text for spec in specs}
        for text in [t for t, memo in memos.items() if t not in wanted or not memo]:
            del memos[text]
    return events


def load_appended(
    specs: Sequence[DeploySpec], ctx: SourceContext, marks: Mapping[str, str]
) -> tuple[list[DeployEvent], dict[str, str]] | None:
    """The events that are new since the run that left ``marks`` (by spec text, from
    ``load_events``), and the marks to keep for the next run; None unless every source can
    vouch that each event it reported then is still reported, unchanged.

    A source vouches through an optional method, ``events_since(ctx, mark)``: the new events,
    or None when it cannot tell (then the caller reads every event). After it, and after
    ``events``, the source's ``mark`` attribute is a text saying what it read."""
    events: list[DeployEvent] = []
    new_marks: dict[str, str] = {}
    for spec in specs:
        source = make_source(spec)
        mark = marks.get(spec.text)
        if mark is None:
            return None
        spec_ctx = ctx.replace(confine_to=spec.confine_to) if spec.confine_to else ctx
        found = source.events_since(spec_ctx, mark)
        if found is None or source.mark is None:
            return None
        _tag(spec, found, events)
        new_marks[spec.text] = source.mark
    return events, new_marks


def _tag(spec: DeploySpec, found: Iterable[DeployEvent], events: list[DeployEvent]) -> None:
    """Check ``found`` (a source's events) and add them to ``events``, tagged with the spec
    and their order in the source."""
    for order, ev in enumerate(found):
        if ev.status not in STATUSES:
            raise InputError(f"{ev.where or spec.text}: unknown deploy status {ev.status!r}")
        # A source's events are its own new objects, not yet seen by anyone: set the two
        # fields in place rather than copy thousands of events a run.
        ev.source = spec.text
        ev.order = order
        events.append(ev)


def why_none(specs: Sequence[DeploySpec], ctx: SourceContext) -> list[str]:
    """When no deploy event was found: what each source saw instead, one line each."""
    lines = []
    for spec in specs:
        spec_ctx = ctx.replace(confine_to=spec.confine_to) if spec.confine_to else ctx
        line = make_source(spec).why_none(spec_ctx)
        if line:
            lines.append(line)
    return lines


def kept_events(
    events: Iterable[DeployEvent],
    environments: Sequence[str],
    now: datetime,
    unfinished: Mapping[str, int] | None = None,
) -> tuple[list[DeployEvent], dict[str, int]]:
    """The events that count (section 3): of the configured environments, and not later than
    ``now`` (reports are reproducible); and how many were left out, by reason."""
    ignored: dict[str, int] = {}
    kept: list[DeployEvent] = []
    for ev in events:
        if ev.environment not in environments:
            ignored["other_environment"] = ignored.get("other_environment", 0) + 1
            key = f"environment:{ev.environment}"  # the report names them
            ignored[key] = ignored.get(key, 0) + 1
        elif ev.time > now:
            ignored["after_now"] = ignored.get("after_now", 0) + 1
        else:
            kept.append(ev)
    if unfinished:
        ignored["unfinished"] = sum(unfinished.values())
    return kept, ignored


class Resolution(Record):
    _fields = ("events", "unknown")
    __slots__ = _fields

    def __init__(self, events: list[DeployEvent], unknown: list[DeployEvent] | None = None):
        self.events = events
        self.unknown: list[DeployEvent] = [] if unknown is None else unknown  # not in history


def resolve_events(
    events: Iterable[DeployEvent], shas: Sequence[str], index: Mapping[str, int] | None = None
) -> Resolution:
    """Full SHAs for every event; ``shas`` is every commit of the scanned history (``index``,
    when given, maps them to rows: then full SHAs cost one lookup and nothing is sorted
    unless an abbreviation shows up)."""
    known = index if index is not None else set(shas)
    ordered: list[str] = []
    out = Resolution(events=[])
    for ev in events:
        sha = ev.sha.strip().lower()
        if sha in known:
            out.events.append(ev if sha == ev.sha else ev.replace(sha=sha))
            continue
        if len(sha) < 4 or any(c not in "0123456789abcdef" for c in sha):
            raise InputError(f"{ev.where}: {ev.sha!r} is not a commit SHA (4 to 64 hex digits)")
        if not ordered:
            ordered = sorted(shas)
        lo = bisect.bisect_left(ordered, sha)
        hi = bisect.bisect_left(ordered, sha + "g")  # "g" sorts after every hex digit
        if hi - lo == 1:
            out.events.append(ev.replace(sha=ordered[lo]))
        elif hi - lo > 1:
            raise InputError(
                f"{ev.where}: SHA {ev.sha!r} is ambiguous: it abbreviates {hi - lo} commits "
                f"({ordered[lo][:12]}, {ordered[lo + 1][:12]}, …); write more digits"
            )
        else:
            out.unknown.append(ev)
    return out
