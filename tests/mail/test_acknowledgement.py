"""The auto-acknowledgement of a conversation opened by mail, through the real aiosmtpd.

Mail goes through `ingest_raw` with its events delivered on commit, so the
reaction and the task run as they do behind the IMAP poller.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext

from frontdesk.conversations.models import Conversation
from frontdesk.customers.models import Customer
from frontdesk.customers.services import get_or_create_customer_by_email
from frontdesk.mail.intake import IngestResult, ingest_raw
from frontdesk.mail.models import Mailbox, Security
from frontdesk.mail.services import create_mailbox
from frontdesk.mail.threading import number_in_our_message_id
from tests.conftest import Personas
from tests.mail.conftest import ReceivedMail, SmtpServer

CORPUS = Path(__file__).with_name("corpus")
OnCommit = Callable[[], AbstractContextManager[Any]]
THANKS = "Thank you for your message. We have received it and will answer as soon as we can."


@pytest.fixture(autouse=True)
def _tasks_run_now(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> OnCommit:
    def run() -> Any:
        return django_capture_on_commit_callbacks(execute=True)

    return run


def make_mailbox(people: Personas, smtp: SmtpServer, *, auto_acknowledge: bool) -> Mailbox:
    return create_mailbox(
        by=None,
        name="Support",
        email="support@frontdesk.example",
        display_name="Frontdesk Support",
        default_team=people.orders,
        auto_acknowledge=auto_acknowledge,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_security=Security.STARTTLS,
        smtp_username=smtp.username,
        smtp_password=smtp.password,
        verify_certificates=False,
    )


@pytest.fixture
def mailbox(people: Personas, smtp: SmtpServer) -> Mailbox:
    return make_mailbox(people, smtp, auto_acknowledge=True)


def customer_mail(*, sender: str = "Jan Kowalski <jan@example.pl>") -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "support@frontdesk.example"
    mail["Subject"] = "Re: Zamówienie 1042"
    mail["Date"] = "Mon, 1 Jun 2026 10:00:00 +0200"
    mail["Message-ID"] = "<zamowienie@mail.example.pl>"
    mail.set_content("Dzień dobry, paczka nie dotarła.")
    return mail.as_bytes()


def take_in(raw: bytes, mailbox: Mailbox, on_commit: OnCommit) -> IngestResult:
    with on_commit():
        return ingest_raw(raw, mailbox=mailbox, source="test")


def parsed(received: ReceivedMail) -> Any:
    return message_from_bytes(received.data.replace(b"\r\n", b"\n"), policy=default_policy)


@pytest.mark.django_db
def test_a_new_conversation_by_mail_is_acknowledged_in_the_customers_language(
    mailbox: Mailbox, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    customer, _created = get_or_create_customer_by_email("jan@example.pl", name="Jan Kowalski")
    Customer.objects.filter(pk=customer.pk).update(language="pl")

    result = take_in(customer_mail(), mailbox, on_commit)

    assert result.outcome == "created"
    assert result.conversation_number is not None
    conversation = Conversation.objects.get(number=result.conversation_number)
    [received] = smtp.messages
    assert received.rcpt_tos == ["jan@example.pl"]
    assert received.mail_from == "support@frontdesk.example"
    sent = parsed(received)
    assert sent["From"] == "Frontdesk Support <support@frontdesk.example>"
    assert sent["Subject"] == f"Re: Zamówienie 1042 [#{conversation.number}]"
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"] == "<zamowienie@mail.example.pl>"
    assert number_in_our_message_id(sent["Message-ID"]) == conversation.number
    assert sent["Content-Language"] == "pl"
    body = sent.get_content()
    with translation.override("pl"):
        assert gettext(THANKS) in body
        assert f"#{conversation.number}" in body
    greeting = gettext("Hello %(name)s,")
    with translation.override("pl"):
        polish = gettext("Hello %(name)s,")
    assert polish != greeting  # the catalogue has it: the body below is really Polish
    assert body.startswith(polish % {"name": "Jan Kowalski"})


@pytest.mark.django_db
def test_an_unknown_language_falls_back_to_the_sites(
    mailbox: Mailbox, smtp: SmtpServer, on_commit: OnCommit, settings: Any
) -> None:
    take_in(customer_mail(sender="someone@example.org"), mailbox, on_commit)

    [received] = smtp.messages
    assert parsed(received)["Content-Language"] == settings.LANGUAGE_CODE
    assert THANKS in parsed(received).get_content()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "auto-reply-auto-submitted.eml",
        "auto-reply-x-autoreply.eml",
        "auto-reply-precedence-auto-reply.eml",
        "list-precedence-bulk.eml",
    ],
)
def test_automated_mail_is_never_acknowledged(
    name: str, mailbox: Mailbox, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    result = take_in((CORPUS / name).read_bytes(), mailbox, on_commit)

    assert result.outcome == "created"  # taken in, a person may still need to see it
    assert smtp.messages == []


@pytest.mark.django_db
def test_no_acknowledgement_when_the_mailbox_flag_is_off(
    people: Personas, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    mailbox = make_mailbox(people, smtp, auto_acknowledge=False)

    result = take_in(customer_mail(), mailbox, on_commit)

    assert result.outcome == "created"
    assert smtp.messages == []


@pytest.mark.django_db
def test_a_message_threaded_into_a_conversation_is_not_acknowledged_again(
    mailbox: Mailbox, smtp: SmtpServer, on_commit: OnCommit
) -> None:
    take_in(customer_mail(), mailbox, on_commit)
    ours = parsed(smtp.messages[0])["Message-ID"]
    answer = EmailMessage()
    answer["From"] = "jan@example.pl"
    answer["To"] = "support@frontdesk.example"
    answer["Subject"] = "Re: Zamówienie 1042"
    answer["Message-ID"] = "<answer@mail.example.pl>"
    answer["In-Reply-To"] = ours
    answer.set_content("Dziękuję.")

    result = take_in(answer.as_bytes(), mailbox, on_commit)

    assert result.outcome == "threaded"
    assert len(smtp.messages) == 1
