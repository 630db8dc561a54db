"""Reading new mail from a mailbox's IMAP folder into the intake, exactly once.

Which messages are new is kept on the server, as a keyword on each message we
imported (`IMPORTED`), never as \\Seen: people read the same mailbox in their
own mail programs. A poll searches for messages without the keyword, fetches
each one with BODY.PEEK[] (which leaves \\Seen alone), hands it to
`intake.ingest_raw` and sets the keyword only after that returned, that is
after the conversation and message are committed. A connection lost between
the two leaves the message without the keyword; the next poll fetches it again
and the intake recognises it by its idempotency key, so it lands once.
Keywords also survive a change of UIDVALIDITY, which would void remembered UIDs.
"""

from __future__ import annotations

import imaplib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import db
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from frontdesk.mail import connection, intake
from frontdesk.mail.models import Mailbox
from frontdesk.mail.services import record_mailbox_poll

logger = logging.getLogger(__name__)

# The keyword on every message the intake has committed.
IMPORTED = b"$FrontdeskImported"
# At most this many messages per poll: a backlog is read over several polls, so one
# mailbox never holds the worker for long and memory holds one message at a time.
BATCH_SIZE = 200
# Servers end an IDLE after 30 minutes (RFC 2177); we renew it before that.
_IDLE_RENEW_S = 25 * 60
# Without IDLE, a poll that was asked to wait looks for new mail this often.
_NO_IDLE_INTERVAL_S = 5.0

_CONNECTION_ERRORS = (OSError, IMAPClientError, imaplib.IMAP4.error)


class KeywordsNotAllowed(Exception):
    """The folder does not let us store our keyword: we could not remember what we read."""


class IntakeFailed(Exception):
    """The intake could not store a message (its database or disk failed): retry later."""


@dataclass
class PollResult:
    """What one poll of one mailbox did; `error` is "" when it went through."""

    mailbox_id: int
    outcomes: Counter[str] = field(default_factory=Counter)
    error: str = ""

    @property
    def fetched(self) -> int:
        return sum(self.outcomes.values())


def mailboxes_to_poll() -> QuerySet[Mailbox]:
    return Mailbox.objects.filter(active=True).exclude(imap_host="").order_by("id")


def poll_mailboxes(*, batch_size: int = BATCH_SIZE) -> list[PollResult]:
    """Poll every active mailbox with IMAP; one failing mailbox does not stop the others."""
    results = []
    for mailbox in mailboxes_to_poll():
        try:
            results.append(poll_mailbox(mailbox, batch_size=batch_size))
        except db.Error as error:
            # The intake found the database gone: nothing unfinished was flagged, so the
            # next poll reads it again. Later mailboxes may still get through.
            logger.exception("polling mailbox %s failed", mailbox.pk)
            results.append(PollResult(mailbox_id=mailbox.pk, error=str(error)))
            db.close_old_connections()
    return results


def poll_mailbox(
    mailbox: Mailbox,
    *,
    idle_seconds: float = 0,
    batch_size: int = BATCH_SIZE,
    timeout: float = connection.DEFAULT_TIMEOUT,
) -> PollResult:
    """Import the mailbox's new messages; then wait up to `idle_seconds` for more.

    The wait uses IMAP IDLE where the server offers it (the server tells us about new
    mail at once), else looks again every few seconds. A connection or sign-in
    failure is recorded on `mailbox.last_error` and returned, not raised; an
    infrastructure failure of the intake (the database down) is raised.
    """
    result = PollResult(mailbox_id=mailbox.pk)
    try:
        client, folder_info = connection.open_imap(mailbox, timeout=timeout)
    except connection.ImapUnavailable as error:
        result.error = str(error)
        record_mailbox_poll(mailbox, imap_error=result.error)
        return result
    # Aware INTERNALDATEs, not imapclient's default of naive local times.
    client.normalise_times = False
    try:
        _require_keywords(folder_info)
        _import_new(client, mailbox, result, batch_size)
        if idle_seconds > 0:
            _wait_and_import(client, mailbox, result, batch_size, idle_seconds)
    except IntakeFailed as error:
        result.error = _(
            "Importing mail failed; it is tried again at the next poll (%(detail)s)."
        ) % {"detail": connection.error_text(error.__cause__ or error)}
    except KeywordsNotAllowed:
        result.error = _(
            "IMAP: the folder %(folder)s does not accept keywords, so Frontdesk cannot "
            "mark what it imported."
        ) % {"folder": mailbox.imap_folder}
    except _CONNECTION_ERRORS as error:
        result.error = _("IMAP: the connection failed while reading mail (%(detail)s).") % {
            "detail": connection.error_text(error)
        }
    finally:
        connection.close_imap(client)
    if result.error:
        logger.warning("mailbox %s: %s", mailbox.pk, result.error)
    record_mailbox_poll(mailbox, imap_error=result.error)
    return result


def _require_keywords(folder_info: dict[bytes, Any]) -> None:
    """PERMANENTFLAGS from the SELECT answer: `\\*` allows any new keyword."""
    flags = tuple(folder_info.get(b"PERMANENTFLAGS", ()))
    if b"\\*" not in flags and IMPORTED not in flags:
        raise KeywordsNotAllowed


def _import_new(client: IMAPClient, mailbox: Mailbox, result: PollResult, batch_size: int) -> int:
    """Import up to `batch_size` messages without our keyword, oldest first."""
    uids = sorted(client.search(["UNKEYWORD", IMPORTED.decode()]))[:batch_size]
    for uid in uids:
        fetched = client.fetch([uid], [b"BODY.PEEK[]", b"INTERNALDATE"]).get(uid)
        if fetched is None or b"BODY[]" not in fetched:
            continue  # expunged by someone else since the search
        raw: bytes = fetched[b"BODY[]"]
        arrived = fetched.get(b"INTERNALDATE")
        try:
            outcome = intake.ingest_raw(
                raw,
                mailbox=mailbox,
                source=f"imap:{mailbox.imap_folder}:{uid}",
                at=arrived if isinstance(arrived, datetime) and arrived.tzinfo else None,
            )
        except Exception as error:
            # Bad mail is quarantined, never raised: this is the intake's own trouble.
            raise IntakeFailed from error
        result.outcomes[outcome.outcome] += 1
        # Only now is the message committed (or quarantined): mark it as read by us.
        client.add_flags([uid], [IMPORTED], silent=True)
    return len(uids)


def _wait_and_import(
    client: IMAPClient, mailbox: Mailbox, result: PollResult, batch_size: int, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    idle = client.has_capability("IDLE")
    while (remaining := deadline - time.monotonic()) > 0:
        if idle:
            client.idle()
            try:
                responses: list[Any] = client.idle_check(timeout=min(remaining, _IDLE_RENEW_S))
            finally:
                _, done_responses = client.idle_done()
            if not (responses or done_responses):
                continue
        else:
            time.sleep(min(remaining, _NO_IDLE_INTERVAL_S))
            client.noop()
        _import_new(client, mailbox, result, batch_size)
