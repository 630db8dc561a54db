"""Business-time maths: when a desk is open, and how much open time lies between two instants.

Pure: no models, no settings, no I/O. A `Schedule` is a calendar described in plain values
(a time zone, weekly hours, special days, a public-holiday lookup); the sla app builds one
from a calendar row.

The rules, in the order they apply:

- Business time is real elapsed time while the desk is open. Opening hours are local wall-clock
  times in the schedule's zone, so a 22:00-06:00 shift lasts 7 hours on the night the clocks go
  forward and 9 on the night they go back; 08:00-17:00 is 9 hours on either day.
- A wall time that does not exist (inside the spring-forward gap) means the moment the clocks
  jumped; a wall time that happens twice (fall back) means its first occurrence.
- Hours whose closing time is at or before their opening time end the next day: 22:00-06:00 is
  an overnight shift, 00:00-00:00 the whole day.
- Each local date is one of: *normal* (its weekday's hours, or the whole day when 24/7),
  *closed* (a public holiday or a closed date) or *special* (open exactly the hours given for
  it, which override the weekly hours and a public holiday on that date).
- A shift belongs to the date it starts on. A closed date holds no business time at all: its own
  shifts do not run (not even their part after midnight), and an overnight shift from the
  evening before stops at its midnight. A special date holds only its own hours, so a shift
  from the evening before stops at its midnight too.

Speed: for every local year the schedule builds, once, the sorted open windows of that year
(as integer microseconds since the epoch) and their running totals of open time. A call is
then two binary searches, whatever the duration: a target of many weeks costs the same as one
of an hour, and holidays and DST changes are exact because the windows are real instants.
Holiday lookups happen once per year, when that year's table is built.
"""

from __future__ import annotations

import zoneinfo
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

__all__ = ["Hours", "NeverOpen", "Schedule"]

Hours = tuple[time, time]
"""Opening and closing wall time; closing at or before opening means the next day."""

_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - wall times are naive on purpose
_MIDNIGHT = time(0, 0)
# Years of tables a search may walk through without finding open time before it gives up:
# weekly hours always open somewhere within a year, so only a schedule open on a few
# special dates (or a holiday lookup that closes everything) gets this far.
_MAX_EMPTY_YEARS = 8
_FIRST_YEAR = 2
_LAST_YEAR = 9998


class NeverOpen(ValueError):
    """The schedule has no open time after the given instant, so no due time exists."""


@dataclass(frozen=True, slots=True)
class _Year:
    """Open windows of one local year, clipped to it: [starts[i], ends[i]) in epoch µs.

    `before[i]` is the open time of the year before window i, `upto[i]` up to its end.
    """

    number: int
    lo: int
    hi: int
    starts: list[int]
    ends: list[int]
    before: list[int]
    upto: list[int]

    @property
    def total(self) -> int:
        return self.upto[-1] if self.upto else 0

    def position(self, at: int) -> int:
        """Open µs of this year before the instant `at` (which lies in the year)."""
        i = bisect_right(self.ends, at)
        if i == len(self.ends):
            return self.total
        start = self.starts[i]
        return self.before[i] + (at - start if at > start else 0)

    def window_at_or_after(self, at: int) -> int:
        """Index of the window that contains `at` or comes first after it (len when none)."""
        return bisect_right(self.ends, at)


