"""Mail taken in by the batch: one transaction for many mails, a savepoint for each."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from django.db import DatabaseError, connection

from frontdesk.conversations.events import ConversationCreated, MessageAdded
from frontdesk.conversations.models import Conversation, Message
from frontdesk.core.events import DomainEvent, subscribe, unsubscribe
from frontdesk.customers.models import Customer
from frontdesk.mail.intake import IngestResult, ingest_batch, ingest_in_batches
from frontdesk.mail.models import InboundMessage, Mailbox, Quarantine
from frontdesk.mail.services import create_mailbox
from tests.conftest import Personas
from tests.mail.refusals import database_refusing_mail
from tests.mail.test_intake import counts, mail

CORPUS = Path(__file__).with_name("corpus")
NO_SENDER = (CORPUS / "malformed-from-empty.eml").read_bytes()
UNREADABLE = (CORPUS / "hostile-deep-nesting.eml").read_bytes()


@pytest.fixture
def mailbox(people: Personas) -> Mailbox:
    return create_mailbox(
        by=None, name="Support", email="support@frontdesk.example", default_team=people.orders
    )


def batch_of(*raws: bytes) -> list[tuple[bytes, str]]:
    return [(raw, f"test #{number}") for number, raw in enumerate(raws, 1)]


def outcomes(results: Sequence[IngestResult]) -> list[str]:
    return [result.outcome for result in results]


def test_a_batch_threads_a_reply_onto_mail_of_the_same_batch_and_drops_its_copies(
    mailbox: Mailbox,
) -> None:
    first = mail(message_id="<a@example.com>")
    reply = mail(message_id="<b@example.com>", in_reply_to="<a@example.com>", subject="Re: it")

    results = ingest_batch(batch_of(first, reply, first, NO_SENDER, UNREADABLE), mailbox=mailbox)

    assert outcomes(results) == ["created", "threaded", "duplicate", "quarantined", "quarantined"]
    assert results[1].conversation_number == results[0].conversation_number
    assert results[2].detail == "already imported"
    assert (Conversation.objects.count(), Message.objects.count()) == (1, 2)
    assert InboundMessage.objects.count() == 2
    assert Quarantine.objects.count() == 2


def test_mail_seen_in_an_earlier_batch_is_a_duplicate(mailbox: Mailbox) -> None:
    ingest_batch(batch_of(mail(), NO_SENDER), mailbox=mailbox)
    before = counts()

    results = ingest_batch(batch_of(NO_SENDER, mail()), mailbox=mailbox)

    assert [r.detail for r in results] == ["already in quarantine", "already imported"]
    assert counts() == before


def test_one_refused_mail_in_a_batch_is_quarantined_and_the_others_kept(
    mailbox: Mailbox,
) -> None:
    refused = mail(sender="Jane <jane@@example.com>", message_id="<bad@example.com>")

    results = ingest_batch(
        batch_of(
            mail(message_id="<1@example.com>"),
            refused,
            mail(sender="ann@example.org", message_id="<2@example.com>"),
        ),
        mailbox=mailbox,
    )

    assert outcomes(results) == ["created", "quarantined", "created"]
    assert results[1].detail.startswith("refused: ")
    assert Quarantine.objects.get().sender == "jane@@example.com"
    assert Conversation.objects.count() == 2


@pytest.fixture
def messages_refused_for_poison() -> Iterator[None]:
    """PostgreSQL refuses a message row whose text says "poison", as a data error."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite reports every refusal by a trigger as an integrity error")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF NEW.text LIKE '%poison%' THEN "
            "RAISE EXCEPTION 'value too long' USING ERRCODE = 'string_data_right_truncation'; "
            "END IF; RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_poison BEFORE INSERT ON conversations_message "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse_poison()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse_poison ON conversations_message")
            cursor.execute("DROP FUNCTION test_refuse_poison()")


def test_a_mail_refused_after_it_wrote_leaves_nothing_of_itself_and_the_batch_goes_on(
    mailbox: Mailbox, messages_refused_for_poison: None
) -> None:
    poisoned = mail(
        sender="New Sender <new@example.net>", body="poison", message_id="<p@example.com>"
    )

    results = ingest_batch(
        batch_of(mail(message_id="<1@example.com>"), poisoned, mail(message_id="<2@example.com>")),
        mailbox=mailbox,
    )

    assert outcomes(results) == ["created", "quarantined", "created"]
    assert results[1].detail.startswith("refused: ")
    # Its customer was created before the refusal, under its savepoint: gone with it.
    assert not Customer.objects.filter(identities__normalized="new@example.net").exists()
    assert Conversation.objects.count() == 2
    assert not InboundMessage.objects.filter(email_message_id="<p@example.com>").exists()


@pytest.mark.django_db(transaction=True)
def test_a_database_failure_writes_nothing_of_the_batch_and_a_rerun_takes_it_all_in(
    mailbox: Mailbox,
) -> None:
    batch = batch_of(
        mail(message_id="<1@example.com>"),
        mail(sender="ann@example.org", message_id="<2@example.com>"),
    )

    before = counts()

    with database_refusing_mail(), pytest.raises(DatabaseError):
        ingest_batch(batch, mailbox=mailbox)

    # The customer of the new sender, made before the refusal, went with the batch.
    assert counts() == before
    assert outcomes(ingest_batch(batch, mailbox=mailbox)) == ["created", "created"]


@pytest.mark.django_db(transaction=True)
def test_reactions_see_every_event_of_the_batch_once_after_its_commit(
    mailbox: Mailbox,
) -> None:
    seen: list[tuple[str, bool]] = []

    def record(event: DomainEvent) -> None:
        seen.append((type(event).__name__, connection.in_atomic_block))

    subscribe(ConversationCreated, record)
    subscribe(MessageAdded, record)
    try:
        ingest_batch(
            batch_of(
                mail(message_id="<1@example.com>"),
                mail(message_id="<2@example.com>", in_reply_to="<1@example.com>"),
                mail(sender="Jane <jane@@example.com>", message_id="<3@example.com>"),
            ),
            mailbox=mailbox,
        )
    finally:
        unsubscribe(ConversationCreated, record)
        unsubscribe(MessageAdded, record)

    # The refused mail's events were rolled back with its savepoint.
    assert seen == [
        ("ConversationCreated", False),
        ("MessageAdded", False),
        ("MessageAdded", False),
    ]


def test_batches_parsed_ahead_in_a_worker_give_what_parsing_in_place_gives(
    mailbox: Mailbox,
) -> None:
    mails = [
        (mail(message_id=f"<{n}@example.com>", sender=f"c{n % 3}@example.com"), f"test #{n}")
        for n in range(7)
    ]
    mails[4] = (UNREADABLE, "test #4")

    ahead = list(ingest_in_batches(mails, mailbox=mailbox, batch_size=3, parse_ahead=True))
    again = list(ingest_in_batches(mails, mailbox=mailbox, batch_size=2))

    assert outcomes(ahead) == ["created"] * 4 + ["quarantined"] + ["created"] * 2
    assert outcomes(again) == ["duplicate"] * 7
    assert InboundMessage.objects.count() == 6


def test_a_batch_size_below_one_is_refused(mailbox: Mailbox) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        list(ingest_in_batches([(mail(), "x")], mailbox=mailbox, batch_size=0))
