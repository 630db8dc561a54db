"""Macros and canned replies in the composer: pickers, previews, and sending with a macro."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from frontdesk.automation import services as automation
from frontdesk.automation.models import Macro
from frontdesk.conversations.models import Conversation, Message, MessageKind, Priority
from frontdesk.core.models import Via
from tests.automation.conftest import Live, Open, events_of, fresh, tags_of
from tests.conftest import Personas

HX = {"HX-Request": "true"}


@pytest.fixture
def agent_client(client: Client, people: Personas) -> Client:
    client.force_login(people.agent)
    return client


@pytest.fixture
def conversation(open_conversation: Open) -> Conversation:
    return open_conversation()


def send_with(
    client: Client, conversation: Conversation, macro: Macro, text: str, **extra: str
) -> Any:
    """The composer's send (htmx) of a reply with `macro` applied, every message seen."""
    return client.post(
        reverse("automation:macro_send", args=[conversation.number]),
        {"kind": "reply", "text": text, "macro": macro.pk, "seen": 10**9, **extra},
        headers=HX,
    )


def refund_macro(people: Personas, **extra: Any) -> Macro:
    values: dict[str, Any] = {
        "name": "Refund on its way",
        "text": "Hello {{ customer.first_name }}, {{ agent.first_name }} here: your refund "
        "for #{{ conversation.number }} is on its way.",
        "actions": [
            {"type": "add_tags", "value": ["refund"]},
            {"type": "set_priority", "value": Priority.HIGH},
            {"type": "set_status", "value": "pending"},
        ],
        **extra,
    }
    return automation.create_macro(by=people.admin, **values)


def test_the_composer_loads_the_pickers_with_the_macros_the_agent_may_use(
    agent_client: Client, people: Personas, conversation: Conversation
) -> None:
    shared = refund_macro(people)
    automation.create_macro(by=people.admin, name="Orders only", text="x", team=people.orders)
    automation.create_macro(by=people.admin, name="Billing only", text="x", team=people.billing)
    automation.create_macro(by=people.admin, name="Off", text="x", active=False)
    automation.create_macro(
        by=people.colleague, name="Carl's own", text="x", owner=people.colleague
    )
    automation.create_macro(by=people.agent, name="Anna's own", text="x", owner=people.agent)
    automation.create_canned_reply(by=people.admin, name="Thanks", texts={"en": "Thanks!"})
    page = agent_client.get(reverse("conversations:detail", args=[conversation.number]))
    tools_url = reverse("automation:composer_tools", args=[conversation.number])
    assert f'hx-get="{tools_url}"' in page.content.decode()
    send_url = reverse("automation:macro_send", args=[conversation.number])
    assert f'data-macro-send="{send_url}"' in page.content.decode()
    tools = agent_client.get(tools_url).content.decode()
    for name in ("Refund on its way", "Orders only", "Anna&#x27;s own", "Thanks"):
        assert name in tools, name
    for name in ("Billing only", "Off", "Carl"):
        assert name not in tools, name
    preview_url = reverse("automation:macro_preview", args=[conversation.number, shared.pk])
    assert f'data-url="{preview_url}"' in tools


def test_a_macro_preview_fills_the_placeholders_and_changes_nothing(
    agent_client: Client, people: Personas, conversation: Conversation
) -> None:
    macro = refund_macro(people)
    url = reverse("automation:macro_preview", args=[conversation.number, macro.pk])
    data = json.loads(agent_client.get(url).content)
    assert data["text"] == (
        f"Hello Jana, Anna here: your refund for #{conversation.number} is on its way."
    )
    assert data["status"] == "pending"
    assert len(data["actions"]) == 3
    assert tags_of(conversation) == set()
    assert fresh(conversation).status == "new"


