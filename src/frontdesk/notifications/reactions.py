"""Turn conversation events into email notices for the agents they concern.

Only what someone else did is worth a mail: taking a conversation yourself or
a reply's automatic assignment to its author sends nothing, and neither does
anything the system itself did (imports, demo data: `via` is system). The
handlers decide from the event alone and enqueue a task; the task reads fresh
rows and the recipient's preferences, so the request that made the change
never waits for a mail server.
"""

from __future__ import annotations

from frontdesk.conversations.events import (
    ConversationAssigned,
    ConversationTransferred,
    MessageAdded,
)
from frontdesk.conversations.models import MessageKind
from frontdesk.core.events import subscribe
from frontdesk.core.models import Via
from frontdesk.notifications import tasks


def notify_assignee(event: ConversationAssigned | ConversationTransferred) -> None:
    if event.via == Via.SYSTEM or event.assignee_id is None:
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


def register() -> None:
    subscribe(ConversationAssigned, notify_assignee)
    subscribe(ConversationTransferred, notify_assignee)
    subscribe(MessageAdded, notify_customer_message)
