"""Agents' replies on email conversations go out through the mailbox's SMTP server.

The server is the real aiosmtpd of tests/mail/conftest.py; replies are written
through the services, their events delivered on commit, and the tasks run on
the immediate backend.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, DeliveryStatus, Message, MessageKind
from frontdesk.conversations.services import Upload
from frontdesk.core.models import Event, Via
from frontdesk.mail.intake import ingest_raw
from frontdesk.mail.models import Mailbox, Security
from frontdesk.mail.outbound import reply_subject
from frontdesk.mail.services import create_mailbox
from frontdesk.mail.threading import number_in_our_message_id
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.mail.conftest import ReceivedMail, SmtpServer, closed_port

CORPUS = Path(__file__).with_name("corpus")
OnCommit = Callable[[], AbstractContextManager[Any]]
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _tasks_run_now(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MAIL_SEND_RETRIES = 2
    settings.MAIL_RETRY_DELAY_S = 0


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> OnCommit:
    def run() -> Any:
        return django_capture_on_commit_callbacks(execute=True)

    return run


def smtp_mailbox(people: Personas, smtp: SmtpServer | None, **extra: Any) -> Mailbox:
    values: dict[str, Any] = {
        "by": None,
        "name": "Support",
        "email": "support@frontdesk.example",
        "display_name": "Frontdesk Support",
        "default_team": people.orders,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port if smtp is not None else closed_port(),
        "smtp_security": Security.STARTTLS if smtp is not None else Security.NONE,
        "verify_certificates": False,  # the test server's certificate is self-signed
    }
    if smtp is not None:
        values |= {"smtp_username": smtp.username, "smtp_password": smtp.password}
    return create_mailbox(**(values | extra))


@pytest.fixture
def mailbox(people: Personas, smtp: SmtpServer) -> Mailbox:
    return smtp_mailbox(people, smtp)


def customer_mail(
    *,
    subject: str = "Where is my parcel?",
    body: str = "Hello, my parcel did not arrive.",
    message_id: str = "<first@mail.example.com>",
    references: str = "<older@mail.example.com>",
    in_reply_to: str = "",
) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Jane Doe <jane@example.com>"
    mail["To"] = "support@frontdesk.example"
    mail["Subject"] = subject
    mail["Date"] = "Mon, 1 Jun 2026 10:00:00 +0200"
    mail["Message-ID"] = message_id
    if references:
        mail["References"] = references
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    mail.set_content(body)
    return mail.as_bytes()


def email_conversation(mailbox: Mailbox) -> Conversation:
    result = ingest_raw(customer_mail(), mailbox=mailbox, source="test")
    assert result.outcome == "created", result
    assert result.conversation_number is not None
    return Conversation.objects.get(number=result.conversation_number)


def reply(
    conversation: Conversation, people: Personas, on_commit: OnCommit, **extra: Any
) -> Message:
    with on_commit():
        message = services.add_reply(
            conversation,
            by=people.agent,
            text=extra.pop("text", "It left our warehouse on Monday.\nTracking: <AB123>"),
            via=Via.WEB,
            **extra,
        )
    message.refresh_from_db()
    return message


def parsed(received: ReceivedMail) -> Any:
    # SMTP carries CRLF line ends; compare in the text's own.
    return message_from_bytes(received.data.replace(b"\r\n", b"\n"), policy=default_policy)


# --- the mail that goes out ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reply_on_an_email_conversation_reaches_the_smtp_server_threaded(
    people: Personas, mailbox: Mailbox, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    conversation = email_conversation(mailbox)

    message = reply(
        conversation, people, on_commit, attachments=[Upload(filename="label.pdf", content=PDF)]
    )

    [received] = smtp.messages
    assert received.login == smtp.username
    assert received.mail_from == "support@frontdesk.example"
    assert received.rcpt_tos == ["jane@example.com"]
    sent = parsed(received)
    assert sent["From"] == "Frontdesk Support <support@frontdesk.example>"
    assert sent["To"] == "Jane Doe <jane@example.com>"
    assert sent["Subject"] == f"Re: Where is my parcel? [#{conversation.number}]"
    assert number_in_our_message_id(sent["Message-ID"]) == conversation.number
    assert sent["Message-ID"].endswith("@frontdesk.example>")
    assert sent["In-Reply-To"] == "<first@mail.example.com>"
    assert sent["References"].split() == ["<older@mail.example.com>", "<first@mail.example.com>"]
    assert sent["Auto-Submitted"] is None
    text = sent.get_body(preferencelist=("plain",))
    html = sent.get_body(preferencelist=("html",))
    assert text.get_content().rstrip("\n") == "It left our warehouse on Monday.\nTracking: <AB123>"
    assert "It left our warehouse on Monday.<br>" in html.get_content()
    assert "Tracking: &lt;AB123&gt;" in html.get_content()
    [attachment] = list(sent.iter_attachments())
    assert attachment.get_filename() == "label.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF
    assert message.delivery_status == DeliveryStatus.SENT
    assert message.email_message_id == sent["Message-ID"]


@pytest.mark.django_db
def test_a_reply_is_queued_under_its_message_id_before_it_is_sent(
    people: Personas, mailbox: Mailbox, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    conversation = email_conversation(mailbox)

    message = reply(conversation, people, on_commit)

    changes = [
        (event.data["previous_status"], event.data["status"])
        for event in Event.objects.filter(
            object_type="conversation",
            object_id=conversation.pk,
            action="message.delivery_changed",
        ).order_by("id")
    ]
    assert changes == [("", "queued"), ("queued", "sending"), ("sending", "sent")]
    assert message.email_message_id
    assert message.delivery_updated_at is not None


@pytest.mark.django_db
def test_the_html_of_a_reply_is_sent_as_its_html_alternative(
    people: Personas, mailbox: Mailbox, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    conversation = email_conversation(mailbox)

    reply(
        conversation, people, on_commit, text="Done.", html="<p>Done, <strong>today</strong>.</p>"
    )

    sent = parsed(smtp.messages[0])
    assert "<strong>today</strong>" in sent.get_body(preferencelist=("html",)).get_content()


def test_reply_subjects_do_not_stack_prefixes_or_tags() -> None:
    assert reply_subject("Re: RE: Fwd: Invoice [#12]", 12) == "Re: Invoice [#12]"
    assert reply_subject("Odp: Faktura", 7) == "Re: Faktura [#7]"
    assert reply_subject("Ask about [#3]", 12) == "Re: Ask about [#3] [#12]"


@pytest.mark.django_db
def test_a_reply_on_a_phone_conversation_is_not_emailed(
    people: Personas, mailbox: Mailbox, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    conversation = open_conversation(people.customer, team=people.orders, channel="phone")

    message = reply(conversation, people, on_commit)

    assert smtp.messages == []
    assert message.delivery_status == DeliveryStatus.NONE
    assert message.email_message_id == ""


@pytest.mark.django_db
def test_a_reply_from_the_system_is_not_emailed(
    people: Personas, mailbox: Mailbox, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    conversation = email_conversation(mailbox)

    with on_commit():
        message = services.add_reply(conversation, by=people.agent, text="Imported", via=Via.SYSTEM)

    message.refresh_from_db()
    assert smtp.messages == []
    assert message.delivery_status == DeliveryStatus.NONE


@pytest.mark.django_db
def test_without_a_mailbox_that_can_send_the_reply_fails_at_once(
    people: Personas, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    mailbox = create_mailbox(
        by=None, name="Read only", email="support@frontdesk.example", default_team=people.orders
    )
    conversation = email_conversation(mailbox)

    message = reply(conversation, people, on_commit)

    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.delivery_error == "No mailbox can send this reply."
    assert message.text.startswith("It left our warehouse")


@pytest.mark.django_db
def test_the_mailbox_the_customer_wrote_to_sends_the_reply(
    people: Personas, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    smtp_mailbox(people, smtp, name="A first", email="first@frontdesk.example")
    sales = smtp_mailbox(people, smtp, name="Sales", email="sales@frontdesk.example")
    conversation = email_conversation(sales)

    reply(conversation, people, on_commit)

    [received] = smtp.messages
    assert received.mail_from == "sales@frontdesk.example"
    assert parsed(received)["Message-ID"].endswith("@frontdesk.example>")


# --- failures --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_smtp_down_is_retried_then_the_reply_fails_with_the_reason_and_keeps_its_text(
    people: Personas, on_commit: OnCommit, caplog: pytest.LogCaptureFixture
) -> None:
    mailbox = smtp_mailbox(people, None)
    conversation = email_conversation(mailbox)

    with caplog.at_level(logging.WARNING, logger="frontdesk.mail.outbound"):
        message = reply(conversation, people, on_commit)

    retries = [r for r in caplog.records if "will retry" in r.getMessage()]
    finals = [r for r in caplog.records if "failed for good" in r.getMessage()]
    assert (len(retries), len(finals)) == (2, 1)
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "refused the connection" in message.delivery_error
    assert str(mailbox.smtp_port) in message.delivery_error
    assert message.text == "It left our warehouse on Monday.\nTracking: <AB123>"
    # The id was fixed before sending, so a late bounce or answer still finds the reply.
    assert number_in_our_message_id(message.email_message_id) == conversation.number


@pytest.mark.django_db
def test_the_thread_shows_the_delivery_status_and_the_reason(
    client: Client, people: Personas, on_commit: OnCommit
) -> None:
    mailbox = smtp_mailbox(people, None)
    conversation = email_conversation(mailbox)
    message = reply(conversation, people, on_commit)
    client.force_login(people.agent)

    page = client.get(
        reverse("conversations:conversation_thread", args=[conversation.number])
    ).content.decode()

    assert "Not delivered" in page
    assert "refused the connection" in page
    assert message.text.splitlines()[0] in page


def delivery_changes(conversation: Conversation) -> list[tuple[str, str]]:
    return [
        (event.data["previous_status"], event.data["status"])
        for event in Event.objects.filter(
            object_type="conversation",
            object_id=conversation.pk,
            action="message.delivery_changed",
        ).order_by("id")
    ]


@pytest.mark.django_db
def test_a_recipient_the_server_refuses_with_550_fails_the_reply_at_once_with_its_reason(
    client: Client, people: Personas, mailbox: Mailbox, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    conversation = email_conversation(mailbox)
    smtp.refuse("jane@example.com", "550 5.1.1 <jane@example.com>: User unknown in this domain")

    message = reply(conversation, people, on_commit)

    assert smtp.messages == []
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.delivery_error == "550 5.1.1 <jane@example.com>: User unknown in this domain"
    assert message.text == "It left our warehouse on Monday.\nTracking: <AB123>"
    # No sending → queued in between: a 5xx is not retried.
    assert delivery_changes(conversation) == [
        ("", "queued"), ("queued", "sending"), ("sending", "failed"),
    ]  # fmt: skip
    client.force_login(people.agent)
    page = client.get(
        reverse("conversations:conversation_thread", args=[conversation.number])
    ).content.decode()
    assert "Not delivered" in page
    assert "User unknown in this domain" in page


@pytest.mark.django_db
def test_a_recipient_refused_with_451_is_retried_then_the_reply_is_sent_once(
    people: Personas,
    mailbox: Mailbox,
    smtp: SmtpServer,
    on_commit: OnCommit,
    caplog: pytest.LogCaptureFixture,
) -> None:
    conversation = email_conversation(mailbox)
    smtp.refuse("jane@example.com", "451 4.7.1 Greylisted, try again later", times=1)

    with caplog.at_level(logging.WARNING, logger="frontdesk.mail.outbound"):
        message = reply(conversation, people, on_commit)

    [received] = smtp.messages
    assert received.rcpt_tos == ["jane@example.com"]
    assert len([r for r in caplog.records if "will retry" in r.getMessage()]) == 1
    assert message.delivery_status == DeliveryStatus.SENT
    assert message.delivery_error == ""
    assert delivery_changes(conversation) == [
        ("", "queued"), ("queued", "sending"), ("sending", "queued"),
        ("queued", "sending"), ("sending", "sent"),
    ]  # fmt: skip
    retry = Event.objects.get(
        object_type="conversation", object_id=conversation.pk, data__previous_status="sending",
        data__status="queued",
    )  # fmt: skip
    assert retry.data["reason"] == "451 4.7.1 Greylisted, try again later"


# --- the mailbox's signature -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_mailbox_signature_ends_every_reply_it_sends_but_is_not_stored_with_it(
    people: Personas, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    mailbox = smtp_mailbox(people, smtp, signature="Anna & the <Support> team\nFrontdesk s.r.o.\n")
    conversation = email_conversation(mailbox)

    message = reply(conversation, people, on_commit)

    sent = parsed(smtp.messages[0])
    text = sent.get_body(preferencelist=("plain",)).get_content()
    html = sent.get_body(preferencelist=("html",)).get_content()
    assert text == (
        "It left our warehouse on Monday.\nTracking: <AB123>\n\n"
        "-- \nAnna & the <Support> team\nFrontdesk s.r.o.\n"
    )
    assert html.index("Tracking: &lt;AB123&gt;") < html.index("-- <br>")
    assert "Anna &amp; the &lt;Support&gt; team<br>\nFrontdesk s.r.o.</div>" in html
    assert "<Support>" not in html
    assert message.text == "It left our warehouse on Monday.\nTracking: <AB123>"
    assert "Frontdesk s.r.o." not in message.html


@pytest.mark.django_db
def test_the_signature_follows_the_html_of_a_reply(
    people: Personas, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    mailbox = smtp_mailbox(people, smtp, signature="Support team")
    conversation = email_conversation(mailbox)

    reply(
        conversation, people, on_commit, text="Done.", html="<p>Done, <strong>today</strong>.</p>"
    )

    html = parsed(smtp.messages[0]).get_body(preferencelist=("html",)).get_content()
    assert html.index("<strong>today</strong>") < html.index('<div class="signature">-- <br>')
    assert "Support team</div>" in html


@pytest.mark.django_db
def test_a_note_is_never_mailed_with_or_without_the_signature(
    people: Personas, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    mailbox = smtp_mailbox(people, smtp, signature="Support team")
    conversation = email_conversation(mailbox)

    with on_commit():
        note = services.add_note(
            conversation, by=people.agent, text="Customer is a VIP.", via=Via.WEB
        )

    note.refresh_from_db()
    assert smtp.messages == []
    assert note.text == "Customer is a VIP."
    assert note.delivery_status == DeliveryStatus.NONE


@pytest.mark.django_db
def test_the_acknowledgement_is_signed_with_the_mailbox_signature(
    people: Personas, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    mailbox = smtp_mailbox(people, smtp, signature="The Support team", auto_acknowledge=True)

    with on_commit():
        email_conversation(mailbox)

    [acknowledgement] = smtp.messages
    body = parsed(acknowledgement).get_content()
    assert "\n-- \nThe Support team\n" in body


# --- both ends: answers and bounces find the reply -------------------------------------------


@pytest.mark.django_db
def test_the_customers_answer_to_our_reply_threads_into_the_conversation(
    people: Personas, mailbox: Mailbox, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    conversation = email_conversation(mailbox)
    reply(conversation, people, on_commit)
    ours = parsed(smtp.messages[0])["Message-ID"]

    result = ingest_raw(
        customer_mail(
            subject="Thanks",  # no tag: the Message-ID alone threads it
            body="Got it, thanks!",
            message_id="<answer@mail.example.com>",
            in_reply_to=ours,
            references=ours,
        ),
        mailbox=mailbox,
        source="test",
    )

    assert (result.outcome, result.conversation_number) == ("threaded", conversation.number)
    last = conversation.messages.order_by("id").last()
    assert last is not None
    assert (last.kind, last.text) == (MessageKind.CUSTOMER, "Got it, thanks!")


@pytest.mark.django_db
def test_a_bounce_of_the_sent_reply_marks_it_failed(
    people: Personas, mailbox: Mailbox, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    conversation = email_conversation(mailbox)
    message = reply(conversation, people, on_commit)
    assert message.delivery_status == DeliveryStatus.SENT
    ours = parsed(smtp.messages[0])["Message-ID"]
    bounce = (
        (CORPUS / "dsn-bounce-550.eml")
        .read_bytes()
        .replace(b"<conversation-1042.message-7@frontdesk.example>", ours.encode())
    )

    result = ingest_raw(bounce, mailbox=mailbox, source="test")

    assert (result.outcome, result.conversation_number) == ("threaded", conversation.number)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "5.1.1" in message.delivery_error
