"""The one entry point every channel hands its normalised inbound message to.

A channel (mail, portal form, chat, messaging, API) parses what arrived, finds
or creates the customer and decides which conversation it continues, if any;
from there the rules are the same for all of them and live here:

- a message for an existing conversation is added as the customer's message
  (a merged conversation hands it to the one it was merged into, a waiting or
  solved one opens again);
- a closed conversation takes no more messages (ADR 0002): the message starts
  a follow-up conversation, in the same team, whose first line for the agents
  names the closed one;
- anything else opens a new conversation.

Nothing here writes rows itself: it calls `conversations.services`. The caller
owns the transaction, so the channel can record its own bookkeeping (an
idempotency key) in the same commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.models import Team
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, Message, Status
from frontdesk.conversations.services import EmailIds, StoredUpload, Upload
from frontdesk.core.errors import Conflict
from frontdesk.core.models import Via
from frontdesk.customers.models import Customer


@dataclass(frozen=True)
class IncomingMessage:
    """What a customer sent, normalised by the channel it came through."""

    customer: Customer
    channel: str
    subject: str
    text: str
    html: str = ""  # sanitised by the services again; channels may pass it raw
    # Stored beforehand (services.store_uploads) when the caller holds a transaction.
    attachments: Sequence[Upload | StoredUpload] = ()
    team: Team | None = None  # for a new conversation
    language: str = ""
    email: EmailIds | None = None
    via: str = Via.SYSTEM
    at: datetime | None = None


@dataclass(frozen=True)
class Delivered:
    conversation: Conversation
    message: Message
    created: bool
    # The closed conversation this one follows up, when the customer wrote to one.
    follow_up_of: int | None = None


def deliver(incoming: IncomingMessage, *, to: Conversation | None = None) -> Delivered:
    """Add `incoming` to `to` (None: a new conversation) and return where it landed."""
    at = incoming.at or timezone.now()
    if to is None:
        return _open(incoming, at=at, team=incoming.team)
    # Closed is final, and a merged conversation is closed: only then is `to` read again,
    # for the one it went into. Otherwise the service locks `to`, following merges.
    target = _follow_merges(to) if to.status == Status.CLOSED else to
    if target.status == Status.CLOSED:
        return _follow_up(incoming, closed=target, at=at)
    try:
        message = services.add_customer_message(
            target,
            by=None,
            text=incoming.text,
            html=incoming.html,
            channel=incoming.channel,
            via=incoming.via,
            at=at,
            attachments=incoming.attachments,
            email=incoming.email,
            author=incoming.customer,
        )
    except Conflict:
        # Closed between our look and the service's lock.
        target = _follow_merges(target)
        if target.status != Status.CLOSED:
            raise
        return _follow_up(incoming, closed=target, at=at)
    # The service's locked row, changed in place: the conversation as it now is.
    return Delivered(conversation=message.conversation, message=message, created=False)


def _open(incoming: IncomingMessage, *, at: datetime, team: Team | None) -> Delivered:
    conversation = services.create_conversation(
        by=None,
        customer=incoming.customer,
        subject=incoming.subject,
        channel=incoming.channel,
        text=incoming.text,
        html=incoming.html,
        team=team,
        language=incoming.language,
        via=incoming.via,
        at=at,
        attachments=incoming.attachments,
        email=incoming.email,
    )
    # create_conversation always writes the first message.
    message = conversation.messages.order_by("id")[0]
    return Delivered(conversation=conversation, message=message, created=True)


def _follow_up(incoming: IncomingMessage, *, closed: Conversation, at: datetime) -> Delivered:
    # The team that closed it knows the history; the channel's default is the fallback.
    team = closed.team if closed.team_id is not None else incoming.team
    opened = _open(incoming, at=at, team=team)
    services.add_system_message(
        opened.conversation,
        text=_("Follow-up to #%(number)s, which was closed.") % {"number": closed.number},
        via=incoming.via,
        at=at,
    )
    return Delivered(
        conversation=opened.conversation,
        message=opened.message,
        created=True,
        follow_up_of=closed.number,
    )


def _follow_merges(conversation: Conversation) -> Conversation:
    current = Conversation.objects.get(pk=conversation.pk)
    seen = {current.pk}
    while current.merged_into_id is not None and current.merged_into_id not in seen:
        seen.add(current.merged_into_id)
        current = Conversation.objects.get(pk=current.merged_into_id)
    return current
