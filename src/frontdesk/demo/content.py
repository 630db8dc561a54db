"""The shapes of the demo content, and the helpers that turn a template into text.

Texts are written per language in content_<code>.py. They may use these
placeholders, filled in by the loader for each conversation:

    {order}    an order number        {invoice}  an invoice number
    {amount}   a sum in local money   {name}     the customer's first name
    {agent}    the first name of the agent who writes the text

and `[[masculine|feminine]]` where the wording depends on the writer's gender
(Polish, Czech and Russian verbs in the past tense, Thai particles and pronouns).
Customer texts follow the customer's gender, agent texts and notes the agent's.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

PLACEHOLDERS = frozenset({"order", "invoice", "amount", "name", "agent"})

_GENDERED = re.compile(r"\[\[([^|\]]*)\|([^\]]*)\]\]")


@dataclass(frozen=True)
class Kind:
    """What a scenario is about: where it is routed and how it is labelled."""

    team: str
    tags: tuple[str, ...]
    priority: str  # "low", "normal", "high"
    product_area: str = ""


# One table for every language, so routing and tags stay consistent across them.
KINDS: dict[str, Kind] = {
    "where_is_order": Kind("Orders", ("delivery",), "normal", "electronics"),
    "delivery_delay": Kind("Orders", ("delivery", "complaint"), "high", "home"),
    "wrong_item": Kind("Returns", ("returns", "wrong-item"), "normal", "fashion"),
    "damaged_goods": Kind("Returns", ("damaged", "returns"), "high", "home"),
    "return_request": Kind("Returns", ("returns",), "low", "fashion"),
    "refund_missing": Kind("Billing", ("refund",), "normal"),
    "double_charge": Kind("Billing", ("billing", "refund"), "high"),
    "invoice_request": Kind("Billing", ("invoice",), "low"),
    "invoice_error": Kind("Billing", ("invoice", "billing"), "normal"),
    "device_fault": Kind("Technical", ("technical", "warranty"), "normal", "electronics"),
    "account_access": Kind("Technical", ("account",), "high", "account"),
    "discount_code": Kind("Technical", ("technical", "checkout"), "normal", "account"),
    "cancel_order": Kind("Orders", ("order-change",), "normal", "home"),
    "change_address": Kind("Orders", ("order-change", "delivery"), "normal", "garden"),
    "complaint": Kind("Orders", ("complaint",), "high"),
    "praise": Kind("Orders", ("praise",), "low"),
}

PRODUCT_AREAS = ("electronics", "home", "fashion", "garden", "account")


@dataclass(frozen=True)
class Scenario:
    """One kind of request as it plays out in one language.

    `follow_up` is the customer's answer to `reply`, and `second_reply` the
    agent's answer to that; both are empty when the first reply settles it.
    """

    kind: str
    subject: str
    opening: str
    reply: str
    notes: tuple[str, ...]
    follow_up: str = ""
    second_reply: str = ""
    extra_tags: tuple[str, ...] = ()
    product_area: str | None = None  # None: the kind's default

    @property
    def team(self) -> str:
        return KINDS[self.kind].team

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(KINDS[self.kind].tags + self.extra_tags))

    @property
    def priority(self) -> str:
        return KINDS[self.kind].priority

    @property
    def area(self) -> str:
        return KINDS[self.kind].product_area if self.product_area is None else self.product_area

    def texts(self) -> tuple[str, ...]:
        parts = (self.subject, self.opening, self.reply, self.follow_up, self.second_reply)
        return tuple(t for t in parts + self.notes if t)

    @property
    def mentions_order(self) -> bool:
        return any("{order}" in text for text in self.texts())


@dataclass(frozen=True)
class CompanyInfo:
    name: str
    domain: str
    key_account: bool = False


@dataclass(frozen=True)
class LanguagePack:
    """Everything the loader needs to make people and conversations in one language."""

    code: str
    scenarios: tuple[Scenario, ...]
    female_names: tuple[str, ...]
    male_names: tuple[str, ...]
    # (masculine, feminine) forms; equal where the language does not inflect surnames.
    surnames: tuple[tuple[str, str], ...]
    companies: tuple[CompanyInfo, ...]
    mail_domain: str
    time_zone: str
    phone: Callable[[random.Random], str]
    money: Callable[[random.Random], str]
    invoice: Callable[[random.Random], str]
    # Names not in Latin or Cyrillic script, spelled for email addresses.
    romanized: Mapping[str, str] = field(default_factory=dict)

    def ascii_name(self, name: str) -> str:
        return self.romanized.get(name) or latin(name)


def render(template: str, *, female: bool, values: Mapping[str, str]) -> str:
    """Resolve the gendered forms, then the placeholders."""
    text = _GENDERED.sub(lambda m: m.group(2) if female else m.group(1), template)
    return text.format_map(values)


_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}  # fmt: skip

# Letters that NFKD does not split into a base letter and a mark.
_SPECIAL = {"ł": "l", "ø": "o", "đ": "d", "ß": "ss"}


def latin(text: str) -> str:
    """Lower-case ASCII for an email address: diacritics dropped, Cyrillic transliterated."""
    out: list[str] = []
    for char in text.lower():
        plain = _CYRILLIC.get(char, _SPECIAL.get(char, char))
        decomposed = unicodedata.normalize("NFKD", plain)
        out.append("".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in ".-")))
    return "".join(out)


def grouped(number: int, separator: str) -> str:
    """1234567 → 1<sep>234<sep>567."""
    return f"{number:,}".replace(",", separator)
