"""The calendar and policy forms; they parse what is typed, sla/services.py decides.

Weekly hours are one text field a weekday ("08:00-12:00, 13:00-17:00"), special days one
date a line: no script is needed to add a row, and a typo comes back on its own field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy

from frontdesk.accounts.services import available_time_zones
from frontdesk.conversations.models import Channel, Priority
from frontdesk.sla.durations import format_minutes, parse_minutes
from frontdesk.sla.hours import format_hours, format_special_days, parse_hours, parse_special_days
from frontdesk.sla.models import BusinessCalendar, SlaPolicy, Target, TimeBasis, Weekday
from frontdesk.sla.policies import (
    ASSIGNEE,
    NOTIFY,
    RAISE_PRIORITY,
    REASSIGN,
    SUPERVISORS,
    TARGET_KINDS,
    TEAM_LEAD,
)
from frontdesk.sla.public_holidays import country_choices
from frontdesk.sla.schedules import stored_special_days, stored_weekly_hours
from frontdesk.sla.services import hours_field

_WEEKDAY_FIELDS = tuple(hours_field(day) for day in Weekday.values)

GROUPS: tuple[tuple[Promise, tuple[str, ...]], ...] = (
    (gettext_lazy("Calendar"), ("name", "time_zone", "is_default", "active")),
    (gettext_lazy("Weekly hours"), ("is_24_7", *_WEEKDAY_FIELDS)),
    (
        gettext_lazy("Holidays and special days"),
        ("holiday_country", "holiday_subdivision", "special_days"),
    ),
)

_DEFAULT_HOURS = "09:00-17:00"


class CalendarForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("Such as Office hours Prague or Night desk."),
    )
    # A select, but checked by the service: a bad value comes back as this field's error.
    time_zone = forms.CharField(label=gettext_lazy("Time zone"), widget=forms.Select(choices=()))
    is_default = forms.BooleanField(
        label=gettext_lazy("Default calendar"),
        required=False,
        help_text=gettext_lazy("SLA policies that name no calendar count on this one."),
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    is_24_7 = forms.BooleanField(
        label=gettext_lazy("Open 24/7"),
        required=False,
        help_text=gettext_lazy(
            "Every hour of every day; the weekly hours below are then ignored, while public "
            "holidays and closed days still close their dates."
        ),
    )
    holiday_country = forms.CharField(
        label=gettext_lazy("Public holidays of"),
        required=False,
        widget=forms.Select(choices=()),
        help_text=gettext_lazy("Closed on this country's public holidays."),
    )
    holiday_subdivision = forms.CharField(
        label=gettext_lazy("Region"),
        max_length=32,
        required=False,
        help_text=gettext_lazy(
            "A region code for its own holidays too, such as BY (Bavaria) or CA (California). "
            "Leave empty for national holidays only."
        ),
    )
    special_days = forms.CharField(
        label=gettext_lazy("Special days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "One date a line. 2026-12-24 Christmas Eve closes the date; "
            "2026-12-31 09:00-13:00 New Year's Eve opens it on those hours only, "
            "also on a public holiday."
        ),
    )

    def __init__(self, *args: Any, calendar: BusinessCalendar | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.calendar = calendar
        for weekday, label in Weekday.choices:
            self.fields[hours_field(weekday)] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                help_text=(
                    gettext_lazy(
                        "Such as 08:00-12:00, 13:00-17:00 for a split shift, or 22:00-06:00 "
                        "for a night shift ending the next morning. Empty: closed."
                    )
                    if weekday == 0
                    else ""
                ),
            )
        self.fields["time_zone"].widget.choices = [
            (name, name) for name in sorted(available_time_zones())
        ]
        self.fields["holiday_country"].widget.choices = [
            ("", gettext_lazy("None")),
            *country_choices(get_language() or settings.LANGUAGE_CODE),
        ]
        if calendar is not None and calendar.is_default:
            # One calendar is always the default; the mark moves by choosing another.
            del self.fields["is_default"]

    @classmethod
    def initial_new(cls, time_zone: str) -> dict[str, Any]:
        weekdays = {hours_field(day): _DEFAULT_HOURS for day in range(5)}
        return {"time_zone": time_zone, "active": True, **weekdays}

    @classmethod
    def initial_for(cls, calendar: BusinessCalendar) -> dict[str, Any]:
        weekly = stored_weekly_hours(calendar)
        return {
            "name": calendar.name,
            "time_zone": calendar.time_zone,
            "is_default": calendar.is_default,
            "active": calendar.active,
            "is_24_7": calendar.is_24_7,
            **{hours_field(day): format_hours(weekly.get(day, ())) for day in Weekday.values},
            "holiday_country": calendar.holiday_country,
            "holiday_subdivision": calendar.holiday_subdivision,
            "special_days": format_special_days(stored_special_days(calendar)),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in _WEEKDAY_FIELDS:
            if name in data:
                try:
                    data[name] = parse_hours(data[name])
                except ValueError as error:
                    self.add_error(name, str(error))
        if "special_days" in data:
            try:
                data["special_days"] = parse_special_days(data["special_days"])
            except ValueError as error:
                self.add_error("special_days", str(error))
        return data

    def groups(self) -> list[tuple[Promise, list[forms.BoundField]]]:
        return [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in GROUPS
        ]

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned data as keyword arguments of create_calendar / update_calendar."""
        data = self.cleaned_data
        arguments = {
            "name": data["name"],
            "time_zone": data["time_zone"],
            "active": data["active"],
            "is_24_7": data["is_24_7"],
            "weekly": {day: data[hours_field(day)] for day in Weekday.values},
            "holiday_country": data["holiday_country"],
            "holiday_subdivision": data["holiday_subdivision"],
            "special_days": data["special_days"],
        }
        if "is_default" in self.fields:
            arguments["is_default"] = data["is_default"]
        return arguments


