"""Routing rules: their conditions, their order, what they set, and the audit trail naming them."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest

from frontdesk.accounts.models import Skill
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, Priority
from frontdesk.core.errors import InvalidInput, PermissionDenied
from frontdesk.core.models import Event, Via
from frontdesk.mail.intake import ingest_raw
from frontdesk.mail.models import Mailbox
from frontdesk.mail.services import create_mailbox
from frontdesk.routing import selectors
from frontdesk.routing import services as routing
from frontdesk.routing.events import ConversationRouted, RoutingRuleChanged
from frontdesk.routing.models import ConversationRouting, RoutingRule
from tests.conftest import Personas, make_customer
from tests.events import collected
from tests.routing.conftest import Open, fresh


def route(conversation: Conversation) -> RoutingRule | None:
    return routing.route_conversation(conversation.pk)


def tags_of(conversation: Conversation) -> set[str]:
    return set(conversation.tags.values_list("name", flat=True))


def test_the_first_matching_rule_wins_and_the_rest_are_not_tried(
    people: Personas, open_conversation: Open
) -> None:
    refund = routing.create_rule(
        by=people.admin, name="Refunds to billing", keywords=["refund"], team=people.billing,
        add_tags=["refund"],
    )  # fmt: skip
    routing.create_rule(
        by=people.admin, name="Everything urgent", priority=Priority.URGENT, add_tags=["all"]
    )
    conversation = open_conversation("I want a refund", team=people.orders)
    assert route(conversation) == refund
    after = fresh(conversation)
    assert after.team_id == people.billing.pk
    assert after.priority == Priority.NORMAL  # the second rule was not applied
    assert tags_of(after) == {"refund"}

    other = open_conversation("Where is my parcel?", team=people.orders)
    assert route(other) is not None
    assert fresh(other).priority == Priority.URGENT
    assert tags_of(other) == {"all"}


def test_position_decides_and_moving_a_rule_changes_the_winner(
    people: Personas, open_conversation: Open
) -> None:
    first = routing.create_rule(by=people.admin, name="A", channels=["email"], add_tags=["a"])
    second = routing.create_rule(by=people.admin, name="B", channels=["email"], add_tags=["b"])
    assert [r.position for r in RoutingRule.objects.order_by("id")] == [0, 1]
    routing.move_rule(second, by=people.admin, position=0)
    assert list(RoutingRule.objects.order_by("position").values_list("name", flat=True)) == [
        "B",
        "A",
    ]
    conversation = open_conversation()
    assert route(conversation) == RoutingRule.objects.get(pk=second.pk)
    assert tags_of(conversation) == {"b"}
    assert route(open_conversation(channel="chat")) is None
    assert first.position == 0


def test_inactive_rules_are_skipped(people: Personas, open_conversation: Open) -> None:
    routing.create_rule(by=people.admin, name="Off", active=False, add_tags=["off"])
    on = routing.create_rule(by=people.admin, name="On", add_tags=["on"])
    conversation = open_conversation()
    assert route(conversation) == on
    assert tags_of(conversation) == {"on"}


@pytest.mark.parametrize(
    ("condition", "matching", "other"),
    [
        ({"channels": ["chat"]}, {"channel": "chat"}, {"channel": "email"}),
        ({"languages": ["th"]}, {"language": "th-TH"}, {"language": "pl"}),
        ({"tags": ["vip", "gold"]}, {"tags": ["gold"]}, {"tags": ["silver"]}),
        (
            {"keywords": ["คืนเงิน"]},
            {"text": "สวัสดีค่ะต้องการคืนเงินค่ะ"},
            {"text": "สวัสดีค่ะสินค้ายังไม่มา"},
        ),
        (
            {"keywords": ["reklamacj*"]},
            {"text": "Składam REKLAMACJĘ towaru"},
            {"text": "Gdzie jest paczka?"},
        ),
    ],
)
def test_each_condition_holds_for_what_it_names_only(
    people: Personas,
    open_conversation: Open,
    condition: dict[str, Any],
    matching: dict[str, Any],
    other: dict[str, Any],
) -> None:
    rule = routing.create_rule(by=people.admin, name="Rule", priority=Priority.HIGH, **condition)
    assert route(open_conversation(**matching)) == rule
    assert route(open_conversation(**other)) is None


def test_thai_text_counts_as_thai_without_a_declared_language(
    people: Personas, open_conversation: Open
) -> None:
    rule = routing.create_rule(by=people.admin, name="Thai desk", languages=["th"],
                               team=people.billing)  # fmt: skip
    conversation = open_conversation("ช่วยด้วยครับ", text="พัสดุยังไม่มาถึงครับ")
    assert route(conversation) == rule
    assert fresh(conversation).team_id == people.billing.pk


def test_customer_and_company_conditions(people: Personas, open_conversation: Open) -> None:
    rule = routing.create_rule(
        by=people.admin, name="Acme", company_ids=[people.company.pk], add_tags=["acme"]
    )
    other_rule = routing.create_rule(
        by=people.admin, name="Piotr", customer_ids=[people.other_customer.pk], add_tags=["p"]
    )
    assert route(open_conversation(customer=people.customer)) == rule
    assert route(open_conversation(customer=people.other_customer)) == other_rule
    stranger = make_customer("Nobody", "nobody@example.net")
    assert route(open_conversation(customer=stranger)) is None


def test_custom_field_condition_compares_the_stored_value(
    people: Personas, open_conversation: Open
) -> None:
    services.create_field_definition(by=None, key="plan", label="Plan", kind="choice",
                                     choices=["gold", "basic"])  # fmt: skip
    services.create_field_definition(by=None, key="vip", label="VIP", kind="checkbox")
    rule = routing.create_rule(
        by=people.admin, name="Gold VIPs", custom_fields={"plan": "gold", "vip": "yes"},
        priority=Priority.URGENT,
    )  # fmt: skip
    assert RoutingRule.objects.get(pk=rule.pk).custom_fields == {"plan": "gold", "vip": True}
    gold = open_conversation(fields={"plan": "gold", "vip": True})
    basic = open_conversation(fields={"plan": "basic", "vip": True})
    assert route(gold) == rule
    assert route(basic) is None


def _mail(subject: str, to: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Jane Doe <jane@example.com>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '.')}@example.com>"
    message.set_content("Hello, my parcel did not arrive.")
    return message.as_bytes()


def test_mailbox_condition_matches_mail_to_that_address(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    sales = create_mailbox(by=None, name="Sales", email="sales@frontdesk.example")
    other_box = create_mailbox(by=None, name="Other", email="other@frontdesk.example")
    rule = routing.create_rule(
        by=people.admin, name="Sales mail", mailbox_ids=[sales.pk], team=people.billing
    )

    def take_in(subject: str, mailbox: Mailbox) -> Conversation:
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest_raw(_mail(subject, mailbox.email), mailbox=mailbox, source="test")
        assert result.conversation_number is not None
        return Conversation.objects.get(number=result.conversation_number)

    to_sales = take_in("Offer", sales)
    to_other = take_in("Question", other_box)
    assert ConversationRouting.objects.get(conversation=to_sales).rule_id == rule.pk
    assert ConversationRouting.objects.get(conversation=to_other).rule_id is None
    assert to_sales.team_id == people.billing.pk
    assert to_other.team_id is None


def test_every_change_a_rule_makes_names_it_in_the_audit_trail(
    people: Personas, open_conversation: Open
) -> None:
    rule = routing.create_rule(
        by=people.admin, name="Urgent refunds", keywords=["refund"], team=people.billing,
        priority=Priority.URGENT, add_tags=["refund"],
    )  # fmt: skip
    conversation = open_conversation("Refund please", team=people.orders)
    route(conversation)
    cause = {"kind": "routing_rule", "id": rule.pk, "name": "Urgent refunds"}
    events = Event.objects.filter(object_type="conversation", object_id=conversation.pk)
    by_action = {e.action: e for e in events}
    for action in ("conversation.team_changed", "conversation.priority_changed",
                   "conversation.tags_changed"):  # fmt: skip
        event = by_action[action]
        assert event.data["cause"] == cause, action
        assert event.actor_id is None
        assert event.via == Via.SYSTEM


def test_routing_runs_once_per_conversation(people: Personas, open_conversation: Open) -> None:
    routing.create_rule(by=people.admin, name="Tag", add_tags=["first"])
    conversation = open_conversation()
    assert route(conversation) is not None
    services.remove_tags(conversation, by=people.admin, tags=["first"])
    assert route(conversation) is None  # the task ran twice: nothing happens the second time
    assert tags_of(conversation) == set()
    assert ConversationRouting.objects.filter(conversation=conversation).count() == 1


def test_a_new_conversation_is_routed_after_commit_by_a_task(
    people: Personas, open_conversation: Open, django_capture_on_commit_callbacks: Any
) -> None:
    rule = routing.create_rule(by=people.admin, name="To billing", team=people.billing)
    with collected(ConversationRouted) as seen, django_capture_on_commit_callbacks(execute=True):
        conversation = open_conversation(team=people.orders, via=Via.PORTAL)
    assert fresh(conversation).team_id == people.billing.pk
    assert [(e.conversation_id, e.rule_id) for e in seen] == [(conversation.pk, rule.pk)]  # type: ignore[attr-defined]


def test_what_the_system_opens_itself_is_not_routed(
    people: Personas, open_conversation: Open, django_capture_on_commit_callbacks: Any
) -> None:
    routing.create_rule(by=people.admin, name="To billing", team=people.billing)
    with django_capture_on_commit_callbacks(execute=True):
        conversation = open_conversation(team=people.orders, via=Via.SYSTEM)
    assert fresh(conversation).team_id == people.orders.pk
    assert not ConversationRouting.objects.filter(conversation=conversation).exists()


# --- changing rules ------------------------------------------------------------------------------


def test_only_admins_change_rules(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        routing.create_rule(by=people.supervisor, name="Nope", add_tags=["x"])
    rule = routing.create_rule(by=people.admin, name="Yes", add_tags=["x"])
    with pytest.raises(PermissionDenied):
        routing.update_rule(rule, by=people.agent, name="Mine")
    with pytest.raises(PermissionDenied):
        routing.delete_rule(rule, by=people.agent)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": " "}, "name"),
        ({"channels": ["fax"]}, "channels"),
        ({"languages": ["not a code"]}, "languages"),
        ({"customer_ids": [999999]}, "customer_ids"),
        ({"company_ids": ["1"]}, "company_ids"),
        ({"mailbox_ids": [424242]}, "mailbox_ids"),
        ({"custom_fields": {"nope": "x"}}, "custom_fields.nope"),
        ({"keywords": ["x" * 101]}, "keywords"),
        ({"priority": 9}, "priority"),
        ({"add_tags": ["a,b"]}, "add_tags"),
    ],
)
def test_bad_rules_are_refused_on_their_field(
    people: Personas, values: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"name": "Rule", "add_tags": ["ok"], **values}
    with pytest.raises(InvalidInput) as refused:
        routing.create_rule(by=people.admin, **arguments)
    assert refused.value.field == field
    assert not RoutingRule.objects.exists()


def test_a_rule_must_do_something(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        routing.create_rule(by=people.admin, name="Idle", keywords=["x"])
    assert refused.value.field == "team"
    rule = routing.create_rule(by=people.admin, name="Tags", add_tags=["x"])
    with pytest.raises(InvalidInput):
        routing.update_rule(rule, by=people.admin, add_tags=[])
    assert RoutingRule.objects.get(pk=rule.pk).add_tags == ["x"]


def test_rule_changes_are_audited_and_announced(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    skill = Skill.objects.create(name="thai")
    with collected(RoutingRuleChanged) as seen, django_capture_on_commit_callbacks(execute=True):
        rule = routing.create_rule(by=people.admin, name="Thai", languages=["th"], skill=skill)
        routing.update_rule(rule, by=people.admin, name="Thai speakers")
        routing.delete_rule(rule, by=people.admin)
    assert [(e.change, e.name) for e in seen] == [  # type: ignore[attr-defined]
        ("created", "Thai"), ("updated", "Thai speakers"), ("deleted", "Thai speakers"),
    ]  # fmt: skip
    actions = list(
        Event.objects.filter(object_type="routingrule", object_id=rule.pk)
        .order_by("id")
        .values_list("action", "actor_id")
    )
    assert actions == [
        ("routing.rule_created", people.admin.pk),
        ("routing.rule_updated", people.admin.pk),
        ("routing.rule_deleted", people.admin.pk),
    ]


def test_deleting_a_rule_closes_the_gap_in_positions(people: Personas) -> None:
    rules = [routing.create_rule(by=people.admin, name=n, add_tags=["x"]) for n in "ABC"]
    routing.delete_rule(rules[1], by=people.admin)
    assert list(RoutingRule.objects.values_list("name", "position")) == [("A", 0), ("C", 1)]


def test_a_deleted_customer_in_a_rule_matches_nobody(
    people: Personas, open_conversation: Open
) -> None:
    gone = make_customer("Gone", "gone@example.com")
    routing.create_rule(by=people.admin, name="Gone", customer_ids=[gone.pk], add_tags=["x"])
    gone.delete()
    assert route(open_conversation()) is None


def test_the_one_conversation_read_sees_the_same_facts_as_the_batch_read(
    people: Personas, open_conversation: Open
) -> None:
    services.create_field_definition(by=None, key="plan", label="Plan", kind="text")
    conversation = open_conversation(
        "ช่วยด้วย", text="คืนเงินด้วยครับ", channel="chat", tags=["vip"], fields={"plan": "gold"}
    )
    single = selectors.read_for_routing(conversation.pk, tags=True, mailbox=True)
    assert single is not None
    batch = selectors.facts_for(
        [Conversation.objects.select_related("customer").get(pk=conversation.pk)]
    )
    assert single.facts == batch[conversation.pk]
    assert single.facts.language == "th"
    assert single.facts.tags == frozenset({"vip"})
    assert single.facts.custom_fields == {"plan": "gold"}
    assert (single.number, single.team_id) == (conversation.number, None)
