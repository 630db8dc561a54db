"""The SLA badge of a conversation: time left, overdue by, or paused, in four colours.

Computed from the conversation's SLA summary row (`ConversationDue`, which the sla app
keeps current); a list that selects it with the conversations (select_related("sla_due"))
shows its badges without one more query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import formats, timezone
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from frontdesk.conversations.models import Conversation

OK = "ok"
WARNING = "warning"
BREACHED = "breached"
PAUSED = "paused"


@dataclass(frozen=True)
class SlaBadge:
    state: str
    text: str
    title: str
    due_iso: str


def sla_badge(
    *,
    due_at: datetime | None,
    warning_at: datetime | None,
    paused: bool,
    breached: bool = False,
    now: datetime | None = None,
) -> SlaBadge | None:
    """The badge for these SLA values at `now`; None when no SLA target is running."""
    if paused:
        return SlaBadge(
            state=PAUSED,
            text=_("SLA paused"),
            title=_("The SLA clock stands still while the conversation waits."),
            due_iso="",
        )
    if due_at is None:
        return None
    now = now or timezone.now()
    local = timezone.localtime(due_at)
    title = _("Due %(time)s") % {"time": formats.date_format(local, "SHORT_DATETIME_FORMAT")}
    if breached:
        title = _("%(due)s. A target was already missed.") % {"due": title}
    if due_at <= now:
        text = _("overdue by %(time)s") % {"time": timesince(due_at, now, depth=1)}
        state = BREACHED
    else:
        text = _("%(time)s left") % {"time": timeuntil(due_at, now, depth=1)}
        state = WARNING if warning_at is not None and warning_at <= now else OK
    return SlaBadge(state=state, text=text, title=title, due_iso=local.isoformat())


def conversation_badge(conversation: Conversation, now: datetime | None = None) -> SlaBadge | None:
    shown = conversation.sla_summary
    if shown is None:
        return None
    return sla_badge(
        due_at=shown.due_at,
        warning_at=shown.warning_at,
        paused=shown.paused,
        breached=shown.breached,
        now=now,
    )
