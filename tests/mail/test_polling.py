"""Polling IMAP against a real Dovecot: every message imported exactly once, never marked read."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from imapclient import SEEN, IMAPClient

from frontdesk.conversations.models import Conversation, Message
from frontdesk.core.models import Event
from frontdesk.core.scheduling import get_job
from frontdesk.mail import intake
from frontdesk.mail.models import InboundMessage, Mailbox, Quarantine, Security
from frontdesk.mail.polling import (
    IMPORTED,
    TOO_LARGE,
    ByteBudget,
    poll_mailbox,
    poll_mailboxes,
)
from frontdesk.mail.services import (
    check_mailbox_connection,
    claim_idle_lease,
    create_mailbox,
    release_idle_leases,
    set_mailbox_active,
)
from tests.mail.conftest import Dovecot, ImapAccount, closed_port

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "corpus"
TIMEOUT = 5.0
# Messages of different senders, none a reply, an auto-reply or a list mail.
FIRST = ("plain-text-only", "charset-koi8r-plain", "attachment-rfc2231-filename")
MORE = ("attachment-encoded-word-filename", "no-mime-version-plain", "charset-windows-874-html")


def eml(name: str) -> bytes:
    return (CORPUS / f"{name}.eml").read_bytes()


def message_id(name: str) -> str:
    """The Message-ID of a corpus file, as `<name@mail.example>` without the brackets."""
    return f"{name}@mail.example"


def imap_mailbox(dovecot: Dovecot, account: ImapAccount, **overrides: Any) -> Mailbox:
    values: dict[str, Any] = {
        "name": "Support",
        "email": "support@example.com",
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_security": Security.NONE,
        "imap_username": account.username,
        "imap_password": account.password,
        **overrides,
    }
    return create_mailbox(by=None, **values)


def flags(dovecot: Dovecot, account: ImapAccount) -> list[tuple[bytes, ...]]:
    """Each message's flags in the INBOX, in order, looked at without changing them."""
    client = dovecot.client(account)
    try:
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        found = client.fetch(uids, ["FLAGS"]) if uids else {}
        return [tuple(found[uid][b"FLAGS"]) for uid in sorted(found)]
    finally:
        client.logout()


def stored(name: str) -> int:
    """How many messages the help desk holds of this corpus file."""
    return Message.objects.filter(email_message_id__contains=message_id(name)).count()


def kick(dovecot: Dovecot, account: ImapAccount) -> None:
    """Cut every IMAP connection of the account, and wait until they are gone."""
    answer = dovecot.doveadm("kick", account.username)
    assert answer.returncode == 0, answer.stderr
    deadline = time.monotonic() + 5
    while account.username in dovecot.doveadm("who", account.username).stdout:
        assert time.monotonic() < deadline, "the kicked connection is still there"
        time.sleep(0.05)


@pytest.fixture(name="ingest_then")
def ingest_then_fixture(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[int], None]], None]:
    """Run `after(n)` right after the n-th real ingest returned (and committed)."""

    def install(after: Callable[[int], None]) -> None:
        real = intake.ingest_raw
        calls = 0

        def ingest_raw(raw: bytes, **kwargs: Any) -> intake.IngestResult:
            nonlocal calls
            result = real(raw, **kwargs)
            calls += 1
            after(calls)
            return result

        monkeypatch.setattr(intake, "ingest_raw", ingest_raw)

    return install


