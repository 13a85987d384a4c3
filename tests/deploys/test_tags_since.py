"""``tags:GLOB`` read incrementally (scorer/deploys/tags.py ``events_since``): the events of
the tags added since the run that left a mark, exactly as a full read makes them; None when a
tag of that run was deleted or moved; and the scan that uses it (only the new events read,
outcomes carried forward) equal to a scan without the cache."""

from __future__ import annotations

import json
import zlib
from datetime import timedelta

import pytest
from conftest import T0
from scenario import ANN, BOB, ai_msg, cold_and_cached

import scorer.deploys.tags as tags_module
from scorer.deploys import load_appended, load_events, parse_spec
from scorer.deploys.interface import SourceContext
from scorer.deploys.tags import TagsSource
from scorer.git.log import open_repo
from scorer.model import DeployEvent
from scorer.util.times import iso

WINDOW = timedelta(days=7)


def _ctx(repo) -> SourceContext:
    r = open_repo(repo.path)
    return SourceContext(repo_path=repo.path, git_dir=r.git_dir, base_dir=repo.path)


def _fields(events) -> list[tuple]:
    return [(e.id, e.sha, e.environment, e.time, e.status, e.where) for e in events]


def _full(repo, glob="v*", environment=None) -> tuple[list[DeployEvent], str]:
    """Every event of a full read, and the mark it leaves."""
    source = TagsSource(glob, environment)
    events = list(source.events(_ctx(repo)))
    return events, source.mark


def _since(repo, mark, glob="v*", environment=None) -> tuple[list[DeployEvent] | None, str]:
    source = TagsSource(glob, environment)
    return source.events_since(_ctx(repo), mark), source.mark


def _lines(mark: str) -> set[str]:
    return set(mark.split("\n")) if mark else set()


def _listed(repo, *names: str) -> set[str]:
    """The mark lines of ``names`` as git lists them now."""
    out = set()
    for name in names:
        oid = repo.git("rev-parse", f"refs/tags/{name}")
        out.add(f"refs/tags/{name}\0{oid}")
    return out


class Tags:
    """A repository with every kind of tag: annotated, lightweight, a tag of a tag, a tag of
    a tree, and tags the glob ``v*`` does not match."""

    def __init__(self, repo):
        self.repo = repo
        self.a = repo.commit("a\n", when=T0, author=ANN)
        self.b = repo.commit(ai_msg("b"), when=T0 + timedelta(days=1), author=BOB)
        self.c = repo.commit("c\n", when=T0 + timedelta(days=2), author=ANN)
        self.tree = repo.git("rev-parse", "HEAD^{tree}")
        repo.tag("v1", self.a)  # lightweight: a's date
        repo.tag("v2", self.b, when=T0 + timedelta(days=1, hours=3), message="release 2")
        repo.tag("inner", self.c, when=T0 + timedelta(days=2, hours=1))  # does not match
        repo.tag("v3", "inner", when=T0 + timedelta(days=2, hours=2))  # a tag of a tag
        repo.tag("v-tree", self.tree, when=T0, message="a tree")  # not a deploy
        repo.tag("other", self.b)  # does not match
        self.names = ["v-tree", "v1", "v2", "v3"]  # the matching tags, as git sorts them


@pytest.fixture
def tags(repo):
    return Tags(repo)


# --------------------------------------------------------------------------- full read


def test_full_read_and_its_mark(tags, repo):
    events, mark = _full(repo)
    assert _fields(events) == [
        ("v1", tags.a, "production", T0, "success", "tag v1"),
        ("v2", tags.b, "production", T0 + timedelta(days=1, hours=3), "success", "tag v2"),
        ("v3", tags.c, "production", T0 + timedelta(days=2, hours=2), "success", "tag v3"),
    ]
    # every matching tag (the tree's too), sorted, NAME NUL OBJECT
    assert mark == "\n".join(sorted(_listed(repo, *tags.names)))
    assert mark.split("\n")[1] == f"refs/tags/v1\0{tags.a}"
    # the same mark with a memo, empty or warm
    memo: dict = {}
    for _ in range(2):
        source = TagsSource("v*", None)
        assert _fields(source.events(_ctx(repo).replace(memo=memo))) == _fields(events)
        assert source.mark == mark
    assert memo  # it was used