# --- SLA policies -----------------------------------------------------------------------------

Choices = Sequence[tuple[Any, str]]

_ACTION_STAGES = (
    ("warning", gettext_lazy("When the warning comes")),
    ("breach", gettext_lazy("When the target is breached")),
)
_NOTIFY_CHOICES = [
    (ASSIGNEE, gettext_lazy("the assignee")),
    (TEAM_LEAD, gettext_lazy("the team's lead")),
    (SUPERVISORS, gettext_lazy("the team's supervisors")),
]
_TARGET_LABELS = dict(Target.choices)
_IDS = re.compile(r"^[\d,\s]*$")


def target_field(priority: int, target: str) -> str:
    return f"p{priority}_{target}"


class PolicyForm(forms.Form):
    """An SLA policy; the service checks everything again and names the field it refuses."""

    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("Such as VIP customers or Standard email."),
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    priorities = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Priority"),
        required=False,
        coerce=int,
        choices=Priority.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channel"),
        required=False,
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    team_ids = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Team"), required=False, coerce=int, choices=()
    )
    mailbox_ids = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Mailbox"), required=False, coerce=int, choices=()
    )
    tags = forms.CharField(
        label=gettext_lazy("Tags"),
        required=False,
        max_length=1000,
        help_text=gettext_lazy("Any of these tags, comma separated."),
    )
    customer_ids = forms.CharField(
        label=gettext_lazy("Customer IDs"), required=False, max_length=2000
    )
    company_ids = forms.CharField(
        label=gettext_lazy("Company IDs"), required=False, max_length=2000
    )
    time_basis = forms.ChoiceField(
        label=gettext_lazy("Count the targets in"),
        choices=TimeBasis.choices,
        widget=forms.RadioSelect,
        initial=TimeBasis.BUSINESS,
    )
    calendar = forms.TypedChoiceField(
        label=gettext_lazy("Business hours"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=(),
        help_text=gettext_lazy("For business time; the default calendar when none is chosen."),
    )
    warning_percent = forms.IntegerField(
        label=gettext_lazy("Warn at this share of the target (%)"),
        min_value=1,
        max_value=99,
        initial=75,
    )

    def __init__(
        self,
        *args: Any,
        teams: Choices,
        people: Choices,
        calendars: Choices,
        mailboxes: Choices,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._choice("team_ids").choices = list(teams)
        self._choice("mailbox_ids").choices = list(mailboxes)
        if not mailboxes:
            del self.fields["mailbox_ids"]
        self._choice("calendar").choices = [("", gettext_lazy("Default calendar")), *calendars]
        for priority, label in Priority.choices:
            for target in TARGET_KINDS:
                self.fields[target_field(priority, target)] = forms.CharField(
                    label=f"{label}: {_TARGET_LABELS[target]}", required=False, max_length=40
                )
        for stage, _legend in _ACTION_STAGES:
            self.fields[f"{stage}_notify"] = forms.MultipleChoiceField(
                label=gettext_lazy("Notify"),
                required=False,
                choices=_NOTIFY_CHOICES,
                widget=forms.CheckboxSelectMultiple,
            )
            self.fields[f"{stage}_reassign_team"] = forms.TypedChoiceField(
                label=gettext_lazy("Transfer to team"),
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", "—"), *teams],
            )
            self.fields[f"{stage}_reassign_user"] = forms.TypedChoiceField(
                label=gettext_lazy("Assign to"),
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", "—"), *people],
            )
            self.fields[f"{stage}_raise_priority"] = forms.BooleanField(
                label=gettext_lazy("Raise the priority one step"), required=False
            )

    def _choice(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        return field

    @classmethod
    def initial_for(cls, policy: SlaPolicy) -> dict[str, Any]:
        conditions = policy.conditions or {}
        initial: dict[str, Any] = {
            "name": policy.name,
            "active": policy.active,
            "priorities": conditions.get("priorities", []),
            "channels": conditions.get("channels", []),
            "team_ids": conditions.get("team_ids", []),
            "mailbox_ids": conditions.get("mailbox_ids", []),
            "tags": ", ".join(conditions.get("tags", [])),
            "customer_ids": ", ".join(str(i) for i in conditions.get("customer_ids", [])),
            "company_ids": ", ".join(str(i) for i in conditions.get("company_ids", [])),
            "time_basis": policy.time_basis,
            "calendar": policy.calendar_id,
            "warning_percent": policy.warning_percent,
        }
        for row in policy.targets or []:
            for target in TARGET_KINDS:
                initial[target_field(row["priority"], target)] = format_minutes(
                    row.get(f"{target}_minutes")
                )
        for stage, actions in (
            ("warning", policy.warning_actions),
            ("breach", policy.breach_actions),
        ):
            for action in actions or []:
                if action["type"] == NOTIFY:
                    initial[f"{stage}_notify"] = action["to"]
                elif action["type"] == REASSIGN:
                    initial[f"{stage}_reassign_team"] = action.get("team_id")
                    initial[f"{stage}_reassign_user"] = action.get("user_id")
                elif action["type"] == RAISE_PRIORITY:
                    initial[f"{stage}_raise_priority"] = True
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for priority, _label in Priority.choices:
            for target in TARGET_KINDS:
                name = target_field(priority, target)
                if name not in data:
                    continue
                minutes = parse_minutes(data[name])
                if minutes is None:
                    self.add_error(name, gettext_lazy("Give a time such as 30m, 4h or 1d 4h."))
                else:
                    data[name] = minutes or None
        for name in ("customer_ids", "company_ids"):
            if name in data and not _IDS.match(data[name]):
                self.add_error(name, gettext_lazy("Give numbers, comma separated."))
        return data

    # --- to the service and back ---

    def service_arguments(self) -> dict[str, Any]:
        """Keyword arguments of create_policy / update_policy (calendar as its id)."""
        data = self.cleaned_data
        conditions: dict[str, Any] = {
            "priorities": data["priorities"],
            "channels": data["channels"],
            "team_ids": data["team_ids"],
            "mailbox_ids": data.get("mailbox_ids") or [],
            "tags": [t for t in (part.strip() for part in data["tags"].split(",")) if t],
            "customer_ids": _numbers(data["customer_ids"]),
            "company_ids": _numbers(data["company_ids"]),
        }
        targets = []
        for priority, _label in Priority.choices:
            row: dict[str, Any] = {"priority": priority}
            for target in TARGET_KINDS:
                row[f"{target}_minutes"] = data[target_field(priority, target)]
            targets.append(row)
        return {
            "name": data["name"],
            "active": data["active"],
            "conditions": {key: value for key, value in conditions.items() if value},
            "targets": targets,
            "time_basis": data["time_basis"],
            "calendar_id": data["calendar"],
            "warning_percent": data["warning_percent"],
            "warning_actions": self._actions("warning"),
            "breach_actions": self._actions("breach"),
        }

    def _actions(self, stage: str) -> list[dict[str, Any]]:
        data = self.cleaned_data
        actions: list[dict[str, Any]] = []
        if data[f"{stage}_notify"]:
            actions.append({"type": NOTIFY, "to": data[f"{stage}_notify"]})
        team_id, user_id = data[f"{stage}_reassign_team"], data[f"{stage}_reassign_user"]
        if team_id is not None or user_id is not None:
            actions.append({"type": REASSIGN, "team_id": team_id, "user_id": user_id})
        if data[f"{stage}_raise_priority"]:
            actions.append({"type": RAISE_PRIORITY})
        return actions

    def field_for(self, error_field: str | None) -> str | None:
        """The field a service refusal names: `targets.2.resolution_minutes` is p3_resolution."""
        if not error_field:
            return None
        parts = error_field.split(".")
        if parts[0] == "conditions" and len(parts) > 1:
            return parts[1] if parts[1] in self.fields else None
        if parts[0] == "targets" and len(parts) == 3 and parts[1].isdigit():  # noqa: PLR2004
            priority = Priority.values[int(parts[1])] if int(parts[1]) < len(Priority.values) else 0
            target = parts[2].removesuffix("_minutes")
            name = target_field(priority, target)
            return name if name in self.fields else None
        if parts[0] in ("warning_actions", "breach_actions"):
            return self._action_field(parts[0].removesuffix("_actions"), parts[-1])
        return error_field if error_field in self.fields else None

    def _action_field(self, stage: str, part: str) -> str:
        return {
            "user_id": f"{stage}_reassign_user",
            "team_id": f"{stage}_reassign_team",
            "to": f"{stage}_notify",
        }.get(part, f"{stage}_notify")

    # --- the template's layout ---

    def condition_fields(self) -> list[forms.BoundField]:
        names = ("priorities", "channels", "team_ids", "mailbox_ids", "tags", "customer_ids",
                 "company_ids")  # fmt: skip
        return [self[name] for name in names if name in self.fields]

    def target_rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (str(label), [self[target_field(priority, target)] for target in TARGET_KINDS])
            for priority, label in Priority.choices
        ]

    def target_labels(self) -> list[str]:
        return [str(_TARGET_LABELS[target]) for target in TARGET_KINDS]

    def action_groups(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [
            (
                legend,
                [
                    self[f"{stage}_{name}"]
                    for name in ("notify", "reassign_team", "reassign_user", "raise_priority")
                ],  # fmt: skip
            )
            for stage, legend in _ACTION_STAGES
        ]


def _numbers(text: str) -> list[int]:
    return [int(part) for part in re.split(r"[\s,]+", text.strip()) if part]
