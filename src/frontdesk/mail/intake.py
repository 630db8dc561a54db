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

The key is written first in the same transaction as the conversation and the
message, so two workers taking in the same mail at once cannot both win: the
second waits on the unique key and then finds a duplicate.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Literal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from frontdesk.conversations import services as conversation_services
from frontdesk.conversations.intake import IncomingMessage, deliver
from frontdesk.conversations.models import (
    Channel,
    Conversation,
    DeliveryStatus,
    Message,
    MessageKind,
)
from frontdesk.conversations.services import EmailIds, Upload
from frontdesk.core.audit import record_event
from frontdesk.core.errors import ServiceError
from frontdesk.core.html import html_to_text
from frontdesk.core.models import Via
from frontdesk.customers.services import get_or_create_customer_by_email
from frontdesk.mail import guards
from frontdesk.mail.headers import decode_words, raw_text
from frontdesk.mail.models import InboundMessage, InboundOutcome, Mailbox, Quarantine
from frontdesk.mail.parse import Bounce, ParsedMessage, Unparseable, parse_message
from frontdesk.mail.threading import find_thread, follow_merges, number_in_our_message_id

logger = logging.getLogger(__name__)

Outcome = Literal["created", "threaded", "duplicate", "quarantined", "ignored"]
MAX_SUBJECT = 500
MAX_SOURCE = 500


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
    at = at or timezone.now()
    source = source[:MAX_SOURCE]
    try:
        parsed = parse_message(raw)
    except Unparseable as error:
        return _quarantine(
            raw, key=raw_key(raw), reason=error.reason, mailbox=mailbox, source=source, at=at
        )
    return _ingest(
        raw, parsed, mailbox=mailbox, source=source, at=at, retrying=None, rate_limit=rate_limit
    )


def retry_quarantined(quarantine: Quarantine, *, at: datetime | None = None) -> IngestResult:
    """Try a quarantined mail again (after a fix, or once a flood is over).

    The rate limit does not apply to a retry: an admin chose to let it in.
    Taken in, the quarantine row is marked resolved in the same commit;
    refused again, it keeps its place with the new reason and one more retry.
    """
    at = at or timezone.now()
    quarantine = Quarantine.objects.get(pk=quarantine.pk)
    if quarantine.resolved_at is not None:
        return IngestResult("duplicate", None, "already resolved")
    raw = bytes(quarantine.raw)
    try:
        parsed = parse_message(raw)
    except Unparseable as error:
        return _quarantine(
            raw,
            key=quarantine.key,
            reason=error.reason,
            mailbox=quarantine.mailbox,
            source=quarantine.source,
            at=at,
            retrying=quarantine,
        )
    return _ingest(
        raw, parsed, mailbox=quarantine.mailbox, source=quarantine.source, at=at,
        retrying=quarantine, rate_limit=False,
    )  # fmt: skip


def raw_key(raw: bytes) -> str:
    """The key of a message that could not be parsed: its bytes, line endings normalised."""
    return "r:" + hashlib.sha256(raw.replace(b"\r\n", b"\n").strip()).hexdigest()


def is_automated_message(message: Message) -> bool:
    """True when `message` came by mail from a machine: never acknowledge it automatically."""
    return InboundMessage.objects.filter(message=message, automated=True).exists()


# --- the steps --------------------------------------------------------------------------------


def _ingest(
    raw: bytes,
    parsed: ParsedMessage,
    *,
    mailbox: Mailbox | None,
    source: str,
    at: datetime,
    retrying: Quarantine | None,
    rate_limit: bool,
) -> IngestResult:
    def quarantine(reason: str) -> IngestResult:
        return _quarantine(
            raw, key=parsed.idempotency_key, reason=reason, mailbox=mailbox, source=source,
            at=at, parsed=parsed, retrying=retrying,
        )  # fmt: skip

    screened = _already_seen(parsed.idempotency_key, retrying) or _screen(
        raw, parsed, mailbox=mailbox, source=source, at=at, retrying=retrying,
        quarantine=quarantine, rate_limit=rate_limit,
    )  # fmt: skip
    if screened is not None:
        return screened
    try:
        return _take_in(raw, parsed, mailbox=mailbox, source=source, at=at, retrying=retrying)
    except (ServiceError, DataError) as error:
        return quarantine(f"refused: {_one_line(error)}")
    except (DatabaseError, OSError):
        raise
    except Exception as error:
        # A fault of ours that this mail brings out: keep the mail and let the next one in,
        # rather than fail the same message on every poll.
        logger.exception("mail intake failed on %s", source)
        return quarantine(f"error: {_one_line(error)}")


