"""Writes the inbound-mail corpus in tests/mail/corpus and its expectations file.

Each case is written the way the client it imitates writes it, with real
transfer encodings (base64, quoted-printable, 8bit) and RFC 2047 encoded words
in real charsets, which is why the files are generated rather than typed. The
expectations next to each case are written by hand, not computed by the parser.

Run `python tests/mail/make_corpus.py` after changing a case; the big hostile
messages (megabytes of HTML, 20,000 links) are not stored but built by the
functions at the end, which the tests call.
"""

from __future__ import annotations

import base64
import json
import quopri
import struct
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).with_name("corpus")
SUPPORT = "Frontdesk Support <support@frontdesk.example>"
DATE = "Mon, 03 Jun 2024 10:15:00 +0200"

Header = tuple[str, str | bytes]
CASES: dict[str, bytes] = {}
EXPECTED: dict[str, dict[str, Any]] = {}


# --- building blocks -------------------------------------------------------------------------


def py(charset: str) -> str:
    """Python's name for a charset label mail uses (Python lacks "windows-874")."""
    return {"windows-874": "cp874"}.get(charset, charset)


def encode(content: bytes, cte: str) -> bytes:
    if cte == "base64":
        return base64.encodebytes(content)
    if cte == "quoted-printable":
        return quopri.encodestring(content)
    return content if content.endswith(b"\n") else content + b"\n"


def part(
    ctype: str,
    content: bytes | str,
    *,
    charset: str = "utf-8",
    cte: str = "quoted-printable",
    headers: Sequence[Header] = (),
) -> bytes:
    """One MIME part (headers and encoded body); a str is encoded in `charset`."""
    if isinstance(content, str):
        content = content.encode(py(charset))
        ctype = f"{ctype}; charset={charset}" if charset else ctype
    head: list[Header] = [("Content-Type", ctype)]
    if cte:
        head.append(("Content-Transfer-Encoding", cte))
    return header_block([*head, *headers]) + b"\n" + encode(content, cte)


def multipart(subtype: str, parts: Sequence[bytes], *, boundary: str, params: str = "") -> bytes:
    body = b"This is a multi-part message in MIME format.\n\n"
    for item in parts:
        body += f"--{boundary}\n".encode() + item + b"\n"
    body += f"--{boundary}--\n".encode()
    ctype = f'multipart/{subtype}; boundary="{boundary}"{params}'
    return header_block([("Content-Type", ctype)]) + b"\n" + body


def header_block(headers: Sequence[Header]) -> bytes:
    out = b""
    for name, value in headers:
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        out += name.encode("ascii") + b": " + raw + b"\n"
    return out


def ew(text: str, charset: str = "utf-8", kind: str = "B") -> str:
    """`text` as RFC 2047 encoded words, split so each stays under 76 characters."""
    words: list[str] = []
    chunk = ""
    for char in text:
        if len((chunk + char).encode(py(charset))) > 30:
            words.append(_word(chunk, charset, kind))
            chunk = ""
        chunk += char
    if chunk:
        words.append(_word(chunk, charset, kind))
    return "\n ".join(words)


def _word(text: str, charset: str, kind: str) -> str:
    data = text.encode(py(charset))
    if kind == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    encoded = "".join(
        chr(byte) if chr(byte).isalnum() and byte < 128 else "_" if byte == 32 else f"={byte:02X}"
        for byte in data
    )
    return f"=?{charset}?Q?{encoded}?="


def envelope(
    name: str,
    subject: str | bytes,
    sender: str | bytes,
    *,
    to: str = SUPPORT,
    date: str | None = DATE,
    message_id: str | None = None,
    extra: Sequence[Header] = (),
) -> list[Header]:
    headers: list[Header] = [
        ("Received", "from mx.example.net (mx.example.net [192.0.2.10]) by mail.frontdesk.example"),
        ("From", sender),
        ("To", to),
        ("Subject", subject),
    ]
    if date is not None:
        headers.append(("Date", date))
    headers.append(
        ("Message-ID", message_id if message_id is not None else f"<{name}@mail.example>")
    )
    headers.append(("MIME-Version", "1.0"))
    return [*headers, *extra]


def add(name: str, headers: Sequence[Header], body: bytes, /, **expected: Any) -> None:
    """Register a case: `expected` keys are checked by test_corpus.py."""
    assert name not in CASES, name
    CASES[f"{name}.eml"] = header_block(headers) + body
    EXPECTED[f"{name}.eml"] = expected


def simple(
    name: str, subject_header: str, from_header: str, content: bytes, /, **expected: Any
) -> None:
    add(name, envelope(name, subject_header, from_header), content, **expected)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x66\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TNEF = b"\x78\x9f\x3e\x22\x01\x00\x01\x06\x90\x08\x00\x04\x00\x00\x00\x00\x00\x01\x00\x01\x00"