def test_poll_imports_new_mail_once_and_leaves_it_unread(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    for name in FIRST:
        dovecot.append(imap_account, eml(name))
    mailbox = imap_mailbox(dovecot, imap_account)

    first = poll_mailbox(mailbox, timeout=TIMEOUT)

    assert first.error == ""
    assert dict(first.outcomes) == {"created": 3}
    assert Conversation.objects.count() == 3
    assert [stored(name) for name in FIRST] == [1, 1, 1]
    for message_flags in flags(dovecot, imap_account):
        assert IMPORTED in message_flags
        assert SEEN not in message_flags

    again = poll_mailbox(mailbox, timeout=TIMEOUT)

    assert again.error == ""
    assert again.fetched == 0
    assert Conversation.objects.count() == 3
    assert Message.objects.count() == 3

    dovecot.append(imap_account, eml(MORE[0]))
    third = poll_mailbox(mailbox, timeout=TIMEOUT)

    assert dict(third.outcomes) == {"created": 1}
    assert Conversation.objects.count() == 4
    assert [stored(name) for name in (*FIRST, MORE[0])] == [1, 1, 1, 1]
    assert all(IMPORTED in f and SEEN not in f for f in flags(dovecot, imap_account))
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""
    assert mailbox.last_checked_at is not None


def test_a_batch_reads_at_most_batch_size_and_the_next_poll_the_rest(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    for name in FIRST:
        dovecot.append(imap_account, eml(name))
    mailbox = imap_mailbox(dovecot, imap_account)

    first = poll_mailbox(mailbox, batch_size=2, timeout=TIMEOUT)
    second = poll_mailbox(mailbox, batch_size=2, timeout=TIMEOUT)

    assert (first.fetched, second.fetched) == (2, 1)
    assert [stored(name) for name in FIRST] == [1, 1, 1]


def test_a_connection_cut_mid_batch_imports_every_message_exactly_once(
    dovecot: Dovecot,
    imap_account: ImapAccount,
    ingest_then: Callable[[Callable[[int], None]], None],
) -> None:
    names = (*FIRST, *MORE)
    for name in names:
        dovecot.append(imap_account, eml(name))
    mailbox = imap_mailbox(dovecot, imap_account)
    # The worst moment: the first message is committed, its keyword not yet stored.
    ingest_then(lambda calls: kick(dovecot, imap_account) if calls == 1 else None)

    cut = poll_mailbox(mailbox, timeout=TIMEOUT)

    assert dict(cut.outcomes) == {"created": 1}
    assert cut.error.startswith("IMAP")
    mailbox.refresh_from_db()
    assert mailbox.last_error == cut.error
    assert not any(IMPORTED in f for f in flags(dovecot, imap_account))

    resumed = poll_mailbox(mailbox, timeout=TIMEOUT)

    assert resumed.error == ""
    assert dict(resumed.outcomes) == {"duplicate": 1, "created": 5}
    assert [stored(name) for name in names] == [1] * 6
    assert Conversation.objects.count() == 6
    assert all(IMPORTED in f and SEEN not in f for f in flags(dovecot, imap_account))
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_the_periodic_job_records_a_wrong_password_and_still_polls_the_other_mailboxes(
    dovecot: Dovecot,
) -> None:
    broken_account, good_account, idle_account = (dovecot.add_user() for _ in range(3))
    broken = imap_mailbox(
        dovecot, broken_account, imap_password="not-the-password", email="a@example.com"
    )
    good = imap_mailbox(dovecot, good_account, email="b@example.com")
    inactive = imap_mailbox(dovecot, idle_account, email="c@example.com")
    set_mailbox_active(inactive, by=None, active=False)
    create_mailbox(by=None, name="Send only", email="d@example.com")
    for account in (broken_account, good_account, idle_account):
        dovecot.append(account, eml(FIRST[0]))
    job = get_job("poll_mailboxes")

    summary = job.func()

    assert job.every.total_seconds() == settings.MAIL_POLL_S
    assert summary == {"mailboxes": 2, "failed": [broken.pk], "created": 1}
    broken.refresh_from_db()
    assert broken.last_error.startswith("IMAP Sign-in: ")
    assert broken_account.username in broken.last_error
    good.refresh_from_db()
    assert good.last_error == ""
    assert stored(FIRST[0]) == 1
    assert IMPORTED in flags(dovecot, good_account)[0]
    assert IMPORTED not in flags(dovecot, idle_account)[0]


def test_a_poll_keeps_the_smtp_failure_of_the_last_test_and_audits_only_changes(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    mailbox = imap_mailbox(
        dovecot, imap_account, smtp_host="127.0.0.1", smtp_port=closed_port(), smtp_security="none"
    )
    check_mailbox_connection(mailbox, by=None, timeout=TIMEOUT)
    mailbox.refresh_from_db()
    smtp_error = mailbox.last_error
    assert smtp_error.startswith("SMTP ")

    poll_mailbox(mailbox, timeout=TIMEOUT)
    mailbox.refresh_from_db()
    assert mailbox.last_error == smtp_error

    broken = imap_mailbox(
        dovecot,
        imap_account,
        email="other@example.com",
        imap_password="not-the-password",
    )
    poll_mailbox(broken, timeout=TIMEOUT)
    poll_mailbox(broken, timeout=TIMEOUT)
    polled = Event.objects.filter(action="mailbox.polled", object_id=broken.pk)
    assert polled.count() == 1
    assert polled.get().data["ok"] is False


def test_mail_appended_while_idling_is_imported_within_the_idle_window(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    dovecot.append(imap_account, eml(FIRST[0]))
    mailbox = imap_mailbox(dovecot, imap_account)
    appended_at: list[float] = []

    def append_once_idling() -> None:
        # The first message carries the keyword just before the poller starts to IDLE.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and IMPORTED not in flags(dovecot, imap_account)[0]:
            time.sleep(0.05)
        time.sleep(0.5)
        dovecot.append(imap_account, eml(FIRST[1]))
        appended_at.append(time.monotonic())

    imported_at: list[float] = []
    real = intake.ingest_raw

    def ingest_raw(raw: bytes, **kwargs: Any) -> intake.IngestResult:
        result = real(raw, **kwargs)
        imported_at.append(time.monotonic())
        return result

    appender = threading.Thread(target=append_once_idling, daemon=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(intake, "ingest_raw", ingest_raw)
        appender.start()
        started = time.monotonic()
        result = poll_mailbox(mailbox, idle_seconds=8, timeout=TIMEOUT)
        elapsed = time.monotonic() - started
    appender.join(5)

    assert result.error == ""
    assert dict(result.outcomes) == {"created": 2}
    assert [stored(name) for name in FIRST[:2]] == [1, 1]
    assert 7.5 < elapsed < 12
    # Woken by the server, not by the end of the window.
    assert imported_at[1] - appended_at[0] < 3


# --- size limits ----------------------------------------------------------------------------


def sized_message(name: str, size: int) -> bytes:
    """A plain message of exactly `size` bytes (CRLF line ends, as IMAP counts them)."""
    head = (
        f"From: {name} <{name}@customer.example>\r\nTo: support@example.com\r\n"
        f"Subject: {name}\r\nMessage-ID: <{name}@mail.example>\r\n"
        "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\n"
    ).encode()
    line = b"The body of a long message, line after line.\r\n"
    body = line * ((size - len(head)) // len(line))
    return head + body + b"x" * (size - len(head) - len(body))


@pytest.fixture(name="fetches")
def fetches_fixture(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[int, ...], str]]:
    """Every FETCH the poller sends, as (uids, what), passed on to the server unchanged."""
    seen: list[tuple[tuple[int, ...], str]] = []
    real = IMAPClient.fetch

    def fetch(client: IMAPClient, messages: Any, data: Any, modifiers: Any = None) -> Any:
        items = [item.decode() if isinstance(item, bytes) else str(item) for item in data]
        seen.append((tuple(messages), " ".join(items)))
        return real(client, messages, data, modifiers)

    monkeypatch.setattr(IMAPClient, "fetch", fetch)
    return seen


def test_a_message_over_the_size_limit_is_quarantined_by_its_headers_and_left_on_the_server(
    dovecot: Dovecot,
    imap_account: ImapAccount,
    settings: Any,
    fetches: list[tuple[tuple[int, ...], str]],
) -> None:
    settings.MAIL_MAX_MESSAGE_BYTES = 8 * 1024
    big = sized_message("big-one", 20 * 1024)
    dovecot.append(imap_account, big)
    dovecot.append(imap_account, eml(FIRST[0]))
    mailbox = imap_mailbox(dovecot, imap_account)

    first = poll_mailbox(mailbox, timeout=TIMEOUT)

    assert first.error == ""
    assert dict(first.outcomes) == {"quarantined": 1, "created": 1}
    assert stored(FIRST[0]) == 1
    assert Conversation.objects.count() == 1
    row = Quarantine.objects.get()
    assert row.reason == (
        "too large: 20 KB, limit 8 KB; left on the server "
        "(raise FRONTDESK_MAIL_MAX_MESSAGE_MB to take it in)"
    )
    assert row.size == len(big)
    assert (row.sender, row.subject, row.mailbox_id) == (
        "big-one@customer.example",
        "big-one",
        mailbox.pk,
    )
    assert bytes(row.raw) == big[: big.index(b"\r\n\r\n") + 4]
    # The body never crossed the wire: only its size and its header were asked for.
    assert not any(1 in uids and "BODY.PEEK[]" in what for uids, what in fetches)
    big_flags, small_flags = flags(dovecot, imap_account)
    assert TOO_LARGE in big_flags
    assert IMPORTED not in big_flags
    assert SEEN not in big_flags
    assert IMPORTED in small_flags

    again = poll_mailbox(mailbox, timeout=TIMEOUT)
    retried = intake.retry_quarantined(row)

    assert again.fetched == 0
    assert Quarantine.objects.count() == 1
    # Only the headers are here: a retry cannot make a message of them.
    assert retried.outcome == "quarantined"
    assert Conversation.objects.count() == 1

    settings.MAIL_MAX_MESSAGE_BYTES = 64 * 1024
    raised = poll_mailbox(mailbox, timeout=TIMEOUT)

    assert dict(raised.outcomes) == {"created": 1}
    assert stored("big-one") == 1
    assert InboundMessage.objects.get(email_message_id__contains="big-one").size == len(big)
    assert all(IMPORTED in f for f in flags(dovecot, imap_account))
    assert poll_mailbox(mailbox, timeout=TIMEOUT).fetched == 0


def test_a_poll_reads_about_batch_bytes_and_the_next_poll_the_rest(
    dovecot: Dovecot, imap_account: ImapAccount, fetches: list[tuple[tuple[int, ...], str]]
) -> None:
    size = 6000
    names = ("sized-a", "sized-b", "sized-c")
    for name in names:
        dovecot.append(imap_account, sized_message(name, size))
    mailbox = imap_mailbox(dovecot, imap_account)

    first = poll_mailbox(mailbox, batch_bytes=size * 5 // 2, timeout=TIMEOUT)
    second = poll_mailbox(mailbox, batch_bytes=size * 5 // 2, timeout=TIMEOUT)

    assert (first.fetched, second.fetched) == (2, 1)
    assert [stored(name) for name in names] == [1, 1, 1]
    # One message per body FETCH: memory holds one message, and a cut loses at most it.
    bodies = [uids for uids, what in fetches if "BODY.PEEK[]" in what]
    assert bodies == [(1,), (2,), (3,)]


def test_the_byte_budget_lets_a_message_in_only_when_its_bytes_fit_beside_the_others(
    settings: Any,
) -> None:
    settings.MAIL_MAX_MESSAGE_BYTES = 100
    budget = ByteBudget()
    order: list[str] = []

    def take(name: str, size: int) -> None:
        budget.acquire(size)
        order.append(name)

    budget.acquire(60)
    waiting = threading.Thread(target=take, args=("second", 60), daemon=True)
    waiting.start()
    time.sleep(0.3)
    assert order == []  # 60 + 60 is over the budget of 100
    take("small", 40)  # 60 + 40 fits
    budget.release(60)
    waiting.join(5)
    assert order == ["small", "second"]
    budget.release(40)
    budget.release(60)
    take("alone", 500)  # larger than the budget: goes alone, when nothing else is in flight
    assert order[-1] == "alone"


def test_the_interval_poll_leaves_a_mailbox_to_the_idle_watcher_holding_its_lease(
    dovecot: Dovecot,
) -> None:
    watched_account, polled_account = dovecot.add_user(), dovecot.add_user()
    watched = imap_mailbox(dovecot, watched_account, email="a@example.com")
    polled = imap_mailbox(dovecot, polled_account, email="b@example.com")
    for account in (watched_account, polled_account):
        dovecot.append(account, eml(FIRST[0]))
    assert claim_idle_lease(watched.pk, owner="another-worker", lease=timedelta(minutes=1))

    while_watched = poll_mailboxes()

    assert [result.mailbox_id for result in while_watched] == [polled.pk]
    assert IMPORTED not in flags(dovecot, watched_account)[0]

    release_idle_leases([watched.pk], owner="another-worker")
    released = poll_mailboxes()

    assert [result.mailbox_id for result in released] == [watched.pk, polled.pk]
    assert IMPORTED in flags(dovecot, watched_account)[0]
    assert stored(FIRST[0]) == 1
