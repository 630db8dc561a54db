"""The email intake: raw bytes in, a conversation message (or a quarantined mail) out.

Every door for mail — IMAP polling, `frontdesk mail import`, an SMTP/LMTP
listener — calls `ingest_raw`. Its contract with them:

- it returns only after everything it wrote is committed, so the caller may
  then flag, move or delete the message at its source;
- it never raises for bad mail: what cannot be taken in is kept raw in the
  quarantine, with the reason, for admins to retry;
- it raises only when the infrastructure fails (the database, the storage),
  and then nothing was written: the caller treats the message as not
  imported and tries again later;
- it is idempotent: the same mail again (a re-poll, a re-import, the copy of
  a CC to a second mailbox) is reported as a duplicate and writes nothing.

The key is written in the same transaction as the conversation and the
message, so two workers taking in the same mail at once cannot both win: the
second waits on the unique key, fails on it, rolls back everything it wrote
and reports a duplicate.

Bulk sources (`frontdesk mail import`) call `ingest_batch` or `ingest_in_batches`
instead: the same contract for a batch of mails as a whole, one transaction with
a savepoint per mail (docs/adr/0011).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import multiprocessing
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Literal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from frontdesk.accounts.models import User
from frontdesk.conversations import services as conversation_services
from frontdesk.conversations.intake import IncomingMessage, deliver
from frontdesk.conversations.models import (
    Channel,
    Conversation,
    DeliveryStatus,
    Message,
    MessageKind,
)
from frontdesk.conversations.services import EmailIds, StoredUpload, Upload
from frontdesk.core.audit import record_event
from frontdesk.core.errors import ServiceError
from frontdesk.core.html import html_to_text
from frontdesk.core.models import Via
from frontdesk.customers.models import Customer
from frontdesk.customers.selectors import find_customers_by_email
from frontdesk.customers.services import get_or_create_customer_by_email
from frontdesk.mail import guards
from frontdesk.mail.headers import decode_words, raw_text
from frontdesk.mail.models import InboundMessage, InboundOutcome, Mailbox, Quarantine
from frontdesk.mail.parse import Bounce, ParsedMessage, Unparseable, parse_many, parse_message
from frontdesk.mail.threading import find_thread, follow_merges, number_in_our_message_id

logger = logging.getLogger(__name__)

Outcome = Literal["created", "threaded", "duplicate", "quarantined", "ignored"]
_RESULTS: dict[str, Outcome] = {
    InboundOutcome.CREATED: "created",
    InboundOutcome.THREADED: "threaded",
    InboundOutcome.IGNORED: "ignored",
}
MAX_SUBJECT = 500
MAX_SOURCE = 500
# Mails per transaction for bulk sources (`frontdesk mail import`); see docs/adr/0011.
BATCH_SIZE = 50
# Key prefix of a mail kept by its headers only, its body never downloaded (too large).
UNFETCHED = "u:"
# Quarantine.resolution of a mail a retry took in (an admin's discard is "discarded").
RESOLVED_IMPORTED = "imported"


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    conversation_number: int | None
    detail: str


def ingest_raw(
    raw: bytes,
    *,
    mailbox: Mailbox | None,
    source: str,
    at: datetime | None = None,
    rate_limit: bool = True,
) -> IngestResult:
    """Take in one message; see the module's docstring for the contract.

    `rate_limit=False` is for an admin importing mail that already arrived (an
    archive): the per-sender limit guards live traffic against loops, and an
    archive holds many messages per sender by nature.
    """
    arrival = _Arrival(raw, mailbox, source[:MAX_SOURCE], at or timezone.now(), retrying=None)
    try:
        parsed = parse_message(raw)
    except Unparseable as error:
        return _quarantine(arrival, error.reason)
    return _ingest(arrival, parsed, rate_limit=rate_limit)


def ingest_batch(
    mails: Sequence[tuple[bytes, str]],
    *,
    mailbox: Mailbox | None,
    at: datetime | None = None,
    rate_limit: bool = True,
) -> list[IngestResult]:
    """Take in several mails, (raw, source) each, in one transaction; a result each, in order.

    The contract of `ingest_raw` holds for the batch as a whole (docs/adr/0011):
    it returns once all of it is committed, and raises when the infrastructure
    fails, with nothing of the batch written. Each mail is written under a
    savepoint of its own, so one the services refuse, or one that brings out a
    fault of ours, is quarantined and the others are kept. The checks that need
    no row of the batch are made once for all of it: the keys already seen, our
    own addresses; originals and attachments are stored before the transaction.
    """
    at = at or timezone.now()
    arrivals = [
        _Arrival(raw, mailbox, source[:MAX_SOURCE], at, retrying=None) for raw, source in mails
    ]
    return _ingest_parsed_batch(
        arrivals, [_parsed_or_reason(arrival.raw) for arrival in arrivals], rate_limit=rate_limit
    )


def ingest_in_batches(
    mails: Iterable[tuple[bytes, str]],
    *,
    mailbox: Mailbox | None,
    batch_size: int = BATCH_SIZE,
    rate_limit: bool = True,
    parse_ahead: bool = False,
) -> Iterator[IngestResult]:
    """`ingest_batch` over `mails`, `batch_size` at a time; each batch's results once committed.

    A caller that acknowledges mail at its source does so for a batch after its
    results came, never before (docs/adr/0011). `parse_ahead` parses each batch
    in a worker process while the one before it is written: on a machine with
    a core to spare, parsing then costs the writer nothing.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    batches = _chunks(mails, batch_size)
    first = next(batches, None)
    if first is None:
        return
    second = next(batches, None) if parse_ahead else None
    if second is None:  # nothing to parse ahead of: no worker to start
        for batch in itertools.chain((first,), batches):
            yield from ingest_batch(batch, mailbox=mailbox, rate_limit=rate_limit)
        return
    spawn = multiprocessing.get_context("spawn")  # a fork would share the database connection
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as parser:
        waiting = (second, parser.submit(parse_many, [raw for raw, _source in second]))
        yield from ingest_batch(first, mailbox=mailbox, rate_limit=rate_limit)
        for batch in batches:
            parsing = parser.submit(parse_many, [raw for raw, _source in batch])
            yield from _ingest_parsed_mails(*waiting, mailbox=mailbox, rate_limit=rate_limit)
            waiting = (batch, parsing)
        yield from _ingest_parsed_mails(*waiting, mailbox=mailbox, rate_limit=rate_limit)


