"""Running stored actions on a conversation, every change through the conversation services.

A rule acts as the system (`by=None`, via system); an agent applying a macro acts as
themselves. Either way each service call gets `cause`, so the audit row it writes names
the rule or macro. Mail and webhooks leave after the commit: a webhook as a
`WebhookDelivery` row written with the change (so it cannot be lost) and a task, a mail as
a task with the text rendered now, when the facts it names are true.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from frontdesk.accounts.models import Team, User
from frontdesk.automation import payloads, templating
from frontdesk.automation.models import CannedReply, Webhook, WebhookDelivery
from frontdesk.automation.rules import ME
from frontdesk.automation.selectors import canned_text_for, placeholder_source
from frontdesk.conversations import services as conversation_services
from frontdesk.conversations.models import Conversation
from frontdesk.core.errors import InvalidInput


@dataclass(frozen=True)
class Acting:
    """Who runs the actions, through which door, and what the audit rows name as the cause."""

    by: User | None
    via: str
    cause: Mapping[str, Any]
    at: datetime
    # The event that set a rule off, for webhooks ("conversation_created", "time_rule" ...).
    event: str = ""


def run_actions(
    conversation: Conversation, actions: Sequence[Mapping[str, Any]], acting: Acting
) -> None:
    """Run `actions` in order; the caller holds the transaction, so all happen or none."""
    for action in actions:
        _RUNNERS[action["type"]](conversation, action, acting)


def _fresh(conversation: Conversation) -> Conversation:
    # With what placeholders and webhook payloads read (the SLA due time included).
    return Conversation.objects.select_related(
        "customer", "company", "assignee", "owner", "sla_due"
    ).get(pk=conversation.pk)


def _set_status(conversation: Conversation, action: Mapping[str, Any], acting: Acting) -> None:
    conversation_services.set_status(
        conversation, by=acting.by, status=action["value"], via=acting.via, at=acting.at,
        cause=acting.cause,
    )  # fmt: skip


def _set_priority(conversation: Conversation, action: Mapping[str, Any], acting: Acting) -> None:
    conversation_services.set_priority(
        conversation, by=acting.by, priority=action["value"], via=acting.via, at=acting.at,
        cause=acting.cause,
    )  # fmt: skip


def _set_team(conversation: Conversation, action: Mapping[str, Any], acting: Acting) -> None:
    team = None
    if action["value"] is not None:
        team = Team.objects.filter(pk=action["value"]).first()
        if team is None:
            raise InvalidInput(f"team {action['value']} no longer exists", field="actions")
    conversation_services.set_team(
        conversation, by=acting.by, team=team, via=acting.via, at=acting.at, cause=acting.cause
    )


def _assign(conversation: Conversation, action: Mapping[str, Any], acting: Acting) -> None:
    value = action["value"]
    assignee: User | None = None
    if value == ME:
        assignee = acting.by
    elif value is not None:
        assignee = User.objects.filter(pk=value).first()
        if assignee is None:
            raise InvalidInput(f"user {value} no longer exists", field="actions")
    conversation_services.assign(
        conversation, by=acting.by, assignee=assignee, via=acting.via, at=acting.at,
        cause=acting.cause,
    )  # fmt: skip


def _set_field(conversation: Conversation, action: Mapping[str, Any], acting: Acting) -> None:
    conversation_services.set_fields(
        conversation, by=acting.by, values={action["key"]: action["value"]}, via=acting.via,
        at=acting.at, cause=acting.cause,
    )  # fmt: skip


def _add_tags(conversation: Conversation, action: Mapping[str, Any], acting: Acting) -> None:
    conversation_services.add_tags(
        conversation, by=acting.by, tags=action["value"], via=acting.via, at=acting.at,
        cause=acting.cause,
    )  # fmt: skip


def _remove_tags(conversation: Conversation, action: Mapping[str, Any], acting: Acting) -> None:
    conversation_services.remove_tags(
        conversation, by=acting.by, tags=action["value"], via=acting.via, at=acting.at,
        cause=acting.cause,
    )  # fmt: skip


def _add_note(conversation: Conversation, action: Mapping[str, Any], acting: Acting) -> None:
    current = _fresh(conversation)
    values = templating.placeholder_values(placeholder_source(current, current.assignee))
    conversation_services.add_note(
        conversation, by=acting.by, text=templating.render(action["text"], values),
        via=acting.via, at=acting.at, cause=acting.cause,
    )  # fmt: skip


def _email_customer(conversation: Conversation, action: Mapping[str, Any], acting: Acting) -> None:
    from frontdesk.automation import tasks

    current = _fresh(conversation)
    text, language = action["text"], ""
    if action.get("canned_reply"):
        canned = CannedReply.objects.filter(pk=action["canned_reply"]).first()
        if canned is None:
            gone = action["canned_reply"]
            raise InvalidInput(f"canned reply {gone} no longer exists", field="actions")
        language, text = canned_text_for(canned, current)
    source = placeholder_source(current, current.assignee, language=language or None)
    values = templating.placeholder_values(source)
    subject = templating.render(action.get("subject", ""), values)
    body = templating.render(text, values)
    mail = {"to": "customer", "subject": subject, "body": body, "cause": dict(acting.cause),
            "language": source.language}  # fmt: skip
    transaction.on_commit(lambda: tasks.send_rule_email.enqueue(current.pk, mail))


def _email_agent(conversation: Conversation, action: Mapping[str, Any], acting: Acting) -> None:
    from frontdesk.automation import tasks

    current = _fresh(conversation)
    to = action["to"]
    recipient: User | None
    if to == "assignee":
        recipient = current.assignee
    elif to == "owner":
        recipient = current.owner
    else:
        recipient = User.objects.filter(pk=to).first()
    if recipient is None:
        return  # nobody holds it: nothing to tell
    values = templating.placeholder_values(placeholder_source(current, recipient))
    subject = templating.render(action["subject"], values)
    body = templating.render(action["text"], values)
    mail = {"to": str(recipient.pk), "subject": subject, "body": body,
            "cause": dict(acting.cause), "language": ""}  # fmt: skip
    transaction.on_commit(lambda: tasks.send_rule_email.enqueue(current.pk, mail))


def _webhook(conversation: Conversation, action: Mapping[str, Any], acting: Acting) -> None:
    from frontdesk.automation import tasks

    webhook = Webhook.objects.filter(pk=action["webhook"], active=True).first()
    if webhook is None:
        return  # switched off since the rule was written: nothing to send
    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        conversation_id=conversation.pk,
        cause=dict(acting.cause),
        event=acting.event or "automation",
        payload=payloads.conversation_payload(
            _fresh(conversation), acting.cause, acting.event, acting.at
        ),  # fmt: skip
        next_attempt_at=acting.at,
        created_at=acting.at,
    )
    transaction.on_commit(lambda: tasks.deliver_webhook.enqueue(delivery.pk))


_RUNNERS: dict[str, Callable[[Conversation, Mapping[str, Any], Acting], None]] = {
    "set_status": _set_status,
    "set_priority": _set_priority,
    "set_team": _set_team,
    "assign": _assign,
    "set_field": _set_field,
    "add_tags": _add_tags,
    "remove_tags": _remove_tags,
    "add_note": _add_note,
    "email_customer": _email_customer,
    "email_agent": _email_agent,
    "webhook": _webhook,
}
