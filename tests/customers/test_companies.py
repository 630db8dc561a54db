"""Company services: supervisors and admins keep the list of companies and their domains."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.accounts.models import Team
from frontdesk.core.errors import InvalidInput, NotFound, PermissionDenied
from frontdesk.core.events import Audience
from frontdesk.core.models import Event
from frontdesk.customers.events import CompanyCreated, CompanyDeleted, CompanyUpdated
from frontdesk.customers.models import Company, CompanyDomain, Customer
from frontdesk.customers.services import create_company, delete_company, update_company
from tests.conftest import Personas
from tests.events import collected


def every_team() -> Audience:
    return Audience(team_ids=frozenset(Team.objects.values_list("pk", flat=True)))


def domains(company: Company) -> list[str]:
    return sorted(company.domains.values_list("domain", flat=True))


def test_supervisor_creates_company_with_lower_case_domains(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(CompanyCreated) as seen, django_capture_on_commit_callbacks(execute=True):
        company = create_company(
            by=people.supervisor,
            name=" Globex ",
            domains=["Globex.Example", "@globex.example", "globex.co.example"],
            notes="Key account.",
            members_see_all=True,
        )

    assert (company.name, company.notes, company.members_see_all) == (
        "Globex",
        "Key account.",
        True,
    )
    assert domains(company) == ["globex.co.example", "globex.example"]
    assert seen == [CompanyCreated(audience=every_team(), company_id=company.pk)]
    audit = Event.objects.get(action="company.created")
    assert (audit.object_id, audit.actor_id) == (company.pk, people.supervisor.pk)


@pytest.mark.parametrize("persona", ["agent", "customer_user"])
def test_agents_and_customers_may_not_create_companies(people: Personas, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        create_company(by=getattr(people, persona), name="Globex")

    assert not Company.objects.filter(name="Globex").exists()


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"name": "  "}, "name"),
        ({"domains": ["not a domain"]}, "domains"),
        ({"domains": ["gmail.com"]}, "domains"),
        ({"domains": "globex.example"}, "domains"),
        ({"members_see_all": "yes"}, "members_see_all"),
    ],
)
def test_create_company_refuses_bad_input_naming_the_field(
    people: Personas, arguments: dict[str, Any], field: str
) -> None:
    before = Company.objects.count()

    with pytest.raises(InvalidInput) as refused:
        create_company(by=people.admin, **{"name": "Globex", **arguments})

    assert refused.value.field == field
    assert Company.objects.count() == before


def test_domain_of_another_company_is_refused_and_nothing_is_written(people: Personas) -> None:
    create_company(by=people.admin, name="Acme", domains=["acme.example"])

    with pytest.raises(InvalidInput) as refused:
        create_company(by=people.admin, name="Globex", domains=["globex.example", "ACME.example"])

    assert refused.value.field == "domains"
    assert "acme.example" in refused.value.detail
    assert not Company.objects.filter(name="Globex").exists()
    assert not CompanyDomain.objects.filter(domain="globex.example").exists()


def test_update_company_replaces_domains_and_announces_what_changed(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    company = create_company(by=people.admin, name="Globex", domains=["globex.example"])

    with collected(CompanyUpdated) as seen, django_capture_on_commit_callbacks(execute=True):
        updated = update_company(
            company,
            by=people.supervisor,
            domains=["globex.co.example"],
            members_see_all=True,
        )

    assert domains(updated) == ["globex.co.example"]
    assert updated.members_see_all
    assert seen == [
        CompanyUpdated(
            audience=every_team(), company_id=company.pk, changed=("domains", "members_see_all")
        )
    ]


def test_update_company_with_nothing_new_writes_nothing(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(CompanyUpdated) as seen, django_capture_on_commit_callbacks(execute=True):
        update_company(people.company, by=people.admin, name="Acme s.r.o.")

    assert seen == []
    assert not Event.objects.filter(action="company.updated").exists()


def test_update_company_refuses_unknown_fields(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        update_company(people.company, by=people.admin, vat_id="CZ123")

    assert refused.value.field == "vat_id"


def test_agent_may_not_change_a_company(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        update_company(people.company, by=people.agent, name="Acme a.s.")

    assert Company.objects.get(pk=people.company.pk).name == "Acme s.r.o."


def test_customer_gets_not_found_for_a_company_they_cannot_see(people: Personas) -> None:
    with pytest.raises(NotFound):
        update_company(people.company, by=people.customer_user, name="Acme a.s.")


def test_delete_company_keeps_its_customers(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    company_id = people.company.pk

    with collected(CompanyDeleted) as seen, django_capture_on_commit_callbacks(execute=True):
        delete_company(people.company, by=people.supervisor)

    assert not Company.objects.filter(pk=company_id).exists()
    assert Customer.objects.get(pk=people.customer.pk).company is None
    assert seen == [CompanyDeleted(audience=every_team(), company_id=company_id)]
    assert Event.objects.filter(action="company.deleted", object_id=company_id).exists()


def test_agent_may_not_delete_a_company(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        delete_company(people.company, by=people.agent)

    assert Company.objects.filter(pk=people.company.pk).exists()
