"""The kept deploy events as columns (scorer/eventstore.py): exact round trips, concatenation
of stores whose environment lists differ, equality field by field, and the columns as the
cache file keeps them (a real scan, then the state file read back, or damaged and checked)."""

from __future__ import annotations

import json
import zlib
from array import array
from datetime import datetime, timedelta, timezone

import pytest
from conftest import T0
from scenario import ANN, ai_msg, cold_and_cached

from scorer.incremental import cache
from scorer.incremental.columns import TextColumn, encode_texts
from scorer.incremental.eventstore import EventStore, StoredEvents
from scorer.model import DeployEvent
from scorer.pipeline import ScanOptions, run_scan
from scorer.util.times import from_micros, iso, micros

UTC = timezone.utc
IST = timezone(timedelta(hours=5, minutes=30))
PDT = timezone(timedelta(hours=-7))
SHA_A, SHA_B, SHA_C = "a" * 40, "b" * 40, "c" * 64


def _ev(ident, sha, environment, time, status="success", source="log:d.jsonl", where=""):
    return DeployEvent(
        id=ident,
        sha=sha,
        environment=environment,
        time=time,
        status=status,
        source=source,
        order=7,  # not kept: every remade event has order 0
        where=where,
    )


def _events() -> list[DeployEvent]:
    return [
        _ev("r1", SHA_A, "production", datetime(2026, 9, 1, 12, 0, 0, 1, UTC), where="d.jsonl:1"),
        _ev(
            "déploiement-✓ 发布 🚀",
            SHA_B,
            "staging",
            datetime(2026, 9, 1, 17, 30, 0, 999999, IST),  # 12:00:00.999999 UTC
            status="failure",
            source="tags:v*",
            where="tag v 1.0 (hot fix)",
        ),
        _ev("", SHA_C[:12], "production", datetime(2026, 9, 1, 5, 0, 1, tzinfo=PDT), "error"),
        _ev("42", SHA_A, "qa é", datetime(1969, 12, 31, 23, 59, 59, 999999, UTC), where=" "),
        _ev("lone \udc80 surrogate", SHA_B, "staging", T0, source="github:prod env"),
    ]


def _all(store: EventStore) -> list[DeployEvent]:
    return [store.event(p) for p in range(len(store))]


def _zero_order(events: list[DeployEvent]) -> list[DeployEvent]:
    return [ev.replace(order=0) for ev in events]


# --------------------------------------------------------------------------- micros


