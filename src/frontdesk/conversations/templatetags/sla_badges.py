"""`{% sla_badge conversation %}`: the conversation's SLA badge (nothing without a target)."""

from __future__ import annotations

from typing import Any

from django import template

from frontdesk.conversations.sla_badges import conversation_badge

register = template.Library()


@register.inclusion_tag("conversations/_sla_badge.html")
def sla_badge(conversation: Any) -> dict[str, Any]:
    return {"badge": conversation_badge(conversation)}
