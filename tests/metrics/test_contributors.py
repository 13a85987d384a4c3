"""People (METRIC.md sections 2 and 7): who is a contributor of the period (author time,
not commit time; merge authors are not), aider and agent committers as AI evidence beside a
human contributor, and non-ASCII names and undecodable messages, hashed and shown intact.

now = T0 + 40d, window 7d: the headline period is [T0 + 5d, T0 + 33d), 4 weeks.
"""

from __future__ import annotations

from datetime import timedelta

from conftest import T0
from scenario import ANN, BOB, CARA, CLAUDE

NOW = T0 + timedelta(days=40)
D = timedelta(days=1)


def test_contributors_use_author_time_and_ignore_merge_authors(sc):
    r = sc.repo
    r.branch("topic")
    r.checkout("topic")
    r.commit("Topic\n", when=T0 + 6 * D, author=ANN)
    r.checkout("main")
    r.merge("topic", when=T0 + 7 * D, author=("Mia Merger", "mia@example.com"))
    # authored in the period, committed after it: in
    r.commit("Late commit\n", when=T0 + 30 * D, commit_time=T0 + 35 * D, author=BOB)
    # authored before the period, committed inside it: out
    r.commit("Old work\n", when=T0 + 4 * D, commit_time=T0 + 6 * D, author=CARA)
    # authored exactly at `until` (exclusive): out
    r.commit("At until\n", when=T0 + 33 * D, author=("Dan", "dan@example.com"))
    rep = sc.scan(NOW)
    assert rep["metric"]["contributors"] == 2  # ann (Topic), bob (Late commit)
    assert rep["period"]["changes"] == 2


def test_aider_author_and_agent_committer(sc):
    r = sc.repo
    a = r.commit("aider: add parser\n", when=T0 + 6 * D, author=("Cara Diaz (aider)", CARA[1]))
    sc.deploy(a, T0 + 7 * D, ident="aider")
    c = r.commit(
        "Plain message\n",
        when=T0 + 8 * D,
        author=BOB,
        committer=("claude[bot]", "209825114+claude[bot]@users.noreply.github.com"),
    )
    sc.deploy(c, T0 + 9 * D, ident="committer")
    rep = sc.scan(NOW)
    # aider: identity (high) + subject (medium); the person driving aider is a contributor.
    # committer claude[bot]: v2, a committer alone is no evidence (no shipped agent has
    # `committer: true`); bob stays the (human) author of an ordinary change.
    assert rep["metric"]["contributors"] == 2  # cara, bob (ann's base is before the period)
    assert rep["metric"]["ai_deploys_survived"] == 1
    # v2: cara and bob each active in one week: 2 developer-weeks (v1: 1 / 2 / 4 = 0.125)
    assert rep["metric"]["normalized_deployments"] == 0.5
    kinds = {row["sha"]: sorted({e["kind"] for e in row["evidence"]}) for row in rep["ai_changes"]}
    assert kinds == {a: ["footer", "identity"]}
    assert c not in kinds
    # --min-confidence high keeps aider's (identity is high)
    assert sc.scan(NOW, min_confidence="high")["metric"]["ai_deploys_survived"] == 1


def test_unicode_people_and_binary_junk_messages(sc):
    import hashlib

    r = sc.repo
    x = r.commit(
        b"junk \xff\xfe\x80 subject \xe4\xb8\xad\n\nbody \xc3\x28 \x01\x02\n\n"
        + CLAUDE.encode()
        + b"\n",
        when=T0 + 6 * D,
        author=("Zoë 中文", "ZOE@Example.COM"),
    )
    sc.deploy(x, T0 + 7 * D, ident="d")
    rep = sc.scan(NOW)
    assert rep["metric"]["ai_deploys_survived"] == 1
    assert rep["contributors_hashed"] == [hashlib.sha256(b"zoe@example.com").hexdigest()]
    (row,) = rep["ai_changes"]
    assert row["subject"].startswith("junk ") and row["subject"].endswith("subject 中")
