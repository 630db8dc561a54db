"""Notices to agents, under the bell and by email.

- assigned: a conversation given to them (bell always; mail if notify_on_assignment);
- customer_replied: a customer writing on theirs (bell always; mail if notify_on_customer_reply);
- new_in_team: a conversation arriving in one of their teams (bell and mail, only
  for those who turned notify_on_new_in_team on);
- mentioned: a colleague's note naming them (bell always; mail if notify_on_mention).

Each task reloads its rows when it runs, so a notice that stopped being true
meanwhile (the conversation went to someone else, the person was deactivated
or turned the notice off in their settings) is not given. One task serves a
whole team: its members are read in one query and their notifications written
in one insert. Mail goes out in the recipient's language. A mail server that
refuses or is down is logged and that mail dropped: the change it reports is
long committed, and the bell still has it.
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

from frontdesk.accounts.mentions import handles_in, users_for_handles
from frontdesk.accounts.models import STAFF_ROLES, User
from frontdesk.conversations.models import Conversation, Message, MessageKind
from frontdesk.conversations.permissions import can_see
from frontdesk.notifications.models import NotificationKind
from frontdesk.notifications.services import add_notifications

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
    if assignee is None:
        return False
    actor = _user(actor_id)
    latest = _latest_customer_message(conversation)
    told = add_notifications(
        conversation,
        recipients=[assignee],
        kind=NotificationKind.ASSIGNED,
        actor=actor,
        excerpt=latest.text if latest is not None else "",
    )
    if not told or not _wants_mail(assignee, assignee.notify_on_assignment):
        return bool(told)
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
    if assignee is None or assignee.pk == actor_id:
        # Nobody holds it, or it was reassigned since to whoever typed the
        # message in: they know what it says.
        return False
    told = add_notifications(
        conversation,
        recipients=[assignee],
        kind=NotificationKind.CUSTOMER_REPLIED,
        actor=None,
        message=message,
        excerpt=message.text,
    )
    if not told or not _wants_mail(assignee, assignee.notify_on_customer_reply):
        return bool(told)
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


@task()
def notify_new_in_team(
    conversation_id: int, team_id: int, actor_id: int | None, opened: bool = False
) -> int:
    """Tell the members of `team_id` who asked for it that the conversation arrived there,
    `opened` in it or moved into it.

    Not the one who brought it, nor its assignee (told of the assignment
    instead). Returns how many were told.
    """
    conversation = (
        Conversation.objects.select_related("customer", "team").filter(pk=conversation_id).first()
    )
    if conversation is None or conversation.team_id != team_id:
        return 0
    members = list(
        User.objects.filter(
            memberships__team_id=team_id,
            notify_on_new_in_team=True,
            is_active=True,
            role__in=sorted(STAFF_ROLES),
        ).exclude(pk__in=[pk for pk in (actor_id, conversation.assignee_id) if pk is not None])
    )
    if not members:
        return 0
    # Tied to the first message when it opened, so a second run tells nobody twice.
    first = _first_message(conversation) if opened else None
    latest = _latest_customer_message(conversation)
    told = add_notifications(
        conversation,
        recipients=members,
        kind=NotificationKind.NEW_IN_TEAM,
        actor=_user(actor_id),
        message=first,
        excerpt=latest.text if latest is not None else "",
    )
    for member in told:
        if not _wants_mail(member, True):
            continue
        with translation.override(_language(member)):
            subject = _("[#%(number)s] New in %(team)s: %(subject)s") % {
                **_subject_values(conversation),
                "team": conversation.team,
            }
            body = render_to_string(
                "notifications/new_in_team.txt",
                {**_common(conversation), "excerpt": _excerpt(latest.text) if latest else ""},
            )
        _send(member, subject, body)
    return len(told)


@task()
def notify_mentions(message_id: int) -> int:
    """Tell the colleagues a note mentions by handle; only those who may see the conversation.

    Someone who cannot see it learns nothing, not even that it exists. Returns
    how many were told.
    """
    note = (
        Message.objects.select_related(
            "author_user", "conversation__customer", "conversation__team"
        )
        .filter(pk=message_id, kind=MessageKind.NOTE)
        .first()
    )
    if note is None:
        return 0
    handles = handles_in(note.text)
    if not handles:
        return 0
    conversation = note.conversation
    mentioned = [u for u in users_for_handles(handles) if can_see(u, conversation)]
    author = note.author_user
    told = add_notifications(
        conversation,
        recipients=mentioned,
        kind=NotificationKind.MENTIONED,
        actor=author,
        message=note,
        excerpt=note.text,
    )
    for person in told:
        if not _wants_mail(person, person.notify_on_mention):
            continue
        with translation.override(_language(person)):
            values = {
                **_subject_values(conversation),
                "actor": author.display_name if author is not None else _("Someone"),
            }
            subject = _("[#%(number)s] %(actor)s mentioned you: %(subject)s") % values
            body = render_to_string(
                "notifications/mentioned.txt",
                {
                    **_common(conversation),
                    "actor": values["actor"],
                    "excerpt": _excerpt(note.text),
                    "url": _conversation_url(conversation, anchor=f"message-{note.pk}"),
                },
            )
        _send(person, subject, body)
    return len(told)


def _user(user_id: int | None) -> User | None:
    return User.objects.filter(pk=user_id).first() if user_id is not None else None


def _first_message(conversation: Conversation) -> Message | None:
    return conversation.messages.order_by("created_at", "id").first()


def _latest_customer_message(conversation: Conversation) -> Message | None:
    return (
        Message.objects.filter(conversation=conversation, kind=MessageKind.CUSTOMER)
        .order_by("-created_at", "-id")
        .first()
    )


def _wants_mail(user: User, preference: bool) -> bool:
    return preference and user.is_active and user.is_agent_staff and bool(user.email)


def _language(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


def _subject_values(conversation: Conversation) -> dict[str, Any]:
    # A header may not hold line breaks; collapse any whitespace run to one space.
    return {"number": conversation.number, "subject": " ".join(conversation.subject.split())}


def _excerpt(text: str) -> str:
    return Truncator(text.strip()).chars(EXCERPT_CHARS)


def _conversation_url(conversation: Conversation, *, anchor: str = "") -> str:
    url = settings.BASE_URL + reverse(
        "conversations:detail", kwargs={"number": conversation.number}
    )
    return f"{url}#{anchor}" if anchor else url


def _common(conversation: Conversation) -> dict[str, Any]:
    return {
        "number": conversation.number,
        "subject": conversation.subject,
        "customer": str(conversation.customer),
        "team": str(conversation.team) if conversation.team is not None else "",
        "status": conversation.get_status_display(),
        "priority": conversation.get_priority_display(),
        "url": _conversation_url(conversation),
        "settings_url": settings.BASE_URL + reverse("accounts:settings"),
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
