"""The live socket: who may connect, who hears of what, and presence in one process."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from frontdesk.accounts import services as account_services
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.realtime.communicator import WebsocketCommunicator
from tests.realtime.conftest import headers_for, open_socket

pytestmark = pytest.mark.django_db(transaction=True)

QUIET_S = 0.3


async def next_event(socket: WebsocketCommunicator, event: str, timeout: float = 2) -> Any:
    """The next message of kind `event`, skipping others (presence arrives unasked)."""
    while True:
        message = await socket.receive_json_from(timeout=timeout)
        if message["event"] == event:
            return message


async def events_until_quiet(socket: WebsocketCommunicator) -> list[Any]:
    seen = []
    while not await socket.receive_nothing(timeout=QUIET_S):
        seen.append(await socket.receive_json_from())
    return seen


async def first_output(headers: list[tuple[bytes, bytes]]) -> Any:
    """What the application sends first on a socket opened with `headers`."""
    socket = await open_socket(headers)
    return await socket.receive_output(timeout=2)


def changed(seen: list[Any]) -> list[tuple[int, str]]:
    return [(m["number"], m["kind"]) for m in seen if m["event"] == "conversation_changed"]


# --- connecting -----------------------------------------------------------------------------


def test_anonymous_socket_is_closed_as_unauthenticated(people: Personas) -> None:
    headers = headers_for(None)

    assert async_to_sync(first_output)(headers) == {"type": "websocket.close", "code": 4401}


def test_deactivated_user_is_closed_as_unauthenticated(people: Personas) -> None:
    headers = headers_for(people.agent)
    people.agent.is_active = False
    people.agent.save()

    assert async_to_sync(first_output)(headers) == {"type": "websocket.close", "code": 4401}


def test_customer_login_without_customer_record_is_forbidden(people: Personas) -> None:
    people.customer.user = None
    people.customer.save()
    headers = headers_for(people.customer_user)

    assert async_to_sync(first_output)(headers) == {"type": "websocket.close", "code": 4403}


def test_socket_from_another_sites_page_is_rejected(people: Personas) -> None:
    headers = headers_for(people.agent, origin="https://evil.example")

    async def scenario() -> bool:
        socket = WebsocketCommunicator("/ws/live/", headers=headers)
        return await socket.connect()

    assert async_to_sync(scenario)() is False


# --- change notices -------------------------------------------------------------------------


def test_agent_hears_of_own_teams_conversation_and_not_of_another_team(
    people: Personas,
) -> None:
    ours = open_conversation(people.customer, team=people.orders)
    theirs = open_conversation(people.other_customer, team=people.billing)
    headers = headers_for(people.agent)

    async def scenario() -> list[Any]:
        socket = await open_socket(headers)
        await sync_to_async(services.add_note)(theirs, by=people.other_agent, text="Billing only")
        await sync_to_async(services.add_note)(ours, by=people.colleague, text="Orders note")
        seen = await events_until_quiet(socket)
        await socket.disconnect()
        return seen

    seen = async_to_sync(scenario)()

    assert changed(seen) == [(ours.number, "MessageAdded")]


def test_a_notice_reaching_a_user_through_two_groups_arrives_once(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.assign(conversation, by=people.agent, assignee=people.agent)
    headers = headers_for(people.agent)  # in the team group and, as assignee, named by id

    async def scenario() -> list[Any]:
        socket = await open_socket(headers)
        await sync_to_async(services.set_priority)(conversation, by=people.agent, priority=3)
        seen = await events_until_quiet(socket)
        await socket.disconnect()
        return seen

    seen = async_to_sync(scenario)()

    assert changed(seen) == [(conversation.number, "ConversationPriorityChanged")]


def test_admin_hears_of_a_conversation_without_a_team(people: Personas) -> None:
    headers = headers_for(people.admin)

    async def scenario() -> tuple[Conversation, list[Any]]:
        socket = await open_socket(headers)
        conversation = await sync_to_async(open_conversation)(people.customer, team=None)
        seen = await events_until_quiet(socket)
        await socket.disconnect()
        return conversation, seen

    conversation, seen = async_to_sync(scenario)()

    assert (conversation.number, "ConversationCreated") in changed(seen)


def test_customer_hears_of_a_public_reply_but_not_of_a_note_or_others_conversations(
    people: Personas,
) -> None:
    own = open_conversation(people.customer, team=people.orders)
    services.assign(own, by=people.agent, assignee=people.agent)
    others = open_conversation(people.other_customer, team=people.orders)
    headers = headers_for(people.customer_user)

    async def scenario() -> tuple[list[Any], list[Any]]:
        socket = await open_socket(headers)
        await sync_to_async(services.add_note)(own, by=people.agent, text="Internal: VIP")
        await sync_to_async(services.add_reply)(others, by=people.agent, text="Hello Piotr")
        after_note = await events_until_quiet(socket)
        await sync_to_async(services.add_reply)(own, by=people.agent, text="On its way")
        after_reply = await events_until_quiet(socket)
        await socket.disconnect()
        return after_note, after_reply

    after_note, after_reply = async_to_sync(scenario)()

    assert after_note == []
    # The reply also moves the conversation to pending, which the customer sees too.
    assert changed(after_reply) == [
        (own.number, "MessageAdded"),
        (own.number, "ConversationStatusChanged"),
    ]


def test_merge_tells_of_both_conversations(people: Personas) -> None:
    target = open_conversation(people.customer, team=people.orders)
    source = open_conversation(people.customer, team=people.orders, subject="Again: parcel")
    headers = headers_for(people.agent)

    async def scenario() -> list[Any]:
        socket = await open_socket(headers)
        await sync_to_async(services.merge)(source, by=people.agent, into=target)
        seen = await events_until_quiet(socket)
        await socket.disconnect()
        return seen

    seen = async_to_sync(scenario)()

    merged = [(n, kind) for n, kind in changed(seen) if kind == "ConversationsMerged"]
    assert sorted(merged) == sorted(
        [(target.number, "ConversationsMerged"), (source.number, "ConversationsMerged")]
    )


def test_joining_a_team_while_connected_starts_its_notices(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.billing)
    headers = headers_for(people.agent)

    async def scenario() -> tuple[list[Any], list[Any]]:
        socket = await open_socket(headers)
        await sync_to_async(account_services.add_team_member)(
            people.billing, by=people.admin, user=people.agent
        )
        joined = await events_until_quiet(socket)
        await sync_to_async(services.add_note)(conversation, by=people.other_agent, text="Hi")
        seen = await events_until_quiet(socket)
        await socket.disconnect()
        return joined, seen

    joined, seen = async_to_sync(scenario)()

    assert [m["event"] for m in joined] == ["inbox_changed"]
    assert changed(seen) == [(conversation.number, "MessageAdded")]


def test_leaving_a_team_while_viewing_stops_its_notices_and_presence(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    number = conversation.number
    anna_headers = headers_for(people.agent)
    carl_headers = headers_for(people.colleague)

    async def scenario() -> tuple[list[Any], list[Any], list[Any]]:
        anna_socket = await open_socket(anna_headers)
        carl_socket = await open_socket(carl_headers)
        await anna_socket.send_json_to({"action": "view", "number": number})
        await next_event(anna_socket, "presence")
        await carl_socket.send_json_to({"action": "view", "number": number})
        await next_event(carl_socket, "presence")  # nobody yet
        await next_event(carl_socket, "presence")  # Anna's answer
        await next_event(anna_socket, "presence")
        await sync_to_async(account_services.update_user)(
            people.agent, by=people.admin, teams=[people.billing]
        )
        anna_after_move = await events_until_quiet(anna_socket)
        carl_after_move = await events_until_quiet(carl_socket)
        await sync_to_async(services.add_note)(conversation, by=people.colleague, text="Hi")
        await carl_socket.send_json_to({"action": "typing", "number": number, "typing": True})
        anna_later = await events_until_quiet(anna_socket)
        await anna_socket.disconnect()
        await carl_socket.disconnect()
        return anna_after_move, carl_after_move, anna_later

    anna_after_move, carl_after_move, anna_later = async_to_sync(scenario)()

    # One reload per membership event (joined billing, left orders).
    assert [m["event"] for m in anna_after_move] == ["inbox_changed", "inbox_changed"]
    assert carl_after_move == [{"event": "presence", "number": number, "viewers": []}]
    assert anna_later == []


def test_deactivating_a_connected_user_closes_their_socket(people: Personas) -> None:
    headers = headers_for(people.agent)

    async def scenario() -> Any:
        socket = await open_socket(headers)
        await sync_to_async(account_services.set_user_active)(
            people.agent, by=people.admin, active=False
        )
        return await socket.receive_output(timeout=2)

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": 4401}


# --- presence -------------------------------------------------------------------------------


def test_two_agents_viewing_a_conversation_see_each_other_typing_and_leaving(
    people: Personas,
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    number = conversation.number
    anna_headers = headers_for(people.agent)
    carl_headers = headers_for(people.colleague)
    anna = {"id": people.agent.pk, "name": people.agent.display_name}
    carl = {"id": people.colleague.pk, "name": people.colleague.display_name}

    async def scenario() -> None:
        anna_socket = await open_socket(anna_headers)
        carl_socket = await open_socket(carl_headers)

        await anna_socket.send_json_to({"action": "view", "number": number})
        assert await next_event(anna_socket, "presence") == {
            "event": "presence", "number": number, "viewers": [],
        }  # fmt: skip
        await carl_socket.send_json_to({"action": "view", "number": number})
        # First what Carl's server knows at once (nobody), then Anna's answer.
        assert (await next_event(carl_socket, "presence"))["viewers"] == []
        assert (await next_event(carl_socket, "presence"))["viewers"] == [anna | {"typing": False}]
        assert (await next_event(anna_socket, "presence"))["viewers"] == [carl | {"typing": False}]

        await carl_socket.send_json_to({"action": "typing", "number": number, "typing": True})
        assert (await next_event(anna_socket, "presence"))["viewers"] == [carl | {"typing": True}]

        await carl_socket.send_json_to({"action": "leave", "number": number})
        assert (await next_event(anna_socket, "presence"))["viewers"] == []

        await carl_socket.send_json_to({"action": "view", "number": number})
        assert (await next_event(anna_socket, "presence"))["viewers"] == [carl | {"typing": False}]
        await carl_socket.disconnect()
        assert (await next_event(anna_socket, "presence"))["viewers"] == []
        await anna_socket.disconnect()

    async_to_sync(scenario)()


def test_agent_who_may_not_see_a_conversation_gets_no_presence(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    number = conversation.number
    anna_headers = headers_for(people.agent)
    bob_headers = headers_for(people.other_agent)  # billing only

    async def scenario() -> tuple[Any, list[Any], list[Any]]:
        anna_socket = await open_socket(anna_headers)
        bob_socket = await open_socket(bob_headers)
        await anna_socket.send_json_to({"action": "view", "number": number})
        await next_event(anna_socket, "presence")
        await bob_socket.send_json_to({"action": "view", "number": number})
        refusal = await bob_socket.receive_json_from(timeout=2)
        await bob_socket.send_json_to({"action": "typing", "number": number, "typing": True})
        await anna_socket.send_json_to({"action": "typing", "number": number, "typing": True})
        bob_heard = await events_until_quiet(bob_socket)
        anna_heard = await events_until_quiet(anna_socket)
        await anna_socket.disconnect()
        await bob_socket.disconnect()
        return refusal, bob_heard, anna_heard

    refusal, bob_heard, anna_heard = async_to_sync(scenario)()

    assert refusal == {"event": "error", "number": number, "error": "not_found"}
    assert bob_heard == []
    assert anna_heard == []


def test_customer_takes_no_part_in_presence(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    number = conversation.number
    anna_headers = headers_for(people.agent)
    jana_headers = headers_for(people.customer_user)

    async def scenario() -> tuple[list[Any], list[Any]]:
        anna_socket = await open_socket(anna_headers)
        jana_socket = await open_socket(jana_headers)
        await anna_socket.send_json_to({"action": "view", "number": number})
        await next_event(anna_socket, "presence")
        await jana_socket.send_json_to({"action": "view", "number": number})
        await jana_socket.send_json_to({"action": "typing", "number": number, "typing": True})
        jana_heard = await events_until_quiet(jana_socket)
        anna_heard = await events_until_quiet(anna_socket)
        await anna_socket.disconnect()
        await jana_socket.disconnect()
        return jana_heard, anna_heard

    jana_heard, anna_heard = async_to_sync(scenario)()

    assert jana_heard == []
    assert anna_heard == []


def test_bad_messages_are_answered_without_dropping_the_socket(people: Personas) -> None:
    headers = headers_for(people.agent)

    async def scenario() -> list[Any]:
        socket = await open_socket(headers)
        answers = []
        for bad in ("not json", '{"action": "view", "number": "7"}', '["view"]'):
            await socket.send_to(text_data=bad)
            answers.append(await socket.receive_json_from(timeout=2))
        await socket.disconnect()
        return answers

    answers = async_to_sync(scenario)()

    assert answers == [{"event": "error", "error": "bad_request"}] * 3
