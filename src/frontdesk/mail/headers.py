"""Reading header values defensively: encoded words, addresses, Message-IDs and dates.

Headers are read from their raw text rather than through `policy.default`'s
header objects: those raise on some malformed values and keep undecodable
bytes as lone surrogates, which cannot be stored. Here every value comes out
as clean text, whatever the sender did.
"""

from __future__ import annotations

import binascii
import datetime as dt
import re
from dataclasses import dataclass
from email.utils import getaddresses, parsedate_to_datetime

from frontdesk.mail.charsets import decode

MAX_HEADER_CHARS = 8192
MAX_REFERENCES = 100
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([QqBb])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(?==\?)")
_FOLD = re.compile(r"\r?\n[ \t]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MSGID = re.compile(r"<([^<>\s]{1,900})>")
_BARE_ADDRESS = re.compile(r"[^\s<>\"',;:()\[\]]+@[^\s<>\"',;:()\[\]]+")
_VALID_ADDRESS = re.compile(r"^[^\s<>\"',;:()\[\]]+@[^\s<>\"',;:()\[\]@]+$")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class Address:
    name: str
    address: str

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


def raw_text(value: str, hint: str | None = None) -> str:
    """A raw header value unfolded, with any 8-bit bytes decoded.

    Raw 8-bit headers are UTF-8 (RFC 6532) or, from older clients, in the
    charset of the body, which `hint` names; windows-1252 is the last resort.
    """
    value = _FOLD.sub(" ", value[:MAX_HEADER_CHARS])
    if any("\udc80" <= char <= "\udcff" for char in value):
        data = value.encode("utf-8", "surrogateescape")
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            value = decode(data, hint)
    return value.strip()


def decode_words(value: str) -> str:
    """`value` with its RFC 2047 encoded words decoded, in whatever charset they name."""
    if "=?" not in value:
        return _clean(value)
    # Whitespace between two adjacent encoded words is not part of the text (RFC 2047 §6.2).
    value = _BETWEEN_WORDS.sub(r"\1", value)
    return _clean(_ENCODED_WORD.sub(_decode_word, value))


def _decode_word(match: re.Match[str]) -> str:
    label, encoding, payload = match.groups()
    label = label.split("*", 1)[0]  # RFC 2231 language suffix: =?utf-8*pl?Q?...?=
    if encoding in "Bb":
        try:
            data = binascii.a2b_base64(payload + "=" * (-len(payload) % 4))
        except (binascii.Error, ValueError):
            return match.group(0)
    else:
        data = _QP_HEX.sub(
            lambda m: bytes([int(m.group(1), 16)]),
            payload.replace("_", " ").encode("ascii", "replace"),
        )
    return decode(data, label)


def _clean(value: str) -> str:
    return _CONTROL.sub("", value).strip()


def first_message_id(value: str) -> str:
    """The first Message-ID in a header, normalised as "<id>"; "" when there is none."""
    match = _MSGID.search(value)
    if match:
        return f"<{match.group(1)}>"
    token = value.strip().split(" ", 1)[0].strip("<>")
    if token and "@" in token and len(token) <= 900:
        return f"<{token}>"
    return ""


def message_ids(value: str) -> tuple[str, ...]:
    """The Message-IDs of a References header, oldest first, without repeats, at most 100."""
    found = [f"<{mid}>" for mid in _MSGID.findall(value)]
    if not found:
        found = [f"<{token}>" for token in value.split() if "@" in token and len(token) <= 900]
    unique = list(dict.fromkeys(found))
    # The root and the newest ancestors carry the threading; drop the middle of long chains.
    if len(unique) > MAX_REFERENCES:
        unique = unique[:1] + unique[-(MAX_REFERENCES - 1) :]
    return tuple(unique)


def addresses(value: str) -> tuple[Address, ...]:
    """The addresses of an address header; entries without an address are left out."""
    # Encoded words may hold commas, which would split one display name in two.
    words: list[str] = []

    def hide(match: re.Match[str]) -> str:
        words.append(match.group(0))
        return f"ew{len(words) - 1}x"

    hidden = _ENCODED_WORD.sub(hide, _BETWEEN_WORDS.sub(r"\1", value))
    result: list[Address] = []
    for hidden_name, found in getaddresses([hidden]):
        address = found.strip()
        if not _VALID_ADDRESS.match(address) or len(address) > 320:
            continue
        name = hidden_name
        for index, word in enumerate(words):
            name = name.replace(f"ew{index}x", word)
        result.append(Address(name=decode_words(name), address=_clean(address)))
    if not result:
        result = [Address(name="", address=found) for found in _BARE_ADDRESS.findall(value)]
    return tuple(dict.fromkeys(result))


def date(value: str) -> dt.datetime | None:
    """An aware datetime, or None when the header is missing or garbage."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        # "-0000" means the sender's zone is unknown; the instant is still UTC (RFC 5322 §3.3).
        parsed = parsed.replace(tzinfo=dt.UTC)
    if not 1970 <= parsed.year <= 2200:
        return None
    return parsed
