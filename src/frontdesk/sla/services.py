"""The only writers of business calendars.

Each write checks that the actor is an admin, validates the whole resulting calendar (hours
that overlap, an unknown time zone, country or region are refused and name their field),
writes it and one audit row in one transaction, and publishes a domain event on commit.
`by=None` is a trusted system actor (the CLI, the demo loader).

One calendar is the default, the one SLA policies fall back on: the first calendar becomes
it, making another the default moves the mark, and the default stays active and is deleted
only when it is the last calendar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, time
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.models import User
from frontdesk.accounts.permissions import require_admin
from frontdesk.accounts.services import available_time_zones
from frontdesk.core.audit import record_event
from frontdesk.core.business_time import Hours
from frontdesk.core.errors import Conflict, InvalidInput
from frontdesk.core.events import Audience, publish
from frontdesk.core.models import Via
from frontdesk.core.validation import clean_text
from frontdesk.sla.events import (
    BusinessCalendarCreated,
    BusinessCalendarDeleted,
    BusinessCalendarUpdated,
)
from frontdesk.sla.hours import SpecialDaySpec, format_hours, format_span, format_special_days
from frontdesk.sla.models import BusinessCalendar, SpecialDay, Weekday, WeeklyHours
from frontdesk.sla.public_holidays import canonical_region, subdivisions_by_country
from frontdesk.sla.schedules import stored_special_days, stored_weekly_hours

MAX_SPANS_PER_DAY = 6
MAX_SPECIAL_DAYS = 1000
_DAY = 86_400
_WEEK = 7 * _DAY

Weekly = Mapping[int, Sequence[Hours]]


# --- validation -----------------------------------------------------------------------------


def hours_field(weekday: int) -> str:
    """The form field, and error field, of one weekday's hours."""
    return f"hours_{weekday}"


def _name(value: Any) -> str:
    return clean_text(value, field="name", max_length=100, required=True)


def _time_zone(value: Any) -> str:
    zone = clean_text(value, field="time_zone", max_length=64, required=True)
    if zone not in available_time_zones():
        raise InvalidInput(
            _("%(value)s is not a time zone such as Europe/Prague.") % {"value": zone},
            field="time_zone",
        )
    return zone


def _country(value: Any) -> str:
    country = clean_text(value, field="holiday_country", max_length=2).upper()
    if country and country not in subdivisions_by_country():
        raise InvalidInput(
            _("There are no public holidays for the country code %(value)s.") % {"value": value},
            field="holiday_country",
        )
    return country


def _region(country: str, value: Any) -> str:
    region = clean_text(value, field="holiday_subdivision", max_length=32)
    if not region:
        return ""
    if not country:
        raise InvalidInput(_("Choose the country first."), field="holiday_subdivision")
    known = subdivisions_by_country()[country]
    found = canonical_region(country, region)
    if found is None:
        if not known:
            message = _("This country has no regions with their own holidays.")
        else:
            message = _("%(value)s is not a region of this country. Use one of: %(codes)s.") % {
                "value": region,
                "codes": ", ".join(known),
            }
        raise InvalidInput(message, field="holiday_subdivision")
    return found


def _span(value: Any, *, field: str) -> Hours:
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(isinstance(part, time) and part.tzinfo is None for part in value)
    ):
        raise InvalidInput(_("Give hours as an opening and a closing time."), field=field)
    return (value[0], value[1])


def _weekly(value: Weekly) -> dict[int, tuple[Hours, ...]]:
    weekly: dict[int, tuple[Hours, ...]] = {}
    for weekday, spans in value.items():
        if not isinstance(weekday, int) or weekday not in Weekday.values:
            raise InvalidInput(
                _("%(value)s is not a weekday (0 is Monday, 6 Sunday).") % {"value": weekday},
                field="weekly_hours",
            )
        field = hours_field(weekday)
        hours = tuple(sorted(_span(span, field=field) for span in spans))
        if len(hours) > MAX_SPANS_PER_DAY:
            raise InvalidInput(
                _("At most %(count)d spans of hours a day, please.") % {"count": MAX_SPANS_PER_DAY},
                field=field,
            )
        if hours:
            weekly[weekday] = hours
    _check_no_overlap(weekly)
    return weekly


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _week_span(weekday: int, hours: Hours) -> tuple[int, int]:
    """Seconds from Monday 00:00 to the span's start and end; an overnight span ends later."""
    opens, closes = (_seconds(value) for value in hours)
    length = closes - opens if closes > opens else closes - opens + _DAY
    start = weekday * _DAY + opens
    return start, start + length


