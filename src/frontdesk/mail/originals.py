"""A kept original mail, described for people: its headers, its whole text and its parts.

The conversation shows a message as taken in (quoted history and signature
hidden, HTML sanitised); this is the other view, of everything that arrived.
Headers are read from the raw text with `compat32`, which never raises, so a
mail that could not be parsed (a quarantined one) still shows who sent what.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32

from frontdesk.mail.headers import date, decode_words, raw_text
from frontdesk.mail.parse import ParseLimits, Unparseable, parse_message

# Headers are at the top; a mail whose headers run past this is broken, and the rest is noise.
HEADER_BYTES = 256 * 1024
SUMMARY_HEADERS = ("From", "To", "Cc", "Date", "Subject", "Message-ID")


@dataclass(frozen=True)
class Header:
    name: str
    value: str


@dataclass(frozen=True)
class Part:
    """One node of the MIME tree; `size` is of the decoded content, 0 for a container."""

    depth: int
    content_type: str
    filename: str
    disposition: str
    content_id: str
    charset: str
    size: int


@dataclass(frozen=True)
class Original:
    headers: tuple[Header, ...]
    date: dt.datetime | None
    text: str
    parts: tuple[Part, ...]
    # Why the text could not be read ("" when it could); the raw download works regardless.
    problem: str = ""
    notes: tuple[str, ...] = field(default=())


def header_summary(raw: bytes) -> tuple[Header, ...]:
    """From, To, Cc, Date, Subject and Message-ID as received, decoded; absent ones left out."""
    parsed = BytesHeaderParser(policy=compat32).parsebytes(raw[:HEADER_BYTES])
    found = []
    for name in SUMMARY_HEADERS:
        values = [decode_words(raw_text(str(value))) for value in parsed.get_all(name, [])]
        value = ", ".join(v for v in values if v)
        if value:
            found.append(Header(name, value))
    return tuple(found)


def describe_original(raw: bytes) -> Original:
    """Everything a person needs to read the mail as it arrived."""
    headers = header_summary(raw)
    sent = next((date(h.value) for h in headers if h.name == "Date"), None)
    parts = list_parts(raw)
    try:
        parsed = parse_message(raw)
    except Unparseable as error:
        return Original(headers=headers, date=sent, text="", parts=parts, problem=error.reason)
    return Original(headers=headers, date=sent, text=parsed.text, parts=parts, notes=parsed.notes)


def list_parts(raw: bytes, *, limit: int = ParseLimits().max_parts) -> tuple[Part, ...]:
    """The MIME tree in order, depth first, cut after `limit` parts."""
    try:
        message = BytesParser(policy=compat32).parsebytes(raw)
    except RecursionError:
        return ()
    found: list[Part] = []
    _walk(message, 0, found, limit, ParseLimits().max_depth)
    return tuple(found)


def _walk(part: Message, depth: int, found: list[Part], limit: int, max_depth: int) -> None:
    if len(found) >= limit:
        return
    container = part.is_multipart()
    found.append(
        Part(
            depth=depth,
            content_type=part.get_content_type(),
            filename=decode_words(raw_text(part.get_filename() or "")),
            disposition=part.get_content_disposition() or "",
            content_id=raw_text(str(part.get("content-id", "") or "")).strip("<>"),
            charset=str(part.get_content_charset() or ""),
            size=0 if container else _decoded_size(part),
        )
    )
    if container and depth < max_depth:
        for child in part.get_payload():
            if isinstance(child, Message):
                _walk(child, depth + 1, found, limit, max_depth)


def _decoded_size(part: Message) -> int:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return len(payload)
    value = part.get_payload()
    return len(value.encode("utf-8", "surrogateescape")) if isinstance(value, str) else 0
