"""/api/v1/routing/rules: staff read the rules, admins create, change, move and delete them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from frontdesk.accounts.models import Skill, User
from frontdesk.accounts.services import create_api_token
from frontdesk.routing import services as routing
from frontdesk.routing.models import RoutingRule
from tests.api.conftest import Api, assert_problem
from tests.conftest import Personas

RULES = "/routing/rules"


def api_as(user: User) -> Api:
    _token, raw = create_api_token(user, by=None, name="tests")
    return Api(raw)


@pytest.fixture
def admin_api(people: Personas) -> Api:
    return api_as(people.admin)


@pytest.fixture
def agent_api(people: Personas) -> Api:
    return api_as(people.agent)


def body(response: Any) -> Any:
    return json.loads(response.content)


def test_create_a_rule_and_read_it_back(admin_api: Api, people: Personas) -> None:
    Skill.objects.create(name="Thai")
    response = admin_api.post(
        RULES,
        {
            "name": "Thai refunds",
            "channels": ["email"],
            "languages": ["th"],
            "keywords": ["คืนเงิน", "refund*"],
            "team_id": people.billing.pk,
            "priority": "high",
            "add_tags": ["Refund"],
            "skill": "thai",
        },
    )
    assert response.status_code == 201, response.content
    created = body(response)
    assert created["position"] == 0
    assert created["team"] == {"id": people.billing.pk, "name": "Billing"}
    assert (created["priority"], created["skill"], created["add_tags"]) == (
        "high",
        "Thai",
        ["refund"],
    )
    fetched = body(admin_api.get(f"{RULES}/{created['id']}"))
    assert fetched == created


def test_staff_read_rules_in_order_and_only_admins_write(
    agent_api: Api, people: Personas, django_assert_num_queries: Any
) -> None:
    for name in ("A", "B", "C"):
        routing.create_rule(by=None, name=name, add_tags=["x"], team=people.orders)
    # the token with its user, its last use, the rules with their team and skill
    with django_assert_num_queries(3):
        response = agent_api.get(RULES)
    assert [r["name"] for r in body(response)["items"]] == ["A", "B", "C"]
    assert body(response)["next_cursor"] is None
    assert_problem(agent_api.post(RULES, {"name": "Mine", "add_tags": ["x"]}), 403)
    rule = RoutingRule.objects.get(name="A")
    assert_problem(agent_api.patch(f"{RULES}/{rule.pk}", {"name": "Mine"}), 403)
    assert_problem(agent_api.delete(f"{RULES}/{rule.pk}"), 403)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "R", "add_tags": ["x"], "channels": ["fax"]}, "channels.0"),
        ({"name": "R", "team_id": 999999}, "team_id"),
        ({"name": "R", "skill": "juggling"}, "skill"),
        ({"name": "R", "keywords": ["x"]}, "team_id"),
        ({"name": "R", "add_tags": ["x"], "customer_ids": [999999]}, "customer_ids"),
        ({"name": "R", "add_tags": ["x"], "colour": "red"}, "colour"),
        ({"name": "", "add_tags": ["x"]}, "name"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    admin_api: Api, payload: dict[str, Any], field: str
) -> None:
    assert_problem(admin_api.post(RULES, payload), 422, field=field)
    assert not RoutingRule.objects.exists()


def test_patch_moves_renames_and_clears_actions(admin_api: Api, people: Personas) -> None:
    first = routing.create_rule(by=None, name="First", add_tags=["a"], team=people.orders)
    routing.create_rule(by=None, name="Second", add_tags=["b"])
    response = admin_api.patch(
        f"{RULES}/{first.pk}", {"position": 1, "name": "Renamed", "team_id": None}
    )
    assert response.status_code == 200, response.content
    assert (body(response)["position"], body(response)["team"]) == (1, None)
    names = [r["name"] for r in body(admin_api.get(RULES))["items"]]
    assert names == ["Second", "Renamed"]
    assert_problem(admin_api.patch(f"{RULES}/{first.pk}", {"name": None}), 422, field="name")
    assert_problem(admin_api.patch(f"{RULES}/{first.pk}", {"add_tags": []}), 422, field="team_id")


def test_delete_and_unknown_rules(admin_api: Api) -> None:
    rule = routing.create_rule(by=None, name="Gone", add_tags=["x"])
    assert admin_api.delete(f"{RULES}/{rule.pk}").status_code == 204
    assert_problem(admin_api.get(f"{RULES}/{rule.pk}"), 404)
    assert_problem(admin_api.delete(f"{RULES}/{rule.pk}"), 404)
