"""A reply is sent once: workers claim it atomically, and a sweep hands back stuck ones.

Replies are written through the services against the real aiosmtpd of
tests/mail/conftest.py. Tasks go to the dummy backend (kept, not run) unless
a test runs them, so each test decides when a worker attempts the send.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks.backends.dummy import DummyBackend

from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, DeliveryStatus, Message
from frontdesk.core.models import Event, Via
from frontdesk.core.scheduling import get_job
from frontdesk.mail import outbound, tasks
from frontdesk.mail.models import Mailbox
from tests.conftest import Personas
from tests.mail.conftest import SmtpServer
from tests.mail.test_outbound import email_conversation, smtp_mailbox

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

racing = pytest.mark.skipif(
    connection.vendor == "sqlite" and not connection.settings_dict["TEST"].get("NAME"),
    reason="racing connections need PostgreSQL or a file SQLite test database",
)


@pytest.fixture(autouse=True)
def _tasks_wait(settings: Any) -> None:
    settings.TASKS = DUMMY
    settings.MAIL_SEND_RETRIES = 4
    settings.MAIL_RETRY_DELAY_S = 60


@pytest.fixture
def mailbox(people: Personas, smtp: SmtpServer) -> Mailbox:
    return smtp_mailbox(people, smtp)


QueueReply = Callable[..., Message]


@pytest.fixture
def queue_reply(people: Personas, django_capture_on_commit_callbacks: Any) -> QueueReply:
    """Write a reply that the mail reaction queues; its task waits in the dummy backend."""

    def write(conversation: Conversation, text: str = "On its way.") -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            reply = services.add_reply(conversation, by=people.agent, text=text, via=Via.WEB)
        message = Message.objects.get(pk=reply.pk)
        assert message.delivery_status == DeliveryStatus.QUEUED
        return message

    return write


@pytest.fixture
def queued(mailbox: Mailbox, queue_reply: QueueReply) -> Message:
    return queue_reply(email_conversation(mailbox))


def claim_as_worker(message: Message, at: datetime) -> None:
    """What a worker does first; one that then dies leaves the reply like this."""
    assert services.claim_delivery(
        message, from_status=DeliveryStatus.QUEUED, to_status=DeliveryStatus.SENDING, at=at
    )


def status_of(message: Message) -> str:
    return Message.objects.values_list("delivery_status", flat=True).get(pk=message.pk)


def changes(message: Message) -> list[tuple[str, str, str]]:
    return [
        (event.data["previous_status"], event.data["status"], event.data.get("reason", ""))
        for event in Event.objects.filter(
            action="message.delivery_changed", data__message_id=message.pk
        ).order_by("id")
    ]


def run_side_by_side(work: Callable[[], Any], count: int) -> list[Any]:
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one() -> None:
        try:
            outcome = work()
            with lock:
                results.append(outcome)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return results


# --- the claim -------------------------------------------------------------------------------


@racing
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_reply_at_once_send_it_once(
    queued: Message, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = queued
    # Both workers get past the "is it queued?" read before either claims.
    barrier = threading.Barrier(2, timeout=30)
    choose_mailbox = outbound.sending_mailbox

    def after_both_read(conversation: Conversation) -> Mailbox | None:
        barrier.wait()
        return choose_mailbox(conversation)

    monkeypatch.setattr(outbound, "sending_mailbox", after_both_read)

    results = run_side_by_side(lambda: tasks.send_reply_email.call(message.pk), 2)

    assert sorted(results) == ["sent", "skipped"]
    [received] = smtp.messages
    assert received.rcpt_tos == ["jane@example.com"]
    assert status_of(message) == DeliveryStatus.SENT
    assert [change[:2] for change in changes(message)] == [
        ("", "queued"), ("queued", "sending"), ("sending", "sent"),
    ]  # fmt: skip


@racing
@pytest.mark.django_db(transaction=True)
def test_of_racing_claims_exactly_one_wins(queued: Message) -> None:
    message = queued
    barrier = threading.Barrier(4, timeout=30)

    def claim() -> bool:
        mine = Message.objects.get(pk=message.pk)
        barrier.wait()
        return services.claim_delivery(
            mine, from_status=DeliveryStatus.QUEUED, to_status=DeliveryStatus.SENDING
        )

    results = run_side_by_side(claim, 4)

    assert sorted(results) == [False, False, False, True]
    assert status_of(message) == DeliveryStatus.SENDING
    assert [change[:2] for change in changes(message)] == [("", "queued"), ("queued", "sending")]


@pytest.mark.django_db
def test_every_delivery_change_records_when_it_happened(queued: Message) -> None:
    at = timezone.now() - timedelta(minutes=3)

    services.set_delivery_status(queued, status=DeliveryStatus.FAILED, error="5.1.1", at=at)

    assert Message.objects.get(pk=queued.pk).delivery_updated_at == at
    later = at + timedelta(minutes=1)
    services.set_delivery_status(queued, status=DeliveryStatus.QUEUED, at=later)
    claim_as_worker(queued, at=later + timedelta(minutes=1))
    assert Message.objects.get(pk=queued.pk).delivery_updated_at == later + timedelta(minutes=1)


@pytest.mark.django_db
def test_a_worker_whose_claim_was_taken_back_cannot_undo_the_newer_attempt(
    queued: Message, smtp: SmtpServer
) -> None:
    slow_worker_claimed = timezone.now() - outbound.STALE_SENDING - timedelta(minutes=1)
    claim_as_worker(queued, at=slow_worker_claimed)
    assert outbound.sweep_stuck_replies().requeued == [queued.pk]
    assert outbound.send_reply(queued.pk, last_attempt=False).status == "sent"

    # The slow worker wakes and wants to schedule a retry, or to mark its own send.
    for status in (DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.FAILED):
        assert not services.claim_delivery(
            queued,
            from_status=DeliveryStatus.SENDING,
            to_status=status,
            claimed_at=slow_worker_claimed,
        )

    assert status_of(queued) == DeliveryStatus.SENT
    assert len(smtp.messages) == 1


# --- the sweep -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reply_left_sending_by_a_dead_worker_is_requeued_and_sent_once(
    queued: Message, smtp: SmtpServer, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE
    claim_as_worker(queued, at=timezone.now() - outbound.STALE_SENDING - timedelta(minutes=1))

    first = tasks.resend_stuck_replies()
    again = tasks.resend_stuck_replies()

    assert first == {"requeued": 1, "failed": 0}
    assert again == {"requeued": 0, "failed": 0}
    [received] = smtp.messages
    assert received.rcpt_tos == ["jane@example.com"]
    assert status_of(queued) == DeliveryStatus.SENT
    assert changes(queued) == [
        ("", "queued", ""),
        ("queued", "sending", ""),
        ("sending", "queued", outbound.INTERRUPTED),
        ("queued", "sending", ""),
        ("sending", "sent", ""),
    ]


@pytest.mark.django_db
def test_a_queued_reply_whose_task_was_lost_is_enqueued_again_and_sent_once(
    queued: Message, smtp: SmtpServer
) -> None:
    backend = tasks.send_reply_email.get_backend()
    assert isinstance(backend, DummyBackend)
    pending = [result for result in backend.results if list(result.args) == [queued.pk]]
    assert len(pending) == 1  # the original task, not run yet: it may still come

    swept = outbound.sweep_stuck_replies(
        now=timezone.now() + outbound.lost_queue_after() + timedelta(minutes=1)
    )

    assert swept.requeued == [queued.pk]
    assert status_of(queued) == DeliveryStatus.QUEUED
    # Both the original task and the sweep's run; only the first claim sends.
    first = tasks.send_reply_email.call(queued.pk)
    second = tasks.send_reply_email.call(queued.pk)
    assert (first, second) == ("sent", "skipped")
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_the_sweep_waits_out_each_threshold(mailbox: Mailbox, queue_reply: QueueReply) -> None:
    conversation = email_conversation(mailbox)
    waiting = queue_reply(conversation, "First")
    sending = queue_reply(conversation, "Second")
    start = timezone.now()
    claim_as_worker(sending, at=start)
    lost_after = outbound.lost_queue_after()

    assert lost_after == timedelta(seconds=60 * 2**3) + outbound.QUEUE_MARGIN
    assert outbound.STALE_SENDING < lost_after
    early = outbound.sweep_stuck_replies(now=start + outbound.STALE_SENDING - timedelta(seconds=5))
    assert (early.requeued, early.failed) == ([], [])
    assert status_of(sending) == DeliveryStatus.SENDING
    stale = outbound.sweep_stuck_replies(now=start + outbound.STALE_SENDING + timedelta(seconds=5))
    assert stale.requeued == [sending.pk]
    # The one taken back is freshly queued: its new task has a whole wait again.
    lost = outbound.sweep_stuck_replies(now=start + lost_after + timedelta(seconds=5))
    assert lost.requeued == [waiting.pk]


@pytest.mark.django_db
def test_a_sweep_takes_at_most_its_limit_oldest_first(
    mailbox: Mailbox, queue_reply: QueueReply
) -> None:
    conversation = email_conversation(mailbox)
    replies = [queue_reply(conversation, f"Reply {n}") for n in range(3)]
    later = timezone.now() + outbound.lost_queue_after() + timedelta(minutes=1)

    swept = outbound.sweep_stuck_replies(now=later, limit=2)

    assert swept.requeued == [replies[0].pk, replies[1].pk]


@pytest.mark.django_db
def test_a_reply_interrupted_again_and_again_fails_instead_of_being_resent_forever(
    queued: Message,
) -> None:
    at = timezone.now()
    outcomes = []
    for _attempt in range(outbound.MAX_INTERRUPTIONS):
        claim_as_worker(queued, at=at)
        at += outbound.STALE_SENDING + timedelta(minutes=1)
        swept = outbound.sweep_stuck_replies(now=at)
        outcomes.append((swept.requeued, swept.failed))

    assert outcomes == [([queued.pk], []), ([queued.pk], []), ([], [queued.pk])]
    queued.refresh_from_db()
    assert queued.delivery_status == DeliveryStatus.FAILED
    assert "interrupted 3 times" in queued.delivery_error
    assert queued.text == "On its way."


@pytest.mark.django_db
def test_the_sweep_runs_as_a_periodic_job() -> None:
    job = get_job("resend_stuck_replies")

    assert job.func is tasks.resend_stuck_replies
    assert job.every == outbound.SWEEP_EVERY
