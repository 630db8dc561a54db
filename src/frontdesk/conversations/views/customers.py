"""Workspace pages: a customer's and a company's conversations, and merging customers.

The customer and company pages belong to the customers app, which sits below
conversations; they load these panels over htmx instead of importing them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from frontdesk.accounts.decorators import staff_page
from frontdesk.accounts.models import User
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation
from frontdesk.conversations.permissions import can_merge_customers
from frontdesk.conversations.selectors import ConversationFilters, list_conversations
from frontdesk.core.errors import InvalidInput, NotFound, ServiceError
from frontdesk.core.models import Via
from frontdesk.core.pagination import Page
from frontdesk.customers.selectors import access_company, access_customer, list_customers

PANEL_SIZE = 20
CANDIDATES_SHOWN = 20


def _panel(
    request: HttpRequest, user: User, filters: ConversationFilters, more_url: str
) -> HttpResponse:
    cursor = request.GET.get("cursor") or None
    exclude = request.GET.get("exclude", "")
    try:
        page: Page[Conversation] = list_conversations(
            user, filters=filters, cursor=cursor, limit=PANEL_SIZE
        )
    except InvalidInput:
        page = list_conversations(user, filters=filters, limit=PANEL_SIZE)
        cursor = None
    # The conversation page shows this panel beside itself, without its own row.
    rows = [c for c in page.items if str(c.number) != exclude]
    context = {
        "conversations": rows,
        "next_cursor": page.next_cursor,
        "more_url": more_url,
        "exclude": exclude if exclude.isdigit() else "",
        "continued": cursor is not None,
    }
    return render(request, "conversations/customer_conversations.html", context)


@require_GET
@staff_page
def customer_conversations(request: HttpRequest, user: User, pk: int) -> HttpResponse:
    """Every conversation of the customer `user` may see, across channels, newest first."""
    customer = access_customer(user, pk, with_details=False)
    return _panel(
        request,
        user,
        ConversationFilters(customer_id=customer.pk),
        request.path,
    )


@require_GET
@staff_page
def company_conversations(request: HttpRequest, user: User, pk: int) -> HttpResponse:
    company = access_company(user, pk)
    return _panel(request, user, ConversationFilters(company_id=company.pk), request.path)


@require_http_methods(["GET", "POST"])
@staff_page
def merge_customer(request: HttpRequest, user: User, pk: int) -> HttpResponse:
    source = access_customer(user, pk)
    if source.merged_into_id is not None:
        messages.info(request, _("This customer is already merged into another."))
        return redirect("customers:detail", pk=source.pk)
    status = 200
    if request.method == "POST":
        raw = request.POST.get("into", "")
        try:
            if not raw.isdigit():
                raise InvalidInput(_("Choose the customer to keep."), field="into")
            try:
                target = access_customer(user, int(raw), with_details=False)
            except NotFound:
                raise InvalidInput(_("There is no such customer."), field="into") from None
            target = services.merge_customers(source, into=target, by=user, via=Via.WEB)
        except ServiceError as error:
            messages.error(request, error.detail)
            status = error.status
        else:
            messages.success(
                request,
                _("%(source)s was merged into %(target)s.") % {"source": source, "target": target},
            )
            return redirect("customers:detail", pk=target.pk)
    q = request.GET.get("q", "").strip()
    candidates: list[Any] = []
    if q:
        found = list_customers(user, q=q, include_merged=False, limit=CANDIDATES_SHOWN + 1)
        candidates = [c for c in found.items if c.pk != source.pk][:CANDIDATES_SHOWN]
    context = {
        "section": "customers",
        "source": source,
        "q": q,
        "candidates": candidates,
        "may_merge": can_merge_customers(user),
    }
    return render(request, "conversations/customer_merge.html", context, status=status)


urls: list[URLPattern] = [
    path(
        "customers/<int:pk>/conversations/",
        customer_conversations,
        name="customer_conversations",
    ),
    path(
        "companies/<int:pk>/conversations/",
        company_conversations,
        name="company_conversations",
    ),
    path("customers/<int:pk>/merge/", merge_customer, name="merge_customer"),
]
