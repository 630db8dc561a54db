"""Mail a rule sends: to the customer (through the conversation's mailbox), or to an agent.

To the customer the mail threads like a reply: "Re: <subject> [#N]" and a Message-ID the
mail app recognises as ours, so an answer lands in the same conversation. It says it is
automatic (Auto-Submitted), so well-behaved auto-responders do not answer it. With no
mailbox able to send, it goes through the site's mail settings, as agents' notices do.
Every mail sent, or refused, is an audit Event on the conversation naming the rule.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.policy import default as default_policy
from email.utils import format_datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.models import User
from frontdesk.conversations.models import Conversation
from frontdesk.core.audit import record_event
from frontdesk.core.models import Via
from frontdesk.mail import connection, outbound
from frontdesk.mail.models import Mailbox

logger = logging.getLogger(__name__)

EMAIL_SENT = "automation.email_sent"
EMAIL_FAILED = "automation.email_failed"
CUSTOMER = "customer"
SEND_TIMEOUT = 30.0


class NotSent(Exception):
    """The mail could not be sent; the message says why."""


def send_rule_email(
    conversation_id: int,
    *,
    to: str,
    subject: str,
    body: str,
    cause: Mapping[str, Any],
    language: str,
) -> str:
    """Send one rule's mail; "sent", "failed" or "gone" (the conversation no longer exists)."""
    conversation = (
        Conversation.objects.select_related("customer").filter(pk=conversation_id).first()
    )
    if conversation is None:
        return "gone"
    subject = " ".join(subject.split()) or outbound.reply_subject(
        conversation.subject, conversation.number
    )
    try:
        address = (
            _mail_customer(conversation, subject, body, language)
            if to == CUSTOMER
            else _mail_agent(int(to), subject, body)
        )
    except NotSent as error:
        record_event(conversation, action=EMAIL_FAILED, actor=None, via=Via.SYSTEM,
                     data={"cause": dict(cause), "to": to, "subject": subject,
                           "error": str(error)})  # fmt: skip
        return "failed"
    record_event(conversation, action=EMAIL_SENT, actor=None, via=Via.SYSTEM,
                 data={"cause": dict(cause), "to": address, "subject": subject,
                       "language": language})  # fmt: skip
    return "sent"


def _mail_customer(conversation: Conversation, subject: str, body: str, language: str) -> str:
    address = outbound.recipient(conversation)
    if not address:
        raise NotSent(_("The customer has no email address."))
    mailbox = outbound.sending_mailbox(conversation)
    if mailbox is None:
        _send_by_site(address, subject, body, language=language)
        return address
    mail = MimeMessage(policy=default_policy)
    try:
        mail["From"] = Address(display_name=mailbox.display_name or mailbox.name,
                               addr_spec=mailbox.email)  # fmt: skip
        mail["To"] = Address(display_name=" ".join(conversation.customer.name.split()),
                             addr_spec=address)  # fmt: skip
    except (ValueError, IndexError) as error:
        raise NotSent(str(error)) from None
    mail["Subject"] = subject
    mail["Date"] = format_datetime(timezone.localtime())
    mail["Message-ID"] = outbound.new_message_id(conversation.number, mailbox)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(body)
    if language:
        mail["Content-Language"] = language
    _transmit(mail, mailbox, address)
    return address


def _transmit(mail: MimeMessage, mailbox: Mailbox, address: str) -> None:
    try:
        client = connection.open_smtp(mailbox, timeout=SEND_TIMEOUT)
    except connection.SmtpUnavailable as error:
        raise NotSent(str(error) or _("SMTP is not configured.")) from None
    try:
        client.send_message(mail, from_addr=mailbox.email, to_addrs=[address])
    except (OSError, smtplib.SMTPException) as error:
        raise NotSent(str(error) or type(error).__name__) from None
    finally:
        connection.close_smtp(client)


def _mail_agent(user_id: int, subject: str, body: str) -> str:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.is_agent_staff or not user.email:
        raise NotSent(_("The agent cannot be mailed."))
    _send_by_site(user.email, subject, body, language="")
    return user.email


def _send_by_site(address: str, subject: str, body: str, *, language: str) -> None:
    headers = {"Auto-Submitted": "auto-generated"}
    if language:
        headers["Content-Language"] = language
    mail = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[address],
        headers=headers,
    )  # fmt: skip
    try:
        mail.send()
    except OSError as error:
        raise NotSent(str(error) or type(error).__name__) from None
