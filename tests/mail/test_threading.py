"""Which conversation a mail continues: stored ids, our own ids, the subject tag, merges."""

from __future__ import annotations

import pytest

from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, DeliveryStatus
from frontdesk.mail.intake import ingest_raw
from frontdesk.mail.models import Mailbox
from frontdesk.mail.parse import parse_message
from frontdesk.mail.services import create_mailbox
from frontdesk.mail.threading import (
    number_in_our_message_id,
    numbers_in_subject,
    referenced_ids,
)
from tests.conftest import Personas
from tests.mail.test_intake import conversation_of, mail


@pytest.fixture
def mailbox(people: Personas) -> Mailbox:
    return create_mailbox(
        by=None, name="Support", email="support@frontdesk.example", default_team=people.orders
    )


@pytest.fixture
def opened(mailbox: Mailbox) -> Conversation:
    result = ingest_raw(mail(), mailbox=mailbox, source="test")
    return conversation_of(result)


def test_our_message_id_pattern_gives_the_conversation_number() -> None:
    assert number_in_our_message_id("<fd.42.k3x9@frontdesk.example>") == 42
    assert number_in_our_message_id("<fd.x.k3x9@frontdesk.example>") is None
    assert number_in_our_message_id("<conversation-42@frontdesk.example>") is None


def test_subject_tags_are_read_in_order_without_repeats() -> None:
    assert numbers_in_subject("Re: [#12] Parcel [#7] [#12]") == [12, 7]
    assert numbers_in_subject("Order #12 (no tag)") == []


def test_in_reply_to_comes_first_then_references_nearest_first() -> None:
    parsed = parse_message(
        mail(in_reply_to="<c@x>", references="<a@x> <b@x> <c@x>", message_id="<d@x>")
    )

    assert referenced_ids(parsed) == ["<c@x>", "<b@x>", "<a@x>"]


def test_a_reference_deep_in_the_chain_still_threads(
    mailbox: Mailbox, opened: Conversation
) -> None:
    result = ingest_raw(
        mail(message_id="<r@example.com>", references="<first@example.com> <unknown@elsewhere>",
             in_reply_to="<unknown@elsewhere>", body="Still waiting."),
        mailbox=mailbox, source="test",
    )  # fmt: skip

    assert (result.outcome, result.conversation_number) == ("threaded", opened.number)


def test_a_reply_to_our_stored_outbound_id_threads_whoever_answers(
    mailbox: Mailbox, opened: Conversation, people: Personas
) -> None:
    reply = services.add_reply(opened, by=people.agent, text="On its way.")
    services.set_delivery_status(
        reply, status=DeliveryStatus.SENT, email_message_id="<fd.1.random77@frontdesk.example>"
    )

    result = ingest_raw(
        mail(sender="boss@other.example", message_id="<x@other.example>",
             in_reply_to="<fd.1.random77@frontdesk.example>", body="Forwarded to me."),
        mailbox=mailbox, source="test",
    )  # fmt: skip

    assert (result.outcome, result.conversation_number) == ("threaded", opened.number)


def test_our_id_pattern_threads_a_participant_without_a_stored_id(
    mailbox: Mailbox, opened: Conversation
) -> None:
    our_id = f"<fd.{opened.number}.ack99@frontdesk.example>"

    result = ingest_raw(
        mail(message_id="<p@example.com>", in_reply_to=our_id, body="Thanks for the receipt."),
        mailbox=mailbox, source="test",
    )  # fmt: skip

    assert (result.outcome, result.detail) == ("threaded", "threaded by our-message-id")


def test_our_id_pattern_from_a_stranger_starts_a_new_conversation(
    mailbox: Mailbox, opened: Conversation
) -> None:
    forged = f"<fd.{opened.number}.guess@frontdesk.example>"

    result = ingest_raw(
        mail(sender="mallory@evil.example", message_id="<m@evil.example>", in_reply_to=forged,
             body="Let me in."),
        mailbox=mailbox, source="test",
    )  # fmt: skip

    assert result.outcome == "created"
    assert result.conversation_number != opened.number


def test_a_subject_tag_threads_mail_from_the_conversations_customer(
    mailbox: Mailbox, opened: Conversation
) -> None:
    result = ingest_raw(
        mail(subject=f"Re: [#{opened.number}] Where is my parcel?", message_id="<t@example.com>",
             body="From my phone, without the thread."),
        mailbox=mailbox, source="test",
    )  # fmt: skip

    assert (result.outcome, result.conversation_number) == ("threaded", opened.number)


def test_a_subject_tag_from_a_stranger_is_not_trusted(
    mailbox: Mailbox, opened: Conversation
) -> None:
    result = ingest_raw(
        mail(sender="mallory@evil.example", subject=f"[#{opened.number}] hi",
             message_id="<s@evil.example>", body="Let me in."),
        mailbox=mailbox, source="test",
    )  # fmt: skip

    assert result.outcome == "created"
    assert opened.messages.count() == 1


def test_a_subject_tag_threads_someone_who_already_wrote_in_the_conversation(
    mailbox: Mailbox, opened: Conversation
) -> None:
    ingest_raw(
        mail(sender="tom@example.com", message_id="<tom1@example.com>",
             in_reply_to="<first@example.com>", body="Me too."),
        mailbox=mailbox, source="test",
    )  # fmt: skip

    result = ingest_raw(
        mail(sender="tom@example.com", subject=f"[#{opened.number}] again",
             message_id="<tom2@example.com>", body="Still me."),
        mailbox=mailbox, source="test",
    )  # fmt: skip

    assert (result.outcome, result.conversation_number) == ("threaded", opened.number)


def test_a_reply_to_a_merged_conversation_lands_in_the_one_it_was_merged_into(
    mailbox: Mailbox, opened: Conversation
) -> None:
    other = ingest_raw(
        mail(message_id="<second-topic@example.com>", subject="Invoice", body="Invoice question"),
        mailbox=mailbox, source="test",
    )  # fmt: skip
    target = conversation_of(other)
    services.merge(opened, by=None, into=target)

    result = ingest_raw(
        mail(message_id="<after-merge@example.com>", in_reply_to="<first@example.com>",
             body="Any news?"),
        mailbox=mailbox, source="test",
    )  # fmt: skip

    assert (result.outcome, result.conversation_number) == ("threaded", target.number)
    assert target.messages.filter(text="Any news?").exists()
