"""Time rules: business days and hours on the office calendar, fired once per state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core import mail

from frontdesk.automation import services as automation
from frontdesk.automation.models import TimeRule, TimeRuleRun
from frontdesk.automation.tasks import run_time_rules as scheduled_job
from frontdesk.automation.timerules import TIME_RULE_FIRED, add_business_days, run_time_rules
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, Message, MessageKind
from frontdesk.core.models import Via
from frontdesk.core.scheduling import get_job
from frontdesk.sla.models import BusinessCalendar
from frontdesk.sla.schedules import schedule_for_calendar
from tests.automation.conftest import Live, Open, events_of, fresh
from tests.conftest import Personas

# Prague is UTC+1 in early March 2025; 2025-02-28 is a Friday.
FRIDAY_15 = datetime(2025, 2, 28, 14, 0, tzinfo=UTC)
MONDAY_11 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
TUESDAY_16 = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)
WEDNESDAY_15 = datetime(2025, 3, 5, 14, 0, tzinfo=UTC)

REMINDER = [
    {
        "type": "email_customer",
        "subject": "Still need help?",
        "text": "Hello {{ customer.first_name }}, we are waiting for your answer on "
        "#{{ conversation.number }}.",
    },
]


def pending_since(open_conversation: Open, people: Personas, at: datetime) -> Conversation:
    conversation = open_conversation(at=at - timedelta(hours=1))
    services.add_reply(
        conversation, by=people.agent, text="Which order?", status="pending", via=Via.WEB, at=at
    )
    return conversation


def reminder_rule(people: Personas, **extra: Any) -> TimeRule:
    values: dict[str, Any] = {
        "name": "Remind after 3 business days",
        "amount": 3,
        "unit": "days",
        "basis": "business",
        "conditions": {"all": [{"field": "status", "op": "is", "value": ["pending"]}]},
        "actions": REMINDER,
        **extra,
    }
    return automation.create_time_rule(by=people.admin, **values)


def test_business_days_skip_the_weekend_and_keep_the_wall_time(office: BusinessCalendar) -> None:
    schedule = schedule_for_calendar(office)
    assert add_business_days(schedule, FRIDAY_15, 3) == WEDNESDAY_15
    assert add_business_days(schedule, FRIDAY_15, 1) == MONDAY_11 + timedelta(hours=4)


def test_pending_for_three_business_days_reminds_the_customer_once(
    people: Personas, office: BusinessCalendar, open_conversation: Open, live: Live
) -> None:
    rule = reminder_rule(people)
    conversation = pending_since(open_conversation, people, FRIDAY_15)
    mail.outbox.clear()
    with live():
        assert run_time_rules(now=TUESDAY_16).fired == 0
    assert mail.outbox == []
    with live():
        assert run_time_rules(now=WEDNESDAY_15 + timedelta(minutes=1)).fired == 1
    (reminder,) = mail.outbox
    number = fresh(conversation).number
    assert reminder.to == ["jana@acme.example"]
    assert reminder.body == f"Hello Jana, we are waiting for your answer on #{number}."
    (fired,) = events_of(conversation, TIME_RULE_FIRED)
    assert fired.data["cause"]["id"] == rule.pk
    assert fired.data["anchor_at"] == FRIDAY_15.isoformat()
    # The scheduler runs again and again: nothing more for this state.
    for minutes in (5, 10, 60 * 24):
        with live():
            assert run_time_rules(now=WEDNESDAY_15 + timedelta(minutes=minutes)).fired == 0
    assert len(mail.outbox) == 1
    assert TimeRuleRun.objects.filter(rule=rule, conversation=conversation).count() == 1


def test_a_new_state_fires_the_rule_again(
    people: Personas, office: BusinessCalendar, open_conversation: Open, live: Live
) -> None:
    reminder_rule(people)
    conversation = pending_since(open_conversation, people, FRIDAY_15)
    with live():
        run_time_rules(now=WEDNESDAY_15 + timedelta(minutes=1))
    services.add_customer_message(
        conversation, by=None, text="Order 77", via=Via.EMAIL, at=WEDNESDAY_15 + timedelta(hours=1)
    )
    services.add_reply(
        conversation,
        by=people.agent,
        text="Thanks, and the date?",
        status="pending",
        via=Via.WEB,
        at=WEDNESDAY_15 + timedelta(hours=2),
    )
    mail.outbox.clear()
    with live():
        assert run_time_rules(now=WEDNESDAY_15 + timedelta(days=1)).fired == 0
        # Wednesday 17:00 plus three business days is Monday 17:00.
        assert run_time_rules(now=datetime(2025, 3, 10, 16, 1, tzinfo=UTC)).fired == 1
    assert len(mail.outbox) == 1
    assert len(events_of(conversation, TIME_RULE_FIRED)) == 2


def test_business_hours_count_only_open_time(
    people: Personas, office: BusinessCalendar, open_conversation: Open, live: Live
) -> None:
    reminder_rule(people, name="4 business hours", amount=4, unit="hours")
    pending_since(open_conversation, people, FRIDAY_15)
    with live():
        # Friday 15-17 is two hours; Monday 09-11 the other two.
        assert run_time_rules(now=MONDAY_11 - timedelta(minutes=1)).fired == 0
        assert run_time_rules(now=MONDAY_11).fired == 1


def test_seven_calendar_days_pending_solves_with_a_note(
    people: Personas, office: BusinessCalendar, open_conversation: Open, live: Live
) -> None:
    automation.create_time_rule(
        by=people.admin,
        name="Close the silent ones",
        amount=7,
        unit="days",
        basis="calendar",
        conditions={"all": [{"field": "status", "op": "is", "value": ["pending"]}]},
        actions=[
            {"type": "add_note", "text": "No answer for a week: solved."},
            {"type": "set_status", "value": "solved"},
        ],
    )
    conversation = pending_since(open_conversation, people, FRIDAY_15)
    with live():
        assert run_time_rules(now=FRIDAY_15 + timedelta(days=7, seconds=-1)).fired == 0
        assert run_time_rules(now=FRIDAY_15 + timedelta(days=7)).fired == 1
        assert run_time_rules(now=FRIDAY_15 + timedelta(days=8)).fired == 0
    assert fresh(conversation).status == "solved"
    notes = Message.objects.filter(conversation=conversation, kind=MessageKind.NOTE)
    assert [n.text for n in notes] == ["No answer for a week: solved."]
    status_row = events_of(conversation, "conversation.status_changed")[-1]
    assert status_row.data["cause"]["name"] == "Close the silent ones"


def test_a_run_is_bounded_and_the_next_run_goes_on(
    people: Personas, office: BusinessCalendar, open_conversation: Open, live: Live
) -> None:
    reminder_rule(people, amount=1, unit="hours", basis="calendar")
    for _ in range(5):
        pending_since(open_conversation, people, FRIDAY_15)
    with live():
        assert run_time_rules(now=WEDNESDAY_15, batch=2).fired == 2
        assert run_time_rules(now=WEDNESDAY_15, batch=2).fired == 2
        assert run_time_rules(now=WEDNESDAY_15, batch=2).fired == 1
        assert run_time_rules(now=WEDNESDAY_15, batch=2).fired == 0
    assert TimeRuleRun.objects.count() == 5


def test_the_job_is_registered_with_the_scheduler(people: Personas) -> None:
    spec = get_job("automation_time_rules")
    assert spec.func is scheduled_job
    assert spec.every <= timedelta(minutes=10)
    assert scheduled_job() == {"fired": 0, "failed": 0}