def _chunks(mails: Iterable[tuple[bytes, str]], size: int) -> Iterator[list[tuple[bytes, str]]]:
    batch: list[tuple[bytes, str]] = []
    for mail in mails:
        batch.append(mail)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _ingest_parsed_mails(
    batch: Sequence[tuple[bytes, str]],
    parsing: Future[list[ParsedMessage | str]],
    *,
    mailbox: Mailbox | None,
    rate_limit: bool,
) -> list[IngestResult]:
    at = timezone.now()
    arrivals = [
        _Arrival(raw, mailbox, source[:MAX_SOURCE], at, retrying=None) for raw, source in batch
    ]
    return _ingest_parsed_batch(arrivals, parsing.result(), rate_limit=rate_limit)


def retry_quarantined(
    quarantine: Quarantine, *, by: User | None = None, at: datetime | None = None
) -> IngestResult:
    """Try a quarantined mail again (after a fix, or once a flood is over).

    The rate limit does not apply to a retry: an admin chose to let it in.
    Taken in, the quarantine row is resolved as "imported" by `by` in the same
    commit; found already taken in (its bytes came in again once they parsed),
    it is resolved the same way; refused again, it keeps its place with the new
    reason and one more retry. `mail.services.retry_quarantined_mail` is the
    door for people: it checks the admin and records who asked.
    """
    quarantine = Quarantine.objects.get(pk=quarantine.pk)
    if quarantine.resolved_at is not None:
        return IngestResult("duplicate", None, "already resolved")
    if quarantine.key.startswith(UNFETCHED):
        # Only its headers are here; the mail itself is still at its source.
        return IngestResult("quarantined", None, quarantine.reason)
    # The row travels with the arrival to `_resolve`, which writes who resolved it.
    quarantine.resolved_by = by
    arrival = _Arrival(
        bytes(quarantine.raw),
        quarantine.mailbox,
        quarantine.source,
        at or timezone.now(),
        retrying=quarantine,
    )
    try:
        parsed = parse_message(arrival.raw)
    except Unparseable as error:
        return _quarantine(arrival, error.reason)
    result = _ingest(arrival, parsed, rate_limit=False)
    if result.outcome == "duplicate":
        with transaction.atomic():
            _resolve(quarantine, arrival.at)
    return result