def test_sending_with_a_macro_sends_the_reply_and_applies_its_actions_as_the_agent(
    agent_client: Client, people: Personas, conversation: Conversation, live: Live
) -> None:
    macro = refund_macro(people)
    with live():
        response = send_with(agent_client, conversation, macro, "Your refund is on its way.")
    assert response.status_code == 200
    assert response["HX-Trigger"] == f"fd:conversation-{conversation.number}-changed"
    assert 'data-sent="reply"' in response.content.decode()
    current = fresh(conversation)
    (reply,) = Message.objects.filter(conversation=current, kind=MessageKind.REPLY)
    assert reply.text == "Your refund is on its way."
    assert reply.author_user_id == people.agent.pk
    assert (current.status, current.priority) == ("pending", Priority.HIGH)
    assert tags_of(current) == {"refund"}
    cause = {"kind": "macro", "id": macro.pk, "name": macro.name}
    for action in ("conversation.tags_changed", "conversation.priority_changed"):
        (row,) = events_of(current, action)
        assert row.data["cause"] == cause
        assert (row.actor_id, row.via) == (people.agent.pk, Via.WEB)


def test_a_status_chosen_in_the_composer_wins_over_the_macros(
    agent_client: Client, people: Personas, conversation: Conversation, live: Live
) -> None:
    macro = refund_macro(people)
    with live():
        send_with(agent_client, conversation, macro, "Done.", then_status="solved")
    assert fresh(conversation).status == "solved"


def test_a_refused_action_sends_nothing_and_keeps_the_composer(
    agent_client: Client, people: Personas, conversation: Conversation
) -> None:
    # Anna may not hand a conversation to a billing agent: the whole send is refused.
    macro = automation.create_macro(
        by=people.admin,
        name="To Bob",
        text="",
        actions=[{"type": "assign", "value": people.other_agent.pk}],
    )
    response = send_with(agent_client, conversation, macro, "Passing you on.")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Passing you on." in page
    assert f'name="macro" value="{macro.pk}"' in page
    assert 'role="alert"' in page
    assert not Message.objects.filter(conversation=conversation, kind=MessageKind.REPLY).exists()
    assert fresh(conversation).assignee_id is None


def test_an_empty_composer_with_an_action_macro_applies_only_the_actions(
    agent_client: Client, people: Personas, conversation: Conversation
) -> None:
    macro = automation.create_macro(
        by=people.admin,
        name="Take it",
        actions=[{"type": "assign", "value": "me"}, {"type": "add_tags", "value": ["mine"]}],
    )
    send_with(agent_client, conversation, macro, "")
    assert fresh(conversation).assignee_id == people.agent.pk
    assert tags_of(conversation) == {"mine"}
    assert not Message.objects.filter(conversation=conversation, kind=MessageKind.REPLY).exists()


def test_a_macro_of_another_team_cannot_be_used(
    agent_client: Client, people: Personas, conversation: Conversation
) -> None:
    macro = automation.create_macro(by=people.admin, name="Billing", text="x", team=people.billing)
    url = reverse("automation:macro_preview", args=[conversation.number, macro.pk])
    assert agent_client.get(url).status_code == 404
    response = send_with(agent_client, conversation, macro, "x")
    assert response.status_code == 404


def test_a_canned_reply_comes_in_the_customers_language_with_placeholders_filled(
    agent_client: Client, people: Personas, open_conversation: Open
) -> None:
    canned = automation.create_canned_reply(
        by=people.admin,
        name="Thanks",
        texts={
            "en": "Thanks, {{ customer.first_name }}!",
            "cs": "Díky, {{ customer.first_name }}!",
        },
    )
    people.customer.language = "cs"
    people.customer.save()
    czech = open_conversation()
    url = reverse("automation:canned_text", args=[czech.number, canned.pk])
    assert json.loads(agent_client.get(url).content) == {"language": "cs", "text": "Díky, Jana!"}
    people.other_customer.language = "ru"
    people.other_customer.save()
    russian = open_conversation(customer=people.other_customer)
    url = reverse("automation:canned_text", args=[russian.number, canned.pk])
    assert json.loads(agent_client.get(url).content) == {"language": "en", "text": "Thanks, Piotr!"}


def test_agents_of_another_team_cannot_open_the_pickers_of_a_conversation(
    client: Client, people: Personas, conversation: Conversation
) -> None:
    client.force_login(people.other_agent)
    url = reverse("automation:composer_tools", args=[conversation.number])
    assert client.get(url).status_code == 404
