"""Background entry points of routing: each takes ids, calls services, and is safe to run twice.

Routing and assignment run here, never inside the request that created or changed the
conversation. A sweep every minute assigns whatever still waits in auto-assigning teams
(a task lost in a crash, an agent who freed a place without an event saying so); a job
every ten minutes sets right any agent's running count that drifted from their
conversations; a job every quarter hour sends the owners' daily reminders, once a day each.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task

from frontdesk.accounts.models import User
from frontdesk.conversations.models import Conversation, Status
from frontdesk.conversations.selectors import VIEW_TRANSFERRED
from frontdesk.core.scheduling import periodic
from frontdesk.routing import selectors, services
from frontdesk.routing.models import OwnerReminder

logger = logging.getLogger(__name__)

# Waiting conversations the minute's sweep assigns at most across all teams.
SWEEP_LIMIT = 500


@task()
def route_new_conversation(conversation_id: int) -> dict[str, Any]:
    """Apply the routing rules to a new conversation, then assign it if its team does."""
    rule = services.route_conversation(conversation_id)
    assignee_id = services.assign_conversation(conversation_id)
    return {"rule_id": rule.pk if rule is not None else None, "assignee_id": assignee_id}


@task()
def assign_conversation(conversation_id: int) -> int | None:
    return services.assign_conversation(conversation_id)


@task()
def assign_waiting_for_agent(user_id: int) -> int:
    return services.assign_waiting_for_agent(user_id)


@task()
def assign_waiting_in_team(team_id: int) -> int:
    return services.assign_waiting(team_id)


@task()
def assign_after_status_change(conversation_id: int) -> int:
    """A status change may leave the conversation waiting, or free its assignee's place."""
    row = Conversation.objects.filter(pk=conversation_id).values("assignee_id", "status").first()
    if row is None:
        return 0
    if row["assignee_id"] is None:
        return 1 if services.assign_conversation(conversation_id) is not None else 0
    if row["status"] not in selectors.WORKING_STATUSES:
        return services.assign_waiting_for_agent(row["assignee_id"])
    return 0


@periodic("routing_assign_waiting", every=timedelta(minutes=1))
def assign_waiting_everywhere() -> dict[str, int]:
    """Assign what waits in every auto-assigning team, oldest first, boundedly."""
    assigned: dict[str, int] = {}
    budget = SWEEP_LIMIT
    for team_id in selectors.auto_assign_team_ids():
        if budget <= 0:
            break
        count = services.assign_waiting(team_id, limit=min(budget, services.ASSIGN_BATCH))
        budget -= services.ASSIGN_BATCH
        if count:
            assigned[str(team_id)] = count
    return assigned


@periodic("routing_reconcile_loads", every=timedelta(minutes=10))
def reconcile_agent_loads() -> dict[str, int]:
    """Compare agents' running counts with their conversations, a bounded number a run."""
    return services.reconcile_agent_loads()


@periodic("routing_remind_owners", every=timedelta(minutes=15))
def remind_owners() -> dict[str, int]:
    """Write today's owner reminders that are due; their event has them mailed."""
    return {"reminders": len(services.remind_owners())}


@task()
def send_owner_reminder(reminder_id: int) -> bool:
    """Mail an owner the conversations they handed on that are still open.

    Reads them again: what was solved since is left out, and nothing is sent when all were.
    """
    reminder = OwnerReminder.objects.select_related("owner").filter(pk=reminder_id).first()
    if reminder is None:
        return False
    owner = reminder.owner
    if not (owner.is_active and owner.is_agent_staff and owner.email):
        return False
    conversations = selectors.reminder_conversations(reminder)
    if not conversations or not services.claim_reminder_mail(reminder.pk):
        return False
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        subject = ngettext(
            "%(count)d conversation you handed on is not solved yet",
            "%(count)d conversations you handed on are not solved yet",
            len(conversations),
        ) % {"count": len(conversations)}
        body = render_to_string(
            "routing/owner_reminder.txt",
            {
                "rows": [_row(c) for c in conversations],
                "list_url": settings.BASE_URL
                + reverse("conversations:inbox_view", args=[VIEW_TRANSFERRED]),
            },
        )
    return _send(owner, subject, body)


def _row(conversation: Conversation) -> dict[str, Any]:
    return {
        "number": conversation.number,
        "subject": " ".join(conversation.subject.split()),
        "team": str(conversation.team) if conversation.team is not None else _("no team"),
        "holder": conversation.assignee.display_name
        if conversation.assignee is not None
        else _("unassigned"),
        "status": Status(conversation.status).label,
        "url": settings.BASE_URL + reverse("conversations:detail", args=[conversation.number]),
    }


def _send(user: User, subject: str, body: str) -> bool:
    mail = EmailMessage(subject=subject, body=body, to=[user.email])
    try:
        mail.send()
    except OSError:
        # The reminder is lost for today; tomorrow's comes as usual.
        logger.exception("owner reminder mail to user %s failed", user.pk)
        return False
    return True
