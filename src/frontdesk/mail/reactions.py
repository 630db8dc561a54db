"""Mail the customer what the conversations app did: agents' replies, and an acknowledgement.

Handlers decide from the event and a row or two, then enqueue a task, so the
request that saved the reply never waits for a mail server. A reply is marked
queued here, under the Message-ID it will carry, before the task runs. Nothing
the system itself did (imports, demo data: `via` is system) is mailed.
"""

from __future__ import annotations

from frontdesk.conversations.events import ConversationCreated, MessageAdded
from frontdesk.conversations.models import Channel, MessageKind
from frontdesk.core.events import subscribe
from frontdesk.core.models import Via
from frontdesk.mail import outbound, tasks


def email_reply(event: MessageAdded) -> None:
    if event.via == Via.SYSTEM or event.kind != MessageKind.REPLY:
        return
    if outbound.queue_reply(event.message_id):
        tasks.send_reply_email.enqueue(event.message_id)


def acknowledge_new_mail(event: ConversationCreated) -> None:
    # Only the mail intake opens a conversation by email (via email); the
    # task checks the mailbox's flag and the guards against loops.
    if event.via != Via.EMAIL or event.channel != Channel.EMAIL:
        return
    tasks.send_acknowledgement.enqueue(event.conversation_id)


def register() -> None:
    subscribe(MessageAdded, email_reply)
    subscribe(ConversationCreated, acknowledge_new_mail)