def _check_no_overlap(weekly: dict[int, tuple[Hours, ...]]) -> None:
    """Refuse spans that overlap, overnight spans and the Sunday-to-Monday wrap included."""
    spans = [
        (*_week_span(weekday, hours), weekday, hours)
        for weekday, day in sorted(weekly.items())
        for hours in day
    ]
    for index, (start, end, weekday, hours) in enumerate(spans):
        for other_start, other_end, other_day, other in spans[index + 1 :]:
            for shift in (-_WEEK, 0, _WEEK):
                if other_start + shift < end and start < other_end + shift:
                    raise InvalidInput(
                        _("%(later)s on %(later_day)s overlaps %(earlier)s on %(earlier_day)s.")
                        % {
                            "later": format_span(other),
                            "later_day": Weekday(other_day).label,
                            "earlier": format_span(hours),
                            "earlier_day": Weekday(weekday).label,
                        },
                        field=hours_field(other_day),
                    )


def _special_days(value: Sequence[SpecialDaySpec]) -> list[SpecialDaySpec]:
    if len(value) > MAX_SPECIAL_DAYS:
        raise InvalidInput(
            _("At most %(count)d special days, please.") % {"count": MAX_SPECIAL_DAYS},
            field="special_days",
        )
    seen: set[date] = set()
    days: list[SpecialDaySpec] = []
    for spec in value:
        if not isinstance(spec, SpecialDaySpec) or type(spec.date) is not date:
            raise InvalidInput(_("Give each special day a date."), field="special_days")
        if spec.date in seen:
            raise InvalidInput(
                _("%(date)s is listed twice.") % {"date": spec.date.isoformat()},
                field="special_days",
            )
        seen.add(spec.date)
        hours = None if spec.hours is None else _span(spec.hours, field="special_days")
        name = clean_text(spec.name, field="special_days", max_length=100)
        days.append(SpecialDaySpec(date=spec.date, name=name, hours=hours))
    return sorted(days, key=lambda day: day.date)


def _require_hours(is_24_7: bool, weekly: dict[int, tuple[Hours, ...]]) -> None:
    if not is_24_7 and not weekly:
        raise InvalidInput(
            _("Give opening hours for at least one day, or choose open 24/7."),
            field=hours_field(0),
        )


# --- child rows -----------------------------------------------------------------------------


def _write_weekly(calendar: BusinessCalendar, weekly: dict[int, tuple[Hours, ...]]) -> None:
    WeeklyHours.objects.filter(calendar=calendar).delete()
    WeeklyHours.objects.bulk_create(
        WeeklyHours(calendar=calendar, weekday=weekday, opens=opens, closes=closes)
        for weekday, hours in sorted(weekly.items())
        for opens, closes in hours
    )


def _write_special_days(calendar: BusinessCalendar, days: list[SpecialDaySpec]) -> None:
    SpecialDay.objects.filter(calendar=calendar).delete()
    SpecialDay.objects.bulk_create(
        SpecialDay(
            calendar=calendar,
            date=day.date,
            name=day.name,
            opens=day.hours[0] if day.hours else None,
            closes=day.hours[1] if day.hours else None,
        )
        for day in days
    )


def _weekly_audit(weekly: dict[int, tuple[Hours, ...]]) -> dict[str, str]:
    return {str(weekday): format_hours(hours) for weekday, hours in sorted(weekly.items())}


def _audience(by: User | None) -> Audience:
    return Audience(user_ids=frozenset({by.pk} if by is not None else set()))