def test_micros_are_exact_and_from_micros_is_utc():
    assert micros(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert micros(datetime(1970, 1, 1, 0, 0, 0, 1, UTC)) == 1
    assert micros(datetime(1969, 12, 31, 23, 59, 59, 999999, UTC)) == -1
    assert micros(datetime(1970, 1, 1, 5, 30, tzinfo=IST)) == 0  # the same instant
    # a float timestamp loses the last microsecond here; micros does not
    late = datetime(9999, 12, 31, 23, 59, 59, 999999, UTC)
    assert micros(late) == 253402300799999999
    assert from_micros(253402300799999999) == late
    back = from_micros(micros(datetime(2026, 9, 1, 17, 30, 0, 5, IST)))
    assert back == datetime(2026, 9, 1, 12, 0, 0, 5, UTC) and back.tzinfo == UTC


# --------------------------------------------------------------------------- round trip


def test_round_trip_keeps_every_field_but_order():
    events = _events()
    store = EventStore.encode(events, {id(events[2])})
    assert len(store) == 5
    remade = _all(store)
    assert remade == _zero_order(events)
    for ev, back in zip(events, remade, strict=True):
        assert back.time == ev.time  # the same instant, to the microsecond
        assert back.time.tzinfo == UTC and back.order == 0
    assert remade[1].time == datetime(2026, 9, 1, 12, 0, 0, 999999, UTC)
    assert remade[1].id == "déploiement-✓ 发布 🚀" and remade[1].where == "tag v 1.0 (hot fix)"
    assert remade[4].id == "lone \udc80 surrogate"
    assert store.environments == ["production", "staging", "qa é"]
    assert [store.environment(p) for p in range(5)] == [
        "production", "staging", "production", "qa é", "staging",
    ]  # fmt: skip
    assert bytes(store.env) == bytes([0, 1, 0, 2, 1])
    assert store.when == array(
        "q",
        [1788264000000001, 1788264000999999, 1788264001000000, -1, micros(T0)],
    )
    assert bytes(store.known) == b"\1\1\0\1\1"
    assert store.unknown_positions() == [2]


def test_unknown_positions():
    events = _events()
    assert EventStore.encode(events, set()).unknown_positions() == []
    every = {id(ev) for ev in events}
    assert EventStore.encode(events, every).unknown_positions() == [0, 1, 2, 3, 4]
    some = {id(events[0]), id(events[3]), id(events[4])}
    store = EventStore.encode(events, some)
    assert store.unknown_positions() == [0, 3, 4]
    assert bytes(store.known) == b"\0\1\1\0\0"
    # an equal event that is another object is not the unknown one
    assert EventStore.encode([events[0].replace()], {id(events[0])}).unknown_positions() == []


def test_empty_store():
    empty = EventStore.encode([], set())
    assert len(empty) == 0 and empty.unknown_positions() == [] and empty.environments == []
    assert empty.same_events(EventStore.encode([], set()))
    events = _events()
    store = EventStore.encode(events, {id(events[1])})
    assert _all(empty.extend(store)) == _zero_order(events)
    assert _all(store.extend(empty)) == _zero_order(events)
    assert empty.extend(store).same_events(store) and store.extend(empty).same_events(store)
    assert len(empty.extend(empty)) == 0


# --------------------------------------------------------------------------- extend


@pytest.mark.parametrize(
    "second_envs",
    [["staging", "qa"], ["staging", "production"], ["qa", "dev"], ["production"]],
)
def test_extend_equals_encoding_the_concatenation(second_envs):
    t = datetime(2026, 9, 2, 8, 0, 0, 250000, UTC)
    first = [
        _ev("p1", SHA_A, "production", t),
        _ev("s1", SHA_B, "staging", t + timedelta(microseconds=1), "failure"),
        _ev("p2", SHA_C, "production", t + timedelta(hours=1), where="x y"),
    ]
    second = [
        _ev(f"n{k}", SHA_B, env, t + timedelta(days=1, seconds=k), source="tags:v*")
        for k, env in enumerate([*second_envs, *reversed(second_envs), second_envs[0]])
    ]
    lost = {id(first[1]), id(second[1])}
    a = EventStore.encode(first, lost)
    b = EventStore.encode(second, lost)
    assert a.environments == ["production", "staging"] and b.environments == second_envs
    joined = a.extend(b)
    whole = EventStore.encode(first + second, lost)
    assert _all(joined) == _all(whole) == _zero_order(first + second)
    assert [joined.environment(p) for p in range(len(joined))] == [
        ev.environment for ev in first + second
    ]
    assert joined.environments == list(dict.fromkeys(["production", "staging", *second_envs]))
    assert joined.when == whole.when
    assert bytes(joined.known) == bytes(whole.known)
    assert joined.unknown_positions() == [1, 4]
    assert joined.same_events(whole) and whole.same_events(joined)
    # the parts are left as they were
    assert _all(a) == _zero_order(first) and _all(b) == _zero_order(second)


def test_extend_of_extended_stores():
    t = T0
    parts = [
        [_ev("a", SHA_A, "production", t)],
        [_ev("b", SHA_B, "staging", t + timedelta(seconds=1))],
        [_ev("c", SHA_A, "qa", t + timedelta(seconds=2)), _ev("d", SHA_B, "staging", t)],
    ]
    stores = [EventStore.encode(p, set()) for p in parts]
    joined = stores[0].extend(stores[1]).extend(stores[2])
    assert joined.environments == ["production", "staging", "qa"]
    assert _all(joined) == _zero_order([ev for p in parts for ev in p])
    assert stores[0].extend(stores[1].extend(stores[2])).same_events(joined)


# --------------------------------------------------------------------------- same_events


def _changed(field: str, events: list[DeployEvent]) -> tuple[list[DeployEvent], set[int]]:
    """``events`` with exactly one field of event 1 changed (and the unknown ids)."""
    out = [ev.replace() for ev in events]
    lost = {id(out[2])}
    ev = out[1]
    if field == "known":
        lost.add(id(ev))
    elif field == "time":
        out[1] = ev.replace(time=ev.time + timedelta(microseconds=1))
    elif field == "environment":
        out[1] = ev.replace(environment="production")  # a name the store has already
    elif field == "sha":
        out[1] = ev.replace(sha=ev.sha[:-1] + "c")
    else:
        out[1] = ev.replace(**{field: getattr(ev, field) + "x"})
    return out, lost


def test_same_events_for_equal_lists():
    events = _events()
    store = EventStore.encode(events, {id(events[2])})
    copies = [ev.replace(order=k + 100) for k, ev in enumerate(events)]  # order is not kept
    assert store.same_events(EventStore.encode(copies, {id(copies[2])}))
    assert store.same_events(store)


@pytest.mark.parametrize(
    "field", ["id", "sha", "environment", "time", "status", "source", "where", "known"]
)
def test_same_events_false_when_one_field_differs(field):
    events = _events()
    store = EventStore.encode(events, {id(events[2])})
    other_events, lost = _changed(field, events)
    other = EventStore.encode(other_events, lost)
    assert len(other) == len(store)
    assert not store.same_events(other)
    assert not other.same_events(store)
    # and the difference is that one field of that one event
    diff = [
        (p, f)
        for p, (a, b) in enumerate(zip(_all(store), _all(other), strict=True))
        for f in DeployEvent._fields
        if getattr(a, f) != getattr(b, f)
    ]
    assert diff == ([] if field == "known" else [(1, field)])
    assert other.unknown_positions() == ([1, 2] if field == "known" else [2])


def test_same_events_false_when_texts_move_across_a_field_boundary():
    # the same bytes of text, split differently between id and sha
    a = EventStore.encode([_ev("x\0y", "z", "production", T0)], set())
    b = EventStore.encode([_ev("x", "y\0z", "production", T0)], set())
    assert encode_texts(a.texts)[0] == encode_texts(b.texts)[0]
    assert a.event(0).id == "x\0y" and b.event(0).sha == "y\0z"
    assert not a.same_events(b)


def test_same_events_false_for_a_missing_or_extra_event():
    events = _events()
    store = EventStore.encode(events, set())
    assert not store.same_events(EventStore.encode(events[:-1], set()))
    assert not store.same_events(EventStore.encode([*events, events[0]], set()))
    assert not store.same_events(EventStore.encode(events[::-1], set()))


def test_same_events_compares_environments_by_name():
    events = [_ev("a", SHA_A, "production", T0), _ev("b", SHA_B, "staging", T0)]
    store = EventStore.encode(events, set())
    raw, offsets = encode_texts(store.texts)
    # the same events with the environment list in the other order
    swapped = EventStore(
        TextColumn(raw, offsets), ["staging", "production"], b"\1\0", store.when, b"\1\1"
    )
    assert _all(swapped) == _all(store)
    assert swapped.same_events(store) and store.same_events(swapped)
    wrong = EventStore(
        TextColumn(raw, offsets), ["staging", "production"], b"\0\1", store.when, b"\1\1"
    )
    assert not wrong.same_events(store)


def test_at_most_256_environments():
    def events(names):
        return [_ev(str(k), SHA_A, name, T0) for k, name in enumerate(names)]

    full = EventStore.encode(events([f"e{k}" for k in range(256)]), set())
    assert len(full.environments) == 256 and full.environment(255) == "e255"
    with pytest.raises(ValueError) as err:
        EventStore.encode(events([f"e{k}" for k in range(257)]), set())
    assert str(err.value) == "more than 256 deploy environments"
    a = EventStore.encode(events([f"a{k}" for k in range(200)]), set())
    b = EventStore.encode(events([f"b{k}" for k in range(56)]), set())
    assert a.extend(b).environment(255) == "b55"
    with pytest.raises(ValueError) as err:
        a.extend(EventStore.encode(events([f"b{k}" for k in range(57)]), set()))
    assert str(err.value) == "more than 256 deploy environments"


# --------------------------------------------------------------------------- columns


def _columns(n_texts=10, env=b"\0\0", when=(1, 2), known=b"\1\1", environments=("p",)):
    raw, offsets = encode_texts([str(k) for k in range(n_texts)])
    return TextColumn(raw, offsets), list(environments), env, array("q", when), known


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"n_texts": 9}, "event columns of different lengths"),
        ({"n_texts": 15}, "event columns of different lengths"),
        ({"env": b"\0"}, "event columns of different lengths"),
        ({"when": (1, 2, 3)}, "event columns of different lengths"),
        ({"known": b"\1"}, "event columns of different lengths"),
        ({"known": b"\1\1\1"}, "event columns of different lengths"),
        ({"env": b"\0\1"}, "event environment out of range"),
        ({"environments": ()}, "event environment out of range"),
    ],
)
def test_mismatched_columns_raise_value_error(kw, message):
    assert len(EventStore(*_columns())) == 2
    with pytest.raises(ValueError) as err:
        EventStore(*_columns(**kw))
    assert str(err.value) == message


