"""Conversation and SLA events, turned into trigger events (engine.py fires the triggers).

Triggers run right after the change commits, in the same process, so a rule's changes are
there by the time the agent's page refreshes and a chain of rules settles at once (it is
short: MAX_CHAIN_DEPTH). Mail and webhooks they send leave through tasks.

What the system did on its own (imports, the demo loader, routing: `via` system with no
rule as its cause) sets off no trigger, as it sends no mail; what a rule did does, within
the chain guards. SLA warnings and breaches are the system's by nature and always count.
"""

from __future__ import annotations

from frontdesk.automation.engine import run_triggers
from frontdesk.automation.models import TriggerEvent
from frontdesk.conversations.events import (
    ConversationAssigned,
    ConversationCreated,
    ConversationEvent,
    ConversationFieldsChanged,
    ConversationPriorityChanged,
    ConversationStatusChanged,
    ConversationTagsChanged,
    ConversationTeamChanged,
    ConversationTransferred,
    MessageAdded,
)
from frontdesk.conversations.models import Message, MessageKind
from frontdesk.core.events import current_cause, subscribe
from frontdesk.core.models import Via
from frontdesk.sla.events import SlaBreached, SlaWarning


def _counts(event: ConversationEvent) -> bool:
    return event.via != Via.SYSTEM or current_cause() is not None


def _run(event: ConversationEvent, name: str, *, message_id: int | None = None) -> None:
    run_triggers(name, event.conversation_id, cause=current_cause(), message_id=message_id)


def on_created(event: ConversationCreated) -> None:
    if _counts(event):
        _run(event, TriggerEvent.CREATED)


def on_message(event: MessageAdded) -> None:
    if not _counts(event):
        return
    if event.kind == MessageKind.REPLY:
        _run(event, TriggerEvent.AGENT_REPLIED, message_id=event.message_id)
    elif event.kind == MessageKind.CUSTOMER and not _opened_the_conversation(event):
        _run(event, TriggerEvent.CUSTOMER_REPLIED, message_id=event.message_id)


def _opened_the_conversation(event: MessageAdded) -> bool:
    """The first message is the conversation's creation, which has its own trigger event."""
    return not Message.objects.filter(
        conversation_id=event.conversation_id, id__lt=event.message_id
    ).exists()


def on_status(event: ConversationStatusChanged) -> None:
    if _counts(event):
        _run(event, TriggerEvent.STATUS_CHANGED)


def on_priority(event: ConversationPriorityChanged) -> None:
    if _counts(event):
        _run(event, TriggerEvent.PRIORITY_CHANGED)


def on_team(event: ConversationTeamChanged) -> None:
    if _counts(event):
        _run(event, TriggerEvent.TEAM_CHANGED)


def on_assignee(event: ConversationAssigned) -> None:
    if _counts(event):
        _run(event, TriggerEvent.ASSIGNEE_CHANGED)


def on_transfer(event: ConversationTransferred) -> None:
    if not _counts(event):
        return
    if event.team_id != event.previous_team_id:
        _run(event, TriggerEvent.TEAM_CHANGED)
    if event.assignee_id != event.previous_assignee_id:
        _run(event, TriggerEvent.ASSIGNEE_CHANGED)


def on_tags(event: ConversationTagsChanged) -> None:
    if _counts(event):
        _run(event, TriggerEvent.TAGS_CHANGED)


def on_fields(event: ConversationFieldsChanged) -> None:
    if _counts(event):
        _run(event, TriggerEvent.FIELDS_CHANGED)


def on_sla_warning(event: SlaWarning) -> None:
    _run(event, TriggerEvent.SLA_WARNING)


def on_sla_breach(event: SlaBreached) -> None:
    # Also a breach found only when the late answer came (`met_at`): a rule may tag it.
    _run(event, TriggerEvent.SLA_BREACHED)


def register() -> None:
    subscribe(ConversationCreated, on_created)
    subscribe(MessageAdded, on_message)
    subscribe(ConversationStatusChanged, on_status)
    subscribe(ConversationPriorityChanged, on_priority)
    subscribe(ConversationTeamChanged, on_team)
    subscribe(ConversationAssigned, on_assignee)
    subscribe(ConversationTransferred, on_transfer)
    subscribe(ConversationTagsChanged, on_tags)
    subscribe(ConversationFieldsChanged, on_fields)
    subscribe(SlaWarning, on_sla_warning)
    subscribe(SlaBreached, on_sla_breach)
