"""Triggers: which events fire them, in which order, and the guards against loops."""

from __future__ import annotations

from typing import Any

from django.core import mail

from frontdesk.automation import services as automation
from frontdesk.automation.engine import CHAIN_STOPPED, MAX_CHAIN_DEPTH, RULE_FAILED, TRIGGER_FIRED
from frontdesk.conversations import services
from frontdesk.conversations.models import CustomFieldDefinition, Message, MessageKind, Priority
from frontdesk.core.models import Via
from tests.automation.conftest import Live, MakeTrigger, Open, events_of, fresh, tags_of
from tests.conftest import Personas


def notes_of(conversation: Any) -> list[str]:
    return list(
        Message.objects.filter(conversation=conversation, kind=MessageKind.NOTE)
        .order_by("id")
        .values_list("text", flat=True)
    )


def test_triggers_fire_in_position_order_each_seeing_the_changes_before_it(
    people: Personas, live: Live, open_conversation: Open, make_trigger: MakeTrigger
) -> None:
    second = make_trigger(
        "Tag urgent ones",
        ["conversation_created"],
        [{"type": "add_note", "text": "second"}, {"type": "add_tags", "value": ["seen-urgent"]}],
        conditions={"all": [{"field": "priority", "op": "is", "value": [Priority.URGENT]}]},
    )
    make_trigger(
        "Refunds are urgent",
        ["conversation_created"],
        [{"type": "add_note", "text": "first"}, {"type": "set_priority", "value": Priority.URGENT}],
        conditions={"all": [{"field": "subject", "op": "matches_words", "value": "refund"}]},
        position=0,
    )
    with live():
        conversation = open_conversation("Refund for order 1042, please")
    assert notes_of(conversation) == ["first", "second"]
    assert fresh(conversation).priority == Priority.URGENT
    assert "seen-urgent" in tags_of(conversation)

    automation.update_trigger(second, by=people.admin, position=0)
    with live():
        other = open_conversation("Refund for order 2000")
    # Now the tagging rule runs first and sees a normal priority: it does not fire.
    assert notes_of(other) == ["first"]
    assert "seen-urgent" not in tags_of(other)


def test_every_change_a_rule_makes_names_the_rule_in_its_audit_row(
    people: Personas, live: Live, open_conversation: Open, make_trigger: MakeTrigger
) -> None:
    CustomFieldDefinition.objects.create(key="order", label="Order", kind="text")
    trigger = make_trigger(
        "Everything",
        ["conversation_created"],
        [
            {"type": "set_status", "value": "pending"},
            {"type": "set_priority", "value": Priority.HIGH},
            {"type": "set_team", "value": people.billing.pk},
            {"type": "assign", "value": people.other_agent.pk},
            {"type": "set_field", "key": "order", "value": "1042"},
            {"type": "add_tags", "value": ["a", "b"]},
            {"type": "remove_tags", "value": ["b"]},
            {
                "type": "add_note",
                "text": "Hello {{ customer.first_name }}, #{{ conversation.number }}",
            },
        ],
    )
    with live():
        conversation = open_conversation()
    current = fresh(conversation)
    assert current.status == "pending"
    assert current.priority == Priority.HIGH
    assert current.team_id == people.billing.pk
    assert current.assignee_id == people.other_agent.pk
    assert current.custom_fields == {"order": "1042"}
    assert tags_of(current) == {"a"}
    assert notes_of(current) == [f"Hello Jana, #{current.number}"]
    cause = {
        "kind": "trigger",
        "id": trigger.pk,
        "name": "Everything",
        "chain": [f"trigger:{trigger.pk}"],
    }
    for action in (
        "conversation.status_changed",
        "conversation.priority_changed",
        "conversation.team_changed",
        "conversation.assigned",
        "conversation.fields_changed",
        "conversation.tags_changed",
    ):
        rows = events_of(current, action)
        assert rows, action
        assert all(row.data["cause"] == cause and row.via == Via.SYSTEM for row in rows), action
        assert all(row.actor_id is None for row in rows), action
    note_row = [r for r in events_of(current, "message.added") if r.data["kind"] == "note"]
    assert note_row[0].data["cause"] == cause
    assert events_of(current, TRIGGER_FIRED)[0].data["cause"] == cause


