"""The report's changes are handed to git while the history streams in
(``accelerator.feeding``): which ones, and that the report is the same without it."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from conftest import T0

import scorer.accelerator as accelerator
from scorer.accelerator import Wanted, feeding
from scorer.cli import main
from scorer.model import CommitRow, Evidence
from scorer.outcomes.reach import Reach

WEEK = 7 * 86400
AI = (Evidence("claude-code", "trailer", "Co-authored-by: Claude", "high"),)


class Recorder:
    def __init__(self):
        self.batches: list[list[str]] = []

    def feed(self, shas):
        self.batches.append(list(shas))


def _row(n, t, *, ai=False, merge=False, human=True, email="a@x.org"):
    parents = ("p1", "p2") if merge else ("p",)
    return CommitRow(f"s{n}", parents, "A", email, t, t, "subject", AI if ai else (), (), human)


@pytest.mark.parametrize("cache", [False, True])
def test_feeds_what_the_report_asks_verdicts_of(cache):
    since, period_since, until = 0, 8 * WEEK, 12 * WEEK
    rows = [
        # AI, after the period: asked only of a run that fills a cache (the next runs' periods
        # move over it); else its deploy is still in its window, and it cannot count yet
        _row(1, until + 5, ai=True),
        _row(2, until + 5),  # not AI, after the period: not asked
        _row(3, period_since + 10),  # in the period: asked
        _row(4, period_since + 20, merge=True),  # a merge: never
        _row(5, WEEK + 10, email="b@x.org"),  # b's first change of week 1: asked
        _row(6, WEEK + 5, email="b@x.org"),  # b's second: not
        _row(7, WEEK + 5, email="c@x.org"),  # c's first: asked
        _row(8, WEEK + 5, email="d@x.org", human=False),  # a bot: not
        _row(9, 2 * WEEK + 1, email="b@x.org"),  # b's first of week 2: asked
        _row(11, 3 * WEEK + 9, email="c@x.org", ai=True),  # AI, c's first of week 3: asked
        _row(12, 3 * WEEK + 8, email="c@x.org"),  # c's second of week 3: not
        _row(10, since - 1, ai=True),  # before the report's weeks: not
    ]
    got = Recorder()
    reach = Reach(since, period_since, None if cache else until)
    passed = list(feeding(rows, got, Wanted(reach, until, WEEK)))
    assert passed == rows
    asked = ["s3", "s5", "s7", "s9", "s11"]
    assert [s for b in got.batches for s in b] == (["s1", *asked] if cache else asked)


def test_feeds_a_first_batch_early_then_twice_as_many_each_time():
    rows = [_row(n, 100 + n, ai=True) for n in range(2000)]
    got = Recorder()
    seen = []
    for row in feeding(rows, got, Wanted(Reach(0, 50), 10_000, WEEK)):
        seen.append((row.sha, sum(map(len, got.batches))))
    assert [len(b) for b in got.batches] == [64, 128, 256, 512, 1024, 16]
    assert seen[64] == ("s64", 64)  # fed once 64 rows have gone by
    # what is left goes once the stream has gone past the report's first week
    rows = [_row(n, 100_000 - n, ai=True) for n in range(100)] + [_row(100, 10)] * 2
    got = Recorder()
    for row in feeding(rows, got, Wanted(Reach(1_000, 1_000), 200_000, WEEK)):
        if row.sha == "s100" and len(got.batches) == 2:
            break
    assert [len(b) for b in got.batches] == [64, 36]


def _history(repo):
    """Weeks of commits by three people, some AI-assisted, some whitespace-only, tags."""
    rng = random.Random(3)
    repo.commit("root\n", when=T0, files={"a.py": "x = 0\n"})
    for k in range(80):
        when = T0 + timedelta(hours=6 * (k + 1))
        who = rng.choice([("Ann", "ann@x.org"), ("Bob", "bob@x.org"), ("Cy", "cy@x.org")])
        ai = "\n\nCo-authored-by: Claude <noreply@anthropic.com>\n" if rng.random() < 0.4 else ""
        text = f"x = {k}\n" if rng.random() < 0.7 else (repo.path / "a.py").read_text() + "\n"
        repo.commit(f"change {k}{ai}", when=when, author=who, files={"a.py": text})
        if k % 10 == 9:
            repo.tag(f"v{k}", when=when + timedelta(hours=1))
    return T0 + timedelta(hours=6 * 81 + 24)


def _report(repo, now):
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["scan", str(repo.path), "--format", "json", "--now", now.isoformat()]) == 0
    report = json.loads(out.getvalue())
    report.pop("generated_at")
    return report


def test_report_is_the_same_without_early_feeding(repo, monkeypatch):
    now = _history(repo)
    early = _report(repo, now)
    monkeypatch.setattr(accelerator, "feeding", lambda rows, substance, wanted: rows)
    assert _report(repo, now) == early
    assert early["metric"]["ai_changes_by_outcome"]
