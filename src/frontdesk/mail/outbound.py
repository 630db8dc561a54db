"""Mail we send to customers through a mailbox's SMTP server: replies and acknowledgements.

A reply is already stored when it is sent; sending only moves its delivery
status (queued → sending → sent, back to queued for a retry, or failed with the
reason), so a failed send never costs the text. Its Message-ID is fixed when it
is queued, before any attempt, so a bounce or the customer's answer finds it
even when the send failed later. "sending" is one worker's claim on one
attempt, taken with a conditional UPDATE so two workers never both send; a
periodic sweep (`sweep_stuck_replies`) hands back replies whose worker or task
was lost.

The mailbox's signature is added to the mail, not to the stored reply: it is
a property of sending, and the thread shows what the agent wrote.

Which mailbox sends: the one the conversation's latest mail came in through,
so the customer sees the address they wrote to; else the first active mailbox
with SMTP configured.

Failures are sorted in two: an SMTP server's 5xx answer (unknown recipient,
message refused) will not change by trying again and fails the reply at once;
anything else (server down, a 4xx, a dropped connection, sign-in trouble an
admin may fix) is worth a retry, which the task schedules.
"""

from __future__ import annotations

import logging
import re
import secrets
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime
from typing import Literal

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from frontdesk.conversations import services as conversation_services
from frontdesk.conversations.models import (
    Channel,
    Conversation,
    DeliveryStatus,
    Message,
    MessageKind,
)
from frontdesk.core.audit import record_event
from frontdesk.core.models import Event, Via
from frontdesk.customers.models import Customer, IdentityKind
from frontdesk.mail import connection, guards
from frontdesk.mail.models import InboundMessage, InboundOutcome, Mailbox

logger = logging.getLogger(__name__)

SEND_TIMEOUT = 30.0
# An attempt is a handful of SMTP steps, each given up after SEND_TIMEOUT without progress;
# a claim this old belongs to a worker that died. Well above any live attempt (it also covers
# uploading a mail of the largest size at ~50 kB/s), so a slow one is not sent twice.
STALE_SENDING = timedelta(minutes=15)
# Added to the longest retry delay before a queued reply counts as lost (a busy queue).
QUEUE_MARGIN = timedelta(minutes=15)
SWEEP_EVERY = timedelta(minutes=5)
SWEEP_LIMIT = 100
# The third interrupted attempt fails the reply: whatever kills the worker will do so again.
MAX_INTERRUPTIONS = 3
INTERRUPTED = "interrupted"
# Mail clients keep References short; the nearest ids are the ones that thread.
MAX_REFERENCES = 20
ACKNOWLEDGED = "mail.acknowledged"

# "Re:", "RE[2]:", "Fwd:", "AW:", "Odp:" ... at the start, any number of them.
_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|odp|tr|rif)(?:\[\d+\])?\s*:\s*)+", re.I)
_MESSAGE_ID = re.compile(r"^<[!-;=?-~]+@[!-;=?-~]+>$")

SendStatus = Literal["sent", "retry", "failed", "skipped"]


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    error: str = ""


class _Temporary(Exception):
    """Worth trying again later."""


class _Permanent(Exception):
    """Trying again will not help."""


# --- what every outgoing mail shares ---------------------------------------------------------


def reply_subject(subject: str, number: int) -> str:
    """ "Re: <subject> [#N]", with no stacked "Re:" or a second tag for this conversation."""
    subject = " ".join(subject.split()).replace(f"[#{number}]", " ")
    subject = " ".join(_PREFIX.sub("", subject).split())
    return f"Re: {subject} [#{number}]" if subject else f"Re: [#{number}]"


def new_message_id(number: int, mailbox: Mailbox) -> str:
    """An id that `mail.threading` recognises as ours, naming the conversation."""
    domain = mailbox.email.rpartition("@")[2] or "localhost"
    return f"<fd.{number}.{secrets.token_hex(12)}@{domain}>"


def sending_mailbox(conversation: Conversation) -> Mailbox | None:
    latest = (
        InboundMessage.objects.filter(message__conversation=conversation, mailbox__isnull=False)
        .select_related("mailbox")
        .order_by("-received_at", "-id")
        .first()
    )
    if latest is not None and latest.mailbox is not None and _can_send(latest.mailbox):
        return latest.mailbox
    return Mailbox.objects.filter(active=True).exclude(smtp_host="").order_by("name", "id").first()


