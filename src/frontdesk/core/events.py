"""The domain-event bus.

Services publish frozen dataclasses; subscribers run only after the
surrounding transaction commits, so a rolled-back change never leaks out as
mail, a webhook or a websocket push. Subscribers never call each other.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Audience:
    """Who may learn of an event: users and teams by id, the customer only if public."""

    user_ids: frozenset[int] = field(default_factory=frozenset)
    team_ids: frozenset[int] = field(default_factory=frozenset)
    customer_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    audience: Audience
    # The door the change came through (core.models.Via): reactions that reach
    # outside, such as mail, skip what the system itself did (imports, demo data).
    via: str = "system"


@dataclass(frozen=True, kw_only=True)
class NotificationsChanged(DomainEvent):
    """The notification list of the users in the audience changed (one added, some read).

    News for those users alone, never for their teams. It lives here, below
    every app, so the realtime app can forward it without importing the
    notifications app beside it; the notifications app publishes subclasses.
    """


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[Any], None]

_subscribers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def unsubscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    if handler in _subscribers[event_type]:
        _subscribers[event_type].remove(handler)


def publish(event: DomainEvent) -> None:
    """Deliver `event` to its subscribers once the current transaction commits."""
    transaction.on_commit(lambda: _dispatch(event), robust=False)


def _dispatch(event: DomainEvent) -> None:
    for event_type, handlers in list(_subscribers.items()):
        if not isinstance(event, event_type):
            continue
        for handler in list(handlers):
            try:
                handler(event)
            except Exception:
                # One failing reaction must not stop the others: log and go on.
                logger.exception("handler %r failed for %r", handler, event)
