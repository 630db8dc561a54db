"""Email notices to agents: assignments by someone else, and customers writing on theirs.

Changes go through the services; their events are delivered on commit
(`django_capture_on_commit_callbacks`) and the reactions' tasks run for real,
on the immediate backend here and through the database worker in the last test.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks_db.management.commands.db_worker import Worker

from frontdesk.accounts.models import User
from frontdesk.accounts.services import set_user_active, update_preferences
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, MessageKind
from frontdesk.core.models import Event, Via
from tests.cli.conftest import free_port
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.notifications.conftest import BASE, orders_conversation

FIRST_TEXT = "Order 1042 was due on Monday and is still not here."


def _mails_to(outbox: list[mail.EmailMessage], user: User) -> list[mail.EmailMessage]:
    return [m for m in outbox if user.email in m.to]


# --- assignment -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_assignment_by_a_supervisor_mails_the_assignee(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    conversation = orders_conversation(people)
    services.add_note(conversation, by=people.supervisor, text="VIP: handle with care")

    with on_commit():
        services.assign(conversation, by=people.supervisor, assignee=people.agent, via=Via.WEB)

    assert len(mailoutbox) == 1
    sent = mailoutbox[0]
    assert sent.to == [people.agent.email]
    assert sent.subject == f"[#{conversation.number}] Assigned to you: Parcel never arrived"
    body = str(sent.body)
    assert f"Sue Visor assigned conversation #{conversation.number} to you." in body
    assert "Customer: Jana Nováková" in body
    assert "Team: Orders" in body
    assert FIRST_TEXT in body
    assert "VIP: handle with care" not in body
    assert f"{BASE}/conversations/{conversation.number}/" in body
    assert f"{BASE}/settings/" in body


@pytest.mark.django_db
def test_assignment_mail_is_in_the_assignees_language(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    update_preferences(people.agent, by=people.agent, language="pl")
    conversation = orders_conversation(people)

    with on_commit():
        services.assign(conversation, by=people.supervisor, assignee=people.agent, via=Via.WEB)

    (sent,) = mailoutbox
    with translation.override("pl"):
        expected = _("[#%(number)s] Assigned to you: %(subject)s") % {
            "number": conversation.number,
            "subject": "Parcel never arrived",
        }
    assert sent.subject == expected
    # Status and priority labels are already translated: "New", "Normal" in Polish.
    assert "Nowe" in str(sent.body)
    assert "Normalny" in str(sent.body)
    assert translation.get_language() != "pl"


@pytest.mark.django_db
def test_transfer_to_a_person_mails_them(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    conversation = orders_conversation(people, assignee=people.agent)

    with on_commit():
        services.transfer(
            conversation,
            by=people.supervisor,
            team=people.billing,
            assignee=people.other_agent,
            via=Via.WEB,
        )

    assert [m.to for m in mailoutbox] == [[people.other_agent.email]]
    assert mailoutbox[0].subject.startswith(f"[#{conversation.number}] Assigned to you:")


@pytest.mark.django_db
def test_taking_a_conversation_yourself_sends_nothing(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    first = orders_conversation(people)
    second = orders_conversation(people)

    with on_commit():
        services.assign(first, by=people.agent, assignee=people.agent, via=Via.WEB)
        # A reply to an unassigned conversation assigns it to its author.
        services.add_reply(second, by=people.colleague, text="On it.", via=Via.WEB)

    assert Conversation.objects.get(pk=second.pk).assignee == people.colleague
    assert mailoutbox == []


@pytest.mark.django_db
def test_assignment_preference_off_sends_nothing(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    update_preferences(people.agent, by=people.agent, notify_on_assignment=False)
    conversation = orders_conversation(people)

    with on_commit():
        services.assign(conversation, by=people.supervisor, assignee=people.agent, via=Via.WEB)

    assert mailoutbox == []


@pytest.mark.django_db
def test_what_the_system_does_sends_nothing(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    conversation = orders_conversation(people)

    with on_commit():
        services.assign(conversation, by=None, assignee=people.agent, via=Via.SYSTEM)
        services.add_customer_message(conversation, by=None, text="Hello?", via=Via.SYSTEM)

    assert Conversation.objects.get(pk=conversation.pk).assignee == people.agent
    assert mailoutbox == []


@pytest.mark.django_db
def test_an_assignment_made_by_a_rule_tells_the_assignee(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    """Routing, SLA escalations and triggers act as the system, but on a rule's behalf:
    unlike an import, the agent they give work to must hear of it."""
    conversation = orders_conversation(people)
    rule = {"kind": "routing_rule", "id": 7, "name": "Orders in Thai"}

    with on_commit():
        services.assign(conversation, by=None, assignee=people.agent, via=Via.SYSTEM, cause=rule)

    [sent] = _mails_to(mailoutbox, people.agent)
    assert f"Conversation #{conversation.number} was assigned to you." in str(sent.body)


@pytest.mark.django_db
def test_a_transfer_made_by_a_rule_tells_the_new_assignee(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    """An SLA escalation may hand the conversation to another team and person: a transfer,
    which must tell them as an assignment by a rule does."""
    conversation = orders_conversation(people, assignee=people.agent)
    policy = {"kind": "sla_policy", "id": 3, "name": "Standard"}

    with on_commit():
        services.transfer(
            conversation, by=None, team=people.billing, assignee=people.other_agent,
            via=Via.SYSTEM, cause=policy,
        )  # fmt: skip

    [sent] = _mails_to(mailoutbox, people.other_agent)
    assert f"Conversation #{conversation.number} was assigned to you." in str(sent.body)
    [audit] = Event.objects.filter(action="conversation.transferred", object_id=conversation.pk)
    assert audit.data["cause"] == policy


# --- customer messages ----------------------------------------------------------------------


@pytest.mark.django_db
def test_customer_message_mails_the_assignee(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    conversation = orders_conversation(people, assignee=people.agent)
    services.add_note(conversation, by=people.agent, text="Courier says Tuesday")
    text = "Still nothing. " + "x" * 800

    with on_commit():
        services.add_customer_message(conversation, by=None, text=text, via=Via.EMAIL)

    (sent,) = mailoutbox
    assert sent.to == [people.agent.email]
    assert sent.subject == f"[#{conversation.number}] New customer message: Parcel never arrived"
    body = str(sent.body)
    assert f"Jana Nováková wrote in conversation #{conversation.number}" in body
    assert "Still nothing. xxx" in body
    assert "x" * 484 + "…" in body
    assert "x" * 486 not in body
    assert "Courier says Tuesday" not in body
    assert f"{BASE}/conversations/{conversation.number}/" in body


@pytest.mark.django_db
def test_customer_message_on_an_unassigned_conversation_mails_nobody(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    conversation = orders_conversation(people)

    with on_commit():
        services.add_customer_message(conversation, by=None, text="Anyone?", via=Via.EMAIL)

    assert mailoutbox == []


@pytest.mark.django_db
def test_deactivated_assignee_gets_nothing(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    conversation = orders_conversation(people, assignee=people.agent)
    set_user_active(people.agent, by=people.admin, active=False)

    with on_commit():
        services.add_customer_message(conversation, by=None, text="Hello?", via=Via.EMAIL)

    assert mailoutbox == []


@pytest.mark.django_db
def test_customer_reply_preference_off_sends_nothing(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    update_preferences(people.agent, by=people.agent, notify_on_customer_reply=False)
    conversation = orders_conversation(people, assignee=people.agent)

    with on_commit():
        services.add_customer_message(conversation, by=None, text="Hello?", via=Via.EMAIL)

    assert mailoutbox == []


@pytest.mark.django_db
def test_notes_replies_and_what_the_assignee_logged_send_nothing(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    conversation = orders_conversation(people, assignee=people.agent)

    with on_commit():
        services.add_note(conversation, by=people.colleague, text="FYI", via=Via.WEB)
        services.add_reply(conversation, by=people.colleague, text="Hi Jana", via=Via.WEB)
        # The assignee typing in what the customer said on the phone.
        services.add_customer_message(
            conversation, by=people.agent, text="Called: still waiting", via=Via.WEB
        )

    assert mailoutbox == []


@pytest.mark.django_db
def test_what_a_colleague_logged_for_the_customer_mails_the_assignee(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    conversation = orders_conversation(people, assignee=people.agent)

    with on_commit():
        services.add_customer_message(
            conversation, by=people.colleague, text="Called: still waiting", via=Via.WEB
        )

    assert [m.to for m in mailoutbox] == [[people.agent.email]]
    assert MessageKind.CUSTOMER == conversation.messages.order_by("-id")[0].kind


# --- failures and the real worker -----------------------------------------------------------


@pytest.mark.django_db
def test_a_mail_server_that_is_down_is_logged_and_the_change_stands(
    people: Personas,
    on_commit: Any,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # free a moment ago: nothing listens
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    conversation = orders_conversation(people)

    with caplog.at_level(logging.ERROR, logger="frontdesk.notifications"), on_commit():
        services.assign(conversation, by=people.supervisor, assignee=people.agent, via=Via.WEB)

    assert Conversation.objects.get(pk=conversation.pk).assignee == people.agent
    assert [
        r.getMessage() for r in caplog.records if r.name == "frontdesk.notifications.tasks"
    ] == [f"notification mail to user {people.agent.pk} failed"]


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_notices_enqueued_on_the_database_backend(
    people: Personas, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # Opened by the system (an import): no notice of its own first message.
    conversation = open_conversation(people.customer, team=people.orders, assignee=people.agent)

    services.add_customer_message(conversation, by=None, text="Any news?", via=Via.EMAIL)
    assert _mails_to(mail.outbox, people.agent) == []

    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-notices",
        excluded_queue_names=[],
    ).run()

    (sent,) = _mails_to(mail.outbox, people.agent)
    assert "Any news?" in str(sent.body)
