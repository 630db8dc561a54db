"""Separating what a reply says from the history and signature it drags along.

Used for display only: the full original stays stored and one click away, so a
wrong cut hides text but never loses it. The rules therefore lean towards
showing too much: a quote is cut only where a mail client's reply header or a
trailing block of `>` lines starts, and a message that is nothing but a quote
is shown whole.

Reply headers are recognised as Gmail, Outlook and Apple Mail write them in
English, Polish, Czech, Russian, Indonesian and Thai.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from itertools import islice

# A line longer than this is prose, not a reply header; it also bounds the regex work.
_MAX_HEADER_LINE = 400
_LOOKAHEAD_LINES = 8
# Reply headers and signatures are looked for in the first lines only, which bounds the work
# on hostile input; a reply header further down than this is not worth the time.
_MAX_SCAN_LINES = 5000

# Gmail/Apple Mail/Thunderbird attribution lines, as each client words them per language:
#   en  On Mon, Jun 3, 2024 at 10:15 AM Jan <jan@example.com> wrote:
#   pl  W dniu pon., 3 cze 2024 o 10:15 Jan <jan@example.com> napisał(a):
#       Wiadomość napisana przez Jan <jan@example.com> w dniu 3 cze 2024, o godz. 10:15:
#   cs  Dne po 3. 6. 2024 10:15 uživatel Jan <jan@example.cz> napsal:
#       po 3. 6. 2024 v 10:15 odesílatel Jan <jan@example.cz> napsal:
#   ru  пн, 3 июн. 2024 г. в 10:15, Иван <ivan@example.ru>:
#       3 июня 2024 г., в 10:15, Иван <ivan@example.ru> написал(а):
#   id  Pada tanggal Sen, 3 Jun 2024 pukul 10.15 Budi <budi@example.co.id> menulis:
#   th  เมื่อ จ. 3 มิ.ย. 2024 เวลา 10:15 Somchai <somchai@example.co.th> เขียนว่า:
_ATTRIBUTION_START = re.compile(
    r"^(?:On\s|W\s+dniu\s|Dnia\s|Wiadomość\s+napisana\s+przez\s|Dne\s|Pada\s|เมื่อ"
    r"|(?:po|út|ut|st|čt|pá|so|ne|пн|вт|ср|чт|пт|сб|вс)\.?,?\s+\d|\d)",
    re.IGNORECASE,
)
_ATTRIBUTION_END = re.compile(
    r"(?:\b(?:wrote|napisał\(a\)|napisała|napisał|pisze|napsal\(a\)|napsala|napsal|menulis)"
    r"|(?:пишет|написал\(а\)|написала|написал|เขียนว่า|เขียน)"
    r"|<[^<>\s@]+@[^<>\s]+>|\d{1,2}[:.]\d{2})\s*:$",
    re.IGNORECASE,
)
_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+")
_ORIGINAL_MESSAGE = re.compile(
    r"^-{2,}\s*(?:Original Message|Wiadomość oryginalna|Oryginalna wiadomość|Původní zpráva"
    r"|Исходное сообщение|Pesan Asli|ข้อความต้นฉบับ)\s*-{2,}$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^(?:_{10,}|-{10,})$")
# Outlook's header block, with the labels Outlook uses in each language.
_FROM_LABEL = re.compile(r"^\*?(?:From|Od|От|Dari|จาก)\s*:\*?\s*\S", re.IGNORECASE)
_BLOCK_LABELS = {
    "sent": re.compile(
        r"^\*?(?:Sent|Date|Wysłano|Wysłane|Data|Odesláno|Datum|Отправлено|Дата|Dikirim|Terkirim"
        r"|Tanggal|ส่ง|วันที่)\s*:",
        re.IGNORECASE,
    ),
    "to": re.compile(r"^\*?(?:To|Do|Komu|Кому|Kepada|ถึง)\s*:", re.IGNORECASE),
    "subject": re.compile(
        r"^\*?(?:Subject|Temat|Předmět|Тема|Perihal|Subjek|เรื่อง)\s*:", re.IGNORECASE
    ),
}
_SIGNATURE = re.compile(r"^-- ?$")
_MOBILE_SIGNATURE = re.compile(
    r"^(?:Sent from (?:my )?|Get Outlook for |Wysłane z |Wysłano z |Odesláno z |Отправлено с |"
    r"Dikirim dari |ส่งจาก ).{1,50}$",
    re.IGNORECASE,
)

# HTML markers that mail clients put where the quoted history or signature begins.
_HTML_MARKERS = re.compile(
    r"<div\b[^>]*\bclass\s*=\s*[\"']?[^\"'>]*\b(?:gmail_quote|gmail_signature|yahoo_quoted"
    r"|moz-cite-prefix|moz-signature|protonmail_quote)\b"
    r"|<blockquote\b[^>]*\btype\s*=\s*[\"']?cite"
    r"|<(?:div|hr)\b[^>]*\bid\s*=\s*[\"']?(?:divRplyFwdMsg|appendonsend|Signature\b"
    r"|mail-editor-reference-message-container)"
    r"|<div\b[^>]*\bstyle\s*=\s*[\"'][^\"'>]*border-top\s*:\s*solid\s+#(?:E1E1E1|B5C4DF)",
    re.IGNORECASE,
)
_HTML_BLOCK = re.compile(
    r"<(?:br|p|div|tr|li|hr|blockquote|h[1-6]|table)\b[^>]*>|</(?:p|div|tr|li|blockquote)\s*>",
    re.IGNORECASE,
)
_HTML_TAG = re.compile(r"<[^>]*>")
_HTML_TRAILING_RULE = re.compile(r"(?:\s|<hr\b[^>]*>|<br\s*/?>|&nbsp;)+$", re.IGNORECASE)


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted history and signature) of a plain-text message."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _cut_index(lines, lambda index: _quote_follows(lines, index))
    if cut is None:
        return text.strip("\n"), ""
    visible = "\n".join(lines[:cut]).rstrip()
    if not visible.strip():
        return text.strip("\n"), ""
    return visible, "\n".join(lines[cut:]).strip("\n")


def split_quoted_html(value: str) -> tuple[str, str]:
    """(new part, quoted history and signature) of an HTML message, cut at a tag boundary.

    Works on the HTML as received, before sanitising removes the class and id
    markers it looks for; sanitise each half afterwards.
    """
    offsets: list[int] = []
    marker = _HTML_MARKERS.search(value)
    if marker:
        offsets.append(marker.start())
    lines, starts = _html_lines(value)
    cut = _cut_index(
        lines, lambda index: "<blockquote" in value[starts[index] : starts[index] + 600].lower()
    )
    if cut is not None:
        offsets.append(starts[cut])
    if not offsets:
        return value, ""
    offset = min(offsets)
    # The rule and spacing Outlook puts above its header block belong to the quote.
    head, tail = value[: max(0, offset - 2000)], value[max(0, offset - 2000) : offset]
    visible = head + _HTML_TRAILING_RULE.sub("", tail)
    if not _html_text(visible).strip():
        return value, ""
    return visible, value[offset:]


def _cut_index(lines: list[str], quote_follows: Callable[[int], bool]) -> int | None:
    """Index of the first line of quoted history or signature, or None."""
    cut = _reply_header_index(lines, quote_follows)
    end = len(lines) if cut is None else cut
    trailing = _trailing_quote_index(lines[:end])
    if trailing is not None:
        end = trailing
    signature = _signature_index(lines[:end])
    if signature is not None:
        end = signature
    return None if end == len(lines) else end


def _reply_header_index(lines: list[str], quote_follows: Callable[[int], bool]) -> int | None:
    for index, raw in enumerate(lines[:_MAX_SCAN_LINES]):
        line = raw.strip()
        if not line or len(line) > _MAX_HEADER_LINE:
            continue
        if _ORIGINAL_MESSAGE.match(line) or _outlook_block_at(lines, index):
            return index
        if _RULE.match(line) and _outlook_block_at(lines, _next_filled(lines, index + 1)):
            return index
        if _ATTRIBUTION_START.match(line) and _attribution_at(lines, index, quote_follows):
            return index
    return None


def _attribution_at(lines: list[str], index: int, quote_follows: Callable[[int], bool]) -> bool:
    # Gmail wraps a long attribution over two or three lines of plain text.
    candidate = ""
    for offset in range(3):
        if index + offset >= len(lines):
            return False
        candidate = f"{candidate} {lines[index + offset].strip()}".strip()
        if len(candidate) > _MAX_HEADER_LINE:
            return False
        if not _ATTRIBUTION_END.search(candidate) or not any(c.isdigit() for c in candidate):
            continue
        last = index + offset
        if _ADDRESS.search(candidate) or quote_follows(last):
            # A wrapped match that also starts on a later line began there, not here.
            return not any(
                _ATTRIBUTION_START.match(lines[later].strip())
                and _attribution_at(lines, later, quote_follows)
                for later in range(index + 1, last + 1)
            )
    return False


def _outlook_block_at(lines: list[str], index: int | None) -> bool:
    if index is None or index >= len(lines) or not _FROM_LABEL.match(lines[index].strip()):
        return False
    seen: set[str] = set()
    for line in lines[index + 1 : index + 1 + _LOOKAHEAD_LINES]:
        for kind, pattern in _BLOCK_LABELS.items():
            if pattern.match(line.strip()):
                seen.add(kind)
    return len(seen) >= 2 and ("subject" in seen or "sent" in seen)


def _next_filled(lines: list[str], start: int) -> int | None:
    for index in range(start, min(len(lines), start + 3)):
        if lines[index].strip():
            return index
    return None


def _quote_follows(lines: list[str], index: int) -> bool:
    following = _next_filled(lines, index + 1)
    return following is not None and lines[following].lstrip().startswith(">")


def _trailing_quote_index(lines: list[str]) -> int | None:
    """First line of a block of `>` lines that runs to the end; interleaved replies stay whole."""
    first = None
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index].strip()
        if line.startswith(">"):
            first = index
        elif line:
            break
    return first


def _signature_index(lines: list[str]) -> int | None:
    for index, line in enumerate(lines[:_MAX_SCAN_LINES]):
        if _SIGNATURE.match(line):
            return index
    last_filled = (index for index in range(len(lines) - 1, -1, -1) if lines[index].strip())
    for index in islice(last_filled, 3):
        if _MOBILE_SIGNATURE.match(lines[index].strip()):
            return index
    return None


def _html_lines(value: str) -> tuple[list[str], list[int]]:
    """The text of each block of `value`, and the offset in `value` where each block starts."""
    lines: list[str] = []
    starts: list[int] = []
    position = 0
    for match in _HTML_BLOCK.finditer(value):
        if len(lines) == _MAX_SCAN_LINES:
            break
        lines.append(_html_text(value[position : match.start()]))
        starts.append(position)
        position = match.start()
    lines.append(_html_text(value[position:]))
    starts.append(position)
    return lines, starts


def _html_text(fragment: str) -> str:
    text = html_lib.unescape(_HTML_TAG.sub("", fragment)).replace("\xa0", " ")
    return " ".join(text.split())
