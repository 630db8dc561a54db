"""The SLA API: policies (staff read, admins write, refusals as problem+json naming the
field), their order, a conversation's timers, and the SLA summary on conversation retrieve."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client

from frontdesk.accounts.models import User
from frontdesk.accounts.services import create_api_token
from frontdesk.conversations.models import Priority
from frontdesk.core.models import Event, Via
from frontdesk.sla.models import BusinessCalendar, SlaPolicy
from tests.api.conftest import Api, assert_problem
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.sla.conftest import Live, MakePolicy, targets

MONDAY_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def api_as(db: None) -> Callable[[User], Api]:
    cache.clear()

    def make(user: User) -> Api:
        _token, raw = create_api_token(user, by=None, name="tests")
        return Api(raw)

    return make


class CustomerApi:
    """Customers use the API through their portal session; they get no tokens."""

    def __init__(self, people: Personas) -> None:
        self.client = Client()
        self.client.force_login(people.customer_user)

    def get(self, path: str) -> HttpResponse:
        response: HttpResponse = self.client.get(path)  # type: ignore[assignment]
        return response


def as_customer(people: Personas) -> CustomerApi:
    return CustomerApi(people)


def body(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return json.loads(response.content)


GOLD = {
    "name": "Gold",
    "conditions": {"priorities": ["high", "urgent"], "tags": ["VIP"]},
    "targets": [
        {"priority": "urgent", "first_response_minutes": 15, "resolution_minutes": 240},
        {"priority": "high", "first_response_minutes": 60},
    ],
    "time_basis": "calendar",
    "warning_percent": 80,
    "breach_actions": [{"type": "notify", "to": ["assignee"]}, {"type": "raise_priority"}],
}


def test_admin_creates_reads_updates_and_deletes_a_policy(
    people: Personas, office: BusinessCalendar, api_as: Callable[[User], Api]
) -> None:
    api = api_as(people.admin)

    created = body(api.post("/sla/policies", GOLD), 201)

    assert created["name"] == "Gold" and created["position"] == 1
    assert created["conditions"]["priorities"] == ["high", "urgent"]
    assert created["conditions"]["tags"] == ["vip"]
    assert [t["priority"] for t in created["targets"]] == ["high", "urgent"]
    assert created["targets"][0] == {
        "priority": "high", "first_response_minutes": 60, "next_response_minutes": None,
        "resolution_minutes": None,
    }  # fmt: skip
    assert created["breach_actions"] == [
        {"type": "notify", "to": ["assignee"], "user_id": None, "team_id": None},
        {"type": "raise_priority", "to": None, "user_id": None, "team_id": None},
    ]
    policy_id = created["id"]
    assert body(api.get(f"/sla/policies/{policy_id}")) == created
    assert Event.objects.get(action="sla_policy.created").via == Via.API

    changed = body(
        api.patch(f"/sla/policies/{policy_id}",
                  {"time_basis": "business", "calendar_id": office.pk, "active": False}),
    )  # fmt: skip
    assert (changed["time_basis"], changed["calendar_id"], changed["active"]) == (
        "business", office.pk, False,
    )  # fmt: skip
    back_to_default = body(api.patch(f"/sla/policies/{policy_id}", {"calendar_id": None}))
    assert back_to_default["calendar_id"] is None

    assert api.delete(f"/sla/policies/{policy_id}").status_code == 204
    assert not SlaPolicy.objects.exists()
    assert_problem(api.get(f"/sla/policies/{policy_id}"), 404)


def test_staff_read_policies_but_only_admins_write_them(
    people: Personas, make_policy: MakePolicy, api_as: Callable[[User], Api]
) -> None:
    policy = make_policy()
    agent = api_as(people.agent)

    assert [p["name"] for p in body(agent.get("/sla/policies"))["items"]] == ["Standard"]
    assert_problem(agent.post("/sla/policies", GOLD), 403)
    assert_problem(agent.patch(f"/sla/policies/{policy.pk}", {"name": "Mine"}), 403)
    assert_problem(agent.delete(f"/sla/policies/{policy.pk}"), 403)
    customer = as_customer(people)
    assert body(customer.get("/api/v1/sla/policies"))["items"] == []
    assert_problem(customer.get(f"/api/v1/sla/policies/{policy.pk}"), 404)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"targets": []}, "targets"),
        ({"targets": [{"priority": "high", "first_response_minutes": 0}]},
         "targets.0.first_response_minutes"),
        ({"conditions": {"team_ids": [999]}}, "conditions.team_ids"),
        ({"conditions": {"planets": ["mars"]}}, "conditions.planets"),
        ({"calendar_id": 999}, "calendar_id"),
        ({"warning_percent": 0}, "warning_percent"),
        ({"breach_actions": [{"type": "reassign", "user_id": 999}]}, "breach_actions.0.user_id"),
    ],
)  # fmt: skip
def test_refusals_are_problems_naming_the_field(
    people: Personas, api_as: Callable[[User], Api], change: dict[str, Any], field: str
) -> None:
    response = api_as(people.admin).post("/sla/policies", {**GOLD, **change})
    assert_problem(response, 422, field=field)
    assert not SlaPolicy.objects.exists()


def test_null_is_refused_for_fields_that_need_a_value(
    people: Personas, make_policy: MakePolicy, api_as: Callable[[User], Api]
) -> None:
    policy = make_policy()
    response = api_as(people.admin).patch(f"/sla/policies/{policy.pk}", {"targets": None})
    assert_problem(response, 422, field="targets")


def test_policies_are_listed_and_reordered_in_the_order_they_are_tried(
    people: Personas, make_policy: MakePolicy, api_as: Callable[[User], Api]
) -> None:
    a, b = make_policy("A"), make_policy("B")
    api = api_as(people.admin)

    reordered = body(api.post("/sla/policies/reorder", {"policy_ids": [b.pk, a.pk]}))

    assert [p["name"] for p in reordered["items"]] == ["B", "A"]
    assert [p["name"] for p in body(api.get("/sla/policies"))["items"]] == ["B", "A"]
    assert_problem(api.post("/sla/policies/reorder", {"policy_ids": [a.pk]}), 422,
                   field="policy_ids")  # fmt: skip


def test_retrieve_shows_the_sla_summary_to_staff_and_not_to_the_customer(
    people: Personas,
    office: BusinessCalendar,
    make_policy: MakePolicy,
    live: Live,
    api_as: Callable[[User], Api],
) -> None:
    make_policy(time_basis="calendar", targets=[targets(first=60)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_NOON)

    staff = body(api_as(people.agent).get(f"/conversations/{conversation.number}"))
    customer = body(as_customer(people).get(f"/api/v1/conversations/{conversation.number}"))

    assert staff["sla"] == {
        "due_at": "2026-03-02T13:00:00Z", "warning_at": "2026-03-02T12:45:00Z",
        "breached": False, "paused": False,
    }  # fmt: skip
    assert customer["sla"] is None


def test_the_timers_of_a_conversation_target_by_target(
    people: Personas,
    office: BusinessCalendar,
    make_policy: MakePolicy,
    live: Live,
    api_as: Callable[[User], Api],
) -> None:
    policy = make_policy(time_basis="calendar",
                         targets=[targets(Priority.NORMAL, first=60, resolution=600)])  # fmt: skip
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_NOON)

    found = body(api_as(people.agent).get(f"/sla/conversations/{conversation.number}"))

    assert (found["policy_id"], found["policy"]) == (policy.pk, "Standard")
    by_target = {timer["target"]: timer for timer in found["timers"]}
    assert by_target["first_response"]["due_at"] == "2026-03-02T13:00:00Z"
    assert by_target["first_response"]["started_at"] == "2026-03-02T12:00:00Z"
    assert by_target["resolution"]["due_at"] == "2026-03-02T22:00:00Z"
    assert by_target["next_response"]["started_at"] is None
    assert_problem(api_as(people.other_agent).get(f"/sla/conversations/{conversation.number}"),
                   404)  # fmt: skip
    assert_problem(as_customer(people).get(f"/api/v1/sla/conversations/{conversation.number}"),
                   404)  # fmt: skip
