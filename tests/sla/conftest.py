"""SLA tests: reactions run as in production (after each commit), a Prague office calendar,
and policies made through the services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import time
from typing import Any

import pytest

from frontdesk.sla.models import BusinessCalendar, SlaPolicy
from frontdesk.sla.services import create_calendar, create_policy
from tests.conftest import Personas

OFFICE_HOURS = {day: [(time(9), time(17))] for day in range(5)}

Live = Callable[[], AbstractContextManager[Any]]
MakePolicy = Callable[..., SlaPolicy]


@pytest.fixture
def live(django_capture_on_commit_callbacks: Any) -> Live:
    """`with live():` runs the on-commit reactions of the block, as a real commit would."""

    @contextmanager
    def block() -> Iterator[Any]:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            yield callbacks

    return block


@pytest.fixture
def office(people: Personas) -> BusinessCalendar:
    """Monday to Friday 09:00-17:00 in Prague, the default calendar."""
    return create_calendar(
        by=people.admin, name="Prague office", time_zone="Europe/Prague", weekly=OFFICE_HOURS
    )


def targets(
    priority: int = 2,
    *,
    first: int | None = None,
    following: int | None = None,
    resolution: int | None = None,
) -> dict[str, Any]:
    """One priority's targets in minutes."""
    return {
        "priority": priority,
        "first_response_minutes": first,
        "next_response_minutes": following,
        "resolution_minutes": resolution,
    }


@pytest.fixture
def make_policy(people: Personas) -> MakePolicy:
    def make(name: str = "Standard", **values: Any) -> SlaPolicy:
        values.setdefault("targets", [targets(first=60, following=30, resolution=8 * 60)])
        return create_policy(by=people.admin, name=name, **values)

    return make