def test_mark_is_empty_when_nothing_matches(tags, repo):
    assert _full(repo, "nothing*") == ([], "")
    assert _since(repo, "", "nothing*") == ([], "")
    # from an empty mark, every matching tag is new
    events, mark = _since(repo, "")
    assert _fields(events) == _fields(_full(repo)[0])
    assert _lines(mark) == _lines(_full(repo)[1])


# --------------------------------------------------------------------------- (a) new tags


def test_new_tags_are_exactly_those_a_full_read_makes(tags, repo):
    _, old_mark = _full(repo)
    d = repo.commit(ai_msg("d"), when=T0 + timedelta(days=3), author=BOB)
    repo.tag("v4", d, when=T0 + timedelta(days=3, hours=1), message="release 4")
    repo.tag("v5", tags.b)  # lightweight, of an old commit: b's date
    repo.tag("inner2", d, when=T0 + timedelta(days=3, hours=2))  # does not match
    repo.tag("v6", "inner2", when=T0 + timedelta(days=3, hours=3))  # a tag of a tag
    repo.tag("v7", "v6", when=T0 + timedelta(days=3, hours=4))  # of a tag of a tag
    repo.tag("v-tree2", "v-tree", when=T0)  # a tag of a tag of a tree: no deploy
    repo.tag("v-blob", repo.git("hash-object", "-w", "--stdin", input=b"x\n"))
    repo.tag("other2", d)  # does not match

    found, mark = _since(repo, old_mark)
    everything, fresh_mark = _full(repo)
    new = {"v4", "v5", "v6", "v7"}
    assert _fields(found) == _fields(e for e in everything if e.id in new)
    assert _fields(found) == [
        ("v4", d, "production", T0 + timedelta(days=3, hours=1), "success", "tag v4"),
        ("v5", tags.b, "production", T0 + timedelta(days=1), "success", "tag v5"),
        ("v6", d, "production", T0 + timedelta(days=3, hours=3), "success", "tag v6"),
        ("v7", d, "production", T0 + timedelta(days=3, hours=4), "success", "tag v7"),
    ]
    assert [e.source for e in found] == [""] * 4  # load_events / load_appended set it
    assert _lines(mark) == _lines(fresh_mark)
    added = _listed(repo, "v4", "v5", "v6", "v7", "v-tree2", "v-blob")
    assert _lines(mark) == _lines(old_mark) | added
    assert len(mark.split("\n")) == 10

    # and from that mark, the next tag alone
    repo.tag("v8", d, when=T0 + timedelta(days=4), message="release 8")
    found, next_mark = _since(repo, mark)
    assert _fields(found) == [
        ("v8", d, "production", T0 + timedelta(days=4), "success", "tag v8"),
    ]
    assert _lines(next_mark) == _lines(_full(repo)[1]) == _lines(mark) | _listed(repo, "v8")


def test_new_tags_take_the_sources_environment(tags, repo):
    _, old_mark = _full(repo, environment="staging")
    repo.tag("v9", tags.c, when=T0 + timedelta(days=5), message="nine")
    found, _ = _since(repo, old_mark, environment="staging")
    assert _fields(found) == [
        ("v9", tags.c, "staging", T0 + timedelta(days=5), "success", "tag v9"),
    ]


# --------------------------------------------------------------------------- (b) nothing new


def test_nothing_new(tags, repo):
    events, old_mark = _full(repo)
    found, mark = _since(repo, old_mark)
    assert found == [] and _lines(mark) == _lines(old_mark)
    # a tag deleted and made again as it was (the same object) is the same event
    repo.git("tag", "-d", "v1")
    repo.tag("v1", tags.a)
    assert _since(repo, old_mark) == ([], old_mark)
    assert _fields(_full(repo)[0]) == _fields(events)


