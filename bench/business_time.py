"""Timing business-time maths: µs per due-time computation on a realistic calendar.

A Warsaw help desk: split shifts Monday to Friday (08:00-12:00, 13:00-17:00), Saturday
morning, Polish public holidays from the `holidays` package, a few special days. Starts are
spread over two years (both DST changes, every holiday); targets mix an hour, a working day,
three days, a week and a month of business time, as SLA first-response, next-response and
resolution targets would.

    .venv/bin/python bench/business_time.py            # 100,000 calls
    .venv/bin/python bench/business_time.py --calls 1000000

Prints one JSON object. No database, no Django: the maths is pure.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from frontdesk.core.business_time import Schedule
from frontdesk.sla.public_holidays import holiday_dates

HOUR = 3600
TARGETS = (HOUR, 8 * HOUR, 3 * 8 * HOUR, 5 * 8 * HOUR, 22 * 8 * HOUR)


def realistic_schedule() -> Schedule:
    split = [(clock(8), clock(12)), (clock(13), clock(17))]
    return Schedule(
        time_zone="Europe/Warsaw",
        weekly={**{day: split for day in range(5)}, 5: [(clock(9), clock(13))]},
        special_days={
            date(2026, 12, 24): [(clock(9), clock(12))],
            date(2026, 12, 31): [(clock(9), clock(12))],
            date(2027, 5, 4): [],
        },
        holidays=functools.partial(holiday_dates, "PL", ""),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    first = datetime(2026, 1, 1, tzinfo=UTC)
    starts = [first + timedelta(seconds=rng.randrange(2 * 365 * 86_400)) for _ in range(args.calls)]
    targets = [rng.choice(TARGETS) for _ in range(args.calls)]

    began = time.perf_counter()
    holiday_dates("PL", "", 2026)
    holidays_ms = (time.perf_counter() - began) * 1000

    schedule = realistic_schedule()
    began = time.perf_counter()
    for year in (2026, 2027):
        schedule.is_open(datetime(year, 6, 1, tzinfo=UTC))
    cold_ms = (time.perf_counter() - began) * 1000

    began = time.perf_counter()
    dues = [schedule.add_business_time(s, t) for s, t in zip(starts, targets, strict=True)]
    add_s = time.perf_counter() - began

    began = time.perf_counter()
    for start, due in zip(starts, dues, strict=True):
        schedule.business_seconds_between(start, due)
    between_s = time.perf_counter() - began

    print(
        json.dumps(
            {
                "calls": args.calls,
                "holidays_package_first_year_ms": round(holidays_ms, 1),
                "two_year_tables_ms": round(cold_ms, 1),
                "add_business_time_us": round(add_s / args.calls * 1e6, 2),
                "business_seconds_between_us": round(between_s / args.calls * 1e6, 2),
                "add_business_time_total_s": round(add_s, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