def _already_seen(key: str, retrying: Quarantine | None) -> IngestResult | None:
    if InboundMessage.objects.filter(idempotency_key=key).exists():
        return IngestResult("duplicate", None, "already imported")
    if retrying is None and Quarantine.objects.filter(key=key).exists():
        return IngestResult("duplicate", None, "already in quarantine")
    return None


def _screen(
    raw: bytes,
    parsed: ParsedMessage,
    *,
    mailbox: Mailbox | None,
    source: str,
    at: datetime,
    retrying: Quarantine | None,
    quarantine: Callable[[str], IngestResult],
    rate_limit: bool,
) -> IngestResult | None:
    """The loop and noise guards; None lets the mail in."""
    sender = guards.sender_of(parsed)
    if guards.is_own_address(sender):
        return _record_only(
            raw, parsed, mailbox=mailbox, source=source, at=at, retrying=retrying,
            detail="from our own address",
        )  # fmt: skip
    if parsed.bounce is not None:
        return _bounce(raw, parsed, parsed.bounce, mailbox=mailbox, source=source, at=at,
                       retrying=retrying)  # fmt: skip
    if not sender:
        return quarantine("no sender address")
    if rate_limit and guards.over_rate_limit(sender, at=at):
        return quarantine(guards.RATE_LIMIT_REASON)
    return None


def _take_in(
    raw: bytes,
    parsed: ParsedMessage,
    *,
    mailbox: Mailbox | None,
    source: str,
    at: datetime,
    retrying: Quarantine | None,
) -> IngestResult:
    """Store the mail as a new conversation or a message in the one it continues."""
    key = parsed.idempotency_key
    sender = guards.sender_of(parsed)
    stored = _store_raw(raw)  # before the transaction: files are written outside row locks
    uploads, too_large = _uploads(parsed)
    text, html = _body(parsed, too_large)
    try:
        with transaction.atomic():
            record = _claim(key, parsed, sender=sender, mailbox=mailbox, source=source, at=at,
                            stored=stored, size=len(raw))  # fmt: skip
            customer, _created = get_or_create_customer_by_email(
                sender, name=parsed.from_.name if parsed.from_ else "", via=Via.EMAIL
            )
            thread = find_thread(parsed, sender=customer)
            delivered = deliver(
                IncomingMessage(
                    customer=customer,
                    channel=Channel.EMAIL,
                    subject=_subject(parsed),
                    text=text,
                    html=html,
                    attachments=uploads,
                    team=mailbox.default_team if mailbox is not None else None,
                    email=EmailIds(
                        message_id=parsed.message_id,
                        in_reply_to=parsed.in_reply_to,
                        references=parsed.references,
                    ),
                    via=Via.EMAIL,
                    at=at,
                ),
                to=thread.conversation if thread is not None else None,
            )
            record.outcome = (
                InboundOutcome.CREATED if delivered.created else InboundOutcome.THREADED
            )
            record.conversation = delivered.conversation
            record.message = delivered.message
            record.detail = _detail(parsed, thread.how if thread else "", delivered.follow_up_of)
            record.save(update_fields=["outcome", "conversation", "message", "detail"])
            _resolve(retrying, at)
    except IntegrityError as error:
        return _lost_race(key, error)
    outcome: Outcome = "created" if delivered.created else "threaded"
    return IngestResult(outcome, delivered.conversation.number, record.detail)


def _claim(
    key: str,
    parsed: ParsedMessage,
    *,
    sender: str,
    mailbox: Mailbox | None,
    source: str,
    at: datetime,
    stored: str,
    size: int,
    outcome: str = InboundOutcome.CREATED,
    detail: str = "",
) -> InboundMessage:
    """The idempotency row, first: a concurrent intake of the same mail waits here."""
    return InboundMessage.objects.create(
        idempotency_key=key,
        mailbox=mailbox,
        email_message_id=parsed.message_id[:998],
        sender=sender[:254],
        outcome=outcome,
        automated=guards.is_automated(parsed),
        raw=stored,
        size=size,
        detail=detail,
        source=source,
        received_at=at,
    )