def _fetch(pk: int) -> BusinessCalendar:
    return BusinessCalendar.objects.prefetch_related("weekly_hours", "special_days").get(pk=pk)


def _name_taken() -> InvalidInput:
    return InvalidInput(_("A calendar with this name already exists."), field="name")


def _clear_other_default(calendar_id: int | None) -> int | None:
    """Take the default mark off the current default; its id, or None if there was none."""
    defaults = BusinessCalendar.objects.select_for_update().filter(is_default=True)
    if calendar_id is not None:
        defaults = defaults.exclude(pk=calendar_id)
    previous = defaults.first()
    if previous is None:
        return None
    BusinessCalendar.objects.filter(pk=previous.pk).update(is_default=False)
    return previous.pk


# --- writes ---------------------------------------------------------------------------------


def create_calendar(
    *,
    by: User | None,
    name: str,
    time_zone: str,
    weekly: Weekly | None = None,
    is_24_7: bool = False,
    holiday_country: str = "",
    holiday_subdivision: str = "",
    special_days: Sequence[SpecialDaySpec] = (),
    is_default: bool = False,
    active: bool = True,
    via: str = Via.SYSTEM,
) -> BusinessCalendar:
    """Add a calendar; the first one becomes the default whatever `is_default` says."""
    require_admin(by, _("Only admins may add business-hours calendars."))
    clean_name = _name(name)
    zone = _time_zone(time_zone)
    hours = _weekly(weekly or {})
    _require_hours(bool(is_24_7), hours)
    country = _country(holiday_country)
    region = _region(country, holiday_subdivision)
    days = _special_days(special_days)

    with transaction.atomic():
        if BusinessCalendar.objects.filter(name__iexact=clean_name).exists():
            raise _name_taken()
        make_default = (
            bool(is_default) or not BusinessCalendar.objects.filter(is_default=True).exists()
        )
        if make_default and not active:
            raise InvalidInput(_("The default calendar must be active."), field="active")
        previous_default = _clear_other_default(None) if make_default else None
        try:
            with transaction.atomic():
                calendar = BusinessCalendar.objects.create(
                    name=clean_name,
                    time_zone=zone,
                    is_24_7=bool(is_24_7),
                    holiday_country=country,
                    holiday_subdivision=region,
                    is_default=make_default,
                    active=bool(active),
                )
        except IntegrityError:
            raise _name_taken() from None
        _write_weekly(calendar, hours)
        _write_special_days(calendar, days)
        record_event(
            calendar,
            action="calendar.created",
            actor=by,
            via=via,
            data={
                "name": clean_name,
                "time_zone": zone,
                "is_24_7": bool(is_24_7),
                "weekly_hours": _weekly_audit(hours),
                "holiday_country": country,
                "holiday_subdivision": region,
                "special_days": format_special_days(days),
                "is_default": make_default,
                "previous_default_id": previous_default,
                "active": bool(active),
            },
        )
        publish(BusinessCalendarCreated(via=via, audience=_audience(by), calendar_id=calendar.pk))
    return _fetch(calendar.pk)


