"""The agent's conversation page and the new-conversation page, through the real stack."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from frontdesk.conversations import services
from frontdesk.conversations.models import (
    Conversation,
    FieldKind,
    Message,
    MessageKind,
    Status,
)
from frontdesk.customers.models import Customer
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation

HTMX = {"HX-Request": "true"}


def _page(client: Client, conversation: Conversation) -> str:
    response = client.get(f"/conversations/{conversation.number}/")
    assert response.status_code == 200
    return response.content.decode()


def _post(client: Client, conversation: Conversation, endpoint: str, data: dict[str, Any]) -> str:
    response = client.post(f"/conversations/{conversation.number}/{endpoint}/", data, headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def _newest_id(conversation: Conversation) -> int:
    return (
        Message.objects.filter(conversation=conversation)
        .order_by("-id")
        .values_list("id", flat=True)[0]
    )


# --- the page -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_thread_styles_notes_apart_and_shows_only_sanitised_html(
    client: Client, people: Personas
) -> None:
    conversation = open_conversation(
        people.customer,
        team=people.orders,
        text="",
        html='<p>Where is <b>my parcel</b>?</p><script>alert("owned")</script>'
        '<img src="x" onerror="alert(2)">',
    )
    services.add_note(conversation, by=people.agent, text="Check with the courier first.")
    services.add_reply(conversation, by=people.agent, text="We are on it.\nSorry!")
    client.force_login(people.agent)

    html = _page(client, conversation)

    assert f'<section class="conversation" data-conversation="{conversation.number}">' in html
    assert "<b>my parcel</b>" in html
    assert "alert(" not in html and "onerror" not in html
    assert 'class="message kind-customer"' in html
    assert 'class="message kind-note"' in html
    assert "Internal note" in html
    assert 'class="message kind-reply"' in html
    assert "We are on it.<br>Sorry!" in html
    assert "Check with the courier first." in html


@pytest.mark.django_db
def test_page_carries_the_realtime_hooks(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    html = _page(client, conversation)

    n = conversation.number
    assert f'hx-trigger="fd:conversation-{n}-changed from:body"' in html
    assert html.count(f"fd:conversation-{n}-changed") == 2  # thread and sidebar
    assert '<div data-presence aria-live="polite"' in html
    assert "<template data-viewing>{name} is viewing</template>" in html
    assert "{name} is typing a reply" in html
    assert "data-composer" in html
    assert 'data-shortcut="r"' in html and 'data-shortcut="n"' in html
    assert 'data-shortcut="s"' in html and 'data-shortcut="a"' in html


@pytest.mark.django_db
def test_times_are_shown_in_the_agents_time_zone(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    people.agent.time_zone = "Asia/Bangkok"
    people.agent.save()
    client.force_login(people.agent)

    html = _page(client, conversation)

    assert "+07:00" in html


@pytest.mark.django_db
def test_attachments_are_listed_with_size_and_a_download_link(
    client: Client, people: Personas
) -> None:
    conversation = open_conversation(
        people.customer,
        team=people.orders,
        attachments=[services.Upload(filename="invoice.txt", content=b"x" * 2048)],
    )
    attachment = Message.objects.get(conversation=conversation).attachments.get()
    client.force_login(people.agent)

    html = _page(client, conversation)

    assert "invoice.txt" in html
    assert "2.0\xa0KB" in html
    assert "text/plain" in html
    assert f'href="/api/v1/attachments/{attachment.pk}"' in html
    download = client.get(f"/api/v1/attachments/{attachment.pk}")
    assert download.status_code == 200
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")


@pytest.mark.django_db
def test_another_teams_conversation_is_not_found(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.other_agent)

    assert client.get(f"/conversations/{conversation.number}/").status_code == 404
    response = client.post(
        f"/conversations/{conversation.number}/messages/", {"kind": "reply", "text": "Hi"}
    )
    assert response.status_code == 404
    assert not Message.objects.filter(conversation=conversation, kind=MessageKind.REPLY).exists()


@pytest.mark.django_db
def test_a_customer_gets_no_workspace(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.customer_user)

    page = client.get(f"/conversations/{conversation.number}/")
    new = client.get("/conversations/new/")

    assert page.status_code == 302 and page["Location"] == "/portal/"
    assert new.status_code == 302 and new["Location"] == "/portal/"


@pytest.mark.django_db
def test_strangers_are_sent_to_sign_in(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)

    response = client.get(f"/conversations/{conversation.number}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_conversation_page_query_count_does_not_grow_with_the_thread(
    client: Client, people: Personas, django_assert_max_num_queries: Any
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.add_tags(conversation, by=None, tags=["vip", "late"])
    services.create_field_definition(by=None, key="order", label="Order", kind=FieldKind.TEXT)
    for i in range(10):
        upload = services.Upload(filename=f"photo-{i}.txt", content=f"photo {i}".encode())
        if i % 3 == 0:
            services.add_note(conversation, by=people.colleague, text=f"note {i}",
                              attachments=[upload])  # fmt: skip
        elif i % 3 == 1:
            services.add_reply(conversation, by=people.agent, text=f"reply {i}",
                               attachments=[upload])  # fmt: skip
        else:
            services.add_customer_message(conversation, by=None, text=f"customer {i}",
                                          attachments=[upload])  # fmt: skip
    client.force_login(people.agent)

    with django_assert_max_num_queries(12):
        html = _page(client, conversation)

    assert "photo-9.txt" in html and "note 9" in html


# --- the composer -------------------------------------------------------------------------


@pytest.mark.django_db
def test_reply_with_attachment_is_sent_and_the_thread_swapped(
    client: Client, people: Personas
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)
    upload = SimpleUploadedFile("label.txt", b"tracking 42", content_type="text/plain")

    html = _post(
        client,
        conversation,
        "messages",
        {"kind": "reply", "text": "Here is the label.", "seen": _newest_id(conversation),
         "attachments": [upload]},
    )  # fmt: skip

    reply = Message.objects.get(conversation=conversation, kind=MessageKind.REPLY)
    assert reply.text == "Here is the label."
    assert reply.author_user == people.agent
    assert [a.filename for a in reply.attachments.all()] == ["label.txt"]
    assert 'data-sent="reply"' in html
    assert "data-composer></textarea>" in html
    assert 'id="thread" class="thread" hx-swap-oob="true"' in html
    assert "label.txt" in html
    assert 'id="sidebar"' in html


@pytest.mark.django_db
def test_note_with_attachment_is_added_as_internal(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)
    upload = SimpleUploadedFile("notes.txt", b"called twice", content_type="text/plain")

    html = _post(
        client,
        conversation,
        "messages",
        {"kind": "note", "text": "Customer sounded upset.", "attachments": [upload]},
    )

    note = Message.objects.get(conversation=conversation, kind=MessageKind.NOTE)
    assert note.text == "Customer sounded upset."
    assert [a.filename for a in note.attachments.all()] == ["notes.txt"]
    assert 'data-sent="note"' in html
    conversation.refresh_from_db()
    assert conversation.first_response_at is None  # a note is no answer to the customer


@pytest.mark.django_db
def test_reply_without_htmx_redirects_back_to_the_page(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    response = client.post(
        f"/conversations/{conversation.number}/messages/",
        {"kind": "reply", "text": "Done.", "seen": _newest_id(conversation)},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/conversations/{conversation.number}/"
    assert Message.objects.filter(conversation=conversation, kind=MessageKind.REPLY).count() == 1


@pytest.mark.django_db
def test_empty_reply_shows_the_error_on_the_field(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    html = _post(
        client,
        conversation,
        "messages",
        {"kind": "reply", "text": "   ", "seen": _newest_id(conversation)},
    )

    assert 'id="composer-text-error"' in html
    assert "The message is empty." in html
    assert not Message.objects.filter(conversation=conversation, kind=MessageKind.REPLY).exists()


@pytest.mark.django_db
def test_refused_attachment_keeps_the_text_and_sends_nothing(
    client: Client, people: Personas, settings: Any
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 10
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)
    upload = SimpleUploadedFile("big.bin", b"y" * 100)

    html = _post(
        client,
        conversation,
        "messages",
        {"kind": "reply", "text": "A long answer I <do> not want to lose",
         "seen": _newest_id(conversation), "attachments": [upload]},
    )  # fmt: skip

    assert "big.bin is larger than" in html
    assert "A long answer I &lt;do&gt; not want to lose</textarea>" in html
    assert "data-sent" not in html
    assert not Message.objects.filter(conversation=conversation, kind=MessageKind.REPLY).exists()


@pytest.mark.django_db
def test_refused_reply_without_htmx_returns_the_page_with_the_text(
    client: Client, people: Personas
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.set_status(conversation, by=None, status=Status.SOLVED)
    services.set_status(conversation, by=None, status=Status.CLOSED)
    client.force_login(people.agent)

    response = client.post(
        f"/conversations/{conversation.number}/messages/",
        {"kind": "reply", "text": "Too late?", "seen": _newest_id(conversation)},
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "is closed" in html
    assert "Too late?</textarea>" in html


@pytest.mark.django_db
def test_crossing_reply_is_held_with_a_warning_until_sent_anyway(
    client: Client, people: Personas
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)
    seen = _newest_id(conversation)
    services.add_reply(conversation, by=people.colleague, text="Carl already answered this.")

    held = _post(
        client, conversation, "messages", {"kind": "reply", "text": "My answer", "seen": seen}
    )

    assert "Someone replied while you were writing" in held
    assert "Carl already answered this." in held
    assert "My answer</textarea>" in held
    assert '<input type="hidden" name="confirm" value="1">' in held
    assert "Send anyway" in held
    replies = Message.objects.filter(conversation=conversation, kind=MessageKind.REPLY)
    assert [m.author_user_id for m in replies] == [people.colleague.pk]

    sent = _post(
        client,
        conversation,
        "messages",
        {"kind": "reply", "text": "My answer", "seen": seen, "confirm": "1"},
    )

    assert 'data-sent="reply"' in sent
    assert replies.filter(author_user=people.agent, text="My answer").exists()


@pytest.mark.django_db
def test_a_new_customer_message_also_holds_the_reply(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)
    seen = _newest_id(conversation)
    services.add_customer_message(conversation, by=None, text="Never mind, it arrived!")

    held = _post(
        client, conversation, "messages", {"kind": "reply", "text": "Resending", "seen": seen}
    )

    assert "Someone replied while you were writing" in held
    assert "Never mind, it arrived!" in held
    assert not Message.objects.filter(conversation=conversation, kind=MessageKind.REPLY).exists()


@pytest.mark.django_db
def test_own_and_internal_messages_do_not_hold_the_reply(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)
    seen = _newest_id(conversation)
    services.add_note(conversation, by=people.colleague, text="fyi")
    services.add_reply(conversation, by=people.agent, text="first part")

    html = _post(
        client, conversation, "messages", {"kind": "reply", "text": "second part", "seen": seen}
    )

    assert 'data-sent="reply"' in html
    assert Message.objects.filter(conversation=conversation, text="second part").exists()


@pytest.mark.django_db
def test_send_and_set_status_solves_with_the_reply(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    _post(
        client,
        conversation,
        "messages",
        {"kind": "reply", "text": "Fixed.", "seen": _newest_id(conversation),
         "then_status": "solved"},
    )  # fmt: skip

    conversation.refresh_from_db()
    assert conversation.status == Status.SOLVED


# --- the sidebar --------------------------------------------------------------------------


@pytest.mark.django_db
def test_status_changes_in_place(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    html = _post(client, conversation, "status", {"status": "pending"})

    conversation.refresh_from_db()
    assert conversation.status == Status.PENDING
    assert html.lstrip().startswith('<aside id="sidebar"')
    assert '<option value="pending" selected>' in html
    # The header's badge is swapped out of band, so the page doesn't show two statuses.
    assert re.search(
        r'<span id="conversation-status" class="badge status-pending" hx-swap-oob="true">', html
    )


@pytest.mark.django_db
def test_forbidden_transition_is_an_inline_error(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    html = _post(client, conversation, "status", {"status": "closed"})

    assert "cannot go from New to Closed" in html
    conversation.refresh_from_db()
    assert conversation.status == Status.NEW


@pytest.mark.django_db
def test_solving_without_a_required_field_shows_the_error_on_that_field(
    client: Client, people: Personas
) -> None:
    services.create_field_definition(
        by=None, key="cause", label="Root cause", kind=FieldKind.CHOICE,
        choices=["courier", "warehouse"], required_to_solve=True,
    )  # fmt: skip
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    html = _post(client, conversation, "status", {"status": "solved"})

    conversation.refresh_from_db()
    assert conversation.status == Status.NEW
    field = html.split('id="side-cf_cause"', 1)[1].split("</div>", 1)[0]
    assert "Root cause must be filled in before solving." in field

    _post(client, conversation, "fields", {"cf_cause": "courier"})
    _post(client, conversation, "status", {"status": "solved"})

    conversation.refresh_from_db()
    assert conversation.custom_fields == {"cause": "courier"}
    assert conversation.status == Status.SOLVED


@pytest.mark.django_db
def test_bad_field_value_is_refused_on_the_field(client: Client, people: Personas) -> None:
    services.create_field_definition(by=None, key="units", label="Units", kind=FieldKind.NUMBER)
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    html = _post(client, conversation, "fields", {"cf_units": "many"})

    assert "Enter a number." in html.split('id="side-cf_units"', 1)[1]
    conversation.refresh_from_db()
    assert conversation.custom_fields == {}


@pytest.mark.django_db
def test_assign_and_priority_change_in_place(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    _post(client, conversation, "assignee", {"assignee": people.colleague.pk})
    _post(client, conversation, "priority", {"priority": "4"})

    conversation.refresh_from_db()
    assert conversation.assignee == people.colleague
    assert conversation.priority == 4


@pytest.mark.django_db
def test_taking_a_colleagues_conversation_is_refused_inline(
    client: Client, people: Personas
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.assign(conversation, by=None, assignee=people.colleague)
    client.force_login(people.agent)

    html = _post(client, conversation, "assignee", {"assignee": people.agent.pk})

    assert "Only a supervisor can take a conversation away" in html
    conversation.refresh_from_db()
    assert conversation.assignee == people.colleague


@pytest.mark.django_db
def test_team_change_transfers_and_keeps_the_owner(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.assign(conversation, by=None, assignee=people.agent)
    client.force_login(people.supervisor)

    response = client.post(
        f"/conversations/{conversation.number}/team/", {"team": people.billing.pk}, headers=HTMX
    )

    assert response["HX-Redirect"] == "/inbox/"  # Billing's now: Sue no longer sees it
    conversation.refresh_from_db()
    assert conversation.team == people.billing
    assert conversation.assignee is None
    assert conversation.owner == people.agent


@pytest.mark.django_db
def test_tags_are_added_and_removed(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    added = _post(client, conversation, "tags", {"tags": "VIP, late delivery"})

    assert sorted(conversation.tags.values_list("name", flat=True)) == ["late-delivery", "vip"]
    assert "late-delivery" in added

    _post(client, conversation, "tags/remove", {"tag": "vip"})

    assert list(conversation.tags.values_list("name", flat=True)) == ["late-delivery"]


@pytest.mark.django_db
def test_sidebar_change_without_htmx_redirects(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    response = client.post(f"/conversations/{conversation.number}/status/", {"status": "open"})

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN


@pytest.mark.django_db
def test_history_lists_changes_newest_first(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)
    _post(client, conversation, "assignee", {"assignee": people.colleague.pk})
    _post(client, conversation, "status", {"status": "pending"})

    response = client.get(f"/conversations/{conversation.number}/history/", headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    status_at = html.index("Status changed: New → Pending")
    assigned_at = html.index("Assignee changed: nobody → Carl")
    created_at = html.index("Conversation created")
    assert status_at < assigned_at < created_at
    assert "anna@example.com" not in html  # the actor shows by name
    assert "Anna" in html and "Web" in html


# --- a new conversation -------------------------------------------------------------------


@pytest.mark.django_db
def test_new_phone_conversation_for_an_existing_customer(client: Client, people: Personas) -> None:
    client.force_login(people.agent)

    form = client.get(f"/conversations/new/?customer={people.customer.pk}")
    assert form.status_code == 200
    assert f'name="customer" value="{people.customer.pk}" checked' in form.content.decode()

    response = client.post(
        "/conversations/new/",
        {"customer": people.customer.pk, "channel": "phone", "subject": "Called about a refund",
         "text": "Wants the refund to go to a new card.", "kind": "customer",
         "team": people.orders.pk, "assignee": people.agent.pk, "priority": "3"},
    )  # fmt: skip

    conversation = Conversation.objects.get(subject="Called about a refund")
    assert response.status_code == 302
    assert response["Location"] == f"/conversations/{conversation.number}/"
    assert conversation.channel == "phone"
    assert conversation.customer == people.customer
    assert conversation.assignee == people.agent
    assert conversation.priority == 3
    message = conversation.messages.get()
    assert message.kind == MessageKind.CUSTOMER
    assert message.text == "Wants the refund to go to a new card."


@pytest.mark.django_db
def test_new_visit_conversation_for_a_new_customer(client: Client, people: Personas) -> None:
    client.force_login(people.agent)

    response = client.post(
        "/conversations/new/",
        {"new_name": "Walk-in Wanda", "new_phone": "+420 601 123 456", "channel": "visit",
         "subject": "Returned a broken kettle", "text": "Brought it to the desk.",
         "team": people.orders.pk, "priority": "2"},
    )  # fmt: skip

    assert response.status_code == 302
    conversation = Conversation.objects.get(subject="Returned a broken kettle")
    assert conversation.channel == "visit"
    assert conversation.customer.name == "Walk-in Wanda"
    assert conversation.customer.identities.get().kind == "phone"


@pytest.mark.django_db
def test_bad_new_conversation_writes_nothing_and_shows_the_field(
    client: Client, people: Personas
) -> None:
    client.force_login(people.agent)
    customers_before = Customer.objects.count()

    response = client.post(
        "/conversations/new/",
        {"new_name": "Nobody Yet", "new_email": "nobody@example.net", "channel": "phone",
         "subject": "  ", "text": "Something", "team": people.orders.pk},
    )  # fmt: skip

    assert response.status_code == 422
    html = response.content.decode()
    assert "A subject is required." in html
    assert 'value="nobody@example.net"' in html
    assert Customer.objects.count() == customers_before
    assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_new_conversation_needs_a_customer_and_a_known_channel(
    client: Client, people: Personas
) -> None:
    client.force_login(people.agent)

    no_customer = client.post(
        "/conversations/new/", {"channel": "phone", "subject": "S", "text": "T"}
    )
    bad_channel = client.post(
        "/conversations/new/",
        {"customer": people.customer.pk, "channel": "fax", "subject": "S", "text": "T"},
    )
    taken_email = client.post(
        "/conversations/new/",
        {"new_email": "jana@acme.example", "channel": "email", "subject": "S", "text": "T"},
    )

    assert no_customer.status_code == 422
    assert "Find the customer, or enter a new customer" in no_customer.content.decode()
    everything = client.post("/conversations/new/", {"channel": "phone"}).content.decode()
    for message in ("Find the customer", "A subject is required.", "The message is empty."):
        assert message in everything
    assert bad_channel.status_code == 422
    assert "Choose a channel." in bad_channel.content.decode()
    assert taken_email.status_code == 422
    assert 'id="new-email"' in taken_email.content.decode()
    assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_customer_lookup_finds_by_name_and_email(client: Client, people: Personas) -> None:
    client.force_login(people.agent)

    by_name = client.get("/conversations/new/customers/", {"q": "Nowak"}, headers=HTMX)
    by_email = client.get("/conversations/new/customers/", {"q": "JANA@acme.example"}, headers=HTMX)

    assert f'value="{people.other_customer.pk}"' in by_name.content.decode()
    assert f'value="{people.customer.pk}"' not in by_name.content.decode()
    assert f'value="{people.customer.pk}"' in by_email.content.decode()


@pytest.mark.django_db
def test_refused_status_of_send_and_set_is_shown_and_nothing_sent(
    client: Client, people: Personas
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.set_status(conversation, by=None, status=Status.SOLVED)
    client.force_login(people.agent)

    html = _post(
        client,
        conversation,
        "messages",
        {"kind": "reply", "text": "One more thing", "seen": _newest_id(conversation),
         "then_status": "pending"},
    )  # fmt: skip

    assert "cannot go from Solved to Pending" in html
    assert "One more thing</textarea>" in html
    assert not Message.objects.filter(conversation=conversation, kind=MessageKind.REPLY).exists()


@pytest.mark.django_db
def test_customer_card_shows_contacts_and_loads_other_conversations(
    client: Client, people: Personas
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    html = _page(client, conversation)

    card = html.split('class="card customer-card"', 1)[1].split("</section>", 1)[0]
    assert "Jana Nováková" in card
    assert 'href="mailto:jana@acme.example"' in card
    assert "Acme s.r.o." in card
    assert (
        f'hx-get="/customers/{people.customer.pk}/conversations/?exclude={conversation.number}"'
        in card
    )
