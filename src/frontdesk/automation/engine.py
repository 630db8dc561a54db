"""Firing triggers: in order, each seeing what the ones before it changed, with a loop guard.

A rule acts inside `caused_by(Cause(...))` (core.events), so the events its changes publish
carry it, and so does every trigger they set off next: `Cause.chain` names the rules that
led to a change. Two guards read it (docs/adr/0007):

- loop guard: a trigger already in the chain does not fire again, so no rule fires on a
  change it made itself (nor on one a rule it set off made);
- chain depth: a change made at the end of a chain of MAX_CHAIN_DEPTH rules sets off no
  further trigger; the triggers that would have fired are named in one
  "automation.chain_stopped" Event on the conversation.

A rule's actions run in one transaction: all of them happen or, when one is refused (a
required field missing for "solve", an agent who left the team), none does, and an
"automation.rule_failed" Event says why.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from frontdesk.automation import matching, selectors
from frontdesk.automation.actions import Acting, run_actions
from frontdesk.automation.models import Trigger
from frontdesk.conversations.models import Conversation
from frontdesk.core.audit import record_event
from frontdesk.core.errors import ServiceError
from frontdesk.core.events import Cause, caused_by
from frontdesk.core.models import Via

logger = logging.getLogger(__name__)

MAX_CHAIN_DEPTH = 5
TRIGGER = "trigger"
TRIGGER_FIRED = "automation.trigger_fired"
RULE_FAILED = "automation.rule_failed"
CHAIN_STOPPED = "automation.chain_stopped"


def trigger_cause(trigger: Trigger, after: Cause | None) -> Cause:
    chain = after.chain if after is not None else ()
    return Cause(
        kind=TRIGGER, id=trigger.pk, name=trigger.name, chain=(*chain, f"{TRIGGER}:{trigger.pk}")
    )


def run_triggers(
    event: str,
    conversation_id: int,
    *,
    cause: Cause | None,
    message_id: int | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Fire the active triggers listening to `event` whose conditions hold; their ids, in order."""
    triggers = selectors.triggers_for(event)
    chain = cause.chain if cause is not None else ()
    fired: list[int] = []
    stopped: list[Trigger] = []
    # Read once, and again only after a trigger ran actions: those that did not fire
    # changed nothing the next one could see.
    facts: matching.Facts | None = None
    for trigger in triggers:
        if trigger_cause(trigger, None).key in chain:
            continue  # the loop guard: this change comes (maybe by way of others) from it
        if facts is None:
            facts = selectors.facts_of(
                conversation_id, message_id=message_id, now=now or timezone.now()
            )
            if facts is None:
                break
        if not matching.holds(trigger.conditions, facts):
            continue
        if len(chain) >= MAX_CHAIN_DEPTH:
            stopped.append(trigger)
            continue
        new_cause = trigger_cause(trigger, cause)
        if fire(facts.conversation, trigger.actions, new_cause, event=event, fired=TRIGGER_FIRED):
            fired.append(trigger.pk)
        facts = None
    if stopped:
        _record_chain_stopped(conversation_id, stopped, cause, event)
    return fired


def fire(
    conversation: Conversation,
    actions: Sequence[Mapping[str, Any]],
    cause: Cause,
    *,
    event: str,
    fired: str,
    extra: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    raise_refusal: bool = False,
) -> bool:
    """Run a rule's actions on behalf of `cause`, all or none; False when they were refused.

    `raise_refusal`: let the refusal through instead, for a caller whose own writes must
    roll back with the actions.
    """
    at = at or timezone.now()
    audit = cause.audit()
    acting = Acting(by=None, via=Via.SYSTEM, cause=audit, at=at, event=event)
    try:
        with caused_by(cause), transaction.atomic():
            record_event(conversation, action=fired, actor=None, via=Via.SYSTEM, at=at,
                         data={"cause": audit, "event": event, **(extra or {})})  # fmt: skip
            run_actions(conversation, actions, acting)
    except ServiceError as error:
        if raise_refusal:
            raise
        logger.info("%s %s refused on conversation %s: %s", cause.kind, cause.id,
                    conversation.pk, error.detail)  # fmt: skip
        record_failure(conversation, cause, event=event, error=error, at=at)
        return False
    return True


def record_failure(
    conversation: Conversation, cause: Cause, *, event: str, error: ServiceError, at: datetime
) -> None:
    with transaction.atomic():
        record_event(
            conversation, action=RULE_FAILED, actor=None, via=Via.SYSTEM, at=at,
            data={"cause": cause.audit(), "event": event, "error": error.detail,
                  "field": error.field or ""},
        )  # fmt: skip


def _record_chain_stopped(
    conversation_id: int, stopped: Sequence[Trigger], cause: Cause | None, event: str
) -> None:
    logger.warning("automation chain stopped at depth %d on conversation %s",
                   MAX_CHAIN_DEPTH, conversation_id)  # fmt: skip
    with transaction.atomic():
        record_event(
            Conversation(pk=conversation_id),
            action=CHAIN_STOPPED,
            actor=None,
            via=Via.SYSTEM,
            data={
                "event": event,
                "depth": MAX_CHAIN_DEPTH,
                "chain": list(cause.chain) if cause is not None else [],
                "cause": cause.audit() if cause is not None else {},
                "stopped": [{"kind": TRIGGER, "id": t.pk, "name": t.name} for t in stopped],
            },
        )
