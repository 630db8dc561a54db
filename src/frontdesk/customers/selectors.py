"""Reads of customers and companies, scoped to what the asking user may see.

Scope, applied in SQL:
- staff (admin, supervisor, agent, reviewer) see every customer and company;
- a customer (portal login) sees only their own Customer row, and their own
  company only when it has `members_see_all`;
- anyone else (inactive users) sees nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from frontdesk.accounts.models import User
from frontdesk.accounts.selectors import is_staff_member
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.pagination import DEFAULT_LIMIT, Page, keyset_page
from frontdesk.customers.models import Company, CompanyDomain, Customer, Identity, IdentityKind
from frontdesk.customers.normalize import normalize_email, normalize_phone


def visible_customers(user: User) -> QuerySet[Customer]:
    if is_staff_member(user):
        return Customer.objects.all()
    if user.is_active and user.is_customer:
        return Customer.objects.filter(user_id=user.pk)
    return Customer.objects.none()


def visible_companies(user: User) -> QuerySet[Company]:
    if is_staff_member(user):
        return Company.objects.all()
    if user.is_active and user.is_customer:
        # Customer.user is one-to-one, so this join yields each company once.
        return Company.objects.filter(members_see_all=True, customers__user_id=user.pk)
    return Company.objects.none()


def _with_details(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    return queryset.select_related("company").prefetch_related("identities")


def _by_identity(kind: str, normalized: str, *, with_details: bool = True) -> Customer | None:
    customers = Customer.objects.filter(identities__kind=kind, identities__normalized=normalized)
    return (_with_details(customers) if with_details else customers).first()


def find_customer_by_email(email: str, *, with_details: bool = True) -> Customer | None:
    """The customer owning `email` (any case); None also for a malformed address.

    `with_details=False` reads only the customer's row (one query, for the mail intake).
    """
    try:
        normalized = normalize_email(email)
    except InvalidInput:
        return None
    return _by_identity(IdentityKind.EMAIL, normalized, with_details=with_details)


def find_customers_by_email(emails: Iterable[str]) -> dict[str, Customer]:
    """The customers owning `emails`, by the address as given; one query for them all.

    Addresses nobody owns, and malformed ones, are left out. Rows only, as
    `find_customer_by_email(..., with_details=False)` gives them.
    """
    by_normalized: dict[str, list[str]] = {}
    for email in emails:
        try:
            by_normalized.setdefault(normalize_email(email), []).append(email)
        except InvalidInput:
            continue
    if not by_normalized:
        return {}
    identities = Identity.objects.filter(
        kind=IdentityKind.EMAIL, normalized__in=list(by_normalized)
    ).select_related("customer")
    found: dict[str, Customer] = {}
    for identity in identities:
        for email in by_normalized[identity.normalized]:
            found[email] = identity.customer
    return found


def find_customer_by_phone(phone: str) -> Customer | None:
    """The customer owning `phone`, however it is punctuated; None also for a malformed one."""
    try:
        normalized = normalize_phone(phone)
    except InvalidInput:
        return None
    return _by_identity(IdentityKind.PHONE, normalized)


def access_customer(user: User, customer_id: int, *, with_details: bool = True) -> Customer:
    """The customer; `with_details=False` skips identities and company (only the row)."""
    customers = visible_customers(user).filter(pk=customer_id)
    found = (_with_details(customers) if with_details else customers).first()
    if found is None:
        raise NotFound(_("No such customer."))
    return found


def _phone_variants(normalized: str) -> list[str]:
    """`+48600100200` and `48600100200` are one number written with and without the plus."""
    digits = normalized.removeprefix("+")
    return [digits, f"+{digits}"]


def _identity_match(q: str) -> Q | None:
    """Customers whose email or phone is exactly `q`, through the unique identity index."""
    try:
        if "@" in q:
            owners = Identity.objects.filter(kind=IdentityKind.EMAIL, normalized=normalize_email(q))
        else:
            owners = Identity.objects.filter(
                kind=IdentityKind.PHONE, normalized__in=_phone_variants(normalize_phone(q))
            )
    except InvalidInput:
        return None
    return Q(pk__in=owners.values("customer_id"))


def _customer_search(text: str) -> Q:
    """An email or phone number is looked up exactly; anything else matches part of the name.

    Emails and phones go through the unique (kind, normalized) index: a few
    milliseconds at any size. They never also scan names, since ORed with a
    `name LIKE '%…%'` every exact search would become a pass over the table.
    The name match is a substring scan on purpose (people type "kowal" for
    Nowak-Kowalska): on SQLite it walks the primary key and stops at a page of
    matches; on PostgreSQL the planner scans the table, about 0.15 s at 200,000
    customers. A pg_trgm GIN index on the name is the next step when that matters.
    """
    by_identity = _identity_match(text)
    if by_identity is not None:
        return by_identity
    return Q(name__icontains=text)


def list_customers(
    user: User,
    *,
    q: str | None = None,
    company_id: int | None = None,
    include_merged: bool = True,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[Customer]:
    """Customers ordered by id; `q` is an email or phone (exactly) or part of the name.

    `include_merged=False` leaves out duplicates already merged into another customer.
    """
    queryset = visible_customers(user)
    if company_id is not None:
        queryset = queryset.filter(company_id=company_id)
    if not include_merged:
        queryset = queryset.filter(merged_into__isnull=True)
    text = (q or "").strip()
    if text:
        queryset = queryset.filter(_customer_search(text))
    return keyset_page(
        _with_details(queryset), key="id", descending=False, cursor=cursor, limit=limit
    )


def access_company(user: User, company_id: int) -> Company:
    found = visible_companies(user).filter(pk=company_id).prefetch_related("domains").first()
    if found is None:
        raise NotFound(_("No such company."))
    return found


def list_companies(
    user: User, *, q: str | None = None, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[Company]:
    """Companies ordered by name, id; `q` matches part of the name or an email domain exactly."""
    queryset = visible_companies(user)
    text = (q or "").strip()
    if text:
        domain = text.lower().lstrip("@")
        owners = CompanyDomain.objects.filter(domain=domain).values("company_id")
        queryset = queryset.filter(Q(name__icontains=text) | Q(pk__in=owners))
    return keyset_page(
        queryset.prefetch_related("domains"),
        key="name",
        descending=False,
        cursor=cursor,
        limit=limit,
    )
