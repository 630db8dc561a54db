"""Personas shared by every test: two teams, their people, and two customers."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import Any

import pytest

from frontdesk.accounts.models import Membership, Role, Team, User
from frontdesk.customers.models import Company, Customer, Identity, IdentityKind


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Real hashing costs ~0.3 s a password; personas would dominate the suite's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(email: str, role: str, *, teams: tuple[Team, ...] = (), **extra: Any) -> User:
    user = User.objects.create_user(email, "correct horse battery", role=role, **extra)
    for team in teams:
        Membership.objects.create(team=team, user=user)
    return user


def make_customer(name: str, email: str, *, company: Company | None = None) -> Customer:
    customer = Customer.objects.create(name=name, company=company)
    Identity.objects.create(
        customer=customer,
        kind=IdentityKind.EMAIL,
        value=email,
        normalized=email.lower(),
        is_primary=True,
    )
    return customer


@dataclass
class Personas:
    orders: Team
    billing: Team
    admin: User
    supervisor: User
    agent: User
    colleague: User
    other_agent: User
    company: Company
    customer: Customer
    customer_user: User
    other_customer: Customer


@pytest.fixture
def people(db: None) -> Personas:
    orders = Team.objects.create(name="Orders")
    billing = Team.objects.create(name="Billing")
    admin = make_user("admin@example.com", Role.ADMIN, first_name="Ada", last_name="Admin")
    supervisor = make_user(
        "sue@example.com", Role.SUPERVISOR, teams=(orders,), first_name="Sue", last_name="Visor"
    )
    agent = make_user("anna@example.com", Role.AGENT, teams=(orders,), first_name="Anna")
    colleague = make_user("carl@example.com", Role.AGENT, teams=(orders,), first_name="Carl")
    other_agent = make_user("bob@example.com", Role.AGENT, teams=(billing,), first_name="Bob")
    company = Company.objects.create(name="Acme s.r.o.")
    customer = make_customer("Jana Nováková", "jana@acme.example", company=company)
    customer_user = make_user("jana@acme.example", Role.CUSTOMER)
    customer.user = customer_user
    customer.save()
    other_customer = make_customer("Piotr Nowak", "piotr@example.org")
    return Personas(
        orders=orders,
        billing=billing,
        admin=admin,
        supervisor=supervisor,
        agent=agent,
        colleague=colleague,
        other_agent=other_agent,
        company=company,
        customer=customer,
        customer_user=customer_user,
        other_customer=other_customer,
    )


def pytest_configure() -> None:
    # Tests never touch a developer's real data dir.
    os.environ.setdefault("FRONTDESK_HOME", tempfile.mkdtemp(prefix="frontdesk-test-"))