def test_stored_events_make_stored_events_then_new_ones():
    events = _events()
    store = EventStore.encode(events, set())
    late = _ev("late", SHA_A, "production", T0 + timedelta(days=1))
    seq = StoredEvents(store, [3, 0], [late])
    assert len(seq) == 3
    assert list(seq) == [store.event(3), store.event(0), late]
    assert seq[0] == events[3].replace(order=0) and seq[2] is late
    assert seq[-1] is late and seq[-3] == store.event(3)
    assert seq[1:] == [store.event(0), late] and seq[::-2] == [late, store.event(3)]
    with pytest.raises(IndexError):
        seq[3]
    with pytest.raises(IndexError):
        seq[-4]
    with pytest.raises(IndexError):  # more new events than stored ones: no wrapping around
        StoredEvents(store, [], [late])[-2]
    assert list(StoredEvents(store, [])) == []


# --------------------------------------------------------------------------- in the cache


def _repo_with_tags(repo):
    """Commits with annotated tags (one with a non-ASCII name), a lightweight tag, and an
    annotated tag of a commit on a branch the scan does not read (not in its history)."""
    shas = []
    for k in range(5):
        when = T0 + timedelta(days=k)
        shas.append(repo.commit(ai_msg(f"change {k}"), when=when, author=ANN))
        if k % 2 == 0:
            repo.tag(f"v{k}", when=when + timedelta(hours=1, seconds=k), message=f"release {k}")
    repo.tag("v3-ß", shas[3], when=T0 + timedelta(days=3, hours=2), message="non-ASCII")
    repo.tag("v1", shas[1])  # lightweight: the commit's date
    repo.branch("side", shas[1])
    repo.checkout("side")
    side = repo.commit("side work\n", when=T0 + timedelta(days=2, hours=5), author=ANN)
    repo.tag("v-side", when=T0 + timedelta(days=2, hours=6), message="not in main")
    repo.checkout("main")
    return shas, side


