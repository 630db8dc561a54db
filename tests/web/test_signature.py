"""The agent's signature in the reply composer: previewed, ticked by default, sent with replies."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from frontdesk.accounts.services import update_preferences
from frontdesk.conversations.models import Conversation, Message, MessageKind
from frontdesk.conversations.services import signed_text
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation

HTMX = {"HX-Request": "true"}
SIGNATURE = "Anna Lindqvist\nOrders team, Acme"


def _newest_id(conversation: Conversation) -> int:
    return (
        Message.objects.filter(conversation=conversation)
        .order_by("-id")
        .values_list("id", flat=True)[0]
    )


def _send(client: Client, conversation: Conversation, data: dict[str, Any]) -> None:
    response = client.post(
        f"/conversations/{conversation.number}/messages/",
        {"seen": _newest_id(conversation), **data},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert 'data-sent="' in response.content.decode()


@pytest.fixture
def signed(people: Personas) -> Personas:
    people.agent = update_preferences(people.agent, by=people.agent, signature=SIGNATURE)
    return people


# --- the rule -------------------------------------------------------------------------------


def test_signed_text_appends_the_signature_after_a_blank_line() -> None:
    assert signed_text("Thanks for waiting.", "Anna") == "Thanks for waiting.\n\nAnna"


def test_signed_text_does_not_sign_twice_or_sign_nothing() -> None:
    assert signed_text("Done.\n\nAnna\n", "Anna") == "Done.\n\nAnna\n"
    assert signed_text("Done.\r\n\r\nAnna\r\nOrders", "Anna\r\nOrders") == (
        "Done.\r\n\r\nAnna\r\nOrders"
    )
    assert signed_text("Done.", "  ") == "Done."
    assert signed_text("   ", "Anna") == "   "


# --- the page -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_composer_previews_the_signature_ticked_for_replies_only(
    client: Client, signed: Personas
) -> None:
    conversation = open_conversation(signed.customer, team=signed.orders)
    client.force_login(signed.agent)

    html = client.get(f"/conversations/{conversation.number}/").content.decode()

    assert 'class="field composer-signature reply-only" data-signature' in html
    assert '<input type="checkbox" name="sign" value="1" checked> Add my signature' in html
    assert '<div class="signature-preview">Anna Lindqvist<br>Orders team, Acme</div>' in html


@pytest.mark.django_db
def test_composer_shows_no_signature_box_without_a_signature(
    client: Client, people: Personas
) -> None:
    assert people.agent.signature == ""
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    html = client.get(f"/conversations/{conversation.number}/").content.decode()

    assert "data-composer" in html
    assert "data-signature" not in html
    assert "Add my signature" not in html


# --- sending --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ticked_signature_is_appended_to_the_reply(client: Client, signed: Personas) -> None:
    conversation = open_conversation(signed.customer, team=signed.orders)
    client.force_login(signed.agent)

    _send(client, conversation, {"kind": "reply", "text": "It ships today.", "sign": "1"})

    reply = Message.objects.get(conversation=conversation, kind=MessageKind.REPLY)
    assert reply.text == f"It ships today.\n\n{SIGNATURE}"


@pytest.mark.django_db
def test_unticked_signature_is_left_out(client: Client, signed: Personas) -> None:
    conversation = open_conversation(signed.customer, team=signed.orders)
    client.force_login(signed.agent)

    _send(client, conversation, {"kind": "reply", "text": "It ships today."})

    reply = Message.objects.get(conversation=conversation, kind=MessageKind.REPLY)
    assert reply.text == "It ships today."


@pytest.mark.django_db
def test_notes_are_never_signed(client: Client, signed: Personas) -> None:
    conversation = open_conversation(signed.customer, team=signed.orders)
    client.force_login(signed.agent)

    # The box stays in the form (hidden) in note mode, so it may arrive ticked.
    _send(client, conversation, {"kind": "note", "text": "Courier called.", "sign": "1"})

    note = Message.objects.get(conversation=conversation, kind=MessageKind.NOTE)
    assert note.text == "Courier called."


@pytest.mark.django_db
def test_refused_reply_keeps_the_box_as_the_agent_left_it(client: Client, signed: Personas) -> None:
    conversation = open_conversation(signed.customer, team=signed.orders)
    client.force_login(signed.agent)

    response = client.post(
        f"/conversations/{conversation.number}/messages/",
        {"kind": "reply", "text": "  ", "seen": _newest_id(conversation)},
        headers=HTMX,
    )

    html = response.content.decode()
    assert '<input type="checkbox" name="sign" value="1"> Add my signature' in html
    assert not Message.objects.filter(conversation=conversation, kind=MessageKind.REPLY).exists()
