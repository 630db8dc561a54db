"""Opening hours as people type them, and back: "08:00-12:00, 13:00-17:00".

The calendar form and the audit trail use this one notation. A closing time of 24:00 is
midnight at the end of the day; a closing time at or before the opening time is the next day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time

from django.utils.translation import gettext as _

from frontdesk.core.business_time import Hours

_TIME = r"(\d{1,2})[:.](\d{2})"
_SPAN_RE = re.compile(rf"^{_TIME}\s*[-\u2013\u2014]\s*{_TIME}$")
_SPECIAL_RE = re.compile(
    rf"^(?P<date>\d{{4}}-\d{{1,2}}-\d{{1,2}})"
    rf"(?:\s+(?P<span>{_TIME}\s*[-\u2013\u2014]\s*{_TIME}))?"
    r"(?:\s+(?P<name>.*))?$"
)
_MIDNIGHT = time(0, 0)


@dataclass(frozen=True)
class SpecialDaySpec:
    """A date closed all day (`hours` None) or open only on `hours`."""

    date: date
    name: str = ""
    hours: Hours | None = None


def _time(hour: str, minute: str, *, closing: bool) -> time:
    h, m = int(hour), int(minute)
    if closing and h == 24 and m == 0:
        return _MIDNIGHT
    if h > 23 or m > 59:
        raise ValueError(_("%(value)s is not a time of day.") % {"value": f"{hour}:{minute}"})
    return time(h, m)


def parse_span(text: str) -> Hours:
    """One span such as 08:00-17:00 (also 8.00 – 17.00)."""
    match = _SPAN_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            _("Write hours as 08:00-12:00, with several separated by commas: %(value)s")
            % {"value": text.strip()}
        )
    oh, om, ch, cm = match.groups()
    return _time(oh, om, closing=False), _time(ch, cm, closing=True)


def parse_hours(text: str) -> tuple[Hours, ...]:
    """Spans separated by commas or semicolons; empty means closed that day."""
    parts = [part for part in re.split(r"[,;]", text) if part.strip()]
    return tuple(parse_span(part) for part in parts)


def _clock(value: time, *, closing: bool) -> str:
    if closing and value == _MIDNIGHT:
        return "24:00"
    if value.second:
        return value.strftime("%H:%M:%S")
    return value.strftime("%H:%M")


def format_span(hours: Hours) -> str:
    opens, closes = hours
    return f"{_clock(opens, closing=False)}-{_clock(closes, closing=True)}"


def format_hours(hours: Iterable[Hours]) -> str:
    return ", ".join(format_span(span) for span in hours)


def parse_special_days(text: str) -> list[SpecialDaySpec]:
    """One date a line: `2026-12-24 Christmas Eve` closes it, `2026-12-24 09:00-13:00 Short
    day` opens it on those hours only. Errors name the line."""
    days: list[SpecialDaySpec] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _SPECIAL_RE.fullmatch(line)
        if match is None:
            raise ValueError(
                _("Line %(number)d: start with a date such as 2026-12-24: %(line)s")
                % {"number": number, "line": line}
            )
        try:
            day = date.fromisoformat(_padded_date(match["date"]))
        except ValueError:
            raise ValueError(
                _("Line %(number)d: %(value)s is not a date.")
                % {"number": number, "value": match["date"]}
            ) from None
        try:
            hours = parse_span(match["span"]) if match["span"] else None
        except ValueError as error:
            raise ValueError(
                _("Line %(number)d: %(error)s") % {"number": number, "error": error}
            ) from None
        days.append(SpecialDaySpec(date=day, name=(match["name"] or "").strip(), hours=hours))
    return days


def _padded_date(value: str) -> str:
    year, month, day = value.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


def format_special_days(days: Iterable[SpecialDaySpec]) -> str:
    lines = []
    for day in days:
        parts = [day.date.isoformat()]
        if day.hours is not None:
            parts.append(format_span(day.hours))
        if day.name:
            parts.append(day.name)
        lines.append(" ".join(parts))
    return "\n".join(lines)
