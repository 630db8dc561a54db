"""Opening a conversation through the service, for conversation tests."""

from __future__ import annotations

from typing import Any

from frontdesk.accounts.models import Team, User
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation
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
