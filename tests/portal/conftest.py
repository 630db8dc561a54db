"""Portal fixtures: requests of the persona customer, with notes and files agents added."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation
from frontdesk.conversations.services import Upload
from tests.conftest import Personas


def open_request(people: Personas, **extra: Any) -> Conversation:
    """A request of the persona customer (Jana), in the Orders team."""
    return services.create_conversation(
        by=None,
        customer=extra.pop("customer", people.customer),
        subject=extra.pop("subject", "Parcel never arrived"),
        channel="email",
        text=extra.pop("text", "Order 1042 was due on Monday."),
        team=people.orders,
        **extra,
    )


@pytest.fixture
def portal(client: Client, people: Personas) -> Client:
    """A browser signed in as the persona customer."""
    client.force_login(people.customer_user)
    return client


@pytest.fixture
def worked_request(people: Personas) -> Conversation:
    """Jana's request with a reply, and a note and its file that she must never see."""
    conversation = open_request(people)
    services.add_reply(conversation, by=people.agent, text="We are looking into it.")
    services.add_note(
        conversation,
        by=people.agent,
        text="SECRET-NOTE courier lost it, refund quietly",
        attachments=[Upload(filename="internal-memo.txt", content=b"SECRET-FILE")],
    )
    return conversation
