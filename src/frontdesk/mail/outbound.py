"""Mail we send to customers through a mailbox's SMTP server: replies and acknowledgements.

A reply is already stored when it is sent; sending only moves its delivery
status (queued → sent, or failed with the reason), so a failed send never costs
the text. Its Message-ID is fixed when it is queued, before any attempt, so a
bounce or the customer's answer finds it even when the send failed later.

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
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime
from typing import Literal

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q
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
    """One attempt at sending a queued reply. "retry" leaves it queued for the caller to retry;
    the last attempt marks it failed instead. A reply not queued (sent meanwhile, failed by
    a bounce) is skipped, so running this twice does not send twice."""
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
    try:
        if mailbox is None:
            raise _Permanent(_("No mailbox can send this reply."))
        address = recipient(conversation)
        if not address:
            raise _Permanent(_("The customer has no email address."))
        if not message.email_message_id:
            message = conversation_services.set_delivery_status(
                message,
                status=DeliveryStatus.QUEUED,
                email_message_id=new_message_id(conversation.number, mailbox),
            )
        mail = build_reply(message, conversation=conversation, mailbox=mailbox, to=address, at=at)
        _transmit(mail, mailbox=mailbox, to=address)
    except _Permanent as error:
        return _failed(message, str(error))
    except (_Temporary, OSError) as error:
        if last_attempt:
            return _failed(message, str(error))
        logger.warning("sending reply %s failed, will retry: %s", message_id, error)
        return SendResult("retry", str(error))
    conversation_services.set_delivery_status(message, status=DeliveryStatus.SENT)
    return SendResult("sent")


def _failed(message: Message, error: str) -> SendResult:
    error = error.strip() or _("Sending failed.")
    logger.warning("sending reply %s failed for good: %s", message.pk, error)
    conversation_services.set_delivery_status(message, status=DeliveryStatus.FAILED, error=error)
    return SendResult("failed", error)


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
    html = message.html or escape(text).replace("\n", "<br>\n")
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
                    "signature": mailbox.signature.strip() or mailbox.display_name or mailbox.name,
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
