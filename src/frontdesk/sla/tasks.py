"""Background work of the sla app: the periodic check, and recomputing many timers."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django_tasks import task

from frontdesk.core.scheduling import periodic
from frontdesk.sla import timers

CHECK_EVERY = timedelta(minutes=1)


@periodic("sla_check_due", every=CHECK_EVERY)
def check_due() -> dict[str, Any]:
    """Record the warnings and breaches that came due since the last run; escalate them."""
    return asdict(timers.check_due())


@task()
def refresh_open_conversations() -> dict[str, Any]:
    """Recompute every open conversation's timers (a policy or calendar changed)."""
    return asdict(timers.refresh_open_conversations())


@task()
def refresh_conversations(conversation_ids: list[int]) -> int:
    """Recompute these conversations' timers (they moved to another customer, say)."""
    for conversation_id in conversation_ids:
        timers.refresh_conversation(conversation_id)
    return len(conversation_ids)