def _can_send(mailbox: Mailbox) -> bool:
    return mailbox.active and mailbox.smtp_configured


def recipient(conversation: Conversation) -> str:
    """Where the customer last wrote from, if that is one of their addresses; else their first."""
    customer = conversation.customer
    addresses = {
        value.lower()
        for value in customer.identities.filter(kind=IdentityKind.EMAIL).values_list(
            "value", flat=True
        )
    }
    latest = (
        InboundMessage.objects.filter(
            message__conversation=conversation, message__author_customer=customer
        )
        .order_by("-received_at", "-id")
        .values_list("sender", flat=True)
        .first()
    )
    if latest and latest.lower() in addresses:
        return latest
    return customer.primary_email


def _mailbox_address(mailbox: Mailbox) -> Address:
    return Address(display_name=mailbox.display_name or mailbox.name, addr_spec=mailbox.email)


def _customer_address(customer: Customer, address: str) -> Address:
    try:
        return Address(display_name=" ".join(customer.name.split()), addr_spec=address)
    except (ValueError, IndexError) as error:
        raise _Permanent(_("%(address)s is not a valid address.") % {"address": address}) from error


def _valid_ids(ids: list[str]) -> list[str]:
    """Ids fit for a header: a hostile or broken one must not break the whole mail."""
    kept: list[str] = []
    for message_id in ids:
        if _MESSAGE_ID.match(message_id) and message_id not in kept:
            kept.append(message_id)
    return kept[-MAX_REFERENCES:]


def _new_mail(
    *, mailbox: Mailbox, to: Address, subject: str, message_id: str, at: datetime
) -> EmailMessage:
    mail = EmailMessage(policy=default_policy)
    mail["From"] = _mailbox_address(mailbox)
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(timezone.localtime(at))
    mail["Message-ID"] = message_id
    return mail


def _thread_headers(mail: EmailMessage, *, parent_id: str, references: list[str]) -> None:
    if parent_id and _valid_ids([parent_id]):
        mail["In-Reply-To"] = parent_id
    chain = _valid_ids([*references, parent_id] if parent_id else references)
    if chain:
        mail["References"] = " ".join(chain)


def _transmit(mail: EmailMessage, *, mailbox: Mailbox, to: str) -> None:
    """Hand `mail` to the mailbox's SMTP server; raises _Temporary or _Permanent."""
    try:
        client = connection.open_smtp(mailbox, timeout=SEND_TIMEOUT)
    except connection.SmtpUnavailable as error:
        raise _Temporary(str(error) or _("SMTP is not configured.")) from None
    try:
        client.send_message(mail, from_addr=mailbox.email, to_addrs=[to])
    except smtplib.SMTPRecipientsRefused as error:
        answers = list(error.recipients.values())
        text = "; ".join(connection.smtp_reply(code, answer) for code, answer in answers)
        if all(code >= 500 for code, _answer in answers):
            raise _Permanent(text) from None
        raise _Temporary(text) from None
    except smtplib.SMTPResponseException as error:
        text = connection.smtp_reply(error.smtp_code, error.smtp_error)
        if error.smtp_code >= 500:
            raise _Permanent(text) from None
        raise _Temporary(text) from None
    except (OSError, smtplib.SMTPException) as error:
        raise _Temporary(str(error) or type(error).__name__) from None
    finally:
        connection.close_smtp(client)


# --- replies ---------------------------------------------------------------------------------


def should_email(message: Message) -> bool:
    """A reply on an email conversation goes out by mail; other channels keep theirs."""
    return message.kind == MessageKind.REPLY and message.conversation.channel == Channel.EMAIL


def queue_reply(message_id: int) -> bool:
    """Mark a new reply queued under the Message-ID it will be sent with; True to send it.

    With no mailbox able to send, the reply is marked failed at once, saying so.
    """
    message = (
        Message.objects.select_related("conversation")
        .filter(pk=message_id, kind=MessageKind.REPLY)
        .first()
    )
    if message is None or not should_email(message) or message.delivery_status:
        return False
    mailbox = sending_mailbox(message.conversation)
    if mailbox is None:
        conversation_services.set_delivery_status(
            message, status=DeliveryStatus.FAILED, error=_("No mailbox can send this reply.")
        )
        return False
    conversation_services.set_delivery_status(
        message,
        status=DeliveryStatus.QUEUED,
        email_message_id=new_message_id(message.conversation.number, mailbox),
    )
    return True


