"""Domain events of the sla app.

Calendars and policies changed, so due times counted on them may move; a conversation's SLA
reached its warning or was breached. The last two are conversation events: the realtime app
forwards them to the conversation's people like any other change, which keeps the At risk
view and the badges live, and automations may react to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from frontdesk.conversations.events import ConversationEvent
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


@dataclass(frozen=True, kw_only=True)
class SlaPolicyChanged(DomainEvent):
    """A policy was created, changed, deleted or moved (`change` says which): the timers of
    open conversations are recomputed."""

    policy_id: int
    change: str


@dataclass(frozen=True, kw_only=True)
class SlaEscalated(ConversationEvent):
    """A target of the conversation's SLA reached its warning or was breached.

    `target` is first_response, next_response or resolution; `due_at` its due time;
    `met_at` is set when the breach was found only when the late answer came (no escalation
    then). `notify_user_ids` are the people the policy's notify action names; they are in
    the audience too, with the conversation's team and people (never the customer).
    """

    policy_id: int | None
    policy_name: str
    target: str
    due_at: datetime
    met_at: datetime | None = None
    notify_user_ids: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SlaWarning(SlaEscalated):
    pass


@dataclass(frozen=True, kw_only=True)
class SlaBreached(SlaEscalated):
    pass
