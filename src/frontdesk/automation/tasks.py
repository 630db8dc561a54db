"""Background entry points of the automation app: webhooks, rule mail, time rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django_tasks import task

from frontdesk.automation import mailer, timerules, webhooks
from frontdesk.core.scheduling import periodic

TIME_RULES_EVERY = timedelta(minutes=5)
WEBHOOK_SWEEP_EVERY = timedelta(minutes=1)


@task()
def deliver_webhook(delivery_id: int) -> str:
    """One attempt at a webhook delivery; a failure is retried later with backoff.

    Safe to run twice, side by side too: only the worker that claims the delivery sends it.
    The next attempt is enqueued for its time where the backend can defer; the sweep below
    picks up any that is due either way.
    """
    outcome = webhooks.attempt_delivery(delivery_id)
    if outcome == "retry" and deliver_webhook.get_backend().supports_defer:
        at = webhooks.next_attempt_at(delivery_id)
        if at is not None:
            deliver_webhook.using(run_after=at).enqueue(delivery_id)
    return outcome


@periodic("automation_webhook_retries", every=WEBHOOK_SWEEP_EVERY)
def retry_webhooks() -> dict[str, int]:
    """Enqueue the deliveries whose next attempt is due, and take back claims of dead workers."""
    due = webhooks.due_deliveries()
    for delivery_id in due:
        deliver_webhook.enqueue(delivery_id)
    return {"enqueued": len(due)}


@task()
def send_rule_email(conversation_id: int, mail: Mapping[str, Any]) -> str:
    """A rule's mail, rendered already: `to` ("customer" or an agent's id), `subject`,
    `body`, `cause` (the rule, for the audit row) and `language`."""
    return mailer.send_rule_email(
        conversation_id,
        to=str(mail["to"]),
        subject=str(mail["subject"]),
        body=str(mail["body"]),
        cause=mail["cause"],
        language=str(mail.get("language", "")),
    )


@periodic("automation_time_rules", every=TIME_RULES_EVERY)
def run_time_rules() -> dict[str, int]:
    """Fire the time rules on conversations now due, a bounded batch a run; safe to repeat."""
    summary = timerules.run_time_rules()
    return {"fired": summary.fired, "failed": summary.failed}
