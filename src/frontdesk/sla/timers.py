"""The only writers of SLA timers (`ConversationSla`) and of the conversation's SLA summary.

- `refresh_conversation`: after a change to one conversation (a reaction): a few queries.
- `refresh_open_conversations`: every open conversation, in batches (a policy or calendar
  changed): set-based reads and one write statement per batch.
- `check_due`: the periodic check; records each warning and breach once, announces it and
  runs the policy's escalation actions through the conversation services.

What the timers mean is `sla/clock.py`; which policy applies is `sla/policies.py`. The
audit rows written here name the policy as their actor.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from frontdesk.accounts.models import Role, Team, User
from frontdesk.conversations import services as conversation_services
from frontdesk.conversations.models import (
    ACTIVE_STATUSES,
    Channel,
    Conversation,
    ConversationDue,
    ConversationTag,
    Priority,
)
from frontdesk.core.errors import ServiceError
from frontdesk.core.events import Audience, publish
from frontdesk.core.models import Event, Via
from frontdesk.mail import selectors as mail_selectors
from frontdesk.sla import clock
from frontdesk.sla.events import SlaBreached, SlaEscalated, SlaWarning
from frontdesk.sla.models import BusinessCalendar, ConversationSla, SlaPolicy
from frontdesk.sla.policies import (
    ASSIGNEE,
    FACT_COLUMNS,
    NOTIFY,
    RAISE_PRIORITY,
    REASSIGN,
    SUPERVISORS,
    TEAM_LEAD,
    CompiledPolicy,
    Facts,
    compile_policy,
    facts_from,
    first_match,
    needs_calendar_default,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
CHECK_BATCH_SIZE = 200

# Every field of the timers row but its key, for the bulk upsert on SQLite.
_ROW_FIELDS = tuple(f.name for f in ConversationSla._meta.concrete_fields if not f.primary_key)


# --- the policies in force ----------------------------------------------------------------


def active_policies() -> list[CompiledPolicy]:
    """The active policies in order, compiled; one query (two with a default calendar)."""
    rows = list(
        SlaPolicy.objects.filter(active=True).select_related("calendar").order_by("position", "id")
    )
    default = None
    if needs_calendar_default(rows):
        default = BusinessCalendar.objects.filter(is_default=True, active=True).first()
    return [compile_policy(row, default) for row in rows]


def policy_by_id(
    policies: Sequence[CompiledPolicy], policy_id: int | None
) -> CompiledPolicy | None:
    for policy in policies:
        if policy.id == policy_id:
            return policy
    return None


# --- one conversation -----------------------------------------------------------------------


def refresh_conversation(conversation_id: int) -> clock.Timers | None:
    """Bring one conversation's timers up to date after a change to it.

    Without any active policy, a conversation that never had timers costs one query more.
    """
    policies = active_policies()
    if not policies and not ConversationSla.objects.filter(pk=conversation_id).exists():
        return None
    with transaction.atomic():
        row = ConversationSla.objects.select_for_update().filter(pk=conversation_id).first()
        facts = None
        if row is None:
            if not policies:
                return None
            facts = _facts_of(conversation_id, policies, None)
            if facts is None:
                return None
            row = _first_row(facts)
        advanced = _advance_row(row, policies, now=None, facts=facts)
        if advanced is None:
            return None
        if advanced.late and advanced.policy is not None:
            conversation = _conversation(conversation_id)
            for item in advanced.late:
                _announce(conversation, advanced.policy, item, notify=())
        conversation_services.set_sla_due([advanced.due()])
    return advanced.timers


def _first_row(facts: Facts) -> ConversationSla:
    """A new timers row, stored and locked, so a racing reaction waits for this one."""
    timers = _new_timers(facts)
    ConversationSla.objects.bulk_create([_model_of(timers)], ignore_conflicts=True)
    return ConversationSla.objects.select_for_update().get(pk=facts.conversation_id)


def _facts_of(
    conversation_id: int, policies: Sequence[CompiledPolicy], row: ConversationSla | None
) -> Facts | None:
    values = Conversation.objects.filter(pk=conversation_id).values_list(*FACT_COLUMNS).first()
    if values is None:
        return None
    tags: frozenset[str] = frozenset()
    if any(policy.uses_tags for policy in policies):
        tags = frozenset(
            ConversationTag.objects.filter(conversation_id=conversation_id).values_list(
                "tag__name", flat=True
            )
        )
    mailbox_id = row.mailbox_id if row is not None else None
    if row is None and values[FACT_COLUMNS.index("channel")] == Channel.EMAIL:
        mailbox_id = mail_selectors.first_mailbox_ids([conversation_id]).get(conversation_id)
    return facts_from(values, tags=tags, mailbox_id=mailbox_id)


def _new_timers(facts: Facts) -> clock.Timers:
    return clock.Timers(
        conversation_id=facts.conversation_id,
        mailbox_id=facts.mailbox_id,
        first_response_applies=clock.first_response_applies(facts),
    )


def _timers_of(row: ConversationSla) -> clock.Timers:
    return clock.Timers(**{name: getattr(row, name) for name in clock.TIMER_ATTRS})


def _model_of(timers: clock.Timers) -> ConversationSla:
    values = {name: getattr(timers, name) for name in clock.TIMER_ATTRS}
    return ConversationSla(**values, updated_at=timezone.now())


def _status_changed_at(conversation_id: int) -> datetime | None:
    """When the status last changed: the audit trail has the time the change named."""
    found: datetime | None = (
        Event.objects.filter(
            object_type="conversation",
            object_id=conversation_id,
            action="conversation.status_changed",
        )
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    )
    return found


def _due(facts: Facts, summary: clock.Summary) -> conversation_services.SlaDue:
    return conversation_services.SlaDue(
        conversation_id=facts.conversation_id,
        due_at=summary.due_at,
        warning_at=summary.warning_at,
        breached=summary.breached,
        paused=summary.paused,
    )


def _conversation(conversation_id: int) -> Conversation:
    return Conversation.objects.select_related("team").get(pk=conversation_id)


# --- the audit trail and announcements --------------------------------------------------------


def _policy_event(
    conversation_id: int,
    *,
    policy: CompiledPolicy | None,
    action: str,
    data: dict[str, Any],
    at: datetime | None = None,
) -> Event:
    """An audit row on the conversation whose actor is the policy (by name: it is no user)."""
    label = policy.label if policy is not None else "system"
    return Event.objects.create(
        at=at or timezone.now(),
        actor=None,
        actor_label=label,
        via=Via.SYSTEM,
        action=action,
        object_type="conversation",
        object_id=conversation_id,
        data={"policy_id": policy.id if policy else None,
              "policy": policy.name if policy else "", **data},
    )  # fmt: skip


def _record_policy_change(
    facts: Facts,
    policy: CompiledPolicy | None,
    previous_id: int | None,
    policies: Sequence[CompiledPolicy],
) -> None:
    previous = policy_by_id(policies, previous_id)
    _policy_event(
        facts.conversation_id,
        policy=policy,
        action="sla.policy_applied",
        data={
            "previous_policy_id": previous_id,
            "previous_policy": previous.name if previous is not None else "",
        },
    )


def _audience(conversation: Conversation, notify: Iterable[int]) -> Audience:
    users = {conversation.assignee_id, conversation.owner_id, *notify}
    return Audience(
        user_ids=frozenset(u for u in users if u is not None),
        team_ids=frozenset({conversation.team_id} if conversation.team_id is not None else ()),
    )


def _announce(
    conversation: Conversation,
    policy: CompiledPolicy,
    found: clock.Recorded,
    *,
    notify: Sequence[int],
) -> None:
    """The audit row of a warning or breach, and its domain event on commit."""
    action = "sla.warning" if found.kind == clock.WARNING else "sla.breached"
    data: dict[str, Any] = {"target": found.target, "due_at": found.due_at.isoformat()}
    if found.met_at is not None:
        data["met_at"] = found.met_at.isoformat()
    _policy_event(conversation.pk, policy=policy, action=action, data=data, at=found.at)
    event_type: type[SlaEscalated] = SlaWarning if found.kind == clock.WARNING else SlaBreached
    publish(
        event_type(
            via=Via.SYSTEM,
            audience=_audience(conversation, notify),
            conversation_id=conversation.pk,
            number=conversation.number,
            policy_id=policy.id,
            policy_name=policy.name,
            target=found.target,
            due_at=found.due_at,
            met_at=found.met_at,
            notify_user_ids=tuple(sorted(set(notify))),
        )
    )


# --- the periodic check -----------------------------------------------------------------------


@dataclass
class CheckResult:
    conversations: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    failed: int = 0


def check_due(
    *, now: datetime | None = None, batch_size: int = CHECK_BATCH_SIZE, max_batches: int = 25
) -> CheckResult:
    """Record the warnings and breaches whose time has come, each once, and escalate.

    Walks the index on `next_check_at` in bounded batches; each conversation is settled in
    its own transaction under a lock on its timers, so a second run, or one racing a
    reaction, finds nothing left to record.
    """
    now = now or timezone.now()
    result = CheckResult()
    policies = active_policies()
    last_seen: tuple[datetime | None, int] | None = None
    for _ in range(max_batches):
        due = ConversationSla.objects.filter(next_check_at__lte=now)
        if last_seen is not None:
            moment, conversation_id = last_seen
            due = due.filter(next_check_at__gte=moment).exclude(
                next_check_at=moment, conversation_id__lte=conversation_id
            )
        batch = list(
            due.order_by("next_check_at", "conversation_id").values_list(
                "next_check_at", "conversation_id"
            )[:batch_size]
        )
        for moment, conversation_id in batch:
            try:
                _check_one(conversation_id, now=now, policies=policies, result=result)
            except Exception:
                # One conversation that cannot be settled must not hold up all the others.
                logger.exception("SLA check of conversation %s failed", conversation_id)
                result.failed += 1
            last_seen = (moment, conversation_id)
        if len(batch) < batch_size:
            break
    return result


def _check_one(
    conversation_id: int, *, now: datetime, policies: Sequence[CompiledPolicy], result: CheckResult
) -> None:
    with transaction.atomic():
        row = (
            ConversationSla.objects.select_for_update()
            .filter(pk=conversation_id, next_check_at__lte=now)
            .first()
        )
        if row is None:
            return
        result.conversations += 1
        # Fresh facts first: a change whose reaction has not run must not look like a breach.
        advanced = _advance_row(row, policies, now=now)
        if advanced is None:
            return
        policy = advanced.policy
        if policy is not None and (advanced.late or advanced.found):
            conversation = _conversation(conversation_id)
            for item in advanced.late:
                _announce(conversation, policy, item, notify=())
                result.breaches += 1
            _escalate_found(conversation, policy, advanced.found, result)
        conversation_services.set_sla_due([advanced.due()])


@dataclass(frozen=True)
class Advanced:
    """One row brought up to date: what to audit, and what the conversation row shows."""

    timers: clock.Timers
    facts: Facts
    policy: CompiledPolicy | None
    late: list[clock.Recorded]
    found: list[clock.Recorded]

    def due(self) -> conversation_services.SlaDue:
        return _due(self.facts, clock.summary(self.timers, self.facts, self.policy))


def _advance_row(
    row: ConversationSla,
    policies: Sequence[CompiledPolicy],
    *,
    now: datetime | None,
    facts: Facts | None = None,
) -> Advanced | None:
    """Bring a locked row up to date (and, given `now`, check it); save it if it changed and
    audit a policy change. None when the conversation is gone."""
    if facts is None:
        facts = _facts_of(row.pk, policies, row)
    if facts is None:
        return None
    timers = _timers_of(row)
    previous_policy_id = timers.policy_id
    policy = first_match(policies, facts)
    status_changed_at = None
    if (facts.status in clock.PAUSING_STATUSES) != (timers.paused_since is not None):
        status_changed_at = _status_changed_at(row.pk)
    before = timers.state()
    late = clock.advance(timers, facts, policy, status_changed_at=status_changed_at)
    found = clock.check_due(timers, now) if now is not None else []
    # Several events of one change each recompute; like the bulk refresh, write only a change.
    if timers.state() != before:
        for name in clock.TIMER_ATTRS:
            setattr(row, name, getattr(timers, name))
        row.updated_at = timezone.now()
        row.save()
    if previous_policy_id != timers.policy_id:
        _record_policy_change(facts, policy, previous_policy_id, policies)
    return Advanced(timers=timers, facts=facts, policy=policy, late=late, found=found)


def _escalate_found(
    conversation: Conversation,
    policy: CompiledPolicy,
    found: Sequence[clock.Recorded],
    result: CheckResult,
) -> None:
    breaching = any(item.kind == clock.BREACH for item in found)
    for item in found:
        # A warning and a breach found together (the check ran late): escalate the breach only.
        escalate = item.kind == clock.BREACH or not breaching
        actions = policy.breach_actions if item.kind == clock.BREACH else policy.warning_actions
        notify = _notify_ids(conversation, actions) if escalate else []
        _announce(conversation, policy, item, notify=notify)
        if item.kind == clock.BREACH:
            result.breaches += 1
        else:
            result.warnings += 1
        if escalate:
            result.escalations += _escalate(conversation, policy, item, actions, notify)


# --- escalation -------------------------------------------------------------------------------


def _notify_ids(conversation: Conversation, actions: Sequence[Mapping[str, Any]]) -> list[int]:
    """Who the notify actions name: the assignee, the team's lead, the team's supervisors."""
    wanted = {who for action in actions if action.get("type") == NOTIFY for who in action["to"]}
    found: set[int] = set()
    if ASSIGNEE in wanted and conversation.assignee_id is not None:
        found.add(conversation.assignee_id)
    team = conversation.team
    if TEAM_LEAD in wanted and team is not None and team.lead_id is not None:
        found.add(team.lead_id)
    if SUPERVISORS in wanted and team is not None:
        found.update(
            User.objects.filter(
                memberships__team_id=team.pk, role=Role.SUPERVISOR, is_active=True
            ).values_list("id", flat=True)
        )
    return sorted(found)


def _escalate(
    conversation: Conversation,
    policy: CompiledPolicy,
    found: clock.Recorded,
    actions: Sequence[Mapping[str, Any]],
    notify: Sequence[int],
) -> int:
    """Run the actions through the conversation services; each one audited with the policy."""
    done = 0
    stage = "breach" if found.kind == clock.BREACH else "warning"
    for action in actions:
        kind = action.get("type")
        detail: dict[str, Any] = {"stage": stage, "target": found.target, "action": kind}
        try:
            with transaction.atomic():
                if kind == NOTIFY:
                    detail["user_ids"] = list(notify)
                elif kind == RAISE_PRIORITY:
                    detail.update(_raise_priority(conversation, policy))
                elif kind == REASSIGN:
                    detail.update(_reassign(conversation, policy, action))
                else:
                    continue
                _policy_event(conversation.pk, policy=policy, action="sla.escalated", data=detail)
        except ServiceError as error:
            detail["error"] = str(error.detail)
            _policy_event(
                conversation.pk, policy=policy, action="sla.escalation_failed", data=detail
            )
            continue
        done += 1
    return done


def _cause(policy: CompiledPolicy) -> dict[str, Any]:
    return {"kind": "sla_policy", "id": policy.id, "name": policy.name}


def _raise_priority(conversation: Conversation, policy: CompiledPolicy) -> dict[str, Any]:
    current = Conversation.objects.values_list("priority", flat=True).get(pk=conversation.pk)
    raised = min(current + 1, max(Priority.values))
    if raised != current:
        conversation_services.set_priority(
            conversation, by=None, priority=raised, via=Via.SYSTEM, cause=_cause(policy)
        )
    return {"priority": raised, "previous_priority": current}


def _reassign(
    conversation: Conversation, policy: CompiledPolicy, action: Mapping[str, Any]
) -> dict[str, Any]:
    team_id = action.get("team_id")
    user_id = action.get("user_id")
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    user = User.objects.filter(pk=user_id).first() if user_id else None
    if team_id and team is None:
        raise ServiceError(f"team {team_id} no longer exists")
    if user_id and user is None:
        raise ServiceError(f"user {user_id} no longer exists")
    cause = _cause(policy)
    if team is not None:
        conversation_services.transfer(
            conversation, by=None, team=team, assignee=user, via=Via.SYSTEM, cause=cause
        )
    elif user is not None:
        conversation_services.assign(
            conversation, by=None, assignee=user, via=Via.SYSTEM, cause=cause
        )
    return {"team_id": team_id, "user_id": user_id}


# --- every open conversation ------------------------------------------------------------------


@dataclass
class RefreshResult:
    conversations: int = 0
    timers_written: int = 0
    conversations_changed: int = 0
    # Where the time went, in seconds: reading, the maths, writing timers, writing summaries.
    read_s: float = 0.0
    compute_s: float = 0.0
    write_timers_s: float = 0.0
    write_conversations_s: float = 0.0

    def rounded(self) -> RefreshResult:
        return RefreshResult(
            self.conversations, self.timers_written, self.conversations_changed,
            round(self.read_s, 3), round(self.compute_s, 3), round(self.write_timers_s, 3),
            round(self.write_conversations_s, 3),
        )  # fmt: skip


def refresh_open_conversations(*, batch_size: int = BATCH_SIZE) -> RefreshResult:
    """Recompute the timers of every open conversation (a policy or calendar changed).

    Per batch: one query reads the conversations, one their timers (both in binary on
    PostgreSQL, which parses the many timestamps several times faster than text), one
    their tags when a policy asks for them and one the mailboxes of new email
    conversations; the maths runs in memory; one statement writes the changed timers and
    one the changed summaries. The policies are locked per batch, so two of these runs do
    not interleave and an edit waits for the batch in progress. Per conversation only the
    state is written: the audit row is the policy or calendar change that caused this,
    and breaches found in bulk are left to the periodic check.
    """
    result = RefreshResult()
    last_id = 0
    while True:
        with transaction.atomic():
            list(SlaPolicy.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
            policies = active_policies()
            started = time.perf_counter()
            batch = _read_batch(after=last_id, size=batch_size)
            result.read_s += time.perf_counter() - started
            if not batch:
                break
            last_id = batch[-1][0]
            _refresh_batch(batch, policies, result)
            result.conversations += len(batch)
        if len(batch) < batch_size:
            break
    return result.rounded()


_NO_TAGS: frozenset[str] = frozenset()
# What a conversation without a summary row shows.
_NOTHING_SHOWN = (None, None, False, False)


def _read_batch(*, after: int, size: int) -> list[tuple[Any, ...]]:
    """The next open conversations by id: their facts."""
    return _rows(
        Conversation.objects.filter(status__in=sorted(ACTIVE_STATUSES), pk__gt=after)
        .order_by("pk")
        .values_list(*FACT_COLUMNS)[:size]
    )


def _read_shown(first: int, last: int) -> dict[int, tuple[Any, ...]]:
    """The summaries shown now for conversation ids in [first, last], so only those that
    change are written; one index range, like the timers."""
    rows = _rows(
        ConversationDue.objects.filter(pk__gte=first, pk__lte=last).values_list(
            "conversation_id", "due_at", "warning_at", "breached", "paused"
        )
    )
    return {values[0]: values[1:] for values in rows}


def _read_timers(first: int, last: int) -> dict[int, clock.Timers]:
    """The timers of the conversations with ids in [first, last]: one index range (a join
    would walk the timers' index from its start on every batch)."""
    rows = _rows(
        ConversationSla.objects.filter(pk__gte=first, pk__lte=last).values_list(*clock.TIMER_ATTRS)
    )
    return {values[0]: clock.Timers(*values) for values in rows}


def _rows(query: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    if connection.vendor != "postgresql":
        return list(query)
    sql, params = query.query.sql_with_params()
    connection.ensure_connection()
    # A plain psycopg cursor: Django's binds on the client, which cannot ask for binary
    # results, and binary parses the many timestamps several times faster than text.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        return cursor.fetchall()


def _refresh_batch(
    batch: Sequence[tuple[Any, ...]], policies: Sequence[CompiledPolicy], result: RefreshResult
) -> None:
    started = time.perf_counter()
    ids = [values[0] for values in batch]
    stored = _read_timers(ids[0], ids[-1])
    if not policies and not stored:
        return
    shown_now = _read_shown(ids[0], ids[-1])
    tags = _tags(ids[0], ids[-1]) if any(policy.uses_tags for policy in policies) else {}
    channel = FACT_COLUMNS.index("channel")
    new_email = [v[0] for v in batch if v[0] not in stored and v[channel] == Channel.EMAIL]
    mailboxes = mail_selectors.first_mailbox_ids(new_email) if new_email else {}
    computing = time.perf_counter()
    result.read_s += computing - started
    changed: list[clock.Timers] = []
    dues: list[conversation_services.SlaDue] = []
    for values in batch:
        conversation_id = values[0]
        timers = stored.get(conversation_id)
        facts = facts_from(
            values,
            tags=tags.get(conversation_id, _NO_TAGS),
            mailbox_id=timers.mailbox_id if timers is not None else mailboxes.get(conversation_id),
        )
        before = timers.state() if timers is not None else None
        if timers is None:
            timers = _new_timers(facts)
        policy = first_match(policies, facts)
        clock.advance(timers, facts, policy, status_changed_at=None)
        if before != timers.state():
            changed.append(timers)
        shown = clock.summary(timers, facts, policy)
        now_shown = (shown.due_at, shown.warning_at, shown.breached, shown.paused)
        if shown_now.get(conversation_id, _NOTHING_SHOWN) != now_shown:
            dues.append(_due(facts, shown))
    writing = time.perf_counter()
    result.compute_s += writing - computing
    _write_timers(changed)
    summaries = time.perf_counter()
    result.write_timers_s += summaries - writing
    result.timers_written += len(changed)
    result.conversations_changed += conversation_services.set_sla_due(dues)
    result.write_conversations_s += time.perf_counter() - summaries


def _tags(first: int, last: int) -> dict[int, frozenset[str]]:
    """Tag names by conversation, ids in [first, last]: a range on the (conversation, tag)
    index rather than a list of thousands of ids."""
    found: dict[int, set[str]] = defaultdict(set)
    rows = _rows(
        ConversationTag.objects.filter(
            conversation_id__gte=first, conversation_id__lte=last
        ).values_list("conversation_id", "tag__name")
    )
    for conversation_id, name in rows:
        found[conversation_id].add(name)
    return {conversation_id: frozenset(names) for conversation_id, names in found.items()}


def _write_timers(changed: Sequence[clock.Timers]) -> None:
    if not changed:
        return
    if connection.vendor == "postgresql":
        _upsert_in_one_statement(changed)
        return
    ConversationSla.objects.bulk_create(
        [_model_of(timers) for timers in changed],
        update_conflicts=True,
        unique_fields=["conversation"],
        update_fields=list(_ROW_FIELDS),
    )


def _upsert_in_one_statement(changed: Sequence[clock.Timers]) -> None:
    """INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO UPDATE: one array a column."""
    meta = ConversationSla._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    names = [*clock.TIMER_ATTRS, "updated_at"]
    columns = [str(by_attname[name].column) for name in names]
    types = [str(by_attname[name].db_type(connection)) for name in names]
    now = timezone.now()
    arrays: list[list[Any]] = [[getattr(t, name) for t in changed] for name in clock.TIMER_ATTRS]
    arrays.append([now] * len(changed))
    # Binary parameters: text would format and escape every one of the values in Python.
    selects = ", ".join(f"%b::{db_type}[]" for db_type in types)
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns[1:])
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"INSERT INTO {meta.db_table} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT * FROM unnest({selects}) "
            f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}",
            arrays,
        )
