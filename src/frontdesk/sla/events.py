"""Domain events of the sla app: calendars changed, so due times counted on them may move."""

from __future__ import annotations

from dataclasses import dataclass

from frontdesk.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class BusinessCalendarCreated(DomainEvent):
    calendar_id: int


@dataclass(frozen=True, kw_only=True)
class BusinessCalendarUpdated(DomainEvent):
    """`fields` names what changed (`weekly_hours`, `special_days` for the child rows)."""

    calendar_id: int
    fields: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class BusinessCalendarDeleted(DomainEvent):
    calendar_id: int
