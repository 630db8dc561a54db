"""Permission-checked reads of conversations; scope is applied in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from frontdesk.accounts.models import STAFF_ROLES, Team, User
from frontdesk.accounts.selectors import team_ids_for
from frontdesk.conversations.models import (
    ACTIVE_STATUSES,
    PUBLIC_KINDS,
    Attachment,
    Conversation,
    ConversationDue,
    CustomFieldDefinition,
    Message,
    SavedView,
    Status,
    Tag,
)
from frontdesk.conversations.permissions import sees_everything, visible_scope
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Event
from frontdesk.core.pagination import (
    DEFAULT_LIMIT,
    Page,
    check_limit,
    decode_cursor,
    encode_cursor,
    keyset_page,
)

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
    statuses: frozenset[str] | None = None  # any of these
    team_ids: frozenset[int] | None = None  # any of these; empty matches nothing
    priority: int | None = None
    company_id: int | None = None
    language: str | None = None
    solved_since: datetime | None = None
    # Owned by this user but held by someone else or no one: what they handed on.
    transferred_by: int | None = None


# Inbox orders: each is a keyset over columns that end in the unique id.
SORT_ACTIVITY = "activity"
SORT_CREATED = "created"
SORT_PRIORITY = "priority"
# Soonest SLA due time first (ascending), then those without a running SLA target by id.
SORT_DUE = "due"
SORTS: dict[str, tuple[str, ...]] = {
    SORT_ACTIVITY: ("last_activity_at", "id"),
    SORT_CREATED: ("created_at", "id"),
    SORT_PRIORITY: ("priority", "last_activity_at", "id"),
    SORT_DUE: ("sla_due__due_at", "id"),
}


def _visible(user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(visible_scope(user))


# Related rows in a list need only what a summary shows; a user row is wide.
_PERSON = ("id", "email", "first_name", "last_name")
_LIST_COLUMNS = (
    *(f.name for f in Conversation._meta.concrete_fields),
    *(f"sla_due__{f.name}" for f in ConversationDue._meta.concrete_fields),
    "customer__id",
    "customer__name",
    "team__id",
    "team__name",
    *(f"assignee__{column}" for column in _PERSON),
    *(f"owner__{column}" for column in _PERSON),
)


def _scope_implied(user: User, filters: ConversationFilters) -> bool:
    """Whether `filters` alone keep an agent inside what they may see.

    An agent's scope is `team IN (mine) OR assignee = me OR owner = me`; ANDed
    with `team = T` the planner misjudges it and sorts every row of the team
    instead of walking the (team, status, activity) index and stopping at a page.
    """
    if not (user.is_active and user.is_agent_staff):
        return False
    mine = team_ids_for(user)
    own_team = filters.team_id is not None and filters.team_id in mine
    own_teams = filters.team_ids is not None and filters.team_ids <= mine
    own_work = filters.assignee_id is not None and filters.assignee_id == user.pk
    owned = filters.transferred_by is not None and filters.transferred_by == user.pk
    return own_team or own_teams or own_work or owned


def _filtered(
    user: User, filters: ConversationFilters, also: ConversationFilters | None = None
) -> QuerySet[Conversation]:
    """The visible conversations matching `filters` and, ANDed, `also` (a view's own filters)."""
    parts = [f for f in (filters, also) if f is not None]
    if any(_scope_implied(user, f) for f in parts):
        qs = Conversation.objects.all()
    else:
        qs = _visible(user)
    for f in parts:
        qs = _apply_filters(qs, f)
    return qs


# Filters that are one column equal to the value.
_EQUAL_FILTERS = (
    ("status", "status"),
    ("team_id", "team_id"),
    ("customer_id", "customer_id"),
    ("company_id", "company_id"),
    ("channel", "channel"),
    ("priority", "priority"),
    ("language", "language"),
)


def _apply_filters(
    qs: QuerySet[Conversation], filters: ConversationFilters
) -> QuerySet[Conversation]:
    for attribute, column in _EQUAL_FILTERS:
        value = getattr(filters, attribute)
        if value is not None:
            qs = qs.filter(**{column: value})
    if filters.statuses is not None:
        qs = qs.filter(status__in=sorted(filters.statuses))
    if filters.team_ids is not None:
        qs = qs.filter(team_id__in=sorted(filters.team_ids))
    if filters.assignee_id == UNASSIGNED:
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee_id is not None:
        qs = qs.filter(assignee_id=filters.assignee_id)
    if filters.solved_since is not None:
        qs = qs.filter(status=Status.SOLVED, solved_at__gte=filters.solved_since)
    if filters.transferred_by is not None:
        # exclude() keeps the unassigned ones: its NOT is null-safe.
        qs = qs.filter(owner_id=filters.transferred_by).exclude(assignee_id=filters.transferred_by)
    if filters.tag is not None:
        qs = qs.filter(conversationtag__tag__name=filters.tag.strip().lower())
    if filters.updated_since is not None:
        qs = qs.filter(updated_at__gte=filters.updated_since)
    return qs


def access_conversation(user: User, number: int) -> Conversation:
    """The conversation numbered `number`, or NotFound if it is not there for `user`."""
    try:
        return (
            _visible(user)
            .select_related(
                "customer", "company", "team", "assignee", "owner", "merged_into", "sla_due"
            )
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
    sort: str = SORT_ACTIVITY,
    also: ConversationFilters | None = None,
) -> Page[Conversation]:
    """A page of the conversations `user` may see, newest activity first.

    With `updated_since`, the order is oldest change first instead, so an
    integrator can sync by walking forward and resuming from the last cursor.
    `sort` picks another order (newest created, or highest priority first);
    `also` is a second set of filters ANDed with the first (an inbox view's).
    """
    qs = (
        _filtered(user, filters, also)
        .select_related("customer", "team", "assignee", "owner", "sla_due")
        .only(*_LIST_COLUMNS)
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("name")))
    )
    if filters.updated_since is not None:
        return keyset_page(
            qs, key="updated_at", descending=False, cursor=cursor, limit=limit,
            key_is_datetime=True,
        )  # fmt: skip
    if sort not in SORTS:
        raise InvalidInput(_("Unknown sort order."), field="sort")
    if sort == SORT_DUE:
        return _due_soonest_page(qs, cursor=cursor, limit=limit)
    return _descending_page(qs, keys=SORTS[sort], cursor=cursor, limit=limit)


