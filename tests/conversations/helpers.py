"""Small helpers for conversation tests: open one through the service, collect events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from frontdesk.accounts.models import Team, User
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation
from frontdesk.core.events import DomainEvent, subscribe, unsubscribe
from frontdesk.customers.models import Customer


def open_conversation(
    customer: Customer,
    *,
    team: Team | None,
    by: User | None = None,
    subject: str = "Parcel never arrived",
    **extra: Any,
) -> Conversation:
    return services.create_conversation(
        by=by,
        customer=customer,
        subject=subject,
        channel=extra.pop("channel", "email"),
        text=extra.pop("text", "Order 1042 was due on Monday and is still not here."),
        team=team,
        **extra,
    )


@contextmanager
def collected_events() -> Iterator[list[DomainEvent]]:
    """Domain events delivered (on commit) while the block runs."""
    seen: list[DomainEvent] = []
    subscribe(DomainEvent, seen.append)
    try:
        yield seen
    finally:
        unsubscribe(DomainEvent, seen.append)