def raw_key(raw: bytes) -> str:
    """The key of a message that could not be parsed: its bytes, line endings normalised."""
    return "r:" + hashlib.sha256(raw.replace(b"\r\n", b"\n").strip()).hexdigest()


def quarantine_unfetched(
    headers: bytes,
    *,
    size: int,
    reason: str,
    mailbox: Mailbox | None,
    source: str,
    at: datetime | None = None,
) -> IngestResult:
    """Keep by its headers a mail the caller did not download (too large), with the reason.

    The mail itself stays at its source (an IMAP folder). The same headers again land
    on the same row; a retry cannot take such a row in, since its body is not here.
    """
    arrival = _Arrival(headers, mailbox, source[:MAX_SOURCE], at or timezone.now(), retrying=None)
    key = UNFETCHED + raw_key(headers + f"\nsize {size}".encode()).removeprefix("r:")
    try:
        parsed = parse_message(headers)  # for the sender's address and the subject
    except Unparseable:
        parsed = None
    return _quarantine(arrival, reason, parsed, key=key, size=size)


def is_automated_message(message: Message) -> bool:
    """True when `message` came by mail from a machine: never acknowledge it automatically."""
    return InboundMessage.objects.filter(message=message, automated=True).exists()


# --- the steps --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Arrival:
    """One mail on its way in: its bytes, where it came from, and its quarantine row on a retry."""

    raw: bytes
    mailbox: Mailbox | None
    source: str
    at: datetime
    retrying: Quarantine | None
    # The original's name in storage, when it was stored ahead (a batch stores before it locks).
    stored: str = ""


@dataclass(frozen=True)
class _Content:
    """What the mail shows as a message: the visible text and HTML, the attachments stored."""

    text: str
    html: str
    files: list[StoredUpload]


def _ingest(arrival: _Arrival, parsed: ParsedMessage, *, rate_limit: bool) -> IngestResult:
    screened = _already_seen(parsed.idempotency_key, arrival.retrying) or _screen(
        arrival, parsed, own=guards.own_addresses(), rate_limit=rate_limit
    )
    if screened is not None:
        return screened
    return _take_in_or_quarantine(arrival, parsed, lambda: _content_of(parsed))


@dataclass(frozen=True)
class _Plan:
    """One mail of a batch, parsed, checked and with its files stored, before the transaction."""

    arrival: _Arrival
    parsed: ParsedMessage | None
    unparseable: str = ""  # the reason, when it could not be parsed
    duplicate: IngestResult | None = None  # found already taken in or quarantined
    content: _Content | Exception | None = None  # what take-in needs; or what to raise


def _parsed_or_reason(raw: bytes) -> ParsedMessage | str:
    try:
        return parse_message(raw)
    except Unparseable as error:
        return error.reason


def _plan(
    arrival: _Arrival, parsed: ParsedMessage | str, seen: dict[str, str], own: frozenset[str]
) -> _Plan:
    if isinstance(parsed, str):
        return _Plan(arrival, None, unparseable=parsed)
    duplicate = _duplicate(seen.get(parsed.idempotency_key))
    if duplicate is not None:
        return _Plan(arrival, parsed, duplicate=duplicate)
    sender = guards.sender_of(parsed)
    if not sender and parsed.bounce is None:
        return _Plan(arrival, parsed)  # quarantined, raw in the database: nothing to store
    stored = replace(arrival, stored=_store_raw(arrival.raw))
    if parsed.bounce is not None or sender in own:
        return _Plan(stored, parsed)
    try:
        content: _Content | Exception = _content_of(parsed)
    except OSError:
        raise  # the storage failed: nothing of the batch is written yet
    except Exception as error:  # noqa: BLE001 - raised again in its turn, see _ready
        # A refusal, or a fault of ours, that this mail brings out: it is quarantined when
        # its turn comes, under its savepoint, as ingest_raw would.
        content = error
    return _Plan(stored, parsed, content=content)


