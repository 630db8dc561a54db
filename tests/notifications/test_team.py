"""New conversations in a team: its members who asked for it hear of it, once, in one task."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult

from frontdesk.accounts.models import Membership, Role, Team, User
from frontdesk.accounts.services import update_preferences
from frontdesk.conversations import services
from frontdesk.conversations.intake import IncomingMessage, deliver
from frontdesk.conversations.models import Channel, Conversation
from frontdesk.core.models import Via
from frontdesk.notifications import tasks
from frontdesk.notifications.models import Notification, NotificationKind
from tests.conftest import Personas, make_user
from tests.conversations.helpers import open_conversation
from tests.notifications.conftest import BASE

pytestmark = pytest.mark.django_db


def _opt_in(*users: User) -> None:
    for user in users:
        update_preferences(user, by=user, notify_on_new_in_team=True)


def _told(kind: str = NotificationKind.NEW_IN_TEAM) -> set[int]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def _by_mail(people: Personas, team: Team) -> Conversation:
    delivered = deliver(
        IncomingMessage(
            customer=people.customer,
            channel=Channel.EMAIL,
            subject="Parcel never arrived",
            text="Order 1042 was due on Monday.",
            team=team,
            via=Via.EMAIL,
        )
    )
    return delivered.conversation


def test_a_new_mail_tells_the_members_who_opted_in(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    _opt_in(people.agent, people.colleague)

    with on_commit():
        conversation = _by_mail(people, people.orders)

    assert _told() == {people.agent.pk, people.colleague.pk}
    assert sorted(m.to[0] for m in mailoutbox) == [people.agent.email, people.colleague.email]
    sent = mailoutbox[0]
    assert sent.subject == f"[#{conversation.number}] New in Orders: Parcel never arrived"
    body = str(sent.body)
    assert f"Conversation #{conversation.number} is new in your team Orders." in body
    assert "Order 1042 was due on Monday." in body
    assert f"{BASE}/conversations/{conversation.number}/" in body


def test_the_one_who_opened_it_is_not_told(people: Personas, on_commit: Any) -> None:
    _opt_in(people.agent, people.colleague)

    with on_commit():
        open_conversation(people.customer, team=people.orders, by=people.agent, via=Via.WEB)

    assert _told() == {people.colleague.pk}


def test_imports_and_demo_data_tell_nobody(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    _opt_in(people.agent, people.colleague)

    with on_commit():
        open_conversation(people.customer, team=people.orders, via=Via.SYSTEM)

    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_a_transfer_tells_the_new_team_but_not_the_actor_or_the_new_assignee(
    people: Personas, on_commit: Any
) -> None:
    dora = make_user("dora@example.com", Role.AGENT, teams=(people.billing,), first_name="Dora")
    _opt_in(dora, people.other_agent, people.agent)
    people.supervisor.memberships.create(team=people.billing)
    _opt_in(people.supervisor)
    conversation = open_conversation(people.customer, team=people.orders, via=Via.EMAIL)

    with on_commit():
        services.transfer(
            conversation,
            by=people.supervisor,
            team=people.billing,
            assignee=people.other_agent,
            via=Via.WEB,
        )

    assert _told() == {dora.pk}
    assert _told(NotificationKind.ASSIGNED) == {people.other_agent.pk}


def test_moving_to_another_team_tells_that_team(people: Personas, on_commit: Any) -> None:
    _opt_in(people.other_agent, people.agent)
    conversation = open_conversation(people.customer, team=people.orders, via=Via.EMAIL)

    with on_commit():
        services.set_team(conversation, by=people.admin, team=people.billing, via=Via.WEB)

    assert _told() == {people.other_agent.pk}


def test_without_opting_in_nobody_hears_of_new_conversations(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    with on_commit():
        _by_mail(people, people.orders)

    assert not Notification.objects.exists()
    assert mailoutbox == []


def _big_team(size: int) -> Team:
    team = Team.objects.create(name="Support")
    users = User.objects.bulk_create(
        User(
            email=f"agent{i}@example.com",
            username=f"agent{i}@example.com",
            role=Role.AGENT,
            notify_on_new_in_team=True,
        )
        for i in range(size)
    )
    Membership.objects.bulk_create(Membership(team=team, user=user) for user in users)
    return team


def test_a_team_of_two_hundred_costs_the_request_one_task(
    people: Personas, settings: Any, django_assert_max_num_queries: Any, on_commit: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    team = _big_team(200)

    with on_commit():
        conversation = _by_mail(people, team)

    (queued,) = DBTaskResult.objects.filter(task_path__endswith=".notify_new_in_team")
    assert Notification.objects.count() == 0

    # The task's work does not grow with the team: one read of the members, one insert.
    with django_assert_max_num_queries(15):
        told = tasks.notify_new_in_team.call(*queued.args_kwargs["args"])

    assert told == 200
    assert Notification.objects.filter(conversation=conversation).count() == 200
    assert len(mail.outbox) == 200
