"""Reading people and teams: staff see the roster, customers only themselves."""

from __future__ import annotations

import pytest

from frontdesk.accounts.models import Role, User
from frontdesk.accounts.selectors import (
    access_team,
    access_user,
    list_teams,
    list_users,
    team_ids_for,
)
from frontdesk.accounts.services import create_user
from frontdesk.core.errors import InvalidInput, NotFound
from tests.conftest import Personas


def test_team_ids_for_lists_the_teams_a_user_belongs_to(people: Personas) -> None:
    assert team_ids_for(people.agent) == frozenset({people.orders.pk})
    assert team_ids_for(people.admin) == frozenset()


def test_staff_see_any_user(people: Personas) -> None:
    assert access_user(people.other_agent, people.agent.pk) == people.agent


def test_customer_sees_only_their_own_user(people: Personas) -> None:
    assert access_user(people.customer_user, people.customer_user.pk) == people.customer_user
    with pytest.raises(NotFound):
        access_user(people.customer_user, people.agent.pk)


def test_list_users_filters_by_role_and_team(people: Personas) -> None:
    agents = list_users(people.agent, role=Role.AGENT)
    orders = list_users(people.agent, team_id=people.orders.pk)

    assert agents.items == [people.agent, people.colleague, people.other_agent]
    assert orders.items == [people.supervisor, people.agent, people.colleague]


def test_list_users_pages_by_id(people: Personas) -> None:
    for n in range(3):
        create_user(by=None, email=f"temp{n}@example.com")
    seen: list[int] = []
    cursor = None
    for _page in range(10):
        page = list_users(people.admin, cursor=cursor, limit=4)
        seen += [user.pk for user in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == list(User.objects.order_by("id").values_list("pk", flat=True))
    assert len(seen) == 9


def test_list_users_refuses_an_unknown_role(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        list_users(people.admin, role="wizard")

    assert refused.value.field == "role"


def test_customer_lists_only_themselves(people: Personas) -> None:
    assert list_users(people.customer_user).items == [people.customer_user]


def test_staff_see_teams_customers_do_not(people: Personas) -> None:
    assert list_teams(people.other_agent) == [people.billing, people.orders]
    assert access_team(people.other_agent, people.orders.pk) == people.orders
    assert list_teams(people.customer_user) == []
    with pytest.raises(NotFound):
        access_team(people.customer_user, people.orders.pk)