NOW = T0 + timedelta(days=6)
WINDOW = timedelta(days=7)


def _load(directory):
    return cache.load(directory, cache.read_header(directory)["key"])


def test_cache_keeps_the_events_the_report_shows(repo, tmp_path):
    shas, side = _repo_with_tags(repo)
    directory = tmp_path / "cache"
    report, use = cold_and_cached(repo.path, directory, deploys=["tags:v*"], now=NOW, window=WINDOW)
    assert use == "cold"
    outcomes = _load(directory).outcomes
    store = outcomes.events
    kept = _all(store)
    # every kept event, in linking order (by time), the one off the history included
    assert [(ev.id, ev.sha, ev.time) for ev in kept] == [
        ("v0", shas[0], T0 + timedelta(hours=1)),
        ("v1", shas[1], T0 + timedelta(days=1)),
        ("v2", shas[2], T0 + timedelta(days=2, hours=1, seconds=2)),
        ("v-side", side, T0 + timedelta(days=2, hours=6)),
        ("v3-ß", shas[3], T0 + timedelta(days=3, hours=2)),
        ("v4", shas[4], T0 + timedelta(days=4, hours=1, seconds=4)),
    ]
    assert {(ev.environment, ev.status, ev.source) for ev in kept} == {
        ("production", "success", "tags:v*")
    }
    assert [ev.where for ev in kept] == [f"tag {ev.id}" for ev in kept]
    # v2: the side branch's deploy is history too (what production ran)
    assert store.unknown_positions() == []
    assert report["history"]["deploys_not_in_history_sample"] == []
    # each deploy of the report is its event in the store
    rows = [(d["id"], d["sha"], d["time"]) for d in report["deploys"]]
    assert rows == [
        (ev.id, ev.sha, iso(ev.time)) for ev in (store.event(p) for p in outcomes.deploy_event)
    ]
    assert rows == [(ev.id, ev.sha, iso(ev.time)) for ev in kept]


