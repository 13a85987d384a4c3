"""Attacker-controlled strings for the security tests, and the checks that they stayed inert.

Commit messages, names, branch names, PR titles, tag names, deploy ids, repository and agent
names, org report JSON and zip member names all come from someone else; these helpers hold
the hostile values every output of scorer is tested against (the PR comment, the job summary,
workflow commands on stdout and stderr, step outputs, the text format on a terminal, the org
report) and the assertions that nothing in them was rendered, linked, run or leaked.

Times: now = T0 + 20d.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from conftest import T0
from scenario import CLAUDE

from scorer.formats.mdsafe import ZWJ
from scorer.github.comment import MARKER

TOKEN = "t0ken-SECRET-review"
NOW = T0 + timedelta(days=20)

ESC = "\x1b"
BIDI = ("\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f")
# one string with every trick: forged marker, mention, link, image, raw HTML, javascript: URL,
# table pipe, code fence, bidi override, terminal escapes (CSI and OSC 8 hyperlink), a
# workflow command, an autolink and an issue reference
HOSTILE = (
    f"{MARKER} @octocat [x](javascript:alert(1)) ![p](https://evil.example/p.png) "
    "<img src=x onerror=alert(1)> | cell ` code ``` \u202eevil\u202c "
    f"{ESC}[31mred{ESC}[0m {ESC}]8;;https://evil.example{ESC}\\click{ESC}]8;;{ESC}\\ "
    "::error::pwned https://evil.example www.evil.example #1"
)
# an attribution trailer naming no known agent: its text reaches the comment and a signal
HOSTILE_TRAILER = (
    "Generated-by: <img src=x onerror=alert(1)> @octocat ![t](https://evil.example/t.png) "
    f"{ESC}]0;owned\x07 \u202eevil | x"
)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def ai(subject: str, trailer: str = CLAUDE) -> str:
    return f"{subject}\n\nBody.\n\n::warning::from-the-body\n\n{trailer}\n"


def clean_env(monkeypatch, env: dict[str, str]) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(("GITHUB_", "RUNNER_", "GH_", "SCORER_", "CI_", "GITLAB_")):
            monkeypatch.delenv(key, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("SCORER_HTTP_MAX_WAIT", "0")


def command_lines(text: str) -> list[str]:
    """Lines the Actions runner would execute as workflow commands (it trims leading space)."""
    return [ln.lstrip() for ln in re.split(r"\r\n|\r|\n", text) if ln.lstrip().startswith("::")]


def gfm(markdown: str) -> str:
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    # unsafe: raw HTML is passed through, so anything that survives escaping would show here
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def assert_inert_markdown(markdown: str, *, marker_allowed: bool = False) -> str:
    html = gfm(markdown)
    assert "<img" not in html and "<script" not in html and "<a " not in html, html
    assert html.count("<!--") == (1 if marker_allowed else 0)
    prose = re.sub(r"<code>.*?</code>", "", html, flags=re.S)  # code is shown, never run
    assert "javascript:" not in prose
    assert not re.search(r"(?i)https?://", prose)  # no autolink
    assert not re.search(r"@(?!" + ZWJ + r")[A-Za-z0-9_]", prose)
    for ch in (*BIDI, ESC, "\x07"):
        assert ch not in markdown
    if "| cell" in markdown.replace("\\|", "|").replace("¦", "|"):
        # the hostile "| cell" stayed inside its table cell (a split would drop the pipe)
        assert re.search(r"[|¦] cell", html), html
    return html
