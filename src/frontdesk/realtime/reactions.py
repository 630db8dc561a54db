"""Push changes to the websockets of the people allowed to know of them.

Each domain event names its audience; this forwards a small notice to one
channel-layer group per team, user and customer in it (and to the staff who
see everything). A notice carries the conversation's number and the event's
name, never content: the page refetches what it shows through the ordinary,
permission-checked views. Customers hear only of events whose audience names
them, which the services do only for public changes.

A push is best effort. The change it reports is already committed, so a
channel layer that is down or slow is logged and skipped: it must never fail
or hold up the request, task or command that made the change. The sends are
handed to `sender`, which does them off the caller's thread (or on the event
loop the caller serves), each cut off after PUSH_TIMEOUT_S.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from channels.layers import get_channel_layer

from frontdesk.accounts.events import (
    TeamMemberAdded,
    TeamMemberRemoved,
    UserActiveChanged,
    UserUpdated,
)
from frontdesk.conversations.events import ConversationEvent, ConversationsMerged, CustomersMerged
from frontdesk.core.events import DomainEvent, NotificationsChanged, subscribe
from frontdesk.customers.events import CustomerUpdated
from frontdesk.realtime import groups, sender

# Longer than a healthy Redis round trip by far, short enough that a stuck
# layer does not pile up pushes for long.
PUSH_TIMEOUT_S = 2.0

# Customer fields that inbox rows show.
_LISTED_CUSTOMER_FIELDS = frozenset({"name"})
# User fields that decide which conversations a user sees (teams have their own
# TeamMemberAdded/Removed events).
_ACCESS_FIELDS = frozenset({"role", "sees_all_teams"})
# A customer merge can move hundreds of conversations: past this many, one
# "refresh your lists" notice replaces a notice per conversation.
MAX_NOTICES_PER_EVENT = 20

Message = dict[str, Any]


def push_conversation_changed(event: ConversationEvent) -> None:
    numbers = [event.number]
    if isinstance(event, ConversationsMerged):
        numbers.append(event.source_number)
    _push_numbers(event, numbers)


def push_customers_merged(event: CustomersMerged) -> None:
    # The moved conversations now show another customer.
    _push_numbers(event, list(event.numbers))


def _push_numbers(event: DomainEvent, numbers: list[int]) -> None:
    if len(numbers) > MAX_NOTICES_PER_EVENT:
        message = {"type": "inbox.changed", "id": uuid.uuid4().hex, "kind": type(event).__name__}
        _push([(group, message) for group in groups.for_audience(event.audience)])
        return
    messages = [
        {
            "type": "conversation.changed",
            # Someone in a team group and in their own user group gets the same
            # notice twice; the consumer drops repeats by this id.
            "id": uuid.uuid4().hex,
            "number": number,
            "kind": type(event).__name__,
        }
        for number in numbers
    ]
    _push(
        [(group, message) for group in groups.for_audience(event.audience) for message in messages]
    )


def push_customer_updated(event: CustomerUpdated) -> None:
    if not _LISTED_CUSTOMER_FIELDS.intersection(event.changed):
        return
    message = {"type": "inbox.changed", "id": uuid.uuid4().hex, "kind": type(event).__name__}
    _push([(group, message) for group in groups.for_audience(event.audience)])


def push_access_changed(
    event: TeamMemberAdded | TeamMemberRemoved | UserUpdated | UserActiveChanged,
) -> None:
    """The user's open sockets reload them: rejoin their groups, or close if deactivated."""
    if isinstance(event, UserUpdated) and not _ACCESS_FIELDS.intersection(event.fields):
        return
    message = {"type": "access.changed", "kind": type(event).__name__}
    _push([(groups.user(event.user_id), message)])


def push_notifications_changed(event: NotificationsChanged) -> None:
    """Only to the people whose list changed: not their teams, not those who see everything."""
    message = {"type": "notifications.changed", "kind": type(event).__name__}
    _push([(groups.user(user_id), message) for user_id in sorted(event.audience.user_ids)])


def _push(sends: Sequence[tuple[str, Message]]) -> None:
    layer = get_channel_layer()
    if layer is None or not sends:
        return
    sender.push(layer, sends, timeout_s=PUSH_TIMEOUT_S)


def register() -> None:
    subscribe(ConversationEvent, push_conversation_changed)
    subscribe(CustomerUpdated, push_customer_updated)
    subscribe(CustomersMerged, push_customers_merged)
    subscribe(TeamMemberAdded, push_access_changed)
    subscribe(TeamMemberRemoved, push_access_changed)
    subscribe(UserUpdated, push_access_changed)
    subscribe(UserActiveChanged, push_access_changed)
    subscribe(NotificationsChanged, push_notifications_changed)
