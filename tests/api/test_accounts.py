"""The users and teams endpoints (read-only)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from frontdesk.accounts.models import Role
from frontdesk.accounts.services import create_team, create_user
from tests.api.conftest import BASE, Api, assert_problem
from tests.conftest import Personas

ApiAs = Callable[..., Api]


def _json(response: Any) -> Any:
    return json.loads(response.content)


@pytest.fixture
def agent_api(people: Personas, api_as: ApiAs) -> Api:
    return api_as(people.agent)


def test_me_describes_the_caller_with_teams(people: Personas, agent_api: Api) -> None:
    body = _json(agent_api.get("/users/me"))
    assert body["id"] == people.agent.pk
    assert body["role"] == "agent"
    assert body["name"] == "Anna"
    assert body["teams"] == [{"id": people.orders.pk, "name": "Orders"}]


def test_get_user_by_id(people: Personas, agent_api: Api) -> None:
    body = _json(agent_api.get(f"/users/{people.supervisor.pk}"))
    assert (body["email"], body["role"]) == ("sue@example.com", "supervisor")


def test_unknown_user_is_a_404_problem(people: Personas, agent_api: Api) -> None:
    assert_problem(agent_api.get("/users/999999"), 404)


def test_list_users_filters_by_role_and_team(people: Personas, agent_api: Api) -> None:
    agents = _json(agent_api.get("/users", {"role": "agent"}))["items"]
    assert {u["email"] for u in agents} == {
        "anna@example.com",
        "carl@example.com",
        "bob@example.com",
    }
    in_billing = _json(agent_api.get("/users", {"team": people.billing.pk}))["items"]
    assert [u["email"] for u in in_billing] == ["bob@example.com"]


def test_list_users_walks_pages(people: Personas, agent_api: Api) -> None:
    seen: list[int] = []
    cursor = None
    for _page in range(10):
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = _json(agent_api.get("/users", params))
        seen.extend(u["id"] for u in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6


@pytest.mark.parametrize(
    ("params", "field"),
    [({"role": "king"}, "role"), ({"team": "x"}, "team"), ({"limit": -1}, "limit")],
)
def test_list_users_with_bad_parameters_names_them(
    people: Personas, agent_api: Api, params: dict[str, Any], field: str
) -> None:
    assert_problem(agent_api.get("/users", params), 422, field=field)


def test_list_users_query_count_does_not_grow(
    people: Personas, agent_api: Api, django_assert_num_queries: Any
) -> None:
    for i in range(10):
        create_user(by=None, email=f"agent{i}@example.com", teams=[people.orders, people.billing])
    # Token look-up, last-used bump, the users, their teams, their skills.
    with django_assert_num_queries(5):
        response = agent_api.get("/users", {"limit": 200})
    assert len(_json(response)["items"]) == 16


def test_customer_sees_only_themselves_among_users(people: Personas) -> None:
    client = Client()
    client.force_login(people.customer_user)
    assert_problem(client.get(f"{BASE}/users/{people.agent.pk}"), 404)  # type: ignore[arg-type]


def test_teams_list_and_detail(people: Personas, agent_api: Api) -> None:
    create_team(by=None, name="Returns", lead=people.supervisor)
    teams = _json(agent_api.get("/teams"))
    assert [t["name"] for t in teams["items"]] == ["Billing", "Orders", "Returns"]
    assert teams["next_cursor"] is None
    returns = teams["items"][2]
    assert returns["lead"]["email"] == "sue@example.com"
    body = _json(agent_api.get(f"/teams/{people.orders.pk}"))
    assert (body["name"], body["lead"]) == ("Orders", None)
    assert_problem(agent_api.get("/teams/999999"), 404)


def test_teams_list_query_count_does_not_grow(
    people: Personas, agent_api: Api, django_assert_num_queries: Any
) -> None:
    for i in range(8):
        create_team(by=None, name=f"Team {i}", lead=people.supervisor)
    # Token look-up, last-used bump, the teams with their leads, their members.
    with django_assert_num_queries(4):
        response = agent_api.get("/teams")
    teams = _json(response)["items"]
    assert len(teams) == 10
    orders = next(t for t in teams if t["name"] == "Orders")
    assert {m["id"] for m in orders["members"]} == {
        people.supervisor.pk,
        people.agent.pk,
        people.colleague.pk,
    }


def test_customer_sees_no_teams(people: Personas) -> None:
    client = Client()
    client.force_login(people.customer_user)
    assert _json(client.get(f"{BASE}/teams"))["items"] == []
    assert_problem(client.get(f"{BASE}/teams/{people.orders.pk}"), 404)  # type: ignore[arg-type]


def test_reviewer_reads_users(people: Personas, api_as: ApiAs) -> None:
    reviewer = create_user(by=None, email="rita@example.com", role=Role.REVIEWER)
    assert api_as(reviewer).get("/users").status_code == 200
