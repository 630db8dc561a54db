"""Retrying and discarding quarantined mail: admins only, audited, and nothing deleted."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.test import override_settings

from frontdesk.conversations.models import Message
from frontdesk.core.errors import Conflict, PermissionDenied
from frontdesk.core.models import Event, Via
from frontdesk.mail.intake import ingest_raw, raw_key
from frontdesk.mail.models import InboundMessage, Mailbox, Quarantine
from frontdesk.mail.services import (
    create_mailbox,
    discard_quarantined_mail,
    retry_quarantined_mail,
)
from tests.conftest import Personas


def mail(*, sender: str = "Jane Doe <jane@example.com>", message_id: str, body: str) -> bytes:
    message = EmailMessage()
    if sender:
        message["From"] = sender
    message["To"] = "support@frontdesk.example"
    message["Subject"] = "Where is my parcel?"
    message["Date"] = "Mon, 1 Jun 2026 10:00:00 +0200"
    message["Message-ID"] = message_id
    message.set_content(body)
    return message.as_bytes()


@pytest.fixture
def mailbox(people: Personas) -> Mailbox:
    return create_mailbox(
        by=None, name="Support", email="support@frontdesk.example", default_team=people.orders
    )


@pytest.fixture
def rate_limited(mailbox: Mailbox) -> Quarantine:
    """A good mail held back by the per-sender limit: the second of two within the window."""
    with override_settings(MAIL_SENDER_LIMIT=1):
        ingest_raw(mail(message_id="<a@example.com>", body="First"), mailbox=mailbox, source="t")
        held = ingest_raw(
            mail(message_id="<b@example.com>", body="Second"), mailbox=mailbox, source="t"
        )
    assert held.outcome == "quarantined"
    return Quarantine.objects.get()


@pytest.fixture
def senderless(mailbox: Mailbox) -> Quarantine:
    """A mail that fails again on every retry: it names no sender."""
    held = ingest_raw(
        mail(sender="", message_id="<nobody@example.com>", body="Who am I?"),
        mailbox=mailbox,
        source="t",
    )
    assert (held.outcome, held.detail) == ("quarantined", "no sender address")
    return Quarantine.objects.get()


def test_retry_takes_the_mail_in_and_resolves_it_as_imported_by_the_admin(
    people: Personas, rate_limited: Quarantine
) -> None:
    result = retry_quarantined_mail(rate_limited, by=people.admin, via=Via.WEB)

    assert result.outcome == "created"
    assert Message.objects.filter(text="Second").exists()
    row = Quarantine.objects.get(pk=rate_limited.pk)
    assert row.resolved_at is not None
    assert (row.resolution, row.resolved_by, row.retries) == ("imported", people.admin, 1)
    retried = Event.objects.get(action="mail.quarantine_retried", object_id=row.pk)
    assert (retried.actor_id, retried.via) == (people.admin.pk, Via.WEB)
    assert retried.data == {
        "outcome": "created",
        "detail": result.detail,
        "conversation_number": result.conversation_number,
    }
    resolved = Event.objects.get(action="mail.quarantine_resolved", object_id=row.pk)
    assert (resolved.actor_id, resolved.data) == (people.admin.pk, {"resolution": "imported"})


def test_retry_refused_again_stays_open_with_one_more_retry_and_the_reason(
    people: Personas, senderless: Quarantine
) -> None:
    first = retry_quarantined_mail(senderless, by=people.admin, via=Via.WEB)
    second = retry_quarantined_mail(senderless, by=people.admin, via=Via.WEB)

    assert (first.outcome, first.detail) == ("quarantined", "no sender address")
    assert second.outcome == "quarantined"
    row = Quarantine.objects.get(pk=senderless.pk)
    assert (row.resolved_at, row.resolution, row.resolved_by) == (None, "", None)
    assert (row.retries, row.reason) == (2, "no sender address")
    outcomes = Event.objects.filter(action="mail.quarantine_retried", object_id=row.pk)
    assert [event.data["outcome"] for event in outcomes] == ["quarantined", "quarantined"]
    assert not Message.objects.exists()


def test_discard_resolves_it_and_keeps_the_raw_bytes(
    people: Personas, senderless: Quarantine
) -> None:
    raw = bytes(senderless.raw)

    discard_quarantined_mail(senderless, by=people.admin, via=Via.WEB)

    row = Quarantine.objects.get(pk=senderless.pk)
    assert row.resolved_at is not None
    assert (row.resolution, row.resolved_by) == ("discarded", people.admin)
    assert bytes(row.raw) == raw
    event = Event.objects.get(action="mail.quarantine_discarded", object_id=row.pk)
    assert (event.actor_id, event.via) == (people.admin.pk, Via.WEB)
    assert event.data == {"reason": "no sender address", "sender": ""}


@pytest.mark.parametrize("persona", ["supervisor", "agent"])
def test_only_admins_may_retry_or_discard(
    people: Personas, rate_limited: Quarantine, persona: str
) -> None:
    someone = getattr(people, persona)

    with pytest.raises(PermissionDenied):
        retry_quarantined_mail(rate_limited, by=someone, via=Via.WEB)
    with pytest.raises(PermissionDenied):
        discard_quarantined_mail(rate_limited, by=someone, via=Via.WEB)

    row = Quarantine.objects.get(pk=rate_limited.pk)
    assert (row.resolved_at, row.retries) == (None, 0)
    assert not Event.objects.filter(action__startswith="mail.quarantine_").exists()
    assert not Message.objects.filter(text="Second").exists()


def test_a_resolved_mail_is_neither_retried_nor_discarded_again(
    people: Personas, senderless: Quarantine
) -> None:
    discard_quarantined_mail(senderless, by=people.admin, via=Via.WEB)

    with pytest.raises(Conflict):
        retry_quarantined_mail(senderless, by=people.admin, via=Via.WEB)
    with pytest.raises(Conflict):
        discard_quarantined_mail(senderless, by=people.admin, via=Via.WEB)

    row = Quarantine.objects.get(pk=senderless.pk)
    assert (row.resolution, row.retries) == ("discarded", 0)
    assert Event.objects.filter(action__startswith="mail.quarantine_").count() == 1


def test_retry_of_a_mail_taken_in_another_way_meanwhile_resolves_it(
    people: Personas, mailbox: Mailbox
) -> None:
    raw = mail(message_id="<again@example.com>", body="Kept twice")
    assert ingest_raw(raw, mailbox=mailbox, source="import").outcome == "created"
    # The same bytes held under their raw key, as when they could not be parsed at the time.
    held = Quarantine.objects.create(
        key=raw_key(raw), mailbox=mailbox, raw=raw, size=len(raw), reason="cannot parse: old bug"
    )

    result = retry_quarantined_mail(held, by=people.admin, via=Via.WEB)

    assert result.outcome == "duplicate"
    row = Quarantine.objects.get(pk=held.pk)
    assert (row.resolution, row.resolved_by) == ("imported", people.admin)
    assert InboundMessage.objects.count() == 1
    assert Message.objects.filter(text="Kept twice").count() == 1
