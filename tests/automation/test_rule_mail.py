"""A rule's mail to the customer goes through the mailbox's SMTP server (the real aiosmtpd of
tests/mail), threaded like a reply and marked automatic; SLA events set triggers off."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

from django.utils import timezone

from frontdesk.conversations.models import Priority
from frontdesk.core.events import Audience, publish
from frontdesk.mail.models import Security
from frontdesk.mail.services import create_mailbox
from frontdesk.mail.threading import number_in_our_message_id
from frontdesk.sla.events import SlaBreached, SlaWarning
from tests.automation.conftest import Live, MakeTrigger, Open, events_of, fresh, tags_of
from tests.conftest import Personas
from tests.mail.conftest import SmtpServer, smtp_fixture, smtp_server_fixture

__all__ = ["smtp_fixture", "smtp_server_fixture"]  # the fixtures, for pytest to find here


def test_a_rules_mail_to_the_customer_leaves_through_the_mailbox_threaded(
    people: Personas,
    smtp: SmtpServer,
    live: Live,
    open_conversation: Open,
    make_trigger: MakeTrigger,
) -> None:
    create_mailbox(
        by=None,
        name="Support",
        email="support@frontdesk.example",
        display_name="Frontdesk Support",
        default_team=people.orders,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security=Security.STARTTLS,
        verify_certificates=False,
        smtp_username=smtp.username,
        smtp_password=smtp.password,
    )
    make_trigger(
        "We got it",
        ["conversation_created"],
        [{"type": "email_customer", "subject": "", "text": "Hi {{ customer.first_name }}!"}],
    )
    with live():
        conversation = open_conversation()
    (received,) = smtp.messages
    mail = message_from_bytes(received.data, policy=default_policy)
    number = fresh(conversation).number
    assert received.rcpt_tos == ["jana@acme.example"]
    assert mail["From"].addresses[0].addr_spec == "support@frontdesk.example"
    assert mail["Subject"] == f"Re: Parcel never arrived [#{number}]"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert number_in_our_message_id(mail["Message-ID"]) == number
    assert mail.get_content().strip() == "Hi Jana!"
    (sent,) = events_of(conversation, "automation.email_sent")
    assert sent.data["to"] == "jana@acme.example"


def test_sla_warnings_and_breaches_fire_their_triggers(
    people: Personas, live: Live, open_conversation: Open, make_trigger: MakeTrigger
) -> None:
    make_trigger("Warned", ["sla_warning"], [{"type": "add_tags", "value": ["sla-warned"]}])
    make_trigger("Breached", ["sla_breached"], [{"type": "set_priority", "value": Priority.URGENT}])
    conversation = open_conversation()
    due = timezone.now() + timedelta(hours=1)
    common: dict[str, Any] = {
        "audience": Audience(),
        "conversation_id": conversation.pk,
        "number": conversation.number,
        "policy_id": None,
        "policy_name": "Standard",
        "target": "first_response",
        "due_at": due,
    }
    with live():
        publish(SlaWarning(**common))
    assert tags_of(conversation) == {"sla-warned"}
    assert fresh(conversation).priority == Priority.NORMAL
    with live():
        publish(SlaBreached(**common))
    assert fresh(conversation).priority == Priority.URGENT
