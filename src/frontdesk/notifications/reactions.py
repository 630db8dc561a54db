"""Turn conversation events into notices for the agents they concern (see tasks.py).

Only what someone else did is worth a notice: taking a conversation yourself
or a reply's automatic assignment to its author tells nobody, and neither does
anything the system itself did (imports, demo data: `via` is system), unless
a rule did it (routing, an SLA escalation, a trigger: `automatic`). Mail
intake comes through as `via` email, so a new mail does tell the team. The
handlers decide from the event alone and enqueue one task each, however many
people it may reach; the task reads fresh rows and the recipients'
preferences, so the request that made the change never waits for them.
"""

from __future__ import annotations

from frontdesk.conversations.events import (
    ConversationAssigned,
    ConversationCreated,
    ConversationTeamChanged,
    ConversationTransferred,
    MessageAdded,
)
from frontdesk.conversations.models import MessageKind
from frontdesk.core.events import subscribe
from frontdesk.core.models import Via
from frontdesk.notifications import tasks


def _by_the_system(
    event: ConversationAssigned | ConversationTeamChanged | ConversationTransferred,
) -> bool:
    """Imports and demo data: `via` system with no rule behind it."""
    return event.via == Via.SYSTEM and not event.automatic


def notify_assignee(event: ConversationAssigned | ConversationTransferred) -> None:
    if _by_the_system(event) or event.assignee_id is None:
        return
    if event.assignee_id in (event.actor_id, event.previous_assignee_id):
        return
    tasks.notify_assignment.enqueue(event.conversation_id, event.assignee_id, event.actor_id)


def notify_customer_message(event: MessageAdded) -> None:
    if event.via == Via.SYSTEM or event.kind != MessageKind.CUSTOMER:
        return
    # Nobody to tell, or the assignee typed it in themselves (a call or visit they logged).
    if event.assignee_id is None or event.assignee_id == event.actor_id:
        return
    tasks.notify_customer_message.enqueue(event.message_id, event.actor_id)


def notify_team_of_new(event: ConversationCreated) -> None:
    if event.via == Via.SYSTEM or event.team_id is None:
        return
    tasks.notify_new_in_team.enqueue(event.conversation_id, event.team_id, event.actor_id, True)


def notify_team_of_arrival(event: ConversationTeamChanged | ConversationTransferred) -> None:
    if _by_the_system(event) or event.team_id is None:
        return
    if event.team_id == event.previous_team_id:
        return  # a transfer to someone else in the same team
    tasks.notify_new_in_team.enqueue(event.conversation_id, event.team_id, event.actor_id, False)


def notify_mentioned(event: MessageAdded) -> None:
    # Any note may mention someone; the task reads its text.
    if event.via == Via.SYSTEM or event.kind != MessageKind.NOTE:
        return
    tasks.notify_mentions.enqueue(event.message_id)


def register() -> None:
    subscribe(ConversationAssigned, notify_assignee)
    subscribe(ConversationTransferred, notify_assignee)
    subscribe(MessageAdded, notify_customer_message)
    subscribe(ConversationCreated, notify_team_of_new)
    subscribe(ConversationTeamChanged, notify_team_of_arrival)
    subscribe(ConversationTransferred, notify_team_of_arrival)
    subscribe(MessageAdded, notify_mentioned)
