"""parse_message: limits on hostile mail, charsets, headers, attachments and idempotency keys.

The corpus (test_corpus.py) checks what each kind of real mail parses to; these
tests pin the rules behind it, including the time hostile mail may take.
"""

from __future__ import annotations

import time

import pytest

from frontdesk.mail.charsets import codec_for, decode
from frontdesk.mail.headers import addresses, date, decode_words, message_ids
from frontdesk.mail.parse import ParseLimits, Unparseable, parse_message
from tests.mail.make_corpus import envelope, header_block, huge_html, many_links, multipart, nested
from tests.mail.make_corpus import part as mime_part


def mail(body: bytes, *, subject: str = "Test", message_id: str | None = None) -> bytes:
    return header_block(envelope("t", subject, "jane@example.com", message_id=message_id)) + body


# --- hostile mail ----------------------------------------------------------------------------


def test_twenty_thousand_links_are_cut_within_a_bounded_time() -> None:
    raw = many_links(20_000)
    started = time.perf_counter()
    message = parse_message(raw)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0  # measured about 0.05 s on the 2-core CI machine
    assert message.html.count("<a ") == ParseLimits().max_links
    assert "HTML cut after 2000 links" in message.notes
    assert "Start of the message." in message.visible_text


def test_twenty_thousand_links_finish_in_bounded_time_even_without_a_link_limit() -> None:
    started = time.perf_counter()
    message = parse_message(many_links(20_000), limits=ParseLimits(max_links=10**9))
    assert time.perf_counter() - started < 3.0  # measured about 0.2 s
    assert message.html.count("<a ") == 20_000
    assert 'rel="noopener noreferrer nofollow"' in message.html


def test_megabytes_of_html_are_cut_at_the_limit_and_noted() -> None:
    raw = huge_html(8)
    started = time.perf_counter()
    message = parse_message(raw)
    assert time.perf_counter() - started < 5.0  # measured about 0.7 s for 8 MB
    assert len(message.html) <= ParseLimits().max_html_chars + 1000
    assert any(note.startswith("HTML cut at") for note in message.notes)
    assert message.visible_text.startswith("Start of the message.")


def test_a_smaller_html_limit_cuts_at_a_tag_boundary() -> None:
    html = "<p>" + "word " * 1000 + "</p><p>second</p>"
    message = parse_message(
        mail(mime_part("text/html", html)), limits=ParseLimits(max_html_chars=len(html) - 5)
    )
    assert "second" not in message.html
    assert message.html.endswith("</p>")


def test_message_above_the_size_limit_is_unparseable_with_the_reason() -> None:
    with pytest.raises(Unparseable, match="above the limit of 1000"):
        parse_message(mail(mime_part("text/plain", "x" * 2000)), limits=ParseLimits(max_bytes=1000))


def test_empty_input_is_unparseable() -> None:
    with pytest.raises(Unparseable, match="empty message"):
        parse_message(b"\r\n  \n")


def test_too_many_parts_is_unparseable() -> None:
    body = multipart("mixed", [mime_part("text/plain", f"{n}\n") for n in range(5)], boundary="b")
    with pytest.raises(Unparseable, match="more than 3 parts"):
        parse_message(mail(body), limits=ParseLimits(max_parts=3))


def test_nesting_deeper_than_the_limit_is_unparseable() -> None:
    with pytest.raises(Unparseable, match="nested deeper than 12 levels"):
        parse_message(mail(nested(20)))
    assert parse_message(mail(nested(20)), limits=ParseLimits(max_depth=25)).text == "deep\n"


def test_nesting_too_deep_for_the_parser_is_unparseable_not_a_crash() -> None:
    unlimited = ParseLimits(max_parts=10**6, max_depth=10**6)
    started = time.perf_counter()
    with pytest.raises(Unparseable, match="nesting too deep"):
        parse_message(mail(nested(3000)), limits=unlimited)
    assert time.perf_counter() - started < 10.0  # measured about 2 s
    # With the default limits the same message is refused before parsing.
    started = time.perf_counter()
    with pytest.raises(Unparseable, match="more than 250 parts"):
        parse_message(mail(nested(3000)))
    assert time.perf_counter() - started < 0.5


def test_long_plain_text_is_cut_and_noted() -> None:
    message = parse_message(
        mail(mime_part("text/plain", "line\n" * 1000)), limits=ParseLimits(max_text_chars=100)
    )
    assert len(message.text) == 100
    assert "text cut at 100 characters" in message.notes


# --- bodies ----------------------------------------------------------------------------------


def test_text_is_made_from_html_when_there_is_no_text_part() -> None:
    message = parse_message(mail(mime_part("text/html", "<p>One</p><p>Two &amp; three</p>")))
    assert message.text == "One\nTwo & three"
    assert message.html == "<p>One</p><p>Two &amp; three</p>"


def test_html_is_sanitised_and_cid_images_survive() -> None:
    html = '<p style="x" onclick="y()">Hi<script>bad()</script><img src="cid:a1"></p>'
    message = parse_message(mail(mime_part("text/html", html)))
    assert message.html == '<p>Hi<img src="cid:a1"></p>'


