"""Adding and reading notifications, and the reads of one's own list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from frontdesk.accounts.services import set_user_active
from frontdesk.conversations import services as conversation_services
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.events import Audience
from frontdesk.notifications import selectors, services
from frontdesk.notifications.events import NotificationsAdded, NotificationsRead
from frontdesk.notifications.models import Notification, NotificationKind
from tests.conftest import Personas
from tests.events import collected
from tests.notifications.conftest import orders_conversation

pytestmark = pytest.mark.django_db


def test_add_notifications_tells_active_staff_but_not_the_actor(
    people: Personas, on_commit: Any
) -> None:
    conversation = orders_conversation(people)
    gone = set_user_active(people.colleague, by=people.admin, active=False)

    with collected(NotificationsAdded) as seen, on_commit():
        told = services.add_notifications(
            conversation,
            recipients=[people.agent, people.supervisor, gone, people.customer_user],
            kind=NotificationKind.NEW_IN_TEAM,
            actor=people.supervisor,
            excerpt="  Order 1042\nwas due  ",
        )

    assert told == [people.agent]
    (row,) = Notification.objects.all()
    assert (row.recipient, row.kind, row.actor, row.excerpt) == (
        people.agent,
        NotificationKind.NEW_IN_TEAM,
        people.supervisor,
        "Order 1042 was due",
    )
    assert seen == [
        NotificationsAdded(
            via="system",
            audience=Audience(user_ids=frozenset({people.agent.pk})),
            kind=NotificationKind.NEW_IN_TEAM,
            conversation_id=conversation.pk,
            number=conversation.number,
        )
    ]


def test_about_one_message_a_person_is_told_once(people: Personas, on_commit: Any) -> None:
    conversation = orders_conversation(people)
    message = conversation.messages.get()

    with collected(NotificationsAdded) as seen, on_commit():
        first = services.add_notifications(
            conversation,
            recipients=[people.agent],
            kind=NotificationKind.MENTIONED,
            actor=None,
            message=message,
        )
        again = services.add_notifications(
            conversation,
            recipients=[people.agent, people.colleague],
            kind=NotificationKind.MENTIONED,
            actor=None,
            message=message,
        )

    assert first == [people.agent]
    assert again == [people.colleague]
    assert Notification.objects.filter(recipient=people.agent).count() == 1
    assert [e.audience.user_ids for e in seen] == [
        frozenset({people.agent.pk}),
        frozenset({people.colleague.pk}),
    ]


def test_an_unknown_kind_is_refused(people: Personas) -> None:
    conversation = orders_conversation(people)

    with pytest.raises(InvalidInput):
        services.add_notifications(
            conversation, recipients=[people.agent], kind="gossip", actor=None
        )

    assert not Notification.objects.exists()


def _notify(people: Personas, count: int = 1) -> list[Notification]:
    conversation = orders_conversation(people)
    start = timezone.now() - timedelta(hours=1)
    for i in range(count):
        services.add_notifications(
            conversation,
            recipients=[people.agent],
            kind=NotificationKind.ASSIGNED,
            actor=people.supervisor,
            at=start + timedelta(minutes=i),
        )
    return list(Notification.objects.filter(recipient=people.agent))


def test_mark_read_reads_it_once_and_tells_the_readers_pages(
    people: Personas, on_commit: Any
) -> None:
    (notification,) = _notify(people)

    with collected(NotificationsRead) as seen, on_commit():
        read = services.mark_read(notification, by=people.agent, via="web")
        services.mark_read(read, by=people.agent, via="web")

    assert read.read_at is not None
    assert Notification.objects.get(pk=notification.pk).read_at == read.read_at
    assert seen == [
        NotificationsRead(
            via="web",
            audience=Audience(user_ids=frozenset({people.agent.pk})),
            user_id=people.agent.pk,
            notification_id=notification.pk,
        )
    ]


def test_nobody_marks_someone_elses_notification(people: Personas) -> None:
    (notification,) = _notify(people)

    with pytest.raises(NotFound):
        services.mark_read(notification, by=people.colleague)
    with pytest.raises(NotFound):
        services.mark_all_read(people.agent, by=people.supervisor)

    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_mark_all_read_empties_the_count(people: Personas, on_commit: Any) -> None:
    _notify(people, count=3)
    assert selectors.count_unread(people.agent) == 3

    with collected(NotificationsRead) as seen, on_commit():
        changed = services.mark_all_read(people.agent, by=people.agent)
        unchanged = services.mark_all_read(people.agent, by=people.agent)

    assert (changed, unchanged) == (3, 0)
    assert selectors.count_unread(people.agent) == 0
    assert [e.notification_id for e in seen if isinstance(e, NotificationsRead)] == [None]


# --- selectors ------------------------------------------------------------------------------


def test_list_walks_newest_first_by_cursor(people: Personas) -> None:
    rows = _notify(people, count=5)
    newest_first = sorted(rows, key=lambda n: n.created_at, reverse=True)

    first = selectors.list_notifications(people.agent, limit=2)
    second = selectors.list_notifications(people.agent, cursor=first.next_cursor, limit=2)
    third = selectors.list_notifications(people.agent, cursor=second.next_cursor, limit=2)

    assert [n.pk for n in first.items + second.items + third.items] == [n.pk for n in newest_first]
    assert third.next_cursor is None


def test_lists_hold_only_ones_own(people: Personas) -> None:
    (notification,) = _notify(people)

    assert selectors.list_notifications(people.colleague).items == []
    assert selectors.count_unread(people.colleague) == 0
    with pytest.raises(NotFound):
        selectors.access_notification(people.colleague, notification.pk)


def test_the_count_stops_past_the_cap(people: Personas) -> None:
    _notify(people, count=4)

    assert selectors.count_unread(people.agent, cap=2) == 3


def test_a_conversation_moved_out_of_sight_drops_out_of_the_list(people: Personas) -> None:
    (notification,) = _notify(people)
    conversation_services.set_team(
        notification.conversation, by=people.supervisor, team=people.billing
    )

    assert selectors.list_notifications(people.agent).items == []
    assert selectors.count_unread(people.agent) == 0
    with pytest.raises(NotFound):
        selectors.access_notification(people.agent, notification.pk)
