"""Inbound mail, from raw bytes to a `ParsedMessage` the intake can store.

A pure function: no database, no settings. Whatever the bytes hold, the result
is either a `ParsedMessage` or an `Unparseable` naming why, which the intake
quarantines with the raw message so that nothing is dropped. `ParseLimits`
bound the time and memory one message may take: above a limit HTML is cut
(and a note says so), structure that cannot be walked safely is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import HeaderRegistry
from email.message import Message
from email.parser import BytesParser, HeaderParser
from typing import Any

import filetype

from frontdesk.core.html import html_to_text, sanitize_html
from frontdesk.mail.charsets import decode
from frontdesk.mail.headers import (
    Address,
    addresses,
    date,
    decode_words,
    first_message_id,
    message_ids,
    raw_text,
)
from frontdesk.mail.quotes import split_quoted, split_quoted_html

__all__ = [
    "Address",
    "Attachment",
    "Bounce",
    "ParseLimits",
    "ParsedMessage",
    "Unparseable",
    "parse_message",
]

MAX_SUBJECT_CHARS = 1000
_STRUCTURE = re.compile(
    rb"^content-type:[ \t]*(?:multipart|message)/", re.IGNORECASE | re.MULTILINE
)
_LINKS = re.compile(r"<(?:a|img|area)\b", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}charset\s*=\s*[\"']?([\w.:-]{1,40})", re.IGNORECASE)
_HEAD = re.compile(r"<head\b", re.IGNORECASE)
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_DAEMONS = frozenset({"mailer-daemon", "postmaster"})
_BULK = frozenset({"bulk", "junk", "list", "auto_reply"})
# Headers a copy of a message keeps whichever mailbox or relay it came through.
_STABLE_HEADERS = ("from", "to", "cc", "subject", "date", "in-reply-to", "references")


class Unparseable(Exception):
    """A message that cannot be parsed safely; the intake keeps it raw in quarantine."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int = 40 * 1024 * 1024
    max_parts: int = 250
    max_depth: int = 12
    # Characters of HTML passed to the sanitiser; beyond it the HTML is cut at a tag.
    max_html_chars: int = 2 * 1024 * 1024
    # Links and images kept in the HTML; the rest of the HTML is cut before the next one.
    max_links: int = 2000
    max_text_chars: int = 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    filename: str
    # What the bytes are when they say so (magic numbers), else what the sender declared.
    content_type: str
    declared_content_type: str
    content: bytes
    content_id: str  # without angle brackets, as "cid:" URLs in the HTML name it
    inline: bool

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class Bounce:
    """What a delivery status notification (RFC 3464) says about the message it returns."""

    original_message_id: str
    recipient: str
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # e.g. 5.1.1
    diagnostic: str

    @property
    def permanent(self) -> bool:
        return self.action == "failed" or self.status.startswith("5")


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str  # "<id@host>", "" when the message has none
    in_reply_to: str
    references: tuple[str, ...]
    subject: str
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    date: dt.datetime | None
    # Loop and noise guards, lower-cased header values ("" when absent).
    auto_submitted: str
    precedence: str
    x_autoreply: bool
    x_autorespond: bool
    list_id: str
    return_path: str
    text: str
    html: str  # sanitised; "" when the message has no HTML
    visible_text: str  # text without quoted history and signature
    visible_html: str
    attachments: tuple[Attachment, ...]
    bounce: Bounce | None
    idempotency_key: str
    notes: tuple[str, ...] = field(default=())

    @property
    def is_bounce(self) -> bool:
        return self.bounce is not None

    @property
    def is_automated(self) -> bool:
        """Sent by a machine (auto-reply, list, bounce): never auto-acknowledge it."""
        sender = self.from_.address.split("@", 1)[0].lower() if self.from_ else ""
        return bool(
            self.auto_submitted not in ("", "no")
            or self.precedence in _BULK
            or self.x_autoreply
            or self.x_autorespond
            or self.list_id
            or self.is_bounce
            or sender in _DAEMONS
        )


def parse_message(raw: bytes, *, limits: ParseLimits = ParseLimits()) -> ParsedMessage:  # noqa: B008 - frozen
    """Parse one message; raises `Unparseable` for what must go to quarantine."""
    if not raw.strip():
        raise Unparseable("empty message")
    if len(raw) > limits.max_bytes:
        raise Unparseable(f"message is {len(raw)} bytes, above the limit of {limits.max_bytes}")
    if len(_STRUCTURE.findall(raw)) > 4 * limits.max_parts:
        raise Unparseable(f"more than {limits.max_parts} parts")
    try:
        return _parse(raw, limits, policy.default.clone(header_factory=_HeaderCache()))
    except Unparseable:
        raise
    except Exception as error:
        # policy.default raises on some broken headers where compat32 reads them as text.
        first_error = error
    try:
        return _parse(raw, limits, policy.compat32)
    except Unparseable:
        raise
    except Exception as error:
        raise Unparseable(f"cannot parse: {first_error!r}; then {error!r}") from error


