"""Reads of business calendars, SLA policies and the conversations at risk.

Staff see every calendar and policy (SLA badges count on them); only admins change them,
which the services check. Customers see none. The At risk list is for supervisors (their
teams) and admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.models import STAFF_ROLES, User
from frontdesk.accounts.selectors import is_staff_member, team_ids_for
from frontdesk.conversations.models import ACTIVE_STATUSES, Conversation
from frontdesk.conversations.permissions import sees_everything
from frontdesk.core.errors import NotFound, PermissionDenied
from frontdesk.core.pagination import DEFAULT_LIMIT, keyset_page
from frontdesk.mail import selectors as mail_selectors
from frontdesk.sla.models import BusinessCalendar, ConversationSla, SlaPolicy, Target


def _visible_calendars(user: User) -> QuerySet[BusinessCalendar]:
    if is_staff_member(user):
        return BusinessCalendar.objects.prefetch_related("weekly_hours", "special_days")
    return BusinessCalendar.objects.none()


def list_calendars(user: User) -> list[BusinessCalendar]:
    """Calendars by name, with their hours; a desk has a handful, so no pagination."""
    return list(_visible_calendars(user).order_by("name", "id"))


def access_calendar(user: User, calendar_id: int) -> BusinessCalendar:
    found = _visible_calendars(user).filter(pk=calendar_id).first()
    if found is None:
        raise NotFound(_("No such calendar."))
    return found


def default_calendar() -> BusinessCalendar | None:
    """The calendar SLA policies fall back on (system reads: no user scope)."""
    return (
        BusinessCalendar.objects.prefetch_related("weekly_hours", "special_days")
        .filter(is_default=True)
        .first()
    )


# --- SLA policies -----------------------------------------------------------------------------


def list_policies(user: User) -> list[SlaPolicy]:
    """Every policy in the order they are tried; staff may read them, admins change them."""
    if not is_staff_member(user):
        return []
    return list(SlaPolicy.objects.select_related("calendar").order_by("position", "id"))


def access_policy(user: User, policy_id: int) -> SlaPolicy:
    found = None
    if is_staff_member(user):
        found = SlaPolicy.objects.select_related("calendar").filter(pk=policy_id).first()
    if found is None:
        raise NotFound(_("No such policy."))
    return found


def mailbox_choices(user: User) -> list[tuple[int, str]]:
    """Mailboxes as (id, name) for the policy form."""
    return mail_selectors.mailbox_names() if is_staff_member(user) else []


def staff_choices(user: User) -> list[tuple[int, str]]:
    """Active staff as (id, name), for the reassign action."""
    if not is_staff_member(user):
        return []
    rows = (
        User.objects.filter(is_active=True, role__in=sorted(STAFF_ROLES))
        .order_by("first_name", "last_name", "email", "id")
        .values_list("id", "first_name", "last_name", "email")
    )
    return [(pk, f"{first} {last}".strip() or email) for pk, first, last, email in rows]


# --- at risk ----------------------------------------------------------------------------------


def may_watch_at_risk(user: User) -> bool:
    """Supervisors (their teams) and admins (every team) watch the conversations at risk."""
    return user.is_active and (user.is_admin or user.is_supervisor)


@dataclass(frozen=True)
class AtRisk:
    """One conversation at risk: it, its timers and the target that comes due first."""

    conversation: Conversation
    target: str
    policy: str


def list_at_risk(
    user: User,
    *,
    now: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[AtRisk], str | None]:
    """Open conversations past their SLA warning (breached ones too), due soonest first.

    A supervisor sees those of their teams, someone who sees every team all of them;
    anyone else is refused. One query a page, walking the SLA summaries' (due_at,
    conversation) index: those at risk come due first, so a page stops early.
    """
    if not may_watch_at_risk(user):
        raise PermissionDenied(_("Only supervisors and admins watch the SLA risks."))
    now = now or timezone.now()
    qs = Conversation.objects.filter(
        status__in=sorted(ACTIVE_STATUSES),
        sla_due__warning_at__lte=now,
        sla_due__due_at__isnull=False,
    )
    if not sees_everything(user):
        qs = qs.filter(team_id__in=sorted(team_ids_for(user)))
    qs = qs.select_related("customer", "team", "assignee", "sla__policy", "sla_due").annotate(
        due_key=F("sla_due__due_at")
    )
    page = keyset_page(
        qs, key="due_key", descending=False, cursor=cursor, limit=limit, key_is_datetime=True
    )
    return [_at_risk(conversation) for conversation in page.items], page.next_cursor


def _at_risk(conversation: Conversation) -> AtRisk:
    timers: ConversationSla | None = getattr(conversation, "sla", None)
    target = ""
    policy = ""
    if timers is not None:
        policy = timers.policy.name if timers.policy is not None else ""
        pending = [
            (due, kind)
            for kind in Target.values
            if (due := getattr(timers, f"{kind}_due_at")) is not None
            and getattr(timers, f"{kind}_met_at") is None
        ]
        if pending:
            target = min(pending)[1]
    return AtRisk(conversation=conversation, target=target, policy=policy)


def conversation_timers(user: User, conversation: Conversation) -> ConversationSla | None:
    """The timers of a conversation the caller got through access_conversation; staff only."""
    if not is_staff_member(user):
        return None
    return ConversationSla.objects.select_related("policy").filter(pk=conversation.pk).first()