def update_calendar(
    calendar: BusinessCalendar,
    *,
    by: User | None,
    name: str | None = None,
    time_zone: str | None = None,
    weekly: Weekly | None = None,
    is_24_7: bool | None = None,
    holiday_country: str | None = None,
    holiday_subdivision: str | None = None,
    special_days: Sequence[SpecialDaySpec] | None = None,
    is_default: bool | None = None,
    active: bool | None = None,
    via: str = Via.SYSTEM,
) -> BusinessCalendar:
    """Change any part; None keeps it. `weekly` and `special_days` replace the whole set."""
    require_admin(by, _("Only admins may change business-hours calendars."))
    values: dict[str, Any] = {
        "name": None if name is None else _name(name),
        "time_zone": None if time_zone is None else _time_zone(time_zone),
        "is_24_7": None if is_24_7 is None else bool(is_24_7),
        "active": None if active is None else bool(active),
    }
    new_weekly = _weekly(weekly) if weekly is not None else None
    new_days = _special_days(special_days) if special_days is not None else None

    with transaction.atomic():
        locked = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
        current = _fetch(locked.pk)
        values.update(_holiday_values(locked, holiday_country, holiday_subdivision))
        changed = {
            key: value
            for key, value in values.items()
            if value is not None and getattr(locked, key) != value
        }
        stored_weekly = stored_weekly_hours(current)
        if new_weekly is not None and new_weekly != stored_weekly:
            changed["weekly_hours"] = new_weekly
        stored_days = stored_special_days(current)
        if new_days is not None and new_days != stored_days:
            changed["special_days"] = new_days
        _require_hours(
            changed.get("is_24_7", locked.is_24_7), changed.get("weekly_hours", stored_weekly)
        )
        previous_default = _change_default(locked, is_default, changed)
        if not changed:
            return current
        if "name" in changed and (
            BusinessCalendar.objects.filter(name__iexact=changed["name"])
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise _name_taken()
        columns = [key for key in changed if key not in {"weekly_hours", "special_days"}]
        for key in columns:
            setattr(locked, key, changed[key])
        locked.updated_at = timezone.now()
        try:
            with transaction.atomic():
                locked.save(update_fields=[*columns, "updated_at"])
        except IntegrityError:
            raise _name_taken() from None
        if "weekly_hours" in changed:
            _write_weekly(locked, changed["weekly_hours"])
        if "special_days" in changed:
            _write_special_days(locked, changed["special_days"])
        record_event(
            locked,
            action="calendar.updated",
            actor=by,
            via=via,
            data=_update_audit(changed, previous_default),
        )
        publish(
            BusinessCalendarUpdated(
                via=via,
                audience=_audience(by),
                calendar_id=locked.pk,
                fields=tuple(sorted(changed)),
            )
        )
    return _fetch(calendar.pk)


def _holiday_values(
    locked: BusinessCalendar, country: str | None, region: str | None
) -> dict[str, str]:
    """Cleaned country and region; a new country without a region given clears the region."""
    values: dict[str, str] = {}
    clean_country = locked.holiday_country if country is None else _country(country)
    if country is not None:
        values["holiday_country"] = clean_country
    if region is not None or clean_country != locked.holiday_country:
        values["holiday_subdivision"] = _region(clean_country, region or "")
    return values


def _change_default(
    locked: BusinessCalendar, is_default: bool | None, changed: dict[str, Any]
) -> int | None:
    """Apply a default-mark change to `changed`; the id of the calendar that lost it, if any."""
    active = changed.get("active", locked.active)
    if is_default is False and locked.is_default:
        raise InvalidInput(
            _("One calendar is always the default: make another one the default instead."),
            field="is_default",
        )
    if (is_default or locked.is_default) and not active:
        raise InvalidInput(
            _("The default calendar must stay active: make another one the default first."),
            field="active",
        )
    if is_default and not locked.is_default:
        changed["is_default"] = True
        return _clear_other_default(locked.pk)
    return None


def _update_audit(changed: dict[str, Any], previous_default: int | None) -> dict[str, Any]:
    data = dict(changed)
    if "weekly_hours" in data:
        data["weekly_hours"] = _weekly_audit(data["weekly_hours"])
    if "special_days" in data:
        data["special_days"] = format_special_days(data["special_days"])
    if previous_default is not None:
        data["previous_default_id"] = previous_default
    return data


def delete_calendar(calendar: BusinessCalendar, *, by: User | None, via: str = Via.SYSTEM) -> None:
    """Remove a calendar; the default goes only when it is the last one."""
    require_admin(by, _("Only admins may delete business-hours calendars."))
    with transaction.atomic():
        locked = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
        if locked.is_default and BusinessCalendar.objects.exclude(pk=locked.pk).exists():
            raise Conflict(_("Make another calendar the default before deleting this one."))
        record_event(
            locked,
            action="calendar.deleted",
            actor=by,
            via=via,
            data={"name": locked.name},
        )
        calendar_id = locked.pk
        locked.delete()
        publish(BusinessCalendarDeleted(via=via, audience=_audience(by), calendar_id=calendar_id))
