"""Conditions: each field, ALL/ANY groups, business hours, and Python and SQL agreeing."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest

from frontdesk.automation import matching, rules
from frontdesk.automation.engine import run_triggers
from frontdesk.automation.selectors import dry_run, facts_of
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, CustomFieldDefinition, Priority
from frontdesk.core.errors import InvalidInput
from frontdesk.core.models import Via
from frontdesk.sla.models import BusinessCalendar
from frontdesk.sla.services import create_calendar
from tests.automation.conftest import MakeTrigger, Open, tags_of
from tests.conftest import Personas

# 2025-03-03 is a Monday; Prague is UTC+1 then.
MONDAY_10_PRAGUE = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
MONDAY_20_PRAGUE = datetime(2025, 3, 3, 19, 0, tzinfo=UTC)
SATURDAY_10_PRAGUE = datetime(2025, 3, 8, 9, 0, tzinfo=UTC)


def cond(field: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


def matches(conversation: Conversation, conditions: dict[str, Any], now: datetime) -> bool:
    """Python's answer, checked against SQL's (when SQL can decide all of it)."""
    cleaned = rules.clean_conditions(conditions)
    facts = facts_of(conversation.pk, message_id=None, now=now)
    assert facts is not None
    in_python = matching.holds(cleaned, facts)
    if not matching.needs_python(cleaned):
        in_sql = Conversation.objects.filter(matching.as_q(cleaned), pk=conversation.pk).exists()
        assert in_python == in_sql, conditions
    return in_python


@pytest.fixture
def conversation(people: Personas, open_conversation: Open) -> Conversation:
    CustomFieldDefinition.objects.create(key="order", label="Order", kind="text")
    CustomFieldDefinition.objects.create(key="amount", label="Amount", kind="number")
    CustomFieldDefinition.objects.create(key="gift", label="Gift", kind="checkbox")
    conv = open_conversation(
        "Refund for my broken kettle",
        tags=["vip", "kettle"],
        language="cs",
        fields={"order": "A-1042", "amount": 49, "gift": True},
        priority=Priority.HIGH,
    )
    return services.assign(conv, by=None, assignee=people.agent)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (cond("status", "is", ["new", "open"]), True),
        (cond("status", "is_not", ["new"]), False),
        (cond("priority", "is", [Priority.HIGH]), True),
        (cond("priority", "above", Priority.NORMAL), True),
        (cond("priority", "below", Priority.HIGH), False),
        (cond("channel", "is", ["email"]), True),
        (cond("channel", "is_not", ["email", "chat"]), False),
        (cond("language", "is", ["CS"]), True),
        (cond("language", "is_not", ["cs"]), False),
        (cond("tags", "includes_any", ["vip", "nothing"]), True),
        (cond("tags", "includes_all", ["vip", "nothing"]), False),
        (cond("tags", "includes_all", ["vip", "kettle"]), True),
        (cond("tags", "excludes", ["kettle"]), False),
        (cond("subject", "contains", "BROKEN kett"), True),
        (cond("subject", "not_contains", "kettle"), False),
        (cond("subject", "matches_words", "toaster, refund"), True),
        (cond("subject", "matches_words", "ketl"), False),
        (cond("custom_fields.order", "is", "A-1042"), True),
        (cond("custom_fields.order", "contains", "1042"), True),
        (cond("custom_fields.amount", "is", 49), True),
        (cond("custom_fields.amount", "is_not", 50), True),
        (cond("custom_fields.gift", "is", True), True),
        (cond("custom_fields.gift", "absent"), False),
        (cond("custom_fields.order", "present"), True),
    ],
)
def test_each_field_holds_alike_in_python_and_sql(
    conversation: Conversation, condition: dict[str, Any], expected: bool
) -> None:
    assert matches(conversation, {"all": [condition]}, MONDAY_10_PRAGUE) is expected


def test_people_company_and_customer_conditions_use_ids_with_none_for_nobody(
    people: Personas, conversation: Conversation, open_conversation: Open
) -> None:
    now = MONDAY_10_PRAGUE
    assert matches(conversation, {"all": [cond("team", "is", [people.orders.pk])]}, now)
    assert matches(conversation, {"all": [cond("assignee", "is", [people.agent.pk])]}, now)
    assert not matches(conversation, {"all": [cond("assignee", "is", [None])]}, now)
    assert matches(conversation, {"all": [cond("company", "is", [people.company.pk])]}, now)
    assert matches(
        conversation, {"all": [cond("customer", "is_not", [people.other_customer.pk])]}, now
    )
    teamless = open_conversation(customer=people.other_customer)
    assert matches(teamless, {"all": [cond("company", "is", [None])]}, now)
    assert matches(teamless, {"all": [cond("assignee", "is", [None])]}, now)
    assert not matches(teamless, {"all": [cond("assignee", "is_not", [None])]}, now)


def test_all_conditions_must_hold_and_one_of_any(conversation: Conversation) -> None:
    now = MONDAY_10_PRAGUE
    yes, no = cond("channel", "is", ["email"]), cond("channel", "is", ["chat"])
    assert matches(conversation, {"all": [yes], "any": [no, yes]}, now)
    assert not matches(conversation, {"all": [yes, no]}, now)
    assert not matches(conversation, {"all": [yes], "any": [no]}, now)
    assert matches(conversation, {}, now)


def test_business_hours_conditions_follow_the_default_or_a_chosen_calendar(
    people: Personas, conversation: Conversation, office: BusinessCalendar
) -> None:
    night_desk = create_calendar(
        by=people.admin,
        name="Night desk",
        time_zone="Europe/Prague",
        weekly={day: [(time(18), time(23))] for day in range(7)},
    )
    inside = {"all": [cond("business_hours", "inside")]}
    outside = {"all": [cond("business_hours", "outside")]}
    at_night = {"all": [cond("business_hours", "inside", night_desk.pk)]}
    assert matches(conversation, inside, MONDAY_10_PRAGUE)
    assert not matches(conversation, outside, MONDAY_10_PRAGUE)
    assert matches(conversation, outside, MONDAY_20_PRAGUE)
    assert matches(conversation, outside, SATURDAY_10_PRAGUE)
    assert matches(conversation, at_night, MONDAY_20_PRAGUE)
    assert not matches(conversation, at_night, MONDAY_10_PRAGUE)


def test_a_trigger_for_after_hours_fires_only_outside_business_hours(
    people: Personas,
    conversation: Conversation,
    office: BusinessCalendar,
    make_trigger: MakeTrigger,
) -> None:
    make_trigger(
        "After hours",
        ["conversation_created"],
        [{"type": "add_tags", "value": ["after-hours"]}],
        conditions={"all": [cond("business_hours", "outside")]},
    )
    assert (
        run_triggers("conversation_created", conversation.pk, cause=None, now=MONDAY_10_PRAGUE)
        == []
    )
    assert "after-hours" not in tags_of(conversation)
    assert (
        len(
            run_triggers(
                "conversation_created", conversation.pk, cause=None, now=SATURDAY_10_PRAGUE
            )
        )
        == 1
    )
    assert "after-hours" in tags_of(conversation)


def test_the_dry_run_lists_open_matches_and_caps_its_count(
    people: Personas, open_conversation: Open, office: BusinessCalendar
) -> None:
    for n in range(3):
        open_conversation(f"Refund {n}", text="please refund me")
    open_conversation("Other", text="hello")
    solved = open_conversation("Refund solved", text="please refund me")
    services.set_status(solved, by=None, status="solved", via=Via.SYSTEM)
    conditions = rules.clean_conditions({"all": [cond("subject", "contains", "refund")]})
    found = dry_run(people.admin, conditions, now=MONDAY_10_PRAGUE)
    assert sorted(c.subject for c in found.conversations) == ["Refund 0", "Refund 1", "Refund 2"]
    assert (found.count, found.capped, found.clock_holds) == (3, False, True)
    by_text = rules.clean_conditions({"all": [cond("message", "matches_words", "refund")]})
    assert dry_run(people.admin, by_text, now=MONDAY_10_PRAGUE).count == 3
    after_hours = rules.clean_conditions({"all": [cond("business_hours", "outside")]})
    closed = dry_run(people.admin, after_hours, now=MONDAY_10_PRAGUE)
    assert (closed.count, closed.clock_holds) == (0, False)
    # An agent sees only their teams' conversations in it.
    assert dry_run(people.other_agent, conditions, now=MONDAY_10_PRAGUE).count == 0


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ({"all": [cond("status", "is", ["frozen"])]}, "frozen"),
        ({"all": [cond("nope", "is", ["x"])]}, "nope"),
        ({"all": [cond("priority", "above", 9)]}, "priority"),
        ({"all": [cond("team", "is", [999_999])]}, "999999"),
        ({"all": [cond("custom_fields.missing", "is", "x")]}, "missing"),
        ({"none": []}, "all"),
    ],
)
def test_bad_conditions_are_refused_with_a_reason(
    people: Personas, conditions: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.clean_conditions(conditions)
    assert refused.value.field == "conditions"
    assert message in refused.value.detail


def test_time_rules_cannot_test_a_message_text(people: Personas) -> None:
    with pytest.raises(InvalidInput):
        rules.clean_conditions(
            {"all": [cond("message", "contains", "x")]}, allow_event_fields=False
        )