def parse_many(raws: Sequence[bytes]) -> list[ParsedMessage | str]:
    """`parse_message` for each of `raws`; the reason in place of one that cannot be parsed.

    For a worker process that parses a batch while the intake writes the one before.
    """
    parsed: list[ParsedMessage | str] = []
    for raw in raws:
        try:
            parsed.append(parse_message(raw))
        except Unparseable as error:
            parsed.append(error.reason)
    return parsed


def _parse(raw: bytes, limits: ParseLimits, mail_policy: policy.Policy) -> ParsedMessage:
    try:
        message = BytesParser(policy=mail_policy).parsebytes(raw)
    except RecursionError:
        raise Unparseable("nesting too deep to parse") from None
    _check_structure(message, limits)
    headers = _Headers(message)
    walk = _Walk(limits)
    walk.visit(message, depth=0)

    notes = list(walk.notes)
    text = "\n\n".join(piece for piece in walk.texts if piece.strip())
    raw_html = _limit_html("\n".join(walk.htmls), limits, notes)
    html = sanitize_html(raw_html)
    visible_html = sanitize_html(split_quoted_html(raw_html)[0]) if html else ""
    if len(text) > limits.max_text_chars:
        text = text[: limits.max_text_chars]
        notes.append(f"text cut at {limits.max_text_chars} characters")
    if text.strip() or not html:
        visible_text = split_quoted(text)[0]
    else:
        # Text made from HTML has lost the markers that show where the quote starts.
        text, visible_text = html_to_text(html), html_to_text(visible_html)

    message_id = first_message_id(headers.first("message-id"))
    return_path = headers.first("return-path")
    return ParsedMessage(
        message_id=message_id,
        in_reply_to=first_message_id(headers.first("in-reply-to")),
        references=message_ids(headers.first("references")),
        subject=decode_words(headers.first("subject"))[:MAX_SUBJECT_CHARS],
        from_=next(iter(addresses(headers.first("from"))), None),
        to=addresses(headers.joined("to")),
        cc=addresses(headers.joined("cc")),
        reply_to=addresses(headers.first("reply-to")),
        date=date(headers.first("date")),
        auto_submitted=headers.first("auto-submitted").split(";", 1)[0].strip().lower(),
        precedence=headers.first("precedence").strip().lower(),
        x_autoreply=headers.has("x-autoreply"),
        x_autorespond=headers.has("x-autorespond"),
        list_id=decode_words(headers.first("list-id")),
        return_path=next(iter(addresses(return_path)), Address("", "")).address,
        text=text,
        html=html,
        visible_text=visible_text,
        visible_html=visible_html,
        attachments=walk.attachments(raw_html),
        bounce=walk.bounce(),
        idempotency_key=idempotency_key(raw, message_id, headers),
        notes=tuple(notes),
    )


def idempotency_key(raw: bytes, message_id: str, headers: _Headers) -> str:
    """The same message twice (two mailboxes, a CC, a re-poll) gets the same key.

    Message-ID plus a hash of the body; without a Message-ID, a hash of the
    headers a copy keeps (not Received and the like, which each relay adds) and
    the body. Line endings are normalised: IMAP speaks CRLF, maildir LF.
    """
    body = hashlib.sha256(_body_bytes(raw)).hexdigest()
    if message_id:
        seed = f"{message_id}\n{body}"
        return "m:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()
    stable = "\n".join(
        f"{name}:{' '.join(headers.joined(name).split())}" for name in _STABLE_HEADERS
    )
    return "c:" + hashlib.sha256(f"{stable}\n{body}".encode()).hexdigest()


def _body_bytes(raw: bytes) -> bytes:
    ends = [index for index in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if index >= 0]
    body = raw[min(ends) :] if ends else b""
    return body.replace(b"\r\n", b"\n").strip()


# The registry policy.default makes for itself: the same header classes.
_HEADER_REGISTRY = HeaderRegistry()


class _HeaderCache:
    """policy.default's header factory, parsing each header once per message.

    With policy.default, every `get()` of a header parses it anew, and the stdlib
    parser and `get_content_type()` ask for each part's Content-Type about ten times:
    that was 40 % of the parse. Parsed headers are immutable, so one per
    (name, value) can be handed out each time; the cache lives as long as one parse.
    """

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, str], Any] = {}

    def __getitem__(self, name: str) -> Any:
        return _HEADER_REGISTRY[name]

    def __call__(self, name: str, value: str) -> Any:
        key = (name, value)
        found = self._parsed.get(key)
        if found is None:
            found = self._parsed[key] = _HEADER_REGISTRY(name, value)
        return found


