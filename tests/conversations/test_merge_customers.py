"""merge_customers: a duplicate customer's conversations, identities and login move to another."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.accounts.models import Role, Team
from frontdesk.conversations.events import CustomersMerged
from frontdesk.conversations.models import Conversation, Message
from frontdesk.conversations.services import merge_customers
from frontdesk.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from frontdesk.core.events import Audience
from frontdesk.core.models import Event, Via
from frontdesk.customers.models import Customer, Identity, IdentityKind
from frontdesk.customers.services import create_customer, get_or_create_customer_by_email
from tests.conftest import Personas, make_user
from tests.conversations.helpers import open_conversation
from tests.events import collected


def identity_rows(customer: Customer) -> list[tuple[str, str, bool]]:
    rows = Identity.objects.filter(customer=customer).order_by("kind", "-is_primary", "id")
    return [(row.kind, row.normalized, row.is_primary) for row in rows]


@pytest.fixture
def duplicate(people: Personas) -> Customer:
    """Jana again, as the phone desk filed her: another email, a phone, no company."""
    return create_customer(
        by=None,
        name="J. Nováková",
        emails=["jana.novakova@example.org"],
        phones=["+420 777 000 111"],
    )


def test_merge_moves_conversations_identities_and_authorship_to_the_target(
    people: Personas, duplicate: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    by_mail = open_conversation(duplicate, team=people.orders, subject="Parcel", by=None)
    by_phone = open_conversation(
        duplicate, team=people.billing, subject="Invoice", channel="phone", assignee=None
    )
    untouched = open_conversation(people.other_customer, team=people.orders)

    with collected(CustomersMerged) as seen, django_capture_on_commit_callbacks(execute=True):
        kept = merge_customers(duplicate, into=people.customer, by=people.supervisor, via=Via.WEB)

    assert kept == people.customer
    duplicate.refresh_from_db()
    assert duplicate.merged_into == people.customer
    for conversation in (by_mail, by_phone):
        conversation.refresh_from_db()
        assert conversation.customer == people.customer
        # The conversations follow the kept customer's company, as new ones would.
        assert conversation.company == people.company
    untouched.refresh_from_db()
    assert untouched.customer == people.other_customer
    assert not Message.objects.filter(author_customer=duplicate).exists()
    assert Message.objects.filter(author_customer=people.customer).count() == 2
    # Jana's own address stays primary; the phone is her first, so it is primary.
    assert identity_rows(people.customer) == [
        (IdentityKind.EMAIL, "jana@acme.example", True),
        (IdentityKind.EMAIL, "jana.novakova@example.org", False),
        (IdentityKind.PHONE, "+420777000111", True),
    ]
    assert identity_rows(duplicate) == []
    assert seen == [
        CustomersMerged(
            via=Via.WEB,
            audience=Audience(team_ids=frozenset(Team.objects.values_list("pk", flat=True))),
            source_id=duplicate.pk,
            customer_id=people.customer.pk,
            conversation_ids=(by_mail.pk, by_phone.pk),
            numbers=(by_mail.number, by_phone.number),
        )
    ]


def test_merge_writes_audit_rows_for_both_customers_and_each_moved_conversation(
    people: Personas, duplicate: Customer
) -> None:
    conversation = open_conversation(duplicate, team=people.orders)

    merge_customers(duplicate, into=people.customer, by=people.admin, via=Via.WEB)

    merged = Event.objects.get(action="customer.merged", object_id=duplicate.pk)
    assert merged.actor_id == people.admin.pk
    assert merged.data["into"] == people.customer.pk
    assert merged.data["conversation_numbers"] == [conversation.number]
    assert len(merged.data["identity_ids"]) == 2
    received = Event.objects.get(action="customer.merge_received", object_id=people.customer.pk)
    assert received.data["from"] == duplicate.pk
    moved = Event.objects.get(action="conversation.customer_changed", object_type="conversation")
    assert moved.object_id == conversation.pk
    assert moved.data["from"] == duplicate.pk
    assert moved.data["to"] == people.customer.pk
    assert moved.data["company"] == {"from": None, "to": people.company.pk}


def test_intake_finds_the_kept_customer_for_a_merged_address(
    people: Personas, duplicate: Customer
) -> None:
    merge_customers(duplicate, into=people.customer, by=people.supervisor)

    found, created = get_or_create_customer_by_email("Jana.Novakova@example.org")

    assert (found, created) == (people.customer, False)


def test_merge_moves_the_portal_login_when_the_target_has_none(
    people: Personas, duplicate: Customer
) -> None:
    merge_customers(people.customer, into=duplicate, by=people.supervisor)

    people.customer.refresh_from_db()
    duplicate.refresh_from_db()
    assert people.customer.user_id is None
    assert duplicate.user_id == people.customer_user.pk


def test_merge_refuses_when_both_customers_have_a_portal_login(
    people: Personas, duplicate: Customer
) -> None:
    duplicate.user = make_user("jana.novakova@example.org", Role.CUSTOMER)
    duplicate.save()

    with pytest.raises(Conflict) as refused:
        merge_customers(duplicate, into=people.customer, by=people.supervisor)

    assert refused.value.field == "into"
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None


def test_customers_merged_earlier_follow_to_the_new_target_so_no_chain_forms(
    people: Personas, duplicate: Customer
) -> None:
    older = create_customer(by=None, name="Jana N.", emails=["jn@example.net"])
    merge_customers(older, into=duplicate, by=people.supervisor)

    merge_customers(duplicate, into=people.customer, by=people.supervisor)

    older.refresh_from_db()
    assert older.merged_into == people.customer
    assert Identity.objects.get(normalized="jn@example.net").customer == people.customer


def test_merge_refuses_merging_into_itself(people: Personas, duplicate: Customer) -> None:
    with pytest.raises(InvalidInput) as refused:
        merge_customers(duplicate, into=duplicate, by=people.supervisor)

    assert refused.value.field == "into"


def test_merge_refuses_a_target_that_is_itself_merged(
    people: Personas, duplicate: Customer
) -> None:
    merge_customers(people.other_customer, into=people.customer, by=people.supervisor)

    with pytest.raises(Conflict) as refused:
        merge_customers(duplicate, into=people.other_customer, by=people.supervisor)

    assert refused.value.field == "into"
    assert Identity.objects.filter(customer=duplicate).count() == 2


def test_merge_refuses_a_source_already_merged(people: Personas, duplicate: Customer) -> None:
    merge_customers(duplicate, into=people.customer, by=people.supervisor)

    with pytest.raises(Conflict):
        merge_customers(duplicate, into=people.other_customer, by=people.supervisor)

    duplicate.refresh_from_db()
    assert duplicate.merged_into == people.customer


def test_agents_may_not_merge_customers(people: Personas, duplicate: Customer) -> None:
    conversation = open_conversation(duplicate, team=people.orders)

    with pytest.raises(PermissionDenied):
        merge_customers(duplicate, into=people.customer, by=people.agent)

    conversation.refresh_from_db()
    assert conversation.customer == duplicate
    assert Customer.objects.get(pk=duplicate.pk).merged_into is None


def test_a_customer_login_gets_not_found(people: Personas, duplicate: Customer) -> None:
    with pytest.raises(NotFound):
        merge_customers(duplicate, into=people.customer, by=people.customer_user)
    with pytest.raises(NotFound):
        merge_customers(people.customer, into=duplicate, by=people.customer_user)


def test_a_failure_midway_leaves_nothing_changed(people: Personas, duplicate: Customer) -> None:
    conversation = open_conversation(duplicate, team=people.orders)
    events_before = Event.objects.count()

    # The audit rows come last, after every row has moved; an unknown door fails there.
    with pytest.raises(ValueError, match="unknown channel"):
        merge_customers(duplicate, into=people.customer, by=people.supervisor, via="pigeon")

    conversation.refresh_from_db()
    duplicate.refresh_from_db()
    assert conversation.customer == duplicate
    assert conversation.company is None
    assert duplicate.merged_into is None
    assert Identity.objects.filter(customer=duplicate).count() == 2
    assert Message.objects.filter(author_customer=duplicate).count() == 1
    assert Event.objects.count() == events_before


def test_merged_customer_row_is_kept(people: Personas, duplicate: Customer) -> None:
    merge_customers(duplicate, into=people.customer, by=people.supervisor)

    assert Customer.objects.filter(pk=duplicate.pk).exists()
    assert Conversation.objects.filter(customer=duplicate).count() == 0
