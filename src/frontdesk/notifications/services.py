"""The only writers of notifications: adding them for their recipients, and reading them.

Unlike the other services these write no audit Event: a notification is
itself the record of who was told what and when, and reading one is a
person's own bookkeeping, like a mail client's unread flag (docs/adr/0006).
Each change still publishes a domain event on commit, naming only the
people whose list changed, so their open pages update the bell.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from frontdesk.accounts.models import User
from frontdesk.accounts.selectors import is_staff_member
from frontdesk.conversations.models import Conversation, Message
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.events import Audience, publish
from frontdesk.core.models import Via
from frontdesk.notifications.events import NotificationsAdded, NotificationsRead
from frontdesk.notifications.models import EXCERPT_CHARS, Notification, NotificationKind


def excerpt_of(text: str) -> str:
    """A message's text as one short line for a list."""
    return Truncator(" ".join(text.split())).chars(EXCERPT_CHARS)


def add_notifications(
    conversation: Conversation,
    *,
    recipients: Sequence[User],
    kind: str,
    actor: User | None,
    message: Message | None = None,
    excerpt: str = "",
    via: str = Via.SYSTEM,
    at: datetime | None = None,
) -> list[User]:
    """Add a notification of `kind` about `conversation` for each recipient; return who got one.

    Only active staff get notifications, never the person who did the thing.
    About one message, a person is told once per kind however often this runs.
    """
    if kind not in NotificationKind.values:
        raise InvalidInput(_("Unknown notification kind."), field="kind")
    at = at or timezone.now()
    wanted = {
        user.pk: user
        for user in recipients
        if is_staff_member(user) and (actor is None or user.pk != actor.pk)
    }
    with transaction.atomic():
        if message is not None and wanted:
            told = Notification.objects.filter(
                message=message, kind=kind, recipient_id__in=list(wanted)
            ).values_list("recipient_id", flat=True)
            for user_id in told:
                wanted.pop(user_id, None)
        if not wanted:
            return []
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient=user,
                    kind=kind,
                    conversation=conversation,
                    message=message,
                    actor=actor,
                    excerpt=excerpt_of(excerpt),
                    created_at=at,
                )
                for user in wanted.values()
            ],
            # A concurrent run of the same task may have told someone meanwhile.
            ignore_conflicts=message is not None,
        )
        publish(
            NotificationsAdded(
                via=via,
                audience=Audience(user_ids=frozenset(wanted)),
                kind=kind,
                conversation_id=conversation.pk,
                number=conversation.number,
            )
        )
    return list(wanted.values())


def mark_read(
    notification: Notification, *, by: User, via: str = Via.SYSTEM, at: datetime | None = None
) -> Notification:
    """`by` read their notification; reading it again changes nothing."""
    if notification.recipient_id != by.pk:
        raise NotFound(_("No such notification."))
    with transaction.atomic():
        changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=at or timezone.now()
        )
        if changed:
            publish(
                NotificationsRead(
                    via=via,
                    audience=Audience(user_ids=frozenset({by.pk})),
                    user_id=by.pk,
                    notification_id=notification.pk,
                )
            )
    return Notification.objects.get(pk=notification.pk)


def mark_all_read(
    user: User, *, by: User, via: str = Via.SYSTEM, at: datetime | None = None
) -> int:
    """Every unread notification of `user` becomes read; returns how many did."""
    if by.pk != user.pk:
        raise NotFound(_("No such notification."))
    with transaction.atomic():
        changed = Notification.objects.filter(recipient=user, read_at__isnull=True).update(
            read_at=at or timezone.now()
        )
        if changed:
            publish(
                NotificationsRead(
                    via=via,
                    audience=Audience(user_ids=frozenset({user.pk})),
                    user_id=user.pk,
                    notification_id=None,
                )
            )
    return changed