class Schedule:
    """A calendar in plain values, with the maths on it. Safe to share between threads.

    weekly: hours per weekday (Monday 0 .. Sunday 6); several per day for split shifts.
    always_open: 24/7; the weekly hours are then ignored, closed and special dates still apply.
    special_days: dates open exactly the given hours (an empty tuple closes the date).
    closed_dates: dates closed all day (custom closed dates).
    holidays: public holidays by year, called once per year; a special day overrides them.
    """

    __slots__ = (
        "_holiday_years",
        "_holidays",
        "_never_open",
        "_special",
        "_tz",
        "_weekly",
        "_years",
    )

    def __init__(
        self,
        *,
        time_zone: str | zoneinfo.ZoneInfo,
        weekly: Mapping[int, Iterable[Hours]] | None = None,
        always_open: bool = False,
        special_days: Mapping[date, Iterable[Hours]] | None = None,
        closed_dates: Iterable[date] = (),
        holidays: Callable[[int], Iterable[date]] | None = None,
    ) -> None:
        self._tz = zoneinfo.ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
        week: list[tuple[Hours, ...]] = [() for _ in range(7)]
        for weekday, hours in (weekly or {}).items():
            if not (isinstance(weekday, int) and 0 <= weekday <= 6):
                raise ValueError(f"weekday {weekday!r} is not 0 (Monday) to 6 (Sunday)")
            week[weekday] = _checked_hours(hours)
        if always_open:
            week = [((_MIDNIGHT, _MIDNIGHT),)] * 7
        self._weekly = tuple(week)
        self._special = {day: _checked_hours(hours) for day, hours in (special_days or {}).items()}
        for day in closed_dates:
            if self._special.get(day):
                raise ValueError(f"{day} is both closed and open on special hours")
            self._special[day] = ()
        self._never_open = not any(self._weekly) and not any(self._special.values())
        self._holidays = holidays
        self._holiday_years: dict[int, frozenset[date]] = {}
        self._years: dict[int, _Year] = {}

    @property
    def time_zone(self) -> tzinfo:
        return self._tz

    @property
    def never_open(self) -> bool:
        """True when no hours are given at all: nothing can ever be due."""
        return self._never_open

    # --- the maths ---------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        t = _to_us(at)
        year = self._year_containing(t, at)
        i = year.window_at_or_after(t)
        return i < len(year.starts) and year.starts[i] <= t

    def next_open(self, at: datetime) -> datetime | None:
        """`at` itself when open, else the moment the desk next opens; None if it never does."""
        t = _to_us(at)
        year = self._year_containing(t, at)
        i = year.window_at_or_after(t)
        if i < len(year.starts):
            return _from_us(max(t, year.starts[i]))
        if self.never_open:
            return None
        number = year.number
        for _ in range(_MAX_EMPTY_YEARS):
            number += 1
            year = self._year(number)
            if year.starts:
                return _from_us(year.starts[0])
        return None

    def add_business_time(self, start: datetime, seconds: float) -> datetime:
        """The instant `seconds` of open time after `start` (in UTC): the due time.

        Zero seconds is `start` itself. A target that fills a window exactly is due at the
        window's close (17:00), not when the desk opens again. Raises NeverOpen when the
        schedule has no open time left.
        """
        amount = _seconds_to_us(seconds)
        t = _to_us(start)
        if amount == 0:
            return _from_us(t)
        if self.never_open:
            raise NeverOpen("the schedule has no opening hours")
        year = self._year_containing(t, start)
        number = year.number
        target = year.position(t) + amount
        empty = 0
        while target > year.total:
            target -= year.total
            empty = empty + 1 if not year.starts else 0
            if empty > _MAX_EMPTY_YEARS:
                raise NeverOpen(f"the schedule has no open time after {start.isoformat()}")
            number += 1
            year = self._year(number)
        j = bisect_left(year.upto, target)
        return _from_us(year.ends[j] - (year.upto[j] - target))

    def business_seconds_between(self, start: datetime, end: datetime) -> int:
        """Whole seconds of open time from `start` to `end`; negative when `end` is earlier."""
        a, b = _to_us(start), _to_us(end)
        if b < a:
            return -self.business_seconds_between(end, start)
        first = self._year_containing(a, start)
        last = self._year_containing(b, end)
        open_us = last.position(b) - first.position(a)
        for number in range(first.number, last.number):
            open_us += self._year(number).total
        return open_us // 1_000_000

    # --- year tables -------------------------------------------------------------------------

    def _year_containing(self, t: int, at: datetime) -> _Year:
        # `at` may be in any zone; its year is off by at most one around New Year.
        number = at.year
        year = self._year(number)
        if t < year.lo:
            return self._year(number - 1)
        if t >= year.hi:
            return self._year(number + 1)
        return year

    def _year(self, number: int) -> _Year:
        year = self._years.get(number)
        if year is None:
            year = self._years[number] = self._build_year(number)
        return year

    def _closed_in(self, number: int) -> frozenset[date]:
        closed = self._holiday_years.get(number)
        if closed is None:
            found = self._holidays(number) if self._holidays is not None else ()
            closed = self._holiday_years[number] = frozenset(found)
        return closed

    def _hours_on(self, day: date) -> tuple[Hours, ...]:
        special = self._special.get(day)
        if special is not None:
            return special
        if day in self._closed_in(day.year):
            return ()
        return self._weekly[day.weekday()]

    def _stops_overnight_shifts(self, day: date) -> bool:
        """A shift from the evening before ends at this date's midnight."""
        return day in self._special or day in self._closed_in(day.year)

    def _build_year(self, number: int) -> _Year:
        if not _FIRST_YEAR <= number <= _LAST_YEAR:
            raise OverflowError(f"year {number} is outside the supported range")
        tz = self._tz
        lo = _wall_to_us(tz, datetime(number, 1, 1))  # noqa: DTZ001
        hi = _wall_to_us(tz, datetime(number + 1, 1, 1))  # noqa: DTZ001
        windows: list[tuple[int, int]] = []
        # The last day of the year before may run an overnight shift into this one.
        day = date(number - 1, 12, 31)
        last = date(number, 12, 31)
        while day <= last:
            following = day + _ONE_DAY
            for opens, closes in self._hours_on(day):
                start = _wall_to_us(tz, datetime.combine(day, opens))
                if closes > opens:
                    end = _wall_to_us(tz, datetime.combine(day, closes))
                elif self._stops_overnight_shifts(following):
                    end = _wall_to_us(tz, datetime.combine(following, _MIDNIGHT))
                else:
                    end = _wall_to_us(tz, datetime.combine(following, closes))
                start, end = max(start, lo), min(end, hi)
                if start < end:
                    windows.append((start, end))
            day = following
        return _table(number, lo, hi, windows)


