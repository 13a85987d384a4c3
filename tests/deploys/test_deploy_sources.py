"""Deploy sources: tags and deploy logs, and the shared SHA resolution rules."""

from __future__ import annotations

import json
from datetime import timedelta
from fnmatch import fnmatchcase as fnmatch

import pytest
from conftest import T0

from scorer.deploys import load_events, parse_spec, resolve_events
from scorer.deploys.interface import SourceContext
from scorer.errors import InputError
from scorer.git.log import open_repo
from scorer.model import DeployEvent


def _ctx(repo, base=None) -> SourceContext:
    r = open_repo(repo.path)
    return SourceContext(repo_path=repo.path, git_dir=r.git_dir, base_dir=base or repo.path)


def _events(repo, *specs, base=None):
    return load_events([parse_spec(s) for s in specs], _ctx(repo, base))


def test_tags_annotated_use_tagger_date_lightweight_use_commit_date(repo):
    a = repo.commit("a\n", when=T0)
    b = repo.commit("b\n", when=T0 + timedelta(days=1))
    repo.tag("v1.0.0", a)  # lightweight: commit date of a
    repo.tag("v1.1.0", b, when=T0 + timedelta(days=3), message="release")
    repo.tag("other", b)
    repo.tag("v-tree", repo.git("rev-parse", "HEAD^{tree}"))  # not a commit: not a deploy
    evs = _events(repo, "tags:v1.*")
    assert [(e.id, e.sha, e.time, e.status, e.environment, e.source) for e in evs] == [
        ("v1.0.0", a, T0, "success", "production", "tags:v1.*"),
        ("v1.1.0", b, T0 + timedelta(days=3), "success", "production", "tags:v1.*"),
    ]
    assert [e.id for e in _events(repo, "tags:v*")] == ["v1.0.0", "v1.1.0"]


def test_nested_annotated_tag_peels_to_commit(repo):
    a = repo.commit("a\n", when=T0)
    repo.tag("inner", a, when=T0 + timedelta(hours=1))
    repo.tag("v2", "inner", when=T0 + timedelta(hours=2))
    (ev,) = _events(repo, "tags:v2")
    assert ev.sha == a and ev.time == T0 + timedelta(hours=2)


def test_log_jsonl_and_csv_give_the_same_events(repo, tmp_path):
    a = repo.commit("a\n", when=T0)
    (tmp_path / "d.jsonl").write_text(
        f'{{"sha": "{a}", "time": "2026-09-02T10:00:00+02:00", "id": "r1"}}\n'
        "\n"
        f'{{"sha": "{a[:8]}", "time": "2026-09-03T10:00:00Z", "status": "failure", '
        '"environment": "staging"}\n'
    )
    (tmp_path / "d.csv").write_text(
        "id,sha,time,status,environment\n"
        f"r1,{a},2026-09-02T10:00:00+02:00,,\n"
        f",{a[:8]},2026-09-03T10:00:00Z,failure,staging\n"
    )
    for name in ("d.jsonl", "d.csv"):
        evs = _events(repo, f"log:{name}", base=tmp_path)
        got = [(e.id, e.sha, e.time.isoformat(), e.status, e.environment) for e in evs]
        assert got == [
            ("r1", a, "2026-09-02T10:00:00+02:00", "success", "production"),
            (f"{name}:3", a[:8], "2026-09-03T10:00:00+00:00", "failure", "staging"),
        ]
        resolved = resolve_events(evs, [a]).events
        assert [e.sha for e in resolved] == [a, a]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"sha": "abcd", "time": "2026-09-02T10:00:00Z"}\n{"sha": \n',
            "d.jsonl:2: not valid JSON",
        ),
        ('{"time": "2026-09-02T10:00:00Z"}\n', "d.jsonl:1: missing field 'sha'"),
        ('{"sha": "abcd"}\n', "d.jsonl:1: missing field 'time'"),
        ('{"sha": "abcd", "time": "2026-09-02T10:00:00"}\n', "d.jsonl:1: time has no UTC offset"),
        ('{"sha": "abcd", "time": "yesterday"}\n', "d.jsonl:1: not an ISO 8601 time"),
        (
            '{"sha": "abcd", "time": "2026-09-02T10:00:00Z", "status": "ok"}\n',
            "d.jsonl:1: unknown status 'ok'",
        ),
        (
            '{"sha": "abcd", "time": "2026-09-02T10:00:00Z", "sah": "x"}\n',
            "d.jsonl:1: unknown field 'sah'",
        ),
        ('["abcd"]\n', "d.jsonl:1: each line must be a JSON object"),
    ],
)
def test_malformed_log_lines_name_file_and_line(repo, tmp_path, content, message):
    repo.commit("a\n", when=T0)
    (tmp_path / "d.jsonl").write_text(content)
    with pytest.raises(InputError) as err:
        _events(repo, "log:d.jsonl", base=tmp_path)
    assert str(err.value).startswith(message)
    assert err.value.exit_code == 2


