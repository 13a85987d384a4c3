"""Angle brackets in commit subjects and PR titles are shown, not stripped: "Add Vec<T>
support" must read "Add Vec<T> support" on GitHub, with no tag, comment or autolink made."""

from __future__ import annotations

import pytest

from scorer.formats.mdsafe import md_text

cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm renders as GitHub does")


def gfm(markdown: str) -> str:
    from cmarkgfm.cmark import Options

    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def test_generic_type_is_entities_in_the_markdown():
    assert md_text("Add Vec<T> support") == "Add Vec&lt;T&gt; support"


@pytest.mark.parametrize(
    ("value", "html"),
    [
        ("Add Vec<T> support", "<p>Add Vec&lt;T&gt; support</p>\n"),
        ("<b>bold</b>", "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"),
        ("<!-- scorer:pr-comment -->", "<p>&lt;!-- scorer:pr-comment --&gt;</p>\n"),
        ("<https://evil.example>", "<p>&lt;https\u200b://evil.example&gt;</p>\n"),
        ("a &lt; b & c", "<p>a &amp;lt; b &amp; c</p>\n"),
        ("x -> y <= z", "<p>x -&gt; y &lt;= z</p>\n"),
    ],
)
def test_rendered_text_is_the_value(value, html):
    assert gfm(md_text(value)) == html


def test_inside_a_table_cell_and_an_html_block():
    cell = gfm(f"| Subject |\n|---|\n| {md_text('Add Vec<T> support')} |")
    assert "<td>Add Vec&lt;T&gt; support</td>" in cell
    # A line that starts an HTML block is passed through raw: backslash escapes would show,
    # entities are decoded by the browser.
    block = gfm(f"<details><summary>{md_text('Vec<T>')}</summary></details>")
    assert "<summary>Vec&lt;T&gt;</summary>" in block
