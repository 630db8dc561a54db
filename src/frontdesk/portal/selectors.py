"""What a signed-in customer reads in the portal, always through the conversation scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import get_supported_language_variant
from django.utils.translation import gettext_lazy as _

from frontdesk.accounts.models import User
from frontdesk.conversations.models import Conversation, CustomFieldDefinition, Message, Status
from frontdesk.conversations.selectors import (
    ConversationFilters,
    access_conversation,
    list_conversations,
    list_field_definitions,
    list_messages,
)
from frontdesk.core.pagination import Page
from frontdesk.customers.models import Customer

PAGE_SIZE = 25

# What a customer is told; the internal states (new, on hold) are the agents' business.
CUSTOMER_STATUS: dict[str, tuple[str, Any]] = {
    Status.NEW: ("open", _("Open")),
    Status.OPEN: ("open", _("Open")),
    Status.ON_HOLD: ("open", _("Open")),
    Status.PENDING: ("pending", _("Awaiting your reply")),
    Status.SOLVED: ("solved", _("Solved")),
    Status.CLOSED: ("closed", _("Closed")),
}


def customer_status(status: str) -> tuple[str, Any]:
    """(css key, label) of a status as the customer sees it."""
    return CUSTOMER_STATUS.get(status, ("open", _("Open")))


def supported_language(code: str) -> str:
    """The offered language closest to `code` ("pt-br" → none, "cs-cz" → "cs"), or ""."""
    if not code:
        return ""
    try:
        variant = get_supported_language_variant(code)
    except LookupError:
        return ""
    return variant if variant in dict(settings.LANGUAGES) else ""


def portal_customer(user: User) -> Customer | None:
    """The customer behind a portal login (None for staff or an unlinked login)."""
    if not (user.is_authenticated and user.is_customer):
        return None
    try:
        customer: Customer = user.customer
    except Customer.DoesNotExist:
        return None
    return customer


def profile_language(user: User) -> str:
    """The customer's chosen language, else their login's; "" means follow the browser."""
    customer = portal_customer(user) if user.is_active else None
    if customer is not None:
        chosen = supported_language(customer.language)
        if chosen:
            return chosen
    return supported_language(user.language)


def profile_time_zone(user: User) -> str:
    customer = portal_customer(user)
    if customer is not None and customer.time_zone:
        return customer.time_zone
    return user.time_zone


def company_shared(customer: Customer | None) -> bool:
    """Whether the customer may follow their company's requests."""
    company = customer.company if customer is not None else None
    return company is not None and company.members_see_all


def list_requests(
    user: User, customer: Customer, *, company: bool, cursor: str | None
) -> Page[Conversation]:
    """The customer's own requests, or (company=True) all their company lets them follow."""
    filters = ConversationFilters() if company else ConversationFilters(customer_id=customer.pk)
    return list_conversations(user, filters=filters, cursor=cursor, limit=PAGE_SIZE)


@dataclass(frozen=True)
class FieldValue:
    label: str
    kind: str
    value: Any


@dataclass(frozen=True)
class RequestThread:
    conversation: Conversation
    messages: list[Message]
    fields: list[FieldValue]
    own: bool  # the customer's own request (not a colleague's)


def visible_fields(user: User) -> list[CustomFieldDefinition]:
    """The active fields customers see and fill in; never the agents' own fields."""
    return list_field_definitions(user) if user.is_customer else []


def request_thread(user: User, customer: Customer, number: int) -> RequestThread:
    """The request and its public thread; NotFound if it is not the customer's to see."""
    conversation = access_conversation(user, number)
    messages = list_messages(user, conversation)
    values = conversation.custom_fields or {}
    fields = [
        FieldValue(label=d.label, kind=d.kind, value=values[d.key])
        for d in visible_fields(user)
        if d.key in values
    ]
    return RequestThread(
        conversation=conversation,
        messages=messages,
        fields=fields,
        own=conversation.customer_id == customer.pk,
    )