def send_reply(message_id: int, *, last_attempt: bool, at: datetime | None = None) -> SendResult:
    """One attempt at sending a queued reply, under a claim only one worker can win.

    The worker first moves the reply queued → sending with a conditional UPDATE;
    a worker that loses (another one claimed it, it was sent meanwhile, a bounce
    failed it) sends nothing and reports "skipped", so running this twice, even
    side by side, sends once. After the attempt the claim ends in sent, queued
    again ("retry", for the caller to schedule) or failed; the last attempt
    fails instead of retrying.
    """
    at = at or timezone.now()
    message = (
        Message.objects.select_related("conversation__customer")
        .filter(pk=message_id, kind=MessageKind.REPLY)
        .first()
    )
    if message is None or message.delivery_status != DeliveryStatus.QUEUED:
        return SendResult("skipped")
    conversation = message.conversation
    mailbox = sending_mailbox(conversation)
    claimed_at = _claim(message, mailbox)
    if claimed_at is None:
        return SendResult("skipped")
    try:
        if mailbox is None:
            raise _Permanent(_("No mailbox can send this reply."))
        address = recipient(conversation)
        if not address:
            raise _Permanent(_("The customer has no email address."))
        mail = build_reply(message, conversation=conversation, mailbox=mailbox, to=address, at=at)
        _transmit(mail, mailbox=mailbox, to=address)
    except _Permanent as error:
        return _finish_failed(message, claimed_at, str(error))
    except (_Temporary, OSError) as error:
        if last_attempt:
            return _finish_failed(message, claimed_at, str(error))
        logger.warning("sending reply %s failed, will retry: %s", message_id, error)
        retry = SendResult("retry", str(error))
        return _finish(message, claimed_at, DeliveryStatus.QUEUED, retry, reason=str(error))
    return _finish(message, claimed_at, DeliveryStatus.SENT, SendResult("sent"))


def _claim(message: Message, mailbox: Mailbox | None) -> datetime | None:
    """Take the queued reply for this attempt; the claim's time, or None when another has it.

    A reply queued before ids were fixed at queueing gets its Message-ID with the claim.
    """
    claimed_at = timezone.now()
    new_id = None
    if not message.email_message_id and mailbox is not None:
        new_id = new_message_id(message.conversation.number, mailbox)
    claimed = conversation_services.claim_delivery(
        message,
        from_status=DeliveryStatus.QUEUED,
        to_status=DeliveryStatus.SENDING,
        email_message_id=new_id,
        at=claimed_at,
    )
    return claimed_at if claimed else None


def _finish(
    message: Message, claimed_at: datetime, status: str, result: SendResult, *, reason: str = ""
) -> SendResult:
    """End this worker's claim with `status`; "skipped" when the claim was taken back."""
    finished = conversation_services.claim_delivery(
        message,
        from_status=DeliveryStatus.SENDING,
        to_status=status,
        claimed_at=claimed_at,
        error=result.error if status == DeliveryStatus.FAILED else "",
        reason=reason,
    )
    if finished:
        return result
    # The sweep judged this worker dead and requeued the reply; the newer attempt owns it now.
    logger.warning("reply %s: claim taken back during the attempt (%s)", message.pk, result.status)
    return SendResult("skipped", result.error)


def _finish_failed(message: Message, claimed_at: datetime, error: str) -> SendResult:
    error = error.strip() or _("Sending failed.")
    logger.warning("sending reply %s failed for good: %s", message.pk, error)
    return _finish(message, claimed_at, DeliveryStatus.FAILED, SendResult("failed", error))


# --- replies that got stuck ------------------------------------------------------------------


@dataclass(frozen=True)
class Swept:
    """What one sweep did: replies to enqueue again, and replies it gave up on."""

    requeued: list[int]
    failed: list[int]


def lost_queue_after() -> timedelta:
    """How long a reply may stay queued before its task counts as lost.

    A retry waits at most FRONTDESK_MAIL_RETRY_DELAY_S * 2**(FRONTDESK_MAIL_SEND_RETRIES-1)
    seconds in queued (the delay before the last retry); QUEUE_MARGIN on top covers a
    busy task queue.
    """
    retries = max(0, settings.MAIL_SEND_RETRIES)
    longest = max(0, settings.MAIL_RETRY_DELAY_S) * 2 ** (retries - 1) if retries else 0
    return timedelta(seconds=longest) + QUEUE_MARGIN