def _ingest_parsed_batch(
    arrivals: Sequence[_Arrival], parsed: Sequence[ParsedMessage | str], *, rate_limit: bool
) -> list[IngestResult]:
    seen = _seen_keys(
        {item.idempotency_key for item in parsed if isinstance(item, ParsedMessage)},
        quarantine=True,
    )
    own = guards.own_addresses()
    plans = [
        _plan(arrival, item, seen, own) for arrival, item in zip(arrivals, parsed, strict=True)
    ]
    # Senders known now (committed) are found once for the batch. Customers the batch creates
    # are looked up one by one: a savepoint rolled back may take one with it.
    known = find_customers_by_email(
        {guards.sender_of(plan.parsed) for plan in plans if plan.parsed and plan.content}
    )
    results: list[IngestResult] = []
    outcomes: dict[str, Outcome] = {}  # by key: what this batch did with it so far
    with transaction.atomic():
        for plan in plans:
            result = _run_plan(plan, outcomes, own=own, known=known, rate_limit=rate_limit)
            if plan.parsed is not None and result.outcome != "duplicate":
                outcomes.setdefault(plan.parsed.idempotency_key, result.outcome)
            results.append(result)
    return results


def _run_plan(
    plan: _Plan,
    outcomes: dict[str, Outcome],
    *,
    own: frozenset[str],
    known: dict[str, Customer],
    rate_limit: bool,
) -> IngestResult:
    """One mail of the batch, inside the batch's transaction; its writes under a savepoint."""
    arrival, parsed = plan.arrival, plan.parsed
    if parsed is None:
        return _quarantine(arrival, plan.unparseable)
    if plan.duplicate is not None:
        return plan.duplicate
    earlier = outcomes.get(parsed.idempotency_key)
    if earlier is not None:  # the same mail twice in one batch
        return _duplicate_of(_IN_QUARANTINE if earlier == "quarantined" else _IMPORTED)
    screened = _screen(arrival, parsed, own=own, rate_limit=rate_limit)
    if screened is not None:
        return screened
    content = plan.content
    customer = known.get(guards.sender_of(parsed))
    return _take_in_or_quarantine(arrival, parsed, lambda: _ready(content, parsed), customer)


def _ready(content: _Content | Exception | None, parsed: ParsedMessage) -> _Content:
    if isinstance(content, Exception):
        raise content
    return content if content is not None else _content_of(parsed)


def _take_in_or_quarantine(
    arrival: _Arrival,
    parsed: ParsedMessage,
    content: Callable[[], _Content],
    customer: Customer | None = None,
) -> IngestResult:
    """Take the mail in; what it brings out (a refusal, a fault of ours) quarantines it."""
    try:
        return _take_in(arrival, parsed, content(), customer)
    except (ServiceError, DataError) as error:
        return _quarantine(arrival, f"refused: {_one_line(error)}", parsed)
    except (DatabaseError, OSError):
        raise
    except Exception as error:
        # A fault of ours that this mail brings out: keep the mail and let the next one in,
        # rather than fail the same message on every poll.
        logger.exception("mail intake failed on %s", arrival.source)
        return _quarantine(arrival, f"error: {_one_line(error)}", parsed)


_IMPORTED = "imported"
_IN_QUARANTINE = "quarantine"


def _already_seen(key: str, retrying: Quarantine | None) -> IngestResult | None:
    return _duplicate(_seen_keys([key], quarantine=retrying is None).get(key))


def _seen_keys(keys: Collection[str], *, quarantine: bool) -> dict[str, str]:
    """Which of `keys` were imported, or (when asked) are in quarantine; one query.

    Plain SQL: the ORM's union costs several times the query itself, once per mail.
    """
    if not keys:
        return {}
    listed = list(keys)
    marks = ", ".join(["%s"] * len(listed))
    sql = (
        f"SELECT idempotency_key, 1 FROM {InboundMessage._meta.db_table} "  # noqa: S608
        f"WHERE idempotency_key IN ({marks})"
    )
    if quarantine:
        sql += (
            f" UNION ALL SELECT key, 2 FROM {Quarantine._meta.db_table} "  # noqa: S608
            f"WHERE key IN ({marks})"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, listed * (2 if quarantine else 1))
        rows = cursor.fetchall()
    seen: dict[str, str] = {}
    for key, where in rows:
        if where == 1 or key not in seen:
            seen[key] = _IMPORTED if where == 1 else _IN_QUARANTINE
    return seen


def _duplicate(seen: str | None) -> IngestResult | None:
    return _duplicate_of(seen) if seen is not None else None


def _duplicate_of(seen: str) -> IngestResult:
    if seen == _IN_QUARANTINE:
        return IngestResult("duplicate", None, "already in quarantine")
    return IngestResult("duplicate", None, "already imported")


