"""REST API v1: customers and companies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from frontdesk.accounts.api import request_user
from frontdesk.accounts.models import User
from frontdesk.core.api_support import CursorPageOut, Input, fields_renamed, page_response
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Via
from frontdesk.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from frontdesk.customers import selectors, services
from frontdesk.customers.models import Company, Customer, IdentityKind

router = Router(tags=["customers"])

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
# Services name model fields; request bodies name ids. Errors use the body's names.
_FIELD_NAMES = {"company": "company_id"}

Name = Annotated[str, Field(max_length=200)]


def referenced_company(user: User, company_id: int | None, *, field: str) -> Company | None:
    """A company named in a request body; unknown or invisible ones are the client's error."""
    if company_id is None:
        return None
    try:
        return selectors.access_company(user, company_id)
    except NotFound:
        raise InvalidInput(
            _("There is no company %(id)s.") % {"id": company_id}, field=field
        ) from None


def referenced_customer(user: User, customer_id: int, *, field: str) -> Customer:
    """A customer named in a request body; unknown or invisible ones are the client's error."""
    try:
        return selectors.access_customer(user, customer_id, with_details=False)
    except NotFound:
        raise InvalidInput(
            _("There is no customer %(id)s.") % {"id": customer_id}, field=field
        ) from None


# --- schemas ---------------------------------------------------------------------------


class CompanyRef(Schema):
    id: int
    name: str


class CustomerRef(Schema):
    id: int
    name: str


class CustomerOut(Schema):
    id: int
    name: str
    emails: list[str]
    phones: list[str]
    company: CompanyRef | None
    language: str
    time_zone: str
    notes: str
    external_id: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_emails(obj: Customer) -> list[str]:
        return [i.value for i in obj.identities.all() if i.kind == IdentityKind.EMAIL]

    @staticmethod
    def resolve_phones(obj: Customer) -> list[str]:
        return [i.value for i in obj.identities.all() if i.kind == IdentityKind.PHONE]


class CustomerPage(CursorPageOut):
    items: list[CustomerOut]


class CustomerCreate(Input):
    name: Name = ""
    emails: list[str] = []
    phones: list[str] = []
    company_id: int | None = None
    language: Annotated[str, Field(max_length=10)] = ""
    time_zone: Annotated[str, Field(max_length=64)] = ""
    notes: str = ""
    external_id: Annotated[str, Field(max_length=200)] = ""


class CustomerUpdate(Input):
    name: Name | None = None
    emails: list[str] | None = None
    phones: list[str] | None = None
    company_id: int | None = None
    language: Annotated[str, Field(max_length=10)] | None = None
    time_zone: Annotated[str, Field(max_length=64)] | None = None
    notes: str | None = None
    external_id: Annotated[str, Field(max_length=200)] | None = None


class CompanyOut(Schema):
    id: int
    name: str
    domains: list[str]
    notes: str
    members_see_all: bool
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_domains(obj: Company) -> list[str]:
        return [d.domain for d in obj.domains.all()]


class CompanyPage(CursorPageOut):
    items: list[CompanyOut]


class CompanyCreate(Input):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    domains: list[str] = []
    notes: str = ""
    members_see_all: bool = False


class CompanyUpdate(Input):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    domains: list[str] | None = None
    notes: str | None = None
    members_see_all: bool | None = None


def _changes(payload: Input) -> dict[str, Any]:
    """Only the keys the client sent: PATCH leaves the rest as they are."""
    return {key: getattr(payload, key) for key in payload.model_fields_set}


# --- customers -------------------------------------------------------------------------


@router.get("/customers", response=CustomerPage)
def list_customers(
    request: HttpRequest,
    q: str | None = None,
    company: int | None = None,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    page = selectors.list_customers(
        request_user(request), q=q, company_id=company, cursor=cursor, limit=limit
    )
    return page_response(page)


@router.post("/customers", response={201: CustomerOut})
def create_customer(request: HttpRequest, payload: CustomerCreate) -> Status[Customer]:
    user = request_user(request)
    company = referenced_company(user, payload.company_id, field="company_id")
    with fields_renamed(_FIELD_NAMES):
        customer = services.create_customer(
            by=user,
            name=payload.name,
            emails=payload.emails,
            phones=payload.phones,
            company=company,
            language=payload.language,
            time_zone=payload.time_zone,
            notes=payload.notes,
            external_id=payload.external_id,
            via=Via.API,
        )
    return Status(201, customer)


@router.get("/customers/lookup", response=CustomerOut)
def lookup_customer(request: HttpRequest, email: str) -> Customer:
    user = request_user(request)
    found = selectors.find_customer_by_email(email)
    if found is None:
        raise NotFound(_("No customer has the email %(email)s.") % {"email": email}, field="email")
    # The look-up is global; what the caller may see is decided by access_customer.
    return selectors.access_customer(user, found.pk)


@router.get("/customers/{customer_id}", response=CustomerOut)
def get_customer(request: HttpRequest, customer_id: int) -> Customer:
    return selectors.access_customer(request_user(request), customer_id)


@router.patch("/customers/{customer_id}", response=CustomerOut)
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerUpdate) -> Customer:
    user = request_user(request)
    customer = selectors.access_customer(user, customer_id)
    changes = _changes(payload)
    for key, value in list(changes.items()):
        if value is None and key != "company_id":
            raise InvalidInput(_("This field may not be null."), field=key)
    if "company_id" in changes:
        changes["company"] = referenced_company(user, changes.pop("company_id"), field="company_id")
    with fields_renamed(_FIELD_NAMES):
        return services.update_customer(customer, by=user, via=Via.API, **changes)


@router.delete("/customers/{customer_id}", response={204: None})
def delete_customer(request: HttpRequest, customer_id: int) -> Status[None]:
    user = request_user(request)
    services.delete_customer(selectors.access_customer(user, customer_id), by=user, via=Via.API)
    return Status(204, None)


# --- companies -------------------------------------------------------------------------


@router.get("/companies", response=CompanyPage)
def list_companies(
    request: HttpRequest,
    q: str | None = None,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    page = selectors.list_companies(request_user(request), q=q, cursor=cursor, limit=limit)
    return page_response(page)


@router.post("/companies", response={201: CompanyOut})
def create_company(request: HttpRequest, payload: CompanyCreate) -> Status[Company]:
    company = services.create_company(
        by=request_user(request),
        name=payload.name,
        domains=payload.domains,
        notes=payload.notes,
        members_see_all=payload.members_see_all,
        via=Via.API,
    )
    return Status(201, company)


@router.get("/companies/{company_id}", response=CompanyOut)
def get_company(request: HttpRequest, company_id: int) -> Company:
    return selectors.access_company(request_user(request), company_id)


@router.patch("/companies/{company_id}", response=CompanyOut)
def update_company(request: HttpRequest, company_id: int, payload: CompanyUpdate) -> Company:
    user = request_user(request)
    company = selectors.access_company(user, company_id)
    changes = _changes(payload)
    for key, value in changes.items():
        if value is None:
            raise InvalidInput(_("This field may not be null."), field=key)
    return services.update_company(company, by=user, via=Via.API, **changes)


@router.delete("/companies/{company_id}", response={204: None})
def delete_company(request: HttpRequest, company_id: int) -> Status[None]:
    user = request_user(request)
    services.delete_company(selectors.access_company(user, company_id), by=user, via=Via.API)
    return Status(204, None)
