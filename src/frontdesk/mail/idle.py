"""IMAP IDLE: new mail is imported within seconds instead of at the next interval poll.

Every `frontdesk worker` (and `frontdesk serve` with its embedded worker) runs an
`IdleSupervisor`. Every `tick_s` it lists the active mailboxes with IMAP and keeps
one `MailboxWatcher` thread, with one IDLE connection, for each mailbox whose
lease it holds:

- The lease is two columns on the mailbox (`idle_owner`, `idle_lease_until`),
  taken with a conditional UPDATE that succeeds only when it is free or ran out
  (`services.claim_idle_lease`), so of many workers exactly one watches a mailbox.
  The supervisor renews its leases every tick; when its worker dies the leases run
  out, and another worker takes the mailbox over within `lease` plus one tick.
- The interval poll (`polling.poll_mailboxes`) leaves leased mailboxes alone; a
  mailbox whose server has no IDLE is released to it (and asked again hourly).
- A watcher imports through `polling.import_new`, the poll's own code: a message is
  flagged only after the intake committed it. It does so when the server announces
  mail (EXISTS/RECENT) and, whatever the server says, every `refresh_s`: IDLE must
  be renewed within 29 minutes (RFC 2177), NAT boxes drop connections silent for
  minutes, and a missed announcement then waits at most that long.
- A lost connection is reconnected with exponential backoff; the first drop of a
  working connection is not reported, later failures go to `Mailbox.last_error` in
  the words of a poll.
- Mailboxes added, changed (their `updated_at`) or deactivated are picked up at the
  next tick. `stop()` ends IDLE, logs out, joins the threads and releases the leases.

An idle watcher holds no database connection: it closes its own after each import.
Lease times come from each worker's clock, as the scheduler's claims do: a skew between
nodes shortens or lengthens a takeover by as much, so keep their clocks synchronised.
"""

from __future__ import annotations

import imaplib
import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django import db
from django.db.models import Q
from django.utils import timezone
from imapclient import IMAPClient

from frontdesk.mail import connection, polling
from frontdesk.mail.models import Mailbox
from frontdesk.mail.services import (
    claim_idle_lease,
    record_mailbox_poll,
    release_idle_leases,
    renew_idle_leases,
)

logger = logging.getLogger(__name__)

# One worker process watches at most this many mailboxes (a thread and a connection
# each); the rest are left to other workers, or to the interval poll.
MAX_WATCHERS = 100


@dataclass(frozen=True)
class IdleTiming:
    """How often the supervisor and its watchers act; tests shorten these."""

    # A lease lasts this long unless renewed: the longest a dead worker's mailboxes wait.
    lease: timedelta = timedelta(seconds=60)
    # Renew leases and look for added, changed and deactivated mailboxes this often.
    tick_s: float = 10.0
    # Re-issue IDLE and look for new mail anyway this often.
    refresh_s: float = 4 * 60.0
    # A watcher waiting in IDLE looks at its stop flag this often.
    wake_s: float = 1.0
    # Reconnecting after failures waits this long, doubled each time up to the maximum.
    backoff_first_s: float = 1.0
    backoff_max_s: float = 5 * 60.0
    # A server without IDLE is asked again after this long.
    no_idle_retry_s: float = 3600.0
    # Every network wait of a connection, as in a poll.
    timeout_s: float = connection.DEFAULT_TIMEOUT


class IdleUnsupported(Exception):
    """The server does not offer IDLE: the interval poll reads this mailbox."""


