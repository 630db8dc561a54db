"""Calendar services: who may change calendars, what is refused (naming the field), what is
audited and announced, the default mark, and the schedule built from a calendar row."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from frontdesk.core.errors import Conflict, InvalidInput, PermissionDenied
from frontdesk.core.models import Event, Via
from frontdesk.sla.events import (
    BusinessCalendarCreated,
    BusinessCalendarDeleted,
    BusinessCalendarUpdated,
)
from frontdesk.sla.hours import SpecialDaySpec
from frontdesk.sla.models import BusinessCalendar, SpecialDay, WeeklyHours
from frontdesk.sla.schedules import preview_calendar, schedule_for_calendar, upcoming_days
from frontdesk.sla.selectors import access_calendar, default_calendar, list_calendars
from frontdesk.sla.services import create_calendar, delete_calendar, update_calendar
from tests.conftest import Personas
from tests.events import collected

WARSAW = ZoneInfo("Europe/Warsaw")
OFFICE = {day: [(time(9), time(17))] for day in range(5)}


def make(by: Any, **overrides: Any) -> BusinessCalendar:
    values: dict[str, Any] = {"name": "Office", "time_zone": "Europe/Warsaw", "weekly": OFFICE}
    values.update(overrides)
    return create_calendar(by=by, **values)


def local(value: datetime) -> tuple[int, int, int, int]:
    moment = value.astimezone(WARSAW)
    return (moment.month, moment.day, moment.hour, moment.minute)


def refused(error: pytest.ExceptionInfo[InvalidInput]) -> str | None:
    return error.value.field


# --- create -----------------------------------------------------------------------------------


def test_admin_creates_a_calendar_audited_and_announced(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        collected(BusinessCalendarCreated) as events,
        django_capture_on_commit_callbacks(execute=True),
    ):
        calendar = make(
            people.admin,
            name="  Office Warsaw ",
            weekly={0: [(time(13), time(17)), (time(8), time(12))], 5: [(time(22), time(6))]},
            holiday_country="pl",
            special_days=[
                SpecialDaySpec(date=date(2026, 12, 31), name="NYE", hours=(time(9), time(13)))
            ],
            via=Via.WEB,
        )

    assert calendar.name == "Office Warsaw"
    assert calendar.holiday_country == "PL"
    assert calendar.is_default  # the first calendar is the default
    assert [(row.weekday, row.opens, row.closes) for row in calendar.weekly_hours.all()] == [
        (0, time(8), time(12)),
        (0, time(13), time(17)),
        (5, time(22), time(6)),
    ]
    assert [(day.date, day.opens) for day in calendar.special_days.all()] == [
        (date(2026, 12, 31), time(9))
    ]
    event = Event.objects.get(action="calendar.created")
    assert event.object_id == calendar.pk
    assert event.actor_id == people.admin.pk
    assert event.via == Via.WEB
    assert event.data["weekly_hours"] == {"0": "08:00-12:00, 13:00-17:00", "5": "22:00-06:00"}
    assert event.data["special_days"] == "2026-12-31 09:00-13:00 NYE"
    assert len(events) == 1
    assert isinstance(events[0], BusinessCalendarCreated)
    assert events[0].calendar_id == calendar.pk
    assert events[0].audience.user_ids == frozenset({people.admin.pk})


@pytest.mark.parametrize("persona", ["agent", "supervisor", "customer_user"])
def test_only_admins_change_calendars(people: Personas, persona: str) -> None:
    calendar = make(people.admin)
    user = getattr(people, persona)

    with pytest.raises(PermissionDenied):
        make(user, name="Other")
    with pytest.raises(PermissionDenied):
        update_calendar(calendar, by=user, name="Renamed")
    with pytest.raises(PermissionDenied):
        delete_calendar(calendar, by=user)
    calendar.refresh_from_db()
    assert calendar.name == "Office"
    assert BusinessCalendar.objects.count() == 1


def test_an_inactive_admin_is_refused(people: Personas) -> None:
    people.admin.is_active = False
    people.admin.save()

    with pytest.raises(PermissionDenied):
        make(people.admin)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": "  "}, "name", "required"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "not a time zone"),
        ({"holiday_country": "XX"}, "holiday_country", "no public holidays"),
        ({"holiday_country": "PL", "holiday_subdivision": "99"}, "holiday_subdivision", "02, 04"),
        ({"holiday_subdivision": "BY"}, "holiday_subdivision", "country first"),
        ({"weekly": {}}, "hours_0", "at least one day"),
        ({"weekly": {1: [(time(8), time(12)), (time(11), time(14))]}}, "hours_1", "overlaps"),
        # Sunday's night shift runs into Monday morning.
        (
            {"weekly": {0: [(time(5), time(9))], 6: [(time(22), time(6))]}},
            "hours_6",
            "overlaps",
        ),
        ({"weekly": {7: [(time(8), time(12))]}}, "weekly_hours", "not a weekday"),
        ({"weekly": {0: [(time(8), "noon")]}}, "hours_0", "opening and a closing"),
        (
            {"weekly": {0: [(time(h), time(h, 30)) for h in range(7)]}},
            "hours_0",
            "At most 6",
        ),
        (
            {
                "special_days": [
                    SpecialDaySpec(date=date(2026, 12, 24)),
                    SpecialDaySpec(date=date(2026, 12, 24), name="again"),
                ]
            },
            "special_days",
            "listed twice",
        ),
        (
            {"special_days": [SpecialDaySpec(date=date(2026, 12, 24), name="x" * 101)]},
            "special_days",
            "At most 100",
        ),
    ],
)
def test_bad_input_is_refused_naming_its_field(
    people: Personas, overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as error:
        make(people.admin, **overrides)

    assert refused(error) == field
    assert not BusinessCalendar.objects.exists()
    assert not Event.objects.filter(action__startswith="calendar.").exists()


def test_spans_that_only_touch_are_allowed_and_24_7_needs_no_hours(people: Personas) -> None:
    touching = make(people.admin, weekly={0: [(time(8), time(12)), (time(12), time(16))]})
    always = make(people.admin, name="Always", weekly={}, is_24_7=True)

    assert touching.weekly_hours.count() == 2
    assert always.is_24_7


def test_region_is_matched_in_any_case(people: Personas) -> None:
    calendar = make(people.admin, holiday_country="de", holiday_subdivision="by")

    assert (calendar.holiday_country, calendar.holiday_subdivision) == ("DE", "BY")


def test_names_are_unique_whatever_the_case(people: Personas) -> None:
    make(people.admin)

    with pytest.raises(InvalidInput, match="already exists") as error:
        make(people.admin, name="OFFICE")
    assert refused(error) == "name"


# --- default ----------------------------------------------------------------------------------


def test_making_another_calendar_the_default_moves_the_mark(people: Personas) -> None:
    office = make(people.admin)
    nights = make(people.admin, name="Nights", weekly={0: [(time(22), time(6))]})
    assert not nights.is_default

    update_calendar(nights, by=people.admin, is_default=True)

    office.refresh_from_db()
    nights.refresh_from_db()
    assert nights.is_default and not office.is_default
    assert default_calendar() == nights
    event = Event.objects.filter(action="calendar.updated").get()
    assert event.data == {"is_default": True, "previous_default_id": office.pk}


def test_creating_a_new_default_takes_the_mark(people: Personas) -> None:
    office = make(people.admin)

    support = make(people.admin, name="Support", is_default=True)

    office.refresh_from_db()
    assert support.is_default and not office.is_default
    assert (
        Event.objects.get(action="calendar.created", object_id=support.pk).data[
            "previous_default_id"
        ]
        == office.pk
    )


def test_the_default_cannot_be_unmarked_or_deactivated(people: Personas) -> None:
    office = make(people.admin)

    with pytest.raises(InvalidInput) as unmark:
        update_calendar(office, by=people.admin, is_default=False)
    with pytest.raises(InvalidInput) as deactivate:
        update_calendar(office, by=people.admin, active=False)
    with pytest.raises(InvalidInput) as inactive_first:
        make(people.admin, name="Inactive", active=False, is_default=True)

    assert refused(unmark) == "is_default"
    assert refused(deactivate) == "active"
    assert refused(inactive_first) == "active"
    office.refresh_from_db()
    assert office.is_default and office.active


def test_other_calendars_may_be_deactivated(people: Personas) -> None:
    make(people.admin)
    nights = make(people.admin, name="Nights")

    updated = update_calendar(nights, by=people.admin, active=False)

    assert not updated.active


# --- update -----------------------------------------------------------------------------------


def test_update_replaces_hours_and_special_days_and_audits_only_the_changes(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    calendar = make(
        people.admin, special_days=[SpecialDaySpec(date=date(2026, 12, 24), name="Eve")]
    )
    before = calendar.updated_at

    with (
        collected(BusinessCalendarUpdated) as events,
        django_capture_on_commit_callbacks(execute=True),
    ):
        updated = update_calendar(
            calendar,
            by=people.admin,
            name="Office",
            time_zone="Europe/Warsaw",
            weekly={0: [(time(8), time(16))]},
            special_days=[SpecialDaySpec(date=date(2026, 12, 31), name="NYE")],
        )

    assert [(row.weekday, row.opens) for row in updated.weekly_hours.all()] == [(0, time(8))]
    assert [day.date for day in updated.special_days.all()] == [date(2026, 12, 31)]
    assert WeeklyHours.objects.count() == 1
    assert SpecialDay.objects.count() == 1
    assert updated.updated_at > before
    event = Event.objects.get(action="calendar.updated")
    assert event.data == {"weekly_hours": {"0": "08:00-16:00"}, "special_days": "2026-12-31 NYE"}
    assert len(events) == 1
    assert isinstance(events[0], BusinessCalendarUpdated)
    assert events[0].fields == ("special_days", "weekly_hours")


def test_an_update_that_changes_nothing_writes_nothing(people: Personas) -> None:
    calendar = make(people.admin)

    update_calendar(calendar, by=people.admin, name="Office", weekly=OFFICE)

    assert not Event.objects.filter(action="calendar.updated").exists()


def test_a_new_country_clears_the_old_region(people: Personas) -> None:
    calendar = make(people.admin, holiday_country="DE", holiday_subdivision="BY")

    updated = update_calendar(calendar, by=people.admin, holiday_country="PL")

    assert (updated.holiday_country, updated.holiday_subdivision) == ("PL", "")


def test_turning_24_7_off_needs_weekly_hours(people: Personas) -> None:
    always = make(people.admin, weekly={}, is_24_7=True)

    with pytest.raises(InvalidInput) as error:
        update_calendar(always, by=people.admin, is_24_7=False)

    assert refused(error) == "hours_0"


def test_a_refused_update_leaves_the_calendar_as_it_was(people: Personas) -> None:
    calendar = make(people.admin)
    make(people.admin, name="Nights")

    with pytest.raises(InvalidInput):
        update_calendar(
            calendar,
            by=people.admin,
            name="Nights",
            weekly={0: [(time(8), time(12))]},
        )

    calendar.refresh_from_db()
    assert calendar.name == "Office"
    assert calendar.weekly_hours.count() == 5


# --- delete -----------------------------------------------------------------------------------


def test_delete_a_calendar_audited_and_announced(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    make(people.admin)
    nights = make(people.admin, name="Nights")

    with (
        collected(BusinessCalendarDeleted) as events,
        django_capture_on_commit_callbacks(execute=True),
    ):
        delete_calendar(nights, by=people.admin, via=Via.WEB)

    assert not BusinessCalendar.objects.filter(pk=nights.pk).exists()
    assert not WeeklyHours.objects.filter(calendar_id=nights.pk).exists()
    event = Event.objects.get(action="calendar.deleted")
    assert (event.object_id, event.data) == (nights.pk, {"name": "Nights"})
    assert [getattr(e, "calendar_id", None) for e in events] == [nights.pk]


def test_the_default_is_deleted_only_when_it_is_the_last(people: Personas) -> None:
    office = make(people.admin)
    nights = make(people.admin, name="Nights")

    with pytest.raises(Conflict):
        delete_calendar(office, by=people.admin)
    delete_calendar(nights, by=people.admin)
    delete_calendar(office, by=people.admin)

    assert not BusinessCalendar.objects.exists()


# --- reads ------------------------------------------------------------------------------------


def test_staff_see_calendars_and_customers_do_not(people: Personas) -> None:
    calendar = make(people.admin)

    assert list_calendars(people.agent) == [calendar]
    assert access_calendar(people.supervisor, calendar.pk) == calendar
    assert list_calendars(people.customer_user) == []


# --- the schedule from a calendar row ----------------------------------------------------------


def test_the_schedule_closes_on_the_countrys_public_holidays(people: Personas) -> None:
    calendar = make(people.admin, holiday_country="PL")
    schedule = schedule_for_calendar(calendar)

    # Tuesday 6 January is Epiphany in Poland.
    due = schedule.add_business_time(datetime(2026, 1, 5, 16, tzinfo=WARSAW), 2 * 3600)

    assert local(due) == (1, 7, 10, 0)


def test_regional_holidays_apply_only_with_the_region(people: Personas) -> None:
    germany = make(people.admin, name="Berlin", holiday_country="DE")
    bavaria = make(people.admin, name="Munich", holiday_country="DE", holiday_subdivision="BY")
    epiphany_noon = datetime(2026, 1, 6, 12, tzinfo=ZoneInfo("Europe/Berlin"))

    assert schedule_for_calendar(germany).is_open(epiphany_noon)
    assert not schedule_for_calendar(bavaria).is_open(epiphany_noon)


def test_observed_holidays_close_the_desk(people: Personas) -> None:
    calendar = make(
        people.admin, name="New York", time_zone="America/New_York", holiday_country="US"
    )

    # 4 July 2026 is a Saturday; the holiday is observed on Friday 3 July.
    friday = datetime(2026, 7, 3, 12, tzinfo=ZoneInfo("America/New_York"))
    assert not schedule_for_calendar(calendar).is_open(friday)


def test_special_days_override_holidays_and_close_dates(people: Personas) -> None:
    calendar = make(
        people.admin,
        holiday_country="PL",
        special_days=[
            SpecialDaySpec(date=date(2026, 11, 11), name="On call", hours=(time(10), time(12))),
            SpecialDaySpec(date=date(2026, 11, 12), name="Team day"),
        ],
    )
    schedule = schedule_for_calendar(calendar)

    assert schedule.is_open(datetime(2026, 11, 11, 11, tzinfo=WARSAW))
    assert not schedule.is_open(datetime(2026, 11, 11, 13, tzinfo=WARSAW))
    assert not schedule.is_open(datetime(2026, 11, 12, 11, tzinfo=WARSAW))


def test_the_schedule_follows_an_update(people: Personas) -> None:
    calendar = make(people.admin)
    monday_eight = datetime(2026, 5, 4, 8, tzinfo=WARSAW)
    assert not schedule_for_calendar(calendar).is_open(monday_eight)

    updated = update_calendar(calendar, by=people.admin, weekly={0: [(time(7), time(15))]})

    assert schedule_for_calendar(updated).is_open(monday_eight)


def test_upcoming_days_list_holidays_and_special_days_in_order(people: Personas) -> None:
    calendar = make(
        people.admin,
        holiday_country="PL",
        special_days=[
            SpecialDaySpec(date=date(2026, 12, 24), hours=(time(9), time(13))),
            SpecialDaySpec(date=date(2026, 12, 28), name="Inventory"),
        ],
    )

    days = upcoming_days(calendar, today=date(2026, 12, 1), count=5)

    assert [(day.date, day.name, day.is_public_holiday, day.hours) for day in days] == [
        (date(2026, 12, 24), "Christmas Eve", False, (time(9), time(13))),
        (date(2026, 12, 25), "Christmas Day", True, None),
        (date(2026, 12, 26), "Second Day of Christmas", True, None),
        (date(2026, 12, 28), "Inventory", False, None),
        (date(2027, 1, 1), "New Year's Day", True, None),
    ]


def test_holiday_names_follow_the_language(people: Personas) -> None:
    calendar = make(people.admin, holiday_country="PL")

    days = upcoming_days(calendar, today=date(2026, 12, 25), count=1, language="pl")

    assert days[0].name == "Boże Narodzenie (pierwszy dzień)"


def test_preview_gives_the_due_time_of_a_sample_target(people: Personas) -> None:
    calendar = make(people.admin, holiday_country="PL")
    friday_four = datetime(2026, 1, 2, 16, tzinfo=WARSAW)

    preview = preview_calendar(calendar, now=friday_four)

    assert preview.open_now
    assert preview.sample_due is not None
    # 1 hour on Friday, then 7 on Monday 5 January.
    assert local(preview.sample_due) == (1, 5, 16, 0)
    assert preview.days[0].date == date(2026, 1, 6)
    assert preview.now.utcoffset() == timedelta(hours=1)
