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

Memory: the sizes (RFC822.SIZE) come first. A message over
FRONTDESK_MAIL_MAX_MESSAGE_MB is never downloaded: its headers go to the
quarantine with the reason, and the keyword `TOO_LARGE` keeps later polls from
reading it again, until the limit is raised above its size. The others are
fetched one at a time (a cut connection costs at most the message in flight),
and every import in the process, whichever mailbox or thread it serves, waits
for its bytes under one budget (`import_budget`): parsing takes about 8 times
the raw size, and a worker with many IDLE watchers must not multiply that.

The interval poll (`poll_mailboxes`) leaves out mailboxes that an IDLE watcher
(`mail/idle.py`) holds the lease of; `poll_mailbox` itself reads any mailbox.
"""

from __future__ import annotations

import imaplib
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import db
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from frontdesk.mail import connection, intake
from frontdesk.mail.models import Mailbox
from frontdesk.mail.services import record_mailbox_poll

logger = logging.getLogger(__name__)

# The keyword on every message the intake has committed.
IMPORTED = b"$FrontdeskImported"
# The keyword on a message set aside as too large: quarantined by its headers, not fetched.
TOO_LARGE = b"$FrontdeskTooLarge"
# At most this many messages, and about this many bytes, per poll: a backlog is read over
# several polls, so one mailbox never holds the worker for long.
BATCH_SIZE = 200
BATCH_BYTES = 256 * 1024 * 1024
# Enough of a set-aside message's header to show who sent it and what it is about.
HEADER_BYTES = 256 * 1024
# Servers end an IDLE after 30 minutes (RFC 2177); we renew it before that.
_IDLE_RENEW_S = 25 * 60
# Without IDLE, a poll that was asked to wait looks for new mail this often.
_NO_IDLE_INTERVAL_S = 5.0

CONNECTION_ERRORS = (OSError, IMAPClientError, imaplib.IMAP4.error)


class KeywordsNotAllowed(Exception):
    """The folder does not let us store our keyword: we could not remember what we read."""


class IntakeFailed(Exception):
    """The intake could not store a message (its database or disk failed): retry later."""


# What `open_folder` and `import_new` raise when reading a mailbox fails; `failure_text`
# puts each in words for `Mailbox.last_error`.
READ_ERRORS = (connection.ImapUnavailable, KeywordsNotAllowed, IntakeFailed, *CONNECTION_ERRORS)


@dataclass
class PollResult:
    """What one poll of one mailbox did; `error` is "" when it went through."""

    mailbox_id: int
    outcomes: Counter[str] = field(default_factory=Counter)
    error: str = ""

    @property
    def fetched(self) -> int:
        return sum(self.outcomes.values())


class ByteBudget:
    """Raw message bytes in flight across the threads of this process, kept under a limit.

    A message waits until its bytes fit beside the others; one larger than the whole
    budget goes alone. The limit is read at each call, so a changed setting applies.
    """

    def __init__(self) -> None:
        self._in_flight = 0
        self._changed = threading.Condition()

    @staticmethod
    def limit() -> int:
        return max(1, int(settings.MAIL_MAX_MESSAGE_BYTES))

    def acquire(self, size: int) -> None:
        with self._changed:
            while self._in_flight and self._in_flight + size > self.limit():
                self._changed.wait()
            self._in_flight += size

    def release(self, size: int) -> None:
        with self._changed:
            self._in_flight -= size
            self._changed.notify_all()


import_budget = ByteBudget()


def mailboxes_to_poll() -> QuerySet[Mailbox]:
    """Active mailboxes with IMAP that no IDLE watcher holds (its lease ran out, or none)."""
    watched = Q(idle_lease_until__gt=timezone.now())
    return Mailbox.objects.filter(active=True).exclude(imap_host="").exclude(watched).order_by("id")


def poll_mailboxes(*, batch_size: int = BATCH_SIZE) -> list[PollResult]:
    """Poll every active mailbox with IMAP that no IDLE watcher holds; one failing mailbox
    does not stop the others.

    Mailboxes under a live IDLE lease are left to their watcher: it is connected and
    imports within seconds, and polling them as well would open a second connection
    per mailbox (providers cap those) to race it for the same messages. When the
    watcher's worker dies, its lease runs out within `idle.LEASE` and polling resumes.
    """
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
    batch_bytes: int = BATCH_BYTES,
    timeout: float = connection.DEFAULT_TIMEOUT,
) -> PollResult:
    """Import the mailbox's new messages; then wait up to `idle_seconds` for more.

    The wait uses IMAP IDLE where the server offers it (the server tells us about new
    mail at once), else looks again every few seconds. A connection or sign-in
    failure is recorded on `mailbox.last_error` and returned, not raised; an
    infrastructure failure of the intake (the database down) is raised.
    """
    result = PollResult(mailbox_id=mailbox.pk)
    client: IMAPClient | None = None
    try:
        client = open_folder(mailbox, timeout=timeout)
        import_new(client, mailbox, result, batch_size=batch_size, batch_bytes=batch_bytes)
        if idle_seconds > 0:
            _wait_and_import(client, mailbox, result, batch_size, idle_seconds)
    except READ_ERRORS as error:
        result.error = failure_text(error, mailbox)
    finally:
        if client is not None:
            connection.close_imap(client)
    if result.error:
        logger.warning("mailbox %s: %s", mailbox.pk, result.error)
    record_mailbox_poll(mailbox, imap_error=result.error)
    return result


def open_folder(mailbox: Mailbox, *, timeout: float = connection.DEFAULT_TIMEOUT) -> IMAPClient:
    """A signed-in client on the mailbox's folder, which must accept our keywords.

    Raises `connection.ImapUnavailable` or `KeywordsNotAllowed`; the caller closes the
    client with `connection.close_imap`.
    """
    client, folder_info = connection.open_imap(mailbox, timeout=timeout)
    # Aware INTERNALDATEs, not imapclient's default of naive local times.
    client.normalise_times = False
    try:
        _require_keywords(folder_info)
    except KeywordsNotAllowed:
        connection.close_imap(client)
        raise
    return client


def failure_text(error: BaseException, mailbox: Mailbox) -> str:
    """One of `READ_ERRORS` as the line for `Mailbox.last_error`."""
    if isinstance(error, connection.ImapUnavailable):
        return str(error)
    if isinstance(error, IntakeFailed):
        return _("Importing mail failed; it is tried again at the next poll (%(detail)s).") % {
            "detail": connection.error_text(error.__cause__ or error)
        }
    if isinstance(error, KeywordsNotAllowed):
        return _(
            "IMAP: the folder %(folder)s does not accept keywords, so Frontdesk cannot "
            "mark what it imported."
        ) % {"folder": mailbox.imap_folder}
    return _("IMAP: the connection failed while reading mail (%(detail)s).") % {
        "detail": connection.error_text(error)
    }


def _require_keywords(folder_info: dict[bytes, Any]) -> None:
    """PERMANENTFLAGS from the SELECT answer: `\\*` allows any new keyword."""
    flags = tuple(folder_info.get(b"PERMANENTFLAGS", ()))
    if b"\\*" not in flags and IMPORTED not in flags:
        raise KeywordsNotAllowed


def import_new(
    client: IMAPClient,
    mailbox: Mailbox,
    result: PollResult,
    *,
    batch_size: int = BATCH_SIZE,
    batch_bytes: int = BATCH_BYTES,
    stop: threading.Event | None = None,
) -> bool:
    """Import up to `batch_size` messages without our keyword, oldest first, stopping once
    about `batch_bytes` were read; set aside those over the size limit.

    True when more may be waiting: the batch was cut short by its count, its bytes
    or `stop`. Raises `IntakeFailed` or a connection error (`READ_ERRORS`).
    """
    limit = int(settings.MAIL_MAX_MESSAGE_BYTES)
    found = sorted(client.search(_new_mail(limit)))
    uids = found[:batch_size]
    spent = 0
    for uid, size in _sizes(client, uids).items():
        if stop is not None and stop.is_set():
            return True
        if size > limit:
            _set_aside(client, mailbox, result, uid, size=size, limit=limit)
            continue
        if spent and spent + size > batch_bytes:
            return True
        spent += size
        _import_one(client, mailbox, result, uid, size)
    return len(found) > len(uids)


def _new_mail(limit: int) -> list[str]:
    """Not imported, and not set aside as too large unless it fits a since raised limit."""
    return [
        "UNKEYWORD", IMPORTED.decode(),
        "OR", "UNKEYWORD", TOO_LARGE.decode(), "NOT", "LARGER", str(limit),
    ]  # fmt: skip


def _sizes(client: IMAPClient, uids: list[int]) -> dict[int, int]:
    """Each message's size in bytes, in `uids` order; expunged ones are left out."""
    if not uids:
        return {}
    fetched = client.fetch(uids, [b"RFC822.SIZE"])
    sizes = {}
    for uid in uids:
        size = fetched.get(uid, {}).get(b"RFC822.SIZE")
        if isinstance(size, int):
            sizes[uid] = size
    return sizes


