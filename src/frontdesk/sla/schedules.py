"""Calendar rows to `core.business_time.Schedule`, and the preview the calendar page shows.

Reads only. A schedule is cached per calendar version (its id and `updated_at`, which every
change bumps), so recomputing many conversations on one calendar builds its year tables once.
"""

from __future__ import annotations

import functools
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from frontdesk.core.business_time import Hours, Schedule
from frontdesk.sla.hours import SpecialDaySpec
from frontdesk.sla.models import BusinessCalendar
from frontdesk.sla.public_holidays import holiday_dates, holidays_in_year

_MAX_CACHED = 256
_cache: dict[tuple[int, datetime], Schedule] = {}
_cache_lock = threading.Lock()


def schedule_for_calendar(calendar: BusinessCalendar) -> Schedule:
    """The calendar's schedule: weekly hours (or 24/7), its public holidays, its special days.

    Reads `calendar.weekly_hours` and `calendar.special_days` (prefetch them for many).
    """
    key = (calendar.pk, calendar.updated_at)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    schedule = build_schedule(calendar)
    with _cache_lock:
        if len(_cache) >= _MAX_CACHED:
            _cache.clear()
        _cache[key] = schedule
    return schedule


def stored_weekly_hours(calendar: BusinessCalendar) -> dict[int, tuple[Hours, ...]]:
    """The calendar's weekly rows by weekday (only days with hours), spans in order."""
    weekly: dict[int, list[Hours]] = defaultdict(list)
    for row in calendar.weekly_hours.all():
        weekly[row.weekday].append((row.opens, row.closes))
    return {weekday: tuple(sorted(hours)) for weekday, hours in weekly.items()}


def stored_special_days(calendar: BusinessCalendar) -> list[SpecialDaySpec]:
    return [
        SpecialDaySpec(
            date=day.date,
            name=day.name,
            hours=None if day.opens is None or day.closes is None else (day.opens, day.closes),
        )
        for day in calendar.special_days.all()
    ]


def build_schedule(calendar: BusinessCalendar) -> Schedule:
    special = {day.date: (day.hours,) if day.hours else () for day in stored_special_days(calendar)}
    holidays = None
    if calendar.holiday_country:
        holidays = functools.partial(
            holiday_dates, calendar.holiday_country, calendar.holiday_subdivision
        )
    return Schedule(
        time_zone=calendar.time_zone,
        weekly=stored_weekly_hours(calendar),
        always_open=calendar.is_24_7,
        special_days=special,
        holidays=holidays,
    )


# --- preview --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpcomingDay:
    """A date that is not an ordinary day: `hours` None means closed all day."""

    date: date
    name: str
    is_public_holiday: bool
    hours: Hours | None


@dataclass(frozen=True)
class CalendarPreview:
    """What the calendar means right now, in its own time zone."""

    now: datetime
    open_now: bool
    next_open: datetime | None
    sample_seconds: int
    sample_due: datetime | None
    days: list[UpcomingDay]

    @property
    def sample_hours(self) -> int:
        return self.sample_seconds // 3600


def upcoming_days(
    calendar: BusinessCalendar, *, today: date, count: int = 10, language: str | None = None
) -> list[UpcomingDay]:
    """The next `count` public holidays and special days from `today`, within two years."""
    horizon = (today.year, today.year + 1)
    found: dict[date, UpcomingDay] = {}
    if calendar.holiday_country:
        for year in horizon:
            for day, name in holidays_in_year(
                calendar.holiday_country, calendar.holiday_subdivision, year, language
            ):
                found[day] = UpcomingDay(date=day, name=name, is_public_holiday=True, hours=None)
    for special in stored_special_days(calendar):
        if special.date.year in horizon:
            # A special day overrides the holiday; keep the holiday's name if it has none.
            holiday = found.get(special.date)
            found[special.date] = UpcomingDay(
                date=special.date,
                name=special.name or (holiday.name if holiday else ""),
                is_public_holiday=False,
                hours=special.hours,
            )
    return [found[day] for day in sorted(found) if day >= today][:count]


def preview_calendar(
    calendar: BusinessCalendar,
    *,
    now: datetime,
    sample_seconds: int = 8 * 3600,
    language: str | None = None,
) -> CalendarPreview:
    schedule = schedule_for_calendar(calendar)
    zone = ZoneInfo(calendar.time_zone)
    local_now = now.astimezone(zone)
    next_open = schedule.next_open(now)
    due = None if schedule.never_open else schedule.add_business_time(now, sample_seconds)
    return CalendarPreview(
        now=local_now,
        open_now=schedule.is_open(now),
        next_open=next_open.astimezone(zone) if next_open else None,
        sample_seconds=sample_seconds,
        sample_due=due.astimezone(zone) if due else None,
        days=upcoming_days(calendar, today=local_now.date(), language=language),
    )
