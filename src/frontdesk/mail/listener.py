"""The inbound SMTP/LMTP listener: a mail server hands our addresses' mail to Frontdesk.

For a mail server (Postfix, Exim) that delivers a help desk's addresses to it
rather than to an IMAP folder, e.g. Postfix `transport_maps` with
`support@example.com lmtp:inet:127.0.0.1:8025`. Each message goes through
`intake.ingest_raw`, like polled and imported mail, and the answers keep that
function's contract ("nothing is lost"):

- RCPT TO must name a mailbox (`Mailbox.email`, any case): an address we do
  not serve is refused with 550 5.1.1; a deactivated mailbox with 450 4.2.1,
  so its mail waits in the MTA's queue rather than bouncing at once;
- 250 only after the intake returned, that is after the conversation (or the
  quarantine row) is committed. A failure of the database or the storage, or
  an intake slower than `INTAKE_TIMEOUT_S`, answers 451 4.3.0: the MTA keeps
  the mail and tries again. A retry of a mail that did get in after all is a
  duplicate to the intake, answered 250 without a second conversation;
- LMTP answers DATA once per accepted recipient (RFC 2033); SMTP once per
  message, 451 when the intake failed for any recipient;
- a message above FRONTDESK_MAIL_MAX_MESSAGE_MB is refused (552) at the door,
  so its sender hears of it, instead of lying in a quarantine no customer sees.

There is no authentication and no relaying; it listens on 127.0.0.1 unless
told otherwise, for the MTA on the same machine.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Literal, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django import db
from django.conf import settings

from frontdesk.mail.intake import IngestResult, ingest_raw
from frontdesk.mail.models import Mailbox

logger = logging.getLogger(__name__)

T = TypeVar("T")
MailProtocol = Literal["smtp", "lmtp"]
RecipientState = Literal["active", "inactive", "unknown"]

# RFC 5321 4.5.3.2.7: a server waits 5 minutes for a command. aiosmtpd starts the clock
# at each command, so for DATA it bounds the transfer and our intake together.
COMMAND_TIMEOUT_S = 300.0
# Well inside the command timeout, and the MTA's 10 minutes for the reply to DATA:
# a 451 in time beats a dropped connection. A late intake still commits; the retry
# then finds a duplicate.
INTAKE_TIMEOUT_S = 120.0
# On stop, messages already in the intake get this long to be answered.
STOP_GRACE_S = 30.0
# Intakes at once; more connections wait for a thread rather than for the database.
INTAKE_THREADS = 4
# RFC 5321 allows 1000 octets a line, and aiosmtpd refuses longer ones with a permanent
# 500. Sloppy mailers write longer lines and some MTAs (Exim) pass them on unwrapped; the
# parser copes, so take them rather than bounce a customer's mail. The size limit still
# bounds the memory.
MAX_LINE_BYTES = 1024 * 1024

RECIPIENT_OK = "250 2.1.5 OK"
UNKNOWN_RECIPIENT = "550 5.1.1 No such mailbox here"
MAILBOX_DISABLED = "450 4.2.1 Mailbox disabled, try again later"
TRY_AGAIN = "451 4.3.0 Temporary failure, try again later"


def quieten_session_log() -> None:
    """aiosmtpd logs each command line, addresses included, at INFO: keep that for DEBUG."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("mail.log").setLevel(logging.WARNING)


def recipient_state(address: str) -> RecipientState:
    """Whether a mailbox serves `address`, compared without regard to case."""
    mailbox = Mailbox.objects.filter(email__iexact=address.strip()).only("active").first()
    if mailbox is None:
        return "unknown"
    return "active" if mailbox.active else "inactive"


def ingest_for_recipient(raw: bytes, address: str, protocol: MailProtocol) -> IngestResult:
    """Take in `raw` as sent to `address`: its mailbox decides the team of a new conversation.

    The bytes are handed on as received, with no Received or Return-Path header of
    ours: a mail that cannot be parsed is known again only by its bytes, and a header
    that differs on each delivery would quarantine the MTA's retry a second time.
    """
    mailbox = Mailbox.objects.filter(email__iexact=address.strip()).first()
    return ingest_raw(raw, mailbox=mailbox, source=f"{protocol}:{address}")


def _with_own_connection(function: Callable[[], T]) -> T:
    db.close_old_connections()
    try:
        return function()
    finally:
        # The pool's threads never see a request end, so nothing else would close
        # their connections (a database restart would leave them broken).
        db.connections.close_all()