def _screen(
    arrival: _Arrival, parsed: ParsedMessage, *, own: frozenset[str], rate_limit: bool
) -> IngestResult | None:
    """The loop and noise guards; None lets the mail in. `own`: guards.own_addresses()."""
    sender = guards.sender_of(parsed)
    if sender and sender in own:
        return _record(
            arrival, parsed, outcome=InboundOutcome.IGNORED, detail="from our own address"
        )
    if parsed.bounce is not None:
        return _bounce(arrival, parsed, parsed.bounce)
    if not sender:
        return _quarantine(arrival, "no sender address", parsed)
    if rate_limit and guards.over_rate_limit(sender, at=arrival.at):
        return _quarantine(arrival, guards.RATE_LIMIT_REASON, parsed)
    return None


def _content_of(parsed: ParsedMessage) -> _Content:
    uploads, too_large = _uploads(parsed)
    text, html = _body(parsed, too_large)
    # Written now, before the transaction that takes the mail in: files never under row locks.
    return _Content(text, html, conversation_services.store_uploads(uploads))


def _take_in(
    arrival: _Arrival, parsed: ParsedMessage, content: _Content, known: Customer | None = None
) -> IngestResult:
    """Store the mail as a new conversation or a message in the one it continues.

    `known`: the sender's customer when the caller already found it.
    """
    mailbox = arrival.mailbox

    def deliver_message(record: InboundMessage) -> None:
        customer = known or _sender_customer(parsed)
        thread = find_thread(parsed, sender=customer)
        delivered = deliver(
            IncomingMessage(
                customer=customer,
                channel=Channel.EMAIL,
                subject=_subject(parsed),
                text=content.text,
                html=content.html,
                attachments=content.files,
                team=mailbox.default_team if mailbox is not None else None,
                email=EmailIds(
                    message_id=parsed.message_id,
                    in_reply_to=parsed.in_reply_to,
                    references=parsed.references,
                ),
                via=Via.EMAIL,
                at=arrival.at,
            ),
            to=thread.conversation if thread is not None else None,
        )
        record.outcome = InboundOutcome.CREATED if delivered.created else InboundOutcome.THREADED
        record.conversation = delivered.conversation
        record.message = delivered.message
        record.detail = _detail(parsed, thread.how if thread else "", delivered.follow_up_of)

    return _record(arrival, parsed, outcome=InboundOutcome.CREATED, write=deliver_message)


def _sender_customer(parsed: ParsedMessage) -> Customer:
    customer, _created = get_or_create_customer_by_email(
        guards.sender_of(parsed),
        name=parsed.from_.name if parsed.from_ else "",
        via=Via.EMAIL,
        with_details=False,
    )
    return customer


def _record(
    arrival: _Arrival,
    parsed: ParsedMessage,
    *,
    outcome: str,
    detail: str = "",
    write: Callable[[InboundMessage], None] | None = None,
) -> IngestResult:
    """Keep the original, then commit the idempotency row with what `write` adds to it.

    `write` fills in the row's outcome, conversation, message and detail; the row
    is inserted once, after it, in the same transaction. A concurrent intake of
    the same mail then fails on the key and rolls back all it wrote, a duplicate.
    Without `write` the mail is only remembered (and kept), never taken in again.
    """
    # Before the transaction: files are written outside locks.
    stored = arrival.stored or _store_raw(arrival.raw)
    record = _inbound_row(arrival, parsed, stored, outcome=outcome, detail=detail)
    try:
        with transaction.atomic():
            if write is not None:
                write(record)
            record.save(force_insert=True)
            _resolve(arrival.retrying, arrival.at)
    except IntegrityError as error:
        return _lost_race(record.idempotency_key, error)
    return _result_of(record)


def _inbound_row(
    arrival: _Arrival, parsed: ParsedMessage, stored: str, *, outcome: str, detail: str
) -> InboundMessage:
    return InboundMessage(
        idempotency_key=parsed.idempotency_key,
        mailbox=arrival.mailbox,
        email_message_id=parsed.message_id[:998],
        sender=guards.sender_of(parsed)[:254],
        outcome=outcome,
        automated=guards.is_automated(parsed),
        raw=stored,
        size=len(arrival.raw),
        detail=detail,
        source=arrival.source,
        received_at=arrival.at,
    )


def _result_of(record: InboundMessage) -> IngestResult:
    number = record.conversation.number if record.conversation is not None else None
    return IngestResult(_RESULTS[record.outcome], number, record.detail)