def test_customer_and_agent_replies_fire_their_own_triggers_with_the_message_text(
    people: Personas, live: Live, open_conversation: Open, make_trigger: MakeTrigger
) -> None:
    make_trigger(
        "Angry customer",
        ["customer_replied"],
        [{"type": "add_tags", "value": ["angry"]}],
        conditions={
            "any": [{"field": "message", "op": "matches_words", "value": "lawyer, furious"}]
        },
    )
    make_trigger("Answered", ["agent_replied"], [{"type": "add_tags", "value": ["answered"]}])
    with live():
        conversation = open_conversation(text="I am furious already")
    # The first message is the creation, not a reply.
    assert tags_of(conversation) == set()
    with live():
        services.add_customer_message(conversation, by=None, text="Still waiting.", via=Via.EMAIL)
    assert tags_of(conversation) == set()
    with live():
        services.add_customer_message(
            conversation, by=None, text="Calling my LAWYER now", via=Via.EMAIL
        )
    assert tags_of(conversation) == {"angry"}
    with live():
        services.add_reply(conversation, by=people.agent, text="Sorry!", via=Via.WEB)
    assert tags_of(conversation) == {"angry", "answered"}


def test_field_change_triggers_fire_on_what_people_change_not_on_imports(
    people: Personas, live: Live, open_conversation: Open, make_trigger: MakeTrigger
) -> None:
    make_trigger(
        "Escalate on urgent",
        ["priority_changed"],
        [{"type": "add_tags", "value": ["escalated"]}],
        conditions={"all": [{"field": "priority", "op": "above", "value": Priority.HIGH}]},
    )
    conversation = open_conversation()
    with live():
        services.set_priority(conversation, by=None, priority=Priority.URGENT, via=Via.SYSTEM)
    assert tags_of(conversation) == set()  # the system on its own (an import) sets off nothing
    with live():
        services.set_priority(conversation, by=people.agent, priority=Priority.HIGH, via=Via.WEB)
    assert tags_of(conversation) == set()
    with live():
        services.set_priority(conversation, by=people.agent, priority=Priority.URGENT, via=Via.WEB)
    assert tags_of(conversation) == {"escalated"}


def test_inactive_triggers_and_other_events_do_not_fire(
    people: Personas, live: Live, open_conversation: Open, make_trigger: MakeTrigger
) -> None:
    make_trigger(
        "Off", ["conversation_created"], [{"type": "add_tags", "value": ["off"]}], active=False
    )
    make_trigger("Status only", ["status_changed"], [{"type": "add_tags", "value": ["status"]}])
    with live():
        conversation = open_conversation()
    assert tags_of(conversation) == set()


def test_a_rule_does_not_fire_again_on_the_change_it_made_itself(
    people: Personas, live: Live, open_conversation: Open, make_trigger: MakeTrigger
) -> None:
    """Without the guard its own tag change would fire it again and add a second note."""
    rule = make_trigger(
        "Flag tagged",
        ["tags_changed"],
        [{"type": "add_tags", "value": ["flagged"]}, {"type": "add_note", "text": "flagged"}],
    )
    conversation = open_conversation()
    with live():
        services.add_tags(conversation, by=people.agent, tags=["vip"], via=Via.WEB)
    assert notes_of(conversation) == ["flagged"]
    assert tags_of(conversation) == {"vip", "flagged"}
    assert len(events_of(conversation, TRIGGER_FIRED)) == 1
    # A new change by a person fires it again: the guard is per chain, not forever.
    with live():
        services.add_tags(conversation, by=people.agent, tags=["later"], via=Via.WEB)
    assert notes_of(conversation) == ["flagged", "flagged"]
    assert [e.data["cause"]["id"] for e in events_of(conversation, TRIGGER_FIRED)] == [rule.pk] * 2


def test_two_rules_that_undo_each_other_stop_instead_of_ping_ponging(
    people: Personas, live: Live, open_conversation: Open, make_trigger: MakeTrigger
) -> None:
    for name, source, target in (("To pending", "open", "pending"), ("To open", "pending", "open")):
        make_trigger(
            name,
            ["status_changed"],
            [{"type": "set_status", "value": target}],
            conditions={"all": [{"field": "status", "op": "is", "value": [source]}]},
        )
    conversation = open_conversation()
    with live():
        services.set_status(conversation, by=people.agent, status="open", via=Via.WEB)
    # Each rule fires once in a chain, so the back and forth ends after a few changes
    # (how many depends on when each commit's reactions run), never after MAX_CHAIN_DEPTH.
    fired = events_of(conversation, TRIGGER_FIRED)
    assert 2 <= len(fired) <= 3
    for row in fired:
        chain = row.data["cause"]["chain"]
        assert len(chain) == len(set(chain)) <= 2
    assert not events_of(conversation, CHAIN_STOPPED)
    assert fresh(conversation).status in ("open", "pending")


