"""Transfers keep the owner following the conversation: "Transferred by me" and daily reminders."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from frontdesk.conversations import selectors, services
from frontdesk.conversations.models import Conversation, Status
from frontdesk.core.models import Event
from frontdesk.core.scheduling import get_job
from frontdesk.routing import services as routing
from frontdesk.routing import tasks
from frontdesk.routing.events import OwnerReminderDue
from frontdesk.routing.models import OwnerReminder
from tests.conftest import Personas
from tests.events import collected
from tests.routing.conftest import Open

ROW = re.compile(r'data-row="(\d+)"')
TRANSFERRED = reverse("conversations:inbox_view", args=["transferred"])


def listed(client: Client) -> set[int]:
    response = client.get(TRANSFERRED)
    assert response.status_code == 200
    return {int(n) for n in ROW.findall(response.content.decode())}


@pytest.fixture
def handed_on(people: Personas, open_conversation: Open) -> Conversation:
    """Anna of Orders took a conversation, then transferred it to Bob in Billing."""
    conversation = open_conversation(team=people.orders)
    services.assign(conversation, by=people.agent, assignee=people.agent)
    return services.transfer(
        conversation, by=people.agent, team=people.billing, assignee=people.other_agent,
        note="Billing question; over to you.",
    )  # fmt: skip


def test_a_transfer_keeps_the_original_owner(people: Personas, handed_on: Conversation) -> None:
    after = Conversation.objects.get(pk=handed_on.pk)
    assert after.team_id == people.billing.pk
    assert after.assignee_id == people.other_agent.pk
    assert after.owner_id == people.agent.pk


def test_transferred_by_me_lists_what_i_handed_on_until_it_is_solved(
    client: Client, people: Personas, handed_on: Conversation, open_conversation: Open
) -> None:
    # Anna still holds this one herself: not handed on.
    mine = open_conversation(team=people.orders)
    services.assign(mine, by=people.agent, assignee=people.agent)
    # Pending on the customer still needs following; released to nobody too.
    released = open_conversation(team=people.orders)
    services.assign(released, by=people.agent, assignee=people.agent)
    services.transfer(released, by=people.agent, team=people.billing)
    services.set_status(released, by=None, status=Status.PENDING)

    client.force_login(people.agent)
    assert listed(client) == {handed_on.number, released.number}
    client.force_login(people.other_agent)
    assert listed(client) == set()  # Bob holds it; he did not hand it on

    services.set_status(handed_on, by=people.other_agent, status=Status.SOLVED)
    client.force_login(people.agent)
    assert listed(client) == {released.number}


def test_the_view_is_the_same_as_the_selector_filter(
    people: Personas, handed_on: Conversation
) -> None:
    filters = selectors.builtin_view_filters(people.agent, selectors.VIEW_TRANSFERRED)
    page = selectors.list_conversations(people.agent, filters=filters)
    assert [c.number for c in page.items] == [handed_on.number]
    bob = selectors.builtin_view_filters(people.other_agent, selectors.VIEW_TRANSFERRED)
    assert selectors.count_conversations(people.other_agent, bob) == 0


def test_the_rail_links_the_view_and_marks_it(client: Client, people: Personas) -> None:
    client.force_login(people.agent)
    html = client.get(reverse("conversations:rail"), {"current": TRANSFERRED}).content.decode()
    assert f'<a href="{TRANSFERRED}" aria-current="page"><span>Transferred by me</span></a>' in html


# --- reminders -----------------------------------------------------------------------------------


def at_local(hour: int, day: int = 2) -> datetime:
    """A moment in Bangkok (UTC+7), where the owner works, on a June day of 2026."""
    return datetime(2026, 6, day, hour, tzinfo=UTC) - timedelta(hours=7)


@pytest.fixture
def owner_in_bangkok(people: Personas) -> None:
    people.agent.time_zone = "Asia/Bangkok"
    people.agent.save(update_fields=["time_zone"])


def test_owners_are_reminded_once_a_day_from_nine_their_time(
    people: Personas,
    handed_on: Conversation,
    owner_in_bangkok: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert routing.remind_owners(now=at_local(8)) == []  # not yet nine in Bangkok
    with collected(OwnerReminderDue) as seen, django_capture_on_commit_callbacks(execute=True):
        first = routing.remind_owners(now=at_local(9))
        again = routing.remind_owners(now=at_local(17))
    assert [(r.owner_id, r.day.isoformat()) for r in first] == [(people.agent.pk, "2026-06-02")]
    assert again == []
    assert [(e.owner_id, e.conversation_ids) for e in seen] == [  # type: ignore[attr-defined]
        (people.agent.pk, (handed_on.pk,))
    ]
    assert [m.to for m in mail.outbox] == [[people.agent.email]]
    body = mail.outbox[0].body
    assert f"#{handed_on.number} " in body
    assert "Bob" in body and "Billing" in body
    assert TRANSFERRED in body
    audit = Event.objects.get(action="routing.owner_reminded")
    assert audit.object_id == people.agent.pk and audit.actor_id is None

    tomorrow = routing.remind_owners(now=at_local(10, day=3))
    assert [r.day.isoformat() for r in tomorrow] == ["2026-06-03"]


def test_no_reminder_once_it_is_solved(
    people: Personas, handed_on: Conversation, owner_in_bangkok: None
) -> None:
    services.set_status(handed_on, by=people.other_agent, status=Status.SOLVED)
    assert routing.remind_owners(now=at_local(10)) == []
    assert not OwnerReminder.objects.exists()


def test_the_mail_task_run_twice_mails_once(
    people: Personas, handed_on: Conversation, owner_in_bangkok: None
) -> None:
    (reminder,) = routing.remind_owners(now=at_local(10))
    assert tasks.send_owner_reminder.call(reminder.pk) is True
    assert tasks.send_owner_reminder.call(reminder.pk) is False
    assert len(mail.outbox) == 1


def test_a_reminder_solved_before_its_mail_went_is_not_sent(
    people: Personas, handed_on: Conversation, owner_in_bangkok: None
) -> None:
    (reminder,) = routing.remind_owners(now=at_local(10))
    services.set_status(handed_on, by=people.other_agent, status=Status.SOLVED)
    assert tasks.send_owner_reminder.call(reminder.pk) is False
    assert mail.outbox == []


def test_the_periodic_jobs_are_registered() -> None:
    assert get_job("routing_remind_owners").every == timedelta(minutes=15)
    assert get_job("routing_assign_waiting").every == timedelta(minutes=1)