def _check_structure(message: Message, limits: ParseLimits) -> None:
    """Count parts and depth without recursion, before anything walks the tree."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    parts = 0
    while stack:
        part, depth = stack.pop()
        parts += 1
        if parts > limits.max_parts:
            raise Unparseable(f"more than {limits.max_parts} parts")
        if depth > limits.max_depth:
            raise Unparseable(f"parts nested deeper than {limits.max_depth} levels")
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((child, depth + 1) for child in children if isinstance(child, Message))


def _limit_html(value: str, limits: ParseLimits, notes: list[str]) -> str:
    head = _HEAD.search(value, 0, 100_000)
    if head:
        end = _HEAD_END.search(value, head.end())
        if end:
            # <title> and the like would otherwise show up as text after sanitising.
            value = value[: head.start()] + value[end.end() :]
    if len(value) > limits.max_html_chars:
        cut = value.rfind("<", 0, limits.max_html_chars)
        value = value[: cut if cut > 0 else limits.max_html_chars]
        notes.append(f"HTML cut at {limits.max_html_chars} characters")
    for count, link in enumerate(_LINKS.finditer(value)):
        if count == limits.max_links:
            value = value[: link.start()]
            notes.append(f"HTML cut after {limits.max_links} links")
            break
    return value


class _Headers:
    """Raw header values by lower-cased name, decoded to text, first occurrence first."""

    def __init__(self, message: Message) -> None:
        self._values: dict[str, list[str]] = {}
        hint = _body_charset(message)
        for name, value in message.raw_items():
            self._values.setdefault(name.strip().lower(), []).append(raw_text(str(value), hint))

    def first(self, name: str) -> str:
        values = self._values.get(name)
        return values[0] if values else ""

    def joined(self, name: str) -> str:
        return ", ".join(self._values.get(name, []))

    def has(self, name: str) -> bool:
        return name in self._values


@dataclass
class _Found:
    filename: str
    declared: str
    content: bytes
    content_id: str
    disposition: str


class _Walk:
    """Collects body text, HTML, attachments and DSN fields from a message tree."""

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.notes: list[str] = []
        self.found: list[_Found] = []
        self.dsn: dict[str, str] = {}
        self.original_message_id = ""

    def visit(self, part: Message, *, depth: int) -> tuple[list[str], list[str]]:
        """Collect `part`; returns the text and HTML pieces that make up its body."""
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            self._attach_message(part)
            return [], []
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            self._read_dsn(part)
            return [], []
        if ctype == "text/rfc822-headers":
            self._read_returned_headers(_payload(part))
        if part.is_multipart():
            return self._visit_multipart(part, ctype, depth)
        disposition = part.get_content_disposition() or ""
        filename = _filename(part)
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            text = _text_of(part)
            if ctype == "text/plain":
                self.texts.append(text)
                return [text], []
            self.htmls.append(text)
            return [], [text]
        self._attach(part, ctype, filename, disposition)
        return [], []

    def _visit_multipart(
        self, part: Message, ctype: str, depth: int
    ) -> tuple[list[str], list[str]]:
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if ctype != "multipart/alternative":
            texts: list[str] = []
            htmls: list[str] = []
            for child in children:
                child_texts, child_htmls = self.visit(child, depth=depth + 1)
                texts += child_texts
                htmls += child_htmls
            return texts, htmls
        # Alternatives say one thing several ways: keep the richest plain and HTML versions.
        marks = (len(self.texts), len(self.htmls))
        best_text: list[str] = []
        best_html: list[str] = []
        for child in children:
            child_texts, child_htmls = self.visit(child, depth=depth + 1)
            if child_texts:
                best_text = child_texts
            if child_htmls:
                best_html = child_htmls
        self.texts[marks[0] :] = best_text
        self.htmls[marks[1] :] = best_html
        return best_text, best_html

    def _attach(self, part: Message, ctype: str, filename: str, disposition: str) -> None:
        content = _payload(part)
        content_id = raw_text(str(part.get("content-id", "") or "")).strip().strip("<>").strip()
        if not filename:
            filename = _default_name(ctype, len(self.found) + 1)
        self.found.append(_Found(filename, ctype, content, content_id[:250], disposition))

    def _attach_message(self, part: Message) -> None:
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            content = _message_bytes(inner[0])
            subject = decode_words(raw_text(str(inner[0].get("subject", "") or "")))
        else:
            content, subject = _payload(part), ""
        filename = _filename(part) or _safe_filename(f"{subject or 'message'}.eml")
        if not filename.lower().endswith(".eml"):
            filename += ".eml"
        disposition = part.get_content_disposition() or ""
        self.found.append(_Found(filename, "message/rfc822", content, "", disposition))
        if not self.original_message_id and isinstance(inner, list) and inner:
            returned = inner[0]
            if isinstance(returned, Message):
                self.original_message_id = first_message_id(
                    raw_text(str(returned.get("message-id", "") or ""))
                )

    def _read_dsn(self, part: Message) -> None:
        blocks = part.get_payload()
        if isinstance(blocks, list):
            content = b"".join(
                _message_bytes(block) for block in blocks if isinstance(block, Message)
            )
        else:
            content = _payload(part)
            text = decode(content, "utf-8")
            blocks = [HeaderParser().parsestr(block) for block in re.split(r"\n\s*\n", text)]
        self.found.append(_Found("delivery-status.txt", "message/delivery-status", content, "", ""))
        for block in blocks:
            if not isinstance(block, Message):
                continue
            for name in ("final-recipient", "action", "status", "diagnostic-code"):
                value = raw_text(str(block.get(name, "") or ""))
                if value and not self.dsn.get(name):
                    self.dsn[name] = value

    def _read_returned_headers(self, content: bytes) -> None:
        returned = HeaderParser().parsestr(decode(content, "utf-8"))
        message_id = first_message_id(raw_text(str(returned.get("message-id", "") or "")))
        if message_id:
            self.original_message_id = message_id

    def attachments(self, raw_html: str) -> tuple[Attachment, ...]:
        result = []
        for found in self.found:
            referenced = bool(found.content_id) and f"cid:{found.content_id}" in raw_html
            inline = bool(found.content_id) and (referenced or found.disposition != "attachment")
            result.append(
                Attachment(
                    filename=found.filename,
                    content_type=_sniff(found.content) or found.declared,
                    declared_content_type=found.declared,
                    content=found.content,
                    content_id=found.content_id,
                    inline=inline,
                )
            )
        return tuple(result)

    def bounce(self) -> Bounce | None:
        if not self.dsn:
            return None
        diagnostic = self.dsn.get("diagnostic-code", "")
        kind, sep, rest = diagnostic.partition(";")
        if sep and kind.strip().lower() in ("smtp", "x-postfix", "x-unix"):
            diagnostic = rest.strip()
        recipient = self.dsn.get("final-recipient", "")
        return Bounce(
            original_message_id=self.original_message_id,
            recipient=recipient.partition(";")[2].strip() if ";" in recipient else recipient,
            action=self.dsn.get("action", "").lower(),
            status=self.dsn.get("status", "").split(" ", 1)[0],
            diagnostic=diagnostic,
        )


def _body_charset(message: Message) -> str:
    """The charset of the first text part, which old clients also used for raw 8-bit headers."""
    stack = [message]
    for _ in range(20):
        if not stack:
            break
        part = stack.pop(0)
        if part.get_content_maintype() == "text":
            return _charset(part)
        children = part.get_payload() if part.is_multipart() else []
        stack.extend(child for child in children if isinstance(child, Message))
    return ""


def _payload(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    value = part.get_payload()
    return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else b""


def _text_of(part: Message) -> str:
    content = _payload(part)
    charset = _charset(part)
    if not charset and part.get_content_type() == "text/html":
        meta = _META_CHARSET.search(content[:4096])
        charset = meta.group(1).decode("ascii") if meta else ""
    return decode(content, charset).replace("\r\n", "\n").replace("\x00", "")


def _charset(part: Message) -> str:
    value = part.get_param("charset")
    if isinstance(value, tuple):  # RFC 2231 form: (charset, language, value)
        value = value[2]
    return str(value or "")


def _filename(part: Message) -> str:
    name = part.get_filename() or ""
    return _safe_filename(decode_words(raw_text(name))) if name else ""


def _safe_filename(name: str) -> str:
    name = re.split(r"[/\\]", name)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[:190]}.{extension[:9]}" if dot and len(extension) < 10 else name[:200]
    return name


def _default_name(ctype: str, number: int) -> str:
    if ctype == "text/calendar":
        return "invite.ics"
    if ctype == "application/ms-tnef":
        return "winmail.dat"
    if ctype in ("message/delivery-status", "message/global-delivery-status"):
        return "delivery-status.txt"
    if ctype == "text/rfc822-headers":
        return "returned-headers.txt"
    extension = mimetypes.guess_extension(ctype, strict=False) or ".bin"
    return f"attachment-{number}{extension}"


def _sniff(content: bytes) -> str:
    kind = filetype.guess(content[:8192]) if content else None
    return kind.mime if kind else ""


def _message_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes(policy=policy.compat32)
    except (UnicodeError, LookupError, ValueError, TypeError):
        return message.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")
