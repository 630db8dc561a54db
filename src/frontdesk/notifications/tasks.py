"""Email notices to agents: a conversation given to them, a customer writing on theirs.

Each task reloads its rows when it runs, so a notice that stopped being true
meanwhile (the conversation went to someone else, the person was deactivated
or turned the notice off in their settings) is not sent. Mail goes out in the
recipient's language. A mail server that refuses or is down is logged and the
notice dropped: the change it reports is long committed.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django_tasks import task

from frontdesk.accounts.models import User
from frontdesk.conversations.models import Conversation, Message, MessageKind

logger = logging.getLogger(__name__)

# Enough of the customer's words to decide whether to open the conversation now.
EXCERPT_CHARS = 500


@task()
def notify_assignment(conversation_id: int, assignee_id: int, actor_id: int | None) -> bool:
    """Tell `assignee_id` that `actor_id` (None: the system) gave them the conversation."""
    conversation = (
        Conversation.objects.select_related("assignee", "customer", "team")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None or conversation.assignee_id != assignee_id:
        return False
    assignee = conversation.assignee
    if assignee is None or not _wants(assignee, assignee.notify_on_assignment):
        return False
    actor = User.objects.filter(pk=actor_id).first() if actor_id is not None else None
    latest = (
        Message.objects.filter(conversation=conversation, kind=MessageKind.CUSTOMER)
        .order_by("-created_at", "-id")
        .first()
    )
    with translation.override(_language(assignee)):
        subject = _("[#%(number)s] Assigned to you: %(subject)s") % _subject_values(conversation)
        body = render_to_string(
            "notifications/assigned.txt",
            {
                **_common(conversation),
                "actor": actor.display_name if actor is not None else "",
                "excerpt": _excerpt(latest.text) if latest is not None else "",
            },
        )
    return _send(assignee, subject, body)


@task()
def notify_customer_message(message_id: int, actor_id: int | None = None) -> bool:
    """Tell the conversation's assignee what the customer just wrote."""
    message = (
        Message.objects.select_related(
            "author_customer",
            "conversation__assignee",
            "conversation__customer",
            "conversation__team",
        )
        .filter(pk=message_id, kind=MessageKind.CUSTOMER)
        .first()
    )
    if message is None:
        return False
    conversation = message.conversation
    assignee = conversation.assignee
    if assignee is None or not _wants(assignee, assignee.notify_on_customer_reply):
        return False
    if assignee.pk == actor_id:
        # Reassigned since to whoever typed the message in: they know what it says.
        return False
    with translation.override(_language(assignee)):
        subject = _("[#%(number)s] New customer message: %(subject)s") % _subject_values(
            conversation
        )
        body = render_to_string(
            "notifications/customer_message.txt",
            {
                **_common(conversation),
                "customer": str(message.author_customer or conversation.customer),
                "excerpt": _excerpt(message.text),
            },
        )
    return _send(assignee, subject, body)


def _wants(user: User, preference: bool) -> bool:
    return preference and user.is_active and user.is_agent_staff and bool(user.email)


def _language(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


def _subject_values(conversation: Conversation) -> dict[str, Any]:
    # A header may not hold line breaks; collapse any whitespace run to one space.
    return {"number": conversation.number, "subject": " ".join(conversation.subject.split())}


def _excerpt(text: str) -> str:
    return Truncator(text.strip()).chars(EXCERPT_CHARS)


def _common(conversation: Conversation) -> dict[str, Any]:
    base = settings.BASE_URL
    return {
        "number": conversation.number,
        "subject": conversation.subject,
        "customer": str(conversation.customer),
        "team": str(conversation.team) if conversation.team is not None else "",
        "status": conversation.get_status_display(),
        "priority": conversation.get_priority_display(),
        "url": base + reverse("conversations:detail", kwargs={"number": conversation.number}),
        "settings_url": base + reverse("accounts:settings"),
    }


def _send(user: User, subject: str, body: str) -> bool:
    mail = EmailMessage(subject=subject, body=body, to=[user.email])
    try:
        mail.send()
    except OSError:
        # smtplib's errors are OSErrors too; the notice is lost, the change is not.
        logger.exception("notification mail to user %s failed", user.pk)
        return False
    return True