# --------------------------------------------------------------------------- (c) gone, moved


@pytest.mark.parametrize("name", ["v1", "v2", "v3", "v-tree"])
def test_a_deleted_tag_cannot_be_vouched_for(tags, repo, name):
    _, old_mark = _full(repo)
    repo.tag("v4", tags.c, when=T0 + timedelta(days=5), message="new too")
    repo.git("tag", "-d", name)
    source = TagsSource("v*", None)
    assert source.events_since(_ctx(repo), old_mark) is None
    assert source.mark == ""  # left as it was: nothing was read


@pytest.mark.parametrize(
    "name, how",
    [
        ("v1", ["tag", "-f", "v1", "HEAD~1"]),  # lightweight, to another commit
        ("v1", ["tag", "-f", "-a", "-m", "now annotated", "v1", "HEAD~2"]),  # same commit
        ("v2", ["tag", "-f", "v2", "HEAD~1"]),  # annotated made lightweight, same commit
        ("v2", ["tag", "-f", "-a", "-m", "another message", "v2", "HEAD~1"]),
        ("v3", ["tag", "-f", "-a", "-m", "moved", "v3", "HEAD"]),
    ],
)
def test_a_moved_tag_cannot_be_vouched_for(tags, repo, name, how):
    _, old_mark = _full(repo)
    before = repo.git("rev-parse", f"refs/tags/{name}")
    who = {"GIT_COMMITTER_NAME": "R", "GIT_COMMITTER_EMAIL": "r@example.com"}
    repo.git(*how, env={**who, "GIT_COMMITTER_DATE": "2026-09-10T00:00:00+0000"})
    assert repo.git("rev-parse", f"refs/tags/{name}") != before
    assert _since(repo, old_mark) == (None, "")


def test_tags_the_glob_does_not_match_may_change(tags, repo):
    _, old_mark = _full(repo)
    repo.git("tag", "-d", "other")
    repo.git("tag", "-f", "inner", tags.a)  # v3 keeps its object: a tag of the old inner
    assert _since(repo, old_mark) == ([], old_mark)
    assert _fields(_full(repo)[0])[2] == (
        "v3", tags.c, "production", T0 + timedelta(days=2, hours=2), "success", "tag v3"
    )  # fmt: skip


# --------------------------------------------------------------------------- (d), (e)


def test_new_tags_the_glob_does_not_match(tags, repo):
    _, old_mark = _full(repo)
    repo.tag("release-1", tags.c, when=T0 + timedelta(days=4), message="no")
    repo.tag("xv9", tags.c)
    repo.tag("V9", tags.c)  # the glob is case-sensitive
    assert _since(repo, old_mark) == ([], old_mark)
    # another glob sees them as new
    _, r_mark = _full(repo, "r*")
    assert r_mark == "\n".join(sorted(_listed(repo, "release-1")))


def test_more_new_tags_than_can_be_named(tags, repo, monkeypatch):
    monkeypatch.setattr(tags_module, "_MAX_NAMED", 2)
    _, old_mark = _full(repo)
    for k in range(5):
        repo.tag(f"x{k}", tags.c)  # not matching: not counted
    repo.tag("v10", tags.c)
    repo.tag("v11", tags.c, when=T0 + timedelta(days=6), message="eleven")
    found, two_mark = _since(repo, old_mark)  # two: named
    assert [e.id for e in found] == ["v10", "v11"]
    repo.tag("v12", tags.c)
    found, _ = _since(repo, two_mark)
    assert [e.id for e in found] == ["v12"]
    assert _since(repo, old_mark) == (None, "")  # three new since the first mark


# --------------------------------------------------------------------------- (f) load_appended


