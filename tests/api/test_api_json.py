"""The hand-built JSON of the list and retrieve endpoints matches their documented schemas."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import RequestFactory

from frontdesk.accounts.models import User
from frontdesk.conversations import api_json, services
from frontdesk.conversations.api import ConversationDetailOut, ConversationOut
from frontdesk.conversations.models import FieldKind, Status
from frontdesk.conversations.selectors import (
    ConversationFilters,
    conversation_with_messages,
    list_conversations,
)
from tests.api.conftest import Api
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation

pytestmark = pytest.mark.django_db


def _rich_conversation(people: Personas) -> int:
    services.create_field_definition(
        by=None, key="order", label="Order", kind=FieldKind.TEXT, visible_to_customers=True
    )
    services.create_field_definition(by=None, key="cost", label="Cost", kind=FieldKind.NUMBER)
    conversation = open_conversation(
        people.customer,
        team=people.orders,
        tags=["vip", "refund"],
        fields={"order": "A-1", "cost": 12.5},
        attachments=[services.Upload("note.txt", b"hello")],
    )
    services.add_reply(conversation, by=people.agent, text="On it", status=Status.PENDING)
    services.add_note(conversation, by=people.agent, text="internal")
    other = open_conversation(people.customer, team=people.orders)
    services.merge(other, by=people.agent, into=conversation)
    return conversation.number


def _schema_dump(schema: type[Any], obj: Any, request: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = schema.from_orm(obj, context={"request": request}).model_dump()
    return dumped


def test_list_items_equal_what_the_schema_would_produce(people: Personas) -> None:
    _rich_conversation(people)
    request = RequestFactory().get("/")
    request.auth = people.agent  # type: ignore[attr-defined]
    page = list_conversations(people.agent, filters=ConversationFilters())
    for conversation in page.items:
        fast = api_json.conversation_summary(conversation, visible_fields=None)
        assert fast == _schema_dump(ConversationOut, conversation, request)
        assert set(fast) == set(ConversationOut.model_fields)


@pytest.mark.parametrize("who", ["agent", "customer_user"])
def test_detail_equals_what_the_schema_would_produce(people: Personas, who: str) -> None:
    number = _rich_conversation(people)
    user = getattr(people, who)
    request = RequestFactory().get("/")
    request.auth = user  # type: ignore[attr-defined]
    conversation, messages = conversation_with_messages(user, number)
    visible = {"order"} if user.is_customer else None
    fast = api_json.conversation_detail(conversation, messages, visible_fields=visible)

    class Detail:
        def __init__(self) -> None:
            self.messages = messages

        def __getattr__(self, name: str) -> Any:
            return getattr(conversation, name)

    assert fast == _schema_dump(ConversationDetailOut, Detail(), request)
    assert set(fast) == set(ConversationDetailOut.model_fields)
    if user.is_customer:
        assert fast["custom_fields"] == {"order": "A-1"}
        assert {m["kind"] for m in fast["messages"]} == {"customer", "reply"}
    else:
        assert fast["custom_fields"] == {"order": "A-1", "cost": 12.5}
        assert any(m["attachments"] for m in fast["messages"])


def test_create_answers_with_the_summary_a_read_gives(
    people: Personas, api_as: Callable[[User], Api]
) -> None:
    services.create_field_definition(by=None, key="cost", label="Cost", kind=FieldKind.NUMBER)
    api = api_as(people.agent)
    created = api.post(
        "/conversations",
        {
            "subject": "Refund",
            "customer_id": people.customer.pk,
            "message": {"text": "Please refund"},
            "team_id": people.orders.pk,
            "tags": ["Refund", "vip", "refund"],
            "custom_fields": {"cost": 3},
        },
    )
    assert created.status_code == 201
    body = json.loads(created.content)
    assert body["tags"] == ["refund", "vip"]
    read = json.loads(api.get(f"/conversations/{body['number']}").content)
    assert {k: read[k] for k in body} == body
