"""Business-time maths: DST both ways, split and overnight shifts, holidays, 24/7, long targets.

Expected due times are worked out by hand from the calendar; the wall-clock oracle at the end
checks every five minutes of weeks around DST changes and holidays against a definition of
"open" written without the year tables.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdesk.core.business_time import Hours, NeverOpen, Schedule

WARSAW = ZoneInfo("Europe/Warsaw")  # 2026: forward Sun 29 Mar 02:00, back Sun 25 Oct 03:00
NEW_YORK = ZoneInfo("America/New_York")  # 2026: forward Sun 8 Mar 02:00, back Sun 1 Nov 02:00
TOKYO = ZoneInfo("Asia/Tokyo")  # no DST
HOUR = 3600
DAY = 24 * HOUR


def t(h: int, m: int = 0) -> time:
    return time(h, m)


def at(zone: ZoneInfo, year: int, month: int, day: int, *clock: int) -> datetime:
    """A wall time in `zone`; `clock` is hour and minute, midnight when left out."""
    hour, minute = (*clock, 0, 0)[:2]
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def weekdays(*hours: Hours) -> dict[int, list[Hours]]:
    return {day: list(hours) for day in range(5)}


def every_day(*hours: Hours) -> dict[int, list[Hours]]:
    return {day: list(hours) for day in range(7)}


def local(value: datetime, zone: ZoneInfo) -> tuple[int, int, int, int, int]:
    moment = value.astimezone(zone)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute)


# --- office hours and DST --------------------------------------------------------------------


def test_office_hours_carry_over_the_weekend_of_the_spring_change() -> None:
    office = Schedule(time_zone="Europe/Warsaw", weekly=weekdays((t(9), t(17))))

    due = office.add_business_time(at(WARSAW, 2026, 3, 27, 16), 2 * HOUR)

    assert local(due, WARSAW) == (2026, 3, 30, 10, 0)
    assert due.utcoffset() == timedelta(0)
    assert office.business_seconds_between(at(WARSAW, 2026, 3, 27, 16), due) == 2 * HOUR


def test_a_full_day_on_a_dst_sunday_is_23_hours_in_spring_and_25_in_autumn() -> None:
    sundays = Schedule(time_zone="Europe/Warsaw", weekly={6: [(t(0), t(0))]})

    spring = sundays.business_seconds_between(at(WARSAW, 2026, 3, 28), at(WARSAW, 2026, 3, 31))
    autumn = sundays.business_seconds_between(at(WARSAW, 2026, 10, 24), at(WARSAW, 2026, 10, 27))

    assert spring == 23 * HOUR
    assert autumn == 25 * HOUR


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        (WARSAW, date(2026, 3, 28), date(2026, 10, 24)),
        (NEW_YORK, date(2026, 3, 7), date(2026, 10, 31)),
    ],
)
def test_a_night_shift_over_the_clock_change_lasts_7_hours_in_spring_and_9_in_autumn(
    zone: ZoneInfo, spring: date, autumn: date
) -> None:
    nights = Schedule(time_zone=zone, weekly={5: [(t(22), t(6))]})  # Saturday night
    spring_start = at(zone, spring.year, spring.month, spring.day, 22)
    autumn_start = at(zone, autumn.year, autumn.month, autumn.day, 22)

    assert nights.business_seconds_between(spring_start, spring_start + timedelta(days=1)) == (
        7 * HOUR
    )
    assert nights.business_seconds_between(autumn_start, autumn_start + timedelta(days=1)) == (
        9 * HOUR
    )
    # Seven hours from Saturday 22:00 is Sunday 06:00 on the wall, whichever the night.
    assert local(nights.add_business_time(spring_start, 7 * HOUR), zone)[3:] == (6, 0)
    assert local(nights.add_business_time(autumn_start, 9 * HOUR), zone)[3:] == (6, 0)
    # Two hours in is 01:00 in spring; in autumn, the first 01:00 (New York) or 00:00
    # after midnight plus two real hours (Warsaw, whose clocks go back at 03:00).
    in_autumn = nights.add_business_time(autumn_start, 4 * HOUR + 30 * 60)
    assert in_autumn - autumn_start.astimezone(UTC) == timedelta(hours=4, minutes=30)


def test_opening_hours_inside_the_spring_gap_open_when_the_clocks_jump() -> None:
    early = Schedule(time_zone="Europe/Warsaw", weekly={6: [(t(2, 30), t(10))]})

    opens = early.next_open(at(WARSAW, 2026, 3, 29, 0))

    assert opens is not None
    assert local(opens, WARSAW) == (2026, 3, 29, 3, 0)
    assert early.business_seconds_between(at(WARSAW, 2026, 3, 28), at(WARSAW, 2026, 3, 30)) == (
        7 * HOUR
    )


def test_opening_hours_in_the_repeated_autumn_hour_open_at_its_first_occurrence() -> None:
    early = Schedule(time_zone="Europe/Warsaw", weekly={6: [(t(2, 30), t(10))]})

    opens = early.next_open(at(WARSAW, 2026, 10, 25, 0))

    assert opens is not None
    assert opens.astimezone(WARSAW).utcoffset() == timedelta(hours=2)  # still summer time
    # 02:30 CEST to 10:00 CET is 8.5 real hours.
    assert early.business_seconds_between(at(WARSAW, 2026, 10, 24), at(WARSAW, 2026, 10, 26)) == (
        8 * HOUR + 30 * 60
    )


def test_a_zone_without_dst_keeps_whole_weeks_exact() -> None:
    office = Schedule(time_zone="Asia/Tokyo", weekly=weekdays((t(9), t(18))))
    monday = at(TOKYO, 2026, 1, 5, 9)

    assert office.business_seconds_between(monday, monday + timedelta(weeks=1)) == 45 * HOUR
    # Exactly one week of work ends on Friday at closing time, not on Monday morning.
    assert local(office.add_business_time(monday, 45 * HOUR), TOKYO) == (2026, 1, 9, 18, 0)
    assert local(office.add_business_time(monday, 52 * 45 * HOUR), TOKYO) == (2027, 1, 1, 18, 0)


# --- split and overnight shifts --------------------------------------------------------------


def test_split_shift_skips_the_lunch_break() -> None:
    split = Schedule(time_zone="Europe/Warsaw", weekly=weekdays((t(8), t(12)), (t(13), t(17))))
    monday = (2026, 5, 4)

    assert local(split.add_business_time(at(WARSAW, *monday, 11), 2 * HOUR), WARSAW)[3:] == (14, 0)
    assert local(split.add_business_time(at(WARSAW, *monday, 12, 30), HOUR), WARSAW)[3:] == (14, 0)
    # Filling the morning exactly is due at noon, when the morning closes.
    assert local(split.add_business_time(at(WARSAW, *monday, 11), HOUR), WARSAW)[3:] == (12, 0)
    assert not split.is_open(at(WARSAW, *monday, 12, 30))
    assert split.is_open(at(WARSAW, *monday, 13))
    assert not split.is_open(at(WARSAW, *monday, 17))
    opens = split.next_open(at(WARSAW, *monday, 12, 30))
    assert opens is not None
    assert local(opens, WARSAW)[3:] == (13, 0)
    assert split.business_seconds_between(at(WARSAW, *monday), at(WARSAW, *monday, 23)) == 8 * HOUR


def test_overnight_shift_crosses_midnight_and_the_new_year() -> None:
    nights = Schedule(time_zone="Europe/Warsaw", weekly=every_day((t(22), t(6))))
    eve = at(WARSAW, 2026, 12, 31, 23)

    due = nights.add_business_time(eve, 2 * HOUR)

    assert local(due, WARSAW) == (2027, 1, 1, 1, 0)
    assert nights.is_open(at(WARSAW, 2027, 1, 1, 5, 59))
    assert not nights.is_open(at(WARSAW, 2027, 1, 1, 6))
    assert nights.business_seconds_between(at(WARSAW, 2026, 12, 31, 12), due) == 3 * HOUR
    # 10 hours from 23:00: 7 this night, 3 the next evening from 22:00.
    assert local(nights.add_business_time(eve, 10 * HOUR), WARSAW) == (2027, 1, 2, 1, 0)


def test_a_24_hour_shift_and_touching_or_overlapping_spans_count_once() -> None:
    touching = Schedule(time_zone="Asia/Tokyo", weekly={0: [(t(8), t(12)), (t(12), t(16))]})
    overlapping = Schedule(time_zone="Asia/Tokyo", weekly={0: [(t(8), t(12)), (t(10), t(14))]})
    full_day = Schedule(time_zone="Asia/Tokyo", weekly={0: [(t(8), t(8))]})
    monday = at(TOKYO, 2026, 1, 5)
    week = monday + timedelta(weeks=1)

    assert local(touching.add_business_time(at(TOKYO, 2026, 1, 5, 8), 8 * HOUR), TOKYO)[3:] == (
        16,
        0,
    )
    assert overlapping.business_seconds_between(monday, week) == 6 * HOUR
    assert full_day.business_seconds_between(monday, week) == 24 * HOUR
    assert full_day.is_open(at(TOKYO, 2026, 1, 6, 7, 59))


# --- holidays and special days ---------------------------------------------------------------


def holidays_on(*days: date) -> Callable[[int], Iterable[date]]:
    return lambda year: [day for day in days if day.year == year]


def test_a_public_holiday_closes_its_whole_date() -> None:
    office = Schedule(
        time_zone="Europe/Warsaw",
        weekly=weekdays((t(9), t(17))),
        holidays=holidays_on(date(2026, 1, 6)),
    )

    due = office.add_business_time(at(WARSAW, 2026, 1, 5, 16), 2 * HOUR)

    assert local(due, WARSAW) == (2026, 1, 7, 10, 0)
    assert not office.is_open(at(WARSAW, 2026, 1, 6, 12))


def test_a_closed_date_closes_like_a_holiday() -> None:
    office = Schedule(
        time_zone="America/New_York",
        weekly=weekdays((t(9), t(17))),
        closed_dates=[date(2026, 3, 9)],
    )

    due = office.add_business_time(at(NEW_YORK, 2026, 3, 6, 16), 2 * HOUR)

    assert local(due, NEW_YORK) == (2026, 3, 10, 10, 0)


def test_overnight_shifts_stop_at_a_holiday_and_do_not_start_on_one() -> None:
    holiday = date(2026, 5, 1)
    nights = Schedule(
        time_zone="Europe/Warsaw",
        weekly=every_day((t(22), t(6))),
        holidays=holidays_on(holiday),
    )

    # The night before runs 22:00-24:00 only; the holiday's own night does not run at all,
    # not even its part after midnight; the night after runs in full.
    assert nights.is_open(at(WARSAW, 2026, 4, 30, 23))
    assert not nights.is_open(at(WARSAW, 2026, 5, 1, 1))
    assert not nights.is_open(at(WARSAW, 2026, 5, 1, 23))
    assert not nights.is_open(at(WARSAW, 2026, 5, 2, 1))
    assert nights.is_open(at(WARSAW, 2026, 5, 2, 23))
    assert (
        nights.business_seconds_between(at(WARSAW, 2026, 4, 30, 12), at(WARSAW, 2026, 5, 3, 12))
        == 2 * HOUR + 8 * HOUR
    )
    due = nights.add_business_time(at(WARSAW, 2026, 4, 30, 23), 2 * HOUR)
    assert local(due, WARSAW) == (2026, 5, 2, 23, 0)


def test_special_hours_override_the_weekly_hours_and_a_holiday() -> None:
    christmas_eve = date(2026, 12, 24)
    office = Schedule(
        time_zone="Europe/Warsaw",
        weekly=weekdays((t(9), t(17))),
        holidays=holidays_on(christmas_eve, date(2026, 12, 25)),
        special_days={christmas_eve: [(t(9), t(13))], date(2026, 12, 26): [(t(10), t(12))]},
    )

    assert office.is_open(at(WARSAW, 2026, 12, 24, 12))
    assert not office.is_open(at(WARSAW, 2026, 12, 24, 14))
    assert office.is_open(at(WARSAW, 2026, 12, 26, 11))  # a Saturday, opened specially
    due = office.add_business_time(at(WARSAW, 2026, 12, 24, 12), 2 * HOUR)
    assert local(due, WARSAW) == (2026, 12, 26, 11, 0)


def test_a_night_shift_stops_at_midnight_before_a_special_day() -> None:
    special = date(2026, 6, 10)
    nights = Schedule(
        time_zone="Europe/Warsaw",
        weekly=every_day((t(22), t(6))),
        special_days={special: [(t(10), t(12))]},
    )

    assert not nights.is_open(at(WARSAW, 2026, 6, 10, 3))
    assert nights.is_open(at(WARSAW, 2026, 6, 10, 11))
    assert (
        nights.business_seconds_between(at(WARSAW, 2026, 6, 9, 12), at(WARSAW, 2026, 6, 10, 21))
        == 4 * HOUR
    )


def test_holiday_lookups_are_made_once_a_year_however_many_calls() -> None:
    asked: list[int] = []

    def lookup(year: int) -> list[date]:
        asked.append(year)
        return [date(year, 1, 1), date(year, 12, 25)]

    office = Schedule(time_zone="Europe/Warsaw", weekly=weekdays((t(9), t(17))), holidays=lookup)
    start = at(WARSAW, 2026, 3, 2, 9)
    for hours in range(1, 500):
        office.add_business_time(start, hours * HOUR)

    assert sorted(asked) == sorted(set(asked))
    assert set(asked) <= {2025, 2026, 2027}


# --- 24/7, long targets ----------------------------------------------------------------------


def test_24_7_is_elapsed_time_across_dst() -> None:
    always = Schedule(time_zone="America/New_York", always_open=True)
    rng = random.Random(24)
    for _ in range(300):
        # In UTC: adding a timedelta to a zoned datetime would move the wall clock instead.
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(400 * DAY))
        seconds = rng.randrange(60 * DAY)

        assert always.add_business_time(start, seconds) == start + timedelta(seconds=seconds)
        assert always.business_seconds_between(start, start + timedelta(seconds=seconds)) == (
            seconds
        )
    saturday_noon = at(NEW_YORK, 2026, 3, 7, 12)
    # 24 real hours over the spring change end at 13:00 on the wall.
    assert local(always.add_business_time(saturday_noon, DAY), NEW_YORK)[3:] == (13, 0)


def test_24_7_still_closes_on_holidays() -> None:
    always = Schedule(
        time_zone="Europe/Warsaw", always_open=True, holidays=holidays_on(date(2026, 11, 11))
    )

    assert always.business_seconds_between(at(WARSAW, 2026, 11, 10), at(WARSAW, 2026, 11, 13)) == (
        2 * DAY
    )


def test_long_targets_of_many_weeks_land_on_the_right_minute() -> None:
    office = Schedule(
        time_zone="Europe/Warsaw",
        weekly=weekdays((t(9), t(17))),
        holidays=holidays_on(date(2026, 1, 1), date(2026, 12, 25), date(2027, 1, 1)),
    )
    start = at(WARSAW, 2026, 1, 2, 9)  # Friday
    # 2026 from 2 Jan: 260 weekdays, 2 of them (1 Jan, 25 Dec) holidays -> 259 days from 2 Jan.
    year_of_work = 259 * 8 * HOUR

    due = office.add_business_time(start, year_of_work)

    assert local(due, WARSAW) == (2026, 12, 31, 17, 0)
    assert office.business_seconds_between(start, due) == year_of_work
    assert local(office.add_business_time(start, year_of_work + HOUR), WARSAW) == (
        2027,
        1,
        4,
        10,
        0,
    )


def test_targets_of_years_are_cheap() -> None:
    office = Schedule(time_zone="Europe/Warsaw", weekly=weekdays((t(9), t(17))))
    start = at(WARSAW, 2026, 1, 5, 9)

    due = office.add_business_time(start, 10 * 52 * 40 * HOUR)

    assert office.business_seconds_between(start, due) == 10 * 52 * 40 * HOUR
    # Year tables, not minutes: a decade of targets builds about eleven of them.
    assert len(office._years) <= 12


# --- inverse and oracle properties -----------------------------------------------------------


SCHEDULES = {
    "warsaw split, nights on Saturday, holidays": Schedule(
        time_zone="Europe/Warsaw",
        weekly={
            **weekdays((t(8), t(12)), (t(13), t(17))),
            5: [(t(22), t(6))],
        },
        holidays=holidays_on(date(2026, 1, 6), date(2026, 5, 1), date(2026, 11, 11)),
        special_days={date(2026, 12, 24): [(t(9), t(13))]},
    ),
    "new york nights": Schedule(
        time_zone="America/New_York",
        weekly=every_day((t(20), t(4))),
        closed_dates=[date(2026, 7, 3), date(2026, 11, 26)],
    ),
    "tokyo office": Schedule(time_zone="Asia/Tokyo", weekly=weekdays((t(9), t(18)))),
    "24/7 warsaw": Schedule(time_zone="Europe/Warsaw", always_open=True),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_business_seconds_between_inverts_add_business_time(name: str) -> None:
    schedule = SCHEDULES[name]
    rng = random.Random(5)
    first = datetime(2025, 11, 1, tzinfo=UTC)
    for _ in range(2000):
        start = first + timedelta(
            seconds=rng.randrange(500 * DAY), microseconds=rng.randrange(10**6)
        )
        seconds = rng.choice([rng.randrange(12 * HOUR), rng.randrange(90 * DAY)])

        due = schedule.add_business_time(start, seconds)

        assert due >= start
        assert schedule.business_seconds_between(start, due) == seconds
        assert schedule.business_seconds_between(due, start) == -seconds
        if seconds:
            assert schedule.is_open(due - timedelta(microseconds=1))


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_due_times_grow_with_the_target(name: str) -> None:
    schedule = SCHEDULES[name]
    start = datetime(2026, 3, 6, 15, 7, tzinfo=UTC)
    dues = [schedule.add_business_time(start, minutes * 60) for minutes in range(0, 5000, 7)]

    assert dues == sorted(dues)


WeeklyHours = dict[int, list[Hours]]


def oracle_is_open(
    moment: datetime,
    zone: ZoneInfo,
    weekly: WeeklyHours,
    closed: set[date],
    special: dict[date, list[Hours]],
) -> bool:
    """Open by the rules in the module docstring, read off the wall clock."""
    wall = moment.astimezone(zone).replace(tzinfo=None)
    today, clock = wall.date(), wall.time()

    def own(day: date) -> list[Hours]:
        if day in special:
            return special[day]
        if day in closed:
            return []
        return weekly.get(day.weekday(), [])

    for opens, closes in own(today):
        if (opens < closes and opens <= clock < closes) or (closes <= opens <= clock):
            return True
    if today in special or today in closed:
        return False
    return any(closes <= opens and clock < closes for opens, closes in own(today - timedelta(1)))


@pytest.mark.parametrize(
    ("zone", "first_day"),
    [
        (WARSAW, date(2026, 3, 24)),
        (WARSAW, date(2026, 10, 20)),
        (WARSAW, date(2026, 4, 28)),
        (NEW_YORK, date(2026, 3, 3)),
        (NEW_YORK, date(2026, 10, 28)),
        (TOKYO, date(2026, 12, 27)),
    ],
)
def test_every_five_minutes_agree_with_the_wall_clock_oracle(
    zone: ZoneInfo, first_day: date
) -> None:
    weekly: WeeklyHours = {
        0: [(t(8), t(12)), (t(13), t(17))],
        1: [(t(8), t(12)), (t(13), t(17))],
        2: [(t(22), t(6))],
        3: [(t(1), t(4)), (t(23), t(3))],
        4: [(t(9), t(17)), (t(21), t(1, 30))],
        5: [(t(22), t(6))],
        6: [(t(0), t(0))],
    }
    closed = {date(2026, 5, 1), date(2026, 3, 26), date(2026, 10, 31), date(2027, 1, 1)}
    special = {date(2026, 10, 22): [(t(10), t(11))], date(2026, 3, 5): []}
    schedule = Schedule(
        time_zone=zone,
        weekly=weekly,
        special_days=special,
        holidays=lambda year: [day for day in closed if day.year == year],
    )
    start = datetime.combine(first_day, time(0), tzinfo=zone).astimezone(UTC)
    step = timedelta(minutes=5)
    open_steps = 0
    for index in range(10 * 24 * 12):
        moment = start + index * step
        expected = oracle_is_open(moment, zone, weekly, closed, special)

        assert schedule.is_open(moment) == expected, moment.astimezone(zone)
        open_steps += expected
    end = start + 10 * 24 * 12 * step
    assert schedule.business_seconds_between(start, end) == open_steps * 5 * 60


# --- edges and refusals ----------------------------------------------------------------------


def test_zero_seconds_is_the_start_itself_even_when_closed() -> None:
    office = Schedule(time_zone="Europe/Warsaw", weekly=weekdays((t(9), t(17))))
    sunday = at(WARSAW, 2026, 5, 3, 12)

    assert office.add_business_time(sunday, 0) == sunday


def test_fractions_of_a_second_are_kept() -> None:
    always = Schedule(time_zone="UTC", always_open=True)
    start = datetime(2026, 1, 1, tzinfo=UTC)

    assert always.add_business_time(start, 1.5) == start + timedelta(seconds=1.5)
    assert always.business_seconds_between(start, start + timedelta(seconds=1.9)) == 1


def test_a_schedule_with_no_hours_is_never_open() -> None:
    closed = Schedule(time_zone="Europe/Warsaw")
    noon = at(WARSAW, 2026, 5, 4, 12)

    assert closed.never_open
    assert not closed.is_open(noon)
    assert closed.next_open(noon) is None
    assert closed.business_seconds_between(noon, noon + timedelta(days=30)) == 0
    with pytest.raises(NeverOpen):
        closed.add_business_time(noon, 60)


def test_open_only_on_past_special_days_has_no_due_time() -> None:
    once = Schedule(time_zone="Europe/Warsaw", special_days={date(2020, 5, 4): [(t(9), t(17))]})

    with pytest.raises(NeverOpen):
        once.add_business_time(at(WARSAW, 2026, 5, 4, 12), 60)
    assert once.next_open(at(WARSAW, 2026, 5, 4, 12)) is None
    assert once.business_seconds_between(at(WARSAW, 2020, 5, 4), at(WARSAW, 2020, 5, 5)) == (
        8 * HOUR
    )


def test_refuses_naive_datetimes_negative_targets_and_bad_hours() -> None:
    office = Schedule(time_zone="Europe/Warsaw", weekly=weekdays((t(9), t(17))))

    with pytest.raises(ValueError, match="aware"):
        office.add_business_time(datetime(2026, 5, 4, 12), 60)  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        office.add_business_time(at(WARSAW, 2026, 5, 4, 12), -1)
    with pytest.raises(ValueError, match="weekday"):
        Schedule(time_zone="UTC", weekly={7: [(t(9), t(17))]})
    with pytest.raises(ValueError, match="without a time zone"):
        Schedule(time_zone="UTC", weekly={0: [(time(9, tzinfo=UTC), t(17))]})
    with pytest.raises(ValueError, match="both closed"):
        Schedule(
            time_zone="UTC",
            closed_dates=[date(2026, 1, 1)],
            special_days={date(2026, 1, 1): [(t(9), t(10))]},
        )
