"""The conversations endpoints: create, list, retrieve, change, reply, note, merge, transfer."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, Message, Priority, Status
from frontdesk.customers.models import Customer
from tests.api.conftest import BASE, Api, assert_problem, open_conversation
from tests.conftest import Personas

ApiAs = Callable[..., Api]

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _json(response: Any) -> Any:
    return json.loads(response.content)


@pytest.fixture
def agent_api(people: Personas, api_as: ApiAs) -> Api:
    return api_as(people.agent)


@pytest.fixture
def conversation(people: Personas) -> Conversation:
    return open_conversation(people.customer, team=people.orders, tags=["delivery"])


# --- create ----------------------------------------------------------------------------


def test_create_for_a_known_customer_returns_it_with_its_first_message(
    people: Personas, agent_api: Api
) -> None:
    response = agent_api.post(
        "/conversations",
        {
            "subject": "Wrong size delivered",
            "customer_id": people.customer.pk,
            "message": {"text": "I ordered M and got XL.", "html": "<p>I ordered <b>M</b></p>"},
            "team_id": people.orders.pk,
            "priority": "high",
            "tags": ["Returns", "size"],
            "language": "en",
        },
    )
    assert response.status_code == 201, response.content
    body = _json(response)
    assert body["subject"] == "Wrong size delivered"
    assert body["status"] == "new"
    assert body["priority"] == "high"
    assert body["channel"] == "api"
    assert body["customer"] == {"id": people.customer.pk, "name": "Jana Nováková"}
    assert body["team"] == {"id": people.orders.pk, "name": "Orders"}
    assert body["tags"] == ["returns", "size"]
    stored = Conversation.objects.get(number=body["number"])
    assert stored.priority == Priority.HIGH
    (message,) = stored.messages.all()
    assert (message.kind, message.text) == ("customer", "I ordered M and got XL.")


def test_create_by_email_makes_the_customer_once(people: Personas, agent_api: Api) -> None:
    payload = {
        "subject": "Invoice question",
        "customer_email": "New.Person@Example.net",
        "customer_name": "New Person",
        "message": {"text": "Where is my invoice?"},
    }
    first = _json(agent_api.post("/conversations", payload))
    second = _json(agent_api.post("/conversations", payload))
    assert first["customer"]["name"] == "New Person"
    assert first["customer"]["id"] == second["customer"]["id"]
    assert Customer.objects.filter(identities__normalized="new.person@example.net").count() == 1


def test_create_as_outbound_reply_starts_open(people: Personas, agent_api: Api) -> None:
    response = agent_api.post(
        "/conversations",
        {
            "subject": "Your refund",
            "customer_id": people.customer.pk,
            "message": {"text": "We have refunded you.", "kind": "reply"},
        },
    )
    body = _json(response)
    assert response.status_code == 201, body
    assert body["status"] == "open"
    thread = _json(agent_api.get(f"/conversations/{body['number']}"))["messages"]
    assert [m["kind"] for m in thread] == ["reply"]


def test_create_with_an_attachment_returns_its_metadata(people: Personas, agent_api: Api) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    response = agent_api.post(
        "/conversations",
        {
            "subject": "Photo of the damage",
            "customer_id": people.customer.pk,
            "message": {
                "text": "See the photo.",
                "attachments": [
                    {"filename": "box.png", "content_base64": base64.b64encode(png).decode()}
                ],
            },
        },
    )
    assert response.status_code == 201, response.content
    thread = _json(agent_api.get(f"/conversations/{_json(response)['number']}"))["messages"]
    (attachment,) = thread[0]["attachments"]
    assert attachment["filename"] == "box.png"
    assert attachment["size"] == len(png)
    assert attachment["content_type"] == "image/png"
    assert len(attachment["sha256"]) == 64


def test_create_with_bad_base64_names_the_attachment(people: Personas, agent_api: Api) -> None:
    response = agent_api.post(
        "/conversations",
        {
            "subject": "Photo",
            "customer_id": people.customer.pk,
            "message": {
                "text": "See.",
                "attachments": [{"filename": "a.png", "content_base64": "%%%"}],
            },
        },
    )
    assert_problem(response, 422, field="message.attachments.0.content_base64")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"priority": "extreme"}, "priority"),
        ({"channel": "pigeon"}, "channel"),
        ({"message": {}}, "message.text"),
        ({"tags": "vip"}, "tags"),
        ({"customer_id": "seven"}, "customer_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_create_with_bad_input_names_the_field(
    people: Personas, agent_api: Api, change: dict[str, Any], field: str
) -> None:
    payload = {
        "subject": "Hello",
        "customer_id": people.customer.pk,
        "message": {"text": "Hi"},
        **change,
    }
    assert_problem(agent_api.post("/conversations", payload), 422, field=field)
    assert not Conversation.objects.exists()


def test_create_without_a_customer_names_customer_id(people: Personas, agent_api: Api) -> None:
    response = agent_api.post("/conversations", {"subject": "Hi", "message": {"text": "Hi"}})
    assert_problem(response, 422, field="customer_id")


def test_create_with_both_customer_id_and_email_is_refused(
    people: Personas, agent_api: Api
) -> None:
    response = agent_api.post(
        "/conversations",
        {
            "subject": "Hi",
            "customer_id": people.customer.pk,
            "customer_email": "x@example.net",
            "message": {"text": "Hi"},
        },
    )
    assert_problem(response, 422, field="customer_email")


def test_create_with_a_malformed_email_names_customer_email(
    people: Personas, agent_api: Api
) -> None:
    response = agent_api.post(
        "/conversations",
        {"subject": "Hi", "customer_email": "not an address", "message": {"text": "Hi"}},
    )
    assert_problem(response, 422, field="customer_email")
    assert not Customer.objects.filter(name="").exists()


def test_create_with_unknown_references_names_them(people: Personas, agent_api: Api) -> None:
    for field in ("customer_id", "team_id", "assignee_id"):
        payload: dict[str, Any] = {
            "subject": "Hi",
            "customer_id": people.customer.pk,
            "message": {"text": "Hi"},
            field: 999_999,
        }
        assert_problem(agent_api.post("/conversations", payload), 422, field=field)


def test_create_refused_by_the_service_names_the_request_field(
    people: Personas, agent_api: Api
) -> None:
    response = agent_api.post(
        "/conversations",
        {
            "subject": "Hi",
            "customer_id": people.customer.pk,
            "message": {"text": "Hi"},
            "team_id": people.orders.pk,
            "assignee_id": people.other_agent.pk,
        },
    )
    assert_problem(response, 422, field="assignee_id")
    assert not Conversation.objects.exists()


def test_refused_create_by_email_leaves_no_customer_behind(
    people: Personas, agent_api: Api
) -> None:
    response = agent_api.post(
        "/conversations",
        {
            "subject": "Hi",
            "customer_email": "brand.new@example.net",
            "message": {"text": "Hi"},
            "team_id": people.orders.pk,
            "assignee_id": people.other_agent.pk,
        },
    )
    assert_problem(response, 422, field="assignee_id")
    assert not Customer.objects.filter(identities__normalized="brand.new@example.net").exists()


def test_customer_may_not_create_customers_by_email(people: Personas) -> None:
    client = Client()
    client.force_login(people.customer_user)
    response = client.post(
        f"{BASE}/conversations",
        {"subject": "Hi", "customer_email": "someone@example.net", "message": {"text": "Hi"}},
        content_type="application/json",
    )
    assert_problem(response, 403, field="customer_email")  # type: ignore[arg-type]


def test_customer_opens_a_conversation_for_themselves(people: Personas) -> None:
    client = Client()
    client.force_login(people.customer_user)
    response = client.post(
        f"{BASE}/conversations",
        {"subject": "Lost parcel", "customer_id": people.customer.pk, "message": {"text": "Hi"}},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert _json(response)["customer"]["id"] == people.customer.pk


def test_customer_may_not_open_a_conversation_for_someone_else(people: Personas) -> None:
    client = Client()
    client.force_login(people.customer_user)
    response = client.post(
        f"{BASE}/conversations",
        {"subject": "Hi", "customer_id": people.other_customer.pk, "message": {"text": "Hi"}},
        content_type="application/json",
    )
    assert_problem(response, 422, field="customer_id")  # type: ignore[arg-type]
    assert not Conversation.objects.exists()


# --- list ------------------------------------------------------------------------------


def _numbers(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["number"] for item in _json(response)["items"]]


def test_list_shows_newest_activity_first(people: Personas, agent_api: Api) -> None:
    older = open_conversation(people.customer, team=people.orders, at=T0)
    newer = open_conversation(people.customer, team=people.orders, at=T0 + timedelta(hours=1))
    body = _json(agent_api.get("/conversations"))
    assert [item["number"] for item in body["items"]] == [newer.number, older.number]
    assert body["next_cursor"] is None


def test_list_filters_narrow_the_results(people: Personas, agent_api: Api) -> None:
    plain = open_conversation(people.customer, team=people.orders, channel="email")
    tagged = open_conversation(
        people.other_customer, team=people.orders, tags=["vip"], channel="chat"
    )
    mine = open_conversation(people.customer, team=people.orders, assignee=people.agent)
    services.set_status(mine, by=None, status=Status.PENDING)

    assert _numbers(agent_api.get("/conversations", {"tag": "VIP"})) == [tagged.number]
    assert _numbers(agent_api.get("/conversations", {"channel": "chat"})) == [tagged.number]
    assert _numbers(agent_api.get("/conversations", {"status": "pending"})) == [mine.number]
    assert _numbers(agent_api.get("/conversations", {"assignee": people.agent.pk})) == [mine.number]
    assert sorted(_numbers(agent_api.get("/conversations", {"assignee": "none"}))) == sorted(
        [plain.number, tagged.number]
    )
    assert _numbers(agent_api.get("/conversations", {"customer": people.other_customer.pk})) == [
        tagged.number
    ]
    assert len(_numbers(agent_api.get("/conversations", {"team": people.orders.pk}))) == 3
    assert _numbers(agent_api.get("/conversations", {"team": people.billing.pk})) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"assignee": "nobody"}, "assignee"),
        ({"team": "orders"}, "team"),
        ({"channel": "fax"}, "channel"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "2025-03-01T09:00:00"}, "updated_since"),
        ({"cursor": "eyJ4Ijox"}, "cursor"),
    ],
)
def test_list_with_bad_parameters_names_them(
    people: Personas, agent_api: Api, params: dict[str, Any], field: str
) -> None:
    assert_problem(agent_api.get("/conversations", params), 422, field=field)


def test_cursor_pagination_walks_every_row_exactly_once(people: Personas, agent_api: Api) -> None:
    created = [
        open_conversation(people.customer, team=people.orders, at=T0 + timedelta(minutes=i % 3))
        for i in range(11)
    ]
    seen: list[int] = []
    cursor = None
    for _page in range(10):
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        body = _json(agent_api.get("/conversations", params))
        seen.extend(item["number"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(c.number for c in created)
    assert len(seen) == len(set(seen)) == 11


def test_updated_since_returns_changes_oldest_first(people: Personas, agent_api: Api) -> None:
    old = open_conversation(people.customer, team=people.orders, at=T0)
    changed = open_conversation(people.customer, team=people.orders, at=T0)
    services.set_priority(changed, by=None, priority=Priority.URGENT, at=T0 + timedelta(days=2))
    fresh = open_conversation(people.customer, team=people.orders, at=T0 + timedelta(days=1))

    since = (T0 + timedelta(hours=1)).isoformat()
    assert _numbers(agent_api.get("/conversations", {"updated_since": since})) == [
        fresh.number,
        changed.number,
    ]
    all_numbers = _numbers(agent_api.get("/conversations", {"updated_since": T0.isoformat()}))
    assert old.number in all_numbers


def test_updated_since_pages_resume_with_the_cursor(people: Personas, agent_api: Api) -> None:
    for i in range(5):
        open_conversation(people.customer, team=people.orders, at=T0 + timedelta(minutes=i))
    since = T0.isoformat()
    first = _json(agent_api.get("/conversations", {"updated_since": since, "limit": 3}))
    rest = _json(
        agent_api.get(
            "/conversations", {"updated_since": since, "limit": 3, "cursor": first["next_cursor"]}
        )
    )
    numbers = [i["number"] for i in first["items"]] + [i["number"] for i in rest["items"]]
    assert numbers == sorted(numbers)
    assert len(numbers) == 5
    assert rest["next_cursor"] is None


def test_agent_lists_only_their_teams_conversations(people: Personas, api_as: ApiAs) -> None:
    orders = open_conversation(people.customer, team=people.orders)
    billing = open_conversation(people.customer, team=people.billing)
    assert _numbers(api_as(people.agent).get("/conversations")) == [orders.number]
    assert _numbers(api_as(people.other_agent).get("/conversations")) == [billing.number]


def test_customer_lists_only_their_own_conversations(people: Personas) -> None:
    own = open_conversation(people.customer, team=people.orders)
    open_conversation(people.other_customer, team=people.orders)
    client = Client()
    client.force_login(people.customer_user)
    assert _numbers(client.get(f"{BASE}/conversations")) == [own.number]


# --- retrieve --------------------------------------------------------------------------


def test_retrieve_includes_messages_in_order(
    people: Personas, agent_api: Api, conversation: Conversation
) -> None:
    services.add_reply(conversation, by=people.agent, text="On its way.")
    services.add_note(conversation, by=people.agent, text="Courier is late again.")
    response = agent_api.get(f"/conversations/{conversation.number}")
    assert response.status_code == 200, response.content
    body = _json(response)
    assert body["number"] == conversation.number
    assert body["tags"] == ["delivery"]
    assert body["merged_into"] is None
    assert [(m["kind"], m["text"]) for m in body["messages"]] == [
        ("customer", "Order 1042 was due on Monday and is still not here."),
        ("reply", "On its way."),
        ("note", "Courier is late again."),
    ]
    reply = body["messages"][1]
    assert reply["author_user"]["email"] == "anna@example.com"
    assert body["messages"][0]["author_customer"]["id"] == people.customer.pk


def test_retrieve_unknown_number_is_a_404_problem(people: Personas, agent_api: Api) -> None:
    assert_problem(agent_api.get("/conversations/424242"), 404, slug="not-found")


def test_agent_of_another_team_gets_404(
    people: Personas, api_as: ApiAs, conversation: Conversation
) -> None:
    other = api_as(people.other_agent)
    assert_problem(other.get(f"/conversations/{conversation.number}"), 404)
    assert_problem(other.patch(f"/conversations/{conversation.number}", {"priority": "low"}), 404)
    assert_problem(other.post(f"/conversations/{conversation.number}/replies", {"text": "Hi"}), 404)


def test_customer_sees_own_conversation_without_notes(
    people: Personas, conversation: Conversation
) -> None:
    services.add_note(conversation, by=people.agent, text="Internal only.")
    services.add_reply(conversation, by=people.agent, text="Public answer.")
    client = Client()
    client.force_login(people.customer_user)
    body = _json(client.get(f"{BASE}/conversations/{conversation.number}"))
    assert [m["kind"] for m in body["messages"]] == ["customer", "reply"]


def test_customer_gets_404_for_another_customers_conversation(people: Personas) -> None:
    theirs = open_conversation(people.other_customer, team=people.orders)
    client = Client()
    client.force_login(people.customer_user)
    assert_problem(client.get(f"{BASE}/conversations/{theirs.number}"), 404)  # type: ignore[arg-type]


def test_customer_sees_only_custom_fields_meant_for_customers(people: Personas) -> None:
    services.create_field_definition(by=None, key="order_no", label="Order", kind="text",
                                     visible_to_customers=True)  # fmt: skip
    services.create_field_definition(by=None, key="fraud_score", label="Fraud", kind="number")
    conv = open_conversation(
        people.customer, team=people.orders, fields={"order_no": "A-1", "fraud_score": 7}
    )
    client = Client()
    client.force_login(people.customer_user)
    body = _json(client.get(f"{BASE}/conversations/{conv.number}"))
    assert body["custom_fields"] == {"order_no": "A-1"}
    listed = _json(client.get(f"{BASE}/conversations"))["items"][0]
    assert listed["custom_fields"] == {"order_no": "A-1"}


# --- update ----------------------------------------------------------------------------


def test_patch_changes_only_the_keys_sent(
    people: Personas, agent_api: Api, conversation: Conversation
) -> None:
    response = agent_api.patch(
        f"/conversations/{conversation.number}",
        {"status": "pending", "priority": "urgent", "tags": ["vip", "delivery"]},
    )
    assert response.status_code == 200, response.content
    body = _json(response)
    assert (body["status"], body["priority"], body["tags"]) == (
        "pending",
        "urgent",
        ["delivery", "vip"],
    )
    assert body["team"]["id"] == people.orders.pk


def test_patch_tags_replaces_the_set(
    people: Personas, agent_api: Api, conversation: Conversation
) -> None:
    body = _json(agent_api.patch(f"/conversations/{conversation.number}", {"tags": ["Damaged"]}))
    assert body["tags"] == ["damaged"]


def test_patch_assigns_and_unassigns(
    people: Personas, agent_api: Api, conversation: Conversation
) -> None:
    body = _json(
        agent_api.patch(f"/conversations/{conversation.number}", {"assignee_id": people.agent.pk})
    )
    assert body["assignee"]["id"] == people.agent.pk
    body = _json(agent_api.patch(f"/conversations/{conversation.number}", {"assignee_id": None}))
    assert body["assignee"] is None


def test_patch_sets_custom_fields(people: Personas, agent_api: Api) -> None:
    services.create_field_definition(by=None, key="order_no", label="Order", kind="text")
    conv = open_conversation(people.customer, team=people.orders)
    body = _json(
        agent_api.patch(f"/conversations/{conv.number}", {"custom_fields": {"order_no": "B-7"}})
    )
    assert body["custom_fields"] == {"order_no": "B-7"}


def test_patch_applies_edits_before_moving_the_conversation_away(
    people: Personas, api_as: ApiAs, conversation: Conversation
) -> None:
    response = api_as(people.supervisor).patch(
        f"/conversations/{conversation.number}",
        {"team_id": people.billing.pk, "priority": "high", "tags": ["billing"]},
    )
    assert response.status_code == 200, response.content
    body = _json(response)
    assert (body["team"]["id"], body["priority"], body["tags"]) == (
        people.billing.pk,
        "high",
        ["billing"],
    )


def test_patch_is_all_or_nothing(
    people: Personas, agent_api: Api, conversation: Conversation
) -> None:
    # Priority is applied before status; the refused status must undo it.
    response = agent_api.patch(
        f"/conversations/{conversation.number}", {"priority": "urgent", "status": "closed"}
    )
    assert_problem(response, 409, field="status")
    conversation.refresh_from_db()
    assert conversation.priority == Priority.NORMAL
    assert conversation.status == Status.NEW


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": None}, "status"),
        ({"status": "lost"}, "status"),
        ({"priority": 3}, "priority"),
        ({"team_id": 999_999}, "team_id"),
        ({"assignee_id": 999_999}, "assignee_id"),
        ({"custom_fields": {"nope": 1}}, "custom_fields.nope"),
        ({"subject": "New subject"}, "subject"),
    ],
)
def test_patch_with_bad_input_names_the_field(
    people: Personas,
    agent_api: Api,
    conversation: Conversation,
    payload: dict[str, Any],
    field: str,
) -> None:
    response = agent_api.patch(f"/conversations/{conversation.number}", payload)
    body = assert_problem(response, response.status_code)
    assert response.status_code in {404, 409, 422}
    assert body["field"] == field


# --- replies, notes, customer messages -------------------------------------------------


def test_reply_returns_the_message_and_can_set_status(
    people: Personas, agent_api: Api, conversation: Conversation
) -> None:
    response = agent_api.post(
        f"/conversations/{conversation.number}/replies",
        {"text": "Refund sent.", "status": "solved"},
    )
    assert response.status_code == 201, response.content
    body = _json(response)
    assert (body["kind"], body["text"]) == ("reply", "Refund sent.")
    conversation.refresh_from_db()
    assert conversation.status == Status.SOLVED


def test_reply_with_empty_text_names_text(
    people: Personas, agent_api: Api, conversation: Conversation
) -> None:
    response = agent_api.post(f"/conversations/{conversation.number}/replies", {"text": ""})
    assert_problem(response, 422, field="text")


def test_reply_with_unknown_status_names_status(
    people: Personas, agent_api: Api, conversation: Conversation
) -> None:
    response = agent_api.post(
        f"/conversations/{conversation.number}/replies", {"text": "Hi", "status": "done"}
    )
    assert_problem(response, 422, field="status")


def test_note_is_added_as_a_note(
    people: Personas, agent_api: Api, conversation: Conversation
) -> None:
    response = agent_api.post(
        f"/conversations/{conversation.number}/notes", {"text": "Ask the courier."}
    )
    assert response.status_code == 201, response.content
    assert _json(response)["kind"] == "note"
    assert_problem(
        agent_api.post(
            f"/conversations/{conversation.number}/notes", {"text": "x", "status": "open"}
        ),
        422,
        field="status",
    )


def test_customer_may_not_add_a_note(people: Personas, conversation: Conversation) -> None:
    client = Client()
    client.force_login(people.customer_user)
    response = client.post(
        f"{BASE}/conversations/{conversation.number}/notes",
        {"text": "Let me in"},
        content_type="application/json",
    )
    assert response.status_code in {403, 404}
    assert_problem(response, response.status_code)  # type: ignore[arg-type]
    assert not Message.objects.filter(text="Let me in").exists()


def test_customer_message_reopens_a_solved_conversation(
    people: Personas, agent_api: Api, conversation: Conversation
) -> None:
    services.add_reply(conversation, by=people.agent, text="Done.", status=Status.SOLVED)
    response = agent_api.post(
        f"/conversations/{conversation.number}/customer-messages",
        {"text": "Still broken, sorry."},
    )
    assert response.status_code == 201, response.content
    assert _json(response)["kind"] == "customer"
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN


# --- merge and transfer ----------------------------------------------------------------


def test_merge_moves_messages_into_the_target(
    people: Personas, agent_api: Api, conversation: Conversation
) -> None:
    target = open_conversation(people.customer, team=people.orders, subject="Same parcel")
    response = agent_api.post(
        f"/conversations/{conversation.number}/merge", {"into": target.number}
    )
    assert response.status_code == 200, response.content
    assert _json(response)["number"] == target.number
    source = _json(agent_api.get(f"/conversations/{conversation.number}"))
    assert source["merged_into"] == target.number
    assert source["status"] == "closed"


@pytest.mark.parametrize("into", ["self", 999_999, None])
def test_merge_with_a_bad_target_names_into(
    people: Personas, agent_api: Api, conversation: Conversation, into: Any
) -> None:
    value = conversation.number if into == "self" else into
    response = agent_api.post(f"/conversations/{conversation.number}/merge", {"into": value})
    assert_problem(response, 422, field="into")


def test_merge_into_a_conversation_of_another_team_names_into(
    people: Personas, agent_api: Api, conversation: Conversation
) -> None:
    hidden = open_conversation(people.customer, team=people.billing)
    response = agent_api.post(
        f"/conversations/{conversation.number}/merge", {"into": hidden.number}
    )
    assert_problem(response, 422, field="into")


def test_transfer_moves_team_and_keeps_the_owner(
    people: Personas, api_as: ApiAs, conversation: Conversation
) -> None:
    services.assign(conversation, by=None, assignee=people.agent)
    supervisor = api_as(people.supervisor)
    response = supervisor.post(
        f"/conversations/{conversation.number}/transfer",
        {"team_id": people.billing.pk, "assignee_id": people.other_agent.pk, "note": "Invoice"},
    )
    assert response.status_code == 200, response.content
    body = _json(response)
    assert body["team"]["id"] == people.billing.pk
    assert body["assignee"]["id"] == people.other_agent.pk
    assert body["owner"]["id"] == people.agent.pk


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "team_id"), ({"team_id": 999_999}, "team_id"), ({"team_id": "x"}, "team_id")],
)
def test_transfer_with_bad_input_names_the_field(
    people: Personas,
    agent_api: Api,
    conversation: Conversation,
    payload: dict[str, Any],
    field: str,
) -> None:
    response = agent_api.post(f"/conversations/{conversation.number}/transfer", payload)
    assert_problem(response, 422, field=field)


# --- no N+1 ----------------------------------------------------------------------------


def _queries_for(api: Api, path: str, assert_queries: Any, expected: int) -> None:
    with assert_queries(expected):
        response = api.get(path)
    assert response.status_code == 200, response.content


# Authentication (token look-up, last-used bump), the agent's team ids, the page
# of conversations with customer/team/assignee/owner joined, and the tags.
LIST_QUERIES = 5


@pytest.mark.parametrize("count", [5, 25])
def test_list_query_count_does_not_grow_with_rows(
    people: Personas, agent_api: Api, django_assert_num_queries: Any, count: int
) -> None:
    for i in range(count):
        open_conversation(
            people.customer if i % 2 else people.other_customer,
            team=people.orders,
            assignee=people.agent if i % 3 else people.colleague,
            tags=[f"tag-{i % 4}", "common"],
        )
    _queries_for(agent_api, "/conversations?limit=200", django_assert_num_queries, LIST_QUERIES)


# Authentication (token look-up, last-used bump), team ids, the conversation with
# its joins, its tags, the customer's identities, the messages with authors
# joined, and their attachments.
RETRIEVE_QUERIES = 8


@pytest.mark.parametrize("replies", [1, 8])
def test_retrieve_query_count_does_not_grow_with_messages(
    people: Personas,
    agent_api: Api,
    conversation: Conversation,
    django_assert_num_queries: Any,
    replies: int,
) -> None:
    png = services.Upload(filename="p.png", content=b"\x89PNG\r\n\x1a\n" + b"\x00" * 8)
    for i in range(replies):
        services.add_reply(conversation, by=people.agent, text=f"Reply {i}", attachments=[png])
        services.add_note(conversation, by=people.colleague, text=f"Note {i}")
    _queries_for(
        agent_api,
        f"/conversations/{conversation.number}",
        django_assert_num_queries,
        RETRIEVE_QUERIES,
    )