def test_malformed_csv(repo, tmp_path):
    repo.commit("a\n", when=T0)
    (tmp_path / "d.csv").write_text("sha,when\nabcd,2026\n")
    with pytest.raises(
        InputError, match=r"^d\.csv:1: CSV header must name the columns sha and time"
    ):
        _events(repo, "log:d.csv", base=tmp_path)
    (tmp_path / "d.csv").write_text("sha,time\nabcd,2026-09-02T10:00:00Z,extra\n")
    with pytest.raises(InputError, match=r"^d\.csv:2: expected 2 columns, found 3"):
        _events(repo, "log:d.csv", base=tmp_path)


def test_missing_and_non_utf8_log(repo, tmp_path):
    repo.commit("a\n", when=T0)
    with pytest.raises(InputError, match="deploy log not found"):
        _events(repo, "log:nope.jsonl", base=tmp_path)
    (tmp_path / "bad.jsonl").write_bytes(b'{"sha": "a"}\n\xff\n')
    with pytest.raises(InputError, match=r"^bad\.jsonl:2: not UTF-8"):
        _events(repo, "log:bad.jsonl", base=tmp_path)


def test_resolution_unknown_ambiguous_and_invalid(repo, tmp_path):
    a = repo.commit("a\n", when=T0)
    shas = [a, a[:10] + ("0" * 30 if a[10:] != "0" * 30 else "1" * 30)]
    (tmp_path / "d.jsonl").write_text(f'{{"sha": "{"f" * 40}", "time": "2026-09-02T10:00:00Z"}}\n')
    res = resolve_events(_events(repo, "log:d.jsonl", base=tmp_path), shas)
    assert res.events == [] and [e.sha for e in res.unknown] == ["f" * 40]
    (tmp_path / "d.jsonl").write_text(f'{{"sha": "{a[:10]}", "time": "2026-09-02T10:00:00Z"}}\n')
    with pytest.raises(InputError, match=r"d\.jsonl:1: SHA '.{10}' is ambiguous: it abbreviates 2"):
        resolve_events(_events(repo, "log:d.jsonl", base=tmp_path), shas)
    (tmp_path / "d.jsonl").write_text('{"sha": "xyz!", "time": "2026-09-02T10:00:00Z"}\n')
    with pytest.raises(InputError, match="is not a commit SHA"):
        resolve_events(_events(repo, "log:d.jsonl", base=tmp_path), shas)


def test_unknown_source_scheme():
    with pytest.raises(InputError, match="unknown deploy source 'ftp:x'"):
        parse_spec("ftp:x")
    with pytest.raises(InputError, match="needs an argument"):
        parse_spec("tags")


# --------------------------------------------------------------------------- tags with a memo


def _tag_events(repo, spec: str, memo: dict | None = None) -> list[tuple]:
    ctx = _ctx(repo).replace(memo=memo)
    evs = load_events([parse_spec(spec)], ctx)
    return [(e.id, e.sha, e.time, e.status, e.environment, e.where, e.order) for e in evs]


def _tag_objects(repo, glob: str) -> set[str]:
    out = repo.git("for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/tags/")
    return {oid for name, oid in (line.split() for line in out.splitlines()) if fnmatch(name, glob)}