def test_cache_after_an_incremental_run_equals_a_cold_runs(repo, tmp_path):
    _repo_with_tags(repo)
    warm, cold = tmp_path / "warm", tmp_path / "cold"
    _, use = cold_and_cached(repo.path, warm, deploys=["tags:v*"], now=NOW, window=WINDOW)
    assert use == "cold"
    late = repo.commit(ai_msg("late"), when=NOW + timedelta(hours=1), author=ANN)
    repo.tag("v5", when=NOW + timedelta(hours=2), message="five")
    later = NOW + timedelta(days=1)
    _, use, read = cold_and_cached(
        repo.path, warm, events_read=True, deploys=["tags:v*"], now=later, window=WINDOW
    )
    assert (use, read) == ("incremental", "new")
    _, use = cold_and_cached(repo.path, cold, deploys=["tags:v*"], now=later, window=WINDOW)
    assert use == "cold"
    a, b = _load(warm).outcomes, _load(cold).outcomes
    assert a.events.same_events(b.events)
    assert _all(a.events) == _all(b.events)
    assert _all(a.events)[-1] == DeployEvent(
        "v5", late, "production", NOW + timedelta(hours=2), "success", "tags:v*", 0, "tag v5"
    )
    assert list(a.deploy_event) == list(b.deploy_event)


def _segments(directory) -> list:
    return cache.read_header(directory)["outcomes"]["event_segments"]


def test_events_are_appended_in_segments_then_rewritten_in_blocks(repo, tmp_path, monkeypatch):
    """The events file holds blocks of at most EVENT_BLOCK events; a warm run appends a
    segment of its new events (cutting off what a failed run left after the last named
    one), one without new events writes nothing, and past MAX_EVENT_SEGMENTS every event is
    written anew in full blocks. Every report equals a cold run's, and the events read back
    equal a cold run's store."""
    monkeypatch.setattr(cache, "EVENT_BLOCK", 2)
    monkeypatch.setattr(cache, "MAX_EVENT_SEGMENTS", 5)
    _repo_with_tags(repo)
    warm, cold = tmp_path / "warm", tmp_path / "cold"
    options = {"deploys": ["tags:v*"], "window": WINDOW}
    _, use = cold_and_cached(repo.path, warm, now=NOW, **options)
    assert use == "cold"
    events = warm / cache.EVENTS_FILE
    assert [seg[1] for seg in _segments(warm)] == [2, 2, 2]
    counts = []
    for k in range(4):
        when = NOW + timedelta(days=k)
        sha = repo.commit(ai_msg(f"late {k}"), when=when + timedelta(hours=1), author=ANN)
        repo.tag(f"v-late-{k}", sha, when=when + timedelta(hours=2), message="late")
        if k == 1:
            with events.open("ab") as fh:
                fh.write(b"half of a segment from a run that died")
        now = when + timedelta(days=1)
        _, use, read = cold_and_cached(repo.path, warm, events_read=True, now=now, **options)
        assert (use, read) == ("incremental", "new")
        segments = _segments(warm)
        counts.append([seg[1] for seg in segments])
        assert events.stat().st_size == segments[-1][0] + sum(segments[-1][2])
        before = events.read_bytes()
        _, use = cold_and_cached(repo.path, warm, now=now + timedelta(hours=1), **options)
        assert use == "incremental" and events.read_bytes() == before
        assert _segments(warm) == segments
    assert counts == [[2, 2, 2, 1], [2, 2, 2, 1, 1], [2, 2, 2, 2, 1], [2, 2, 2, 2, 2]]
    cold_and_cached(repo.path, cold, now=now, **options)
    a, b = _load(warm).outcomes.events, _load(cold).outcomes.events
    assert a.same_events(b) and _all(a) == _all(b) and len(a) == 10


# --------------------------------------------------------------------------- damaged


