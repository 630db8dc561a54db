"""The only writers of business calendars and SLA policies (timers: sla/timers.py).

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

from frontdesk.accounts.models import Membership, Team, User
from frontdesk.accounts.permissions import require_admin
from frontdesk.accounts.services import available_time_zones
from frontdesk.conversations.models import Channel, Priority
from frontdesk.conversations.validation import clean_tags
from frontdesk.core.audit import record_event
from frontdesk.core.business_time import Hours
from frontdesk.core.errors import Conflict, InvalidInput, NotFound
from frontdesk.core.events import Audience, publish
from frontdesk.core.models import Via
from frontdesk.core.validation import clean_text
from frontdesk.customers.models import Company, Customer
from frontdesk.mail.models import Mailbox
from frontdesk.sla.events import (
    BusinessCalendarCreated,
    BusinessCalendarDeleted,
    BusinessCalendarUpdated,
    SlaPolicyChanged,
)
from frontdesk.sla.hours import SpecialDaySpec, format_hours, format_span, format_special_days
from frontdesk.sla.models import (
    BusinessCalendar,
    SlaPolicy,
    SpecialDay,
    TimeBasis,
    Weekday,
    WeeklyHours,
)
from frontdesk.sla.policies import (
    ACTION_TYPES,
    CONDITION_KINDS,
    NOTIFY,
    NOTIFY_AUDIENCES,
    RAISE_PRIORITY,
    REASSIGN,
    TARGET_KINDS,
)
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
        locked = (
            BusinessCalendar.objects.select_for_update()
            .prefetch_related("weekly_hours", "special_days")
            .get(pk=calendar.pk)
        )
        values.update(_holiday_values(locked, holiday_country, holiday_subdivision))
        changed = {
            key: value
            for key, value in values.items()
            if value is not None and getattr(locked, key) != value
        }
        stored_weekly = stored_weekly_hours(locked)
        if new_weekly is not None and new_weekly != stored_weekly:
            changed["weekly_hours"] = new_weekly
        stored_days = stored_special_days(locked)
        if new_days is not None and new_days != stored_days:
            changed["special_days"] = new_days
        _require_hours(
            changed.get("is_24_7", locked.is_24_7), changed.get("weekly_hours", stored_weekly)
        )
        previous_default = _change_default(locked, is_default, changed)
        if not changed:
            return locked
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


# --- SLA policies ---------------------------------------------------------------------------
#
# Admins write policies; each write validates the whole policy (a field named on refusal:
# `conditions.team_ids`, `targets.2.resolution_minutes`, `warning_actions.0.user_id`),
# writes it with one audit row and publishes SlaPolicyChanged, whose reaction recomputes
# the open conversations' timers in a task.

MAX_TARGET_MINUTES = 366 * 24 * 60
MAX_CONDITION_VALUES = 500
MAX_ACTIONS = 10

_UNSET: Any = object()


def _id_list(value: Any, *, field: str) -> list[int]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise InvalidInput(_("Give a list."), field=field)
    if len(value) > MAX_CONDITION_VALUES:
        raise InvalidInput(
            _("At most %(count)d values, please.") % {"count": MAX_CONDITION_VALUES}, field=field
        )
    found: list[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            raise InvalidInput(_("%(value)s is not an id.") % {"value": item}, field=field)
        if item not in found:
            found.append(item)
    return sorted(found)


def _check_exist(model: Any, ids: list[int], *, field: str) -> None:
    known = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [str(pk) for pk in ids if pk not in known]
    if missing:
        raise InvalidInput(
            _("There is nothing with the id %(ids)s.") % {"ids": ", ".join(missing)}, field=field
        )


def _conditions(value: Any) -> dict[str, list[Any]]:
    if not isinstance(value, Mapping):
        raise InvalidInput(_("Give the conditions as an object."), field="conditions")
    unknown = sorted(set(value) - set(CONDITION_KINDS))
    if unknown:
        raise InvalidInput(
            _("Unknown condition %(name)s.") % {"name": unknown[0]},
            field=f"conditions.{unknown[0]}",
        )
    cleaned: dict[str, list[Any]] = {}
    for kind in CONDITION_KINDS:
        raw = value.get(kind)
        if not raw:
            continue
        field = f"conditions.{kind}"
        if kind == "priorities":
            cleaned[kind] = _choices(raw, Priority.values, field=field)
        elif kind == "channels":
            cleaned[kind] = _choices(raw, Channel.values, field=field)
        elif kind == "tags":
            try:
                cleaned[kind] = sorted(clean_tags(list(raw)))
            except InvalidInput as error:
                raise InvalidInput(error.detail, field=field) from None
        else:
            cleaned[kind] = _id_list(raw, field=field)
    for kind, model in (
        ("team_ids", Team),
        ("customer_ids", Customer),
        ("company_ids", Company),
        ("mailbox_ids", Mailbox),
    ):
        if kind in cleaned:
            _check_exist(model, cleaned[kind], field=f"conditions.{kind}")
    return cleaned


def _choices(value: Any, allowed: Sequence[Any], *, field: str) -> list[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise InvalidInput(_("Give a list."), field=field)
    for item in value:
        if item not in allowed or isinstance(item, bool):
            raise InvalidInput(_("%(value)s is not a choice here.") % {"value": item}, field=field)
    return sorted(set(value))


def _targets(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise InvalidInput(_("Give the targets as a list."), field="targets")
    cleaned: dict[int, dict[str, Any]] = {}
    for index, entry in enumerate(value):
        field = f"targets.{index}"
        if not isinstance(entry, Mapping):
            raise InvalidInput(_("Give each target as an object."), field=field)
        unknown = sorted(set(entry) - {"priority", *(f"{k}_minutes" for k in TARGET_KINDS)})
        if unknown:
            raise InvalidInput(_("Unknown field %(name)s.") % {"name": unknown[0]},
                               field=f"{field}.{unknown[0]}")  # fmt: skip
        priority = entry.get("priority")
        if priority not in Priority.values or isinstance(priority, bool):
            raise InvalidInput(_("Choose a priority."), field=f"{field}.priority")
        if priority in cleaned:
            raise InvalidInput(_("Each priority once, please."), field=f"{field}.priority")
        row: dict[str, Any] = {"priority": priority}
        for kind in TARGET_KINDS:
            name = f"{kind}_minutes"
            minutes = entry.get(name)
            if minutes is not None and (
                isinstance(minutes, bool)
                or not isinstance(minutes, int)
                or not 1 <= minutes <= MAX_TARGET_MINUTES
            ):
                raise InvalidInput(
                    _("Give whole minutes from 1 to %(max)d, or nothing.")
                    % {"max": MAX_TARGET_MINUTES},
                    field=f"{field}.{name}",
                )
            row[name] = minutes
        if any(row[f"{kind}_minutes"] is not None for kind in TARGET_KINDS):
            cleaned[priority] = row
    if not cleaned:
        raise InvalidInput(_("Give at least one target."), field="targets")
    return [cleaned[priority] for priority in sorted(cleaned)]


def _actions(value: Any, *, field: str) -> list[dict[str, Any]]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise InvalidInput(_("Give the actions as a list."), field=field)
    if len(value) > MAX_ACTIONS:
        raise InvalidInput(_("At most %(count)d actions, please.") % {"count": MAX_ACTIONS},
                           field=field)  # fmt: skip
    cleaned: list[dict[str, Any]] = []
    for index, action in enumerate(value):
        where = f"{field}.{index}"
        if not isinstance(action, Mapping) or action.get("type") not in ACTION_TYPES:
            raise InvalidInput(_("Choose an action."), field=f"{where}.type")
        kind = action["type"]
        if any(item["type"] == kind for item in cleaned):
            raise InvalidInput(_("Each action once, please."), field=f"{where}.type")
        if kind == NOTIFY:
            cleaned.append({"type": NOTIFY, "to": _notify_audiences(action.get("to"), where)})
        elif kind == REASSIGN:
            cleaned.append(_reassign_action(action, where))
        else:
            cleaned.append({"type": RAISE_PRIORITY})
    return cleaned


def _notify_audiences(value: Any, where: str) -> list[str]:
    if (
        isinstance(value, str | bytes)
        or not isinstance(value, Sequence)
        or not value
        or any(item not in NOTIFY_AUDIENCES for item in value)
    ):
        raise InvalidInput(
            _("Notify some of: %(choices)s.") % {"choices": ", ".join(NOTIFY_AUDIENCES)},
            field=f"{where}.to",
        )
    return [item for item in NOTIFY_AUDIENCES if item in value]


def _reassign_action(action: Mapping[str, Any], where: str) -> dict[str, Any]:
    team_id, user_id = action.get("team_id"), action.get("user_id")
    if team_id is None and user_id is None:
        raise InvalidInput(_("Choose a person or a team to reassign to."), field=f"{where}.user_id")
    team = None
    if team_id is not None:
        team = Team.objects.filter(pk=team_id).first() if isinstance(team_id, int) else None
        if team is None:
            raise InvalidInput(_("There is no team %(id)s.") % {"id": team_id},
                               field=f"{where}.team_id")  # fmt: skip
    if user_id is not None:
        user = User.objects.filter(pk=user_id).first() if isinstance(user_id, int) else None
        if user is None or not (user.is_active and user.is_agent_staff):
            raise InvalidInput(_("%(id)s is not someone who can be assigned conversations.")
                               % {"id": user_id}, field=f"{where}.user_id")  # fmt: skip
        if team is not None and not Membership.objects.filter(team=team, user=user).exists():
            raise InvalidInput(
                _("%(name)s is not a member of %(team)s.") % {"name": user, "team": team},
                field=f"{where}.user_id",
            )
    return {"type": REASSIGN, "team_id": team_id, "user_id": user_id}


def _policy_name_taken() -> InvalidInput:
    return InvalidInput(_("A policy with this name already exists."), field="name")


def _policy_name(value: Any, *, exclude: int | None = None) -> str:
    name = clean_text(value, field="name", max_length=100, required=True)
    taken = SlaPolicy.objects.filter(name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise _policy_name_taken()
    return name


def _time_basis(value: Any) -> str:
    if value not in TimeBasis.values:
        raise InvalidInput(_("Choose business hours or calendar time."), field="time_basis")
    return str(value)


def _warning_percent(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 99:  # noqa: PLR2004
        raise InvalidInput(_("Give a share from 1 to 99 %."), field="warning_percent")
    return value


def _calendar_id(calendar_id: int | None, time_basis: str) -> int | None:
    # A calendar-time policy counts on no calendar; keeping one would only mislead.
    return None if time_basis == TimeBasis.CALENDAR else calendar_id


def _policy_values(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "active": policy.active,
        "conditions": policy.conditions,
        "targets": policy.targets,
        "time_basis": policy.time_basis,
        "calendar_id": policy.calendar_id,
        "warning_percent": policy.warning_percent,
        "warning_actions": policy.warning_actions,
        "breach_actions": policy.breach_actions,
    }


def create_policy(
    *,
    by: User | None,
    name: str,
    targets: Sequence[Mapping[str, Any]],
    conditions: Mapping[str, Any] | None = None,
    time_basis: str = TimeBasis.BUSINESS,
    calendar: BusinessCalendar | None = None,
    warning_percent: int = 75,
    warning_actions: Sequence[Mapping[str, Any]] = (),
    breach_actions: Sequence[Mapping[str, Any]] = (),
    active: bool = True,
    via: str = Via.SYSTEM,
) -> SlaPolicy:
    """Add a policy after the others (the first matching one applies: move it up to win)."""
    require_admin(by, _("Only admins may add SLA policies."))
    basis = _time_basis(time_basis)
    values = {
        "targets": _targets(targets),
        "conditions": _conditions(conditions or {}),
        "time_basis": basis,
        "calendar_id": _calendar_id(calendar.pk if calendar is not None else None, basis),
        "warning_percent": _warning_percent(warning_percent),
        "warning_actions": _actions(warning_actions, field="warning_actions"),
        "breach_actions": _actions(breach_actions, field="breach_actions"),
        "active": bool(active),
    }
    with transaction.atomic():
        # The table lock of the ordering: two admins adding at once get distinct positions.
        last = SlaPolicy.objects.select_for_update().order_by("-position").first()
        clean_name = _policy_name(name)
        try:
            with transaction.atomic():
                policy = SlaPolicy.objects.create(
                    name=clean_name,
                    position=(last.position + 1) if last is not None else 1,
                    **values,
                )
        except IntegrityError:
            raise _policy_name_taken() from None
        record_event(policy, action="sla_policy.created", actor=by, via=via,
                     data={**_policy_values(policy), "position": policy.position})  # fmt: skip
        publish(SlaPolicyChanged(via=via, audience=_audience(by), policy_id=policy.pk,
                                 change="created"))  # fmt: skip
    return policy


def update_policy(
    policy: SlaPolicy,
    *,
    by: User | None,
    name: str | None = None,
    targets: Sequence[Mapping[str, Any]] | None = None,
    conditions: Mapping[str, Any] | None = None,
    time_basis: str | None = None,
    calendar: BusinessCalendar | None = _UNSET,
    warning_percent: int | None = None,
    warning_actions: Sequence[Mapping[str, Any]] | None = None,
    breach_actions: Sequence[Mapping[str, Any]] | None = None,
    active: bool | None = None,
    via: str = Via.SYSTEM,
) -> SlaPolicy:
    """Change any part; None keeps it (for `calendar`, leaving it out keeps it: None is the
    default calendar)."""
    require_admin(by, _("Only admins may change SLA policies."))
    with transaction.atomic():
        locked = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
        basis = locked.time_basis if time_basis is None else _time_basis(time_basis)
        if calendar is _UNSET:
            given = locked.calendar_id
        else:
            given = calendar.pk if calendar is not None else None
        candidates: dict[str, Any] = {
            "name": None if name is None else _policy_name(name, exclude=locked.pk),
            "targets": None if targets is None else _targets(targets),
            "conditions": None if conditions is None else _conditions(conditions),
            "time_basis": basis,
            "calendar_id": _calendar_id(given, basis),
            "warning_percent": None if warning_percent is None else _warning_percent(
                warning_percent),
            "warning_actions": None if warning_actions is None else _actions(
                warning_actions, field="warning_actions"),
            "breach_actions": None if breach_actions is None else _actions(
                breach_actions, field="breach_actions"),
            "active": None if active is None else bool(active),
        }  # fmt: skip
        changed = {
            key: value
            for key, value in candidates.items()
            if (value is not None or key == "calendar_id") and getattr(locked, key) != value
        }
        if not changed:
            return locked
        for key, value in changed.items():
            setattr(locked, key, value)
        locked.updated_at = timezone.now()
        try:
            with transaction.atomic():
                locked.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            raise _policy_name_taken() from None
        record_event(locked, action="sla_policy.updated", actor=by, via=via, data=changed)
        publish(SlaPolicyChanged(via=via, audience=_audience(by), policy_id=locked.pk,
                                 change="updated"))  # fmt: skip
    return SlaPolicy.objects.select_related("calendar").get(pk=locked.pk)


def delete_policy(policy: SlaPolicy, *, by: User | None, via: str = Via.SYSTEM) -> None:
    """Remove a policy; conversations it applied to fall to the next matching one."""
    require_admin(by, _("Only admins may delete SLA policies."))
    with transaction.atomic():
        locked = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
        record_event(locked, action="sla_policy.deleted", actor=by, via=via,
                     data={"name": locked.name})  # fmt: skip
        policy_id = locked.pk
        locked.delete()
        publish(SlaPolicyChanged(via=via, audience=_audience(by), policy_id=policy_id,
                                 change="deleted"))  # fmt: skip


def reorder_policies(
    *, by: User | None, policy_ids: Sequence[int], via: str = Via.SYSTEM
) -> list[SlaPolicy]:
    """Put the policies in this order (every policy, each once): the first match applies."""
    require_admin(by, _("Only admins may reorder SLA policies."))
    with transaction.atomic():
        current = list(SlaPolicy.objects.select_for_update().order_by("position", "id"))
        wanted = list(policy_ids)
        if sorted(wanted) != sorted(p.pk for p in current):
            raise InvalidInput(_("List every policy once, in the new order."), field="policy_ids")
        by_id = {p.pk: p for p in current}
        previous = [p.pk for p in current]
        if wanted == previous:
            return current
        now = timezone.now()
        ordered = []
        for position, pk in enumerate(wanted, start=1):
            item = by_id[pk]
            item.position = position
            item.updated_at = now
            ordered.append(item)
        SlaPolicy.objects.bulk_update(ordered, ["position", "updated_at"])
        for item in ordered:
            record_event(item, action="sla_policy.reordered", actor=by, via=via,
                         data={"position": item.position, "order": wanted})  # fmt: skip
        publish(SlaPolicyChanged(via=via, audience=_audience(by), policy_id=wanted[0],
                                 change="reordered"))  # fmt: skip
    return ordered


def move_policy(
    policy: SlaPolicy, *, by: User | None, steps: int, via: str = Via.SYSTEM
) -> list[SlaPolicy]:
    """Move one policy up (negative steps) or down the order."""
    ids = list(SlaPolicy.objects.order_by("position", "id").values_list("pk", flat=True))
    if policy.pk not in ids:
        raise NotFound(_("No such policy."))
    index = ids.index(policy.pk)
    target = max(0, min(len(ids) - 1, index + steps))
    ids.insert(target, ids.pop(index))
    return reorder_policies(by=by, policy_ids=ids, via=via)