def test_load_events_leaves_the_marks(tags, repo, tmp_path):
    log = tmp_path / "deploys.jsonl"
    log.write_text(json.dumps({"sha": tags.a, "time": iso(T0), "id": "d1"}) + "\n")
    specs = [parse_spec("tags:v*"), parse_spec(f"log:{log}"), parse_spec("tags:none*")]
    marks: dict = {}
    events = load_events(specs, _ctx(repo), marks=marks)
    assert [(e.id, e.source, e.order) for e in events] == [
        ("v1", "tags:v*", 0),
        ("v2", "tags:v*", 1),
        ("v3", "tags:v*", 2),
        ("d1", f"log:{log}", 0),
    ]
    # a JSON Lines log says what it read: its length, lines and digest (issue 12)
    data = log.read_bytes()
    assert marks == {
        "tags:v*": _full(repo)[1],
        f"log:{log}": f"crc32 {len(data)} 1 {zlib.crc32(data):08x}",
        "tags:none*": "",
    }


def test_load_appended(tags, repo, tmp_path):
    log = tmp_path / "deploys.jsonl"
    log.write_text("")
    v_spec, r_spec = parse_spec("tags:v*"), parse_spec("tags:r*", "staging")
    marks: dict = {}
    load_events([v_spec, r_spec], _ctx(repo), marks=marks)
    assert set(marks) == {"tags:v*", "tags:r*"} and marks["tags:r*"] == ""
    ctx = _ctx(repo)

    # a source that cannot vouch, or a spec the marks do not name: None
    log_spec = parse_spec(f"log:{log}")
    assert load_appended([v_spec, log_spec], ctx, {**marks, log_spec.text: ""}) is None
    assert load_appended([v_spec, r_spec], ctx, {"tags:v*": marks["tags:v*"]}) is None
    assert load_appended([v_spec], ctx, {"tags:v1*": marks["tags:v*"]}) is None

    # nothing new
    assert load_appended([v_spec, r_spec], ctx, marks) == ([], marks)
    assert load_appended([], ctx, marks) == ([], {})

    repo.tag("v4", tags.c, when=T0 + timedelta(days=3), message="four")
    repo.tag("r1", tags.b, when=T0 + timedelta(days=3, hours=1), message="r one")
    repo.tag("r0", tags.a)
    found = load_appended([v_spec, r_spec], ctx, marks)
    assert found is not None
    events, new_marks = found
    assert [(e.id, e.sha, e.environment, e.time, e.source, e.order) for e in events] == [
        ("v4", tags.c, "production", T0 + timedelta(days=3), "tags:v*", 0),
        ("r0", tags.a, "staging", T0, "tags:r*", 0),
        ("r1", tags.b, "staging", T0 + timedelta(days=3, hours=1), "tags:r*", 1),
    ]
    fresh: dict = {}
    load_events([v_spec, r_spec], ctx, marks=fresh)
    assert {k: _lines(v) for k, v in new_marks.items()} == {k: _lines(v) for k, v in fresh.items()}
    assert load_appended([v_spec, r_spec], ctx, new_marks) == ([], new_marks)

    # one source that cannot vouch spoils all
    repo.git("tag", "-d", "r0")
    assert load_appended([v_spec, r_spec], ctx, new_marks) is None
    assert load_appended([v_spec], ctx, new_marks) == ([], {"tags:v*": new_marks["tags:v*"]})


# --------------------------------------------------------------------------- (g) the scan


class Runs:
    def __init__(self, repo, tmp_path):
        self.repo = repo
        self.cache = tmp_path / "cache"

    def scan(self, now) -> tuple[dict, str, str]:
        """(cached report, cache use, events read); asserts it equals an uncached run's."""
        return cold_and_cached(
            self.repo.path,
            self.cache,
            events_read=True,
            deploys=["tags:v*"],
            now=now,
            window=WINDOW,
        )


def _outcomes(report: dict) -> dict[str, str]:
    return {d["id"]: d["outcome"] for d in report["deploys"]}


