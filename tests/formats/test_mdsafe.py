"""mdsafe: attacker-controlled strings stay inert text in GitHub-flavoured Markdown."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scorer.formats.mdsafe import md_code, md_text

MARKER = "<!-- scorer:pr-comment -->"

HOSTILE = [
    MARKER,
    "<!-- scorer:pr-comment",
    "<<!---->!-- scorer:pr-comment -->",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<details open><summary>x</summary></details>",
    "[click](javascript:alert(1))",
    "[x]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "JaVaScRiPt:alert(document.cookie)",
    "![pixel](https://evil.example/track.png)",
    "see https://evil.example/login and www.evil.example",
    "ping @octocat and @github/security-team",
    "fixes #1, GH-2 and octo/app#3",
    "`` ` ``` code ` ``",
    "**bold** _em_ ~~strike~~ $x^2$ # heading",
    "| a | b |\n|---|---|",
    "line one\nline two\r\n> quote\n- item\n1. item\n    code",
    "a\u202eevil\u202c b\u2066c\u2069",
    "&lt;script&gt; &#60;b&#62; &amp;",
    "\\<b>escaped\\</b> \\\\",
    "\x00\x07\x1b[31mred\x1b[0m",
    "=====",
    "",
    " ",
]


def unescaped(out: str) -> str:
    """What is left once every backslash escape and every &lt;/&gt; entity is removed."""
    return re.sub(r"&[lg]t;", "", re.sub(r"\\.", "", out))


@pytest.mark.parametrize("value", HOSTILE)
def test_md_text_leaves_no_markdown_or_html_syntax(value):
    out = md_text(value)
    assert "\n" not in out and "\r" not in out
    assert "<!--" not in out and "-->" not in out
    bare = unescaped(out)
    assert not set(bare) & set("<>[]()`*_|!#~$&=\\"), bare
    assert not re.search(r"@[A-Za-z0-9]", out)
    assert not re.search(r"(?i)(javascript|https?):", bare)
    assert "\u202e" not in out and "\u2066" not in out


def test_md_text_reads_as_the_text():
    assert md_text("Fix the parser (again)") == r"Fix the parser \(again\)"
    assert md_text("plain words") == "plain words"
    assert md_text("x" * 300, max_len=10) == "x" * 9 + "…"
    assert md_text(None) == "None"
    assert md_text("<b>bold</b> tag") == "&lt;b&gt;bold&lt;/b&gt; tag"  # shown, not stripped
    assert md_text("a < b") == "a &lt; b"


@pytest.mark.parametrize("value", HOSTILE)
def test_md_code_cannot_be_broken_out_of(value):
    out = md_code(value)
    assert "\n" not in out and "|" not in out
    assert "<!--" not in out and "-->" not in out
    fence = re.match(r"`+", out).group(0)
    assert out.endswith(fence)
    inner = out[len(fence) : -len(fence)]
    assert not re.search(f"(?<!`){fence}(?!`)", inner)


def test_md_code_keeps_the_value_readable():
    assert md_code("abc1234") == "`abc1234`"
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x`") == "`` `x` ``"
    assert md_code("Co-authored-by: Claude <noreply@anthropic.com>") == (
        "`Co-authored-by: Claude <noreply@anthropic.com>`"
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_md_text_property(value):
    out = md_text(value)
    assert "\n" not in out and "<!--" not in out
    assert not set(unescaped(out)) & set("<>[]()`*_|!\\")
    assert not re.search(r"@[A-Za-z0-9_]", out)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("`|<!-> \nab"), max_size=40))
def test_md_code_property(value):
    out = md_code(value)
    fence = re.match(r"`+", out).group(0)
    inner = out[len(fence) : -len(fence)]
    assert not re.search(f"(?<!`){fence}(?!`)", inner)
    assert "|" not in out and "\n" not in out and "<!--" not in out


cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm renders as GitHub does")


def render(markdown: str) -> str:
    from cmarkgfm.cmark import Options

    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


@pytest.mark.parametrize("value", HOSTILE)
def test_rendered_by_github_flavoured_markdown_it_is_one_plain_paragraph(value):
    html = render(f"x {md_text(value)}")
    assert re.findall(r"</?([a-z]+)", html) in (["p", "p"], []), html
    html = render(f"| h | i |\n|---|---|\n| {md_code(value)} | {md_text(value)} |")
    assert "<a " not in html and "<img" not in html and "<script" not in html
    assert html.count("<td>") == 2, html  # nothing split or added a table cell