def _split_state(data: bytes) -> tuple[bytes, dict[str, bytes]]:
    """The header and the sections of a state file (as cache.save lays it out)."""
    assert data.startswith(cache.MAGIC)
    body = data[:-4]
    assert zlib.crc32(body).to_bytes(4, "little") == data[-4:]
    pos, chunks = len(cache.MAGIC), []
    while pos < len(body):
        (size,) = cache._LEN.unpack_from(body, pos)
        pos += cache._LEN.size
        chunks.append(body[pos : pos + size])
        pos += size
    assert pos == len(body) and len(chunks) == 1 + len(cache._STATE_SECTIONS)
    names = [name for name, _ in cache._STATE_SECTIONS]
    return chunks[0], dict(zip(names, chunks[1:], strict=True))


def _join_state(header: bytes, sections: dict[str, bytes]) -> bytes:
    parts = [cache.MAGIC, cache._LEN.pack(len(header)), header]
    for name, _ in cache._STATE_SECTIONS:
        parts += [cache._LEN.pack(len(sections[name])), sections[name]]
    body = b"".join(parts)
    return body + zlib.crc32(body).to_bytes(4, "little")


def _ints(code: str, data: bytes) -> array:
    out = array(code)
    out.frombytes(data)
    return out


def _edit_segment(directory, column: str, edit) -> None:
    """Change one column of the first events segment with ``edit(bytes) -> bytes`` (its size
    may change), and make its checksum, and the state file's, valid again: damage that no
    checksum can find."""
    state = cache.cache_path(directory)
    header, sections = _split_state(state.read_bytes())
    meta = json.loads(header)
    offset, count, sizes, _ = meta["outcomes"]["event_segments"][0]
    events = directory / cache.EVENTS_FILE
    data = events.read_bytes()
    names = [name for name, _ in cache._EVENT_COLUMNS]
    columns, pos = {}, offset
    for name, size in zip(names, sizes, strict=True):
        columns[name] = data[pos : pos + size]
        pos += size
    columns[column] = edit(columns[column])
    body = b"".join(columns[name] for name in names)
    events.write_bytes(data[:offset] + body + data[pos:])
    segment = [offset, count, [len(columns[name]) for name in names], zlib.crc32(body)]
    meta["outcomes"]["event_segments"][0] = segment
    state.write_bytes(_join_state(json.dumps(meta).encode(), sections))


def _edit_meta(directory, edit) -> None:
    state = cache.cache_path(directory)
    header, sections = _split_state(state.read_bytes())
    meta = json.loads(header)
    edit(meta["outcomes"])
    state.write_bytes(_join_state(json.dumps(meta).encode(), sections))


def _edit_section(directory, name: str, code: str, edit) -> None:
    state = cache.cache_path(directory)
    header, sections = _split_state(state.read_bytes())
    values = _ints(code, sections[name]) if code else bytearray(sections[name])
    edit(values)
    sections[name] = values.tobytes() if code else bytes(values)
    state.write_bytes(_join_state(header, sections))


def _offsets_one_longer(d):
    _edit_segment(d, "offsets", lambda b: b + b[-8:])


def _offsets_end_short(d):
    _edit_segment(d, "offsets", lambda b: b[:-8] + (_ints("q", b)[-1] - 1).to_bytes(8, "little"))


def _texts_one_byte_more(d):
    _edit_segment(d, "texts", lambda b: b + b"\0")


def _when_one_short(d):
    _edit_segment(d, "when", lambda b: b[:-8])


def _known_one_long(d):
    _edit_segment(d, "known", lambda b: b + b"\1")


def _env_out_of_range(d):
    _edit_segment(d, "env", lambda b: b"\5" + b[1:])


def _offsets_not_whole(d):
    _edit_segment(d, "offsets", lambda b: b + b"\0")


def _segment_count_wrong(d):
    _edit_meta(d, lambda o: o["event_segments"][0].__setitem__(1, 5))


def _segment_past_the_end(d):
    _edit_meta(d, lambda o: o["event_segments"][0].__setitem__(0, 10**6))


def _segment_malformed(d):
    _edit_meta(d, lambda o: o["event_segments"][0].__setitem__(2, [1, 2]))


def _rolled_back_past_the_end(d):
    _edit_meta(d, lambda o: o.__setitem__("rolled_back_by", [[6, "v4"]]))


def _rolled_back_by_a_number(d):
    _edit_meta(d, lambda o: o.__setitem__("rolled_back_by", [[0, 4]]))