def _record_only(
    raw: bytes,
    parsed: ParsedMessage,
    *,
    mailbox: Mailbox | None,
    source: str,
    at: datetime,
    retrying: Quarantine | None,
    detail: str,
    conversation_number: int | None = None,
) -> IngestResult:
    """Ignore the mail, but remember it (and keep it) so that it is never taken in again."""
    stored = _store_raw(raw)
    try:
        with transaction.atomic():
            _claim(parsed.idempotency_key, parsed, sender=guards.sender_of(parsed),
                   mailbox=mailbox, source=source, at=at, stored=stored, size=len(raw),
                   outcome=InboundOutcome.IGNORED, detail=detail)  # fmt: skip
            _resolve(retrying, at)
    except IntegrityError as error:
        return _lost_race(parsed.idempotency_key, error)
    return IngestResult("ignored", conversation_number, detail)


def _bounce(
    raw: bytes,
    parsed: ParsedMessage,
    bounce: Bounce,
    *,
    mailbox: Mailbox | None,
    source: str,
    at: datetime,
    retrying: Quarantine | None,
) -> IngestResult:
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
        return _record_only(
            raw, parsed, mailbox=mailbox, source=source, at=at, retrying=retrying,
            detail=f"bounce for a message we did not send: {summary}",
        )  # fmt: skip

    stored = _store_raw(raw)
    key = parsed.idempotency_key
    try:
        with transaction.atomic():
            record = _claim(key, parsed, sender=guards.sender_of(parsed), mailbox=mailbox,
                            source=source, at=at, stored=stored, size=len(raw),
                            outcome=InboundOutcome.THREADED)  # fmt: skip
            if original is not None and bounce.permanent and original.kind == MessageKind.REPLY:
                conversation_services.set_delivery_status(
                    original, status=DeliveryStatus.FAILED, error=summary, via=Via.EMAIL, at=at
                )
            if bounce.permanent:
                line = _("A reply could not be delivered to %(recipient)s: %(reason)s")
            else:
                line = _("A reply to %(recipient)s is delayed: %(reason)s")
            recipient = bounce.recipient or _("the customer")
            note = conversation_services.add_system_message(
                conversation, text=line % {"recipient": recipient, "reason": summary},
                via=Via.EMAIL, at=at,
            )  # fmt: skip
            record.conversation_id = note.conversation_id
            record.message = note
            record.detail = f"bounce: {summary}"
            record.save(update_fields=["conversation", "message", "detail"])
            _resolve(retrying, at)
    except IntegrityError as error:
        return _lost_race(key, error)
    return IngestResult("threaded", note.conversation.number, record.detail)


def _bounce_summary(bounce: Bounce) -> str:
    """The server's words (they usually carry the status code), else the status."""
    diagnostic = " ".join(bounce.diagnostic.split())
    if bounce.status and bounce.status not in diagnostic:
        diagnostic = f"{bounce.status} {diagnostic}".strip()
    return diagnostic[:1000] or bounce.action or "bounce"


def _quarantine(
    raw: bytes,
    *,
    key: str,
    reason: str,
    mailbox: Mailbox | None,
    source: str,
    at: datetime,
    parsed: ParsedMessage | None = None,
    retrying: Quarantine | None = None,
) -> IngestResult:
    sender, subject = _peek(raw, parsed)
    with transaction.atomic():
        if retrying is not None:
            row = Quarantine.objects.select_for_update().get(pk=retrying.pk)
            row.reason = reason
            row.retries += 1
            row.save(update_fields=["reason", "retries"])
        else:
            try:
                with transaction.atomic():
                    row = Quarantine.objects.create(
                        key=key, mailbox=mailbox, raw=raw, size=len(raw), reason=reason,
                        sender=sender, subject=subject, source=source, created_at=at,
                    )  # fmt: skip
            except IntegrityError:
                return IngestResult("duplicate", None, "already in quarantine")
        record_event(
            row, action="mail.quarantined", actor=None, via=Via.EMAIL, at=at,
            data={"reason": reason, "source": source, "retries": row.retries},
        )  # fmt: skip
    logger.info("mail quarantined (%s) from %s: %s", source, sender or "?", reason)
    return IngestResult("quarantined", None, reason)


def _resolve(retrying: Quarantine | None, at: datetime) -> None:
    if retrying is None:
        return
    Quarantine.objects.filter(pk=retrying.pk).update(resolved_at=at, retries=retrying.retries + 1)
    record_event(retrying, action="mail.quarantine_resolved", actor=None, via=Via.EMAIL, at=at)


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
            uploads.append(Upload(filename=name, content=attachment.content))
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