def _due_soonest_page(
    qs: QuerySet[Conversation], *, cursor: str | None, limit: int
) -> Page[Conversation]:
    """Keyset page by (due time, id) ascending, conversations without a due time last.

    Two ranges rather than one NULLS LAST order with an OR: first the conversations with
    a due time after the cursor, walking the summaries' (due_at, conversation) index and
    joining each conversation by its key; then, to fill the page, those without one by id.
    A cursor holds a null due time once the walk has reached the second range.
    """
    limit = check_limit(limit)
    due: datetime | None = None
    last_id = 0
    in_undated = False
    if cursor:
        due, last_id, in_undated = _due_cursor(cursor)
    rows: list[Conversation] = []
    if not in_undated:
        dated = qs.filter(sla_due__due_at__isnull=False)
        if due is not None:
            dated = dated.filter(
                Q(sla_due__due_at__gte=due), Q(sla_due__due_at__gt=due) | Q(id__gt=last_id)
            )
        rows = list(dated.order_by("sla_due__due_at", "id")[: limit + 1])
        last_id = 0
    if len(rows) <= limit:
        undated = qs.filter(sla_due__due_at__isnull=True, id__gt=last_id).order_by("id")
        rows += list(undated[: limit + 1 - len(rows)])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        shown = rows[-1].sla_summary
        next_cursor = encode_cursor([shown.due_at if shown else None, rows[-1].pk])
    return Page(items=rows, next_cursor=next_cursor)


def _due_cursor(cursor: str) -> tuple[datetime | None, int, bool]:
    due, last_id = decode_cursor(cursor, size=2)
    bad = InvalidInput(_("The cursor is not one this server issued."), field="cursor")
    if isinstance(last_id, bool) or not isinstance(last_id, int):
        raise bad
    if due is None:
        return None, last_id, True
    try:
        return datetime.fromisoformat(due), last_id, False
    except (TypeError, ValueError):
        raise bad from None


_DATETIME_KEYS = frozenset({"last_activity_at", "created_at"})