def test_message_without_html_has_empty_html() -> None:
    message = parse_message(mail(mime_part("text/plain", "plain\n")))
    assert message.html == ""
    assert message.visible_html == ""


def test_image_referenced_by_cid_is_inline_even_when_marked_attachment() -> None:
    body = multipart(
        "related",
        [
            mime_part("text/html", '<img src="cid:pic1">'),
            mime_part(
                "image/gif",
                b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
                cte="base64",
                headers=[("Content-ID", "<pic1>"), ("Content-Disposition", "attachment")],
            ),
            mime_part(
                "image/gif",
                b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
                cte="base64",
                headers=[("Content-ID", "<unused>"), ("Content-Disposition", "attachment")],
            ),
        ],
        boundary="r",
    )
    attachments = parse_message(mail(body)).attachments
    assert [(a.content_id, a.inline, a.content_type) for a in attachments] == [
        ("pic1", True, "image/gif"),
        ("unused", False, "image/gif"),
    ]


def test_normal_mail_is_not_automated() -> None:
    message = parse_message(mail(mime_part("text/plain", "Hello\n")))
    assert not message.is_automated
    assert not message.is_bounce


# --- idempotency keys ------------------------------------------------------------------------


def test_idempotency_key_is_message_id_plus_body() -> None:
    first = parse_message(mail(mime_part("text/plain", "A\n"), message_id="<same@x>"))
    again = parse_message(mail(mime_part("text/plain", "A\n"), message_id="<same@x>", subject="B"))
    other_body = parse_message(mail(mime_part("text/plain", "B\n"), message_id="<same@x>"))
    other_id = parse_message(mail(mime_part("text/plain", "A\n"), message_id="<other@x>"))
    assert first.idempotency_key == again.idempotency_key
    assert first.idempotency_key != other_body.idempotency_key
    assert first.idempotency_key != other_id.idempotency_key
    assert first.idempotency_key.startswith("m:")


def test_idempotency_key_without_message_id_hashes_content_not_relay_headers() -> None:
    body = mime_part("text/plain", "A\n")
    base = [h for h in envelope("t", "S", "jane@example.com") if h[0] != "Message-ID"]
    one = parse_message(header_block([("Received", "from a by b"), *base]) + body)
    two = parse_message(header_block([("Received", "from c by d"), ("X-Spam", "no"), *base]) + body)
    changed = [(name, "Other" if name == "Subject" else value) for name, value in base]
    three = parse_message(header_block(changed) + body)
    assert one.message_id == ""
    assert one.idempotency_key == two.idempotency_key
    assert one.idempotency_key != three.idempotency_key
    assert one.idempotency_key.startswith("c:")


# --- charsets and headers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("UTF-8", "utf_8"),
        ("utf8", "utf_8"),
        ('"utf-8"', "utf_8"),
        ("windows1250", "cp1250"),
        ("Windows-1251", "cp1251"),
        ("cp-1250", "cp1250"),
        ("iso8859-2", "iso8859_2"),
        ("latin2", "iso8859_2"),
        ("koi8r", "koi8_r"),
        ("tis-620", "cp874"),
        ("windows-874", "cp874"),
        ("iso-8859-1", "cp1252"),
        ("us-ascii", None),
        ("x-unknown", None),
        ("base64", None),
        ("unicode_escape", None),
    ],
)
def test_charset_labels_map_to_codecs_as_browsers_read_them(label: str, codec: str | None) -> None:
    assert codec_for(label) == codec


def test_decode_falls_back_from_a_wrong_label_and_never_raises() -> None:
    assert decode("Zażółć".encode("cp1250"), "windows-1250") == "Zażółć"
    assert decode("Zażółć".encode(), "x-bogus") == "Zażółć"
    assert decode("“café”".encode("cp1252"), None) == "“café”"
    assert decode(b"ok \xc3\x28", "utf-8") == "ok \ufffd("
    assert decode(b"\x81\x8d", None) == "\ufffd\ufffd"


def test_encoded_words_in_any_charset_are_decoded() -> None:
    value = "=?koi8-r?B?8NLJ18XU?= =?iso-8859-2?Q?=BFo=B3w?= and =?utf-8?q?caf=C3=A9?="
    assert decode_words(value) == "Приветżołw and café"


def test_addresses_survive_commas_in_encoded_names_and_garbage() -> None:
    parsed = addresses('=?utf-8?Q?Nowak,_Jan?= <jan@x.pl>, "Doe, J" <j@d.com>, junk, <<k@e.org>')
    assert [(a.name, a.address) for a in parsed] == [
        ("Nowak, Jan", "jan@x.pl"),
        ("Doe, J", "j@d.com"),
        ("", "k@e.org"),
    ]


def test_dates_are_aware_or_none() -> None:
    parsed = date("Mon, 3 Jun 2024 10:15:00 +0200")
    assert parsed is not None
    assert parsed.utcoffset() is not None
    assert date("not a date") is None
    assert date("Mon, 3 Jun 1800 10:15:00 +0000") is None


def test_references_are_capped_keeping_root_and_newest() -> None:
    refs = message_ids(" ".join(f"<r{n}@x>" for n in range(300)))
    assert len(refs) == 100
    assert refs[0] == "<r0@x>"
    assert refs[-1] == "<r299@x>"