def test_scan_reads_only_new_tags_while_the_cache_can_vouch(repo, tmp_path):
    runs = Runs(repo, tmp_path)
    shas = []
    for k in range(4):
        when = T0 + timedelta(days=k)
        shas.append(repo.commit(ai_msg(f"change {k}"), when=when, author=ANN))
        repo.tag(f"v{k}", when=when + timedelta(hours=1), message=f"release {k}")
    repo.tag("inner", shas[3], when=T0 + timedelta(days=3, hours=2))
    repo.tag("v3-again", "inner", when=T0 + timedelta(days=3, hours=3))  # a tag of a tag

    now = T0 + timedelta(days=4)
    report, use, read = runs.scan(now)
    assert (use, read) == ("cold", "all")
    assert _outcomes(report) == dict.fromkeys(["v0", "v1", "v2", "v3", "v3-again"], "pending")

    # a new commit and a new annotated tag, both after the first run's now
    shas.append(repo.commit(ai_msg("change 4"), when=now + timedelta(hours=2), author=BOB))
    repo.tag("v4", when=now + timedelta(hours=3), message="release 4")
    now += timedelta(days=2)
    report, use, read = runs.scan(now)
    assert (use, read) == ("incremental", "new")
    assert _outcomes(report)["v4"] == "pending" and len(report["deploys"]) == 6
    assert report["history"]["deploys_ignored"] == {}

    # nothing new, later: still only the new events (none)
    now += timedelta(days=2)
    report, use, read = runs.scan(now)
    assert (use, read) == ("incremental", "new")
    assert _outcomes(report)["v0"] == "survived"  # its 7 days have passed

    # an old tag deleted: every event read again, outcomes recomputed
    repo.git("tag", "-d", "v1")
    now += timedelta(days=1)
    report, use, read = runs.scan(now)
    assert (use, read) == ("history", "all")
    assert "v1" not in _outcomes(report)
    report, use, read = runs.scan(now + timedelta(hours=1))
    assert (use, read) == ("incremental", "new")  # and vouched for again
    now += timedelta(hours=1)

    # a lightweight tag of an old commit: its time is the commit's, before the last run
    repo.tag("v1-light", shas[1])
    now += timedelta(days=1)
    report, use, read = runs.scan(now)
    assert (use, read) == ("history", "all")
    row = next(d for d in report["deploys"] if d["id"] == "v1-light")
    assert row["time"] == iso(T0 + timedelta(days=1))
    report, use, read = runs.scan(now + timedelta(hours=1))
    assert (use, read) == ("incremental", "new")


def test_a_tag_later_than_now_makes_the_next_run_read_every_event(repo, tmp_path):
    runs = Runs(repo, tmp_path)
    a = repo.commit(ai_msg("a"), when=T0, author=ANN)
    repo.tag("v1", when=T0 + timedelta(hours=1), message="one")
    now = T0 + timedelta(days=1)
    assert runs.scan(now)[1:] == ("cold", "all")

    b = repo.commit(ai_msg("b"), when=now + timedelta(hours=1), author=ANN)
    repo.tag("v2", b, when=now + timedelta(days=2), message="tagged ahead of the run")
    now += timedelta(days=1)  # v2 is still a day ahead
    report, use, read = runs.scan(now)
    # the run itself takes the new events (v2 left out as later than now) incrementally
    assert (use, read) == ("incremental", "new")
    assert report["history"]["deploys_ignored"] == {"after_now": 1}
    assert list(_outcomes(report)) == ["v1"]

    # the cache cannot vouch that nothing was left out: every event is read again; the
    # events up to the cached run's now are those it kept, so outcomes are carried forward
    now += timedelta(hours=12)  # v2 still ahead
    report, use, read = runs.scan(now)
    assert (use, read) == ("incremental", "all")
    assert report["history"]["deploys_ignored"] == {"after_now": 1}
    now += timedelta(days=1)  # v2 now past
    report, use, read = runs.scan(now)
    assert (use, read) == ("incremental", "all")
    assert report["history"]["deploys_ignored"] == {}
    assert _outcomes(report) == {"v1": "pending", "v2": "pending"}
    assert next(d for d in report["deploys"] if d["id"] == "v2")["sha"] == b
    # nothing left out: vouched for again
    now += timedelta(days=1)
    report, use, read = runs.scan(now)
    assert (use, read) == ("incremental", "new")
    assert next(d for d in report["deploys"] if d["id"] == "v1")["sha"] == a


