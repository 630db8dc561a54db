"""Keep SLA timers in step with the conversations: every relevant change recomputes them.

A change to one conversation recomputes its timers at once, in the process that made the
change (a few queries), so the inbox shows the new due time on its next refresh. A change
that may move many (a policy, a calendar, a customer merge) enqueues a task instead.
"""

from __future__ import annotations

from frontdesk.conversations.events import (
    ConversationCreated,
    ConversationEvent,
    ConversationPriorityChanged,
    ConversationsMerged,
    ConversationStatusChanged,
    ConversationTagsChanged,
    ConversationTeamChanged,
    ConversationTransferred,
    CustomersMerged,
    MessageAdded,
)
from frontdesk.core.events import DomainEvent, subscribe
from frontdesk.sla import tasks, timers
from frontdesk.sla.events import (
    BusinessCalendarCreated,
    BusinessCalendarDeleted,
    BusinessCalendarUpdated,
    SlaPolicyChanged,
)


def refresh_conversation(event: ConversationEvent) -> None:
    timers.refresh_conversation(event.conversation_id)


def refresh_after_message(event: MessageAdded) -> None:
    # Notes and system lines neither answer the customer nor wait for an answer.
    if event.public:
        timers.refresh_conversation(event.conversation_id)


def refresh_merged(event: ConversationsMerged) -> None:
    timers.refresh_conversation(event.conversation_id)
    timers.refresh_conversation(event.source_id)


def refresh_moved_to_customer(event: CustomersMerged) -> None:
    if event.conversation_ids:
        tasks.refresh_conversations.enqueue(list(event.conversation_ids))


def refresh_all_open(event: DomainEvent) -> None:
    tasks.refresh_open_conversations.enqueue()


def register() -> None:
    subscribe(ConversationCreated, refresh_conversation)
    subscribe(MessageAdded, refresh_after_message)
    subscribe(ConversationStatusChanged, refresh_conversation)
    # What a policy's conditions look at: the policy, and so the targets, may change.
    subscribe(ConversationPriorityChanged, refresh_conversation)
    subscribe(ConversationTeamChanged, refresh_conversation)
    subscribe(ConversationTransferred, refresh_conversation)
    subscribe(ConversationTagsChanged, refresh_conversation)
    subscribe(ConversationsMerged, refresh_merged)
    subscribe(CustomersMerged, refresh_moved_to_customer)
    subscribe(SlaPolicyChanged, refresh_all_open)
    subscribe(BusinessCalendarCreated, refresh_all_open)
    subscribe(BusinessCalendarUpdated, refresh_all_open)
    subscribe(BusinessCalendarDeleted, refresh_all_open)