def _table(number: int, lo: int, hi: int, windows: list[tuple[int, int]]) -> _Year:
    """Merge overlapping or touching windows and add up their running totals."""
    windows.sort()
    starts: list[int] = []
    ends: list[int] = []
    for start, end in windows:
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
            continue
        starts.append(start)
        ends.append(end)
    before: list[int] = []
    upto: list[int] = []
    total = 0
    for start, end in zip(starts, ends, strict=True):
        before.append(total)
        total += end - start
        upto.append(total)
    return _Year(number=number, lo=lo, hi=hi, starts=starts, ends=ends, before=before, upto=upto)


def _checked_hours(hours: Iterable[Hours]) -> tuple[Hours, ...]:
    checked = tuple(hours)
    for pair in checked:
        if len(pair) != 2 or not all(isinstance(value, time) for value in pair):
            raise ValueError(f"hours must be (opens, closes) times, not {pair!r}")
        if any(value.tzinfo is not None for value in pair):
            raise ValueError("opening hours are wall times: give them without a time zone")
    return checked


def _seconds_to_us(seconds: float) -> int:
    amount = seconds * 1_000_000 if isinstance(seconds, int) else round(seconds * 1_000_000)
    if amount < 0:
        raise ValueError("business time to add cannot be negative")
    return amount


def _to_us(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business-time maths needs an aware datetime")
    return (at - _EPOCH) // _US


def _from_us(t: int) -> datetime:
    return _EPOCH + timedelta(microseconds=t)


def _offset_at(tz: tzinfo, t: int) -> timedelta | None:
    return _from_us(t).astimezone(tz).utcoffset()


def _wall_to_us(tz: tzinfo, wall: datetime) -> int:
    """The instant a naive local wall time names in `tz` (see the module's rules)."""
    before = tz.utcoffset(wall)
    after = tz.utcoffset(wall.replace(fold=1))
    assert before is not None and after is not None  # noqa: S101 - a real zone always answers
    naive = (wall - _NAIVE_EPOCH) // _US
    if before == after:
        return naive - before // _US
    candidates = ((naive - before // _US, before), (naive - after // _US, after))
    valid = [t for t, offset in candidates if _offset_at(tz, t) == offset]
    if valid:
        # Happens twice (clocks went back): the first occurrence.
        return min(valid)
    # In the gap (clocks went forward): the moment they jumped.
    return _first_instant_with_offset(tz, min(t for t, _ in candidates), max(after, before))


def _first_instant_with_offset(tz: tzinfo, low: int, offset: timedelta) -> int:
    """Binary search, in whole seconds, for the transition just after `low`."""
    lo_s = low // 1_000_000
    # No zone has skipped more than a day (Samoa, 2011), so the new offset holds by then.
    hi_s = lo_s + 2 * 86_400
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if _offset_at(tz, mid * 1_000_000) == offset:
            hi_s = mid
        else:
            lo_s = mid
    return hi_s * 1_000_000
