"""SLA policies as plain values: which conversations one matches, its targets, its actions.

A policy row is compiled once per refresh into a `CompiledPolicy` (frozensets, seconds, a
`core.business_time.Schedule`), so matching a conversation is a few set look-ups and the
maths on its timers never touches the database. Reads only; `sla/services.py` validates and
writes the rows, `sla/timers.py` applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from frontdesk.core.business_time import Schedule
from frontdesk.sla.models import BusinessCalendar, SlaPolicy, Target, TimeBasis
from frontdesk.sla.schedules import schedule_for_calendar

# The condition kinds a policy may hold, and the conversation fact each one tests.
CONDITION_KINDS = (
    "priorities",
    "channels",
    "mailbox_ids",
    "team_ids",
    "customer_ids",
    "company_ids",
    "tags",
)
TARGET_KINDS: tuple[str, ...] = tuple(Target.values)

# Escalation actions: {"type": NOTIFY, "to": [ASSIGNEE, TEAM_LEAD, SUPERVISORS]},
# {"type": REASSIGN, "user_id": n} or {"type": REASSIGN, "team_id": n}, {"type": RAISE_PRIORITY}.
NOTIFY = "notify"
REASSIGN = "reassign"
RAISE_PRIORITY = "raise_priority"
ACTION_TYPES = (NOTIFY, REASSIGN, RAISE_PRIORITY)
ASSIGNEE = "assignee"
TEAM_LEAD = "team_lead"
SUPERVISORS = "supervisors"
NOTIFY_AUDIENCES = (ASSIGNEE, TEAM_LEAD, SUPERVISORS)


@dataclass(frozen=True, slots=True)
class Targets:
    """Seconds allowed for each target at one priority; None: no promise for it."""

    first_response: int | None = None
    next_response: int | None = None
    resolution: int | None = None

    def seconds(self, target: str) -> int | None:
        value: int | None = getattr(self, target)
        return value


NO_TARGETS = Targets()


@dataclass(frozen=True, slots=True)
class Facts:
    """What a policy and the timers read of one conversation."""

    conversation_id: int
    status: str
    priority: int
    channel: str
    team_id: int | None
    customer_id: int
    company_id: int | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    last_customer_activity_at: datetime | None
    last_agent_activity_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    tags: frozenset[str] = frozenset()
    mailbox_id: int | None = None


# Conversation columns `Facts` is built from, in its field order (tags and mailbox aside).
FACT_COLUMNS = (
    "id",
    "status",
    "priority",
    "channel",
    "team_id",
    "customer_id",
    "company_id",
    "created_at",
    "updated_at",
    "first_response_at",
    "last_customer_activity_at",
    "last_agent_activity_at",
    "solved_at",
    "closed_at",
)


def facts_from(
    values: Sequence[Any], *, tags: frozenset[str] = frozenset(), mailbox_id: int | None = None
) -> Facts:
    """Facts from a row of FACT_COLUMNS values."""
    return Facts(
        conversation_id=values[0],
        status=values[1],
        priority=values[2],
        channel=values[3],
        team_id=values[4],
        customer_id=values[5],
        company_id=values[6],
        created_at=values[7],
        updated_at=values[8],
        first_response_at=values[9],
        last_customer_activity_at=values[10],
        last_agent_activity_at=values[11],
        solved_at=values[12],
        closed_at=values[13],
        tags=tags,
        mailbox_id=mailbox_id,
    )


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    id: int
    name: str
    # None: the kind is not a condition (anything matches).
    priorities: frozenset[int] | None
    channels: frozenset[str] | None
    mailbox_ids: frozenset[int] | None
    team_ids: frozenset[int] | None
    customer_ids: frozenset[int] | None
    company_ids: frozenset[int] | None
    tags: frozenset[str] | None
    targets: Mapping[int, Targets]
    # None: calendar time; otherwise business time on this schedule.
    schedule: Schedule | None
    warning_percent: int
    warning_actions: tuple[Mapping[str, Any], ...]
    breach_actions: tuple[Mapping[str, Any], ...]

    @property
    def label(self) -> str:
        """How the audit trail names the policy as the actor of what it did."""
        return f"SLA policy {self.name}"[:200]

    @property
    def uses_tags(self) -> bool:
        return self.tags is not None

    def targets_for(self, priority: int) -> Targets:
        return self.targets.get(priority, NO_TARGETS)

    def matches(self, facts: Facts) -> bool:
        # Cheapest and most selective tests first.
        return (
            (self.priorities is None or facts.priority in self.priorities)
            and (self.channels is None or facts.channel in self.channels)
            and (self.team_ids is None or facts.team_id in self.team_ids)
            and (self.company_ids is None or facts.company_id in self.company_ids)
            and (self.customer_ids is None or facts.customer_id in self.customer_ids)
            and (self.mailbox_ids is None or facts.mailbox_id in self.mailbox_ids)
            and (self.tags is None or not self.tags.isdisjoint(facts.tags))
        )


def first_match(policies: Sequence[CompiledPolicy], facts: Facts) -> CompiledPolicy | None:
    """The first policy, in order, whose conditions the conversation meets."""
    for policy in policies:
        if policy.matches(facts):
            return policy
    return None


def _set_of(values: Any, kind: type[int] | type[str]) -> frozenset[Any] | None:
    if not values:
        return None
    return frozenset(kind(value) for value in values)


def parse_targets(rows: Iterable[Mapping[str, Any]]) -> dict[int, Targets]:
    """Stored targets (minutes, by priority) as seconds."""
    found: dict[int, Targets] = {}
    for row in rows:
        minutes = {kind: row.get(f"{kind}_minutes") for kind in TARGET_KINDS}
        found[int(row["priority"])] = Targets(
            **{kind: None if value is None else int(value) * 60 for kind, value in minutes.items()}
        )
    return found


def compile_policy(policy: SlaPolicy, default_calendar: BusinessCalendar | None) -> CompiledPolicy:
    """The row in plain values. A business-time policy counts on its calendar, else the
    default one, and on plain calendar time when there is neither (nothing to count on)."""
    conditions = policy.conditions or {}
    schedule = None
    if policy.time_basis == TimeBasis.BUSINESS:
        own = policy.calendar
        calendar = own if own is not None and own.active else default_calendar
        if calendar is not None:
            schedule = schedule_for_calendar(calendar)
    return CompiledPolicy(
        id=policy.pk,
        name=policy.name,
        priorities=_set_of(conditions.get("priorities"), int),
        channels=_set_of(conditions.get("channels"), str),
        mailbox_ids=_set_of(conditions.get("mailbox_ids"), int),
        team_ids=_set_of(conditions.get("team_ids"), int),
        customer_ids=_set_of(conditions.get("customer_ids"), int),
        company_ids=_set_of(conditions.get("company_ids"), int),
        tags=_set_of(conditions.get("tags"), str),
        targets=parse_targets(policy.targets or []),
        schedule=schedule,
        warning_percent=policy.warning_percent,
        warning_actions=tuple(policy.warning_actions or ()),
        breach_actions=tuple(policy.breach_actions or ()),
    )


def needs_calendar_default(policies: Iterable[SlaPolicy]) -> bool:
    return any(
        p.time_basis == TimeBasis.BUSINESS and (p.calendar is None or not p.calendar.active)
        for p in policies
    )
