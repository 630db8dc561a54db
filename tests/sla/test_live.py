"""Warnings and breaches reach the open pages of the conversation's team and people, as any
other change does (the At risk view and the badges refresh on them); never the customer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone

from frontdesk.sla import timers
from frontdesk.sla.services import create_policy
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.realtime.conftest import headers_for, open_socket
from tests.realtime.test_consumers import changed, events_until_quiet
from tests.sla.conftest import targets

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _in_memory_layer(settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def test_a_breach_reaches_the_team_live_and_not_the_customer(people: Personas) -> None:
    create_policy(by=people.admin, name="Hour", time_basis="calendar",
                  targets=[targets(first=60)])  # fmt: skip
    late = open_conversation(
        people.customer, team=people.orders, at=timezone.now() - timedelta(hours=2)
    )
    sockets = {who: headers_for(getattr(people, who))
               for who in ("supervisor", "other_agent", "customer_user")}  # fmt: skip

    async def scenario() -> dict[str, list[Any]]:
        opened = {who: await open_socket(headers) for who, headers in sockets.items()}
        await sync_to_async(timers.check_due)()
        seen = {who: await events_until_quiet(socket) for who, socket in opened.items()}
        for socket in opened.values():
            await socket.disconnect()
        return seen

    seen = async_to_sync(scenario)()

    assert changed(seen["supervisor"]) == [
        (late.number, "SlaWarning"),
        (late.number, "SlaBreached"),
    ]
    assert seen["other_agent"] == []
    assert seen["customer_user"] == []
