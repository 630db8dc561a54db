"""HTML from outside (mail, chat, API) is sanitised on the way in, with an allow-list.

"cid:" URLs pass the allow-list: they name a part of the same email (an inline
image) and a browser never fetches them, so one left as it is shows a broken
image, not a request to anyone. At display time `link_cid_images` points those
that name a known attachment at its download URL.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable, Mapping
from urllib.parse import unquote

import nh3

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
        "details", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
        "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
        "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "col": {"span"},
    "*": {"dir", "lang"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_BLOCK_END = re.compile(r"</(p|div|li|tr|h[1-6]|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_BLANK_LINES = re.compile(r"\n{3,}")


def sanitize_html(value: str) -> str:
    if not value.strip():
        return ""
    return _clean(value, attribute_filter=_absolute_urls_only)


def _absolute_urls_only(tag: str, attribute: str, url: str) -> str | None:
    """Drop relative URLs: in HTML from outside they could only point at this site, where an
    image would be fetched with the reader's session. The allow-list checks the schemes."""
    if attribute not in ("src", "href"):
        return url
    return url if _SCHEME.match(url.strip()) else None


def link_cid_images(value: str, urls: Mapping[str, str]) -> tuple[str, set[str]]:
    """Point each `<img src="cid:ID">` whose ID is in `urls` at that URL.

    Returns the HTML and the Content-IDs it now shows. `urls` maps a Content-ID
    to a path on this site; anything else is refused, so the rewrite can only
    ever add a same-site image. The HTML goes through the sanitiser again with
    the rewrite as its attribute filter, never through string surgery, so text
    that merely looks like `src="cid:..."` is left alone. A cid: URL that names
    no attachment, and a cid: link, keep their URL: broken, but fetching nothing.
    """
    for target in urls.values():
        # "//host" and "/\\host" are other sites to a browser.
        if not target.startswith("/") or target.startswith(("//", "/\\")):
            raise ValueError(f"not a path on this site: {target!r}")
    if "cid:" not in value.lower():
        return value, set()
    shown: set[str] = set()

    def swap(tag: str, attribute: str, url: str) -> str:
        if tag != "img" or attribute != "src" or url[:4].lower() != "cid:":
            return url
        content_id = _content_id(url[4:], urls)
        if content_id is None:
            return url
        shown.add(content_id)
        return urls[content_id]

    return _clean(value, attribute_filter=swap), shown


def _content_id(reference: str, known: Mapping[str, str]) -> str | None:
    """The Content-ID a cid: URL names; RFC 2392 URL-encodes it, most mail clients do not."""
    for spelling in (reference, unquote(reference)):
        candidate = spelling.strip().strip("<>")
        if candidate in known:
            return candidate
    return None


def _clean(
    value: str, attribute_filter: Callable[[str, str, str], str | None] | None = None
) -> str:
    return nh3.clean(
        value,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=attribute_filter,
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def html_to_text(value: str) -> str:
    """A readable plain-text version of sanitised HTML, for search and previews."""
    text = _BLOCK_END.sub("\n", value)
    text = _TAG.sub("", text)
    text = html_lib.unescape(text)
    lines = [line.strip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
