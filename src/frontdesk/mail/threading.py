"""Which conversation an email belongs to, if any.

In order of trust:

1. In-Reply-To, then References (nearest first), against the Message-IDs we
   stored: those of mail we took in and of replies we sent. Such an id is only
   known to people who got that mail.
2. Our own outbound Message-IDs embed the conversation (`<fd.{number}.{token}@{domain}>`),
   which finds the conversation even when the id itself was not stored (an
   acknowledgement, a notice). The number in it is easy to guess, so this
   counts only when the sender takes part in that conversation.
3. A `[#number]` tag in the subject, under the same condition.

Otherwise the message starts a new conversation. A merged conversation hands
over to the one it was merged into.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from frontdesk.conversations.models import Conversation, Message
from frontdesk.customers.models import Customer
from frontdesk.mail.parse import ParsedMessage

# A hostile References header can hold thousands of ids; the nearest ones matter.
MAX_IDS = 50
MAX_TAGS = 5
OUR_MESSAGE_ID = re.compile(r"^<fd\.(\d{1,18})\.[^@<>\s]+@[^@<>\s]+>$", re.IGNORECASE)
SUBJECT_TAG = re.compile(r"\[#(\d{1,18})\]")

How = Literal["message-id", "our-message-id", "subject-tag"]


@dataclass(frozen=True)
class Thread:
    conversation: Conversation
    how: How


def referenced_ids(parsed: ParsedMessage) -> list[str]:
    """In-Reply-To first, then References from the nearest (last) to the oldest."""
    ids: list[str] = []
    for message_id in (parsed.in_reply_to, *reversed(parsed.references)):
        if message_id and message_id not in ids:
            ids.append(message_id)
        if len(ids) == MAX_IDS:
            break
    return ids


def number_in_our_message_id(message_id: str) -> int | None:
    match = OUR_MESSAGE_ID.match(message_id.strip())
    return int(match.group(1)) if match else None


def numbers_in_subject(subject: str) -> list[int]:
    numbers: list[int] = []
    for match in SUBJECT_TAG.finditer(subject):
        number = int(match.group(1))
        if number not in numbers:
            numbers.append(number)
        if len(numbers) == MAX_TAGS:
            break
    return numbers


def find_thread(parsed: ParsedMessage, *, sender: Customer) -> Thread | None:
    """The conversation `parsed` continues, or None for a new one."""
    ids = referenced_ids(parsed)
    stored = _by_stored_id(ids)
    if stored is not None:
        return Thread(stored, "message-id")
    numbers = [n for n in map(number_in_our_message_id, ids) if n is not None]
    found = _participating(numbers, sender)
    if found is not None:
        return Thread(found, "our-message-id")
    found = _participating(numbers_in_subject(parsed.subject), sender)
    if found is not None:
        return Thread(found, "subject-tag")
    return None


def is_participant(conversation: Conversation, customer: Customer) -> bool:
    """The conversation's customer (any of their addresses), or a customer who wrote in it."""
    if conversation.customer_id == customer.pk:
        return True
    return Message.objects.filter(conversation=conversation, author_customer=customer).exists()


def follow_merges(conversation: Conversation) -> Conversation:
    seen = {conversation.pk}
    while conversation.merged_into_id is not None and conversation.merged_into_id not in seen:
        seen.add(conversation.merged_into_id)
        conversation = Conversation.objects.get(pk=conversation.merged_into_id)
    return conversation


def _by_stored_id(ids: list[str]) -> Conversation | None:
    if not ids:
        return None
    rows = Message.objects.filter(email_message_id__in=ids).values_list(
        "email_message_id", "conversation_id"
    )
    by_id: dict[str, int] = {}
    for message_id, conversation_id in rows.order_by("id"):
        by_id.setdefault(message_id, conversation_id)
    for message_id in ids:
        if message_id in by_id:
            return follow_merges(Conversation.objects.get(pk=by_id[message_id]))
    return None


def _participating(numbers: Iterable[int], sender: Customer) -> Conversation | None:
    for number in numbers:
        conversation = Conversation.objects.filter(number=number).first()
        if conversation is None:
            continue
        # The sender must take part in the conversation as numbered, or in the one it became.
        target = follow_merges(conversation)
        if is_participant(conversation, sender) or is_participant(target, sender):
            return target
    return None
