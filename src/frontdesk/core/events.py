"""The domain-event bus.

Services publish frozen dataclasses; subscribers run only after the
surrounding transaction commits, so a rolled-back change never leaks out as
mail, a webhook or a websocket push. Subscribers never call each other.

A change the system makes on behalf of a rule (an automation) runs inside
`caused_by(cause)`. Every event published meanwhile keeps that cause, and its
subscribers run with it as `current_cause()`: so a reaction knows which rule,
and which chain of rules, led to the change it sees (docs/adr/0007).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


@dataclass(frozen=True)
class Cause:
    """A rule acting as the system: what it is, and the chain of rules that led to it.

    `chain` holds a key ("<kind>:<id>") for every rule in the chain, oldest first and
    this one last; its length is the chain's depth.
    """

    kind: str
    id: int
    name: str
    chain: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def depth(self) -> int:
        return len(self.chain)

    def audit(self) -> dict[str, Any]:
        """The cause as an audit row records it."""
        return {"kind": self.kind, "id": self.id, "name": self.name, "chain": list(self.chain)}


_cause: ContextVar[Cause | None] = ContextVar("frontdesk_event_cause", default=None)


def current_cause() -> Cause | None:
    """The rule on whose behalf the current code runs; None for people and channels."""
    return _cause.get()


@contextmanager
def caused_by(cause: Cause | None) -> Iterator[None]:
    """Run a block on behalf of `cause`: the events it publishes carry it to their subscribers."""
    token = _cause.set(cause)
    try:
        yield
    finally:
        _cause.reset(token)


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
    """Deliver `event` to its subscribers once the current transaction commits.

    The cause in effect now travels with it: the commit may come later, outside the block.
    """
    cause = _cause.get()
    transaction.on_commit(lambda: _dispatch(event, cause), robust=False)


def _dispatch(event: DomainEvent, cause: Cause | None = None) -> None:
    with caused_by(cause):
        _deliver(event)


def _deliver(event: DomainEvent) -> None:
    for event_type, handlers in list(_subscribers.items()):
        if not isinstance(event, event_type):
            continue
        for handler in list(handlers):
            try:
                handler(event)
            except Exception:
                # One failing reaction must not stop the others: log and go on.
                logger.exception("handler %r failed for %r", handler, event)