class IntakeHandler:
    """aiosmtpd's handler: recipients checked against the mailboxes, DATA into the intake.

    The database code is synchronous; it runs on a small thread pool, so the
    event loop keeps serving other connections meanwhile.
    """

    def __init__(
        self, *, threads: int = INTAKE_THREADS, intake_timeout_s: float = INTAKE_TIMEOUT_S
    ) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="frontdesk-mail-listener"
        )
        self._intake_timeout_s = intake_timeout_s
        self._busy = 0
        self._idle = threading.Condition()

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        try:
            state = await self._in_thread(functools.partial(recipient_state, address))
        except Exception:
            logger.exception("mail listener: looking up the recipient %s failed", address)
            return TRY_AGAIN
        if state == "unknown":
            return UNKNOWN_RECIPIENT
        if state == "inactive":
            return MAILBOX_DISABLED
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return RECIPIENT_OK

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        protocol: MailProtocol = "lmtp" if isinstance(server, LMTP) else "smtp"
        with self._busy_marker():
            answers: dict[str, str] = {}
            for address in envelope.rcpt_tos:
                key = address.lower()
                if key not in answers:
                    answers[key] = await self._take_in(raw, address, protocol)
        if protocol == "lmtp":
            # One line per RCPT that was accepted, in their order, repeats included.
            return "\r\n".join(answers[address.lower()] for address in envelope.rcpt_tos)
        if not answers or any(not answer.startswith("250") for answer in answers.values()):
            return TRY_AGAIN
        return next(iter(answers.values()))

    async def handle_exception(self, error: Exception) -> str:
        # aiosmtpd would answer 500 with the error's text: permanent, and our internals.
        logger.error("mail listener: session failed", exc_info=error)
        return TRY_AGAIN

    async def _take_in(self, raw: bytes, address: str, protocol: MailProtocol) -> str:
        work = functools.partial(ingest_for_recipient, raw, address, protocol)
        try:
            result = await asyncio.wait_for(self._in_thread(work), self._intake_timeout_s)
        except TimeoutError:
            logger.error(
                "mail listener: the intake for %s took over %.0f s; answered 451",
                address,
                self._intake_timeout_s,
            )
            return TRY_AGAIN
        except Exception:
            logger.exception("mail listener: the intake for %s failed; answered 451", address)
            return TRY_AGAIN
        number = f" #{result.conversation_number}" if result.conversation_number else ""
        return f"250 2.0.0 OK {result.outcome}{number}"

    def _in_thread(self, function: Callable[[], T]) -> Awaitable[T]:
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, _with_own_connection, function)

    @contextmanager
    def _busy_marker(self) -> Iterator[None]:
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no message is in the intake; False if one still was after `timeout_s`."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout_s)

    def close(self) -> None:
        """Let running intakes commit (their threads cannot be interrupted), then stop."""
        self._executor.shutdown(wait=True, cancel_futures=True)


class _SMTP(SMTP):
    line_length_limit = MAX_LINE_BYTES


class _LMTP(LMTP):
    line_length_limit = MAX_LINE_BYTES


class ListenerController(Controller):
    """Serves an `IntakeHandler` over SMTP or LMTP on a socket bound by the caller.

    Binding first lets the caller report a busy port itself, and lets tests bind
    port 0. The server runs on its own thread with its own event loop.
    """

    def __init__(
        self,
        sock: socket.socket,
        *,
        lmtp: bool = False,
        handler: IntakeHandler | None = None,
        max_message_bytes: int | None = None,
        timeout_s: float = COMMAND_TIMEOUT_S,
        ready_timeout_s: float = 10.0,
    ) -> None:
        host, port = sock.getsockname()[:2]
        self.intake = handler or IntakeHandler()
        self.lmtp = lmtp
        self._sock = sock
        super().__init__(
            self.intake,
            hostname=host,
            port=port,
            ready_timeout=ready_timeout_s,
            # Without it aiosmtpd asks DNS for our FQDN, which can hang for long.
            server_hostname=socket.gethostname(),
            ident="Frontdesk",
            # The limit IMAP polling downloads; refusing a bigger mail (552) tells its sender.
            data_size_limit=max_message_bytes or settings.MAIL_MAX_MESSAGE_BYTES,
            timeout=timeout_s,
        )

    @property
    def protocol(self) -> MailProtocol:
        return "lmtp" if self.lmtp else "smtp"

    def factory(self) -> SMTP:
        server_class = _LMTP if self.lmtp else _SMTP
        return server_class(self.handler, **self.SMTP_kwargs)

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)

    def stop(self, no_assert: bool = False, *, grace_s: float = STOP_GRACE_S) -> None:
        """Stop taking connections, answer the messages in the intake, then end.

        Stopping a stopped listener does nothing.
        """
        if self._thread is None:
            return
        server = self.server
        if server is not None:
            self.loop.call_soon_threadsafe(server.close)
        if not self.intake.wait_idle(grace_s):
            logger.warning("mail listener: stopping with a message unanswered; the MTA retries")
        super().stop(no_assert=no_assert)
        self.intake.close()
