"""Workspace pages: business-hours calendars under Manage (admins only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontdesk.accounts.decorators import acting_user, admin_required, or_404
from frontdesk.core.errors import ServiceError
from frontdesk.core.forms import submit
from frontdesk.core.models import Via
from frontdesk.sla import selectors, services
from frontdesk.sla.forms import CalendarForm
from frontdesk.sla.hours import format_hours
from frontdesk.sla.models import BusinessCalendar, Weekday
from frontdesk.sla.schedules import preview_calendar, stored_weekly_hours


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponseBase:
    return render(
        request, template, {"section": "manage", "manage_page": "business_hours", **context}
    )


@admin_required
def calendars(request: HttpRequest) -> HttpResponseBase:
    found = selectors.list_calendars(acting_user(request))
    rows = [(calendar, _weekly_summary(calendar)) for calendar in found]
    return _page(request, "sla/calendars.html", {"rows": rows})


def _weekly_summary(calendar: BusinessCalendar) -> list[tuple[str, str]]:
    weekly = stored_weekly_hours(calendar)
    return [
        (str(label), format_hours(weekly[day])) for day, label in Weekday.choices if day in weekly
    ]


@admin_required
def calendar_new(request: HttpRequest) -> HttpResponseBase:
    admin = acting_user(request)
    form = CalendarForm(
        request.POST or None,
        initial=CalendarForm.initial_new(admin.time_zone or settings.TIME_ZONE),
    )
    created: list[int] = []

    def save(_data: dict[str, Any]) -> None:
        calendar = services.create_calendar(by=admin, via=Via.WEB, **form.service_arguments())
        created.append(calendar.pk)

    if submit(form, save):
        messages.success(request, _("Calendar added."))
        return redirect("sla:calendar_edit", pk=created[0])
    return _page(request, "sla/calendar_form.html", {"form": form, "calendar": None})


@admin_required
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    calendar = or_404(lambda: selectors.access_calendar(admin, pk))
    if request.method == "POST":
        form = CalendarForm(request.POST, calendar=calendar)
    else:
        form = CalendarForm(calendar=calendar, initial=CalendarForm.initial_for(calendar))
    if submit(
        form,
        lambda _data: services.update_calendar(
            calendar, by=admin, via=Via.WEB, **form.service_arguments()
        ),
    ):
        messages.success(request, _("Saved."))
        return redirect("sla:calendar_edit", pk=calendar.pk)
    preview = preview_calendar(calendar, now=timezone.now(), language=get_language())
    return _page(
        request,
        "sla/calendar_form.html",
        {"form": form, "calendar": calendar, "preview": preview},
    )


@require_POST
@admin_required
def calendar_delete(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    calendar = or_404(lambda: selectors.access_calendar(admin, pk))
    try:
        services.delete_calendar(calendar, by=admin, via=Via.WEB)
    except ServiceError as error:
        messages.error(request, error.detail)
        return redirect("sla:calendar_edit", pk=calendar.pk)
    messages.success(request, _("Calendar %(name)s was deleted.") % {"name": calendar.name})
    return redirect("sla:calendars")
