"""Keep agents' running counts, and route and assign in the background, when
conversations, agents or settings change.

The counts (AgentLoad.open_counts) follow every change that moves a conversation into or
out of an agent's new and open ones, whoever made it, the system included: the agents
concerned are counted again right after the commit, under their load row's lock. That
is a few small statements, done here rather than in a task so the counts lag a change by
milliseconds, not by a queue; these handlers are registered first, so the assignment
tasks the same events start see the new counts.

The other handlers decide from the event alone and enqueue a task: routing and
assignment never run inside the request that made the change. Changes the system made
itself (`via` system: imports, the demo loader, routing's own changes) start nothing
there; the route task assigns after routing by itself, and the periodic sweep in
tasks.py picks up anything else that waits.
"""

from __future__ import annotations

from frontdesk.accounts.events import PresenceChanged
from frontdesk.accounts.models import Presence
from frontdesk.conversations.events import (
    ConversationAssigned,
    ConversationCreated,
    ConversationsMerged,
    ConversationStatusChanged,
    ConversationTeamChanged,
    ConversationTransferred,
)
from frontdesk.core.events import subscribe
from frontdesk.core.models import Via
from frontdesk.routing import services, tasks
from frontdesk.routing.events import OwnerReminderDue, TeamRoutingChanged
from frontdesk.routing.selectors import WORKING_STATUSES

# --- running counts ----------------------------------------------------------------------------


def count_created(event: ConversationCreated) -> None:
    """A conversation opens as new or open: it counts for its assignee, if it has one."""
    if event.assignee_id is not None:
        services.recount_agent_loads([event.assignee_id])


def count_assigned(event: ConversationAssigned) -> None:
    services.recount_after_assignment(
        event.conversation_id,
        assignee_id=event.assignee_id,
        previous_assignee_id=event.previous_assignee_id,
    )


def count_transferred(event: ConversationTransferred) -> None:
    services.recount_agent_loads([event.assignee_id, event.previous_assignee_id])


def count_status(event: ConversationStatusChanged) -> None:
    """Only a change into or out of new/open moves a count (new to open does not)."""
    if (event.status in WORKING_STATUSES) != (event.previous_status in WORKING_STATUSES):
        services.recount_holder(event.conversation_id)


def count_merged(event: ConversationsMerged) -> None:
    """The merged conversation closed; the one it went into keeps its status."""
    services.recount_holder(event.source_id)


# --- routing and assignment --------------------------------------------------------------------


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
    # The counts first: an assignment task an event starts (inline in tests) reads them.
    subscribe(ConversationCreated, count_created)
    subscribe(ConversationAssigned, count_assigned)
    subscribe(ConversationTransferred, count_transferred)
    subscribe(ConversationStatusChanged, count_status)
    subscribe(ConversationsMerged, count_merged)
    subscribe(ConversationCreated, route_new_conversation)
    subscribe(ConversationAssigned, assign_released)
    subscribe(ConversationTeamChanged, assign_moved)
    subscribe(ConversationTransferred, assign_moved)
    subscribe(ConversationStatusChanged, assign_after_status)
    subscribe(PresenceChanged, assign_to_newly_online)
    subscribe(TeamRoutingChanged, assign_after_settings)
    subscribe(OwnerReminderDue, mail_owner_reminder)
