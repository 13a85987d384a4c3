"""The text format on a terminal and the Markdown report: commit messages, trailers, tag
names, deploy ids and the repository name carry terminal escapes, bidi controls and Markdown
tricks; the text shows them as text, without the control characters, and the Markdown renders
inert.
"""

from __future__ import annotations

import json

from gitbuild import GitRepo
from scenario import ANN
from untrusted import BIDI, ESC, HOSTILE, HOSTILE_TRAILER, NOW, ai, assert_inert_markdown, day

from scorer.cli import main
from scorer.util.times import iso


def test_text_and_markdown_formats_carry_no_escapes_from_commit_data(tmp_path, capsys):
    r = GitRepo(tmp_path / "repo")
    c1 = r.commit("Initial", when=day(0), author=ANN)
    c2 = r.commit(ai(HOSTILE, HOSTILE_TRAILER), when=day(1), author=ANN)
    r.branch("side")
    r.checkout("side")
    side = r.commit("Side", when=day(1.2), author=ANN)
    r.checkout("main")
    r.tag("v1-<img>@octocat(x)!|`", side)  # a deploy of a commit not in the history
    log = tmp_path / "deploys.jsonl"
    rows = [
        {"id": "d1", "sha": c1, "time": iso(day(0.5))},
        {"id": "d2", "sha": c2, "time": iso(day(1.5))},
        {
            "id": f"{ESC}]0;o\x07{ESC}[2J\u202e<img src=x>@octocat",
            "sha": "cd" * 20,
            "time": iso(day(2)),
        },
    ]
    log.write_text("".join(json.dumps(x) + "\n" for x in rows))
    name = f"acme/{ESC}[2J{ESC}]0;title\x07\u202erepo\x9b31m"
    md = tmp_path / "r.md"
    args = ["scan", str(r.path), "--now", iso(NOW), "--deploys", f"log:{log}"]
    args += ["--deploys", "tags:v*", "--repository"]
    assert main([*args, name, "--markdown", str(md)]) == 0
    out = capsys.readouterr()
    assert "unknown-agent" in out.out and "deploys-not-in-history" in out.out
    assert "v1-<img>@octocat" in out.out  # the tag name is shown, as text
    assert "]0;o" in out.out and "<img src=x>@octocat" in out.out  # the log id too
    for ch in (ESC, "\x07", "\x9b", *BIDI):
        assert ch not in out.out and ch not in out.err
    assert_inert_markdown(md.read_text())
