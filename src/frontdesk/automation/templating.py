"""Texts with placeholders, rendered in a sandbox: `{{ customer.first_name }}` and nothing more.

No template engine runs here. A placeholder is a fixed name from `PLACEHOLDERS`; rendering
looks it up in a flat dictionary of strings, so there is no attribute access, no filter,
no tag, no loop and no code. A text is checked when it is saved: an unknown name
(`{{ customer.__class__ }}`, `{{ settings.SECRET_KEY }}`), a tag (`{% ... %}`), a
comment, stray or nested braces, or a text over `MAX_TEMPLATE` characters is refused with
the offending piece named. Rendering is one pass: a value that itself looks like a
placeholder (a customer named "{{ agent.name }}") is inserted as it is, never rendered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from frontdesk.core.errors import InvalidInput

MAX_TEMPLATE = 10_000
# Long enough for any whitelisted name; a longer run between braces is not a placeholder.
_MAX_NAME = 40

PLACEHOLDERS: dict[str, Promise] = {
    "customer.first_name": gettext_lazy("the customer's first name"),
    "customer.name": gettext_lazy("the customer's full name"),
    "company.name": gettext_lazy("the customer's company"),
    "agent.first_name": gettext_lazy("the agent's first name"),
    "agent.name": gettext_lazy("the agent's name"),
    "conversation.number": gettext_lazy("the conversation number"),
    "conversation.subject": gettext_lazy("the conversation subject"),
    "sla.due": gettext_lazy("the SLA due time, in the customer's time zone"),
}

_PLACEHOLDER = re.compile(r"\{\{[ \t]*([a-z_]{1,20}\.[a-z_]{1,20})[ \t]*\}\}")
# What is left once the known placeholders are taken out must hold none of these.
_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
_ANY_PLACEHOLDER = re.compile(r"\{\{(.{0," + str(_MAX_NAME) + r"}?)\}\}", re.S)


def check_template(text: str, *, field: str = "text") -> str:
    """`text` when it is a valid template; else InvalidInput naming what is wrong."""
    if len(text) > MAX_TEMPLATE:
        raise InvalidInput(
            _("The text is longer than %(max)d characters.") % {"max": MAX_TEMPLATE}, field=field
        )
    for match in _ANY_PLACEHOLDER.finditer(text):
        known = _PLACEHOLDER.fullmatch(match.group(0))
        if known is None or known.group(1) not in PLACEHOLDERS:
            raise InvalidInput(_unknown(match.group(0)), field=field)
    rest = _PLACEHOLDER.sub("", text)
    stray = _SYNTAX.search(rest)
    if stray is not None:
        piece = rest[stray.start() : stray.start() + 30]
        raise InvalidInput(
            _("Only placeholders such as {{ customer.first_name }} may use braces: %(piece)s")
            % {"piece": piece},
            field=field,
        )
    return text


def _unknown(piece: str) -> str:
    return _("Unknown placeholder %(piece)s. Use one of: %(names)s.") % {
        "piece": piece[:60],
        "names": ", ".join(as_placeholder(name) for name in PLACEHOLDERS),
    }


def as_placeholder(name: str) -> str:
    """The placeholder as people type it: {{ customer.first_name }}."""
    return "{{ " + name + " }}"


def render(text: str, values: Mapping[str, str]) -> str:
    """`text` with each known placeholder replaced by its value; anything else stays visible."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS or name not in values:
            return match.group(0)
        return str(values[name])

    return _PLACEHOLDER.sub(value, text)


@dataclass(frozen=True)
class PlaceholderSource:
    """The plain facts placeholders come from; nothing here is an object a text can reach."""

    customer_name: str
    company_name: str
    agent_first_name: str
    agent_name: str
    number: int
    subject: str
    sla_due_at: datetime | None
    time_zone: str
    language: str


def placeholder_values(source: PlaceholderSource) -> dict[str, str]:
    """The whitelisted context: a flat dictionary of strings, one per placeholder."""
    return {
        "customer.first_name": first_name(source.customer_name),
        "customer.name": source.customer_name,
        "company.name": source.company_name,
        "agent.first_name": source.agent_first_name,
        "agent.name": source.agent_name,
        "conversation.number": str(source.number),
        "conversation.subject": source.subject,
        "sla.due": format_due(source.sla_due_at, source.time_zone, source.language),
    }


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def format_due(due: datetime | None, time_zone: str, language: str) -> str:
    """The due time as the customer reads it: their zone, their language's date format."""
    if due is None:
        return ""
    try:
        zone = ZoneInfo(time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(settings.TIME_ZONE)
    locale = (language or settings.LANGUAGE_CODE).replace("-", "_")
    try:
        return format_datetime(due, format="medium", tzinfo=zone, locale=locale)
    except (ValueError, LookupError):
        return format_datetime(due, format="medium", tzinfo=zone, locale=settings.LANGUAGE_CODE)
