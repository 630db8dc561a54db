"""HTML from outside keeps its content and loses whatever could act on this site."""

from __future__ import annotations

import pytest

from frontdesk.core.html import sanitize_html


def test_scripts_and_handlers_are_removed_and_text_kept() -> None:
    clean = sanitize_html('<p onclick="x()">Hello<script>alert(1)</script></p>')

    assert clean == "<p>Hello</p>"


@pytest.mark.parametrize(
    "markup",
    [
        '<img src="/api/v1/conversations/1">',
        '<img src="logout/">',
        '<img src="//evil.example/x.png">',
        '<a href="/manage/users/">manage</a>',
        '<a href="javascript:alert(1)">x</a>',
        '<img src="data:image/png;base64,AAAA">',
    ],
)
def test_relative_and_unsafe_urls_are_dropped(markup: str) -> None:
    clean = sanitize_html(markup)

    assert "src=" not in clean
    assert "href=" not in clean


def test_absolute_links_images_and_cid_references_stay() -> None:
    clean = sanitize_html(
        '<a href="https://example.com/a">a</a><img src="https://example.com/i.png">'
        '<img src="cid:logo@example.com"><a href="mailto:x@example.com">m</a>'
    )

    assert 'href="https://example.com/a"' in clean
    assert 'src="https://example.com/i.png"' in clean
    assert 'src="cid:logo@example.com"' in clean
    assert 'href="mailto:x@example.com"' in clean
