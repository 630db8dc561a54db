"""The SMTP/LMTP listener, spoken to with smtplib on 127.0.0.1, taking mail into the real database.

The listener takes mail in on its own threads with their own database
connections, so these tests commit (transaction=True) and need a test database
that other threads can open (PostgreSQL, or SQLite in a file).

A database failure is made by the database itself: a trigger makes it refuse
to insert an InboundMessage row, the first write of every intake (PostgreSQL
raises disk_full, SQLite aborts the statement). The listener and the intake run
unchanged; only the database says no, as it would with a full disk. Dropping
the trigger then stands for the database coming back.
"""

from __future__ import annotations

import re
import smtplib
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from frontdesk.conversations.models import Conversation
from frontdesk.mail.listener import IntakeHandler, ListenerController
from frontdesk.mail.models import InboundMessage, Mailbox, Quarantine
from frontdesk.mail.services import create_mailbox, set_mailbox_active
from tests.conftest import Personas
from tests.mail.refusals import database_refusing_mail
from tests.mail.test_intake import mail
from tests.realtime.sessions import shareable_test_database

# The tests that store mail commit: the listener reads it from other threads.
committing = pytest.mark.django_db(transaction=True)

CORPUS = Path(__file__).with_name("corpus")
TIMEOUT_S = 15.0
SUPPORT = "support@frontdesk.example"
SALES = "sales@frontdesk.example"
SENDER = "jane@example.com"

Listen = Callable[..., ListenerController]


@pytest.fixture
def mailboxes(people: Personas) -> tuple[Mailbox, Mailbox]:
    support = create_mailbox(by=None, name="Support", email=SUPPORT, default_team=people.orders)
    sales = create_mailbox(by=None, name="Sales", email=SALES, default_team=people.billing)
    return support, sales


@pytest.fixture
def listen() -> Iterator[Listen]:
    """Start listeners on free ports of 127.0.0.1; all are stopped after the test."""
    if not shareable_test_database():
        pytest.skip("the listener's threads need PostgreSQL or a file SQLite test database")
    started: list[ListenerController] = []

    def start(*, lmtp: bool = False, **options: Any) -> ListenerController:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        controller = ListenerController(sock, lmtp=lmtp, **options)
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop(grace_s=TIMEOUT_S)


def client(controller: ListenerController) -> smtplib.SMTP:
    """An SMTP client, or an LMTP one (LHLO instead of EHLO) for an LMTP listener."""
    if controller.lmtp:
        return smtplib.LMTP("127.0.0.1", controller.port, timeout=TIMEOUT_S)
    return smtplib.SMTP("127.0.0.1", controller.port, timeout=TIMEOUT_S)


def on_the_wire(raw: bytes) -> bytes:
    """`raw` with CRLF line endings, as an MTA sends it (smtplib converts only text)."""
    return re.sub(rb"\r?\n", b"\r\n", raw)


def deliver(controller: ListenerController, raw: bytes, *recipients: str) -> tuple[int, bytes]:
    """One transaction; the answer to DATA (the first recipient's, in LMTP)."""
    with client(controller) as session:
        session.ehlo()
        session.mail(SENDER)
        for recipient in recipients or (SUPPORT,):
            code, reply = session.rcpt(recipient)
            assert code == 250, reply
        return session.data(on_the_wire(raw))


