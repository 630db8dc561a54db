"""Tags and custom field definitions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from frontdesk.conversations import services
from frontdesk.conversations.models import CustomFieldDefinition
from tests.api.conftest import BASE, Api, assert_problem, open_conversation
from tests.conftest import Personas

ApiAs = Callable[..., Api]


def _json(response: Any) -> Any:
    return json.loads(response.content)


def test_tags_are_listed_by_name(people: Personas, api_as: ApiAs) -> None:
    open_conversation(people.customer, team=people.orders, tags=["vip", "delivery"])
    body = _json(api_as(people.agent).get("/tags"))
    assert [t["name"] for t in body["items"]] == ["delivery", "vip"]


def test_customers_see_no_tags(people: Personas) -> None:
    open_conversation(people.customer, team=people.orders, tags=["angry"])
    client = Client()
    client.force_login(people.customer_user)
    assert _json(client.get(f"{BASE}/tags"))["items"] == []


def test_admin_creates_a_custom_field(people: Personas, api_as: ApiAs) -> None:
    response = api_as(people.admin).post(
        "/custom-fields",
        {"key": "reason", "label": "Reason", "kind": "choice", "choices": ["late", "broken"]},
    )
    assert response.status_code == 201, response.content
    body = _json(response)
    assert (body["key"], body["kind"], body["choices"]) == ("reason", "choice", ["late", "broken"])
    listed = _json(api_as(people.agent).get("/custom-fields"))["items"]
    assert [f["key"] for f in listed] == ["reason"]


def test_agent_may_not_create_custom_fields(people: Personas, api_as: ApiAs) -> None:
    response = api_as(people.agent).post(
        "/custom-fields", {"key": "x", "label": "X", "kind": "text"}
    )
    assert_problem(response, 403)
    assert not CustomFieldDefinition.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        ({"key": "Bad Key!"}, "key", 422),
        ({"kind": "colour"}, "kind", 422),
        ({"label": ""}, "label", 422),
        ({"choices": ["a"]}, "choices", 422),
        ({"key": "taken"}, "key", 409),
        ({"active": True}, "active", 422),
    ],
)
def test_create_custom_field_with_bad_input_names_the_field(
    people: Personas, api_as: ApiAs, payload: dict[str, Any], field: str, status: int
) -> None:
    services.create_field_definition(by=None, key="taken", label="Taken", kind="text")
    body = {"key": "order_no", "label": "Order", "kind": "text", **payload}
    assert_problem(api_as(people.admin).post("/custom-fields", body), status, field=field)


def test_admin_updates_a_custom_field_by_key(people: Personas, api_as: ApiAs) -> None:
    services.create_field_definition(by=None, key="order_no", label="Order", kind="text")
    response = api_as(people.admin).patch(
        "/custom-fields/order_no", {"label": "Order number", "visible_to_customers": True}
    )
    assert response.status_code == 200, response.content
    body = _json(response)
    assert (body["label"], body["visible_to_customers"]) == ("Order number", True)


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"label": None}, "label"), ({"kind": "number"}, "kind"), ({"position": -1}, "position")],
)
def test_update_custom_field_with_bad_input_names_the_field(
    people: Personas, api_as: ApiAs, payload: dict[str, Any], field: str
) -> None:
    services.create_field_definition(by=None, key="order_no", label="Order", kind="text")
    response = api_as(people.admin).patch("/custom-fields/order_no", payload)
    assert_problem(response, 422, field=field)


def test_updating_an_unknown_custom_field_is_a_404_problem(people: Personas, api_as: ApiAs) -> None:
    assert_problem(api_as(people.admin).patch("/custom-fields/nope", {"label": "X"}), 404)


def test_agent_may_not_update_custom_fields(people: Personas, api_as: ApiAs) -> None:
    services.create_field_definition(by=None, key="order_no", label="Order", kind="text")
    assert_problem(api_as(people.agent).patch("/custom-fields/order_no", {"label": "X"}), 403)
