"""Loop and noise guards: our own addresses, automated mail, the per-sender rate limit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from frontdesk.mail import guards
from frontdesk.mail.intake import ingest_raw
from frontdesk.mail.parse import parse_message
from frontdesk.mail.services import create_mailbox
from tests.mail.test_intake import mail

CORPUS = Path(__file__).with_name("corpus")


@override_settings(DEFAULT_FROM_EMAIL="Frontdesk <notices@frontdesk.example>")
def test_own_addresses_are_every_mailbox_and_the_notification_sender(db: None) -> None:
    create_mailbox(by=None, name="Support", email="Support@Frontdesk.example")

    assert guards.is_own_address("support@frontdesk.example")
    assert guards.is_own_address("NOTICES@frontdesk.example")
    assert not guards.is_own_address("jane@example.com")
    assert not guards.is_own_address("")


@pytest.mark.parametrize(
    "name",
    [
        "auto-reply-auto-generated.eml",
        "auto-reply-auto-submitted.eml",
        "auto-reply-precedence-auto-reply.eml",
        "auto-reply-x-autoreply.eml",
        "auto-reply-x-autorespond.eml",
        "list-id-mailing-list.eml",
        "list-precedence-bulk.eml",
        "list-precedence-junk.eml",
        "mailer-daemon-plain-bounce.eml",
        "postmaster-sender.eml",
        "dsn-bounce-550.eml",
    ],
)
def test_mail_from_machines_is_automated(name: str) -> None:
    assert guards.is_automated(parse_message((CORPUS / name).read_bytes()))


def test_mail_a_person_wrote_is_not_automated() -> None:
    for name in ("auto-submitted-no-is-human.eml", "plain-text-only.eml"):
        assert not guards.is_automated(parse_message((CORPUS / name).read_bytes()))


@override_settings(MAIL_SENDER_LIMIT=2, MAIL_SENDER_WINDOW_S=60)
def test_the_rate_limit_counts_only_the_senders_mail_within_the_window(db: None) -> None:
    now = timezone.now()
    for n, sender in enumerate(("jane@example.com", "jane@example.com", "tom@example.com")):
        ingest_raw(
            mail(sender=sender, message_id=f"<{n}@example.com>", body=f"n{n}"),
            mailbox=None, source="test", at=now - timedelta(seconds=30),
        )  # fmt: skip

    assert guards.over_rate_limit("jane@example.com", at=now)
    assert not guards.over_rate_limit("tom@example.com", at=now)
    assert not guards.over_rate_limit("jane@example.com", at=now + timedelta(seconds=45))


@override_settings(MAIL_SENDER_LIMIT=1)
def test_an_import_is_not_rate_limited(db: None) -> None:
    outcomes = [
        ingest_raw(mail(message_id=f"<i{n}@example.com>", body=f"i{n}"), mailbox=None,
                   source="import", rate_limit=False).outcome
        for n in range(3)
    ]  # fmt: skip

    assert outcomes == ["created"] * 3
