"""Domain events of the routing app, published on commit by services.py.

Changes routing makes to conversations come out as the conversations app's own
events (ConversationTeamChanged, ConversationAssigned, ...); these are about
routing's own rows and the reminders it decides on.
"""

from __future__ import annotations

from dataclasses import dataclass

from frontdesk.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class RoutingRuleChanged(DomainEvent):
    """A rule was created, updated, moved or deleted; `change` says which."""

    rule_id: int
    name: str
    change: str


@dataclass(frozen=True, kw_only=True)
class TeamRoutingChanged(DomainEvent):
    """A team's assignment mode or capacities changed: waiting work may now fit."""

    team_id: int
    mode: str


@dataclass(frozen=True, kw_only=True)
class ConversationRouted(DomainEvent):
    """The rules looked at a new conversation; `rule_id` is the one that matched (or None)."""

    conversation_id: int
    number: int
    rule_id: int | None
    rule_name: str


@dataclass(frozen=True, kw_only=True)
class OwnerReminderDue(DomainEvent):
    """An owner is due today's reminder of the conversations they handed on, still unsolved.

    The audience is the owner alone. This app mails it (reactions.py); an in-app notice
    can subscribe to the same event.
    """

    reminder_id: int
    owner_id: int
    conversation_ids: tuple[int, ...]