def _bounce(arrival: _Arrival, parsed: ParsedMessage, bounce: Bounce) -> IngestResult:
    """A delivery report: tell the agents on the conversation, and fail the reply it returns.

    A report about mail we did not send (spam forging our address, a notice
    sent before this help desk) has nobody to tell: it is ignored, kept raw
    with its InboundMessage row, not quarantined, since there is nothing to retry.
    """
    original = None
    if bounce.original_message_id:
        original = (
            Message.objects.filter(email_message_id=bounce.original_message_id)
            .exclude(kind=MessageKind.CUSTOMER)
            .order_by("id")
            .first()
        )
    conversation = None
    if original is not None:
        conversation = follow_merges(original.conversation)
    else:
        number = number_in_our_message_id(bounce.original_message_id)
        if number is not None:
            found = Conversation.objects.filter(number=number).first()
            conversation = follow_merges(found) if found is not None else None
    summary = _bounce_summary(bounce)
    if conversation is None:
        detail = f"bounce for a message we did not send: {summary}"
        return _record(arrival, parsed, outcome=InboundOutcome.IGNORED, detail=detail)

    def tell_agents(record: InboundMessage) -> None:
        if original is not None and bounce.permanent and original.kind == MessageKind.REPLY:
            conversation_services.set_delivery_status(
                original, status=DeliveryStatus.FAILED, error=summary, via=Via.EMAIL, at=arrival.at
            )
        if bounce.permanent:
            line = _("A reply could not be delivered to %(recipient)s: %(reason)s")
        else:
            line = _("A reply to %(recipient)s is delayed: %(reason)s")
        recipient = bounce.recipient or _("the customer")
        note = conversation_services.add_system_message(
            conversation, text=line % {"recipient": recipient, "reason": summary},
            via=Via.EMAIL, at=arrival.at,
        )  # fmt: skip
        record.conversation = note.conversation
        record.message = note
        record.detail = f"bounce: {summary}"

    return _record(arrival, parsed, outcome=InboundOutcome.THREADED, write=tell_agents)


def _bounce_summary(bounce: Bounce) -> str:
    """The server's words (they usually carry the status code), else the status."""
    diagnostic = " ".join(bounce.diagnostic.split())
    if bounce.status and bounce.status not in diagnostic:
        diagnostic = f"{bounce.status} {diagnostic}".strip()
    return diagnostic[:1000] or bounce.action or "bounce"


def _quarantine(
    arrival: _Arrival,
    reason: str,
    parsed: ParsedMessage | None = None,
    *,
    key: str | None = None,
    size: int | None = None,
) -> IngestResult:
    """Keep the mail raw with the reason; a retried one keeps its row, with one more retry."""
    sender, subject = _peek(arrival.raw, parsed)
    with transaction.atomic():
        if arrival.retrying is not None:
            row = Quarantine.objects.select_for_update().get(pk=arrival.retrying.pk)
            row.reason = reason
            row.retries += 1
            row.save(update_fields=["reason", "retries"])
        else:
            if key is None:
                key = parsed.idempotency_key if parsed is not None else raw_key(arrival.raw)
            try:
                with transaction.atomic():
                    row = Quarantine.objects.create(
                        key=key, mailbox=arrival.mailbox, raw=arrival.raw,
                        size=len(arrival.raw) if size is None else size,
                        reason=reason, sender=sender, subject=subject, source=arrival.source,
                        created_at=arrival.at,
                    )  # fmt: skip
            except IntegrityError:
                # Only the unique key makes this a duplicate; any other refusal must surface,
                # or the caller would acknowledge mail that was stored nowhere.
                if not Quarantine.objects.filter(key=key).exists():
                    raise
                return IngestResult("duplicate", None, "already in quarantine")
        record_event(
            row, action="mail.quarantined", actor=None, via=Via.EMAIL, at=arrival.at,
            data={"reason": reason, "source": arrival.source, "retries": row.retries},
        )  # fmt: skip
    logger.info("mail quarantined (%s) from %s: %s", arrival.source, sender or "?", reason)
    return IngestResult("quarantined", None, reason)