def wait_until(condition: Callable[[], bool], *, timeout_s: float = TIMEOUT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@committing
@pytest.mark.parametrize("lmtp", [False, True], ids=["smtp", "lmtp"])
def test_a_message_is_answered_250_once_its_conversation_is_committed(
    listen: Listen, mailboxes: tuple[Mailbox, Mailbox], people: Personas, lmtp: bool
) -> None:
    controller = listen(lmtp=lmtp)

    code, reply = deliver(controller, mail())
    # Read right after the answer, by another connection: what it names is committed.
    stored = list(Conversation.objects.values_list("number", "team"))

    assert code == 250
    assert len(stored) == 1
    number, team = stored[0]
    assert reply == f"2.0.0 OK created #{number}".encode()
    assert team == people.orders.pk
    protocol = "lmtp" if lmtp else "smtp"
    assert InboundMessage.objects.get().source == f"{protocol}:{SUPPORT}"


@committing
def test_the_same_message_twice_makes_one_conversation(
    listen: Listen, mailboxes: tuple[Mailbox, Mailbox]
) -> None:
    controller = listen()

    first = deliver(controller, mail())
    again = deliver(controller, mail())

    assert first[0] == again[0] == 250
    assert again[1] == b"2.0.0 OK duplicate"
    assert Conversation.objects.count() == 1
    assert InboundMessage.objects.count() == 1


@committing
def test_an_unparseable_message_is_quarantined_and_still_accepted(
    listen: Listen, mailboxes: tuple[Mailbox, Mailbox]
) -> None:
    raw = (CORPUS / "hostile-deep-nesting.eml").read_bytes()

    code, reply = deliver(listen(), raw)

    assert (code, reply) == (250, b"2.0.0 OK quarantined")
    held = Quarantine.objects.get()
    assert "nested deeper" in held.reason
    assert held.source == f"smtp:{SUPPORT}"
    assert held.mailbox == mailboxes[0]
    assert bytes(held.raw) == on_the_wire(raw)
    assert Conversation.objects.count() == 0


@committing
def test_a_line_longer_than_smtp_allows_is_still_taken_in(
    listen: Listen, mailboxes: tuple[Mailbox, Mailbox]
) -> None:
    raw = (CORPUS / "hostile-long-subject.eml").read_bytes()
    assert max(len(line) for line in raw.splitlines()) > 1000

    code, reply = deliver(listen(lmtp=True), raw)

    assert code == 250
    assert reply.startswith(b"2.0.0 OK created #")
    assert Conversation.objects.count() == 1


@committing
def test_an_unknown_recipient_is_refused_at_rcpt_and_a_known_one_in_any_case_is_taken(
    listen: Listen, mailboxes: tuple[Mailbox, Mailbox]
) -> None:
    controller = listen()
    with client(controller) as session:
        refused = session.sendmail(
            SENDER, ["nobody@frontdesk.example", SUPPORT.upper()], on_the_wire(mail())
        )

    assert refused == {"nobody@frontdesk.example": (550, b"5.1.1 No such mailbox here")}
    assert Conversation.objects.count() == 1


@committing
def test_a_message_only_for_unknown_recipients_stores_nothing(
    listen: Listen, mailboxes: tuple[Mailbox, Mailbox]
) -> None:
    controller = listen()
    with client(controller) as session, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        session.sendmail(SENDER, ["nobody@frontdesk.example"], on_the_wire(mail()))

    assert refused.value.recipients["nobody@frontdesk.example"][0] == 550
    assert InboundMessage.objects.count() == Quarantine.objects.count() == 0


@committing
def test_a_deactivated_mailbox_defers_its_mail(
    listen: Listen, mailboxes: tuple[Mailbox, Mailbox], people: Personas
) -> None:
    set_mailbox_active(mailboxes[0], by=people.admin, active=False)
    controller = listen()
    with client(controller) as session:
        session.ehlo()
        session.mail(SENDER)
        answer = session.rcpt(SUPPORT)

    assert answer == (450, b"4.2.1 Mailbox disabled, try again later")


@committing
def test_lmtp_answers_data_once_per_recipient(
    listen: Listen, mailboxes: tuple[Mailbox, Mailbox], people: Personas
) -> None:
    controller = listen(lmtp=True)
    with client(controller) as session:
        session.ehlo()
        session.mail(SENDER)
        session.rcpt(SUPPORT)
        session.rcpt(SALES)
        first = session.data(on_the_wire(mail()))
        second = session.getreply()

    conversation = Conversation.objects.get()
    assert first == (250, f"2.0.0 OK created #{conversation.number}".encode())
    # The copy to the second mailbox is the same mail: known by its key, stored once.
    assert second == (250, b"2.0.0 OK duplicate")
    assert conversation.team == people.orders


@committing
@pytest.mark.parametrize("lmtp", [False, True], ids=["smtp", "lmtp"])
def test_a_database_failure_answers_451_and_the_retry_lands_once(
    listen: Listen, mailboxes: tuple[Mailbox, Mailbox], lmtp: bool
) -> None:
    controller = listen(lmtp=lmtp)

    with database_refusing_mail():
        failed = deliver(controller, mail())
        left_behind = (
            InboundMessage.objects.count(),
            Conversation.objects.count(),
            Quarantine.objects.count(),
        )
    retried = deliver(controller, mail())

    assert failed == (451, b"4.3.0 Temporary failure, try again later")
    assert left_behind == (0, 0, 0)
    assert retried[0] == 250
    assert retried[1].startswith(b"2.0.0 OK created #")
    assert Conversation.objects.count() == InboundMessage.objects.count() == 1


@committing
def test_an_intake_slower_than_its_time_limit_answers_451_and_the_retry_is_a_duplicate(
    listen: Listen, mailboxes: tuple[Mailbox, Mailbox]
) -> None:
    hasty = listen(handler=IntakeHandler(intake_timeout_s=0.0001))

    answer = deliver(hasty, mail())
    # The late intake still commits; the MTA's retry then finds the mail known.
    committed = wait_until(InboundMessage.objects.exists)
    retried = deliver(listen(), mail())

    assert answer == (451, b"4.3.0 Temporary failure, try again later")
    assert committed
    assert retried == (250, b"2.0.0 OK duplicate")
    assert Conversation.objects.count() == 1


@committing
def test_a_message_over_the_mail_size_setting_is_refused_and_not_stored(
    listen: Listen, mailboxes: tuple[Mailbox, Mailbox], settings: Any
) -> None:
    settings.MAIL_MAX_MESSAGE_BYTES = 10_000
    controller = listen()
    big = on_the_wire(mail(body="x" * 20_000))

    with client(controller) as session:
        session.ehlo()
        advertised = session.esmtp_features.get("size")
        # Not declaring the size up front does not get it past the limit either.
        session.mail(SENDER)
        session.rcpt(SUPPORT)
        code, _ = session.data(big)

    assert advertised == "10000"
    assert code == 552
    assert InboundMessage.objects.count() == Quarantine.objects.count() == 0


def test_an_idle_connection_is_closed_after_the_timeout(listen: Listen) -> None:
    controller = listen(timeout_s=0.5)
    with client(controller) as session:
        session.ehlo()
        time.sleep(1.5)
        with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
            session.noop()


def test_stopping_closes_the_port(listen: Listen) -> None:
    controller = listen()
    port = controller.port

    controller.stop(grace_s=TIMEOUT_S)

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S).close()