def test_a_chain_of_rules_stops_at_the_fixed_depth_and_says_so(
    people: Personas, live: Live, open_conversation: Open, make_trigger: MakeTrigger
) -> None:
    rules = []
    for step in range(1, MAX_CHAIN_DEPTH + 2):
        rules.append(
            make_trigger(
                f"Step {step}",
                ["tags_changed"],
                [{"type": "add_tags", "value": [f"t{step}"]}],
                conditions={
                    "all": [
                        {"field": "tags", "op": "includes_any", "value": [f"t{step - 1}"]},
                        {"field": "tags", "op": "excludes", "value": [f"t{step}"]},
                    ]
                },
                # Last step first: each step fires on the change the one before made, never
                # in the same pass as it.
                position=0,
            )
        )
    conversation = open_conversation()
    with live():
        services.add_tags(conversation, by=people.agent, tags=["t0"], via=Via.WEB)
    assert tags_of(conversation) == {f"t{i}" for i in range(MAX_CHAIN_DEPTH + 1)}
    assert f"t{MAX_CHAIN_DEPTH + 1}" not in tags_of(conversation)
    (stopped,) = events_of(conversation, CHAIN_STOPPED)
    last = rules[-1]
    assert stopped.data["stopped"] == [{"kind": "trigger", "id": last.pk, "name": last.name}]
    assert stopped.data["chain"] == [f"trigger:{r.pk}" for r in rules[:-1]]
    assert stopped.data["depth"] == MAX_CHAIN_DEPTH


def test_refused_actions_roll_back_together_and_the_refusal_is_recorded(
    people: Personas, live: Live, open_conversation: Open, make_trigger: MakeTrigger
) -> None:
    CustomFieldDefinition.objects.create(
        key="reason", label="Reason", kind="text", required_to_solve=True
    )
    rule = make_trigger(
        "Solve at once",
        ["conversation_created"],
        [{"type": "add_tags", "value": ["auto"]}, {"type": "set_status", "value": "solved"}],
    )
    with live():
        conversation = open_conversation()
    assert tags_of(conversation) == set()
    assert fresh(conversation).status == "new"
    (failed,) = events_of(conversation, RULE_FAILED)
    assert failed.data["cause"]["id"] == rule.pk
    assert "Reason" in failed.data["error"]


def test_email_actions_mail_the_customer_and_the_agent_after_the_commit(
    people: Personas, live: Live, open_conversation: Open, make_trigger: MakeTrigger
) -> None:
    make_trigger(
        "Acknowledge",
        ["conversation_created"],
        [
            {
                "type": "email_customer",
                "subject": "",
                "text": "Dear {{ customer.first_name }}, we got #{{ conversation.number }}.",
            },
            {
                "type": "email_agent",
                "to": people.supervisor.pk,
                "subject": "New: {{ conversation.subject }}",
                "text": "From {{ customer.name }} of {{ company.name }}",
            },
        ],
    )
    with live():
        conversation = open_conversation()
    number = fresh(conversation).number
    by_to = {m.to[0]: m for m in mail.outbox}
    customer_mail = by_to["jana@acme.example"]
    assert customer_mail.subject == f"Re: Parcel never arrived [#{number}]"
    assert customer_mail.body == f"Dear Jana, we got #{number}."
    assert customer_mail.extra_headers["Auto-Submitted"] == "auto-generated"
    agent_mail = by_to["sue@example.com"]
    assert agent_mail.subject == "New: Parcel never arrived"
    assert agent_mail.body == "From Jana Nováková of Acme s.r.o."
    sent = events_of(conversation, "automation.email_sent")
    assert {e.data["to"] for e in sent} == {"jana@acme.example", "sue@example.com"}
    assert all(e.data["cause"]["name"] == "Acknowledge" for e in sent)