def _import_one(
    client: IMAPClient, mailbox: Mailbox, result: PollResult, uid: int, size: int
) -> None:
    import_budget.acquire(size)
    try:
        fetched = client.fetch([uid], [b"BODY.PEEK[]", b"INTERNALDATE"]).get(uid)
        if fetched is None or b"BODY[]" not in fetched:
            return  # expunged by someone else since the search
        raw: bytes = fetched.pop(b"BODY[]")
        try:
            outcome = intake.ingest_raw(
                raw,
                mailbox=mailbox,
                source=f"imap:{mailbox.imap_folder}:{uid}",
                at=_aware(fetched.get(b"INTERNALDATE")),
            )
        except Exception as error:
            # Bad mail is quarantined, never raised: this is the intake's own trouble.
            raise IntakeFailed from error
    finally:
        import_budget.release(size)
    result.outcomes[outcome.outcome] += 1
    # Only now is the message committed (or quarantined): mark it as read by us.
    client.add_flags([uid], [IMPORTED], silent=True)


def _set_aside(
    client: IMAPClient, mailbox: Mailbox, result: PollResult, uid: int, *, size: int, limit: int
) -> None:
    """Quarantine a message over the size limit by its headers; its body stays on the server."""
    part = f"BODY.PEEK[HEADER]<0.{HEADER_BYTES}>".encode()
    fetched = client.fetch([uid], [part, b"INTERNALDATE"]).get(uid)
    if fetched is None:
        return  # expunged by someone else since the search
    headers = next(
        (value for key, value in fetched.items() if key.startswith(b"BODY[HEADER]")), b""
    )
    reason = (
        f"too large: {_size_text(size)}, limit {_size_text(limit)}; left on the server "
        f"(raise FRONTDESK_MAIL_MAX_MESSAGE_MB to take it in)"
    )
    try:
        outcome = intake.quarantine_unfetched(
            headers if isinstance(headers, bytes) else b"",
            size=size,
            reason=reason,
            mailbox=mailbox,
            source=f"imap:{mailbox.imap_folder}:{uid}",
            at=_aware(fetched.get(b"INTERNALDATE")),
        )
    except Exception as error:
        raise IntakeFailed from error
    result.outcomes[outcome.outcome] += 1
    # Kept now: later polls pass it by, unless the limit is raised above its size.
    client.add_flags([uid], [TOO_LARGE], silent=True)


def _aware(value: object) -> datetime | None:
    return value if isinstance(value, datetime) and value.tzinfo else None


def _size_text(size: int) -> str:
    megabyte = 1024 * 1024
    if size >= megabyte:
        return f"{size / megabyte:.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


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
        import_new(client, mailbox, result, batch_size=batch_size)
