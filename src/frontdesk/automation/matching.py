"""Whether stored conditions hold: for one conversation in Python, for many in SQL.

Both read the same conditions (rules.py) and must agree. "business_hours" depends only on
the clock, so SQL leaves it to `holds_now`; "message" depends on a message's text, which
SQL leaves to Python too (`needs_python`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import and_, or_
from typing import Any

from django.db.models import Exists, OuterRef, Q

from frontdesk.automation.rules import CUSTOM_PREFIX
from frontdesk.conversations.models import Conversation, ConversationTag
from frontdesk.core.business_time import Schedule
from frontdesk.sla.models import BusinessCalendar
from frontdesk.sla.schedules import schedule_for_calendar
from frontdesk.sla.selectors import default_calendar

Condition = Mapping[str, Any]
PYTHON_ONLY = frozenset({"message", "business_hours"})
_WORDS = re.compile(r"[\w'-]+", re.UNICODE)


@dataclass(frozen=True)
class Facts:
    """What conditions read of one conversation, at one moment."""

    conversation: Conversation
    tags: frozenset[str]
    message_text: str | None
    now: datetime


# --- one conversation ------------------------------------------------------------------------


def holds(conditions: Mapping[str, Sequence[Condition]], facts: Facts) -> bool:
    """All of "all", and one of "any" when "any" has any."""
    if not all(condition_holds(c, facts) for c in conditions.get("all", ())):
        return False
    alternatives = conditions.get("any", ())
    return not alternatives or any(condition_holds(c, facts) for c in alternatives)


def condition_holds(condition: Condition, facts: Facts) -> bool:
    field, op = condition["field"], condition["op"]
    value: Any = condition.get("value")
    if field.startswith(CUSTOM_PREFIX):
        return _custom_holds(facts.conversation.custom_fields, field, op, value)
    if field == "tags":
        return _tags_hold(facts.tags, op, value)
    if field in ("subject", "message"):
        text = facts.conversation.subject if field == "subject" else facts.message_text
        return text is not None and text_holds(text, op, value)
    if field == "business_hours":
        return business_hours_hold(op, value, facts.now)
    if field == "priority" and op in ("above", "below"):
        priority, limit = int(facts.conversation.priority), int(value)
        return priority > limit if op == "above" else priority < limit
    actual = _attribute(facts.conversation, field)
    inside = bool(actual in value)
    return inside if op == "is" else not inside


def _attribute(conversation: Conversation, field: str) -> Any:
    if field in ("team", "assignee", "company", "customer"):
        return getattr(conversation, f"{field}_id")
    if field == "language":
        return (conversation.language or "").lower()
    return getattr(conversation, field)


def _tags_hold(tags: frozenset[str], op: str, wanted: Sequence[str]) -> bool:
    if op == "includes_any":
        return any(t in tags for t in wanted)
    if op == "includes_all":
        return all(t in tags for t in wanted)
    return not any(t in tags for t in wanted)


def text_holds(text: str, op: str, value: str) -> bool:
    folded = text.casefold()
    if op == "contains":
        return value.casefold() in folded
    if op == "not_contains":
        return value.casefold() not in folded
    words = {w.casefold() for w in _WORDS.findall(text)}
    return any(w.casefold() in words for w in _WORDS.findall(value))


def _custom_holds(values: Mapping[str, Any], field: str, op: str, wanted: Any) -> bool:
    key = field.removeprefix(CUSTOM_PREFIX)
    present = values.get(key) not in (None, "")
    if op == "present":
        return present
    if op == "absent":
        return not present
    actual = values.get(key)
    if op == "contains":
        return isinstance(actual, str) and wanted.casefold() in actual.casefold()
    same = actual == wanted and type(actual) is type(wanted)
    return same if op == "is" else not same


def business_hours_hold(op: str, calendar_id: int | None, now: datetime) -> bool:
    schedule = calendar_schedule(calendar_id)
    # No calendar at all: the desk counts as always open, as the SLA clock does.
    inside = True if schedule is None else schedule.is_open(now)
    return inside if op == "inside" else not inside


def calendar_schedule(calendar_id: int | None) -> Schedule | None:
    calendar: BusinessCalendar | None
    if calendar_id is None:
        calendar = default_calendar()
    else:
        calendar = (
            BusinessCalendar.objects.prefetch_related("weekly_hours", "special_days")
            .filter(pk=calendar_id)
            .first()
        )
    return schedule_for_calendar(calendar) if calendar is not None else None


# --- many conversations ----------------------------------------------------------------------


def needs_python(conditions: Mapping[str, Sequence[Condition]]) -> bool:
    return any(c["field"] in PYTHON_ONLY for group in conditions.values() for c in group)


def holds_now(conditions: Mapping[str, Sequence[Condition]], now: datetime) -> bool:
    """Whether the clock-only "all" conditions hold now (they hold for every conversation)."""
    return all(
        business_hours_hold(c["op"], c.get("value"), now)
        for c in conditions.get("all", ())
        if c["field"] == "business_hours"
    )


def as_q(conditions: Mapping[str, Sequence[Condition]]) -> Q:
    """The SQL part of the conditions; Python-only ones are left out ("any" then holds)."""
    q = _all(condition_q(c) for c in conditions.get("all", ()) if c["field"] not in PYTHON_ONLY)
    alternatives = list(conditions.get("any", ()))
    if alternatives and not any(c["field"] in PYTHON_ONLY for c in alternatives):
        q &= reduce(or_, (condition_q(c) for c in alternatives))
    return q


def _all(parts: Iterable[Q]) -> Q:
    return reduce(and_, parts, Q())


def condition_q(condition: Condition) -> Q:  # noqa: PLR0911 - one return per field
    field, op = condition["field"], condition["op"]
    value: Any = condition.get("value")
    if field.startswith(CUSTOM_PREFIX):
        return _custom_q(field.removeprefix(CUSTOM_PREFIX), op, value)
    if field == "tags":
        return _tags_q(op, value)
    if field == "subject":
        return _subject_q(op, value)
    if field == "priority" and op in ("above", "below"):
        return Q(priority__gt=value) if op == "above" else Q(priority__lt=value)
    if field == "language":
        q = reduce(or_, (Q(language__iexact=v) for v in value), Q(pk__in=[]))
        return q if op == "is" else ~q
    column = f"{field}_id" if field in ("team", "assignee", "company", "customer") else field
    q = _in(column, value)
    return q if op == "is" else ~q


def _in(column: str, values: Sequence[Any]) -> Q:
    present = [v for v in values if v is not None]
    q = Q(**{f"{column}__in": present}) if present else Q(pk__in=[])
    if None in values:
        q |= Q(**{f"{column}__isnull": True})
    return q


def _tags_q(op: str, names: Sequence[str]) -> Q:
    def has(name: str) -> Q:
        return Q(
            Exists(ConversationTag.objects.filter(conversation=OuterRef("pk"), tag__name=name))
        )

    if op == "includes_all":
        return _all(has(name) for name in names)
    anyone = Q(
        Exists(ConversationTag.objects.filter(conversation=OuterRef("pk"), tag__name__in=names))
    )
    return anyone if op == "includes_any" else ~anyone


def _subject_q(op: str, value: str) -> Q:
    if op == "matches_words":
        words = _WORDS.findall(value)
        return reduce(or_, (Q(subject__iregex=_word_regex(w)) for w in words), Q(pk__in=[]))
    q = Q(subject__icontains=value)
    return q if op == "contains" else ~q


def _word_regex(word: str) -> str:
    # Neither SQLite's nor PostgreSQL's regex knows one word-boundary syntax; spell it out.
    return r"(^|[^\w])" + re.escape(word) + r"([^\w]|$)"


def _custom_q(key: str, op: str, value: Any) -> Q:
    lookup = f"custom_fields__{key}"
    present = Q(**{f"{lookup}__isnull": False}) & ~Q(**{lookup: ""})
    if op == "present":
        return present
    if op == "absent":
        return ~present
    if op == "contains":
        return Q(**{f"{lookup}__icontains": value})
    q = Q(**{lookup: value})
    return q if op == "is" else ~q
