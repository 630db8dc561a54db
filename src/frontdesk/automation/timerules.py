"""Time rules, run by the scheduler: "pending for 3 business days → remind the customer".

Each run looks, rule by rule, at the conversations whose conditions hold (in SQL) and
whose anchor (when they entered their status, were created, last heard from the customer
...) is old enough, oldest first. Due times only grow with the anchor, so the first one not
yet due ends the rule's scan: a run is bounded by what it fires, never by how many
conversations merely wait.

A rule fires once per conversation and anchor: a `TimeRuleRun` row, unique on (rule,
conversation, anchor time), is written in the same transaction as the actions, so running
the job twice, or on two nodes at once, fires it once. A new state (the customer wrote,
the status changed) has a new anchor and may fire the rule again. A rule whose actions are
refused still keeps its run row, with an "automation.rule_failed" Event: it is not retried
every few minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce
from django.utils import timezone

from frontdesk.automation import matching
from frontdesk.automation.engine import fire, record_failure
from frontdesk.automation.models import TimeAnchor, TimeBasis, TimeRule, TimeRuleRun, TimeUnit
from frontdesk.conversations.models import Conversation, Status
from frontdesk.core.business_time import NeverOpen, Schedule
from frontdesk.core.errors import ServiceError
from frontdesk.core.events import Cause
from frontdesk.core.models import Event

logger = logging.getLogger(__name__)

TIME_RULE = "time_rule"
TIME_RULE_FIRED = "automation.time_rule_fired"
BATCH = 200
# Years of dates a business-day count walks through before it gives up (a calendar never open).
_MAX_DAYS = 3 * 366
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class RunSummary:
    fired: int
    failed: int


def run_time_rules(*, now: datetime | None = None, batch: int = BATCH) -> RunSummary:
    """Fire every active time rule on the conversations now due, at most `batch` in all."""
    now = now or timezone.now()
    fired = failed = 0
    for rule in TimeRule.objects.filter(active=True).select_related("calendar"):
        if fired + failed >= batch:
            break
        for ok in run_time_rule(rule, now=now, limit=batch - fired - failed):
            fired += ok
            failed += not ok
    return RunSummary(fired=fired, failed=failed)


def run_time_rule(rule: TimeRule, *, now: datetime, limit: int) -> Iterator[bool]:
    """Fire `rule` on its due conversations, oldest first; yields True or False (refused)."""
    if limit <= 0 or not matching.holds_now(rule.conditions, now):
        return
    schedule = _schedule(rule)
    for conversation in candidates(rule, now=now)[:limit]:
        anchor_at: datetime = conversation.anchor_at  # type: ignore[attr-defined]
        if due_at(rule, anchor_at, schedule) > now:
            return  # the rest are younger: not due either
        outcome = _fire_once(rule, conversation, anchor_at, now=now)
        if outcome is not None:
            yield outcome


def _schedule(rule: TimeRule) -> Schedule | None:
    if rule.basis == TimeBasis.CALENDAR:
        return None
    return matching.calendar_schedule(rule.calendar_id)


def anchor_expression(anchor: str) -> Combinable:
    if anchor == TimeAnchor.STATUS:
        changed = (
            Event.objects.filter(
                object_type="conversation",
                object_id=OuterRef("pk"),
                action="conversation.status_changed",
            )
            .order_by("-at", "-id")
            .values("at")[:1]
        )
        return Coalesce(Subquery(changed), F("created_at"))
    column = {
        TimeAnchor.CREATED: "created_at",
        TimeAnchor.CUSTOMER: "last_customer_activity_at",
        TimeAnchor.AGENT: "last_agent_activity_at",
        TimeAnchor.ACTIVITY: "last_activity_at",
    }[TimeAnchor(anchor)]
    return F(column)


def earliest_due_span(rule: TimeRule) -> timedelta:
    """A span no due time can be shorter than: open time never runs faster than the clock."""
    if rule.unit == TimeUnit.HOURS:
        return timedelta(hours=rule.amount)
    # A day's wall time can come an hour early across a DST change; leave room for two.
    return max(timedelta(0), timedelta(days=rule.amount) - 2 * _HOUR)


def candidates(rule: TimeRule, *, now: datetime) -> QuerySet[Conversation]:
    """Conversations the rule's conditions hold for, not yet fired on for their anchor, oldest
    anchor first; only those old enough that they may be due."""
    done = TimeRuleRun.objects.filter(
        rule=rule, conversation=OuterRef("pk"), anchor_at=OuterRef("anchor_at")
    )
    return (
        Conversation.objects.exclude(status=Status.CLOSED)
        .filter(merged_into__isnull=True)
        .filter(matching.as_q(rule.conditions))
        .annotate(anchor_at=anchor_expression(rule.anchor))
        .filter(anchor_at__isnull=False, anchor_at__lte=now - earliest_due_span(rule))
        .exclude(Exists(done))
        .order_by("anchor_at", "id")
    )


def due_at(rule: TimeRule, anchor_at: datetime, schedule: Schedule | None) -> datetime:
    """When a conversation anchored at `anchor_at` becomes due; far future if never."""
    try:
        if rule.unit == TimeUnit.HOURS:
            if schedule is None:
                return anchor_at + timedelta(hours=rule.amount)
            return schedule.add_business_time(anchor_at, rule.amount * 3600)
        if schedule is None:
            return anchor_at + timedelta(days=rule.amount)
        return add_business_days(schedule, anchor_at, rule.amount)
    except NeverOpen:
        return datetime.max.replace(tzinfo=anchor_at.tzinfo)


def add_business_days(schedule: Schedule, start: datetime, days: int) -> datetime:
    """The same wall time on the `days`-th open date after `start`'s date, in the schedule's zone.

    Friday 15:00 plus 3 business days (open Monday to Friday) is Wednesday 15:00; a date is
    open when it holds any open time (a holiday does not count). Raises NeverOpen when no
    such date comes within three years.
    """
    zone = schedule.time_zone
    local = start.astimezone(zone)
    day = local.date()
    counted = 0
    for _step in range(_MAX_DAYS):
        if counted >= days:
            break
        day += timedelta(days=1)
        counted += _is_open_on(schedule, day)
    else:
        raise NeverOpen(f"no {days} open dates after {start.isoformat()}")
    if days <= 0:
        return start
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone)


def _is_open_on(schedule: Schedule, day: date) -> bool:
    zone = schedule.time_zone
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return schedule.business_seconds_between(start, end) > 0


def time_rule_cause(rule: TimeRule) -> Cause:
    return Cause(kind=TIME_RULE, id=rule.pk, name=rule.name, chain=(f"{TIME_RULE}:{rule.pk}",))


def _still_due(rule: TimeRule, conversation_id: int, anchor_at: datetime, now: datetime) -> bool:
    """Re-read under the row lock: an agent may have changed it since the scan."""
    Conversation.objects.select_for_update().filter(pk=conversation_id).values_list("pk").first()
    return candidates(rule, now=now).filter(Q(pk=conversation_id, anchor_at=anchor_at)).exists()


def _fire_once(
    rule: TimeRule, conversation: Conversation, anchor_at: datetime, *, now: datetime
) -> bool | None:
    """Fire on one conversation unless it was fired on meanwhile; None when nothing ran."""
    cause = time_rule_cause(rule)
    try:
        with transaction.atomic():
            if not _still_due(rule, conversation.pk, anchor_at, now):
                return None
            TimeRuleRun.objects.create(rule=rule, conversation=conversation,
                                       anchor_at=anchor_at, fired_at=now)  # fmt: skip
            ok = fire(
                conversation, rule.actions, cause, event=TIME_RULE, fired=TIME_RULE_FIRED,
                extra={"anchor_at": anchor_at.isoformat()}, at=now, raise_refusal=True,
            )  # fmt: skip
    except IntegrityError:
        return None  # another run fired it first
    except ServiceError as error:
        _keep_failed_run(rule, conversation, anchor_at, cause, error, now=now)
        return False
    return ok


def _keep_failed_run(
    rule: TimeRule,
    conversation: Conversation,
    anchor_at: datetime,
    cause: Cause,
    error: ServiceError,
    *,
    now: datetime,
) -> None:
    try:
        with transaction.atomic():
            TimeRuleRun.objects.create(rule=rule, conversation=conversation,
                                       anchor_at=anchor_at, fired_at=now)  # fmt: skip
            record_failure(conversation, cause, event=TIME_RULE, error=error, at=now)
    except IntegrityError:
        return
