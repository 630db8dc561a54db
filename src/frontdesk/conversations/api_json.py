"""JSON for the two hottest read endpoints, built directly from the loaded rows.

django-ninja validates every response object through pydantic, attribute by
attribute, which cost more than the database query for a 50-row inbox page.
The list and retrieve endpoints build plain dicts here instead and render
them with ninja's own encoder; the schemas in api.py still document them, and
tests check that these dicts validate against those schemas field for field.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja.renderers import JSONRenderer

from frontdesk.accounts.models import Team, User
from frontdesk.conversations.models import Attachment, Conversation, Message, Priority
from frontdesk.customers.models import Customer

_RENDERER = JSONRenderer()
_PRIORITY_NAMES = {p.value: p.name.lower() for p in Priority}


def render(request: HttpRequest, data: Any, *, status: int = 200) -> HttpResponse:
    return HttpResponse(
        _RENDERER.render(request, data, response_status=status),
        status=status,
        content_type=_RENDERER.media_type,
    )


def person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "email": user.email, "name": user.display_name}


def _team(team: Team | None) -> dict[str, Any] | None:
    return None if team is None else {"id": team.pk, "name": team.name}


def _customer(customer: Customer | None) -> dict[str, Any] | None:
    return None if customer is None else {"id": customer.pk, "name": customer.name}


def conversation_summary(
    conversation: Conversation,
    *,
    visible_fields: Container[str] | None,
    tags: Iterable[str] | None = None,
) -> dict[str, Any]:
    """ConversationOut as a dict; `visible_fields` limits custom fields (for customers).

    `tags`, when the caller already knows them, saves reading them back.
    """
    if tags is None:
        tags = (tag.name for tag in conversation.tags.all())
    custom_fields = conversation.custom_fields
    if visible_fields is not None:
        custom_fields = {k: v for k, v in custom_fields.items() if k in visible_fields}
    return {
        "number": conversation.number,
        "subject": conversation.subject,
        "status": conversation.status,
        "priority": _PRIORITY_NAMES.get(conversation.priority, "normal"),
        "channel": conversation.channel,
        "language": conversation.language,
        "customer": _customer(conversation.customer),
        "team": _team(conversation.team),
        "assignee": person(conversation.assignee),
        "owner": person(conversation.owner),
        "tags": sorted(tags),
        "custom_fields": dict(custom_fields),
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "last_activity_at": conversation.last_activity_at,
        "last_customer_activity_at": conversation.last_customer_activity_at,
        "last_agent_activity_at": conversation.last_agent_activity_at,
        "first_response_at": conversation.first_response_at,
        "solved_at": conversation.solved_at,
        "closed_at": conversation.closed_at,
    }


def _attachment(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "size": int(attachment.size),
        "content_type": attachment.content_type,
        "sha256": attachment.sha256,
        "inline": attachment.inline,
    }


def message(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "kind": message.kind,
        "channel": message.channel,
        "author_user": person(message.author_user),
        "author_customer": _customer(message.author_customer),
        "text": message.text,
        "html": message.html,
        "created_at": message.created_at,
        "attachments": [_attachment(a) for a in message.attachments.all()],
    }


def conversation_detail(
    conversation: Conversation,
    messages: list[Message],
    *,
    visible_fields: Container[str] | None,
) -> dict[str, Any]:
    """ConversationDetailOut as a dict; customers (`visible_fields` given) get no SLA times."""
    data = conversation_summary(conversation, visible_fields=visible_fields)
    target = conversation.merged_into
    data["merged_into"] = target.number if target is not None else None
    data["messages"] = [message(m) for m in messages]
    data["sla"] = sla_summary(conversation) if visible_fields is None else None
    return data


def sla_summary(conversation: Conversation) -> dict[str, Any]:
    """ConversationSlaOut as a dict, from the conversation's summary row (none: nothing)."""
    shown = conversation.sla_summary
    if shown is None:
        return {"due_at": None, "warning_at": None, "breached": False, "paused": False}
    return {
        "due_at": shown.due_at,
        "warning_at": shown.warning_at,
        "breached": shown.breached,
        "paused": shown.paused,
    }