class MailboxWatcher:
    """One mailbox's IDLE connection, run on its own thread until `stop` is set."""

    def __init__(self, mailbox_id: int, *, timing: IdleTiming, stop: threading.Event) -> None:
        self.mailbox_id = mailbox_id
        self.timing = timing
        self.stop = stop
        self.no_idle = False
        self.imported: Counter[str] = Counter()
        self.connections = 0  # sessions opened, reconnections included
        self.failures = 0  # in a row, since the last session that worked

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                mailbox = None
                try:
                    # Read afresh before each connection: the password may have changed.
                    mailbox = Mailbox.objects.filter(pk=self.mailbox_id, active=True).first()
                    if mailbox is None:
                        return
                    self._session(mailbox)
                except IdleUnsupported:
                    self.no_idle = True
                    return
                except Exception as error:  # noqa: BLE001 - any failure: back off and retry
                    self._failed(mailbox, error)
                else:
                    return
        finally:
            db.connections.close_all()

    def _session(self, mailbox: Mailbox) -> None:
        client = polling.open_folder(mailbox, timeout=self.timing.timeout_s)
        self.connections += 1
        try:
            if not client.has_capability("IDLE"):
                raise IdleUnsupported
            self._catch_up(client, mailbox)
            self.failures = 0
            while not self.stop.is_set():
                self._wait_in_idle(client)
                if not self.stop.is_set():
                    self._catch_up(client, mailbox)
        finally:
            connection.close_imap(client)

    def _catch_up(self, client: IMAPClient, mailbox: Mailbox) -> None:
        """Import until a round finds nothing: mail that came in meanwhile is not missed."""
        result = polling.PollResult(mailbox_id=mailbox.pk)
        while not self.stop.is_set():
            _announced_between_commands(client)  # the search below covers those
            before = result.fetched
            more = polling.import_new(client, mailbox, result, stop=self.stop)
            if not (more or result.fetched > before or _announced_between_commands(client)):
                break
        self.imported.update(result.outcomes)
        record_mailbox_poll(mailbox, imap_error="")
        # An idle watcher holds no database connection; the next import opens one.
        db.connections.close_all()

    def _wait_in_idle(self, client: IMAPClient) -> None:
        """Return when the server announces mail, at the refresh time, or on stop."""
        client.idle()
        deadline = time.monotonic() + self.timing.refresh_s
        if _announced_between_commands(client):
            deadline = 0.0  # mail came in just before the server confirmed IDLE
        while not self.stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
            wait = min(remaining, self.timing.wake_s)
            started = time.monotonic()
            responses: list[Any] = client.idle_check(timeout=wait)
            if _says_goodbye(responses):
                raise imaplib.IMAP4.abort(_goodbye_text(responses))
            if _announces_mail(responses):
                break
            if not responses and time.monotonic() - started < wait / 2:
                # Woken with nothing to read: the server closed the connection (or a
                # line came in pieces). Ending IDLE tells which.
                break
        client.idle_done()

    def _failed(self, mailbox: Mailbox | None, error: Exception) -> None:
        self.failures += 1
        if isinstance(error, polling.READ_ERRORS) and mailbox is not None:
            text = polling.failure_text(error, mailbox)
        else:
            logger.error("IDLE watcher of mailbox %s failed", self.mailbox_id, exc_info=error)
            text = ""
            db.connections.close_all()  # after a database error, start on a new connection
        if self.failures == 1 and self.connections:
            # A working connection dropped (a server restart, a NAT timeout): try again
            # before telling anyone, most of these are over by then.
            logger.info("mailbox %s: IDLE connection lost (%s)", self.mailbox_id, text)
        elif text and mailbox is not None:
            logger.warning("mailbox %s: %s", self.mailbox_id, text)
            self._record_error(mailbox, text)
        self.stop.wait(self._backoff())

    def _record_error(self, mailbox: Mailbox, text: str) -> None:
        try:
            record_mailbox_poll(mailbox, imap_error=text)
        except db.Error:
            logger.exception("mailbox %s: cannot record the failure", self.mailbox_id)
        finally:
            db.connections.close_all()

    def _backoff(self) -> float:
        full = min(
            self.timing.backoff_max_s, self.timing.backoff_first_s * 2.0 ** (self.failures - 1)
        )
        # Spread out: many mailboxes on one server that went down must not return at once.
        return full * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


def _announced_between_commands(client: IMAPClient) -> bool:
    """Whether the server reported mail (EXISTS, RECENT) in its answer to another command;
    forgets the reports.

    imaplib files such untagged responses away, and the server does not repeat them
    when IDLE begins: mail that came in while we searched would wait for the refresh.
    imapclient offers no public way to read them, hence its private imaplib connection.
    """
    imap = vars(client).get("_imap")
    untagged = getattr(imap, "untagged_responses", None)
    if not isinstance(untagged, dict):
        return False
    reported = [untagged.pop(kind, None) for kind in ("EXISTS", "RECENT")]
    return any(reported)


def _announces_mail(responses: list[Any]) -> bool:
    return any(
        isinstance(item, tuple) and len(item) > 1 and item[1] in (b"EXISTS", b"RECENT")
        for item in responses
    )


def _says_goodbye(responses: list[Any]) -> bool:
    return any(isinstance(item, tuple) and item and item[0] == b"BYE" for item in responses)


def _goodbye_text(responses: list[Any]) -> str:
    for item in responses:
        if isinstance(item, tuple) and item and item[0] == b"BYE":
            words = [p.decode("utf-8", "replace") for p in item[1:] if isinstance(p, bytes)]
            return " ".join(["BYE", *words])
    return "BYE"


@dataclass
class _Watch:
    watcher: MailboxWatcher
    thread: threading.Thread
    # The mailbox's updated_at when the watch began: a later one means new settings.
    version: datetime
    stop: threading.Event = field(default_factory=threading.Event)


