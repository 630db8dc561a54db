"""Background entry points of the mail app."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from django.conf import settings

from frontdesk.core.scheduling import periodic
from frontdesk.mail import polling


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
