"""SLA policies: the first matching active policy applies, in their order; conditions of each
kind; who may write them; what is refused (naming the field), audited and announced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from frontdesk.conversations.models import Priority
from frontdesk.core.errors import InvalidInput, PermissionDenied
from frontdesk.core.models import Event, Via
from frontdesk.mail.models import InboundMessage, InboundOutcome, Mailbox
from frontdesk.sla import timers
from frontdesk.sla.events import SlaPolicyChanged
from frontdesk.sla.models import BusinessCalendar, ConversationSla, SlaPolicy, TimeBasis
from frontdesk.sla.policies import facts_from, first_match
from frontdesk.sla.services import (
    create_policy,
    delete_policy,
    move_policy,
    reorder_policies,
    update_policy,
)
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.events import collected
from tests.sla.conftest import Live, MakePolicy, targets

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def applied(conversation_id: int) -> str | None:
    row = ConversationSla.objects.select_related("policy").get(pk=conversation_id)
    return row.policy.name if row.policy is not None else None


# --- matching ---------------------------------------------------------------------------------


def test_the_first_matching_active_policy_applies_in_their_order(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    vip = make_policy("VIP", conditions={"tags": ["vip"]})
    orders = make_policy("Orders team", conditions={"team_ids": [people.orders.pk]})
    make_policy("Everything else")
    paused = make_policy("Paused", conditions={"channels": ["email"]}, active=False)
    reorder_policies(by=people.admin, policy_ids=[paused.pk, vip.pk, orders.pk,
                                                  *SlaPolicy.objects.exclude(
                                                      pk__in=[paused.pk, vip.pk, orders.pk]
                                                  ).values_list("pk", flat=True)])  # fmt: skip

    with live():
        tagged = open_conversation(people.customer, team=people.orders, at=NOON, tags=["VIP"])
        in_orders = open_conversation(people.customer, team=people.orders, at=NOON)
        in_billing = open_conversation(people.customer, team=people.billing, at=NOON)

    # "Paused" comes first but is inactive; a tagged Orders conversation meets "VIP" first.
    assert applied(tagged.pk) == "VIP"
    assert applied(in_orders.pk) == "Orders team"
    assert applied(in_billing.pk) == "Everything else"

    # Moving "Orders team" above "VIP" changes who wins, once the timers are recounted.
    move_policy(orders, by=people.admin, steps=-1)
    timers.refresh_open_conversations()
    assert applied(tagged.pk) == "Orders team"


@pytest.mark.parametrize(
    ("kind", "matching", "other"),
    [
        ("priorities", {"priority": Priority.HIGH}, {"priority": Priority.LOW}),
        ("channels", {"channel": "chat"}, {"channel": "email"}),
        ("customer_ids", {"customer": "customer"}, {"customer": "other_customer"}),
        ("company_ids", {"customer": "customer"}, {"customer": "other_customer"}),
        ("mailbox_ids", {"mailbox_id": "support"}, {"mailbox_id": "sales"}),
    ],
)
def test_each_condition_kind_matches_any_of_its_values(
    people: Personas, kind: str, matching: dict[str, Any], other: dict[str, Any]
) -> None:
    mailboxes = {
        name: Mailbox.objects.create(name=name, email=f"{name}@example.com").pk
        for name in ("support", "sales", "billing")
    }
    values: dict[str, list[Any]] = {
        "priorities": [Priority.HIGH, Priority.URGENT],
        "channels": ["chat", "phone"],
        "customer_ids": [people.customer.pk],
        "company_ids": [people.company.pk],
        "mailbox_ids": [mailboxes["support"], mailboxes["billing"]],
    }
    policy = create_policy(by=people.admin, name="One kind", conditions={kind: values[kind]},
                           targets=[targets(first=60)])  # fmt: skip
    [compiled] = timers.active_policies()

    def facts(**given: Any) -> Any:
        customer = getattr(people, given.pop("customer", "customer"))
        if "mailbox_id" in given:
            given["mailbox_id"] = mailboxes[given["mailbox_id"]]
        row = (1, "open", given.pop("priority", Priority.NORMAL), given.pop("channel", "email"),
               people.orders.pk, customer.pk, customer.company_id, NOON, NOON, None, NOON, None,
               None, None)  # fmt: skip
        return facts_from(row, **given)

    assert compiled.id == policy.pk
    assert first_match([compiled], facts(**matching)) is compiled
    assert first_match([compiled], facts(**other)) is None


def test_a_policy_with_several_kinds_needs_all_of_them(people: Personas) -> None:
    create_policy(by=people.admin, name="Urgent mail",
                  conditions={"priorities": [Priority.URGENT], "channels": ["email"]},
                  targets=[targets(Priority.URGENT, first=15)])  # fmt: skip
    [compiled] = timers.active_policies()
    row = [1, "open", Priority.URGENT, "chat", None, people.customer.pk, None, NOON, NOON,
           None, NOON, None, None, None]  # fmt: skip
    assert not compiled.matches(facts_from(row))
    row[3] = "email"
    assert compiled.matches(facts_from(row))


def test_a_conversation_from_a_mailbox_matches_the_mailbox_condition(
    people: Personas, office: BusinessCalendar, live: Live
) -> None:
    mailbox = Mailbox.objects.create(name="Support", email="support@example.com")
    create_policy(
        by=people.admin,
        name="Support mailbox",
        conditions={"mailbox_ids": [mailbox.pk]},
        targets=[targets(first=30)],
    )
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=NOON)
        InboundMessage.objects.create(
            idempotency_key="k1", mailbox=mailbox, outcome=InboundOutcome.CREATED,
            conversation=conversation,
        )  # fmt: skip
    ConversationSla.objects.all().delete()

    timers.refresh_conversation(conversation.pk)

    assert applied(conversation.pk) == "Support mailbox"
    assert ConversationSla.objects.get(pk=conversation.pk).mailbox_id == mailbox.pk


# --- writing policies ---------------------------------------------------------------------


def test_admin_creates_a_policy_audited_and_announced(
    people: Personas, office: BusinessCalendar, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(SlaPolicyChanged) as events, django_capture_on_commit_callbacks(execute=True):
        policy = create_policy(
            by=people.admin,
            name="  Gold  ",
            conditions={"tags": [" VIP ", "vip"], "team_ids": [people.orders.pk],
                        "priorities": [Priority.HIGH, Priority.URGENT]},
            targets=[targets(Priority.URGENT, first=15, resolution=240),
                     targets(Priority.HIGH, first=60)],
            calendar=office,
            warning_percent=80,
            warning_actions=[{"type": "notify", "to": ["supervisors", "assignee"]}],
            breach_actions=[{"type": "reassign", "team_id": people.billing.pk},
                            {"type": "raise_priority"}],
            via=Via.WEB,
        )  # fmt: skip

    assert policy.name == "Gold"
    assert policy.position == 1
    assert policy.conditions == {
        "priorities": [Priority.HIGH, Priority.URGENT], "team_ids": [people.orders.pk],
        "tags": ["vip"],
    }  # fmt: skip
    # Targets are kept in priority order; notify audiences in their fixed order.
    assert [row["priority"] for row in policy.targets] == [Priority.HIGH, Priority.URGENT]
    assert policy.warning_actions == [{"type": "notify", "to": ["assignee", "supervisors"]}]
    assert policy.breach_actions[0] == {"type": "reassign", "team_id": people.billing.pk,
                                        "user_id": None}  # fmt: skip
    [event] = Event.objects.filter(object_type="slapolicy", object_id=policy.pk)
    assert event.action == "sla_policy.created" and event.actor == people.admin
    assert event.via == Via.WEB and event.data["calendar_id"] == office.pk
    assert [(type(e), e.policy_id, e.change) for e in events] == [  # type: ignore[attr-defined]
        (SlaPolicyChanged, policy.pk, "created")
    ]


def test_only_admins_write_policies(people: Personas, make_policy: MakePolicy) -> None:
    policy = make_policy()
    for who in (people.supervisor, people.agent, people.customer_user):
        with pytest.raises(PermissionDenied):
            create_policy(by=who, name="Mine", targets=[targets(first=5)])
        with pytest.raises(PermissionDenied):
            update_policy(policy, by=who, name="Renamed")
        with pytest.raises(PermissionDenied):
            delete_policy(policy, by=who)
    assert SlaPolicy.objects.get().name == "Standard"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": " "}, "name"),
        ({"targets": []}, "targets"),
        ({"targets": [targets(first=None)]}, "targets"),
        ({"targets": [targets(first=0)]}, "targets.0.first_response_minutes"),
        ({"targets": [targets(9, first=5)]}, "targets.0.priority"),
        ({"targets": [targets(first=5), targets(first=6)]}, "targets.1.priority"),
        ({"conditions": {"team_ids": [999]}}, "conditions.team_ids"),
        ({"conditions": {"channels": ["fax"]}}, "conditions.channels"),
        ({"conditions": {"planet": ["mars"]}}, "conditions.planet"),
        ({"time_basis": "lunar"}, "time_basis"),
        ({"warning_percent": 100}, "warning_percent"),
        ({"breach_actions": [{"type": "explode"}]}, "breach_actions.0.type"),
        ({"warning_actions": [{"type": "notify", "to": ["mayor"]}]}, "warning_actions.0.to"),
        ({"breach_actions": [{"type": "reassign"}]}, "breach_actions.0.user_id"),
    ],
)
def test_refusals_name_their_field(
    people: Personas, make_policy: MakePolicy, values: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"name": "Gold", "targets": [targets(first=60)], **values}
    with pytest.raises(InvalidInput) as error:
        create_policy(by=people.admin, **arguments)
    assert error.value.field == field
    assert not SlaPolicy.objects.exists()


def test_reassigning_within_a_team_needs_a_member_of_it(people: Personas) -> None:
    with pytest.raises(InvalidInput) as error:
        create_policy(by=people.admin, name="Gold", targets=[targets(first=60)],
                      breach_actions=[{"type": "reassign", "team_id": people.billing.pk,
                                       "user_id": people.agent.pk}])  # fmt: skip
    assert error.value.field == "breach_actions.0.user_id"


def test_names_are_unique_whatever_their_case(people: Personas, make_policy: MakePolicy) -> None:
    first = make_policy("Gold")
    second = make_policy("Silver")
    with pytest.raises(InvalidInput) as error:
        make_policy("gold")
    assert error.value.field == "name"
    with pytest.raises(InvalidInput):
        update_policy(second, by=people.admin, name="GOLD")
    assert update_policy(first, by=people.admin, name="gold").name == "gold"


def test_update_changes_only_what_is_given_and_audits_it(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy
) -> None:
    policy = make_policy(calendar=office)
    updated = update_policy(policy, by=people.admin, warning_percent=50, active=False)
    assert (updated.warning_percent, updated.active, updated.calendar_id) == (50, False, office.pk)
    # Calendar time needs no calendar: it is dropped.
    updated = update_policy(updated, by=people.admin, time_basis=TimeBasis.CALENDAR)
    assert updated.calendar_id is None
    unchanged = update_policy(updated, by=people.admin, warning_percent=50)
    assert unchanged.updated_at == updated.updated_at
    actions = list(
        Event.objects.filter(object_type="slapolicy", object_id=policy.pk)
        .order_by("id")
        .values_list("action", "data")
    )
    assert actions[1:] == [
        ("sla_policy.updated", {"warning_percent": 50, "active": False}),
        ("sla_policy.updated", {"time_basis": "calendar", "calendar_id": None}),
    ]


def test_reorder_needs_every_policy_once(people: Personas, make_policy: MakePolicy) -> None:
    a, b, c = make_policy("A"), make_policy("B"), make_policy("C")
    for wrong in ([a.pk, b.pk], [a.pk, b.pk, b.pk], [a.pk, b.pk, c.pk, 999]):
        with pytest.raises(InvalidInput) as error:
            reorder_policies(by=people.admin, policy_ids=wrong)
        assert error.value.field == "policy_ids"

    reorder_policies(by=people.admin, policy_ids=[c.pk, a.pk, b.pk])

    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["C", "A", "B"]
    move_policy(b, by=people.admin, steps=-5)
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["B", "C", "A"]


def test_deleting_the_policy_hands_its_conversations_to_the_next_match(
    people: Personas, office: BusinessCalendar, make_policy: MakePolicy, live: Live
) -> None:
    gold = make_policy("Gold", targets=[targets(first=15)])
    make_policy("Silver", targets=[targets(first=60)])
    with live():
        conversation = open_conversation(people.customer, team=people.orders, at=NOON)
    assert applied(conversation.pk) == "Gold"

    delete_policy(gold, by=people.admin)
    timers.refresh_open_conversations()

    assert applied(conversation.pk) == "Silver"


def test_a_policy_naming_a_mailbox_that_does_not_exist_is_refused(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_policy(by=people.admin, name="Ghost", conditions={"mailbox_ids": [999]},
                      targets=[targets(first=60)])  # fmt: skip

    assert refused.value.field == "conditions.mailbox_ids"
