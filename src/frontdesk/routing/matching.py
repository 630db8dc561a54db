"""Whether a routing rule's conditions hold for a conversation: pure functions, no queries.

Keywords are matched in the subject and the first message, ignoring case (Unicode
case folding, after NFC normalisation, so "ZWROT", "Zwrot" and a decomposed "zwrot"
are one word). A keyword matches whole words: "refund" does not match "refunded";
"refund*" matches any word starting so, which suits languages that inflect words
(Polish "zwrot*" finds "zwrotu", "zwrotem"). A keyword of several words matches them
in sequence, whatever the spacing.

Thai (and Lao, Khmer, Burmese, Chinese, Japanese) is written without spaces between
words, so "whole word" cannot be told from the characters: a keyword in those scripts
matches wherever its characters appear. Segmenting the text into words first
(pythainlp) would avoid matching inside a longer word, but Thai keywords worth routing
on are long enough that this rarely misfires, and a dictionary would still split
product names its own way. The same keyword list can mix scripts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Scripts written without spaces between words.
_UNSPACED = re.compile(
    "[\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff]"  # CJK ideographs
)
_THAI = re.compile("[\u0e00-\u0e7f]")

# Enough of a message to find the words that decide where it goes.
TEXT_LIMIT = 20_000


def normalize_text(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def primary_language(tag: str) -> str:
    """`th-TH`, `th_th` → `th`; routing compares languages, not regional variants."""
    return tag.strip().replace("_", "-").lower().split("-")[0]


def language_of(declared: Sequence[str], text: str) -> str:
    """The first declared language (the conversation's, then the customer's), else Thai when
    the text is written in Thai script: the one script that names its language for sure."""
    for tag in declared:
        code = primary_language(tag)
        if code:
            return code
    return "th" if _THAI.search(text) else ""


def _keyword_pattern(keyword: str) -> str:
    word = normalize_text(keyword).strip()
    prefix = word.endswith("*")
    word = word.rstrip("*").strip()
    if not word:
        return ""
    if _UNSPACED.search(word):
        return re.escape(word)
    body = r"\s+".join(re.escape(part) for part in word.split())
    return rf"(?<!\w){body}" + ("" if prefix else r"(?!\w)")


@lru_cache(maxsize=1024)
def keyword_regex(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled alternation for a rule's keywords; None when it has none."""
    parts = [p for p in (_keyword_pattern(k) for k in keywords) if p]
    if not parts:
        return None
    return re.compile("|".join(parts))


@dataclass(frozen=True)
class Facts:
    """What routing conditions look at, read once per conversation."""

    channel: str
    mailbox_id: int | None
    language: str
    tags: frozenset[str]
    customer_id: int
    company_id: int | None
    custom_fields: Mapping[str, Any]
    # Subject and first message, normalised (normalize_text).
    text: str


@dataclass(frozen=True)
class Conditions:
    channels: frozenset[str] = frozenset()
    mailbox_ids: frozenset[int] = frozenset()
    languages: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    customer_ids: frozenset[int] = frozenset()
    company_ids: frozenset[int] = frozenset()
    custom_fields: tuple[tuple[str, Any], ...] = ()
    keywords: tuple[str, ...] = ()


def _same_value(actual: Any, expected: Any) -> bool:
    """Equal, or equal as text ignoring case: a rule typed "5" or "yes" in a form still holds
    for the number 5 or a checkbox stored as true."""
    if actual is None:
        return False
    if actual == expected:
        return True
    if isinstance(actual, bool):
        return str(expected).strip().casefold() in (
            ("true", "yes", "1") if actual else ("false", "no", "0")
        )
    return str(actual).strip().casefold() == str(expected).strip().casefold()


def _language_matches(language: str, wanted: frozenset[str]) -> bool:
    return bool(language) and any(primary_language(w) == language for w in wanted)


def _fields_match(wanted: tuple[tuple[str, Any], ...], values: Mapping[str, Any]) -> bool:
    return all(_same_value(values.get(key), expected) for key, expected in wanted)


def _keywords_match(keywords: tuple[str, ...], text: str) -> bool:
    if not keywords:
        return True
    pattern = keyword_regex(keywords)
    return pattern is not None and pattern.search(text) is not None


def matches(conditions: Conditions, facts: Facts) -> bool:
    """Every condition given holds; a rule with none holds for every conversation.

    The cheap comparisons come first; the keyword search runs only when they all hold.
    """
    c = conditions
    return (
        (not c.channels or facts.channel in c.channels)
        and (not c.mailbox_ids or facts.mailbox_id in c.mailbox_ids)
        and (not c.languages or _language_matches(facts.language, c.languages))
        and (not c.tags or bool(c.tags & facts.tags))
        and (not c.customer_ids or facts.customer_id in c.customer_ids)
        and (not c.company_ids or facts.company_id in c.company_ids)
        and _fields_match(c.custom_fields, facts.custom_fields)
        and _keywords_match(c.keywords, facts.text)
    )
