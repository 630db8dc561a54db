"""SLA timers through the conversation services: business and calendar time, pauses, next
responses, policies changing mid-conversation, DST, and the periodic check's warnings,
breaches and escalations (each recorded once, naming the policy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from frontdesk.accounts.models import Team
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, ConversationDue, Priority, Status
from frontdesk.core.models import Event
from frontdesk.sla import timers
from frontdesk.sla.events import SlaBreached, SlaEscalated, SlaWarning
from frontdesk.sla.models import BusinessCalendar, ConversationSla, TimeBasis
from frontdesk.sla.services import update_policy
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.events import collected
from tests.sla.conftest import Live, MakePolicy, targets

PRAGUE = ZoneInfo("Europe/Prague")
# Monday 2 March 2026, 09:00 in Prague (CET, UTC+1).
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=PRAGUE)


def prague(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PRAGUE)


def sla_of(conversation: Conversation) -> ConversationSla:
    return ConversationSla.objects.get(pk=conversation.pk)


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)


def shown(conversation: Conversation) -> ConversationDue:
    """The SLA summary the conversation shows: an empty one (unsaved) when it has no row."""
    found = ConversationDue.objects.filter(pk=conversation.pk).first()
    return found or ConversationDue(conversation_id=conversation.pk)


def sla_events(conversation: Conversation, action: str) -> list[Event]:
    return list(
        Event.objects.filter(
            object_type="conversation", object_id=conversation.pk, action=action
        ).order_by("at", "id")
    )


# --- business and calendar time -------------------------------------------------------------


def test_business_targets_skip_closed_hours_and_calendar_targets_do_not(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    make_policy("Email", conditions={"channels": ["email"]},
                targets=[targets(first=120, resolution=16 * 60)])  # fmt: skip
    make_policy("Chat", conditions={"channels": ["chat"]}, time_basis=TimeBasis.CALENDAR,
                targets=[targets(first=120, resolution=16 * 60)])  # fmt: skip

    with live():
        mail = open_conversation(people.customer, team=people.orders, at=prague(2, 16))
        chat = open_conversation(people.customer, team=people.orders, at=prague(2, 16),
                                 channel="chat")  # fmt: skip

    # Monday 16:00 + 2 business hours: one hour on Monday, one on Tuesday from 09:00.
    assert sla_of(mail).first_response_due_at == prague(3, 10)
    assert sla_of(mail).resolution_due_at == prague(4, 16)
    assert shown(mail).due_at == prague(3, 10)
    # Calendar time runs through the night.
    assert sla_of(chat).first_response_due_at == prague(2, 18)
    assert sla_of(chat).resolution_due_at == prague(3, 8)
    # Warnings at 75 % of the target, in the same time.
    assert sla_of(mail).first_response_warn_at == prague(3, 9, 30)
    assert shown(chat).warning_at == prague(2, 17, 30)


def test_a_policy_without_a_calendar_counts_on_the_default_one(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    policy = make_policy(targets=[targets(first=60)])
    assert policy.calendar_id is None

    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=prague(6, 16, 30))

    # Friday 16:30 + 1 business hour: 30 minutes on Friday, 30 on Monday.
    assert sla_of(conversation).first_response_due_at == prague(9, 9, 30)


def test_the_first_reply_meets_the_first_response_target(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    make_policy(targets=[targets(first=60, resolution=8 * 60)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    with live():
        services.add_note(conversation, by=people.agent, text="Looking", at=prague(2, 9, 20))
    assert sla_of(conversation).first_response_met_at is None

    with live():
        services.add_reply(conversation, by=people.agent, text="On it", at=prague(2, 9, 40))

    timers_row = sla_of(conversation)
    assert timers_row.first_response_met_at == prague(2, 9, 40)
    assert timers_row.first_response_breached_at is None
    # What is left running is the resolution.
    assert shown(conversation).due_at == prague(2, 17)


def test_an_agent_opened_conversation_waits_for_no_first_response(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    make_policy(targets=[targets(first=60, following=30)])
    with live():
        conversation = services.create_conversation(
            by=people.agent, customer=people.customer, subject="Your refund", channel="email",
            text="We refunded you.", kind="reply", team=people.orders, at=MONDAY_9,
        )  # fmt: skip

    timers_row = sla_of(conversation)
    assert not timers_row.first_response_applies
    assert timers_row.first_response_due_at is None
    assert shown(conversation).due_at is None

    with live():
        services.add_customer_message(conversation, by=None, text="Thanks!", at=prague(2, 11))
    assert sla_of(conversation).next_response_due_at == prague(2, 11, 30)


# --- pauses -------------------------------------------------------------------------------------


def test_pending_pauses_the_clock_and_the_customer_reply_resumes_it(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    make_policy(targets=[targets(first=60, following=60, resolution=8 * 60)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    with live():
        services.add_reply(conversation, by=people.agent, text="Which order?",
                           status=Status.PENDING, at=prague(2, 10))  # fmt: skip

    paused = shown(conversation)
    assert paused.paused
    assert paused.due_at is None
    assert sla_of(conversation).paused_since == prague(2, 10)
    assert sla_of(conversation).resolution_due_at is None

    with live():
        services.add_customer_message(conversation, by=None, text="Order 1042",
                                      at=prague(3, 10))  # fmt: skip

    resumed = sla_of(conversation)
    assert fresh(conversation).status == Status.OPEN
    assert not shown(conversation).paused
    assert resumed.paused_since is None
    # Monday 10-17 and Tuesday 09-10 were paused: eight business hours.
    assert resumed.paused_business_s == 8 * 3600
    # Resolution: eight business hours of work, plus the eight paused ones.
    assert resumed.resolution_due_at == prague(3, 17)
    # The customer's message waits for an answer within the hour.
    assert resumed.next_response_due_at == prague(3, 11)
    assert shown(conversation).due_at == prague(3, 11)


def test_on_hold_set_by_an_agent_pauses_and_reopening_resumes(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    make_policy(targets=[targets(resolution=4 * 60)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    with live():
        services.set_status(conversation, by=people.agent, status=Status.ON_HOLD,
                            at=prague(2, 10))  # fmt: skip
    with live():
        services.set_status(conversation, by=people.agent, status=Status.OPEN,
                            at=prague(2, 12))  # fmt: skip

    # Two hours on hold push the 13:00 resolution to 15:00.
    assert sla_of(conversation).resolution_due_at == prague(2, 15)


def test_solving_meets_the_resolution_and_stops_every_clock(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    make_policy(targets=[targets(first=60, resolution=4 * 60)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    with live():
        services.add_reply(conversation, by=people.agent, text="Done", status=Status.SOLVED,
                           at=prague(2, 10))  # fmt: skip

    timers_row = sla_of(conversation)
    assert timers_row.resolution_met_at == prague(2, 10)
    assert timers_row.next_check_at is None
    solved = shown(conversation)
    assert solved.due_at is None and not solved.paused


# --- next response ------------------------------------------------------------------------------


def test_every_customer_message_must_be_answered_within_the_next_response_target(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    make_policy(targets=[targets(first=60, following=30)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    with live():
        services.add_reply(conversation, by=people.agent, text="Hello", at=prague(2, 9, 10))
    assert sla_of(conversation).next_response_started_at is None
    assert shown(conversation).due_at is None

    with live():
        services.add_customer_message(conversation, by=None, text="Any news?", at=prague(2, 11))
    with live():
        services.add_customer_message(conversation, by=None, text="Hello??", at=prague(2, 11, 20))
    first_cycle = sla_of(conversation)
    # Counted from the first message still waiting for an answer.
    assert first_cycle.next_response_started_at == prague(2, 11)
    assert first_cycle.next_response_due_at == prague(2, 11, 30)
    assert shown(conversation).due_at == prague(2, 11, 30)

    with live():
        services.add_reply(conversation, by=people.agent, text="Shipped", at=prague(2, 11, 25))
    answered = sla_of(conversation)
    assert answered.next_response_met_at == prague(2, 11, 25)
    assert answered.next_response_breached_at is None
    assert shown(conversation).due_at is None

    with live():
        services.add_customer_message(conversation, by=None, text="Arrived, broken",
                                      at=prague(2, 14))  # fmt: skip
    second_cycle = sla_of(conversation)
    assert second_cycle.next_response_started_at == prague(2, 14)
    assert second_cycle.next_response_due_at == prague(2, 14, 30)
    assert second_cycle.next_response_met_at is None


def test_a_reply_after_the_due_time_is_recorded_as_a_breach_when_it_comes(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    policy = make_policy(targets=[targets(first=60)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    with collected(SlaBreached) as announced, live():
        services.add_reply(conversation, by=people.agent, text="Sorry", at=prague(2, 11))

    assert sla_of(conversation).first_response_breached_at == prague(2, 10)
    assert shown(conversation).breached
    [breach] = sla_events(conversation, "sla.breached")
    assert breach.actor_label == f"SLA policy {policy.name}"
    assert breach.data["target"] == "first_response"
    assert breach.data["met_at"] == prague(2, 11).astimezone(UTC).isoformat()
    [event] = announced
    assert isinstance(event, SlaBreached)
    assert event.met_at == prague(2, 11)


# --- policies changing ----------------------------------------------------------------------


def test_raising_the_priority_applies_the_stricter_policy_and_recomputes(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    urgent = make_policy("Urgent", conditions={"priorities": [Priority.URGENT]},
                         targets=[targets(Priority.URGENT, first=30)])  # fmt: skip
    standard = make_policy("Standard", targets=[targets(first=4 * 60)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    assert sla_of(conversation).policy_id == standard.pk
    assert shown(conversation).due_at == prague(2, 13)

    with live():
        services.set_priority(conversation, by=people.agent, priority=Priority.URGENT,
                              at=prague(2, 9, 10))  # fmt: skip

    assert sla_of(conversation).policy_id == urgent.pk
    assert shown(conversation).due_at == prague(2, 9, 30)
    applied = sla_events(conversation, "sla.policy_applied")
    assert [e.data["policy"] for e in applied] == ["Standard", "Urgent"]
    assert applied[-1].data["previous_policy"] == "Standard"
    assert applied[-1].actor_label == "SLA policy Urgent"


def test_editing_a_policy_recomputes_the_open_conversations_in_bulk(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    policy = make_policy(targets=[targets(first=60)])
    with live():
        first = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
        second = open_conversation(people.other_customer, team=people.billing, at=prague(2, 10))
        solved = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    with live():
        services.add_reply(solved, by=people.agent, text="Done", status=Status.SOLVED,
                           at=prague(2, 9, 30))  # fmt: skip

    with collected() as announced, live():
        update_policy(policy, by=people.admin, targets=[targets(first=120)])
    # The edit asks for a recount in the background rather than doing it in the request.
    assert any(type(e).__name__ == "SlaPolicyChanged" for e in announced)
    assert shown(first).due_at == prague(2, 10)

    result = timers.refresh_open_conversations(batch_size=1)

    assert result.conversations == 2
    assert shown(first).due_at == prague(2, 11)
    assert shown(second).due_at == prague(2, 12)
    # A met target keeps the due time it had.
    assert sla_of(solved).first_response_due_at == prague(2, 10)
    # A second run changes nothing.
    assert timers.refresh_open_conversations().timers_written == 0


def test_bulk_recount_gives_the_same_timers_as_one_by_one(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    conversations = [
        open_conversation(people.customer, team=people.orders, at=prague(2, 9 + i))
        for i in range(4)
    ]
    services.add_reply(conversations[1], by=people.agent, text="Hi", at=prague(2, 11))
    services.add_customer_message(conversations[1], by=None, text="?", at=prague(2, 12))
    services.set_status(conversations[2], by=people.agent, status=Status.ON_HOLD,
                        at=prague(2, 12))  # fmt: skip
    # Policies added afterwards: nothing has timers yet, the bulk recount makes them.
    make_policy(targets=[targets(first=60, following=30, resolution=8 * 60)])
    assert not ConversationSla.objects.exists()
    timers.refresh_open_conversations()
    bulk = {c.pk: (sla_of(c).first_response_due_at, shown(c).due_at) for c in conversations}

    ConversationSla.objects.all().delete()
    for conversation in conversations:
        timers.refresh_conversation(conversation.pk)
    single = {c.pk: (sla_of(c).first_response_due_at, shown(c).due_at) for c in conversations}

    assert bulk == single
    assert shown(conversations[2]).paused


def test_daylight_saving_time_between_start_and_due(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    make_policy("Business", conditions={"channels": ["email"]}, targets=[targets(first=120)])
    make_policy("Around the clock", conditions={"channels": ["chat"]},
                time_basis=TimeBasis.CALENDAR, targets=[targets(first=24 * 60)])  # fmt: skip
    with live():
        # Friday 27 March 16:00 CET; the clocks go forward early on Sunday 29 March.
        mail = open_conversation(people.customer, team=people.orders, at=prague(27, 16))
        # Saturday 28 March 12:00 CET.
        chat = open_conversation(people.customer, team=people.orders, at=prague(28, 12),
                                 channel="chat")  # fmt: skip

    # One business hour on Friday, one on Monday from 09:00 CEST (07:00 UTC).
    assert sla_of(mail).first_response_due_at == prague(30, 10)
    assert sla_of(mail).first_response_due_at == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    # Twenty-four real hours later the wall clock reads 13:00: an hour was skipped.
    due = sla_of(chat).first_response_due_at
    assert due is not None
    assert due == datetime(2026, 3, 29, 11, 0, tzinfo=UTC)
    assert due.astimezone(PRAGUE).hour == 13


# --- the periodic check ----------------------------------------------------------------------


def test_warning_and_breach_are_recorded_once_when_the_check_runs_twice(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    policy = make_policy(targets=[targets(first=60)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)

    with collected(SlaEscalated) as announced, live():
        assert timers.check_due(now=prague(2, 9, 30)).warnings == 0
        first = timers.check_due(now=prague(2, 9, 50))
        second = timers.check_due(now=prague(2, 9, 50))
    assert (first.warnings, second.warnings) == (1, 0)
    assert shown(conversation).warning_at == prague(2, 9, 45)
    assert not shown(conversation).breached

    with collected(SlaEscalated) as breached, live():
        assert timers.check_due(now=prague(2, 10, 5)).breaches == 1
        assert timers.check_due(now=prague(2, 10, 6)).breaches == 0

    [warning] = sla_events(conversation, "sla.warning")
    [breach] = sla_events(conversation, "sla.breached")
    assert warning.at == prague(2, 9, 45) and breach.at == prague(2, 10)
    assert warning.actor_id is None and warning.actor_label == f"SLA policy {policy.name}"
    assert warning.data == {
        "policy_id": policy.pk, "policy": policy.name, "target": "first_response",
        "due_at": prague(2, 10).astimezone(UTC).isoformat(),
    }  # fmt: skip
    assert [type(e) for e in announced] == [SlaWarning]
    assert [type(e) for e in breached] == [SlaBreached]
    event = breached[0]
    assert isinstance(event, SlaBreached)
    assert event.number == conversation.number and event.policy_id == policy.pk
    assert event.audience.team_ids == {people.orders.pk}
    assert event.audience.customer_id is None
    assert shown(conversation).breached
    assert sla_of(conversation).next_check_at is None


def test_a_late_check_records_both_warning_and_breach_but_escalates_the_breach_only(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    make_policy(
        targets=[targets(first=60)],
        warning_actions=[{"type": "raise_priority"}],
        breach_actions=[{"type": "notify", "to": ["assignee"]}],
    )
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9,
                                         assignee=people.agent)  # fmt: skip
    with live():
        result = timers.check_due(now=prague(2, 12))

    assert (result.warnings, result.breaches, result.escalations) == (1, 1, 1)
    assert fresh(conversation).priority == Priority.NORMAL
    [escalated] = sla_events(conversation, "sla.escalated")
    assert escalated.data["stage"] == "breach"


def test_breach_escalation_notifies_reassigns_and_raises_priority_naming_the_policy(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    people.orders.lead = people.colleague
    people.orders.save()
    policy = make_policy(
        targets=[targets(first=60)],
        breach_actions=[
            {"type": "notify", "to": ["assignee", "team_lead", "supervisors"]},
            {"type": "reassign", "user_id": people.colleague.pk},
            {"type": "raise_priority"},
        ],
    )
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9,
                                         assignee=people.agent)  # fmt: skip

    with collected(SlaBreached) as announced, live():
        result = timers.check_due(now=prague(2, 10, 1))

    assert result.escalations == 3
    changed = fresh(conversation)
    assert changed.assignee_id == people.colleague.pk
    assert changed.priority == Priority.HIGH
    # Whom to notify is told to whoever listens (and to those people's open pages).
    [event] = announced
    assert isinstance(event, SlaBreached)
    assert set(event.notify_user_ids) == {people.agent.pk, people.colleague.pk,
                                          people.supervisor.pk}  # fmt: skip
    assert set(event.notify_user_ids) <= event.audience.user_ids
    escalated = sla_events(conversation, "sla.escalated")
    assert [e.data["action"] for e in escalated] == ["notify", "reassign", "raise_priority"]
    assert all(e.actor_label == f"SLA policy {policy.name}" for e in escalated)
    assert all(e.data["policy_id"] == policy.pk and e.data["stage"] == "breach"
               for e in escalated)  # fmt: skip
    assert escalated[2].data["previous_priority"] == Priority.NORMAL
    # The changes themselves are audited as the policy's doing, through the services.
    [priority_change] = sla_events(conversation, "conversation.priority_changed")
    assert priority_change.data["cause"]["name"] == policy.name
    assignments = sla_events(conversation, "conversation.assigned")
    assert assignments[-1].data["assignee_id"] == people.colleague.pk


def test_warning_escalation_transfers_to_another_team(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    policy = make_policy(
        targets=[targets(first=60)],
        warning_actions=[{"type": "reassign", "team_id": people.billing.pk}],
    )
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9,
                                         assignee=people.agent)  # fmt: skip
    with live():
        timers.check_due(now=prague(2, 9, 46))

    moved = fresh(conversation)
    assert moved.team_id == people.billing.pk
    # A transfer: the agent who had it keeps following it.
    assert moved.owner_id == people.agent.pk
    [escalated] = sla_events(conversation, "sla.escalated")
    assert escalated.data["team_id"] == people.billing.pk
    [transferred] = sla_events(conversation, "conversation.transferred")
    assert transferred.data["cause"]["name"] == policy.name


def test_an_escalation_that_is_refused_is_recorded_and_the_others_still_run(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    make_policy(
        targets=[targets(first=60)],
        breach_actions=[
            {"type": "reassign", "user_id": people.other_agent.pk},
            {"type": "raise_priority"},
        ],
    )
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    with live():
        result = timers.check_due(now=prague(2, 10, 1))

    assert result.escalations == 1
    [failed] = sla_events(conversation, "sla.escalation_failed")
    assert failed.data["action"] == "reassign" and failed.data["error"]
    assert fresh(conversation).assignee_id is None
    assert fresh(conversation).priority == Priority.HIGH


def test_the_check_does_not_breach_a_conversation_answered_meanwhile(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    make_policy(targets=[targets(first=60)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    # Answered in time, but its reaction never ran (the process died after the commit).
    services.add_reply(conversation, by=people.agent, text="Hi", at=prague(2, 9, 50))

    with live():
        result = timers.check_due(now=prague(2, 11))

    assert result.breaches == 0
    assert not sla_events(conversation, "sla.breached")
    assert sla_of(conversation).first_response_met_at == prague(2, 9, 50)


# --- cost ---------------------------------------------------------------------------------------


def test_recomputing_one_conversation_takes_a_few_queries(
    people: Personas,
    office: BusinessCalendar,
    make_policy: MakePolicy,
    live: Live,
    django_assert_max_num_queries: Any,
) -> None:
    make_policy("VIP", conditions={"tags": ["vip"]}, targets=[targets(first=15)])
    make_policy(targets=[targets(first=60, following=30, resolution=480)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    with live():
        services.add_reply(conversation, by=people.agent, text="Hi", at=prague(2, 9, 10))
    services.add_customer_message(conversation, by=None, text="?", at=prague(2, 10))

    # Policies with their calendar, the default calendar, the timers row locked, the
    # conversation, its tags, the row saved, the summary written (and its savepoint).
    with django_assert_max_num_queries(9):
        timers.refresh_conversation(conversation.pk)

    assert shown(conversation).due_at == prague(2, 10, 30)


def test_without_policies_a_conversation_costs_two_queries_and_gets_no_timers(
    people: Personas, live: Live, django_assert_max_num_queries: Any
) -> None:
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    with django_assert_max_num_queries(2):
        timers.refresh_conversation(conversation.pk)
    assert not ConversationSla.objects.exists()
    assert shown(conversation).due_at is None


@pytest.mark.parametrize("moved", ["team", "tags"])
def test_moving_a_conversation_into_a_policy_s_conditions_applies_it(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live, moved: str
) -> None:
    conditions = {"team_ids": [people.billing.pk]} if moved == "team" else {"tags": ["vip"]}
    vip = make_policy("Special", conditions=conditions, targets=[targets(first=15)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=MONDAY_9)
    assert sla_of(conversation).policy_id is None

    with live():
        if moved == "team":
            billing = Team.objects.get(pk=people.billing.pk)
            services.set_team(conversation, by=people.admin, team=billing, at=prague(2, 9, 5))
        else:
            services.add_tags(conversation, by=people.agent, tags=["VIP"], at=prague(2, 9, 5))

    assert sla_of(conversation).policy_id == vip.pk
    assert shown(conversation).due_at == MONDAY_9 + timedelta(minutes=15)
