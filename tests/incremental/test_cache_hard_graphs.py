"""The incremental cache on the hardest histories: criss-cross merges, an octopus, a chain
of reverts, tags, a rollback to older code, a second environment and a rewritten deploy log.
After each change a cached scan's report equals an uncached one (but generated_at), through
the CLI as a user runs it.
"""

from __future__ import annotations

import json
from datetime import timedelta

from conftest import T0
from scenario import ANN, BOB, CARA, ai_msg, hours
from scenario import git_env as _env
from scenario import run_cli as _cli

from scorer.util.times import iso

NOW = T0 + timedelta(days=40)
D = timedelta(days=1)


def test_cache_equals_cold_scan_as_history_tags_and_log_change(repo, tmp_path):
    cache_dir, log = tmp_path / "cache", tmp_path / "deploys.jsonl"
    deploys: list[dict] = []
    now = iso(NOW)

    def dep(sha: str, when, **kw) -> None:
        deploys.append({"sha": sha, "time": iso(when), **kw})

    def both(*extra: str) -> dict:
        log.write_text("".join(json.dumps(d) + "\n" for d in deploys))
        args = ["scan", str(repo.path), "--format", "json", "--now", now, "--window", "7d"]
        args += ["--deploys", f"log:{log}", "--deploys", "tags:v*", *extra]
        code, plain, err = _cli(*args)
        assert code == 0, err
        code, warm, err = _cli(*args, "--cache", str(cache_dir))
        assert code == 0 and err == "", err
        p, w = json.loads(plain), json.loads(warm)
        p.pop("generated_at")
        w.pop("generated_at")
        assert w == p
        return p

    base = repo.commit("Initial\n", when=T0, author=ANN)
    a = repo.commit(ai_msg("a"), when=T0 + 6 * D, author=ANN)
    dep(base, T0 + hours(1))
    dep(a[:10], T0 + 7 * D)
    both()
    # criss-cross merges, an octopus, a revert chain, tags and a rollback to older code
    repo.branch("side", base)
    repo.checkout("side")
    repo.commit(ai_msg("b"), when=T0 + 8 * D, author=BOB)
    repo.checkout("main")
    m1 = repo.merge("side", when=T0 + 9 * D)
    repo.checkout("side")
    repo.git("merge", "-q", "--no-ff", "--no-edit", a, env=_env(T0 + 9 * D))
    repo.checkout("main")
    y = repo.revert(a, when=T0 + 10 * D, author=BOB)
    z = repo.revert(y, when=T0 + 10 * D + hours(1), author=BOB)
    repo.tag("v1", m1, when=T0 + 9 * D + hours(2))
    dep(m1, T0 + 9 * D + hours(1))
    dep(base, T0 + 9 * D + hours(3))  # rollback to older code
    dep(z, T0 + 11 * D, status="failure")
    r1 = both()
    assert r1["history"]["reverted_changes"] == 1  # y (by z); a stands
    for n, br in enumerate(("o1", "o2")):
        repo.branch(br, z)
        repo.checkout(br)
        repo.commit(ai_msg(br), when=T0 + 12 * D + hours(n), author=CARA)
    repo.checkout("main")
    repo.commit("Main\n", when=T0 + 12 * D + hours(3), author=ANN)
    repo.git(
        "merge", "-q", "--no-ff", "--no-edit", "o1", "o2", "side",
        env=_env(T0 + 13 * D),
    )  # fmt: skip
    repo.revert(z, when=T0 + 13 * D + hours(1), author=CARA)
    repo.tag("v2", when=T0 + 14 * D)
    dep(repo.head(), T0 + 14 * D + hours(1), environment="staging")
    both()
    both("--environment", "production", "--environment", "staging", "--min-confidence", "high")
    deploys.pop(2)  # the deploy log is rewritten: one deploy gone
    both("--since", iso(T0 + 6 * D))