def sweep_stuck_replies(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> Swept:
    """Find replies nobody will send any more and hand them back to the sending task.

    Stuck means: in sending for longer than STALE_SENDING (the worker died during
    its attempt; an alive one ends an attempt within a few SEND_TIMEOUTs), or in
    queued for longer than `lost_queue_after()` (the task was lost). A stale
    claim is taken back to queued first, fenced on the claim's time, so a claim
    taken again meanwhile is left alone. The caller enqueues `requeued`; the
    atomic claim in `send_reply` makes a duplicate enqueue harmless.

    Honest limit, at-least-once: a worker killed after the SMTP server accepted
    the mail but before it marked the reply sent leaves it in sending, and the
    sweep sends it once more. The copy carries the same Message-ID, so mail
    clients show it once. A reply interrupted MAX_INTERRUPTIONS times (say, an
    attachment that kills the worker) is failed instead of retried forever.
    Oldest first, at most `limit` a run.
    """
    now = now or timezone.now()
    stale = Q(delivery_status=DeliveryStatus.SENDING, delivery_updated_at__lt=now - STALE_SENDING)
    # No time at all: queued before the time was recorded, so certainly not in flight now.
    lost = Q(delivery_status=DeliveryStatus.QUEUED) & (
        Q(delivery_updated_at__lt=now - lost_queue_after()) | Q(delivery_updated_at__isnull=True)
    )
    stuck = (
        Message.objects.filter(kind=MessageKind.REPLY)
        .filter(stale | lost)
        .order_by(F("delivery_updated_at").asc(nulls_first=True), "id")
        .only("id", "conversation", "delivery_status", "delivery_updated_at")[: max(0, limit)]
    )
    requeued: list[int] = []
    failed: list[int] = []
    for message in stuck:
        if message.delivery_status == DeliveryStatus.QUEUED:
            requeued.append(message.pk)
        elif _interruptions(message) + 1 >= MAX_INTERRUPTIONS:
            if _give_up(message, now=now):
                failed.append(message.pk)
        elif _take_back(message, now=now):
            requeued.append(message.pk)
    if requeued or failed:
        logger.warning("stuck replies: requeued %s, failed %s", requeued, failed)
    return Swept(requeued=requeued, failed=failed)


def _interruptions(message: Message) -> int:
    """How often the sweep already took back this reply's claim."""
    return Event.objects.filter(
        object_type="conversation",
        object_id=message.conversation_id,
        action="message.delivery_changed",
        data__message_id=message.pk,
        data__reason=INTERRUPTED,
    ).count()


def _take_back(message: Message, *, now: datetime) -> bool:
    return conversation_services.claim_delivery(
        message,
        from_status=DeliveryStatus.SENDING,
        to_status=DeliveryStatus.QUEUED,
        claimed_at=message.delivery_updated_at,
        reason=INTERRUPTED,
        at=now,
    )


def _give_up(message: Message, *, now: datetime) -> bool:
    error = _(
        "Sending was interrupted %(count)d times. The customer may have received this "
        "reply; send it again if not."
    ) % {"count": MAX_INTERRUPTIONS}
    return conversation_services.claim_delivery(
        message,
        from_status=DeliveryStatus.SENDING,
        to_status=DeliveryStatus.FAILED,
        claimed_at=message.delivery_updated_at,
        error=error,
        reason=INTERRUPTED,
        at=now,
    )


def build_reply(
    message: Message, *, conversation: Conversation, mailbox: Mailbox, to: str, at: datetime
) -> EmailMessage:
    mail = _new_mail(
        mailbox=mailbox,
        to=_customer_address(conversation.customer, to),
        subject=reply_subject(conversation.subject, conversation.number),
        message_id=message.email_message_id,
        at=at,
    )
    parent = (
        Message.objects.filter(conversation=conversation, kind=MessageKind.CUSTOMER)
        .exclude(email_message_id="")
        .filter(Q(created_at__lt=message.created_at) | Q(created_at=message.created_at,
                                                         id__lt=message.pk))
        .order_by("-created_at", "-id")
        .only("email_message_id", "email_references")
        .first()
    )  # fmt: skip
    if parent is not None:
        _thread_headers(
            mail,
            parent_id=parent.email_message_id,
            references=parent.email_references.split(),
        )
    text = message.text
    html = message.html or _text_as_html(text)
    signature = _signature(mailbox)
    if signature:
        text = f"{text.rstrip()}\n\n-- \n{signature}\n"
        html = f'{html}\n<div class="signature">-- <br>\n{_text_as_html(signature)}</div>'
    mail.set_content(text)
    mail.add_alternative(f"<!DOCTYPE html>\n<html><body>\n{html}\n</body></html>\n", subtype="html")
    for attachment in message.attachments.all():
        with default_storage.open(str(attachment.file.name), "rb") as handle:
            content = handle.read()
        maintype, _slash, subtype = (attachment.content_type or "").partition("/")
        if not maintype or not subtype:
            maintype, subtype = "application", "octet-stream"
        mail.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return mail


def _signature(mailbox: Mailbox) -> str:
    """The mailbox's signature as sent: added when mailing, never stored with the reply."""
    return "\n".join(line.rstrip() for line in mailbox.signature.strip().splitlines())


def _text_as_html(text: str) -> str:
    return escape(text).replace("\n", "<br>\n")


# --- acknowledgements ------------------------------------------------------------------------


def acknowledgement_language(customer: Customer) -> str:
    """The customer's language when we speak it, else the site's."""
    code = customer.language.strip().lower().replace("_", "-").split("-")[0]
    spoken = {language for language, _name in settings.LANGUAGES}
    return code if code in spoken else settings.LANGUAGE_CODE


def send_acknowledgement(conversation_id: int, *, at: datetime | None = None) -> str:
    """Tell the customer their new conversation arrived, when its mailbox says to.

    Returns what happened, for the task's result. Never for mail a machine
    sent or mail from one of our own addresses (that is how loops start), and
    only once per conversation.
    """
    at = at or timezone.now()
    record = (
        InboundMessage.objects.select_related("mailbox", "conversation__customer")
        .filter(conversation_id=conversation_id, outcome=InboundOutcome.CREATED)
        .order_by("id")
        .first()
    )
    skip = _why_not_acknowledge(record)
    if skip or record is None or record.mailbox is None or record.conversation is None:
        return skip or "not from a mailbox"
    mailbox, conversation = record.mailbox, record.conversation
    language = acknowledgement_language(conversation.customer)
    message_id = new_message_id(conversation.number, mailbox)
    try:
        mail = _new_mail(
            mailbox=mailbox,
            to=_customer_address(conversation.customer, record.sender),
            subject=reply_subject(conversation.subject, conversation.number),
            message_id=message_id,
            at=at,
        )
        _thread_headers(mail, parent_id=record.email_message_id, references=[])
        # A machine's answer to this would start a loop: say what it is, and ask for none.
        mail["Auto-Submitted"] = "auto-replied"
        mail["X-Auto-Response-Suppress"] = "All"
        with translation.override(language):
            body = render_to_string(
                "mail/acknowledgement.txt",
                {
                    "name": conversation.customer.name,
                    "number": conversation.number,
                    "subject": conversation.subject,
                    "signature": _signature(mailbox) or mailbox.display_name or mailbox.name,
                },
            )
        mail.set_content(body)
        # After set_content, which replaces every Content-* header.
        mail["Content-Language"] = language
        _transmit(mail, mailbox=mailbox, to=record.sender)
    except (_Temporary, _Permanent) as error:
        # The conversation is safe; an acknowledgement is a courtesy, not worth a retry storm.
        logger.warning("acknowledgement for conversation %s failed: %s", conversation.pk, error)
        return "failed"
    record_event(
        conversation, action=ACKNOWLEDGED, actor=None, via=Via.EMAIL, at=at,
        data={"to": record.sender, "message_id": message_id, "language": language},
    )  # fmt: skip
    return "sent"


def _why_not_acknowledge(record: InboundMessage | None) -> str:
    """Why the mail behind a new conversation gets no acknowledgement; "" when it gets one."""
    if record is None or record.conversation is None or record.mailbox is None:
        return "not from a mailbox"
    reasons = (
        (not record.mailbox.auto_acknowledge, "off"),
        (record.automated, "automated"),
        (not record.sender or guards.is_own_address(record.sender), "own address"),
        (not _can_send(record.mailbox), "mailbox cannot send"),
    )
    for applies, reason in reasons:
        if applies:
            return reason
    acknowledged = Event.objects.filter(
        object_type="conversation", object_id=record.conversation.pk, action=ACKNOWLEDGED
    )
    return "already acknowledged" if acknowledged.exists() else ""