def _deploy_event_past_the_end(d):
    _edit_section(d, "deploy_event", "i", lambda a: a.__setitem__(-1, 6))


def _deploy_event_negative(d):
    _edit_section(d, "deploy_event", "i", lambda a: a.__setitem__(0, -1))


def _deploy_env_out_of_range(d):
    _edit_section(d, "deploy_env", "", lambda a: a.__setitem__(0, 3))


def _deploy_when_one_short(d):
    _edit_section(d, "deploy_when", "q", lambda a: a.pop())


def _unknown_past_the_end(d):
    _edit_section(d, "event_unknown", "i", lambda a: a.append(6))


def _flipped_event_byte(d):
    events = d / cache.EVENTS_FILE
    data = bytearray(events.read_bytes())
    data[len(data) // 2] ^= 0xFF
    events.write_bytes(bytes(data))


def _events_file_truncated(d):
    events = d / cache.EVENTS_FILE
    events.write_bytes(events.read_bytes()[:-1])


def _events_file_missing(d):
    (d / cache.EVENTS_FILE).unlink()


def _events_file_empty(d):
    (d / cache.EVENTS_FILE).write_bytes(b"")


@pytest.mark.parametrize(
    "damage, why",
    [
        # found when an event of the segment is first read
        (_offsets_one_longer, "deploy events"),
        (_offsets_end_short, "deploy events"),
        (_texts_one_byte_more, "deploy events"),
        (_when_one_short, "deploy events"),
        (_known_one_long, "deploy events"),
        (_env_out_of_range, "deploy events"),
        (_offsets_not_whole, "deploy events"),
        (_segment_count_wrong, "deploy events"),
        (_flipped_event_byte, "deploy events checksum"),
        # found when the cache is read
        (_segment_past_the_end, f"truncated {cache.EVENTS_FILE}"),
        (_segment_malformed, "deploy events"),
        (_deploy_event_past_the_end, "deploy events"),
        (_deploy_event_negative, "deploy events"),
        (_deploy_env_out_of_range, "deploys"),
        (_deploy_when_one_short, "deploys"),
        (_rolled_back_past_the_end, "deploys"),
        (_rolled_back_by_a_number, "deploys"),
        (_unknown_past_the_end, "deploy events"),
        (_events_file_truncated, f"truncated {cache.EVENTS_FILE}"),
        (_events_file_missing, f"cannot read {cache.EVENTS_FILE}: No such file or directory"),
        (_events_file_empty, f"cannot read {cache.EVENTS_FILE}: empty"),
    ],
)
def test_damaged_events_are_found_and_the_scan_starts_over(repo, tmp_path, capsys, damage, why):
    """Damage the checksums cannot find (or can, for the events file's bytes, which are
    checked when first read) is a CacheInvalid, never a crash or a wrong report: the scan
    says so once and reads the whole history, and the cache is written anew."""
    _repo_with_tags(repo)
    directory = tmp_path / "cache"
    cold_and_cached(repo.path, directory, deploys=["tags:v*"], now=NOW, window=WINDOW)
    key = cache.read_header(directory)["key"]
    assert len(cache.load(directory, key).outcomes.events) == 6
    path = cache.cache_path(directory)
    header, sections = _split_state(path.read_bytes())
    assert _join_state(header, sections) == path.read_bytes()  # the layout, understood
    damage(directory)
    if why in ("deploy events", "deploy events checksum", "deploys"):
        why = f"corrupt cache file ({why})"
    try:  # the cache, then each event as a report would read it
        events = cache.load(directory, key).outcomes.events
        for p in range(len(events)):
            events.event(p)
    except cache.CacheInvalid as err:
        assert str(err) == why
    else:
        raise AssertionError("the damage was not found")
    capsys.readouterr()
    options = {"deploys": ["tags:v*"], "now": NOW, "window": WINDOW, "progress": False}
    result = run_scan(ScanOptions(path=repo.path, cache=directory, **options))
    assert result.cache_use == "cold"
    plain = run_scan(ScanOptions(path=repo.path, **options)).report
    assert {**result.report, "generated_at": ""} == {**plain, "generated_at": ""}
    assert capsys.readouterr().err == f"scorer: cache not used: {why}; scanning the whole history\n"
    assert len(cache.load(directory, key).outcomes.events) == 6  # written anew
