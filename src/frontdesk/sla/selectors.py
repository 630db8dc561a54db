"""Reads of business calendars.

Staff see every calendar (SLA badges count on them); only admins change them, which the
services check. Customers see none.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from frontdesk.accounts.models import User
from frontdesk.accounts.selectors import is_staff_member
from frontdesk.core.errors import NotFound
from frontdesk.sla.models import BusinessCalendar


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
