"""Every error under /api/v1 is RFC 9457 problem+json, whatever produced it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from frontdesk.core.api_support import field_from_loc
from tests.api.conftest import Api, assert_problem
from tests.conftest import Personas

ApiAs = Callable[..., Api]


def test_unknown_route_under_api_is_a_404_problem(people: Personas, api_as: ApiAs) -> None:
    response = api_as(people.agent).get("/no-such-thing")
    body = assert_problem(response, 404, slug="not-found")
    assert "/api/v1/no-such-thing" in body["detail"]


def test_unknown_route_needs_no_authentication_to_be_a_problem(db: None) -> None:
    assert_problem(Api(None).get("/nowhere/at/all"), 404)


def test_wrong_method_is_a_405_problem_naming_the_allowed_ones(
    people: Personas, api_as: ApiAs
) -> None:
    response = api_as(people.agent).delete("/tags")
    body = assert_problem(response, 405, slug="method-not-allowed")
    assert response["Allow"] == "GET"
    assert "GET" in body["detail"]


def test_malformed_json_body_is_a_400_problem(people: Personas, api_as: ApiAs) -> None:
    response = api_as(people.agent).post("/customers", '{"name": "Jana"')
    assert_problem(response, 400, slug="malformed-request")


def test_validation_error_names_the_nested_field(people: Personas, api_as: ApiAs) -> None:
    response = api_as(people.agent).post(
        "/conversations",
        {"subject": "Hi", "customer_id": people.customer.pk, "message": {"html": "<p>x</p>"}},
    )
    body = assert_problem(response, 422, field="message.text", slug="invalid-input")
    assert body["errors"] == [{"field": "message.text", "detail": "This field is required."}]


def test_missing_body_is_named_body(people: Personas, api_as: ApiAs) -> None:
    assert_problem(api_as(people.agent).post("/companies", ""), 422, field="body")


def test_body_that_is_not_an_object_is_named_body(people: Personas, api_as: ApiAs) -> None:
    assert_problem(api_as(people.agent).post("/companies", "[1, 2]"), 422, field="body")


def test_every_validation_error_is_listed(people: Personas, api_as: ApiAs) -> None:
    response = api_as(people.agent).post("/companies", {"name": "", "members_see_all": "maybe"})
    body = assert_problem(response, 422, field="name")
    assert {e["field"] for e in body["errors"]} == {"name", "members_see_all"}


def test_unknown_field_in_a_body_is_rejected_by_name(people: Personas, api_as: ApiAs) -> None:
    response = api_as(people.agent).post(
        "/conversations",
        {
            "subject": "Hi",
            "customer_id": people.customer.pk,
            "message": {"text": "Hello", "colour": "red"},
        },
    )
    body = assert_problem(response, 422, field="message.colour")
    assert body["errors"][0]["detail"] == "Unknown field."


def test_invalid_query_parameter_names_the_parameter(people: Personas, api_as: ApiAs) -> None:
    assert_problem(api_as(people.agent).get("/conversations", {"limit": 500}), 422, field="limit")


def test_invalid_path_parameter_is_a_problem(people: Personas, api_as: ApiAs) -> None:
    assert_problem(api_as(people.agent).get("/conversations/abc"), 422, field="number")


def test_service_refusal_carries_its_status_and_field(people: Personas, api_as: ApiAs) -> None:
    response = api_as(people.agent).get("/conversations", {"cursor": "not-a-cursor"})
    assert_problem(response, 422, field="cursor", slug="invalid-input")


def test_unexpected_error_is_a_500_problem_without_a_traceback(
    people: Personas, api_as: ApiAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(user: Any) -> Any:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr("frontdesk.accounts.selectors.list_teams", broken)
    response = api_as(people.agent).get("/teams")
    assert_problem(response, 500, slug="server-error")
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content


@pytest.mark.parametrize(
    ("loc", "field"),
    [
        (("body", "payload", "message", "text"), "message.text"),
        (("body", "payload"), "body"),
        (("query", "limit"), "limit"),
        (("path", "number"), "number"),
        (("body", "payload", "tags", 2), "tags.2"),
        (("header", "x-thing"), "x-thing"),
    ],
)
def test_field_path_comes_from_the_error_location(loc: tuple[Any, ...], field: str) -> None:
    assert field_from_loc(loc) == field
