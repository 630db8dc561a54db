"""Route and assign in the background when conversations, agents or settings change.

Each handler decides from the event alone and enqueues a task: routing and assignment
never run inside the request that made the change. Changes the system made itself
(`via` system: imports, the demo loader, routing's own changes) start nothing here; the
route task assigns after routing by itself, and the periodic sweep in tasks.py picks up
anything else that waits.
"""

from __future__ import annotations

from frontdesk.accounts.events import PresenceChanged
from frontdesk.accounts.models import Presence
from frontdesk.conversations.events import (
    ConversationAssigned,
    ConversationCreated,
    ConversationStatusChanged,
    ConversationTeamChanged,
    ConversationTransferred,
)
from frontdesk.core.events import subscribe
from frontdesk.core.models import Via
from frontdesk.routing import tasks
from frontdesk.routing.events import OwnerReminderDue, TeamRoutingChanged


def route_new_conversation(event: ConversationCreated) -> None:
    if event.via == Via.SYSTEM:
        return
    tasks.route_new_conversation.enqueue(event.conversation_id)


def assign_released(event: ConversationAssigned) -> None:
    """Unassigned: find it someone. Taken from someone: their place may fit waiting work."""
    if event.via == Via.SYSTEM:
        return
    if event.assignee_id is None:
        tasks.assign_conversation.enqueue(event.conversation_id)
    if event.previous_assignee_id is not None:
        tasks.assign_waiting_for_agent.enqueue(event.previous_assignee_id)


def assign_moved(event: ConversationTeamChanged | ConversationTransferred) -> None:
    if event.via == Via.SYSTEM:
        return
    # The task checks whether it arrived without an assignee in a team that assigns.
    tasks.assign_conversation.enqueue(event.conversation_id)
    if (
        isinstance(event, ConversationTransferred)
        and event.previous_assignee_id is not None
        and event.previous_assignee_id != event.assignee_id
    ):
        tasks.assign_waiting_for_agent.enqueue(event.previous_assignee_id)


def assign_after_status(event: ConversationStatusChanged) -> None:
    """Solved, pending or on hold frees its agent's place; reopened, it may need someone."""
    if event.via == Via.SYSTEM:
        return
    tasks.assign_after_status_change.enqueue(event.conversation_id)


def assign_to_newly_online(event: PresenceChanged) -> None:
    if event.presence == Presence.ONLINE and event.previous != Presence.ONLINE:
        tasks.assign_waiting_for_agent.enqueue(event.user_id)


def assign_after_settings(event: TeamRoutingChanged) -> None:
    tasks.assign_waiting_in_team.enqueue(event.team_id)


def mail_owner_reminder(event: OwnerReminderDue) -> None:
    tasks.send_owner_reminder.enqueue(event.reminder_id)


def register() -> None:
    subscribe(ConversationCreated, route_new_conversation)
    subscribe(ConversationAssigned, assign_released)
    subscribe(ConversationTeamChanged, assign_moved)
    subscribe(ConversationTransferred, assign_moved)
    subscribe(ConversationStatusChanged, assign_after_status)
    subscribe(PresenceChanged, assign_to_newly_online)
    subscribe(TeamRoutingChanged, assign_after_settings)
    subscribe(OwnerReminderDue, mail_owner_reminder)
