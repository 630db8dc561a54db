"""A new notification reaches its recipient's open sockets, and nobody else's."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from frontdesk.conversations import services
from frontdesk.core.models import Via
from frontdesk.notifications import services as notification_services
from frontdesk.notifications.models import Notification
from tests.conftest import Personas
from tests.notifications.conftest import orders_conversation
from tests.realtime.communicator import WebsocketCommunicator
from tests.realtime.conftest import IN_MEMORY, headers_for, open_socket

pytestmark = pytest.mark.django_db(transaction=True)

QUIET_S = 0.3


@pytest.fixture(autouse=True)
def _fresh_in_memory_layer(settings: Any) -> None:
    # Assigning the setting drops the cached layer, so no group outlives a test.
    settings.CHANNEL_LAYERS = IN_MEMORY


async def _until_quiet(socket: WebsocketCommunicator) -> list[Any]:
    seen = []
    while not await socket.receive_nothing(timeout=QUIET_S):
        seen.append(await socket.receive_json_from())
    return seen


def _notices(seen: list[Any]) -> list[Any]:
    return [m for m in seen if m["event"] == "notifications_changed"]


def test_a_mention_pushes_to_the_mentioned_and_not_to_the_team_or_admins(
    people: Personas,
) -> None:
    conversation = orders_conversation(people)
    carl, anna, admin = (headers_for(u) for u in (people.colleague, people.agent, people.admin))

    async def scenario() -> list[list[Any]]:
        sockets = [await open_socket(h) for h in (carl, anna, admin)]
        await sync_to_async(services.add_note)(
            conversation, by=people.agent, text="@carl have a look", via=Via.WEB
        )
        seen = [await _until_quiet(s) for s in sockets]
        for socket in sockets:
            await socket.disconnect()
        return seen

    carl_saw, anna_saw, admin_saw = async_to_sync(scenario)()

    assert _notices(carl_saw) == [{"event": "notifications_changed", "kind": "NotificationsAdded"}]
    assert _notices(anna_saw) == []
    assert _notices(admin_saw) == []
    # The team still hears of the note itself, as before.
    assert any(m["event"] == "conversation_changed" for m in anna_saw)


def test_reading_updates_the_readers_other_tabs(people: Personas) -> None:
    conversation = orders_conversation(people)
    notification_services.add_notifications(
        conversation, recipients=[people.agent], kind="assigned", actor=people.supervisor
    )
    notification = Notification.objects.get()
    headers = headers_for(people.agent)

    async def scenario() -> list[Any]:
        socket = await open_socket(headers)
        await sync_to_async(notification_services.mark_all_read)(people.agent, by=people.agent)
        seen = await _until_quiet(socket)
        await socket.disconnect()
        return seen

    seen = async_to_sync(scenario)()

    assert _notices(seen) == [{"event": "notifications_changed", "kind": "NotificationsRead"}]
    notification.refresh_from_db()
    assert notification.read_at is not None
