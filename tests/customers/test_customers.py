"""Customer services: create, update, delete, and intake's get-or-create by email."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.accounts.models import Team, User
from frontdesk.conversations.models import Channel
from frontdesk.conversations.services import create_conversation
from frontdesk.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from frontdesk.core.events import Audience
from frontdesk.core.models import Event, Via
from frontdesk.customers.events import CustomerCreated, CustomerDeleted, CustomerUpdated
from frontdesk.customers.models import Customer, Identity, IdentityKind
from frontdesk.customers.services import (
    create_company,
    create_customer,
    delete_customer,
    get_or_create_customer_by_email,
    update_customer,
)
from tests.conftest import Personas
from tests.events import collected


def every_team() -> Audience:
    return Audience(team_ids=frozenset(Team.objects.values_list("pk", flat=True)))


def identities(customer: Customer, kind: str) -> list[tuple[str, str, bool]]:
    rows = Identity.objects.filter(customer=customer, kind=kind).order_by("-is_primary", "id")
    return [(row.value, row.normalized, row.is_primary) for row in rows]


# --- create_customer ------------------------------------------------------------------------


def test_agent_creates_customer_with_emails_phones_and_company(people: Personas) -> None:
    customer = create_customer(
        by=people.agent,
        name=" Karel Dvořák ",
        emails=["Karel@Acme.Example", "karel.d@example.org", "KAREL@acme.example"],
        phones=["+420 777 000 111"],
        company=people.company,
        language="CS",
        time_zone="Europe/Prague",
        notes="Prefers phone.",
        external_id="crm-42",
        via=Via.WEB,
    )

    assert customer.name == "Karel Dvořák"
    assert customer.company == people.company
    assert (customer.language, customer.time_zone, customer.external_id) == (
        "cs",
        "Europe/Prague",
        "crm-42",
    )
    assert customer.primary_email == "Karel@Acme.Example"
    assert identities(customer, IdentityKind.EMAIL) == [
        ("Karel@Acme.Example", "karel@acme.example", True),
        ("karel.d@example.org", "karel.d@example.org", False),
    ]
    assert identities(customer, IdentityKind.PHONE) == [("+420 777 000 111", "+420777000111", True)]
    audit = Event.objects.get(object_type="customer", object_id=customer.pk)
    assert (audit.action, audit.actor_id, audit.via) == ("customer.created", people.agent.pk, "web")
    assert audit.data["emails"] == ["karel@acme.example", "karel.d@example.org"]


def test_create_customer_publishes_customer_created_to_every_team(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(CustomerCreated) as seen, django_capture_on_commit_callbacks(execute=True):
        customer = create_customer(by=people.agent, name="Karel", company=people.company)

    assert seen == [
        CustomerCreated(
            audience=every_team(), customer_id=customer.pk, company_id=people.company.pk
        )
    ]


def test_customer_user_may_not_create_customers(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        create_customer(by=people.customer_user, name="Karel")

    assert not Customer.objects.filter(name="Karel").exists()


def test_reviewer_may_not_create_customers(people: Personas) -> None:
    reviewer = User.objects.create_user("rita@example.com", role="reviewer")

    with pytest.raises(PermissionDenied):
        create_customer(by=reviewer, name="Karel")

    assert not Customer.objects.filter(name="Karel").exists()


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"emails": ["not-an-address"]}, "emails"),
        ({"emails": "karel@example.org"}, "emails"),
        ({"phones": ["12345"]}, "phones"),
        ({"phones": ["call me maybe"]}, "phones"),
        ({"name": "x" * 201}, "name"),
        ({"language": "Czech!"}, "language"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"company": "Acme"}, "company"),
    ],
)
def test_create_customer_refuses_bad_input_naming_the_field(
    people: Personas, arguments: dict[str, Any], field: str
) -> None:
    before = Customer.objects.count()

    with pytest.raises(InvalidInput) as refused:
        create_customer(by=people.agent, **arguments)

    assert refused.value.field == field
    assert Customer.objects.count() == before


def test_email_of_another_customer_is_refused_whatever_its_case(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_customer(
            by=people.agent, name="Karel", emails=["karel@example.org", "JANA@Acme.Example"]
        )

    assert refused.value.field == "emails"
    assert "JANA@Acme.Example" in refused.value.detail
    assert not Customer.objects.filter(name="Karel").exists()
    assert not Identity.objects.filter(normalized="karel@example.org").exists()


def test_phone_of_another_customer_is_refused_however_it_is_written(people: Personas) -> None:
    create_customer(by=people.agent, name="Karel", phones=["+420 777 000 111"])

    with pytest.raises(InvalidInput) as refused:
        create_customer(by=people.agent, name="Eva", phones=["00420-777-000-111"])

    assert refused.value.field == "phones"
    assert "00420-777-000-111" in refused.value.detail
    assert not Customer.objects.filter(name="Eva").exists()


def test_external_id_is_unique(people: Personas) -> None:
    create_customer(by=people.agent, name="Karel", external_id="crm-1")

    with pytest.raises(InvalidInput) as refused:
        create_customer(by=people.agent, name="Eva", external_id="crm-1")

    assert refused.value.field == "external_id"


def test_create_customer_leaves_nothing_when_the_audit_write_fails(
    people: Personas, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit store down")

    monkeypatch.setattr("frontdesk.customers.services.record_event", broken)

    with (
        collected(CustomerCreated) as seen,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
    ):
        create_customer(by=people.agent, name="Karel", emails=["karel@example.org"])

    assert not Customer.objects.filter(name="Karel").exists()
    assert not Identity.objects.filter(normalized="karel@example.org").exists()
    assert seen == []


# --- update_customer ------------------------------------------------------------------------


def test_update_customer_changes_fields_and_replaces_emails(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(CustomerUpdated) as seen, django_capture_on_commit_callbacks(execute=True):
        customer = update_customer(
            people.customer,
            by=people.agent,
            name="Jana Nováková-Svobodová",
            emails=["jana.svobodova@example.cz", "Jana@acme.example"],
            company=None,
            notes="Married; new surname.",
        )

    assert customer.name == "Jana Nováková-Svobodová"
    assert customer.company is None
    assert identities(customer, IdentityKind.EMAIL) == [
        ("jana.svobodova@example.cz", "jana.svobodova@example.cz", True),
        ("Jana@acme.example", "jana@acme.example", False),
    ]
    assert seen == [
        CustomerUpdated(
            audience=every_team(),
            customer_id=customer.pk,
            changed=("company", "emails", "name", "notes"),
        )
    ]
    audit = Event.objects.get(action="customer.updated")
    assert audit.data["changes"]["company"] == {"from": people.company.pk, "to": None}
    assert audit.data["changes"]["emails"] == {
        "from": ["jana@acme.example"],
        "to": ["jana.svobodova@example.cz", "jana@acme.example"],
    }


def test_update_without_a_real_change_writes_and_announces_nothing(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(CustomerUpdated) as seen, django_capture_on_commit_callbacks(execute=True):
        update_customer(
            people.customer,
            by=people.agent,
            name="Jana Nováková",
            emails=["jana@acme.example"],
        )

    assert seen == []
    assert not Event.objects.filter(action="customer.updated").exists()


def test_adding_an_email_of_another_customer_names_it(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        update_customer(people.customer, by=people.agent, emails=["Piotr@Example.org"])

    assert refused.value.field == "emails"
    assert "Piotr@Example.org" in refused.value.detail
    assert identities(people.customer, IdentityKind.EMAIL)[0][1] == "jana@acme.example"


def test_update_customer_refuses_unknown_fields(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        update_customer(people.customer, by=people.agent, user=people.agent)

    assert refused.value.field == "user"


def test_failed_update_leaves_the_customer_as_it_was(people: Personas) -> None:
    create_customer(by=people.agent, name="Karel", external_id="crm-1")

    with pytest.raises(InvalidInput) as refused:
        update_customer(
            people.customer,
            by=people.agent,
            emails=["jana.new@example.cz"],
            phones=["+420 777 999 888"],
            external_id="crm-1",
        )

    assert refused.value.field == "external_id"
    assert identities(people.customer, IdentityKind.EMAIL)[0][1] == "jana@acme.example"
    assert identities(people.customer, IdentityKind.PHONE) == []
    assert not Identity.objects.filter(normalized="jana.new@example.cz").exists()


def test_customer_user_may_not_edit_their_own_record(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        update_customer(people.customer, by=people.customer_user, name="J.")

    assert Customer.objects.get(pk=people.customer.pk).name == "Jana Nováková"


def test_customer_user_does_not_learn_that_another_customer_exists(people: Personas) -> None:
    with pytest.raises(NotFound):
        update_customer(people.other_customer, by=people.customer_user, name="P.")


# --- delete_customer ------------------------------------------------------------------------


def test_admin_deletes_customer_and_their_portal_login_is_closed(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    customer_id = people.customer.pk

    with collected(CustomerDeleted) as seen, django_capture_on_commit_callbacks(execute=True):
        delete_customer(people.customer, by=people.admin)

    assert not Customer.objects.filter(pk=customer_id).exists()
    assert not Identity.objects.filter(customer_id=customer_id).exists()
    assert not User.objects.get(pk=people.customer_user.pk).is_active
    assert seen == [CustomerDeleted(audience=every_team(), customer_id=customer_id)]
    audit = Event.objects.get(action="customer.deleted", object_id=customer_id)
    assert audit.data["emails"] == ["jana@acme.example"]


@pytest.mark.parametrize("persona", ["supervisor", "agent"])
def test_only_admins_delete_customers(people: Personas, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        delete_customer(people.other_customer, by=getattr(people, persona))

    assert Customer.objects.filter(pk=people.other_customer.pk).exists()


def test_customer_with_conversations_cannot_be_deleted(people: Personas) -> None:
    create_conversation(
        by=None,
        customer=people.other_customer,
        subject="Where is my parcel?",
        channel=Channel.EMAIL,
        text="It has been a week.",
    )

    with pytest.raises(Conflict):
        delete_customer(people.other_customer, by=people.admin)

    assert Customer.objects.filter(pk=people.other_customer.pk).exists()
    assert Identity.objects.filter(customer=people.other_customer).exists()
    assert not Event.objects.filter(action="customer.deleted").exists()


# --- get_or_create_customer_by_email --------------------------------------------------------


def test_known_sender_is_found_whatever_the_case(people: Personas) -> None:
    customer, created = get_or_create_customer_by_email(" JANA@ACME.EXAMPLE ")

    assert (customer, created) == (people.customer, False)


def test_new_sender_is_created_in_the_company_of_their_domain(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    company = create_company(by=None, name="Globex", domains=["globex.example"])

    with collected(CustomerCreated) as seen, django_capture_on_commit_callbacks(execute=True):
        customer, created = get_or_create_customer_by_email(
            "Hank@EU.Globex.example", name=" Hank Scorpio ", via=Via.EMAIL
        )

    assert created
    assert customer.name == "Hank Scorpio"
    assert customer.company == company
    assert identities(customer, IdentityKind.EMAIL) == [
        ("Hank@EU.Globex.example", "hank@eu.globex.example", True)
    ]
    assert seen == [
        CustomerCreated(audience=every_team(), customer_id=customer.pk, company_id=company.pk)
    ]
    audit = Event.objects.get(action="customer.created", object_id=customer.pk)
    assert (audit.actor_id, audit.actor_label, audit.via) == (None, "system", "email")


def test_sender_from_an_unknown_domain_gets_no_company(people: Personas) -> None:
    customer, created = get_or_create_customer_by_email("someone@nowhere.example")

    assert created
    assert customer.company is None


def test_get_or_create_refuses_a_malformed_address(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        get_or_create_customer_by_email("not an address")

    assert refused.value.field == "email"
