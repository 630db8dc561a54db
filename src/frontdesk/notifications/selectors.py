"""Reads of notifications (always the asking user's own) and of whom a note may mention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from frontdesk.accounts.mentions import handles_for
from frontdesk.accounts.models import STAFF_ROLES, Membership, Role, User
from frontdesk.accounts.selectors import is_staff_member
from frontdesk.conversations.models import Conversation
from frontdesk.conversations.permissions import sees_everything, visible_scope
from frontdesk.core.errors import NotFound
from frontdesk.core.pagination import DEFAULT_LIMIT, Page, keyset_page
from frontdesk.notifications.models import Notification

# The bell says "99+" rather than count a neglected list to the end.
UNREAD_CAP = 99
MENTION_CANDIDATES = 8


def _on_visible_conversations(user: User) -> Q:
    """visible_scope, seen from a notification: a conversation the user no longer sees
    (moved to another team) drops out of their list rather than show its subject."""
    if sees_everything(user):
        return Q()
    return _prefixed(visible_scope(user), "conversation__")


def _prefixed(scope: Q, prefix: str) -> Q:
    children: list[Any] = []
    for child in scope.children:
        if isinstance(child, Q):
            children.append(_prefixed(child, prefix))
        else:
            lookup, value = cast(tuple[str, Any], child)
            children.append((prefix + lookup, value))
    return Q(*children, _connector=scope.connector, _negated=scope.negated)


def _mine(user: User) -> QuerySet[Notification]:
    if not is_staff_member(user):
        return Notification.objects.none()
    return Notification.objects.filter(_on_visible_conversations(user), recipient=user)


def access_notification(user: User, notification_id: int) -> Notification:
    found = _mine(user).select_related("conversation").filter(pk=notification_id).first()
    if found is None:
        raise NotFound(_("No such notification."))
    return found


def list_notifications(
    user: User, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[Notification]:
    """The user's notifications, newest first, with what a list row shows."""
    queryset = _mine(user).select_related("conversation__customer", "conversation__team", "actor")
    return keyset_page(
        queryset, key="created_at", descending=True, cursor=cursor, limit=limit,
        key_is_datetime=True,
    )  # fmt: skip


def count_unread(user: User, *, cap: int = UNREAD_CAP) -> int:
    """Unread notifications, counted up to `cap` + 1 (shown as "99+")."""
    return _mine(user).filter(read_at__isnull=True)[: cap + 1].count()


# --- mentions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MentionCandidate:
    handle: str
    name: str


def _sees_conversation(conversation: Conversation) -> Q:
    """Staff who may see `conversation`, as a filter on users: conversations.permissions.can_see
    turned around (tests check the two agree)."""
    in_team = (
        Membership.objects.filter(user=OuterRef("pk"), team_id=conversation.team_id)
        if conversation.team_id is not None
        else Membership.objects.none()
    )
    people = [pk for pk in (conversation.assignee_id, conversation.owner_id) if pk is not None]
    return (
        Q(role=Role.ADMIN)
        | Q(is_superuser=True)
        | Q(sees_all_teams=True)
        | Q(pk__in=people)
        | Q(Exists(in_team))
    )


def list_mention_candidates(
    user: User, number: int, *, prefix: str = "", limit: int = MENTION_CANDIDATES
) -> list[MentionCandidate]:
    """Colleagues who can see conversation `number` and whose name or address starts with
    `prefix`, with the handle that mentions them; NotFound if `user` cannot see it."""
    if not (is_staff_member(user) and user.is_agent_staff):
        raise NotFound(_("No such conversation."))
    conversation = (
        Conversation.objects.filter(visible_scope(user), number=number)
        .only("id", "team_id", "assignee_id", "owner_id")
        .first()
    )
    if conversation is None:
        raise NotFound(_("No such conversation."))
    people = User.objects.filter(
        _sees_conversation(conversation), is_active=True, role__in=sorted(STAFF_ROLES)
    ).exclude(pk=user.pk)
    prefix = prefix.strip().lstrip("@")
    if prefix:
        people = people.filter(
            Q(first_name__istartswith=prefix)
            | Q(last_name__istartswith=prefix)
            | Q(email__istartswith=prefix)
        )
    found = list(
        people.order_by("first_name", "last_name", "email").only(
            "id", "email", "first_name", "last_name"
        )[:limit]
    )
    handles = handles_for(found)
    return [
        MentionCandidate(handle=handles[person.pk], name=person.display_name) for person in found
    ]