def _resolve(retrying: Quarantine | None, at: datetime) -> None:
    """Close the quarantine row of a retry that got the mail in: "imported", by its retrier."""
    if retrying is None:
        return
    Quarantine.objects.filter(pk=retrying.pk).update(
        resolved_at=at,
        resolution=RESOLVED_IMPORTED,
        resolved_by_id=retrying.resolved_by_id,
        retries=retrying.retries + 1,
    )
    record_event(
        retrying, action="mail.quarantine_resolved", actor=retrying.resolved_by, via=Via.EMAIL,
        at=at, data={"resolution": RESOLVED_IMPORTED},
    )  # fmt: skip


def _lost_race(key: str, error: IntegrityError) -> IngestResult:
    """Our unique key was taken by a concurrent intake of the same mail, which won."""
    if InboundMessage.objects.filter(idempotency_key=key).exists():
        return IngestResult("duplicate", None, "already imported")
    # Anything else is the database's failure, for the caller to retry.
    raise error


# --- shaping the message ----------------------------------------------------------------------


def _subject(parsed: ParsedMessage) -> str:
    subject = " ".join(parsed.subject.split())[:MAX_SUBJECT]
    return subject or _("(no subject)")


def _uploads(parsed: ParsedMessage) -> tuple[list[Upload], list[tuple[str, int]]]:
    """Attachments within the size limit; the others by name and size, to mention.

    An attachment over the limit must not cost the customer's message: the
    message is taken in, says which file was left out, and the file itself
    stays in the original mail kept with the InboundMessage.
    """
    limit = settings.MAX_ATTACHMENT_BYTES
    uploads: list[Upload] = []
    too_large: list[tuple[str, int]] = []
    for attachment in parsed.attachments:
        name = attachment.filename.strip() or "attachment"
        if attachment.size > limit:
            too_large.append((name, attachment.size))
        else:
            uploads.append(
                Upload(
                    filename=name,
                    content=attachment.content,
                    content_id=attachment.content_id,
                    inline=attachment.inline,
                )
            )
    return uploads, too_large


def _body(parsed: ParsedMessage, too_large: list[tuple[str, int]]) -> tuple[str, str]:
    """The visible part (quotes and signature hidden), or the whole when nothing else is left."""
    text, html = parsed.visible_text.strip(), parsed.visible_html
    if not text and not _has_text(html):
        text, html = parsed.text.strip(), parsed.html
    mentions = [
        _("%(name)s (%(mb).1f MB) is larger than the limit of %(limit)d MB; "
          "it is kept in the original mail.")
        % {"name": name, "mb": size / (1024 * 1024),
           "limit": settings.MAX_ATTACHMENT_BYTES // (1024 * 1024)}
        for name, size in too_large
    ]  # fmt: skip
    if mentions:
        text = "\n\n".join([text, *(f"[{line}]" for line in mentions)]).strip()
        if html:
            html += "".join(f"<p><em>[{escape(line)}]</em></p>" for line in mentions)
    if not text and not _has_text(html) and not parsed.attachments:
        text = _("(no text)")
    return text, html


def _has_text(html: str) -> bool:
    return bool(html and html_to_text(html).strip())


def _detail(parsed: ParsedMessage, how: str, follow_up_of: int | None) -> str:
    parts = []
    if how:
        parts.append(f"threaded by {how}")
    if follow_up_of is not None:
        parts.append(f"follow-up to closed #{follow_up_of}")
    if parsed.is_automated:
        parts.append("automated")
    parts.extend(parsed.notes)
    return "; ".join(parts)


def _store_raw(raw: bytes) -> str:
    """Keep the original in storage, content-addressed: the same bytes are stored once."""
    digest = hashlib.sha256(raw).hexdigest()
    name = f"mail/originals/{digest[:2]}/{digest}.eml"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(raw))
    return name


def _peek(raw: bytes, parsed: ParsedMessage | None) -> tuple[str, str]:
    """Sender and subject for the quarantine list, as far as they can be read."""
    if parsed is not None:
        return guards.sender_of(parsed)[:254], parsed.subject[:MAX_SUBJECT]
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[: 64 * 1024])
        sender = raw_text(str(headers.get("from", "") or ""))
        subject = decode_words(raw_text(str(headers.get("subject", "") or "")))
    except Exception:  # noqa: BLE001 - a label for admins; the raw bytes are what is kept
        return "", ""
    return " ".join(sender.split())[:254], " ".join(subject.split())[:MAX_SUBJECT]


def _one_line(error: Exception) -> str:
    detail = error.detail if isinstance(error, ServiceError) else str(error)
    return " ".join(str(detail).split())[:1000] or type(error).__name__
