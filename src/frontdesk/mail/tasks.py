"""Background entry points of the mail app."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from frontdesk.core.scheduling import periodic
from frontdesk.mail import outbound, polling


@periodic("poll_mailboxes", every=timedelta(seconds=settings.MAIL_POLL_S))
def poll_mailboxes() -> dict[str, Any]:
    """Read new mail from every active mailbox with IMAP, once per FRONTDESK_MAIL_POLL_S.

    Safe to run twice or side by side: a message is flagged only after the intake
    committed it, and the intake recognises one it has already stored.
    """
    results = polling.poll_mailboxes()
    outcomes: Counter[str] = Counter()
    for result in results:
        outcomes.update(result.outcomes)
    return {
        "mailboxes": len(results),
        "failed": [result.mailbox_id for result in results if result.error],
        **dict(outcomes),
    }


@task()
def send_reply_email(message_id: int, attempt: int = 1) -> str:
    """Send a queued reply; on a failure worth retrying, enqueue the next attempt.

    Safe to run twice, side by side too: only the worker that claims the reply sends it.

    Attempt n+1 runs FRONTDESK_MAIL_RETRY_DELAY_S * 2**(n-1) seconds later; after
    FRONTDESK_MAIL_SEND_RETRIES retries the reply is marked failed with the reason.
    A backend that cannot defer (the immediate one) waits here instead.
    """
    last = attempt > settings.MAIL_SEND_RETRIES
    result = outbound.send_reply(message_id, last_attempt=last)
    if result.status == "retry":
        delay = max(0.0, float(settings.MAIL_RETRY_DELAY_S)) * 2 ** (attempt - 1)
        if send_reply_email.get_backend().supports_defer:
            later = send_reply_email.using(run_after=timezone.now() + timedelta(seconds=delay))
            later.enqueue(message_id, attempt + 1)
        else:
            time.sleep(delay)
            send_reply_email.enqueue(message_id, attempt + 1)
    return result.status


@periodic("resend_stuck_replies", every=outbound.SWEEP_EVERY)
def resend_stuck_replies() -> dict[str, int]:
    """Enqueue again the replies whose worker died mid-send or whose task was lost.

    Thresholds and the at-least-once limit: `outbound.sweep_stuck_replies`. A
    reply enqueued twice is still sent once: `send_reply` claims it atomically.
    """
    swept = outbound.sweep_stuck_replies()
    for message_id in swept.requeued:
        send_reply_email.enqueue(message_id)
    return {"requeued": len(swept.requeued), "failed": len(swept.failed)}


@task()
def send_acknowledgement(conversation_id: int) -> str:
    """The auto-acknowledgement of a conversation opened by mail, if its mailbox sends one."""
    return outbound.send_acknowledgement(conversation_id)
