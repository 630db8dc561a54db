"""Targets as people type them: "90", "45m", "4h", "1d 4h", "2 d" (a bare number is minutes).

A day here is 24 hours of whatever the policy counts: on business time, "1d" is 24 business
hours (three 8-hour days), as in the help desks people know. Parsing returns None for text
that is not a duration; the form turns that into an error on its field.
"""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)\s*(d|h|m|min)?\s*", re.IGNORECASE)
_MINUTES = {"d": 24 * 60, "h": 60, "m": 1, "min": 1, "": 1}


def parse_minutes(text: str) -> int | None:
    """Minutes in `text`; None when it is not a duration (empty text is 0)."""
    value = text.strip().lower().replace(",", " ")
    if not value:
        return 0
    total = 0
    position = 0
    while position < len(value):
        match = _PART.match(value, position)
        if match is None:
            return None
        total += int(match.group(1)) * _MINUTES[match.group(2) or ""]
        position = match.end()
    return total


def format_minutes(minutes: int | None) -> str:
    """The shortest way to type it back: 1500 is "1d 1h", 45 is "45m"."""
    if not minutes:
        return ""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return " ".join(part for part in parts if part)