ICS = (
    "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:Microsoft Exchange Server 2010\r\n"
    "VERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Onboarding call\r\n"
    "DTSTART:20240610T090000Z\r\nDTEND:20240610T093000Z\r\n"
    "UID:040000008200E00074C5B7101A82E008@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- structures ------------------------------------------------------------------------------


def structures() -> None:
    simple(
        "plain-text-only",
        "Order 1042 has not arrived",
        "Jane Doe <jane@example.com>",
        part("text/plain", "Hello,\n\nmy order 1042 has not arrived yet.\n\nJane\n", cte="7bit"),
        subject="Order 1042 has not arrived",
        sender="jane@example.com",
        visible=["my order 1042 has not arrived yet."],
    )
    simple(
        "html-only",
        "Password reset does not work",
        "Jane Doe <jane@example.com>",
        part(
            "text/html",
            "<html><head><title>Internal title</title><style>p{color:red}</style></head>"
            "<body><p>The reset link says <b>expired</b>.</p><p>Second paragraph.</p>"
            "</body></html>",
        ),
        subject="Password reset does not work",
        sender="jane@example.com",
        visible=["The reset link says expired.", "Second paragraph."],
        text_lacks=["Internal title", "color:red"],
        html_has=["<b>expired</b>"],
    )
    simple(
        "alternative-text-html",
        "Question about shipping",
        "Jane Doe <jane@example.com>",
        multipart(
            "alternative",
            [
                part("text/plain", "Do you ship to Norway?\n"),
                part("text/html", "<div>Do you ship to <i>Norway</i>?</div>"),
            ],
            boundary="alt-1",
        ),
        subject="Question about shipping",
        sender="jane@example.com",
        visible=["Do you ship to Norway?"],
        html_has=["<i>Norway</i>"],
    )
    simple(
        "nested-related-inline-image",
        "Screenshot of the error",
        "Jane Doe <jane@example.com>",
        multipart(
            "mixed",
            [
                multipart(
                    "alternative",
                    [
                        part("text/plain", "See the screenshot below.\n[image: error.png]\n"),
                        multipart(
                            "related",
                            [
                                part(
                                    "text/html",
                                    '<div>See the screenshot below.<br><img src="cid:ii_error01"'
                                    ' alt="error.png"></div>',
                                ),
                                part(
                                    'image/png; name="error.png"',
                                    png(),
                                    cte="base64",
                                    headers=[
                                        ("Content-ID", "<ii_error01>"),
                                        ("Content-Disposition", 'inline; filename="error.png"'),
                                    ],
                                ),
                            ],
                            boundary="rel-1",
                        ),
                    ],
                    boundary="alt-2",
                ),
                part(
                    'application/pdf; name="log.pdf"',
                    PDF,
                    cte="base64",
                    headers=[("Content-Disposition", 'attachment; filename="log.pdf"')],
                ),
            ],
            boundary="mix-1",
        ),
        subject="Screenshot of the error",
        sender="jane@example.com",
        visible=["See the screenshot below."],
        attachments=["error.png", "log.pdf"],
        inline=["ii_error01"],
        content_types={"error.png": "image/png", "log.pdf": "application/pdf"},
        html_has=['src="cid:ii_error01"'],
    )
    simple(
        "inline-image-without-disposition",
        "Logo",
        "Jane Doe <jane@example.com>",
        multipart(
            "related",
            [
                part("text/html", '<p>Our logo: <img src="cid:logo@example.com"></p>'),
                part(
                    "image/png",
                    png(),
                    cte="base64",
                    headers=[("Content-ID", "<logo@example.com>")],
                ),
            ],
            boundary="rel-2",
        ),
        subject="Logo",
        sender="jane@example.com",
        visible=["Our logo:"],
        attachments=["attachment-1.png"],
        inline=["logo@example.com"],
    )
    simple(
        "mixed-text-pdf-attachment",
        "Invoice attached",
        "Jane Doe <jane@example.com>",
        multipart(
            "mixed",
            [
                part("text/plain", "Invoice attached.\n"),
                part(
                    'application/pdf; name="invoice-2024-05.pdf"',
                    PDF,
                    cte="base64",
                    headers=[("Content-Disposition", 'attachment; filename="invoice-2024-05.pdf"')],
                ),
            ],
            boundary="mix-2",
        ),
        subject="Invoice attached",
        sender="jane@example.com",
        visible=["Invoice attached."],
        attachments=["invoice-2024-05.pdf"],
        content_types={"invoice-2024-05.pdf": "application/pdf"},
    )
    simple(
        "apple-mail-inline-pdf-between-text",
        "Contract",
        "Jane Doe <jane@example.com>",
        multipart(
            "mixed",
            [
                part("text/plain", "Here is the contract:\n"),
                part(
                    'application/pdf; name="contract.pdf"',
                    PDF,
                    cte="base64",
                    headers=[("Content-Disposition", 'inline; filename="contract.pdf"')],
                ),
                part("text/plain", "\nPlease sign page 3.\n"),
            ],
            boundary="Apple-Mail=_0C5E1B6A",
        ),
        subject="Contract",
        sender="jane@example.com",
        visible=["Here is the contract:", "Please sign page 3."],
        attachments=["contract.pdf"],
        inline=[],
    )
    forwarded = (
        header_block(
            [
                ("From", "Supplier <orders@supplier.example>"),
                ("To", "jane@example.com"),
                ("Subject", "Your order has shipped"),
                ("Date", "Fri, 31 May 2024 08:00:00 +0000"),
                ("Message-ID", "<shipped-77@supplier.example>"),
                ("Content-Type", "text/plain; charset=utf-8"),
            ]
        )
        + b"\nTracking number: ZX-9912\n"
    )
    simple(
        "forwarded-rfc822",
        "Fwd: Your order has shipped",
        "Jane Doe <jane@example.com>",
        multipart(
            "mixed",
            [
                part("text/plain", "See the forwarded message.\n"),
                header_block(
                    [
                        ("Content-Type", 'message/rfc822; name="Your order has shipped.eml"'),
                        ("Content-Disposition", "attachment"),
                    ]
                )
                + b"\n"
                + forwarded,
            ],
            boundary="mix-3",
        ),
        subject="Fwd: Your order has shipped",
        sender="jane@example.com",
        visible=["See the forwarded message."],
        text_lacks=["ZX-9912"],
        attachments=["Your order has shipped.eml"],
        attachment_has={"Your order has shipped.eml": "ZX-9912"},
    )
    simple(
        "forwarded-rfc822-unnamed",
        "Fwd: invoice question",
        "Jane Doe <jane@example.com>",
        multipart(
            "mixed",
            [
                part("text/plain", "Forwarding as attachment.\n"),
                header_block([("Content-Type", "message/rfc822")]) + b"\n" + forwarded,
            ],
            boundary="mix-3b",
        ),
        subject="Fwd: invoice question",
        sender="jane@example.com",
        visible=["Forwarding as attachment."],
        attachments=["Your order has shipped.eml"],
    )
    simple(
        "calendar-invite",
        "Invitation: Onboarding call",
        "Jane Doe <jane@example.com>",
        multipart(
            "mixed",
            [
                multipart(
                    "alternative",
                    [
                        part("text/plain", "Onboarding call, Monday 10 June 09:00 UTC.\n"),
                        part("text/html", "<p>Onboarding call, Monday 10 June 09:00 UTC.</p>"),
                        part("text/calendar", ICS, cte="7bit", charset="utf-8").replace(
                            b"charset=utf-8", b"charset=utf-8; method=REQUEST"
                        ),
                    ],
                    boundary="alt-cal",
                ),
                part(
                    'application/ics; name="meeting.ics"',
                    ICS.encode(),
                    cte="base64",
                    headers=[("Content-Disposition", 'attachment; filename="meeting.ics"')],
                ),
            ],
            boundary="mix-cal",
        ),
        subject="Invitation: Onboarding call",
        sender="jane@example.com",
        visible=["Onboarding call, Monday 10 June 09:00 UTC."],
        attachments=["invite.ics", "meeting.ics"],
        content_types={"invite.ics": "text/calendar", "meeting.ics": "application/ics"},
    )
    simple(
        "winmail-dat",
        "Quote request",
        "Jan Kowalski <jan@example.pl>",
        multipart(
            "mixed",
            [
                part("text/plain", "Please see the attached quote request.\n"),
                part(
                    'application/ms-tnef; name="winmail.dat"',
                    TNEF,
                    cte="base64",
                    headers=[("Content-Disposition", 'attachment; filename="winmail.dat"')],
                ),
            ],
            boundary="mix-tnef",
        ),
        subject="Quote request",
        sender="jan@example.pl",
        visible=["Please see the attached quote request."],
        attachments=["winmail.dat"],
        content_types={"winmail.dat": "application/ms-tnef"},
    )
    simple(
        "attachment-rfc2231-filename",
        "Faktura",
        "Jan Kowalski <jan@example.pl>",
        multipart(
            "mixed",
            [
                part("text/plain", "W załączniku faktura.\n"),
                part(
                    "application/pdf",
                    PDF,
                    cte="base64",
                    headers=[
                        (
                            "Content-Disposition",
                            "attachment;\n filename*=utf-8''"
                            "Faktura%20za%20maj%20%C5%BC%C3%B3%C5%82w.pdf",
                        )
                    ],
                ),
            ],
            boundary="mix-2231",
        ),
        subject="Faktura",
        sender="jan@example.pl",
        visible=["W załączniku faktura."],
        attachments=["Faktura za maj żółw.pdf"],
    )
    simple(
        "attachment-encoded-word-filename",
        "Smlouva",
        "Jana Nováková <jana@example.cz>",
        multipart(
            "mixed",
            [
                part("text/plain", "Posílám smlouvu.\n"),
                part(
                    f'application/pdf; name="{_word("Smlouva č. 7.pdf", "utf-8", "B")}"',
                    PDF,
                    cte="base64",
                    headers=[
                        (
                            "Content-Disposition",
                            f'attachment; filename="{_word("Smlouva č. 7.pdf", "utf-8", "B")}"',
                        )
                    ],
                ),
            ],
            boundary="mix-ew",
        ),
        subject="Smlouva",
        sender="jana@example.cz",
        visible=["Posílám smlouvu."],
        attachments=["Smlouva č. 7.pdf"],
    )
    simple(
        "attachment-octet-stream-sniffed-png",
        "Photo of the damage",
        "Jane Doe <jane@example.com>",
        multipart(
            "mixed",
            [
                part("text/plain", "Photo attached.\n"),
                part(
                    'application/octet-stream; name="IMG_0042"',
                    png(),
                    cte="base64",
                    headers=[("Content-Disposition", 'attachment; filename="IMG_0042"')],
                ),
            ],
            boundary="mix-sniff",
        ),
        subject="Photo of the damage",
        sender="jane@example.com",
        visible=["Photo attached."],
        attachments=["IMG_0042"],
        content_types={"IMG_0042": "image/png"},
        declared_types={"IMG_0042": "application/octet-stream"},
    )
    simple(
        "attachment-path-traversal-name",
        "Log file",
        "Jane Doe <jane@example.com>",
        multipart(
            "mixed",
            [
                part("text/plain", "Log attached.\n"),
                part(
                    "application/octet-stream",
                    b"log line 1\nlog line 2\n",
                    cte="base64",
                    headers=[("Content-Disposition", 'attachment; filename="../../etc/passwd"')],
                ),
                part(
                    "application/octet-stream",
                    b"x",
                    cte="base64",
                    headers=[
                        ("Content-Disposition", r'attachment; filename="C:\\Windows\\evil.bat"')
                    ],
                ),
            ],
            boundary="mix-path",
        ),
        subject="Log file",
        sender="jane@example.com",
        visible=["Log attached."],
        attachments=["passwd", "evil.bat"],
    )
    simple(
        "text-attachment-with-filename",
        "Config file",
        "Jane Doe <jane@example.com>",
        multipart(
            "mixed",
            [
                part("text/plain", "My config is attached.\n"),
                part(
                    'text/plain; name="settings.txt"',
                    b"timeout=30\nretries=5\n",
                    cte="7bit",
                    headers=[("Content-Disposition", 'inline; filename="settings.txt"')],
                ),
            ],
            boundary="mix-txt",
        ),
        subject="Config file",
        sender="jane@example.com",
        visible=["My config is attached."],
        text_lacks=["retries=5"],
        attachments=["settings.txt"],
    )
    simple(
        "multipart-missing-final-boundary",
        "Truncated mail",
        "Jane Doe <jane@example.com>",
        multipart(
            "mixed",
            [part("text/plain", "The body before the cut.\n")],
            boundary="mix-cut",
        ).replace(b"--mix-cut--\n", b""),
        subject="Truncated mail",
        sender="jane@example.com",
        visible=["The body before the cut."],
    )
    simple(
        "multipart-alternative-html-first",
        "Odd ordering",
        "Jane Doe <jane@example.com>",
        multipart(
            "alternative",
            [
                part("text/html", "<p>Rich <b>version</b></p>"),
                part("text/plain", "Plain version\n"),
            ],
            boundary="alt-odd",
        ),
        subject="Odd ordering",
        sender="jane@example.com",
        visible=["Plain version"],
        html_has=["<b>version</b>"],
    )
    simple(
        "no-mime-version-plain",
        "Old client",
        "old@example.org",
        b"\nA message without MIME headers.\n",
        subject="Old client",
        sender="old@example.org",
        visible=["A message without MIME headers."],
    )


# --- charsets --------------------------------------------------------------------------------


def charsets() -> None:
    cases: list[tuple[str, str, str, str, str]] = [
        # name, charset, transfer encoding, text, subject
        (
            "charset-windows-1250-plain",
            "windows-1250",
            "8bit",
            "Zażółć gęślą jaźń, Škoda",
            "Zamówienie",
        ),
        (
            "charset-iso-8859-2-qp",
            "iso-8859-2",
            "quoted-printable",
            "Dzień dobry, proszę o zwrot.",
            "Zwrot",
        ),
        ("charset-koi8r-plain", "koi8-r", "8bit", "Здравствуйте, заказ не пришёл.", "Заказ"),
        (
            "charset-windows-1251-base64",
            "windows-1251",
            "base64",
            "Добрый день, счёт оплачен.",
            "Счёт",
        ),
        ("charset-tis620-plain", "tis-620", "8bit", "สวัสดีครับ สินค้ายังไม่มาถึง", "สินค้า"),
        ("charset-windows-874-base64", "windows-874", "base64", "ขอบคุณ “มาก” ครับ", "ขอบคุณ"),
        (
            "charset-iso-8859-1-qp",
            "iso-8859-1",
            "quoted-printable",
            "Grüße aus Köln, café",
            "Grüße",
        ),
        ("charset-utf8-base64", "utf-8", "base64", "Zażółć — Здравствуйте — สวัสดี", "Mix"),
        ("charset-gb2312-base64", "gb2312", "base64", "您好，订单没有到。", "订单"),
    ]
    for name, charset, cte, text, subject in cases:
        simple(
            name,
            ew(subject, charset if charset != "tis-620" else "tis-620"),
            f"{ew('Klient', charset, 'Q')} <client@example.net>",
            part("text/plain", text + "\n", charset=charset, cte=cte),
            subject=subject,
            sender="client@example.net",
            visible=[text],
        )
    thai_html = "<p>ขอบคุณ “มาก” ครับ</p>"
    simple(
        "charset-windows-874-html",
        ew("เรื่องสินค้า", "windows-874"),
        "somchai@example.co.th",
        part("text/html", thai_html, charset="windows-874", cte="quoted-printable"),
        subject="เรื่องสินค้า",
        sender="somchai@example.co.th",
        visible=["ขอบคุณ “มาก” ครับ"],
    )
    simple(
        "charset-html-meta-only",
        "Meta charset",
        "ivan@example.ru",
        part(
            "text/html",
            '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
            "</head><body><p>Привет из Москвы</p></body></html>".encode("cp1251"),
            cte="8bit",
        ),
        subject="Meta charset",
        sender="ivan@example.ru",
        visible=["Привет из Москвы"],
    )
    simple(
        "broken-utf8",
        "Broken bytes",
        "jane@example.com",
        part(
            "text/plain", b"Caf\xc3\xa9 ok, then broken \xc3\x28 and \xff\xfe end.\n", cte="8bit"
        ).replace(b"text/plain", b"text/plain; charset=utf-8"),
        subject="Broken bytes",
        sender="jane@example.com",
        visible=["Café ok, then broken", "end."],
        text_has=["\ufffd"],
    )
    simple(
        "charset-unknown-name-utf8-bytes",
        "Unknown charset",
        "jane@example.com",
        part("text/plain", "Łódź żółw\n".encode(), cte="8bit").replace(
            b"text/plain", b"text/plain; charset=x-unknown-8bit"
        ),
        subject="Unknown charset",
        sender="jane@example.com",
        visible=["Łódź żółw"],
    )
    simple(
        "charset-misspelt-utf8",
        "Misspelt utf8",
        "jane@example.com",
        part("text/plain", "Zażółć\n".encode(), cte="8bit").replace(
            b"text/plain", b'text/plain; charset="UTF8"'
        ),
        subject="Misspelt utf8",
        sender="jane@example.com",
        visible=["Zażółć"],
    )
    simple(
        "charset-misspelt-windows1250",
        "Misspelt cp1250",
        "jan@example.pl",
        part("text/plain", "Zażółć gęślą\n".encode("cp1250"), cte="8bit").replace(
            b"text/plain", b"text/plain; charset=windows1250"
        ),
        subject="Misspelt cp1250",
        sender="jan@example.pl",
        visible=["Zażółć gęślą"],
    )
    simple(
        "charset-missing-8bit-utf8",
        "No charset, UTF-8 bytes",
        "jane@example.com",
        part("text/plain", "Naïve café ☕\n".encode(), cte="8bit"),
        subject="No charset, UTF-8 bytes",
        sender="jane@example.com",
        visible=["Naïve café ☕"],
    )
    simple(
        "charset-missing-8bit-cp1252",
        "No charset, windows-1252 bytes",
        "jane@example.com",
        part("text/plain", "“Quoted” café – dash\n".encode("cp1252"), cte="8bit"),
        subject="No charset, windows-1252 bytes",
        sender="jane@example.com",
        visible=["“Quoted” café – dash"],
    )
    simple(
        "charset-us-ascii-declared-8bit",
        "ASCII label, UTF-8 bytes",
        "jane@example.com",
        part("text/plain", "Zażółć\n".encode(), cte="8bit").replace(
            b"text/plain", b"text/plain; charset=us-ascii"
        ),
        subject="ASCII label, UTF-8 bytes",
        sender="jane@example.com",
        visible=["Zażółć"],
    )
    add(
        "header-8bit-raw-utf8-subject",
        envelope(
            "header-8bit-raw-utf8-subject",
            "Zamówienie nr 5 – pilne".encode(),
            "Łukasz Żak <lukasz@example.pl>".encode(),
        ),
        part("text/plain", "Treść.\n", cte="8bit"),
        subject="Zamówienie nr 5 – pilne",
        sender="lukasz@example.pl",
        sender_name="Łukasz Żak",
        visible=["Treść."],
    )
    add(
        "header-8bit-raw-cp1251-subject",
        envelope(
            "header-8bit-raw-cp1251-subject",
            "Заказ".encode("cp1251"),
            "ivan@example.ru",
        ),
        part("text/plain", "Текст.\n", charset="windows-1251", cte="8bit"),
        subject="Заказ",
        sender="ivan@example.ru",
        visible=["Текст."],
    )
    simple(
        "header-encoded-words-mixed-charsets",
        f"{_word('Zamówienie', 'iso-8859-2', 'Q')} {_word('Заказ', 'koi8-r', 'B')} plain"
        f" {_word('สินค้า', 'tis-620', 'B')}",
        "jane@example.com",
        part("text/plain", "Body.\n"),
        subject="ZamówienieЗаказ plain สินค้า",
        sender="jane@example.com",
        visible=["Body."],
    )
    simple(
        "header-encoded-word-comma-in-name",
        "Name with a comma",
        f"{_word('Nowak, Jan', 'utf-8', 'Q')} <jan.nowak@example.pl>",
        part("text/plain", "Body.\n"),
        subject="Name with a comma",
        sender="jan.nowak@example.pl",
        sender_name="Nowak, Jan",
        visible=["Body."],
    )
    simple(
        "header-encoded-word-unknown-charset",
        "=?x-bogus?Q?Caf=C3=A9_menu?=",
        "jane@example.com",
        part("text/plain", "Body.\n"),
        subject="Café menu",
        sender="jane@example.com",
        visible=["Body."],
    )


# --- replies: quote styles per client and language -------------------------------------------

LANGUAGES: dict[str, dict[str, str]] = {
    "en": {
        "name": "Jane Doe",
        "address": "jane@example.com",
        "subject": "Invoice for May",
        "new": "Thanks, the new invoice arrived.",
        "old": "Could you check the invoice for May?",
        "charset": "us-ascii",
        "gmail": "On Mon, Jun 3, 2024 at 10:15 AM {who} wrote:",
        "apple": "On 3 Jun 2024, at 10:15, {who} wrote:",
        "outlook": "From|Sent|To|Subject|Monday, June 3, 2024 10:15 AM",
        "original": "-----Original Message-----",
    },
    "pl": {
        "name": "Jan Kowalski",
        "address": "jan@example.pl",
        "subject": "Faktura za maj",
        "new": "Dziękuję, faktura dotarła.",
        "old": "Czy możecie sprawdzić fakturę za maj?",
        "charset": "iso-8859-2",
        "gmail": "W dniu pon., 3 cze 2024 o 10:15 {who} napisał(a):",
        "apple": "Wiadomość napisana przez {who} w dniu 03.06.2024, o godz. 10:15:",
        "outlook": "Od|Wysłano|Do|Temat|poniedziałek, 3 czerwca 2024 10:15",
        "original": "-----Wiadomość oryginalna-----",
    },
    "cs": {
        "name": "Jana Nováková",
        "address": "jana@example.cz",
        "subject": "Faktura za květen",
        "new": "Děkuji, faktura dorazila.",
        "old": "Můžete zkontrolovat fakturu za květen?",
        "charset": "windows-1250",
        "gmail": "Dne po 3. 6. 2024 10:15 uživatel {who} napsal:",
        "apple": "Dne 3. 6. 2024 v 10:15, {who} napsal(a):",
        "outlook": "Od|Odesláno|Komu|Předmět|pondělí 3. června 2024 10:15",
        "original": "-----Původní zpráva-----",
    },
    "ru": {
        "name": "Иван Петров",
        "address": "ivan@example.ru",
        "subject": "Счёт за май",
        "new": "Спасибо, счёт получен.",
        "old": "Проверьте, пожалуйста, счёт за май.",
        "charset": "koi8-r",
        "gmail": "пн, 3 июн. 2024 г. в 10:15, {who}:",
        "apple": "3 июня 2024 г., в 10:15, {who} написал(а):",
        "outlook": "От|Отправлено|Кому|Тема|3 июня 2024 г. 10:15",
        "original": "-----Исходное сообщение-----",
    },
    "id": {
        "name": "Budi Santoso",
        "address": "budi@example.co.id",
        "subject": "Faktur bulan Mei",
        "new": "Terima kasih, faktur sudah diterima.",
        "old": "Bisakah Anda memeriksa faktur bulan Mei?",
        "charset": "us-ascii",
        "gmail": "Pada tanggal Sen, 3 Jun 2024 pukul 10.15 {who} menulis:",
        "apple": "Pada 3 Jun 2024, pukul 10.15, {who} menulis:",
        "outlook": "Dari|Dikirim|Kepada|Perihal|Senin, 03 Juni 2024 10.15",
        "original": "-----Pesan Asli-----",
    },
    "th": {
        "name": "สมชาย ใจดี",
        "address": "somchai@example.co.th",
        "subject": "ใบแจ้งหนี้เดือนพฤษภาคม",
        "new": "ขอบคุณครับ ได้รับใบแจ้งหนี้แล้ว",
        "old": "ช่วยตรวจสอบใบแจ้งหนี้เดือนพฤษภาคมได้ไหมครับ",
        "charset": "windows-874",
        "gmail": "เมื่อ จ. 3 มิ.ย. 2024 เวลา 10:15 {who} เขียนว่า:",
        "apple": "เมื่อ 3 มิ.ย. 2567 เวลา 10:15 {who} เขียนว่า:",
        "outlook": "จาก|ส่ง|ถึง|เรื่อง|3 มิถุนายน 2567 10:15",
        "original": "-----ข้อความต้นฉบับ-----",
    },
}
AGENT = "Frontdesk Support <support@frontdesk.example>"


def reply_expect(lang: dict[str, str], **more: Any) -> dict[str, Any]:
    return {
        "subject": f"Re: {lang['subject']}",
        "sender": lang["address"],
        "visible": [lang["new"]],
        "hidden": [lang["old"]],
        **more,
    }


def replies() -> None:
    for code, lang in LANGUAGES.items():
        sender = f"{ew(lang['name'], 'utf-8', 'Q')} <{lang['address']}>"
        subject = ew(f"Re: {lang['subject']}", "utf-8")
        gmail_line = lang["gmail"].format(who=AGENT)
        gmail_text = f"{lang['new']}\n\n{gmail_line}\n\n> {lang['old']}\n>\n"
        gmail_html = (
            f'<div dir="ltr">{lang["new"]}</div><br><div class="gmail_quote">'
            f'<div dir="ltr" class="gmail_attr">{escape(gmail_line)}<br></div>'
            '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid'
            f' rgb(204,204,204);padding-left:1ex"><div>{lang["old"]}</div></blockquote></div>'
        )
        add(
            f"gmail-reply-{code}",
            envelope(
                f"gmail-reply-{code}",
                subject,
                sender,
                extra=[
                    ("In-Reply-To", f"<agent-{code}@frontdesk.example>"),
                    ("References", f"<agent-{code}@frontdesk.example>"),
                ],
            ),
            multipart(
                "alternative",
                [part("text/plain", gmail_text), part("text/html", gmail_html)],
                boundary=f"000000000000gmail{code}",
            ),
            **reply_expect(
                lang, html_visible=[lang["new"]], html_hidden=[lang["old"]], in_reply_to=True
            ),
        )

        labels = lang["outlook"].split("|")
        charset = lang["charset"]
        block = (
            f"{labels[0]}: {AGENT}\n{labels[1]}: {labels[4]}\n"
            f"{labels[2]}: {lang['name']} <{lang['address']}>\n{labels[3]}: {lang['subject']}\n"
        )
        outlook_text = f"{lang['new']}\n\n{'_' * 32}\n{block}\n{lang['old']}\n"
        html_block = "<br>".join(
            f"<b>{line.split(':', 1)[0]}:</b>{escape(line.split(':', 1)[1])}"
            for line in block.strip().split("\n")
        )
        if code in ("en", "pl", "cs"):
            outlook_html = (
                '<html><head><meta name="Generator" content="Microsoft Word 15"></head><body>'
                f'<div class="WordSection1"><p class="MsoNormal">{lang["new"]}<o:p></o:p></p>'
                '<p class="MsoNormal"><o:p>&nbsp;</o:p></p><div><div style="border:none;'
                'border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal">'
                f"{html_block}</p></div></div>"
                f'<p class="MsoNormal">{lang["old"]}</p></div></body></html>'
            )
        else:
            outlook_html = (
                '<html><body><div dir="ltr"><div style="font-family:Calibri">'
                f"{lang['new']}</div></div>"
                '<div id="appendonsend"></div><hr style="display:inline-block;width:98%">'
                f'<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri">{html_block}</font></div>'
                f"<div>{lang['old']}</div></body></html>"
            )
        text_charset = charset if charset != "us-ascii" else "utf-8"
        add(
            f"outlook-reply-{code}",
            envelope(
                f"outlook-reply-{code}",
                ew(f"RE: {lang['subject']}", text_charset),
                f"{ew(lang['name'], text_charset, 'Q')} <{lang['address']}>",
                extra=[("Thread-Index", "AQHatZ0rS1w8p0kRr0S7Xn3tH1jzYQ==")],
            ),
            multipart(
                "alternative",
                [
                    part("text/plain", outlook_text, charset=text_charset),
                    part("text/html", outlook_html, charset=text_charset, cte="base64"),
                ],
                boundary=f"_000_outlook{code}_",
            ),
            **reply_expect(
                lang,
                subject=f"RE: {lang['subject']}",
                html_visible=[lang["new"]],
                html_hidden=[lang["old"]],
            ),
        )

        apple_line = lang["apple"].format(who=f"{lang['name']} <{lang['address']}>")
        apple_text = f"{lang['new']}\n\n> {apple_line}\n> \n> {lang['old']}\n\n"
        apple_html = (
            '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8">'
            f'</head><body dir="auto"><div dir="ltr">{lang["new"]}</div><div dir="ltr"><br>'
            f'<blockquote type="cite">{escape(apple_line)}<br><br></blockquote></div>'
            f'<blockquote type="cite"><div dir="ltr">{lang["old"]}</div></blockquote></body></html>'
        )
        add(
            f"apple-mail-reply-{code}",
            envelope(
                f"apple-mail-reply-{code}",
                subject,
                sender,
                extra=[("X-Mailer", "iPhone Mail (21F90)")],
            ),
            multipart(
                "alternative",
                [
                    part("text/plain", apple_text),
                    part("text/html", apple_html),
                ],
                boundary=f"Apple-Mail-{code}-4D2F",
            ),
            **reply_expect(lang, html_visible=[lang["new"]], html_hidden=[lang["old"]]),
        )

    for code in ("en", "pl", "ru"):
        lang = LANGUAGES[code]
        text = (
            f"{lang['new']}\n\n{lang['original']}\nFrom: {AGENT}\nSent: {DATE}\n\n{lang['old']}\n"
        )
        simple(
            f"outlook-original-message-{code}",
            ew(f"RE: {lang['subject']}"),
            f"{ew(lang['name'], 'utf-8', 'Q')} <{lang['address']}>",
            part("text/plain", text),
            **reply_expect(lang, subject=f"RE: {lang['subject']}"),
        )

    more_plain: list[tuple[str, str, str, str]] = [
        (
            "thunderbird-reply-cs",
            "cs",
            "Dne 03.06.2024 v 10:15 Frontdesk Support napsal(a):",
            "",
        ),
        ("thunderbird-reply-ru", "ru", "03.06.2024 10:15, Frontdesk Support пишет:", ""),
        ("thunderbird-reply-pl", "pl", "W dniu 3.06.2024 o 10:15, Frontdesk Support pisze:", ""),
        ("thunderbird-reply-en", "en", "On 6/3/24 10:15 AM, Frontdesk Support wrote:", ""),
    ]
    for name, code, line, _ in more_plain:
        lang = LANGUAGES[code]
        text = f"{lang['new']}\n\n{line}\n> {lang['old']}\n"
        simple(
            name,
            ew(f"Re: {lang['subject']}"),
            f"{ew(lang['name'], 'utf-8', 'Q')} <{lang['address']}>",
            part("text/plain", text, charset="utf-8"),
            **reply_expect(lang),
        )

    lang = LANGUAGES["en"]
    simple(
        "gmail-attribution-wrapped",
        "Re: Invoice for May",
        "Jane Doe <jane@example.com>",
        part(
            "text/plain",
            "Thanks, the new invoice arrived.\n\nOn Mon, Jun 3, 2024 at 10:15 AM Frontdesk Support"
            " Team <\nsupport@frontdesk.example> wrote:\n\n"
            "> Could you check the invoice for May?\n",
        ),
        **reply_expect(lang),
    )
    simple(
        "thunderbird-html-moz-cite",
        "Re: Invoice for May",
        "Jane Doe <jane@example.com>",
        part(
            "text/html",
            "<html><body><p>Thanks, the new invoice arrived.</p>"
            '<div class="moz-cite-prefix">On 6/3/24 10:15 AM, Frontdesk Support wrote:<br></div>'
            '<blockquote type="cite" cite="mid:agent-1@frontdesk.example">'
            "<p>Could you check the invoice for May?</p></blockquote></body></html>",
        ),
        **reply_expect(lang, html_visible=[lang["new"]], html_hidden=[lang["old"]]),
    )
    simple(
        "signature-dash-dash",
        "Delivery address",
        "Jane Doe <jane@example.com>",
        part(
            "text/plain",
            "Please deliver to the side entrance.\n\n-- \nJane Doe\nHead of Purchasing\n",
        ),
        subject="Delivery address",
        sender="jane@example.com",
        visible=["Please deliver to the side entrance."],
        hidden=["Head of Purchasing"],
    )
    simple(
        "mobile-signature-sent-from-iphone",
        "Quick question",
        "Jane Doe <jane@example.com>",
        part("text/plain", "Is the shop open on Sunday?\n\nSent from my iPhone\n"),
        subject="Quick question",
        sender="jane@example.com",
        visible=["Is the shop open on Sunday?"],
        hidden=["Sent from my iPhone"],
    )
    simple(
        "mobile-signature-pl",
        "Pytanie",
        "jan@example.pl",
        part("text/plain", "Czy sklep jest otwarty w niedzielę?\n\nWysłane z iPhone'a\n"),
        subject="Pytanie",
        sender="jan@example.pl",
        visible=["Czy sklep jest otwarty w niedzielę?"],
        hidden=["Wysłane z iPhone'a"],
    )
    simple(
        "interleaved-reply",
        "Re: Three questions",
        "Jane Doe <jane@example.com>",
        part(
            "text/plain",
            "> 1. Which size?\nLarge.\n\n> 2. Which colour?\nBlue.\n\n> 3. When?\nFriday.\n",
        ),
        subject="Re: Three questions",
        sender="jane@example.com",
        visible=["> 1. Which size?", "Large.", "Blue.", "Friday."],
    )
    simple(
        "quote-only-message",
        "Re: Invoice for May",
        "Jane Doe <jane@example.com>",
        part("text/plain", "> Could you check the invoice for May?\n> Thanks\n"),
        subject="Re: Invoice for May",
        sender="jane@example.com",
        visible=["> Could you check the invoice for May?"],
    )
    simple(
        "body-mentions-wrote-without-quote",
        "Feedback",
        "Jane Doe <jane@example.com>",
        part(
            "text/plain",
            "On Monday my colleague wrote:\nthe parcel was damaged.\nPlease call me.\n",
        ),
        subject="Feedback",
        sender="jane@example.com",
        visible=["the parcel was damaged.", "Please call me."],
    )
    simple(
        "gmail-html-signature",
        "Opening hours",
        "Jane Doe <jane@example.com>",
        part(
            "text/html",
            '<div dir="ltr">When do you open?<br clear="all"><br>'
            '<span class="gmail_signature_prefix">-- </span><br>'
            '<div dir="ltr" class="gmail_signature">Jane Doe | ACME Purchasing</div>'
            "</div>",
        ),
        subject="Opening hours",
        sender="jane@example.com",
        visible=["When do you open?"],
        hidden=["ACME Purchasing"],
        html_visible=["When do you open?"],
        html_hidden=["ACME Purchasing"],
    )


# --- auto-replies, lists and bounces ---------------------------------------------------------


def noise() -> None:
    def auto(name: str, extra: Sequence[Header], text: str, sender: str, **expected: Any) -> None:
        add(
            name,
            envelope(name, "Automatic reply: Invoice for May", sender, extra=extra),
            part("text/plain", text),
            subject="Automatic reply: Invoice for May",
            sender=sender.rsplit("<", maxsplit=1)[-1].rstrip(">"),
            visible=[text.strip().split("\n")[0]],
            **expected,
        )

    auto(
        "auto-reply-auto-submitted",
        [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")],
        "I am out of the office until 10 June.\n",
        "Jane Doe <jane@example.com>",
        automated=True,
        auto_submitted="auto-replied",
    )
    auto(
        "auto-reply-auto-generated",
        [("Auto-Submitted", "auto-generated; owner-email=jane@example.com")],
        "Your message was received.\n",
        "robot@example.com",
        automated=True,
        auto_submitted="auto-generated",
    )
    auto(
        "auto-reply-x-autoreply",
        [("X-Autoreply", "yes")],
        "Thank you for your email.\n",
        "jane@example.com",
        automated=True,
        flags={"x_autoreply": True},
    )
    auto(
        "auto-reply-x-autorespond",
        [("X-Autorespond", "Thank you")],
        "We will answer soon.\n",
        "jane@example.com",
        automated=True,
        flags={"x_autorespond": True},
    )
    auto(
        "auto-reply-precedence-auto-reply",
        [("Precedence", "auto_reply")],
        "Vacation message.\n",
        "jane@example.com",
        automated=True,
        precedence="auto_reply",
    )
    auto(
        "auto-submitted-no-is-human",
        [("Auto-Submitted", "no")],
        "Written by a person.\n",
        "jane@example.com",
        automated=False,
        auto_submitted="no",
    )
    add(
        "outlook-out-of-office-pl",
        envelope(
            "outlook-out-of-office-pl",
            ew("Odpowiedź automatyczna: Faktura za maj", "iso-8859-2", "Q"),
            "Jan Kowalski <jan@example.pl>",
            extra=[("Auto-Submitted", "auto-replied"), ("X-MS-Exchange-Inbox-Rules-Loop", "x")],
        ),
        part("text/plain", "Jestem na urlopie do 10 czerwca.\n", charset="iso-8859-2"),
        subject="Odpowiedź automatyczna: Faktura za maj",
        sender="jan@example.pl",
        visible=["Jestem na urlopie do 10 czerwca."],
        automated=True,
    )
    add(
        "list-precedence-bulk",
        envelope(
            "list-precedence-bulk",
            "Our June newsletter",
            "News <news@shop.example>",
            extra=[("Precedence", "bulk"), ("List-Unsubscribe", "<mailto:unsub@shop.example>")],
        ),
        part("text/plain", "New products this month.\n"),
        subject="Our June newsletter",
        sender="news@shop.example",
        visible=["New products this month."],
        automated=True,
        precedence="bulk",
    )
    add(
        "list-precedence-junk",
        envelope(
            "list-precedence-junk",
            "Cheap offer",
            "offers@spam.example",
            extra=[("Precedence", "junk")],
        ),
        part("text/plain", "Buy now.\n"),
        subject="Cheap offer",
        sender="offers@spam.example",
        visible=["Buy now."],
        automated=True,
        precedence="junk",
    )
    add(
        "list-id-mailing-list",
        envelope(
            "list-id-mailing-list",
            "[users] Release 2.0",
            "Maintainer <dev@lists.example.org>",
            extra=[
                ("List-Id", "Users of Example <users.lists.example.org>"),
                ("Precedence", "list"),
            ],
        ),
        part("text/plain", "Release 2.0 is out.\n"),
        subject="[users] Release 2.0",
        sender="dev@lists.example.org",
        visible=["Release 2.0 is out."],
        automated=True,
        list_id="Users of Example <users.lists.example.org>",
    )
    add(
        "mailer-daemon-plain-bounce",
        envelope(
            "mailer-daemon-plain-bounce",
            "Undelivered Mail Returned to Sender",
            "MAILER-DAEMON@mx.example.net (Mail Delivery System)",
            extra=[("Return-Path", "<>")],
        ),
        part(
            "text/plain",
            "I'm sorry to have to inform you that your message could not be delivered.\n",
        ),
        subject="Undelivered Mail Returned to Sender",
        sender="MAILER-DAEMON@mx.example.net",
        visible=["could not be delivered."],
        automated=True,
        bounce=None,
        return_path="",
    )
    add(
        "postmaster-sender",
        envelope("postmaster-sender", "Delivery delayed", "postmaster@example.org"),
        part("text/plain", "Delivery is delayed.\n"),
        subject="Delivery delayed",
        sender="postmaster@example.org",
        visible=["Delivery is delayed."],
        automated=True,
    )

    original = (
        header_block(
            [
                ("From", SUPPORT),
                ("To", "gone@example.com"),
                ("Subject", "[#1042] Your order"),
                ("Date", DATE),
                ("Message-ID", "<conversation-1042.message-7@frontdesk.example>"),
                ("Content-Type", "text/plain; charset=utf-8"),
            ]
        )
        + b"\nYour order is on its way.\n"
    )

    def dsn(
        name: str,
        action: str,
        status: str,
        diagnostic: str,
        *,
        returned: bytes,
        returned_type: str,
        **expected: Any,
    ) -> None:
        fields = (
            "Reporting-MTA: dns; mx.frontdesk.example\nArrival-Date: " + DATE + "\n\n"
            "Final-Recipient: rfc822; gone@example.com\n"
            "Original-Recipient: rfc822;gone@example.com\n"
            f"Action: {action}\nStatus: {status}\nRemote-MTA: dns; mx.example.com\n"
            f"Diagnostic-Code: smtp; {diagnostic}\n"
        )
        add(
            name,
            envelope(
                name,
                "Undelivered Mail Returned to Sender",
                "MAILER-DAEMON@mx.frontdesk.example (Mail Delivery System)",
                to="support@frontdesk.example",
                extra=[("Auto-Submitted", "auto-replied"), ("Return-Path", "<>")],
            ),
            multipart(
                "report",
                [
                    part(
                        "text/plain",
                        "This is the mail system at host mx.frontdesk.example.\n\n"
                        "I'm sorry to have to inform you that your message could not\n"
                        "be delivered to one or more recipients.\n",
                    ),
                    header_block([("Content-Type", "message/delivery-status")])
                    + b"\n"
                    + fields.encode(),
                    header_block([("Content-Type", returned_type)]) + b"\n" + returned,
                ],
                boundary=f"{name}-boundary",
                params="; report-type=delivery-status",
            ),
            subject="Undelivered Mail Returned to Sender",
            sender="MAILER-DAEMON@mx.frontdesk.example",
            visible=["could not"],
            automated=True,
            **expected,
        )

    dsn(
        "dsn-bounce-550",
        "failed",
        "5.1.1",
        "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown",
        returned=original,
        returned_type="message/rfc822",
        bounce={
            "original_message_id": "<conversation-1042.message-7@frontdesk.example>",
            "status": "5.1.1",
            "action": "failed",
            "recipient": "gone@example.com",
            "diagnostic": "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown",
            "permanent": True,
        },
        attachments=["delivery-status.txt", "[#1042] Your order.eml"],
    )
    dsn(
        "dsn-bounce-headers-only",
        "failed",
        "5.2.2",
        "552 5.2.2 Mailbox full",
        returned=original.split(b"\n\n")[0] + b"\n",
        returned_type="text/rfc822-headers",
        bounce={
            "original_message_id": "<conversation-1042.message-7@frontdesk.example>",
            "status": "5.2.2",
            "action": "failed",
            "permanent": True,
        },
        attachments=["delivery-status.txt", "returned-headers.txt"],
    )
    dsn(
        "dsn-delayed-4xx",
        "delayed",
        "4.4.7",
        "421 4.4.7 Try again later",
        returned=original.split(b"\n\n")[0] + b"\n",
        returned_type="text/rfc822-headers",
        bounce={"status": "4.4.7", "action": "delayed", "permanent": False},
        attachments=["delivery-status.txt", "returned-headers.txt"],
    )


# --- headers ---------------------------------------------------------------------------------


def headers() -> None:
    body = part("text/plain", "Body text.\n")
    add(
        "missing-message-id",
        envelope("missing-message-id", "No id", "jane@example.com")[:4]
        + [("Date", DATE), ("MIME-Version", "1.0")],
        body,
        subject="No id",
        sender="jane@example.com",
        visible=["Body text."],
        message_id="",
        key_prefix="c:",
    )
    add(
        "missing-date",
        envelope("missing-date", "No date", "jane@example.com", date=None),
        body,
        subject="No date",
        sender="jane@example.com",
        visible=["Body text."],
        date=None,
    )
    add(
        "garbage-date",
        envelope("garbage-date", "Bad date", "jane@example.com", date="next tuesday-ish, 25:99"),
        body,
        subject="Bad date",
        sender="jane@example.com",
        visible=["Body text."],
        date=None,
    )
    add(
        "date-unknown-zone",
        envelope(
            "date-unknown-zone", "Zone", "jane@example.com", date="Mon, 3 Jun 2024 10:15:00 -0000"
        ),
        body,
        subject="Zone",
        sender="jane@example.com",
        visible=["Body text."],
        date="2024-06-03T10:15:00+00:00",
    )
    add(
        "date-two-digit-year-named-zone",
        envelope(
            "date-two-digit-year-named-zone",
            "Old date",
            "jane@example.com",
            date="3 Jun 24 10:15 EDT",
        ),
        body,
        subject="Old date",
        sender="jane@example.com",
        visible=["Body text."],
        date="2024-06-03T10:15:00-04:00",
    )
    add(
        "duplicated-headers",
        [
            ("From", "First <first@example.com>"),
            ("From", "Second <second@example.com>"),
            ("To", SUPPORT),
            ("Subject", "First subject"),
            ("Subject", "Second subject"),
            ("Date", DATE),
            ("Message-ID", "<dup-first@example.com>"),
            ("Message-ID", "<dup-second@example.com>"),
            ("MIME-Version", "1.0"),
        ],
        body,
        subject="First subject",
        sender="first@example.com",
        visible=["Body text."],
        message_id="<dup-first@example.com>",
    )
    add(
        "malformed-from-comment-form",
        envelope("malformed-from-comment-form", "Comment form", "jan@example.pl (Jan Kowalski)"),
        body,
        subject="Comment form",
        sender="jan@example.pl",
        sender_name="Jan Kowalski",
        visible=["Body text."],
    )
    add(
        "malformed-from-garbage",
        envelope("malformed-from-garbage", "Garbage from", '"Broken <<jane@example.com>> ;;'),
        body,
        subject="Garbage from",
        sender="jane@example.com",
        visible=["Body text."],
    )
    add(
        "malformed-from-empty",
        envelope("malformed-from-empty", "Empty from", "undisclosed"),
        body,
        subject="Empty from",
        sender="",
        visible=["Body text."],
    )
    add(
        "message-id-without-brackets",
        envelope(
            "message-id-without-brackets",
            "Bare id",
            "jane@example.com",
            message_id="bare-id-123@example.com",
        ),
        body,
        subject="Bare id",
        sender="jane@example.com",
        visible=["Body text."],
        message_id="<bare-id-123@example.com>",
    )
    refs = " ".join(f"<ref-{number}@example.com>" for number in range(150))
    add(
        "references-long-chain",
        envelope(
            "references-long-chain",
            "Re: long thread",
            "jane@example.com",
            extra=[("References", refs.replace("> <", ">\n <"))],
        ),
        body,
        subject="Re: long thread",
        sender="jane@example.com",
        visible=["Body text."],
        references_count=100,
        references_first="<ref-0@example.com>",
        references_last="<ref-149@example.com>",
    )
    add(
        "in-reply-to-with-comment",
        envelope(
            "in-reply-to-with-comment",
            "Re: question",
            "jane@example.com",
            extra=[("In-Reply-To", "<agent-9@frontdesk.example> (Support's message of Mon)")],
        ),
        body,
        subject="Re: question",
        sender="jane@example.com",
        visible=["Body text."],
        in_reply_to="<agent-9@frontdesk.example>",
    )
    add(
        "folded-long-subject",
        envelope(
            "folded-long-subject",
            "A very long subject line that a client folded\n over two lines\n\tand a third",
            "jane@example.com",
        ),
        body,
        subject="A very long subject line that a client folded over two lines and a third",
        sender="jane@example.com",
        visible=["Body text."],
    )
    add(
        "header-control-characters",
        envelope("header-control-characters", "Bell\x07 and\x00 null", "jane@example.com"),
        part("text/plain", "Body with a NUL\x00 byte.\n"),
        subject="Bell and null",
        sender="jane@example.com",
        visible=["Body with a NUL byte."],
    )
    add(
        "to-and-cc-many",
        envelope(
            "to-and-cc-many",
            "Meeting",
            "jane@example.com",
            to=f"{SUPPORT}, Sales <sales@frontdesk.example>",
            extra=[
                ("Cc", "Boss <boss@example.com>,\n =?utf-8?Q?Pawe=C5=82?= <pawel@example.pl>"),
                ("Reply-To", "Jane Private <jane.private@example.com>"),
            ],
        ),
        body,
        subject="Meeting",
        sender="jane@example.com",
        visible=["Body text."],
        to=["support@frontdesk.example", "sales@frontdesk.example"],
        cc=["boss@example.com", "pawel@example.pl"],
        reply_to=["jane.private@example.com"],
    )
    raw = header_block(envelope("crlf-line-endings", "CRLF", "jane@example.com")) + body
    add(
        "crlf-line-endings",
        [],
        raw.replace(b"\n", b"\r\n"),
        subject="CRLF",
        sender="jane@example.com",
        visible=["Body text."],
        same_key_as="crlf-line-endings-lf.eml",
    )
    add(
        "crlf-line-endings-lf",
        envelope("crlf-line-endings", "CRLF", "jane@example.com"),
        body,
        subject="CRLF",
        sender="jane@example.com",
        visible=["Body text."],
    )
    add(
        "mbox-from-line",
        [],
        b"From jane@example.com Mon Jun  3 10:15:00 2024\n"
        + header_block(envelope("mbox-from-line", "From line", "jane@example.com"))
        + body,
        subject="From line",
        sender="jane@example.com",
        visible=["Body text."],
    )


# --- duplicates and copies -------------------------------------------------------------------


def duplicates() -> None:
    def copy(
        name: str, received: str, delivered_to: str, message_id: str | None, **expected: Any
    ) -> None:
        headers = envelope(
            "dup",
            "Where is my parcel?",
            "Jane Doe <jane@example.com>",
            to=f"{SUPPORT}, Sales <sales@frontdesk.example>",
            message_id=message_id,
        )
        headers = [("Delivered-To", delivered_to), ("Received", received), *headers[1:]]
        if message_id == "":
            headers = [header for header in headers if header[0] != "Message-ID"]
        add(
            name,
            headers,
            part("text/plain", "Where is my parcel?\n"),
            subject="Where is my parcel?",
            sender="jane@example.com",
            visible=["Where is my parcel?"],
            **expected,
        )

    copy(
        "duplicate-received-a",
        "from a.example by mx1.frontdesk.example; " + DATE,
        "support@frontdesk.example",
        "<parcel-1@example.com>",
    )
    copy(
        "duplicate-received-b",
        "from b.example by mx2.frontdesk.example; " + DATE,
        "support@frontdesk.example",
        "<parcel-1@example.com>",
        same_key_as="duplicate-received-a.eml",
    )
    copy(
        "cc-copy-mailbox-support",
        "from a.example by mx1.frontdesk.example; " + DATE,
        "support@frontdesk.example",
        "<parcel-cc@example.com>",
    )
    copy(
        "cc-copy-mailbox-sales",
        "from a.example by mx1.frontdesk.example; " + DATE,
        "sales@frontdesk.example",
        "<parcel-cc@example.com>",
        same_key_as="cc-copy-mailbox-support.eml",
    )
    copy(
        "no-message-id-duplicate-a",
        "from a.example by mx1.frontdesk.example; " + DATE,
        "support@frontdesk.example",
        "",
        key_prefix="c:",
    )
    copy(
        "no-message-id-duplicate-b",
        "from c.example by mx3.frontdesk.example; " + DATE,
        "sales@frontdesk.example",
        "",
        key_prefix="c:",
        same_key_as="no-message-id-duplicate-a.eml",
    )
    add(
        "same-message-id-different-body",
        envelope(
            "x",
            "Where is my parcel?",
            "Jane Doe <jane@example.com>",
            message_id="<parcel-1@example.com>",
        ),
        part("text/plain", "A different text under a reused Message-ID.\n"),
        subject="Where is my parcel?",
        sender="jane@example.com",
        visible=["A different text"],
        different_key_from="duplicate-received-a.eml",
    )


# --- hostile ---------------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    inner = part("text/plain", "deep\n")
    for level in range(depth):
        inner = multipart("mixed", [inner], boundary=f"level-{level}")
    return inner


def hostile() -> None:
    add(
        "hostile-deep-nesting",
        envelope("hostile-deep-nesting", "Deep", "attacker@example.net"),
        nested(60),
        unparseable="nested deeper",
    )
    add(
        "hostile-many-parts",
        envelope("hostile-many-parts", "Many parts", "attacker@example.net"),
        multipart(
            "mixed", [part("text/plain", f"{n}\n", cte="7bit") for n in range(400)], boundary="many"
        ),
        unparseable="parts",
    )
    add(
        "hostile-nested-rfc822",
        envelope("hostile-nested-rfc822", "Russian doll", "attacker@example.net"),
        _rfc822_doll(30),
        unparseable="nested deeper",
    )
    add(
        "hostile-long-subject",
        envelope("hostile-long-subject", "A" * 20000, "attacker@example.net"),
        part("text/plain", "Body text.\n"),
        subject_length=1000,
        sender="attacker@example.net",
        visible=["Body text."],
    )
    add(
        "hostile-script-and-javascript-links",
        envelope("hostile-script-and-javascript-links", "Click me", "attacker@example.net"),
        part(
            "text/html",
            '<p onclick="steal()">Hello <a href="javascript:alert(1)">link</a>'
            '<img src="x" onerror="alert(2)"><script>alert(3)</script>'
            '<iframe src="https://evil.example"></iframe>'
            '<a href="https://ok.example/">safe</a></p>',
        ),
        subject="Click me",
        sender="attacker@example.net",
        visible=["Hello"],
        text_lacks=["alert(3)"],
        html_lacks=["javascript:", "onerror", "<script", "<iframe", "onclick"],
        html_has=['href="https://ok.example/"'],
    )
    add(
        "hostile-broken-base64",
        envelope("hostile-broken-base64", "Broken base64", "attacker@example.net"),
        part("text/plain", "", cte="7bit").replace(b"7bit", b"base64")
        + b"SGVsbG8gd29ybGQh!!!$$$###\nbm90IGJhc2U2NA\n",
        subject="Broken base64",
        sender="attacker@example.net",
        visible=["Hello world!"],
    )
    add(
        "hostile-unknown-transfer-encoding",
        envelope("hostile-unknown-transfer-encoding", "Odd CTE", "attacker@example.net"),
        part("text/plain", "Readable anyway.\n", cte="7bit").replace(b": 7bit", b": x-uuencode2"),
        subject="Odd CTE",
        sender="attacker@example.net",
        visible=["Readable anyway."],
    )
    add(
        "hostile-bad-content-type",
        envelope("hostile-bad-content-type", "Bad type", "attacker@example.net"),
        b'Content-Type: ;;;charset="\nContent-Transfer-Encoding: 8bit\n\nStill text.\n',
        subject="Bad type",
        sender="attacker@example.net",
        visible=["Still text."],
    )


def _rfc822_doll(depth: int) -> bytes:
    inner = header_block([("Subject", "core"), ("Content-Type", "text/plain")]) + b"\ncore\n"
    for _ in range(depth):
        inner = (
            header_block([("Subject", "layer"), ("Content-Type", "message/rfc822")]) + b"\n" + inner
        )
    return inner


# --- big hostile messages, built by the tests --------------------------------------------------


def many_links(count: int = 20_000) -> bytes:
    links = "".join(f'<a href="https://t.example/{n}">{n}</a> ' for n in range(count))
    return header_block(envelope("links", "Links", "attacker@example.net")) + part(
        "text/html", f"<p>Start of the message.</p><p>{links}</p>", cte="base64"
    )


def huge_html(megabytes: int = 8) -> bytes:
    row = "<div><span><b>row</b> text text text</span></div>\n"
    body = "<p>Start of the message.</p>" + row * (megabytes * 1024 * 1024 // len(row))
    return header_block(envelope("huge", "Huge", "attacker@example.net")) + part(
        "text/html", body, cte="quoted-printable"
    )


def build() -> None:
    CASES.clear()
    EXPECTED.clear()
    structures()
    charsets()
    replies()
    noise()
    headers()
    duplicates()
    hostile()


def write() -> None:
    build()
    CORPUS.mkdir(exist_ok=True)
    for stale in CORPUS.glob("*.eml"):
        if stale.name not in CASES:
            stale.unlink()
    for name, raw in CASES.items():
        (CORPUS / name).write_bytes(raw)
    (CORPUS / "expected.json").write_text(
        json.dumps(dict(sorted(EXPECTED.items())), ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    sys.stdout.write(f"{len(CASES)} messages written\n")


if __name__ == "__main__":
    write()
