"""The Django admin for customers and companies normalises what admins type."""

from __future__ import annotations

from django.test import Client

from frontdesk.accounts.models import User
from frontdesk.core.models import Event
from frontdesk.customers.models import Company, CompanyDomain, Customer, Identity
from tests.conftest import Personas


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def customer_form(**identity_rows: str) -> dict[str, str]:
    rows = [value.split(":", 1) for value in identity_rows.values()]
    data = {
        "name": "Karel",
        "language": "",
        "time_zone": "",
        "external_id": "",
        "notes": "",
        "identities-TOTAL_FORMS": str(len(rows)),
        "identities-INITIAL_FORMS": "0",
    }
    for index, (kind, value) in enumerate(rows):
        data[f"identities-{index}-kind"] = kind
        data[f"identities-{index}-value"] = value
    return data


def test_admin_adds_customer_whose_identities_are_normalised(people: Personas) -> None:
    response = signed_in(people.admin).post(
        "/admin/customers/customer/add/",
        customer_form(a="email: Karel@Example.ORG ", b="phone:+420 777 000 111"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    customer = Customer.objects.get(name="Karel")
    rows = set(Identity.objects.filter(customer=customer).values_list("value", "normalized"))
    assert rows == {
        ("Karel@Example.ORG", "karel@example.org"),
        ("+420 777 000 111", "+420777000111"),
    }
    assert Event.objects.filter(action="customer.created_in_admin", object_id=customer.pk).exists()


def test_admin_cannot_give_a_customer_someone_elses_email(people: Personas) -> None:
    response = signed_in(people.admin).post(
        "/admin/customers/customer/add/", customer_form(a="email:JANA@acme.example")
    )

    assert response.status_code == 200
    assert "belongs to another customer" in response.content.decode()
    assert not Customer.objects.filter(name="Karel").exists()


def test_admin_cannot_list_the_same_identity_twice(people: Personas) -> None:
    response = signed_in(people.admin).post(
        "/admin/customers/customer/add/",
        customer_form(a="email:karel@example.org", b="email:KAREL@example.org"),
    )

    assert response.status_code == 200
    assert "listed twice" in response.content.decode()
    assert not Customer.objects.filter(name="Karel").exists()


def company_form(*domains: str) -> dict[str, str]:
    data = {
        "name": "Globex",
        "notes": "",
        "domains-TOTAL_FORMS": str(len(domains)),
        "domains-INITIAL_FORMS": "0",
    }
    for index, domain in enumerate(domains):
        data[f"domains-{index}-domain"] = domain
    return data


def test_admin_adds_company_with_lower_case_domains(people: Personas) -> None:
    response = signed_in(people.admin).post(
        "/admin/customers/company/add/", company_form("@Globex.EXAMPLE")
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    company = Company.objects.get(name="Globex")
    assert list(company.domains.values_list("domain", flat=True)) == ["globex.example"]


def test_admin_cannot_attach_a_public_mail_domain(people: Personas) -> None:
    response = signed_in(people.admin).post(
        "/admin/customers/company/add/", company_form("gmail.com")
    )

    assert response.status_code == 200
    assert "public mail provider" in response.content.decode()
    assert not CompanyDomain.objects.exists()


def test_customer_list_loads_for_admins(people: Personas) -> None:
    response = signed_in(people.admin).get("/admin/customers/customer/")

    assert response.status_code == 200
    assert "jana@acme.example" in response.content.decode()
