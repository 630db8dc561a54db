"""Workspace pages of customers and companies; staff only.

Conversations sit above customers in the layers, so these pages never list
them: they leave a panel that htmx fills from the conversations app's URLs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from frontdesk.accounts.decorators import staff_page
from frontdesk.accounts.models import User
from frontdesk.core.errors import InvalidInput, ServiceError
from frontdesk.core.forms import apply_service_error
from frontdesk.core.models import Via
from frontdesk.core.pagination import Page
from frontdesk.customers import selectors, services
from frontdesk.customers.forms import CompanyForm, CustomerForm
from frontdesk.customers.models import Company

PAGE_SIZE = 50
MEMBERS_SHOWN = 20


def may_merge_customers(user: User) -> bool:
    """Mirrors the rule of conversations.services.merge_customers, to offer the link."""
    return bool(user.is_active and (user.is_admin or user.is_supervisor))


def may_edit_companies(user: User) -> bool:
    return bool(user.is_active and (user.is_superuser or user.role in services.COMPANY_EDITORS))


def _page_or_first(request: HttpRequest, load: Callable[[str | None], Page[Any]]) -> Page[Any]:
    """A forged or stale cursor starts over at the first page instead of failing the page."""
    cursor = request.GET.get("cursor") or None
    try:
        return load(cursor)
    except InvalidInput:
        if cursor is None:
            raise
        messages.warning(request, _("That page no longer exists; here is the first one."))
        return load(None)


def _company_filter(request: HttpRequest, user: User) -> Company | None:
    raw = request.GET.get("company", "")
    if not raw.isdigit():
        return None
    return selectors.access_company(user, int(raw))


# --- customers ------------------------------------------------------------------------------


@staff_page
def customer_list(request: HttpRequest, user: User) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    company = _company_filter(request, user)
    page = _page_or_first(
        request,
        lambda cursor: selectors.list_customers(
            user,
            q=q,
            company_id=company.pk if company else None,
            include_merged=False,
            cursor=cursor,
            limit=PAGE_SIZE,
        ),
    )
    context = {
        "section": "customers",
        "q": q,
        "company": company,
        "page": page,
        "first_page": bool(request.GET.get("cursor")),
    }
    return render(request, "customers/customer_list.html", context)


@staff_page
def customer_detail(request: HttpRequest, user: User, pk: int) -> HttpResponse:
    customer = selectors.access_customer(user, pk)
    merged_into = (
        selectors.access_customer(user, customer.merged_into_id, with_details=False)
        if customer.merged_into_id is not None
        else None
    )
    status = 200
    if request.method == "POST" and merged_into is None:
        form = CustomerForm(request.POST, user=user)
        if form.is_valid():
            try:
                services.update_customer(customer, by=user, via=Via.WEB, **form.changes())
            except ServiceError as error:
                apply_service_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Customer saved."))
                return redirect("customers:detail", pk=customer.pk)
        else:
            status = 422
    else:
        form = CustomerForm(initial=CustomerForm.initial_for(customer), user=user)
    context = {
        "section": "customers",
        "customer": customer,
        "merged_into": merged_into,
        "form": form,
        "may_merge": may_merge_customers(user),
    }
    return render(request, "customers/customer_detail.html", context, status=status)


# --- companies ------------------------------------------------------------------------------


@staff_page
def company_list(request: HttpRequest, user: User) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    page = _page_or_first(
        request,
        lambda cursor: selectors.list_companies(user, q=q, cursor=cursor, limit=PAGE_SIZE),
    )
    context = {
        "section": "companies",
        "q": q,
        "page": page,
        "first_page": bool(request.GET.get("cursor")),
    }
    return render(request, "customers/company_list.html", context)


@staff_page
def company_detail(request: HttpRequest, user: User, pk: int) -> HttpResponse:
    company = selectors.access_company(user, pk)
    may_edit = may_edit_companies(user)
    status = 200
    if request.method == "POST":
        form = CompanyForm(request.POST)
        if form.is_valid():
            try:
                services.update_company(company, by=user, via=Via.WEB, **form.changes())
            except ServiceError as error:
                apply_service_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Company saved."))
                return redirect("customers:company", pk=company.pk)
        else:
            status = 422
    else:
        form = CompanyForm(initial=CompanyForm.initial_for(company))
    members = selectors.list_customers(
        user, company_id=company.pk, include_merged=False, limit=MEMBERS_SHOWN
    )
    context = {
        "section": "companies",
        "company": company,
        "form": form,
        "may_edit": may_edit,
        "members": members,
    }
    return render(request, "customers/company_detail.html", context, status=status)
