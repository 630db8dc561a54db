"""Reading customers and companies: look-ups, scope and keyset pages."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.customers.models import Company, Customer
from frontdesk.customers.selectors import (
    access_company,
    access_customer,
    find_customer_by_email,
    find_customer_by_phone,
    list_companies,
    list_customers,
)
from frontdesk.customers.services import create_company, create_customer, update_company
from tests.conftest import Personas


def all_customer_pages(people: Personas, *, limit: int, **filters: Any) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor = None
    for _ in range(50):
        page = list_customers(people.agent, cursor=cursor, limit=limit, **filters)
        pages.append([customer.pk for customer in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("pagination did not end")


def test_find_customer_by_email_ignores_case(people: Personas) -> None:
    assert find_customer_by_email("Jana@ACME.example") == people.customer
    assert find_customer_by_email("nobody@acme.example") is None
    assert find_customer_by_email("not an address") is None


def test_find_customer_by_phone_ignores_punctuation(people: Personas) -> None:
    karel = create_customer(by=None, name="Karel", phones=["+420 777 000 111"])

    assert find_customer_by_phone("00420-777-000-111") == karel
    assert find_customer_by_phone("+420 777 000 112") is None
    assert find_customer_by_phone("call me") is None


def test_staff_see_any_customer(people: Personas) -> None:
    found = access_customer(people.other_agent, people.customer.pk)

    assert found == people.customer
    assert found.primary_email == "jana@acme.example"


def test_customer_user_sees_only_their_own_record(people: Personas) -> None:
    assert access_customer(people.customer_user, people.customer.pk) == people.customer
    with pytest.raises(NotFound):
        access_customer(people.customer_user, people.other_customer.pk)
    assert list_customers(people.customer_user).items == [people.customer]


def test_list_customers_walks_every_page_once_in_id_order(people: Personas) -> None:
    for n in range(5):
        create_customer(by=None, name=f"Customer {n}")
    every_id = list(Customer.objects.order_by("id").values_list("pk", flat=True))

    pages = all_customer_pages(people, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [pk for page in pages for pk in page] == every_id


def test_list_customers_searches_name_and_exact_identities(people: Personas) -> None:
    karel = create_customer(by=None, name="Karel", phones=["+420 777 000 111"])

    def search(q: str) -> list[Customer]:
        return list_customers(people.agent, q=q).items

    assert search("nová") == [people.customer]
    assert search("JANA@acme.example") == [people.customer]
    assert search("jana@acme") == []
    assert search("00420 777 000 111") == [karel]


def test_list_customers_filters_by_company(people: Personas) -> None:
    page = list_customers(people.agent, company_id=people.company.pk)

    assert page.items == [people.customer]


def test_list_customers_refuses_a_forged_cursor(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        list_customers(people.agent, cursor="not-a-cursor")

    assert refused.value.field == "cursor"


def test_list_companies_orders_by_name_across_pages(people: Personas) -> None:
    for name in ["Zeta", "Beta", "Alpha", "Beta"]:
        create_company(by=None, name=name)
    names: list[str] = []
    ids: list[int] = []
    cursor = None
    for _ in range(10):
        page = list_companies(people.agent, cursor=cursor, limit=2)
        names += [company.name for company in page.items]
        ids += [company.pk for company in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert names == ["Acme s.r.o.", "Alpha", "Beta", "Beta", "Zeta"]
    assert len(set(ids)) == 5


def test_list_companies_searches_name_and_domain(people: Personas) -> None:
    globex = create_company(by=None, name="Globex", domains=["globex.example"])

    assert list_companies(people.agent, q="glob").items == [globex]
    assert list_companies(people.agent, q="@GLOBEX.example").items == [globex]


def test_customer_sees_their_company_only_when_members_see_all(people: Personas) -> None:
    with pytest.raises(NotFound):
        access_company(people.customer_user, people.company.pk)
    assert list_companies(people.customer_user).items == []

    update_company(people.company, by=None, members_see_all=True)

    assert access_company(people.customer_user, people.company.pk) == people.company
    assert list_companies(people.customer_user).items == [people.company]
    other = Company.objects.create(name="Other", members_see_all=True)
    with pytest.raises(NotFound):
        access_company(people.customer_user, other.pk)
