"""Reads of conversations: scope in SQL, filters, keyset pages, and what customers see."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, MessageKind, Status
from frontdesk.conversations.permissions import can_see, visible_scope
from frontdesk.conversations.selectors import (
    UNASSIGNED,
    ConversationFilters,
    access_conversation,
    conversation_with_messages,
    list_conversations,
)
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Counter
from tests.conftest import Personas, make_customer
from tests.conversations.helpers import open_conversation

pytestmark = pytest.mark.django_db


def numbers(user: User, **filters: Any) -> list[int]:
    page = list_conversations(user, filters=ConversationFilters(**filters), limit=200)
    return [c.number for c in page.items]


def test_agents_list_only_their_teams_and_admins_everything(people: Personas) -> None:
    orders = open_conversation(people.customer, team=people.orders)
    billing = open_conversation(people.customer, team=people.billing)
    assert numbers(people.agent) == [orders.number]
    assert numbers(people.other_agent) == [billing.number]
    assert sorted(numbers(people.admin)) == [orders.number, billing.number]


def test_scope_in_sql_agrees_with_the_check_on_one_conversation(people: Personas) -> None:
    open_conversation(people.customer, team=people.orders)
    open_conversation(people.customer, team=people.billing)
    open_conversation(people.other_customer, team=None)
    c = open_conversation(people.other_customer, team=people.billing)
    services.transfer(c, by=None, team=people.orders, assignee=people.agent)
    everyone = [
        people.admin, people.supervisor, people.agent, people.colleague, people.other_agent,
        people.customer_user,
    ]  # fmt: skip
    for user in everyone:
        in_sql = set(Conversation.objects.filter(visible_scope(user)).values_list("pk", flat=True))
        in_python = {c.pk for c in Conversation.objects.all() if can_see(user, c)}
        assert in_sql == in_python, user


def test_access_answers_not_found_for_what_the_user_may_not_see(people: Personas) -> None:
    billing = open_conversation(people.customer, team=people.billing)
    with pytest.raises(NotFound):
        access_conversation(people.agent, billing.number)
    with pytest.raises(NotFound):
        access_conversation(people.agent, 999_999)
    assert access_conversation(people.other_agent, billing.number).pk == billing.pk


def test_customer_sees_own_conversations_without_notes(people: Personas) -> None:
    mine = open_conversation(people.customer, team=people.orders)
    theirs = open_conversation(people.other_customer, team=people.orders)
    services.add_note(mine, by=people.agent, text="Internal: check warehouse")
    services.add_reply(mine, by=people.agent, text="On its way!")
    assert numbers(people.customer_user) == [mine.number]
    with pytest.raises(NotFound):
        access_conversation(people.customer_user, theirs.number)
    _, messages = conversation_with_messages(people.customer_user, mine.number)
    assert [m.kind for m in messages] == [MessageKind.CUSTOMER, MessageKind.REPLY]
    _, staff_view = conversation_with_messages(people.agent, mine.number)
    assert MessageKind.NOTE in [m.kind for m in staff_view]


def test_company_members_see_each_other_only_when_the_company_allows(people: Personas) -> None:
    coworker = make_customer("Eva Malá", "eva@acme.example", company=people.company)
    colleague_conv = open_conversation(coworker, team=people.orders)
    assert colleague_conv.number not in numbers(people.customer_user)
    people.company.members_see_all = True
    people.company.save()
    customer_user = User.objects.get(pk=people.customer_user.pk)
    assert colleague_conv.number in numbers(customer_user)


def test_filters_narrow_the_list(people: Personas) -> None:
    a = open_conversation(people.customer, team=people.orders, channel="phone", tags=["vip"])
    b = open_conversation(people.other_customer, team=people.orders)
    services.assign(b, by=people.agent, assignee=people.agent)
    services.set_status(b, by=people.agent, status=Status.PENDING)
    admin = people.admin
    assert numbers(admin, status="pending") == [b.number]
    assert numbers(admin, team_id=people.orders.pk, status="new") == [a.number]
    assert numbers(admin, assignee_id=people.agent.pk) == [b.number]
    assert numbers(admin, assignee_id=UNASSIGNED) == [a.number]
    assert numbers(admin, customer_id=people.customer.pk) == [a.number]
    assert numbers(admin, tag="VIP") == [a.number]
    assert numbers(admin, channel="phone") == [a.number]


def test_cursor_pages_walk_every_row_once_in_activity_order(people: Personas) -> None:
    start = timezone.now() - timedelta(days=1)
    created = [
        open_conversation(people.customer, team=people.orders, at=start + timedelta(minutes=i % 4))
        for i in range(11)
    ]
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = list_conversations(
            people.agent, filters=ConversationFilters(), cursor=cursor, limit=3
        )
        seen.extend(c.number for c in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(c.number for c in created)
    assert len(seen) == len(set(seen))
    expected = sorted(created, key=lambda c: (c.last_activity_at, c.pk), reverse=True)
    assert seen == [c.number for c in expected]


def test_updated_since_lists_oldest_change_first(people: Personas) -> None:
    old = open_conversation(people.customer, team=people.orders)
    newer = open_conversation(people.customer, team=people.orders)
    services.add_note(old, by=people.agent, text="touch", at=timezone.now() + timedelta(hours=1))
    since = timezone.now() - timedelta(minutes=1)
    assert numbers(people.agent, updated_since=since) == [newer.number, old.number]
    later = timezone.now() + timedelta(minutes=30)
    assert numbers(people.agent, updated_since=later) == [old.number]


def test_a_forged_cursor_is_refused(people: Personas) -> None:
    with pytest.raises(InvalidInput) as error:
        list_conversations(people.agent, filters=ConversationFilters(), cursor="bm90LWpzb24")
    assert error.value.field == "cursor"


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_get_distinct_numbers(people: Personas) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    results: list[int] = []
    errors: list[BaseException] = []

    def create_some() -> None:
        try:
            for _ in range(10):
                results.append(open_conversation(people.customer, team=people.orders).number)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    # Without the counter row (a flushed database) the first creators race to make it.
    Counter.objects.filter(name="conversation_number").delete()
    threads = [threading.Thread(target=create_some) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == 40
    assert len(set(results)) == 40


def test_filtering_by_another_teams_id_still_applies_the_scope(people: Personas) -> None:
    open_conversation(people.customer, team=people.billing)
    followed = open_conversation(
        people.customer, team=people.billing, by=people.agent, channel="phone"
    )
    assert numbers(people.agent, team_id=people.billing.pk) == [followed.number]
    assert numbers(people.agent, assignee_id=people.other_agent.pk) == []


def test_numbering_starts_again_when_the_counter_row_is_missing(people: Personas) -> None:
    Counter.objects.filter(name="conversation_number").delete()
    first = open_conversation(people.customer, team=people.orders)
    second = open_conversation(people.customer, team=people.orders)
    assert (first.number, second.number) == (1, 2)