def _descending_page(
    qs: QuerySet[Conversation], *, keys: tuple[str, ...], cursor: str | None, limit: int
) -> Page[Conversation]:
    """Keyset page over several columns, all descending; the last key is the unique id.

    The next page is `(k1, k2, id) < (v1, v2, last_id)` written out as ORs, with
    the redundant `k1 <= v1` bound so the planner takes it as an index range.
    """
    limit = check_limit(limit)
    if cursor:
        values = _cursor_values(cursor, keys)
        after = Q()
        for i, key in enumerate(keys):
            same = dict(zip(keys[:i], values[:i], strict=True))
            after |= Q(**same, **{f"{key}__lt": values[i]})
        qs = qs.filter(Q(**{f"{keys[0]}__lte": values[0]}), after)
    rows = list(qs.order_by(*(f"-{k}" for k in keys))[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([getattr(rows[-1], k) for k in keys])
    return Page(items=rows, next_cursor=next_cursor)


def _cursor_values(cursor: str, keys: tuple[str, ...]) -> list[Any]:
    values = decode_cursor(cursor, size=len(keys))
    bad = InvalidInput(_("The cursor is not one this server issued."), field="cursor")
    parsed: list[Any] = []
    for key, value in zip(keys, values, strict=True):
        if key in _DATETIME_KEYS:
            try:
                parsed.append(datetime.fromisoformat(value))
            except (TypeError, ValueError):
                raise bad from None
        elif isinstance(value, int) and not isinstance(value, bool):
            parsed.append(value)
        else:
            raise bad
    return parsed


# --- the inbox --------------------------------------------------------------

VIEW_MINE = "mine"
VIEW_UNASSIGNED = "unassigned"
VIEW_TEAM = "team"
VIEW_PENDING = "pending"
VIEW_ON_HOLD = "on_hold"
VIEW_SOLVED = "solved"

BUILTIN_VIEWS: dict[str, Any] = {
    VIEW_MINE: gettext_lazy("My open"),
    VIEW_UNASSIGNED: gettext_lazy("Unassigned in my teams"),
    VIEW_TEAM: gettext_lazy("All open in my teams"),
    VIEW_PENDING: gettext_lazy("Pending"),
    VIEW_ON_HOLD: gettext_lazy("On hold"),
    VIEW_SOLVED: gettext_lazy("Solved (last 7 days)"),
}

# Conversations the user keeps following after handing them on (the owner of a transfer).
# Apart from BUILTIN_VIEWS: the rail lists it without a count.
VIEW_TRANSFERRED = "transferred"
FOLLOWING_VIEWS: dict[str, Any] = {VIEW_TRANSFERRED: gettext_lazy("Transferred by me")}

# A count stops here: the rail shows "999+" rather than scan a million rows.
COUNT_CAP = 999
SOLVED_VIEW_DAYS = 7


def _my_team_ids(user: User) -> frozenset[int] | None:
    """The teams "my teams" means: memberships; None (every team) for a see-all user without any."""
    mine = team_ids_for(user)
    if not mine and sees_everything(user):
        return None
    return mine


def builtin_view_filters(  # noqa: PLR0911 - one return per view
    user: User, view: str, *, now: datetime | None = None
) -> ConversationFilters:
    """The filters of a built-in inbox view for `user`; NotFound for an unknown name."""
    active = frozenset(ACTIVE_STATUSES)
    if view == VIEW_MINE:
        return ConversationFilters(
            assignee_id=user.pk, statuses=frozenset({Status.NEW, Status.OPEN})
        )
    if view == VIEW_UNASSIGNED:
        return ConversationFilters(
            assignee_id=UNASSIGNED, team_ids=_my_team_ids(user), statuses=active
        )
    if view == VIEW_TEAM:
        return ConversationFilters(team_ids=_my_team_ids(user), statuses=active)
    if view == VIEW_PENDING:
        return ConversationFilters(status=Status.PENDING)
    if view == VIEW_ON_HOLD:
        return ConversationFilters(status=Status.ON_HOLD)
    if view == VIEW_SOLVED:
        since = (now or timezone.now()) - timedelta(days=SOLVED_VIEW_DAYS)
        return ConversationFilters(solved_since=since)
    if view == VIEW_TRANSFERRED:
        # Owned by me, in someone else's hands (or no one's), until solved or closed.
        return ConversationFilters(transferred_by=user.pk, statuses=active)
    raise NotFound(_("No such view."))


def count_conversations(user: User, filters: ConversationFilters, *, cap: int | None = None) -> int:
    """How many conversations match, counting no further than `cap` + 1.

    One COUNT over a LIMITed subquery: the database stops after cap + 1 rows, so
    a count costs the same at a thousand conversations as at a million.
    """
    limit = COUNT_CAP if cap is None else cap
    return _filtered(user, filters).order_by().values("pk")[: limit + 1].count()


def builtin_view_counts(user: User, *, now: datetime | None = None) -> dict[str, int]:
    """Each built-in view's count for `user`, capped at COUNT_CAP + 1; one query a view."""
    return {
        view: count_conversations(user, builtin_view_filters(user, view, now=now))
        for view in BUILTIN_VIEWS
    }


def _saved_views_for(user: User) -> QuerySet[SavedView]:
    if not (user.is_active and user.is_agent_staff):
        return SavedView.objects.none()
    scope = Q(owner_id=user.pk) | Q(team_id__in=sorted(team_ids_for(user)))
    if user.is_admin:
        scope = Q()
    return SavedView.objects.filter(scope)


def list_saved_views(user: User) -> list[SavedView]:
    """The user's own saved views and those shared with their teams, in rail order."""
    scope = Q(owner_id=user.pk) | Q(team_id__in=sorted(team_ids_for(user)))
    return list(
        _saved_views_for(user)
        .filter(scope)
        .select_related("team", "owner")
        .only("id", "name", "filters", "sort", "position", "owner_id", "team_id",
              "team__id", "team__name", *(f"owner__{c}" for c in _PERSON))
        .order_by("position", "name", "id")
    )  # fmt: skip


def access_saved_view(user: User, pk: int) -> SavedView:
    """A saved view the user owns or that is shared with their team (admins: any); else NotFound."""
    found = _saved_views_for(user).select_related("team", "owner").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such view."))
    return found


def team_choices(user: User) -> list[tuple[int, str]]:
    """Every team as (id, name), for staff filter and share menus; one light query."""
    if not (user.is_active and user.is_agent_staff):
        return []
    return list(Team.objects.order_by("name", "id").values_list("id", "name"))


def people_choices(user: User) -> list[tuple[int, str]]:
    """Active staff who can hold conversations, as (id, name), for assignee menus.

    Everyone for those who see every team; otherwise the people of the user's
    own teams and the user: a department's menus list its department, and the
    menus stay short at hundreds of agents.
    """
    if not (user.is_active and user.is_agent_staff):
        return []
    staff = User.objects.filter(is_active=True, role__in=sorted(STAFF_ROLES))
    if not sees_everything(user):
        staff = staff.filter(
            Q(pk=user.pk) | Q(memberships__team_id__in=team_ids_for(user))
        ).distinct()
    rows = staff.order_by("first_name", "last_name", "email", "id").values_list(
        "id", "first_name", "last_name", "email"
    )
    return [(pk, f"{first} {last}".strip() or email) for pk, first, last, email in rows]


def conversations_by_number(user: User, numbers: list[int]) -> dict[int, Conversation]:
    """The conversations among `numbers` that `user` may see, keyed by number; one query."""
    if not numbers:
        return {}
    return {c.number: c for c in _visible(user).filter(number__in=numbers)}


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


def list_tags_with_usage(user: User) -> list[Tag]:
    """Every tag with `usage`, the number of conversations carrying it; staff only."""
    if not user.is_agent_staff:
        return []
    return list(Tag.objects.annotate(usage=Count("conversationtag")).order_by("name"))


def access_tag(user: User, tag_id: int) -> Tag:
    found = Tag.objects.filter(pk=tag_id).first() if user.is_agent_staff else None
    if found is None:
        raise NotFound(_("No such tag."))
    return found


HISTORY_LIMIT = 100


@dataclass(frozen=True)
class ConversationHistory:
    """The newest audit rows of one conversation, with the names their data refers to."""

    events: list[Event]
    users: dict[int, str]
    teams: dict[int, str]
    capped: bool


def list_conversation_events(
    user: User, conversation: Conversation, *, limit: int = HISTORY_LIMIT
) -> ConversationHistory:
    """Who changed what in `conversation`, newest first; the caller got it through access_*."""
    if not user.is_agent_staff:
        raise NotFound(_("No such conversation."))
    rows = list(
        Event.objects.filter(object_type="conversation", object_id=conversation.pk)
        .select_related("actor")
        .order_by("-at", "-id")[: limit + 1]
    )
    events = rows[:limit]
    user_ids: set[int] = set()
    team_ids: set[int] = set()
    for event in events:
        for key in ("assignee_id", "previous_assignee_id", "owner_id"):
            if isinstance(event.data.get(key), int):
                user_ids.add(event.data[key])
        for key in ("team_id", "previous_team_id"):
            if isinstance(event.data.get(key), int):
                team_ids.add(event.data[key])
    users = {
        u.pk: u.display_name
        for u in User.objects.filter(pk__in=user_ids).only("id", "email", "first_name", "last_name")
    } if user_ids else {}  # fmt: skip
    teams = dict(Team.objects.filter(pk__in=team_ids).values_list("id", "name")) if team_ids else {}
    return ConversationHistory(events=events, users=users, teams=teams, capped=len(rows) > limit)
