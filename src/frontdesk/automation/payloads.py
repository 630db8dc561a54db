"""The JSON a webhook receives: the conversation as it is now, and what sent it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from frontdesk.conversations.models import Conversation

PAYLOAD_VERSION = 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def conversation_payload(
    conversation: Conversation, cause: Mapping[str, Any], event: str, at: datetime
) -> dict[str, Any]:
    """Plain data only, the same fields the REST API shows; no message text leaves here."""
    customer = conversation.customer
    return {
        "version": PAYLOAD_VERSION,
        "event": event or "automation",
        "sent_at": at.isoformat(),
        "rule": {
            "kind": cause.get("kind", ""),
            "id": cause.get("id"),
            "name": cause.get("name", ""),
        },
        "conversation": {
            "id": conversation.pk,
            "number": conversation.number,
            "subject": conversation.subject,
            "status": conversation.status,
            "priority": conversation.priority,
            "channel": conversation.channel,
            "language": conversation.language,
            "team_id": conversation.team_id,
            "assignee_id": conversation.assignee_id,
            "tags": sorted(conversation.tags.values_list("name", flat=True)),
            "custom_fields": dict(conversation.custom_fields),
            "created_at": _iso(conversation.created_at),
            "sla_due_at": _iso(shown.due_at if (shown := conversation.sla_summary) else None),
            "customer": {"id": customer.pk, "name": customer.name},
            "company": (
                {"id": conversation.company_id, "name": conversation.company.name}
                if conversation.company is not None
                else None
            ),
        },
    }
