"""Workspace pages: business-hours calendars and SLA policies under Manage (admins only),
and the conversations at risk (supervisors and admins)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from frontdesk.accounts import selectors as account_selectors
from frontdesk.accounts.decorators import acting_user, admin_required, or_404, staff_required
from frontdesk.accounts.models import User
from frontdesk.conversations.models import Channel, Priority
from frontdesk.conversations.permissions import sees_everything
from frontdesk.conversations.sla_badges import conversation_badge
from frontdesk.core.errors import InvalidInput, ServiceError
from frontdesk.core.forms import apply_service_error, submit
from frontdesk.core.models import Via
from frontdesk.core.ordering import move_step
from frontdesk.sla import selectors, services
from frontdesk.sla.durations import format_minutes
from frontdesk.sla.forms import CalendarForm, PolicyForm
from frontdesk.sla.hours import format_hours
from frontdesk.sla.models import BusinessCalendar, SlaPolicy, Target, Weekday
from frontdesk.sla.policies import TARGET_KINDS
from frontdesk.sla.schedules import preview_calendar, stored_weekly_hours


def _page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    manage_page: str = "business_hours",
) -> HttpResponseBase:
    return render(request, template, {"section": "manage", "manage_page": manage_page, **context})


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


# --- SLA policies -----------------------------------------------------------------------------


def _policy_form(request: HttpRequest, admin: User, **kwargs: Any) -> PolicyForm:
    return PolicyForm(
        request.POST or None,
        teams=[(team.pk, team.name) for team in account_selectors.list_teams(admin)],
        people=selectors.staff_choices(admin),
        calendars=[(c.pk, c.name) for c in selectors.list_calendars(admin)],
        mailboxes=selectors.mailbox_choices(admin),
        **kwargs,
    )


def _save_policy(
    form: PolicyForm, admin: User, save: Callable[[dict[str, Any]], SlaPolicy]
) -> SlaPolicy | None:
    """Hand the form to a policy service; a refusal lands on the field it names."""
    if not form.is_valid():
        return None
    arguments = form.service_arguments()
    calendar_id = arguments.pop("calendar_id")
    try:
        calendar = selectors.access_calendar(admin, calendar_id) if calendar_id else None
        return save({**arguments, "calendar": calendar})
    except ServiceError as error:
        apply_service_error(form, error, field=form.field_for(error.field) or "")
        return None


@admin_required
def policies(request: HttpRequest) -> HttpResponseBase:
    found = selectors.list_policies(acting_user(request))
    rows = [(policy, _policy_summary(policy)) for policy in found]
    return _page(request, "sla/policies.html", {"rows": rows}, manage_page="sla_policies")


def _policy_summary(policy: SlaPolicy) -> dict[str, Any]:
    labels = dict(Priority.choices)
    targets = [
        {
            "priority": labels.get(row["priority"], row["priority"]),
            "times": [format_minutes(row.get(f"{kind}_minutes")) or "—" for kind in TARGET_KINDS],
        }
        for row in policy.targets or []
    ]
    conditions = policy.conditions or {}
    parts = []
    if conditions.get("priorities"):
        parts.append(", ".join(str(labels.get(p, p)) for p in conditions["priorities"]))
    if conditions.get("channels"):
        parts.append(", ".join(str(Channel(c).label) for c in conditions["channels"]))
    if conditions.get("tags"):
        parts.append(" ".join(f"#{tag}" for tag in conditions["tags"]))
    for kind, label in (
        ("team_ids", _("teams")),
        ("mailbox_ids", _("mailboxes")),
        ("customer_ids", _("customers")),
        ("company_ids", _("companies")),
    ):
        if conditions.get(kind):
            parts.append(f"{len(conditions[kind])} {label}")
    return {"targets": targets, "conditions": parts}


@admin_required
def policy_new(request: HttpRequest) -> HttpResponseBase:
    admin = acting_user(request)
    form = _policy_form(request, admin)
    saved = _save_policy(
        form, admin, lambda values: services.create_policy(by=admin, via=Via.WEB, **values)
    )
    if saved is not None:
        messages.success(request, _("Policy added."))
        return redirect("sla:policies")
    context = {"form": form, "policy": None}
    return _page(request, "sla/policy_form.html", context, manage_page="sla_policies")


@admin_required
def policy_edit(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    policy = or_404(lambda: selectors.access_policy(admin, pk))
    form = _policy_form(request, admin, initial=PolicyForm.initial_for(policy))
    saved = _save_policy(
        form,
        admin,
        lambda values: services.update_policy(policy, by=admin, via=Via.WEB, **values),
    )
    if saved is not None:
        messages.success(request, _("Saved."))
        return redirect("sla:policies")
    context = {"form": form, "policy": policy}
    return _page(request, "sla/policy_form.html", context, manage_page="sla_policies")


@require_POST
@admin_required
def policy_delete(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    policy = or_404(lambda: selectors.access_policy(admin, pk))
    services.delete_policy(policy, by=admin, via=Via.WEB)
    messages.success(request, _("Policy %(name)s was deleted.") % {"name": policy.name})
    return redirect("sla:policies")


@require_POST
@admin_required
def policy_move(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    policy = or_404(lambda: selectors.access_policy(admin, pk))
    services.move_policy(policy, by=admin, steps=move_step(request), via=Via.WEB)
    return redirect("sla:policies")


# --- at risk ----------------------------------------------------------------------------------

AT_RISK_PAGE_SIZE = 50
AT_RISK_TARGET = "at-risk-list"


@require_GET
@staff_required
def at_risk(request: HttpRequest) -> HttpResponseBase:
    """Open conversations past their SLA warning, across the supervisor's teams, live."""
    user = acting_user(request)
    if not selectors.may_watch_at_risk(user):
        raise DjangoPermissionDenied
    now = timezone.now()
    cursor = request.GET.get("cursor") or None
    cursor_error = ""
    found: list[selectors.AtRisk] = []
    next_cursor = None
    try:
        found, next_cursor = selectors.list_at_risk(
            user, now=now, cursor=cursor, limit=AT_RISK_PAGE_SIZE
        )
    except InvalidInput as error:
        cursor_error = error.detail
    here = reverse("sla:at_risk")
    target_labels = dict(Target.choices)
    context = {
        "section": "inbox",
        "rows": [
            {
                "item": item,
                "badge": conversation_badge(item.conversation, now),
                "target": target_labels.get(item.target, ""),
            }
            for item in found
        ],
        "cursor_error": cursor_error,
        "list_url": request.get_full_path(),
        "first_url": here,
        "next_url": f"{here}?{urlencode({'cursor': next_cursor})}" if next_cursor else "",
        "is_first_page": cursor is None,
        "everything": sees_everything(user),
    }
    if request.headers.get("HX-Target") == AT_RISK_TARGET:
        return render(request, "sla/_at_risk_list.html", context)
    return render(request, "sla/at_risk.html", context)
