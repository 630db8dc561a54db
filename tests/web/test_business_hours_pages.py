"""The business-hours pages under Manage: admins only, typed hours parsed with errors on their
field, and the preview of holidays and a sample due time."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from frontdesk.core.models import Event
from frontdesk.sla.hours import SpecialDaySpec
from frontdesk.sla.models import BusinessCalendar
from frontdesk.sla.services import create_calendar
from tests.conftest import Personas

FORM = {
    "name": "Office Warsaw",
    "time_zone": "Europe/Warsaw",
    "active": "on",
    "hours_0": "08:00-12:00, 13:00-17:00",
    "hours_1": "8:00 - 16:00",
    "hours_2": "",
    "hours_3": "",
    "hours_4": "09:00-17:00",
    "hours_5": "22:00-06:00",
    "hours_6": "",
    "holiday_country": "PL",
    "holiday_subdivision": "",
    "special_days": "2026-12-24 Christmas Eve\n\n2026-12-31 09:00-13:00 New Year's Eve\n",
}


@pytest.fixture
def admin_client(client: Client, people: Personas) -> Client:
    client.force_login(people.admin)
    return client


@pytest.fixture
def calendar(people: Personas) -> BusinessCalendar:
    return create_calendar(
        by=people.admin,
        name="Office",
        time_zone="Europe/Warsaw",
        weekly={0: [(time(8), time(12)), (time(13), time(0))], 2: [(time(9), time(17))]},
        holiday_country="PL",
        special_days=[SpecialDaySpec(date=date(2026, 12, 24), name="Christmas Eve")],
    )


def field_errors(page: str, field: str) -> str:
    """The error list Django renders for one field (empty when none)."""
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</ul>', page, re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize("persona", ["agent", "supervisor", "customer_user"])
def test_business_hours_pages_are_forbidden_to_everyone_but_admins(
    client: Client, people: Personas, calendar: BusinessCalendar, persona: str
) -> None:
    client.force_login(getattr(people, persona))

    assert client.get(reverse("sla:calendars")).status_code == 403
    assert client.get(reverse("sla:calendar_new")).status_code == 403
    assert client.get(reverse("sla:calendar_edit", args=[calendar.pk])).status_code == 403
    assert client.post(reverse("sla:calendar_new"), FORM).status_code == 403
    assert client.post(reverse("sla:calendar_delete", args=[calendar.pk])).status_code == 403
    assert BusinessCalendar.objects.count() == 1


def test_the_manage_navigation_links_to_business_hours(admin_client: Client) -> None:
    page = admin_client.get(reverse("accounts:manage_users")).content.decode()

    assert reverse("sla:calendars") in page


def test_list_shows_calendars_with_their_hours(
    admin_client: Client,
    calendar: BusinessCalendar,
    people: Personas,
    django_assert_max_num_queries: Any,
) -> None:
    create_calendar(by=people.admin, name="Always", time_zone="UTC", is_24_7=True)

    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("sla:calendars"))

    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("sla:calendar_edit", args=[calendar.pk]) in page
    assert "Monday 08:00-12:00, 13:00-24:00" in page
    assert "24/7" in page
    assert "PL" in page
    assert 'aria-current="page"' in page


def test_create_a_calendar_from_typed_hours(admin_client: Client) -> None:
    response = admin_client.post(reverse("sla:calendar_new"), FORM)

    calendar = BusinessCalendar.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sla:calendar_edit", args=[calendar.pk])
    assert [(row.weekday, row.opens, row.closes) for row in calendar.weekly_hours.all()] == [
        (0, time(8), time(12)),
        (0, time(13), time(17)),
        (1, time(8), time(16)),
        (4, time(9), time(17)),
        (5, time(22), time(6)),
    ]
    assert [(day.date, day.name, day.opens) for day in calendar.special_days.all()] == [
        (date(2026, 12, 24), "Christmas Eve", None),
        (date(2026, 12, 31), "New Year's Eve", time(9)),
    ]
    assert calendar.holiday_country == "PL"
    assert calendar.is_default
    assert Event.objects.get(action="calendar.created").via == "web"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"hours_2": "9 to 5"}, "hours_2", "Write hours as 08:00-12:00"),
        ({"hours_2": "09:00-25:00"}, "hours_2", "not a time of day"),
        ({"special_days": "2026-12-24 Eve\nChristmas"}, "special_days", "Line 2"),
        ({"special_days": "2026-02-30 Nope"}, "special_days", "not a date"),
        ({"hours_1": "08:00-12:00, 11:00-13:00"}, "hours_1", "overlaps"),
        ({"holiday_subdivision": "XX"}, "holiday_subdivision", "not a region"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a time zone"),
    ],
)
def test_a_refused_calendar_shows_the_error_on_its_field(
    admin_client: Client, changes: dict[str, str], field: str, message: str
) -> None:
    response = admin_client.post(reverse("sla:calendar_new"), {**FORM, **changes})

    page = response.content.decode()
    assert response.status_code == 200
    assert message in field_errors(page, field)
    assert not BusinessCalendar.objects.exists()


def test_the_edit_page_shows_stored_hours_and_the_preview(
    admin_client: Client, calendar: BusinessCalendar
) -> None:
    page = admin_client.get(reverse("sla:calendar_edit", args=[calendar.pk])).content.decode()

    assert 'value="08:00-12:00, 13:00-24:00"' in page
    assert "2026-12-24 Christmas Eve" in page
    # The default calendar cannot be unmarked, so the form does not offer it.
    assert 'name="is_default"' not in page
    assert "data-sample-due=" in page
    assert "A target of 8 business hours set now is due" in page
    upcoming = re.findall(r'<tr data-date="(\d{4}-\d{2}-\d{2})">', page)
    assert len(upcoming) == 10
    assert upcoming == sorted(upcoming)


def test_edit_a_calendar(admin_client: Client, calendar: BusinessCalendar) -> None:
    response = admin_client.post(
        reverse("sla:calendar_edit", args=[calendar.pk]),
        {**FORM, "name": "Office", "hours_0": "07:00-15:00", "special_days": ""},
    )

    assert response.status_code == 302
    calendar.refresh_from_db()
    assert [(row.weekday, row.opens) for row in calendar.weekly_hours.all()][0] == (0, time(7))
    assert not calendar.special_days.exists()
    assert Event.objects.get(action="calendar.updated").via == "web"


def test_the_default_calendar_cannot_be_deactivated_from_its_page(
    admin_client: Client, calendar: BusinessCalendar
) -> None:
    form = {**FORM, "name": "Office"}
    del form["active"]

    response = admin_client.post(reverse("sla:calendar_edit", args=[calendar.pk]), form)

    assert "must stay active" in field_errors(response.content.decode(), "active")
    calendar.refresh_from_db()
    assert calendar.active


def test_delete_a_calendar_and_not_the_default_while_others_exist(
    admin_client: Client, calendar: BusinessCalendar, people: Personas
) -> None:
    other = create_calendar(by=people.admin, name="Nights", time_zone="UTC", is_24_7=True)

    refused = admin_client.post(reverse("sla:calendar_delete", args=[calendar.pk]), follow=True)
    deleted = admin_client.post(reverse("sla:calendar_delete", args=[other.pk]))

    assert "Make another calendar the default" in refused.content.decode()
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()
    assert deleted.status_code == 302
    assert deleted["Location"] == reverse("sla:calendars")
    assert not BusinessCalendar.objects.filter(pk=other.pk).exists()


def test_delete_needs_a_post(admin_client: Client, calendar: BusinessCalendar) -> None:
    assert admin_client.get(reverse("sla:calendar_delete", args=[calendar.pk])).status_code == 405
