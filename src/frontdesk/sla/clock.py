"""The SLA clock of one conversation: pure maths on its timers (a `ConversationSla` row's
values, as a plain object: a recount of a hundred thousand builds no model instances).

- First response: from creation until the first public agent reply (not for conversations
  an agent opened: nobody waits for an answer there).
- Next response: each customer message that waits for an answer (after the first response)
  starts a cycle, met by the next agent reply; the cycle's marks start clean.
- Resolution: from creation until solved; a reopened conversation runs on.
- The clock stands still while the conversation is pending, on hold, solved or closed. Paused
  time is added up in wall seconds and in business seconds of the policy's calendar; a
  target's due time moves by the pauses since it started. While paused there is no due time.
- A met target keeps the due time it had (a stricter policy later does not make an answer
  given in time late); a running target is recomputed on every change, policy included.

`advance` brings the row up to date with the conversation; `check_due` records the warnings
and breaches whose time has come. Both return what must be audited; they never touch the
database, so the periodic check and the bulk refresh share them with the event reactions.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from operator import attrgetter

from frontdesk.core.business_time import NeverOpen
from frontdesk.sla.models import Target
from frontdesk.sla.policies import NO_TARGETS, TARGET_KINDS, CompiledPolicy, Facts

PAUSING_STATUSES = frozenset({"pending", "on_hold", "solved", "closed"})
# Where a paused badge means something; solved and closed conversations show none.
SHOWN_PAUSED_STATUSES = frozenset({"pending", "on_hold"})
FINISHED_STATUSES = frozenset({"solved", "closed"})

WARNING = "warning"
BREACH = "breach"


@dataclass(slots=True)
class Timers:
    """The values of a `ConversationSla` row but `updated_at`, by attribute name."""

    conversation_id: int
    policy_id: int | None = None
    mailbox_id: int | None = None
    first_response_applies: bool = True
    first_response_due_at: datetime | None = None
    first_response_warn_at: datetime | None = None
    first_response_met_at: datetime | None = None
    first_response_warned_at: datetime | None = None
    first_response_breached_at: datetime | None = None
    next_response_started_at: datetime | None = None
    next_response_paused_base_s: int = 0
    next_response_paused_base_business_s: int = 0
    next_response_due_at: datetime | None = None
    next_response_warn_at: datetime | None = None
    next_response_met_at: datetime | None = None
    next_response_warned_at: datetime | None = None
    next_response_breached_at: datetime | None = None
    resolution_due_at: datetime | None = None
    resolution_warn_at: datetime | None = None
    resolution_met_at: datetime | None = None
    resolution_warned_at: datetime | None = None
    resolution_breached_at: datetime | None = None
    paused_since: datetime | None = None
    paused_s: int = 0
    paused_business_s: int = 0
    next_check_at: datetime | None = None

    def state(self) -> tuple[object, ...]:
        """Every value, in TIMER_ATTRS order: compares a row before and after a recount."""
        values: tuple[object, ...] = _ALL_VALUES(self)
        return values


TIMER_ATTRS = tuple(field.name for field in fields(Timers))
_ALL_VALUES = attrgetter(*TIMER_ATTRS)

# Attribute names by target, built once: the maths runs a hundred thousand times a recount.
_DUE = {target: f"{target}_due_at" for target in TARGET_KINDS}
_WARN = {target: f"{target}_warn_at" for target in TARGET_KINDS}
_MET = {target: f"{target}_met_at" for target in TARGET_KINDS}
_WARNED = {target: f"{target}_warned_at" for target in TARGET_KINDS}
_BREACHED = {target: f"{target}_breached_at" for target in TARGET_KINDS}


@dataclass(frozen=True, slots=True)
class Recorded:
    """A warning or breach that just became a fact, to audit and announce once."""

    kind: str
    target: str
    at: datetime
    due_at: datetime
    # Set for a target met after its due time (found when the answer came, not by the check).
    met_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """What the conversation shows of its timers (conversations.ConversationDue)."""

    due_at: datetime | None
    warning_at: datetime | None
    breached: bool
    paused: bool


def advance(
    row: Timers,
    facts: Facts,
    policy: CompiledPolicy | None,
    *,
    status_changed_at: datetime | None,
) -> list[Recorded]:
    """Bring `row` up to date with `facts` under `policy`; returns breaches found late.

    `status_changed_at` is when the status last changed (the audit trail knows); without it
    the conversation's last update stands in, which is exact for the change just made.
    """
    row.policy_id = policy.id if policy is not None else None
    _track_pause(row, facts, policy, status_changed_at or facts.updated_at)
    _track_next_response(row, facts)
    late: list[Recorded] = []
    targets = policy.targets_for(facts.priority) if policy is not None else NO_TARGETS
    for target in TARGET_KINDS:
        start = _start(row, facts, target)
        met = _met(row, facts, target)
        if target != Target.NEXT_RESPONSE:
            setattr(row, _MET[target], met)
        seconds = targets.seconds(target) if start is not None else None
        if met is not None:
            found = _settle_met(
                row, policy=policy, target=target, start=start, seconds=seconds, met=met
            )
            if found is not None:
                late.append(found)
            continue
        if policy is None or start is None or seconds is None or row.paused_since is not None:
            _set_times(row, target, None, None)
            continue
        paused_s, paused_business_s = _paused_since_start(row, target, until=None, policy=policy)
        _set_times(
            row,
            target,
            _deadline(policy, start, seconds, paused_s, paused_business_s),
            _deadline(
                policy, start, seconds * policy.warning_percent // 100, paused_s, paused_business_s
            ),
        )
    row.next_check_at = next_check(row)
    return late


def check_due(row: Timers, now: datetime) -> list[Recorded]:
    """Mark the warnings and breaches of running targets whose time has come, once each."""
    found: list[Recorded] = []
    for target in TARGET_KINDS:
        due = getattr(row, _DUE[target])
        if due is None or getattr(row, _MET[target]) is not None:
            continue
        warn = getattr(row, _WARN[target])
        if getattr(row, _WARNED[target]) is None and warn is not None and warn <= now:
            setattr(row, _WARNED[target], warn)
            found.append(Recorded(kind=WARNING, target=target, at=warn, due_at=due))
        if getattr(row, _BREACHED[target]) is None and due <= now:
            setattr(row, _BREACHED[target], due)
            found.append(Recorded(kind=BREACH, target=target, at=due, due_at=due))
    row.next_check_at = next_check(row)
    return found


def next_check(row: Timers) -> datetime | None:
    """The next warning or due time of a running target that is not recorded yet."""
    moments = []
    for target in TARGET_KINDS:
        due = getattr(row, _DUE[target])
        if due is None or getattr(row, _MET[target]) is not None:
            continue
        warn = getattr(row, _WARN[target])
        if getattr(row, _WARNED[target]) is None and warn is not None:
            moments.append(warn)
        elif getattr(row, _BREACHED[target]) is None:
            moments.append(due)
    return min(moments, default=None)


def summary(row: Timers, facts: Facts, policy: CompiledPolicy | None) -> Summary:
    if policy is None:
        return Summary(due_at=None, warning_at=None, breached=_breached(row), paused=False)
    dues = []
    warnings = []
    for target in TARGET_KINDS:
        due = getattr(row, _DUE[target])
        if due is not None and getattr(row, _MET[target]) is None:
            dues.append(due)
            warn = getattr(row, _WARN[target])
            warnings.append(warn if warn is not None else due)
    paused = facts.status in SHOWN_PAUSED_STATUSES and _any_target_waits(row, facts, policy)
    return Summary(
        due_at=min(dues, default=None),
        warning_at=min(warnings, default=None),
        breached=_breached(row),
        paused=paused,
    )


def first_response_applies(facts: Facts) -> bool:
    """False when an agent opened the conversation (an outbound message, no reply yet)."""
    return not (facts.last_agent_activity_at is not None and facts.first_response_at is None)


# --- the parts --------------------------------------------------------------------------------


def _breached(row: Timers) -> bool:
    return any(getattr(row, _BREACHED[target]) is not None for target in TARGET_KINDS)


def _any_target_waits(row: Timers, facts: Facts, policy: CompiledPolicy) -> bool:
    targets = policy.targets_for(facts.priority)
    for target in TARGET_KINDS:
        if targets.seconds(target) is None or _start(row, facts, target) is None:
            continue
        if _met(row, facts, target) is None:
            return True
    return False


def _track_pause(
    row: Timers, facts: Facts, policy: CompiledPolicy | None, moment: datetime
) -> None:
    paused_now = facts.status in PAUSING_STATUSES
    if paused_now and row.paused_since is None:
        row.paused_since = moment
    elif not paused_now and row.paused_since is not None:
        resumed = max(moment, row.paused_since)
        wall, business = _pause_between(policy, row.paused_since, resumed)
        row.paused_s += wall
        row.paused_business_s += business
        row.paused_since = None


def _pause_between(
    policy: CompiledPolicy | None, start: datetime, end: datetime
) -> tuple[int, int]:
    wall = int((end - start).total_seconds())
    schedule = policy.schedule if policy is not None else None
    business = schedule.business_seconds_between(start, end) if schedule is not None else 0
    return wall, business


def _track_next_response(row: Timers, facts: Facts) -> None:
    first_done = not row.first_response_applies or facts.first_response_at is not None
    if not first_done:
        return
    last_customer = facts.last_customer_activity_at
    last_agent = facts.last_agent_activity_at
    waiting = last_customer is not None and (last_agent is None or last_customer > last_agent)
    started = row.next_response_started_at
    cycle_open = started is not None and row.next_response_met_at is None
    if waiting and not cycle_open and last_customer is not None:
        # Each message gets its reaction, so the first unanswered one starts the cycle.
        row.next_response_started_at = last_customer
        row.next_response_paused_base_s = row.paused_s
        row.next_response_paused_base_business_s = row.paused_business_s
        for mark in ("due_at", "warn_at", "met_at", "warned_at", "breached_at"):
            setattr(row, f"next_response_{mark}", None)
    elif cycle_open and started is not None and last_agent is not None and last_agent >= started:
        row.next_response_met_at = last_agent


def _start(row: Timers, facts: Facts, target: str) -> datetime | None:
    if target == Target.NEXT_RESPONSE:
        return row.next_response_started_at
    if target == Target.FIRST_RESPONSE and not row.first_response_applies:
        return None
    return facts.created_at


def _met(row: Timers, facts: Facts, target: str) -> datetime | None:
    if target == Target.FIRST_RESPONSE:
        return facts.first_response_at if row.first_response_applies else None
    if target == Target.NEXT_RESPONSE:
        return row.next_response_met_at
    if facts.status in FINISHED_STATUSES:
        return facts.solved_at or facts.closed_at
    return None


def _settle_met(
    row: Timers,
    *,
    policy: CompiledPolicy | None,
    target: str,
    start: datetime | None,
    seconds: int | None,
    met: datetime,
) -> Recorded | None:
    """Keep a met target's due time (set it once if it never had one); a late answer is a
    breach the check did not see yet."""
    due = getattr(row, _DUE[target])
    if due is None and policy is not None and start is not None and seconds is not None:
        paused_s, paused_business_s = _paused_since_start(row, target, until=met, policy=policy)
        due = _deadline(policy, start, seconds, paused_s, paused_business_s)
        warn = _deadline(
            policy, start, seconds * policy.warning_percent // 100, paused_s, paused_business_s
        )
        _set_times(row, target, due, warn)
    if due is None or met <= due or getattr(row, _BREACHED[target]) is not None:
        return None
    setattr(row, _BREACHED[target], due)
    return Recorded(kind=BREACH, target=target, at=due, due_at=due, met_at=met)


def _paused_since_start(
    row: Timers, target: str, *, until: datetime | None, policy: CompiledPolicy | None
) -> tuple[int, int]:
    wall, business = row.paused_s, row.paused_business_s
    if target == Target.NEXT_RESPONSE:
        wall -= row.next_response_paused_base_s
        business -= row.next_response_paused_base_business_s
    if until is not None and row.paused_since is not None and until > row.paused_since:
        # Met while paused: the pause so far counts too.
        more_wall, more_business = _pause_between(policy, row.paused_since, until)
        wall += more_wall
        business += more_business
    return max(wall, 0), max(business, 0)


def _set_times(row: Timers, target: str, due: datetime | None, warn: datetime | None) -> None:
    setattr(row, _DUE[target], due)
    setattr(row, _WARN[target], warn)


def _deadline(
    policy: CompiledPolicy, start: datetime, seconds: int, paused_s: int, paused_business_s: int
) -> datetime | None:
    schedule = policy.schedule
    if schedule is None:
        return start + timedelta(seconds=seconds + paused_s)
    try:
        return schedule.add_business_time(start, seconds + paused_business_s)
    except (NeverOpen, OverflowError):
        return None
