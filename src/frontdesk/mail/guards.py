"""Loop and noise guards of the intake: our own mail, machines, and senders that flood us.

- Mail from one of our own addresses (a mailbox, the notification sender) is an
  echo of something we sent: it is ignored, and recorded so a re-poll skips it.
- Mail sent by a machine (`ParsedMessage.is_automated`: Auto-Submitted,
  Precedence bulk/junk/list, X-Autoreply, X-Autorespond, List-Id, bounces,
  mailer-daemon and postmaster) is still taken in — it may be a real notice —
  but flagged, so that nothing ever answers it automatically.
- A sender who writes more than `FRONTDESK_MAIL_SENDER_LIMIT` messages within
  `FRONTDESK_MAIL_SENDER_WINDOW_S` seconds is most likely a loop with an
  auto-responder; what is over the limit goes to quarantine, where an admin
  can still retry it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings

from frontdesk.mail.models import InboundMessage, Mailbox
from frontdesk.mail.parse import ParsedMessage

RATE_LIMIT_REASON = "rate limit"


def own_addresses() -> frozenset[str]:
    """Every address we send from, lower-cased: each mailbox's and the notification sender's."""
    addresses = {email.lower() for email in Mailbox.objects.values_list("email", flat=True)}
    for configured in (settings.DEFAULT_FROM_EMAIL, getattr(settings, "SERVER_EMAIL", "")):
        address = parseaddr(str(configured))[1].strip().lower()
        if address:
            addresses.add(address)
    return frozenset(addresses)


def is_own_address(address: str) -> bool:
    return bool(address) and address.strip().lower() in own_addresses()


def sender_of(parsed: ParsedMessage) -> str:
    """The From address, lower-cased; "" when the message has none."""
    return parsed.from_.address.strip().lower() if parsed.from_ else ""


def is_automated(parsed: ParsedMessage) -> bool:
    """Never auto-acknowledge this message (nor anything else a machine sent)."""
    return parsed.is_automated


def sender_limit() -> tuple[int, int]:
    """(messages, seconds): at most that many messages from one sender in that window."""
    return settings.MAIL_SENDER_LIMIT, settings.MAIL_SENDER_WINDOW_S


def over_rate_limit(sender: str, *, at: datetime) -> bool:
    """True when `sender` already reached the limit in the window that ends at `at`."""
    limit, window = sender_limit()
    if not sender or limit <= 0:
        return False
    recent = InboundMessage.objects.filter(
        sender=sender, received_at__gt=at - timedelta(seconds=window), received_at__lte=at
    )
    return recent.count() >= limit
