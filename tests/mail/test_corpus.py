"""Every message of the corpus parses to what expected.json says a person reads in it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from frontdesk.mail.parse import ParsedMessage, Unparseable, parse_message

CORPUS = Path(__file__).with_name("corpus")
FILES = sorted(path.name for path in CORPUS.glob("*.eml"))
# Checked by key; a key test_corpus does not know fails the test, so no expectation is ignored.
KNOWN_KEYS = {
    "subject", "subject_length", "sender", "sender_name", "visible", "hidden", "text_has",
    "text_lacks", "html_has", "html_lacks", "html_visible", "html_hidden", "attachments",
    "attachment_has", "content_types", "declared_types", "inline", "automated",
    "auto_submitted", "precedence", "list_id", "return_path", "flags", "bounce", "message_id",
    "in_reply_to", "references_count", "references_first", "references_last", "date", "to", "cc",
    "reply_to", "key_prefix", "same_key_as", "different_key_from", "unparseable",
}  # fmt: skip


@cache
def expectations() -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = json.loads(
        (CORPUS / "expected.json").read_text(encoding="utf-8")
    )
    return loaded


@cache
def parsed(name: str) -> ParsedMessage:
    return parse_message((CORPUS / name).read_bytes())


def test_corpus_holds_at_least_80_messages_each_with_an_expectation() -> None:
    assert len(FILES) >= 80
    assert set(FILES) == set(expectations()), "every .eml needs an entry in expected.json"


def test_corpus_files_match_their_generator() -> None:
    from tests.mail import make_corpus

    make_corpus.build()
    stale = [name for name, raw in make_corpus.CASES.items() if (CORPUS / name).read_bytes() != raw]
    assert stale == [], "run tests/mail/make_corpus.py after changing a case"


def test_corpus_covers_each_quote_style_in_each_language() -> None:
    for client in ("gmail-reply", "outlook-reply", "apple-mail-reply"):
        for language in ("en", "pl", "cs", "ru", "id", "th"):
            assert f"{client}-{language}.eml" in FILES


@pytest.mark.parametrize("name", FILES)
def test_corpus_message_parses_as_expected(name: str) -> None:
    expected = expectations()[name]
    assert set(expected) <= KNOWN_KEYS, set(expected) - KNOWN_KEYS
    if "unparseable" in expected:
        with pytest.raises(Unparseable, match=expected["unparseable"]):
            parse_message((CORPUS / name).read_bytes())
        return
    message = parsed(name)
    _check_headers(message, expected)
    _check_body(message, expected)
    _check_attachments(message, expected)
    _check_flags(message, expected)
    _check_keys(message, expected)


def _check_headers(message: ParsedMessage, expected: dict[str, Any]) -> None:
    if "subject" in expected:
        assert message.subject == expected["subject"]
    if "subject_length" in expected:
        assert len(message.subject) == expected["subject_length"]
    if "sender" in expected:
        assert (message.from_.address if message.from_ else "") == expected["sender"]
    if "sender_name" in expected:
        assert message.from_ is not None
        assert message.from_.name == expected["sender_name"]
    if "message_id" in expected:
        assert message.message_id == expected["message_id"]
    if "in_reply_to" in expected:
        value = expected["in_reply_to"]
        assert message.in_reply_to if value is True else message.in_reply_to == value
    if "references_count" in expected:
        assert len(message.references) == expected["references_count"]
        assert message.references[0] == expected["references_first"]
        assert message.references[-1] == expected["references_last"]
    if "date" in expected:
        got = message.date.isoformat() if message.date else None
        assert got == expected["date"]
    for field in ("to", "cc", "reply_to"):
        if field in expected:
            assert [a.address for a in getattr(message, field)] == expected[field]


def _check_body(message: ParsedMessage, expected: dict[str, Any]) -> None:
    for snippet in expected.get("visible", []):
        assert snippet in message.visible_text, (snippet, message.visible_text)
    for snippet in expected.get("hidden", []):
        assert snippet not in message.visible_text, (snippet, message.visible_text)
        assert snippet in message.text, "hidden text must stay in the full text"
    for snippet in expected.get("text_has", []):
        assert snippet in message.text
    for snippet in expected.get("text_lacks", []):
        assert snippet not in message.text
    for snippet in expected.get("html_has", []):
        assert snippet in message.html, (snippet, message.html)
    for snippet in expected.get("html_lacks", []):
        assert snippet not in message.html.lower(), (snippet, message.html)
    for snippet in expected.get("html_visible", []):
        assert snippet in message.visible_html, (snippet, message.visible_html)
    for snippet in expected.get("html_hidden", []):
        assert snippet not in message.visible_html, (snippet, message.visible_html)
        assert snippet in message.html


def _check_attachments(message: ParsedMessage, expected: dict[str, Any]) -> None:
    names = [attachment.filename for attachment in message.attachments]
    by_name = {attachment.filename: attachment for attachment in message.attachments}
    if "attachments" in expected:
        assert names == expected["attachments"]
    else:
        assert names == []
    for name, snippet in expected.get("attachment_has", {}).items():
        assert snippet.encode() in by_name[name].content
    for name, content_type in expected.get("content_types", {}).items():
        assert by_name[name].content_type == content_type
    for name, content_type in expected.get("declared_types", {}).items():
        assert by_name[name].declared_content_type == content_type
    if "inline" in expected:
        inline = [a.content_id for a in message.attachments if a.inline]
        assert inline == expected["inline"]


def _check_flags(message: ParsedMessage, expected: dict[str, Any]) -> None:
    assert message.is_automated == expected.get("automated", False)
    for field in ("auto_submitted", "precedence", "list_id", "return_path"):
        if field in expected:
            assert getattr(message, field) == expected[field]
    for field, value in expected.get("flags", {}).items():
        assert getattr(message, field) == value
    if "bounce" in expected and expected["bounce"] is None:
        assert not message.is_bounce
    elif "bounce" in expected:
        assert message.bounce is not None
        for field, value in expected["bounce"].items():
            assert getattr(message.bounce, field) == value, field
    else:
        assert not message.is_bounce


def _check_keys(message: ParsedMessage, expected: dict[str, Any]) -> None:
    assert message.idempotency_key.startswith(expected.get("key_prefix", "m:"))
    if "same_key_as" in expected:
        assert message.idempotency_key == parsed(expected["same_key_as"]).idempotency_key
    if "different_key_from" in expected:
        assert message.idempotency_key != parsed(expected["different_key_from"]).idempotency_key


def test_idempotency_keys_differ_between_distinct_messages() -> None:
    keys: dict[str, str] = {}
    for name in FILES:
        expected = expectations()[name]
        if "unparseable" in expected or "same_key_as" in expected:
            continue
        key = parsed(name).idempotency_key
        assert key not in keys, (name, keys.get(key))
        keys[key] = name
