"""Code survival (METRIC.md section 10) end to end: hand-built repositories with exact line
counts, scanned with a deploy log at a fixed ``now``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from gitbuild import GitRepo
from scenario import ANN, BOB, Scenario, ai_msg, cold_and_cached

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def ago(d: float) -> datetime:
    return NOW - timedelta(days=d)


def lines(*names: str) -> str:
    return "".join(f"{n}\n" for n in names)


# Moved lines: git blame -M follows a block of at least 20 alphanumeric characters.
A6, A7 = "a6 = moved_within_the_file(alpha)", "a7 = moved_within_the_file(beta)"
A_LINES = ["a1", "a2", "", "a3", "a4", "a5", "", A6, A7, "a8", "a9", "a10"]


def build(tmp_path) -> tuple[Scenario, dict[str, str]]:
    """A cohort (first deploys in [now - 58d, now - 30d)) with every case the figure has to
    get right; the comments say what each change adds and keeps at S (the last deploy)."""
    repo = GitRepo(tmp_path / "repo")
    sc = Scenario(repo, tmp_path)
    c: dict[str, str] = {}
    c["base"] = repo.commit("base", when=ago(70), files={"README": "hello\n"})
    sc.deploy(c["base"], ago(69))
    # A (AI): 10 non-blank lines and 2 blank ones (not counted).
    c["A"] = repo.commit(ai_msg("A"), when=ago(57), author=ANN, files={"a.py": lines(*A_LINES)})
    # H (human): 8 lines, 2 deleted later. H2 (human): a whole file, deleted later.
    h = [f"h{k}" for k in range(1, 9)]
    c["H"] = repo.commit(
        "H", when=ago(57) + timedelta(hours=1), author=BOB, files={"h.py": lines(*h)}
    )
    c["H2"] = repo.commit(
        "H2",
        when=ago(57) + timedelta(hours=2),
        author=BOB,
        files={"gone.py": lines("g1", "g2", "g3", "g4")},
    )
    # A2 (AI): 4 lines; a human change rewrites one of them.
    c["A2"] = repo.commit(
        ai_msg("A2"),
        when=ago(57) + timedelta(hours=3),
        files={"shared.py": lines("s1", "s2", "s3", "s4")},
    )
    # A3 (AI): 3 lines, reverted after its window (so it still counts): none survive.
    c["A3"] = repo.commit(
        ai_msg("A3"), when=ago(57) + timedelta(hours=4), files={"rev.py": lines("r1", "r2", "r3")}
    )
    sc.deploy(c["A3"], ago(56))
    # H3 (human, in the cohort): rewrites s2 and adds a line: 2 lines, both survive.
    c["H3"] = repo.commit(
        "H3",
        when=ago(45),
        author=BOB,
        files={"shared.py": lines("s1", "s2 by a human", "s3", "s4", "s5")},
    )
    sc.deploy(c["H3"], ago(44))
    # R (after the cohort, inside A's horizon): rewrites a1-a3, deletes a4-a5, moves a6-a7
    # to the end of the file, re-indents a8 (whitespace only: it survives).
    rewritten = ["x1", "x2", "", "x3", "", "  a8  ", "a9", "a10", A6, A7]
    c["R"] = repo.commit("R", when=ago(29), author=BOB, files={"a.py": lines(*rewritten)})
    sc.deploy(c["R"], ago(28))
    c["revert"] = repo.revert(c["A3"], when=ago(21), author=BOB)
    sc.deploy(c["revert"], ago(20))
    # L (after A's horizon): deletes a9, h7-h8 and the whole of gone.py.
    c["L"] = repo.commit(
        "L",
        when=ago(11),
        author=BOB,
        files={
            "a.py": lines(*[x for x in rewritten if x != "a9"]),
            "h.py": lines(*h[:6]),
            "gone.py": None,
        },
    )
    sc.deploy(c["L"], ago(10))
    return sc, c


def test_exact_counts(tmp_path):
    sc, c = build(tmp_path)
    cs = sc.scan(NOW, horizon=timedelta(days=30))["code_survival"]
    assert cs["reason"] is None
    assert cs["horizon_days"] == 30
    assert cs["cohort"] == {"since": "2026-04-04T12:00:00Z", "until": "2026-05-02T12:00:00Z"}
    assert cs["deploy_sha"] == c["L"]
    assert cs["environment"] == "production"
    # A 4 of 10 (a6, a7 moved, a8 re-indented, a10); A2 3 of 4; A3 0 of 3 (reverted).
    assert cs["ai"] == {"surviving_lines": 7, "added_lines": 17, "rate": 0.411765, "changes": 3}
    # H 6 of 8; H2 0 of 4 (file deleted); H3 2 of 2.
    assert cs["human"] == {"surviving_lines": 8, "added_lines": 14, "rate": 0.571429, "changes": 3}
    assert cs["by_agent"] == {
        "claude-code": {"surviving_lines": 7, "added_lines": 17, "rate": 0.411765, "changes": 3}
    }
    # Lost: A 6, A2 1, A3 3. Gone by the rework state (R's deploy, the newest at or before
    # first deploy + 30d): A 5 (x1-x3 rewrite, a4-a5), A2 1; A3 still there then.
    assert cs["rework_share"] == 0.6
    assert cs["missing_objects"] == 0


def test_cached_equals_cold(tmp_path):
    sc, _ = build(tmp_path)
    sc.log.write_text("".join(__import__("json").dumps(d) + "\n" for d in sc.deploys))
    report, _use = cold_and_cached(
        sc.repo.path,
        tmp_path / "cache",
        deploys=[f"log:{sc.log}"],
        now=NOW,
        horizon=timedelta(days=30),
    )
    assert report["code_survival"]["ai"]["surviving_lines"] == 7
    # A second cached run (nothing moved) answers the same.
    again, use = cold_and_cached(
        sc.repo.path,
        tmp_path / "cache",
        deploys=[f"log:{sc.log}"],
        now=NOW,
        horizon=timedelta(days=30),
    )
    assert again == report and use == "incremental"


def test_horizon_option_moves_the_cohort(tmp_path):
    sc, _ = build(tmp_path)
    # horizon 15d: cohort [now - 43d, now - 15d): R (human) and the revert (on neither side).
    # R adds 5 lines against its parent (x1-x3, and a6-a7 moved); blame -M gives the moved
    # ones back to A, so 3 are R's at S.
    cs = sc.scan(NOW, horizon=timedelta(days=15))["code_survival"]
    assert cs["horizon_days"] == 15
    assert cs["ai"]["changes"] == 0 and cs["ai"]["rate"] is None
    assert cs["human"] == {"surviving_lines": 3, "added_lines": 5, "rate": 0.6, "changes": 1}
    assert cs["rework_share"] is None


@pytest.mark.parametrize(("deploy_day", "in_cohort"), [(30, False), (58, True), (58.01, False)])
def test_cohort_edges(tmp_path, deploy_day, in_cohort):
    repo = GitRepo(tmp_path / "repo")
    sc = Scenario(repo, tmp_path)
    base = repo.commit("base", when=ago(80), files={"README": "x\n"})
    sc.deploy(base, ago(79))
    a = repo.commit(ai_msg("A"), when=ago(deploy_day + 0.5), files={"a.py": lines("1", "2")})
    sc.deploy(a, ago(deploy_day))
    cs = sc.scan(NOW, horizon=timedelta(days=30))["code_survival"]
    if in_cohort:
        assert cs["ai"] == {"surviving_lines": 2, "added_lines": 2, "rate": 1.0, "changes": 1}
        assert cs["reason"] is None
    else:
        assert cs["ai"]["changes"] == 0 and cs["ai"]["rate"] is None
        assert cs["reason"] == (
            "no substantive change first deployed (survived) between "
            "2026-04-04T12:00:00Z and 2026-05-02T12:00:00Z"
        )


def test_no_deploy_state(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    sc = Scenario(repo, tmp_path)
    a = repo.commit(ai_msg("A"), when=ago(50), files={"a.py": "1\n"})
    sc.deploy(a, ago(49), status="failure")
    cs = sc.scan(NOW, horizon=timedelta(days=30))["code_survival"]
    assert cs["deploy_sha"] is None
    assert cs["ai"]["rate"] is None and cs["human"]["rate"] is None
    assert cs["reason"] == "no successful deploy at or before now: no production state to read"


def test_exclude_paths_left_out(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    sc = Scenario(repo, tmp_path)
    config = "exclude_paths: ['gen/**']\nsurvival_horizon: 20d\n"
    repo.write({".normalized-deployments.yml": config})
    base = repo.commit("base", when=ago(80), files={"README": "x\n"})
    sc.deploy(base, ago(79))
    a = repo.commit(
        ai_msg("A"), when=ago(40), files={"a.py": lines("1", "2"), "gen/x.py": lines("g", "h", "i")}
    )
    sc.deploy(a, ago(39))
    cs = sc.scan(NOW)["code_survival"]  # the config asks for it
    assert cs["horizon_days"] == 20  # the config's survival_horizon
    assert cs["ai"] == {"surviving_lines": 2, "added_lines": 2, "rate": 1.0, "changes": 1}


def test_trivial_changes_weigh_nothing(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    sc = Scenario(repo, tmp_path)
    config = "exclude_paths: ['gen/**']\n"
    base = repo.commit("base", when=ago(80), files={".normalized-deployments.yml": config,
                                                     "b.py": lines("x = 1", "y = 2")})  # fmt: skip
    sc.deploy(base, ago(79))
    # human, whitespace only; AI, excluded paths only; human, one real line
    repo.commit("ws", when=ago(50), author=BOB, files={"b.py": lines("x  =  1", "y = 2")})
    repo.commit(ai_msg("gen"), when=ago(50) + timedelta(hours=1), files={"gen/g.py": "g\n"})
    real = repo.commit("real", when=ago(50) + timedelta(hours=2), author=BOB,
                       files={"b.py": lines("x  =  1", "y = 2", "z = 3")})  # fmt: skip
    sc.deploy(real, ago(49))
    cs = sc.scan(NOW, horizon=timedelta(days=30))["code_survival"]
    assert cs["human"] == {"surviving_lines": 1, "added_lines": 1, "rate": 1.0, "changes": 1}
    assert cs["ai"] == {"surviving_lines": 0, "added_lines": 0, "rate": None, "changes": 0}
    assert cs["reason"] is None


def test_not_computed_unless_asked(tmp_path):
    """Code survival blames every file its cohort wrote: it runs only when asked for (a
    horizon on the command line or in the config), and says so otherwise."""
    sc, _ = build(tmp_path)
    cs = sc.scan(NOW)["code_survival"]
    assert (cs["ai"]["rate"], cs["human"]["rate"]) == (None, None)
    assert cs["reason"].startswith("not computed: ask for it with --horizon 30d")


def test_changes_another_release_line_shipped_are_counted_apart(tmp_path):
    """Two release lines deployed to one environment (cline's legacy and main extensions):
    S, on main, does not hold the legacy line's change, whose lines cannot survive there;
    the report says how many of the cohort's changes that is, and the text says why."""
    repo = GitRepo(tmp_path / "repo")
    sc = Scenario(repo, tmp_path)
    base = repo.commit("base", when=ago(80), files={"README": "x\n"})
    sc.deploy(base, ago(79))
    repo.branch("legacy")
    main = repo.commit("M", when=ago(50), author=BOB, files={"m.py": lines("m1", "m2")})
    sc.deploy(main, ago(49))
    repo.checkout("legacy")
    legacy = repo.commit(ai_msg("L"), when=ago(48), files={"l.py": lines("l1", "l2", "l3")})
    sc.deploy(legacy, ago(47))
    repo.checkout("main")
    s = repo.commit("later", when=ago(5), author=BOB, files={"m.py": lines("m1", "m2", "m3")})
    sc.deploy(s, ago(4))
    report = sc.scan(NOW, horizon=timedelta(days=30))
    cs = report["code_survival"]
    assert cs["deploy_sha"] == s
    assert cs["not_in_deploy"] == 1
    assert cs["ai"] == {"surviving_lines": 0, "added_lines": 3, "rate": 0.0, "changes": 1}
    # M's deploy reads as rolled back (the legacy deploy after it does not run M): not in
    # the cohort. One environment for two release lines distorts the deploy figures too.
    assert cs["human"]["changes"] == 0
    from scorer.formats.numbers import survival_cohort

    assert survival_cohort(cs).endswith(
        "; 1 of its changes are not in that deploy's history (another release line in the "
        "same environment?): none of their lines can survive there"
    )


def test_a_blame_ignore_revs_file_in_the_config_gives_a_reason_not_a_wrong_figure(tmp_path):
    """git blame honours a repository's ``blame.ignoreRevsFile`` (GitHub's advice for
    formatting commits) and dies when the file is missing; no option undoes it. The figure
    is not computed and the reason says how to get it; the rest of the report is there."""
    sc, _ = build(tmp_path)
    sc.repo.git("config", "blame.ignoreRevsFile", ".git-blame-ignore-revs")
    report = sc.scan(NOW, horizon=timedelta(days=30))
    cs = report["code_survival"]
    assert (cs["ai"]["rate"], cs["human"]["rate"]) == (None, None)
    assert cs["reason"].startswith("this repository's git config sets blame.ignoreRevsFile")
    assert report["metric"]["deploys_survived"] > 0


def test_textconv_drivers_do_not_change_the_counts(tmp_path):
    """A ``diff`` driver with ``textconv`` in the config changes what ``git blame`` shows
    by default; lines are counted from the files as committed, as the added ones are."""
    sc, _ = build(tmp_path)
    plain = sc.scan(NOW, horizon=timedelta(days=30))["code_survival"]
    sc.repo.git("config", "diff.doubled.textconv", "sed p")  # every line twice
    (sc.repo.path / ".git" / "info" / "attributes").write_text("*.py diff=doubled\n")
    assert sc.scan(NOW, horizon=timedelta(days=30))["code_survival"] == plain
    assert plain["ai"]["surviving_lines"] == 7


def test_a_terminal_sees_the_files_being_blamed(tmp_path):
    """On a TTY, the stage shows what it is doing ("scorer: diffing N changes…", then
    "scorer: blaming N of M files…") and clears the line after."""
    import json
    import os
    import pty
    import subprocess
    import sys

    sc, _ = build(tmp_path)
    sc.log.write_text("".join(json.dumps(d) + "\n" for d in sc.deploys))
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "scorer", "scan", str(sc.repo.path), "--deploys",
             f"log:{sc.log}", "--now", "2026-06-01T12:00:00Z", "--horizon", "30d"],
            stdout=subprocess.PIPE, stderr=follower, env={**os.environ, "NO_COLOR": "1"},
            check=False, timeout=120,
        )  # fmt: skip
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert proc.returncode == 0
    assert b"AI code still in production after 30 days: 41%" in proc.stdout
    assert b"\rscorer: diffing 6 changes\xe2\x80\xa6" in shown  # the cohort's added lines
    blamed = [line for line in shown.split(b"\r") if line.startswith(b"scorer: blaming")]
    assert blamed and blamed[0].endswith(b" files\xe2\x80\xa6")  # "… of N files…"
    assert b" of " in blamed[0]
    assert shown.endswith(b"\r\x1b[K")  # the line cleared