@pytest.mark.parametrize("max_named", [500, 1])  # 1: one full listing instead of names
def test_tags_events_are_the_same_with_a_memo(repo, monkeypatch, max_named):
    import scorer.deploys.tags as tags

    monkeypatch.setattr(tags, "_MAX_NAMED", max_named)
    a = repo.commit("a\n", when=T0)
    b = repo.commit("b\n", when=T0 + timedelta(days=1))
    c = repo.commit("c\n", when=T0 + timedelta(days=2))
    tree = repo.git("rev-parse", "HEAD^{tree}")
    blob = repo.git("hash-object", "-w", "--stdin", input=b"data\n")
    warm: dict = {}

    def check(spec: str = "tags:v*") -> list[tuple]:
        nonlocal warm
        cold = _tag_events(repo, spec)
        assert _tag_events(repo, spec, {}) == cold  # an empty memo
        assert _tag_events(repo, spec, warm) == cold  # what the previous steps left
        assert set(warm) == _tag_objects(repo, spec.removeprefix("tags:"))  # pruned
        warm = json.loads(json.dumps(warm))  # as the cache keeps it
        assert _tag_events(repo, spec, warm) == cold  # now all from the memo
        return cold

    assert check() == []
    repo.tag("v1", a)  # lightweight
    repo.tag("v2", b, when=T0 + timedelta(days=5), message="release")  # annotated
    repo.tag("other", c)  # does not match
    repo.tag("v-tree", tree, when=T0, message="a tree")  # not a deploy
    repo.tag("v-blob", blob)  # lightweight, not a commit
    assert [e[0] for e in check()] == ["v1", "v2"]
    repo.tag("inner", c, when=T0 + timedelta(days=6))
    repo.tag("v3", "inner", when=T0 + timedelta(days=7))  # a tag of a tag
    repo.tag("v3b", "v3", when=T0 + timedelta(days=8))  # of a tag of a tag
    repo.tag("v-tree2", "v-tree", when=T0)  # a tag of a tag of a tree
    events = check()
    assert [(e[0], e[1]) for e in events][2:] == [("v3", c), ("v3b", c)]
    repo.git("tag", "-d", "v2")  # removed
    who = {
        "GIT_COMMITTER_NAME": "R",
        "GIT_COMMITTER_EMAIL": "r@x",
        "GIT_COMMITTER_DATE": "1700000000 +0000",
    }
    repo.git("tag", "-f", "-a", "-m", "moved", "v1", c, env=who)  # lightweight to annotated
    repo.git("tag", "-f", "v3", b)  # annotated (of a tag) becomes lightweight
    repo.tag("v4", a, when=T0 + timedelta(days=9), message="late")
    events = check()
    assert [(e[0], e[1]) for e in events] == [("v1", c), ("v3", b), ("v3b", c), ("v4", a)]
    assert events[0][2] == T0.fromtimestamp(1700000000, T0.tzinfo)
    check("tags:v3*")  # another glob: the memo follows it
    for name in ("v1", "v3", "v3b", "v4", "v-tree", "v-tree2", "v-blob"):
        repo.git("tag", "-d", name)
    assert check() == []
    assert warm == {}


def test_tags_warm_memo_is_one_cheap_git_call(repo, monkeypatch):
    import scorer.deploys.tags as tags

    a = repo.commit("a\n", when=T0)
    repo.tag("v1", a, when=T0, message="one")
    repo.tag("v2", a)
    ctx = _ctx(repo).replace(memo={})
    specs = [parse_spec("tags:v*")]
    load_events(specs, ctx)
    calls = []
    real = tags.subprocess.run
    monkeypatch.setattr(
        tags.subprocess, "run", lambda args, **kw: calls.append(args) or real(args, **kw)
    )
    assert [e.id for e in load_events(specs, ctx)] == ["v1", "v2"]
    assert len(calls) == 1 and calls[0][-2:] == [f"--format={tags._LIST_FORMAT}", "refs/tags/"]
    repo.tag("v3", a, when=T0, message="three")  # a new tag object
    repo.tag("v4", a)  # a known object
    calls.clear()
    assert [e.id for e in load_events(specs, ctx)] == ["v1", "v2", "v3", "v4"]
    assert len(calls) == 2 and calls[1][-1] == "refs/tags/v3"  # asked about the new one only


def test_load_events_copies_every_field():
    # load_events builds each event with all DeployEvent fields spelt out (for speed).
    assert DeployEvent._fields == (
        "id", "sha", "environment", "time", "status", "source", "order", "where",
    )  # fmt: skip


def test_load_events_keeps_one_memo_per_spec(repo):
    a = repo.commit("a\n", when=T0)
    repo.tag("v1", a)
    repo.tag("r1", a)
    memos: dict = {"tags:gone*": {"x": ["commit", "", "", "", "1", ""]}, "tags:v*": "junk"}
    specs = [parse_spec("tags:v*"), parse_spec("tags:r*")]
    evs = load_events(specs, _ctx(repo), memos=memos)
    assert [e.id for e in evs] == ["v1", "r1"]
    assert set(memos) == {"tags:v*", "tags:r*"} and memos["tags:v*"] == memos["tags:r*"]
    assert load_events(specs, _ctx(repo), memos=memos) == evs
    assert load_events(specs, _ctx(repo)) == evs
    load_events([parse_spec("tags:none*")], _ctx(repo), memos=memos)
    assert memos == {}  # an empty memo is not kept
