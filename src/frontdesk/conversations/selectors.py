"""Permission-checked reads of conversations; scope is applied in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from frontdesk.accounts.models import User
from frontdesk.accounts.selectors import team_ids_for
from frontdesk.conversations.models import (
    PUBLIC_KINDS,
    Attachment,
    Conversation,
    CustomFieldDefinition,
    Message,
    Tag,
)
from frontdesk.conversations.permissions import visible_scope
from frontdesk.core.errors import NotFound
from frontdesk.core.pagination import DEFAULT_LIMIT, Page, keyset_page

UNASSIGNED = 0


@dataclass(frozen=True)
class ConversationFilters:
    status: str | None = None
    team_id: int | None = None
    assignee_id: int | None = None  # UNASSIGNED (0) selects conversations without one
    customer_id: int | None = None
    tag: str | None = None
    channel: str | None = None
    updated_since: datetime | None = None


def _visible(user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(visible_scope(user))


# Related rows in a list need only what a summary shows; a user row is wide.
_PERSON = ("id", "email", "first_name", "last_name")
_LIST_COLUMNS = (
    *(f.name for f in Conversation._meta.concrete_fields),
    "customer__id",
    "customer__name",
    "team__id",
    "team__name",
    *(f"assignee__{column}" for column in _PERSON),
    *(f"owner__{column}" for column in _PERSON),
)


def _scoped_for_filters(user: User, filters: ConversationFilters) -> QuerySet[Conversation]:
    """The visible conversations, with the scope left out where the filter already implies it.

    An agent's scope is `team IN (mine) OR assignee = me OR owner = me`; ANDed
    with `team = T` the planner misjudges it and sorts every row of the team
    instead of walking the (team, status, activity) index and stopping at a page.
    """
    if user.is_active and user.is_agent_staff:
        own_team = filters.team_id is not None and filters.team_id in team_ids_for(user)
        own_work = filters.assignee_id is not None and filters.assignee_id == user.pk
        if own_team or own_work:
            return Conversation.objects.all()
    return _visible(user)


def access_conversation(user: User, number: int) -> Conversation:
    """The conversation numbered `number`, or NotFound if it is not there for `user`."""
    try:
        return (
            _visible(user)
            .select_related("customer", "company", "team", "assignee", "owner", "merged_into")
            .prefetch_related(
                Prefetch("tags", queryset=Tag.objects.order_by("name")), "customer__identities"
            )
            .get(number=number)
        )
    except Conversation.DoesNotExist:
        raise NotFound(_("No such conversation.")) from None


def list_conversations(
    user: User,
    *,
    filters: ConversationFilters,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[Conversation]:
    """A page of the conversations `user` may see, newest activity first.

    With `updated_since`, the order is oldest change first instead, so an
    integrator can sync by walking forward and resuming from the last cursor.
    """
    qs = _scoped_for_filters(user, filters)
    if filters.status is not None:
        qs = qs.filter(status=filters.status)
    if filters.team_id is not None:
        qs = qs.filter(team_id=filters.team_id)
    if filters.assignee_id == UNASSIGNED:
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee_id is not None:
        qs = qs.filter(assignee_id=filters.assignee_id)
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.channel is not None:
        qs = qs.filter(channel=filters.channel)
    if filters.tag is not None:
        qs = qs.filter(conversationtag__tag__name=filters.tag.strip().lower())
    qs = (
        qs.select_related("customer", "team", "assignee", "owner")
        .only(*_LIST_COLUMNS)
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("name")))
    )
    if filters.updated_since is not None:
        qs = qs.filter(updated_at__gte=filters.updated_since)
        return keyset_page(
            qs, key="updated_at", descending=False, cursor=cursor, limit=limit,
            key_is_datetime=True,
        )  # fmt: skip
    return keyset_page(
        qs, key="last_activity_at", descending=True, cursor=cursor, limit=limit,
        key_is_datetime=True,
    )  # fmt: skip


def list_messages(user: User, conversation: Conversation) -> list[Message]:
    """The thread as `user` may read it: customers never see notes or system lines."""
    qs = conversation.messages.select_related("author_user", "author_customer").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    if user.is_customer:
        qs = qs.filter(kind__in=PUBLIC_KINDS)
    return list(qs.order_by("created_at", "id"))


def conversation_with_messages(user: User, number: int) -> tuple[Conversation, list[Message]]:
    conversation = access_conversation(user, number)
    return conversation, list_messages(user, conversation)


def access_attachment(user: User, attachment_id: int) -> Attachment:
    try:
        attachment = Attachment.objects.select_related("message").get(pk=attachment_id)
    except Attachment.DoesNotExist:
        raise NotFound(_("No such attachment.")) from None
    visible = _visible(user).filter(pk=attachment.message.conversation_id).exists()
    if not visible or (user.is_customer and attachment.message.kind not in PUBLIC_KINDS):
        raise NotFound(_("No such attachment."))
    return attachment


def list_tags(user: User) -> list[Tag]:
    if not user.is_agent_staff:
        return []
    return list(Tag.objects.order_by("name"))


def list_field_definitions(user: User) -> list[CustomFieldDefinition]:
    qs = CustomFieldDefinition.objects.order_by("position", "id")
    if user.is_customer:
        qs = qs.filter(visible_to_customers=True, active=True)
    return list(qs)


def access_field_definition(user: User, key: str) -> CustomFieldDefinition:
    for definition in list_field_definitions(user):
        if definition.key == key:
            return definition
    raise NotFound(_("No such field."))
