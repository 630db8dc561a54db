"""The customers services the portal added: linking a login, and the customer's own language."""

from __future__ import annotations

import pytest

from frontdesk.accounts.models import Role
from frontdesk.core.errors import Conflict, InvalidInput, NotFound
from frontdesk.core.models import Event
from frontdesk.customers.services import link_portal_user, set_customer_language
from tests.conftest import Personas, make_user

pytestmark = pytest.mark.django_db


def test_link_portal_user_links_once_and_audits(people: Personas) -> None:
    login = make_user("piotr@example.org", Role.CUSTOMER)
    linked = link_portal_user(people.other_customer, user=login)
    assert linked.user == login
    assert Event.objects.filter(
        action="customer.portal_user_linked", object_id=people.other_customer.pk
    ).exists()
    # Linking the same pair again changes nothing.
    link_portal_user(people.other_customer, user=login)
    assert Event.objects.filter(action="customer.portal_user_linked").count() == 1


def test_a_customer_with_a_login_cannot_get_a_second_one(people: Personas) -> None:
    intruder = make_user("x@acme.example", Role.CUSTOMER)
    with pytest.raises(Conflict):
        link_portal_user(people.customer, user=intruder)
    people.customer.refresh_from_db()
    assert people.customer.user == people.customer_user


def test_one_login_cannot_serve_two_customers(people: Personas) -> None:
    with pytest.raises(Conflict):
        link_portal_user(people.other_customer, user=people.customer_user)


def test_staff_cannot_be_a_portal_login(people: Personas) -> None:
    with pytest.raises(InvalidInput):
        link_portal_user(people.other_customer, user=people.agent)


def test_customers_cannot_link_logins(people: Personas) -> None:
    login = make_user("piotr@example.org", Role.CUSTOMER)
    with pytest.raises(NotFound):
        link_portal_user(people.other_customer, user=login, by=people.customer_user)


def test_customer_sets_only_their_own_language(people: Personas) -> None:
    assert (
        set_customer_language(people.customer, by=people.customer_user, language="pl").language
        == "pl"
    )
    with pytest.raises(NotFound):
        set_customer_language(people.other_customer, by=people.customer_user, language="pl")
    people.other_customer.refresh_from_db()
    assert people.other_customer.language == ""


def test_agents_may_set_a_customers_language(people: Personas) -> None:
    assert (
        set_customer_language(people.other_customer, by=people.agent, language="cs").language
        == "cs"
    )
