"""Turning the bytes of a mail into text, whatever charset it claims.

Mail lies about its charset: labels are misspelt (`utf8`, `windows1250`,
`iso8859-2`), unknown (`x-unknown`), too narrow (`tis-620` text holding
windows-874 quotes, `us-ascii` text holding 8-bit bytes) or missing. Labels are
mapped the way browsers map them (the WHATWG Encoding Standard), so mail reads
as it would in a webmail; bytes the label cannot decode fall back to UTF-8 and
then to windows-1252, and decoding never raises.
"""

from __future__ import annotations

import codecs
import re

# WHATWG maps these labels to a wider encoding that is a superset of the named one:
# senders label windows-874 text as tis-620 and windows-1252 text as iso-8859-1.
_SUPERSETS = {
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
    "iso8859_9": "cp1254",
    "iso8859_11": "cp874",
    "tis_620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
}
_LABELS = {
    "x-user-defined": "cp1252",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "iso-8859-8-i": "iso8859_8",
    "x-sjis": "cp932",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "x-mac-cyrillic": "mac_cyrillic",
    "unicode-1-1-utf-7": "utf_7",
    "x-unicode20utf8": "utf_8",
    "unicode-1-1-utf-8": "utf_8",
    "ansi_x3.4-1968": "ascii",
    "windows-874": "cp874",
}
_SPELLINGS = (
    (re.compile(r"^(?:x-)?(?:windows|win|cp|ms)[-_ ]?(\d{3,4})$"), "cp{}"),
    (re.compile(r"^iso[-_ ]?8859[-_ ]?(\d{1,2})$"), "iso8859_{}"),
    (re.compile(r"^koi8[-_ ]?([rut])$"), "koi8_{}"),
    (re.compile(r"^tis[-_ ]?620(?:[-_ ]?\d+)?$"), "cp874"),
    (re.compile(r"^utf[-_ ]?(8|16|32)$"), "utf_{}"),
    (re.compile(r"^latin[-_ ]?(\d)$"), "latin{}"),
)
# Codecs Python knows that are not charsets of text: their "decoding" would
# interpret the message instead of reading it.
_REFUSED = frozenset({"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined"})
_FALLBACKS = ("utf_8", "cp1252")


def codec_for(label: str | None) -> str | None:
    """The Python codec to read text labelled `label` with, or None when unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").strip().lower()
    if not name or len(name) > 64:
        return None
    name = _LABELS.get(name, name)
    info = _lookup(name)
    if info is None:
        for pattern, template in _SPELLINGS:
            match = pattern.match(name)
            if match:
                info = _lookup(template.format(*match.groups()))
                break
    if info is None or info.name == "ascii":
        # 8-bit bytes under an ASCII label are far more often UTF-8 than anything else.
        return None
    return _SUPERSETS.get(info.name.replace("-", "_"), info.name.replace("-", "_"))


def _lookup(name: str) -> codecs.CodecInfo | None:
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name.replace("-", "_") in _REFUSED:
        return None
    return info


def decode(data: bytes, label: str | None = None) -> str:
    """`data` as text: the labelled charset, else UTF-8, else windows-1252; never raises.

    A part labelled UTF-8 that is not valid UTF-8 keeps its label and shows
    replacement characters for the broken bytes, rather than guessing.
    """
    codec = codec_for(label)
    tried: list[str] = []
    for name in (codec, *_FALLBACKS):
        if name is None or name in tried:
            continue
        tried.append(name)
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            if name == codec == "utf_8":
                return data.decode("utf_8", errors="replace")
            continue
    # windows-1252 leaves five bytes undefined; latin-1 maps every byte.
    return data.decode(codec or "cp1252", errors="replace")