def test_a_tag_of_an_unmerged_commit_then_merged(repo, tmp_path):
    """A new tag of a commit outside HEAD's history is read as new, and (v2) its commit is
    history too: what production ran. Once that commit is merged, the next run carries the
    outcomes forward: the commit is already a row."""
    runs = Runs(repo, tmp_path)
    repo.commit(ai_msg("a"), when=T0, author=ANN)
    repo.tag("v1", when=T0 + timedelta(hours=1), message="one")
    now = T0 + timedelta(days=1)
    assert runs.scan(now)[1:] == ("cold", "all")
    repo.branch("feature")
    repo.checkout("feature")
    f = repo.commit(ai_msg("feature"), when=now + timedelta(hours=1), author=BOB)
    repo.tag("v2", when=now + timedelta(hours=2), message="from the branch")
    repo.checkout("main")
    now += timedelta(days=1)
    report, use, read = runs.scan(now)
    assert (use, read) == ("incremental", "new")
    assert report["history"]["deploys_not_in_history"] == 0
    assert report["history"]["commits"] == 2
    assert [(d["id"], d["sha"], d["shipped_changes"]) for d in report["deploys"]] == [
        ("v1", repo.git("rev-parse", "v1^{commit}"), 1),
        ("v2", f, 1),
    ]
    repo.merge("feature", when=now + timedelta(hours=1))
    now += timedelta(days=1)
    report, use, read = runs.scan(now)
    assert (use, read) == ("incremental", "new")
    assert report["history"]["commits"] == 3  # the merge; the feature commit once
    assert report["history"]["deploys_not_in_history"] == 0
    assert _outcomes(report) == {"v1": "pending", "v2": "pending"}


def test_two_tag_sources_in_two_environments_per_merge(repo, tmp_path):
    """Production tags and staging tags (a config maps each source to its environment):
    each run reads only the new tags of both, deploys of one environment are linked and
    judged apart from the other's, a staging rollback rolls back only staging (the production
    deploy of the same commit is not rolled back: still pending at the last run), and every
    report equals an uncached run's."""
    cfg = tmp_path / "scorer.yml"
    cfg.write_text(
        "environments: [production, staging]\n"
        "deploys:\n"
        "  - {source: 'tags:v*', environment: production}\n"
        "  - {source: 'tags:s*', environment: staging}\n"
    )
    cache = tmp_path / "cache"
    made = [repo.commit("root\n", when=T0, author=ANN)]
    uses = []
    for step in range(1, 6):
        day = T0 + timedelta(days=3 * step)
        made.append(repo.commit(ai_msg(f"change {step}"), when=day, author=BOB))
        repo.tag(f"s{step}", when=day + timedelta(hours=1))
        if step % 2:
            repo.tag(f"v{step}", when=day + timedelta(hours=3))
        if step == 4:  # staging runs an older commit again: s3 is rolled back, v3 is not
            repo.tag("s4-rollback", made[2], when=day + timedelta(hours=5))
        report, use, read = cold_and_cached(
            repo.path,
            cache,
            events_read=True,
            config=cfg,
            now=day + timedelta(days=1),
            window=WINDOW,
        )
        uses.append((use, read))
    assert uses == [("cold", "all")] + [("incremental", "new")] * 4
    by_id = {d["id"]: (d["environment"], d["outcome"]) for d in report["deploys"]}
    assert by_id["s3"] == ("staging", "rolled_back") and by_id["v3"] == ("production", "pending")
    assert by_id["v1"] == ("production", "survived") and by_id["s1"] == ("staging", "survived")
    assert by_id["s4-rollback"][0] == "staging" and by_id["v5"] == ("production", "pending")
