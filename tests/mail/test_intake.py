"""The email intake: raw mail in, conversations, quarantine and guards out, on the real database."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from frontdesk.conversations import services
from frontdesk.conversations.models import (
    Attachment,
    Channel,
    Conversation,
    DeliveryStatus,
    Message,
    MessageKind,
    Status,
)
from frontdesk.core.models import Event
from frontdesk.customers.models import Customer
from frontdesk.mail.intake import (
    IngestResult,
    ingest_raw,
    is_automated_message,
    raw_key,
    retry_quarantined,
)
from frontdesk.mail.models import InboundMessage, Mailbox, Quarantine
from frontdesk.mail.services import create_mailbox
from tests.conftest import Personas
from tests.mail.refusals import CHECK_VIOLATION, database_refusing

CORPUS = Path(__file__).with_name("corpus")


def mail(
    *,
    sender: str = "Jane Doe <jane@example.com>",
    to: str = "support@frontdesk.example",
    subject: str = "Where is my parcel?",
    body: str = "Hello, my parcel did not arrive.",
    message_id: str = "<first@example.com>",
    in_reply_to: str = "",
    references: str = "",
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Mon, 1 Jun 2026 10:00:00 +0200"
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(
            attachment[1], maintype="application", subtype="octet-stream", filename=attachment[0]
        )
    return message.as_bytes()


@pytest.fixture
def mailbox(people: Personas) -> Mailbox:
    return create_mailbox(
        by=None, name="Support", email="support@frontdesk.example", default_team=people.orders
    )


def conversation_of(result: IngestResult) -> Conversation:
    assert result.conversation_number is not None, result
    return Conversation.objects.get(number=result.conversation_number)


def counts() -> tuple[int, int, int, int, int]:
    return (
        Conversation.objects.count(),
        Message.objects.count(),
        Customer.objects.count(),
        InboundMessage.objects.count(),
        Quarantine.objects.count(),
    )


def test_new_mail_opens_an_email_conversation_in_the_mailbox_team(mailbox: Mailbox) -> None:
    result = ingest_raw(mail(), mailbox=mailbox, source="test")

    assert result.outcome == "created"
    conversation = conversation_of(result)
    assert conversation.channel == Channel.EMAIL
    assert conversation.subject == "Where is my parcel?"
    assert conversation.team == mailbox.default_team
    assert conversation.language == ""
    assert conversation.customer.primary_email == "jane@example.com"
    assert conversation.customer.name == "Jane Doe"
    [message] = conversation.messages.all()
    assert message.kind == MessageKind.CUSTOMER
    assert message.author_customer == conversation.customer
    assert message.text == "Hello, my parcel did not arrive."
    assert message.email_message_id == "<first@example.com>"
    record = InboundMessage.objects.get()
    assert (record.outcome, record.conversation, record.message) == (
        "created",
        conversation,
        message,
    )
    assert record.mailbox == mailbox
    assert record.sender == "jane@example.com"


def test_the_full_original_is_kept_while_the_message_shows_the_visible_part(
    mailbox: Mailbox,
) -> None:
    raw = (CORPUS / "gmail-reply-en.eml").read_bytes()

    ingest_raw(raw, mailbox=mailbox, source="test")

    message = Message.objects.get()
    assert "Thanks, the new invoice arrived." in message.text
    assert "Could you check the invoice for May?" not in message.text
    assert "Could you check the invoice for May?" not in message.html
    record = InboundMessage.objects.get()
    with default_storage.open(str(record.raw.name), "rb") as handle:
        assert handle.read() == raw


def test_the_same_mail_again_is_a_duplicate_and_writes_nothing(mailbox: Mailbox) -> None:
    ingest_raw(mail(), mailbox=mailbox, source="poll 1")
    before = counts()

    again = ingest_raw(mail(), mailbox=mailbox, source="poll 2")

    assert again.outcome == "duplicate"
    assert again.conversation_number is None
    assert counts() == before


def test_a_cc_copy_through_a_second_mailbox_lands_once(mailbox: Mailbox, people: Personas) -> None:
    sales = create_mailbox(by=None, name="Sales", email="sales@frontdesk.example")
    first = ingest_raw(
        (CORPUS / "cc-copy-mailbox-support.eml").read_bytes(), mailbox=mailbox, source="support"
    )

    second = ingest_raw(
        (CORPUS / "cc-copy-mailbox-sales.eml").read_bytes(), mailbox=sales, source="sales"
    )

    assert (first.outcome, second.outcome) == ("created", "duplicate")
    assert Conversation.objects.count() == 1
    assert InboundMessage.objects.get().mailbox == mailbox


def test_unparseable_mail_is_quarantined_raw_with_its_reason_and_nothing_else(
    mailbox: Mailbox,
) -> None:
    raw = (CORPUS / "hostile-deep-nesting.eml").read_bytes()

    result = ingest_raw(raw, mailbox=mailbox, source="imap uid 7")

    assert result.outcome == "quarantined"
    assert "nested deeper" in result.detail
    row = Quarantine.objects.get()
    assert bytes(row.raw) == raw
    assert row.key == raw_key(raw)
    assert "nested deeper" in row.reason
    assert (row.mailbox, row.source, row.resolved_at) == (mailbox, "imap uid 7", None)
    assert row.sender
    assert Event.objects.filter(action="mail.quarantined", object_id=row.pk).exists()
    assert (Conversation.objects.count(), InboundMessage.objects.count()) == (0, 0)
    assert ingest_raw(raw, mailbox=mailbox, source="again").outcome == "duplicate"
    assert Quarantine.objects.count() == 1


def test_mail_without_a_sender_address_is_quarantined(mailbox: Mailbox) -> None:
    result = ingest_raw(
        (CORPUS / "malformed-from-empty.eml").read_bytes(), mailbox=mailbox, source="test"
    )

    assert (result.outcome, result.detail) == ("quarantined", "no sender address")
    assert Conversation.objects.count() == 0


def test_a_reply_threads_into_its_conversation_by_in_reply_to(mailbox: Mailbox) -> None:
    first = ingest_raw(mail(), mailbox=mailbox, source="test")

    reply = ingest_raw(
        mail(
            subject="Re: Where is my parcel?",
            body="Any news?",
            message_id="<second@example.com>",
            in_reply_to="<first@example.com>",
        ),
        mailbox=mailbox,
        source="test",
    )

    assert reply.outcome == "threaded"
    assert reply.conversation_number == first.conversation_number
    conversation = conversation_of(first)
    latest = conversation.messages.order_by("id").last()
    assert latest is not None
    assert (latest.text, latest.email_in_reply_to) == ("Any news?", "<first@example.com>")


def test_a_colleague_in_copy_replying_is_the_author_of_their_message(mailbox: Mailbox) -> None:
    first = ingest_raw(mail(), mailbox=mailbox, source="test")

    ingest_raw(
        mail(
            sender="Tom <tom@example.com>",
            body="I am Jane's colleague; same question.",
            message_id="<tom@example.com>",
            in_reply_to="<first@example.com>",
        ),
        mailbox=mailbox,
        source="test",
    )

    conversation = conversation_of(first)
    latest = conversation.messages.order_by("id").last()
    assert latest is not None
    assert latest.author_customer is not None
    assert latest.author_customer.primary_email == "tom@example.com"
    assert conversation.customer.primary_email == "jane@example.com"


def test_a_reply_to_a_closed_conversation_opens_a_follow_up_naming_it(
    mailbox: Mailbox, people: Personas
) -> None:
    first = ingest_raw(mail(), mailbox=mailbox, source="test")
    closed = conversation_of(first)
    services.set_status(closed, by=None, status=Status.SOLVED)
    services.set_status(closed, by=None, status=Status.CLOSED)

    result = ingest_raw(
        mail(
            body="It broke again.",
            message_id="<again@example.com>",
            in_reply_to="<first@example.com>",
        ),
        mailbox=mailbox,
        source="test",
    )

    assert result.outcome == "created"
    assert result.conversation_number != first.conversation_number
    follow_up = conversation_of(result)
    assert follow_up.team == closed.team
    kinds = list(follow_up.messages.order_by("id").values_list("kind", "text"))
    assert kinds[0] == (MessageKind.CUSTOMER, "It broke again.")
    assert kinds[1][0] == MessageKind.SYSTEM
    assert f"#{closed.number}" in kinds[1][1]
    assert closed.messages.count() == 1
    record = InboundMessage.objects.get(email_message_id="<again@example.com>")
    assert f"follow-up to closed #{closed.number}" in record.detail


def test_mail_from_our_own_mailbox_is_ignored_and_remembered(mailbox: Mailbox) -> None:
    raw = mail(sender="Support <support@frontdesk.example>", to="jane@example.com")

    result = ingest_raw(raw, mailbox=mailbox, source="test")

    assert result.outcome == "ignored"
    assert Conversation.objects.count() == 0
    record = InboundMessage.objects.get()
    assert (record.outcome, record.conversation) == ("ignored", None)
    assert ingest_raw(raw, mailbox=mailbox, source="re-poll").outcome == "duplicate"


def test_automated_mail_is_taken_in_but_flagged_never_to_be_acknowledged(
    mailbox: Mailbox,
) -> None:
    result = ingest_raw(
        (CORPUS / "auto-reply-auto-submitted.eml").read_bytes(), mailbox=mailbox, source="test"
    )
    person = ingest_raw(mail(), mailbox=mailbox, source="test")

    assert result.outcome == "created"
    automated = Message.objects.get(conversation=conversation_of(result))
    human = Message.objects.get(conversation=conversation_of(person))
    assert is_automated_message(automated) is True
    assert is_automated_message(human) is False


@override_settings(MAIL_SENDER_LIMIT=2, MAIL_SENDER_WINDOW_S=600)
def test_a_sender_over_the_rate_limit_is_quarantined_until_the_window_passes(
    mailbox: Mailbox,
) -> None:
    start = timezone.now()
    outcomes = [
        ingest_raw(mail(message_id=f"<m{n}@example.com>", body=f"Message {n}"), mailbox=mailbox,
                   source="test", at=start + timedelta(seconds=n)).outcome
        for n in range(3)
    ]  # fmt: skip
    later = ingest_raw(
        mail(message_id="<later@example.com>", body="Later"),
        mailbox=mailbox,
        source="test",
        at=start + timedelta(seconds=700),
    )

    assert outcomes == ["created", "created", "quarantined"]
    assert Quarantine.objects.get().reason == "rate limit"
    assert later.outcome == "created"


@override_settings(MAIL_SENDER_LIMIT=1)
def test_retrying_a_quarantined_mail_takes_it_in_and_resolves_it(mailbox: Mailbox) -> None:
    ingest_raw(mail(message_id="<a@example.com>", body="A"), mailbox=mailbox, source="test")
    held = ingest_raw(mail(message_id="<b@example.com>", body="B"), mailbox=mailbox, source="test")
    assert held.outcome == "quarantined"

    result = retry_quarantined(Quarantine.objects.get())

    assert result.outcome == "created"
    row = Quarantine.objects.get()
    assert row.resolved_at is not None
    assert row.retries == 1
    assert Message.objects.filter(text="B").exists()


@override_settings(MAX_ATTACHMENT_BYTES=1000)
def test_an_oversize_attachment_is_mentioned_not_attached_and_the_message_kept(
    mailbox: Mailbox,
) -> None:
    raw = mail(
        body="See the logs.",
        attachment=("huge.log", b"x" * 5000),
    )

    result = ingest_raw(raw, mailbox=mailbox, source="test")

    assert result.outcome == "created"
    message = Message.objects.get()
    assert message.text.startswith("See the logs.")
    assert "huge.log" in message.text
    assert "original mail" in message.text
    assert Attachment.objects.count() == 0


def test_attachments_within_the_limit_are_stored_with_the_message(mailbox: Mailbox) -> None:
    ingest_raw(
        (CORPUS / "mixed-text-pdf-attachment.eml").read_bytes(), mailbox=mailbox, source="test"
    )

    message = Message.objects.get()
    assert [a.filename for a in message.attachments.all()] == ["invoice-2024-05.pdf"]


def test_a_bounce_of_our_reply_marks_it_failed_and_tells_the_agents(
    mailbox: Mailbox, people: Personas
) -> None:
    first = ingest_raw(mail(), mailbox=mailbox, source="test")
    conversation = conversation_of(first)
    reply = services.add_reply(conversation, by=people.agent, text="It left on Monday.")
    our_id = f"<fd.{conversation.number}.abc123@frontdesk.example>"
    services.set_delivery_status(reply, status=DeliveryStatus.SENT, email_message_id=our_id)
    raw = (
        (CORPUS / "dsn-bounce-550.eml")
        .read_bytes()
        .replace(b"<conversation-1042.message-7@frontdesk.example>", our_id.encode())
    )

    result = ingest_raw(raw, mailbox=mailbox, source="test")

    assert (result.outcome, result.conversation_number) == ("threaded", conversation.number)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert "5.1.1" in reply.delivery_error
    note = conversation.messages.order_by("id").last()
    assert note is not None
    assert note.kind == MessageKind.SYSTEM
    assert "gone@example.com" in note.text
    assert Customer.objects.filter(identities__normalized__startswith="mailer-daemon").count() == 0


def test_a_bounce_for_mail_we_did_not_send_is_ignored_but_kept(mailbox: Mailbox) -> None:
    result = ingest_raw(
        (CORPUS / "dsn-bounce-550.eml").read_bytes(), mailbox=mailbox, source="test"
    )

    assert result.outcome == "ignored"
    assert "did not send" in result.detail
    assert (Conversation.objects.count(), Quarantine.objects.count()) == (0, 0)
    assert InboundMessage.objects.get().raw.name


def test_mail_taken_in_is_audited_as_coming_by_email(mailbox: Mailbox) -> None:
    result = ingest_raw(mail(), mailbox=mailbox, source="test")

    conversation = conversation_of(result)
    event = Event.objects.get(action="conversation.created", object_id=conversation.pk)
    assert (event.via, event.actor_id) == ("email", None)


@pytest.mark.django_db(transaction=True)
def test_a_quarantine_refused_by_the_database_is_an_error_not_a_duplicate(
    mailbox: Mailbox,
) -> None:
    """Only the unique key makes a failed quarantine insert a duplicate: any other refusal
    must reach the caller, which then does not acknowledge the mail (IMAP flag, SMTP 250)."""
    raw = (CORPUS / "hostile-deep-nesting.eml").read_bytes()

    with database_refusing(Quarantine, errcode=CHECK_VIOLATION), pytest.raises(IntegrityError):
        ingest_raw(raw, mailbox=mailbox, source="imap uid 7")

    assert Quarantine.objects.count() == 0
    assert ingest_raw(raw, mailbox=mailbox, source="imap uid 7").outcome == "quarantined"


@pytest.mark.django_db(transaction=True)
def test_two_intakes_of_the_same_mail_at_once_take_it_in_once(mailbox: Mailbox) -> None:
    """The key is written last: the loser does all the work, fails on it and rolls it back."""
    from django.db import connection, connections

    raw = mail(sender="New Sender <new@example.net>")
    start = threading.Barrier(3, timeout=30)
    results: list[IngestResult] = []

    def intake() -> None:
        try:
            start.wait()
            results.append(ingest_raw(raw, mailbox=mailbox, source="race"))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=intake) for _ in range(2)]
    for worker in workers:
        worker.start()
    # Both wait behind a writer holding the number counter, past their already-seen checks.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_counter (name, value) VALUES ('conversation_number', 0) "
                "ON CONFLICT (name) DO UPDATE SET value = core_counter.value"
            )
        start.wait()
        time.sleep(0.5)
    for worker in workers:
        worker.join(timeout=60)

    assert sorted(r.outcome for r in results) == ["created", "duplicate"]
    assert counts()[0] == 1 and InboundMessage.objects.count() == 1
    assert Customer.objects.filter(identities__normalized="new@example.net").count() == 1
