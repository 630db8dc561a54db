"""Domain events of the customers app.

Customer records are staff-wide reference data, so their audience is every
team (see `customers.services._staff_audience`); the customer is never in it,
because staff notes and company settings are not theirs to be pushed.
"""

from __future__ import annotations

from dataclasses import dataclass

from frontdesk.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class CustomerCreated(DomainEvent):
    customer_id: int
    company_id: int | None


@dataclass(frozen=True, kw_only=True)
class CustomerUpdated(DomainEvent):
    customer_id: int
    changed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CustomerDeleted(DomainEvent):
    customer_id: int


@dataclass(frozen=True, kw_only=True)
class CompanyCreated(DomainEvent):
    company_id: int


@dataclass(frozen=True, kw_only=True)
class CompanyUpdated(DomainEvent):
    company_id: int
    changed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CompanyDeleted(DomainEvent):
    company_id: int
