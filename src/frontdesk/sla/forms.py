"""The calendar form; it parses the typed hours, sla/services.py decides.

Weekly hours are one text field a weekday ("08:00-12:00, 13:00-17:00"), special days one
date a line: no script is needed to add a row, and a typo comes back on its own field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy

from frontdesk.accounts.services import available_time_zones
from frontdesk.sla.hours import format_hours, format_special_days, parse_hours, parse_special_days
from frontdesk.sla.models import BusinessCalendar, Weekday
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
