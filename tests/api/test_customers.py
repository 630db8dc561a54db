"""The customers and companies endpoints."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from frontdesk.accounts.models import Role
from frontdesk.customers import services
from frontdesk.customers.models import Company, Customer
from tests.api.conftest import BASE, Api, assert_problem, open_conversation
from tests.conftest import Personas, make_user

ApiAs = Callable[..., Api]


def _json(response: Any) -> Any:
    return json.loads(response.content)


@pytest.fixture
def agent_api(people: Personas, api_as: ApiAs) -> Api:
    return api_as(people.agent)


# --- customers -------------------------------------------------------------------------


def test_create_customer_returns_it_with_identities(people: Personas, agent_api: Api) -> None:
    response = agent_api.post(
        "/customers",
        {
            "name": "Eva Svobodová",
            "emails": ["Eva@Example.cz"],
            "phones": ["+420 601 123 456"],
            "company_id": people.company.pk,
            "language": "cs",
            "time_zone": "Europe/Prague",
        },
    )
    assert response.status_code == 201, response.content
    body = _json(response)
    assert body["name"] == "Eva Svobodová"
    assert body["emails"] == ["Eva@Example.cz"]
    assert len(body["phones"]) == 1
    assert body["company"] == {"id": people.company.pk, "name": "Acme s.r.o."}
    assert Customer.objects.filter(pk=body["id"]).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"emails": ["not-an-email"]}, "emails"),
        ({"emails": "a@example.com"}, "emails"),
        ({"company_id": 999_999}, "company_id"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "x" * 201}, "name"),
        ({"nickname": "Jo"}, "nickname"),
        ({"emails": ["jana@acme.example"]}, "emails"),
    ],
)
def test_create_customer_with_bad_input_names_the_field(
    people: Personas, agent_api: Api, payload: dict[str, Any], field: str
) -> None:
    before = Customer.objects.count()
    response = agent_api.post("/customers", {"name": "Somebody", **payload})
    body = assert_problem(response, response.status_code)
    assert response.status_code in {409, 422}
    assert body["field"] == field
    assert Customer.objects.count() == before


def test_reviewer_may_not_create_customers(people: Personas, api_as: ApiAs) -> None:
    reviewer = make_user("rita@example.com", Role.REVIEWER)
    assert_problem(api_as(reviewer).post("/customers", {"name": "X"}), 403, slug="forbidden")


def test_list_customers_pages_and_searches(people: Personas, agent_api: Api) -> None:
    body = _json(agent_api.get("/customers", {"limit": 1}))
    assert len(body["items"]) == 1
    assert body["next_cursor"]
    rest = _json(agent_api.get("/customers", {"limit": 1, "cursor": body["next_cursor"]}))
    assert rest["items"][0]["id"] != body["items"][0]["id"]

    found = _json(agent_api.get("/customers", {"q": "PIOTR@example.org"}))["items"]
    assert [c["id"] for c in found] == [people.other_customer.pk]
    by_company = _json(agent_api.get("/customers", {"company": people.company.pk}))["items"]
    assert [c["id"] for c in by_company] == [people.customer.pk]


def test_list_customers_query_count_does_not_grow(
    people: Personas, agent_api: Api, django_assert_num_queries: Any
) -> None:
    for i in range(12):
        services.create_customer(
            by=None, name=f"C{i}", emails=[f"c{i}@example.net"], company=people.company
        )
    # Token look-up, last-used bump, the customers with companies, their identities.
    with django_assert_num_queries(4):
        response = agent_api.get("/customers", {"limit": 200})
    assert len(_json(response)["items"]) == 14


def test_lookup_by_email_ignores_case(people: Personas, agent_api: Api) -> None:
    response = agent_api.get("/customers/lookup", {"email": "JANA@ACME.example"})
    assert response.status_code == 200
    assert _json(response)["id"] == people.customer.pk


def test_lookup_of_an_unknown_email_is_a_404_problem(people: Personas, agent_api: Api) -> None:
    response = agent_api.get("/customers/lookup", {"email": "nobody@example.com"})
    assert_problem(response, 404, field="email", slug="not-found")


def test_lookup_without_email_names_it(people: Personas, agent_api: Api) -> None:
    assert_problem(agent_api.get("/customers/lookup"), 422, field="email")


def test_get_customer_and_unknown_customer(people: Personas, agent_api: Api) -> None:
    body = _json(agent_api.get(f"/customers/{people.customer.pk}"))
    assert body["emails"] == ["jana@acme.example"]
    assert_problem(agent_api.get("/customers/999999"), 404)


def test_customer_user_sees_only_themselves(people: Personas) -> None:
    client = Client()
    client.force_login(people.customer_user)
    assert client.get(f"{BASE}/customers/{people.customer.pk}").status_code == 200
    assert_problem(client.get(f"{BASE}/customers/{people.other_customer.pk}"), 404)  # type: ignore[arg-type]
    listed = _json(client.get(f"{BASE}/customers"))["items"]
    assert [c["id"] for c in listed] == [people.customer.pk]
    lookup = client.get(f"{BASE}/customers/lookup", {"email": "piotr@example.org"})
    assert_problem(lookup, 404)  # type: ignore[arg-type]


def test_patch_customer_changes_only_what_was_sent(people: Personas, agent_api: Api) -> None:
    response = agent_api.patch(
        f"/customers/{people.customer.pk}",
        {"name": "Jana Nová", "emails": ["jana@acme.example", "jana.nova@example.cz"]},
    )
    assert response.status_code == 200, response.content
    body = _json(response)
    assert body["name"] == "Jana Nová"
    assert sorted(body["emails"]) == ["jana.nova@example.cz", "jana@acme.example"]
    assert body["company"]["id"] == people.company.pk


def test_patch_customer_can_clear_the_company(people: Personas, agent_api: Api) -> None:
    body = _json(agent_api.patch(f"/customers/{people.customer.pk}", {"company_id": None}))
    assert body["company"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": None}, "name"),
        ({"emails": ["bad"]}, "emails"),
        ({"company_id": 999_999}, "company_id"),
        ({"user_id": 3}, "user_id"),
    ],
)
def test_patch_customer_with_bad_input_names_the_field(
    people: Personas, agent_api: Api, payload: dict[str, Any], field: str
) -> None:
    response = agent_api.patch(f"/customers/{people.customer.pk}", payload)
    assert_problem(response, 422, field=field)


def test_only_admins_delete_customers(people: Personas, api_as: ApiAs) -> None:
    assert_problem(api_as(people.agent).delete(f"/customers/{people.other_customer.pk}"), 403)
    response = api_as(people.admin).delete(f"/customers/{people.other_customer.pk}")
    assert response.status_code == 204
    assert not Customer.objects.filter(pk=people.other_customer.pk).exists()


def test_customer_with_conversations_cannot_be_deleted(people: Personas, api_as: ApiAs) -> None:
    open_conversation(people.other_customer, team=people.orders)
    response = api_as(people.admin).delete(f"/customers/{people.other_customer.pk}")
    assert_problem(response, 409, slug="conflict")
    assert Customer.objects.filter(pk=people.other_customer.pk).exists()


# --- companies -------------------------------------------------------------------------


def test_supervisor_creates_a_company(people: Personas, api_as: ApiAs) -> None:
    response = api_as(people.supervisor).post(
        "/companies", {"name": "Globex", "domains": ["Globex.example"], "members_see_all": True}
    )
    assert response.status_code == 201, response.content
    body = _json(response)
    assert body["domains"] == ["globex.example"]
    assert body["members_see_all"] is True


def test_agent_may_not_create_companies(people: Personas, agent_api: Api) -> None:
    assert_problem(agent_api.post("/companies", {"name": "Globex"}), 403)
    assert not Company.objects.filter(name="Globex").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"domains": ["not a domain"]}, "domains"),
        ({"members_see_all": "sometimes"}, "members_see_all"),
        ({"website": "x"}, "website"),
    ],
)
def test_create_company_with_bad_input_names_the_field(
    people: Personas, api_as: ApiAs, payload: dict[str, Any], field: str
) -> None:
    response = api_as(people.admin).post("/companies", {"name": "Globex", **payload})
    assert_problem(response, 422, field=field)


def test_list_get_patch_and_delete_a_company(people: Personas, api_as: ApiAs) -> None:
    admin = api_as(people.admin)
    company = services.create_company(by=None, name="Initech", domains=["initech.example"])
    names = [c["name"] for c in _json(admin.get("/companies"))["items"]]
    assert names == ["Acme s.r.o.", "Initech"]
    assert _json(admin.get(f"/companies/{company.pk}"))["domains"] == ["initech.example"]

    patched = admin.patch(f"/companies/{company.pk}", {"notes": "Pays late"})
    assert patched.status_code == 200, patched.content
    assert _json(patched)["notes"] == "Pays late"
    assert_problem(admin.patch(f"/companies/{company.pk}", {"name": None}), 422, field="name")

    assert admin.delete(f"/companies/{company.pk}").status_code == 204
    assert_problem(admin.get(f"/companies/{company.pk}"), 404)


def test_list_companies_query_count_does_not_grow(
    people: Personas, agent_api: Api, django_assert_num_queries: Any
) -> None:
    for i in range(10):
        services.create_company(by=None, name=f"Co {i}", domains=[f"co{i}.example"])
    # Token look-up, last-used bump, the companies, their domains.
    with django_assert_num_queries(4):
        response = agent_api.get("/companies", {"limit": 200})
    assert len(_json(response)["items"]) == 11


def test_customer_sees_their_company_only_when_it_allows(people: Personas) -> None:
    client = Client()
    client.force_login(people.customer_user)
    assert_problem(client.get(f"{BASE}/companies/{people.company.pk}"), 404)  # type: ignore[arg-type]
    services.update_company(people.company, by=None, members_see_all=True)
    assert client.get(f"{BASE}/companies/{people.company.pk}").status_code == 200