class IdleSupervisor:
    """Keeps an IDLE watcher for each mailbox whose lease this worker holds."""

    def __init__(
        self,
        *,
        owner: str,
        timing: IdleTiming | None = None,
        max_watchers: int = MAX_WATCHERS,
    ) -> None:
        self.owner = owner[:100]
        self.timing = timing or IdleTiming()
        self.max_watchers = max_watchers
        self._stopping = threading.Event()
        self._release_on_stop = True
        self._thread: threading.Thread | None = None
        self._watches: dict[int, _Watch] = {}
        self._no_idle_until: dict[int, float] = {}
        self._lock = threading.Lock()

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.run, name=f"frontdesk-idle-{self.owner}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 30.0, *, release: bool = True) -> None:
        """End every IDLE, join the threads and release the leases.

        `release=False` leaves the leases to run out, as a crashed worker would.
        """
        self._release_on_stop = release
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                logger.warning("IDLE supervisor still busy after %.0f s", timeout_s)

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def watching(self) -> set[int]:
        """The mailboxes with a running watcher here."""
        with self._lock:
            return {
                mailbox_id
                for mailbox_id, watch in self._watches.items()
                if watch.thread.is_alive() and not watch.stop.is_set()
            }

    def watcher(self, mailbox_id: int) -> MailboxWatcher | None:
        with self._lock:
            watch = self._watches.get(mailbox_id)
        return watch.watcher if watch is not None else None

    def run(self) -> None:
        logger.info("IMAP IDLE supervisor %s started", self.owner)
        try:
            while not self._stopping.is_set():
                try:
                    self.tick()
                except db.Error:
                    logger.exception("IDLE supervisor tick failed; retrying")
                    db.connections.close_all()
                self._stopping.wait(self.timing.tick_s)
        finally:
            self._shut_down()
            db.connections.close_all()

    # --- one tick -----------------------------------------------------------------------

    def tick(self) -> None:
        """Reap ended watchers, renew the leases, follow the mailboxes, claim free ones."""
        self._reap()
        with self._lock:
            mine = set(self._watches)
        held = renew_idle_leases(mine, owner=self.owner, lease=self.timing.lease)
        for mailbox_id in mine - held:
            logger.warning("mailbox %s: IDLE lease lost to another worker", mailbox_id)
            self._end(mailbox_id)
        wanted = self._candidates()
        for mailbox_id in mine:
            version = wanted.get(mailbox_id)
            watch = self._watches[mailbox_id]
            if version is None or version != watch.version:
                self._end(mailbox_id)  # deactivated, taken over, or new settings
        now = time.monotonic()
        for mailbox_id, version in wanted.items():
            if mailbox_id in self._watches or len(self._watches) >= self.max_watchers:
                continue
            if self._no_idle_until.get(mailbox_id, 0.0) > now:
                continue
            if claim_idle_lease(mailbox_id, owner=self.owner, lease=self.timing.lease):
                self._begin(mailbox_id, version)

    def _candidates(self) -> dict[int, datetime]:
        """Active IMAP mailboxes that nobody else holds, with their settings' version."""
        free = (
            Q(idle_lease_until__isnull=True)
            | Q(idle_lease_until__lte=timezone.now())
            | Q(idle_owner=self.owner)
        )
        rows = (
            Mailbox.objects.filter(free, active=True)
            .exclude(imap_host="")
            .order_by("id")
            .values_list("pk", "updated_at")
        )
        return dict(rows)

    def _begin(self, mailbox_id: int, version: datetime) -> None:
        stop = threading.Event()
        watcher = MailboxWatcher(mailbox_id, timing=self.timing, stop=stop)
        thread = threading.Thread(
            target=watcher.run, name=f"frontdesk-idle-mailbox-{mailbox_id}", daemon=True
        )
        with self._lock:
            self._watches[mailbox_id] = _Watch(watcher, thread, version, stop)
        thread.start()
        logger.info("mailbox %s: watching with IMAP IDLE", mailbox_id)

    def _end(self, mailbox_id: int) -> None:
        """Ask a watcher to stop; `_reap` collects it once its thread is done."""
        watch = self._watches.get(mailbox_id)
        if watch is not None:
            watch.stop.set()

    def _reap(self) -> None:
        """Forget watchers whose thread ended, and give their leases back."""
        with self._lock:
            ended = {i: w for i, w in self._watches.items() if not w.thread.is_alive()}
            for mailbox_id in ended:
                del self._watches[mailbox_id]
        for mailbox_id, watch in ended.items():
            if watch.watcher.no_idle:
                logger.info("mailbox %s: no IMAP IDLE on its server; polled", mailbox_id)
                self._no_idle_until[mailbox_id] = time.monotonic() + self.timing.no_idle_retry_s
        release_idle_leases(set(ended), owner=self.owner)

    def _shut_down(self) -> None:
        with self._lock:
            watches = dict(self._watches)
        for watch in watches.values():
            watch.stop.set()
        # A watcher ends its IDLE within wake_s; one in the middle of a message finishes it.
        deadline = time.monotonic() + max(self.timing.timeout_s * 3, 30.0)
        for watch in watches.values():
            watch.thread.join(max(0.0, deadline - time.monotonic()))
        done = {i for i, watch in watches.items() if not watch.thread.is_alive()}
        if done != set(watches):
            logger.warning("IDLE watchers still busy: %s", sorted(set(watches) - done))
        with self._lock:
            for mailbox_id in done:
                self._watches.pop(mailbox_id, None)
        if self._release_on_stop and done:
            try:
                release_idle_leases(done, owner=self.owner)
            except db.Error:
                logger.exception("releasing the IDLE leases failed; they run out by themselves")
        logger.info("IMAP IDLE supervisor %s stopped", self.owner)
