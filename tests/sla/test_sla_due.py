"""The SLA summary each conversation shows (`ConversationDue`), written by set_sla_due alone:
one row per conversation with something to show, written only when it changes, in bulk as
for one, and never touching the conversation row itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from frontdesk.conversations.models import Conversation, ConversationDue
from frontdesk.conversations.services import SlaDue, set_sla_due
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation

DUE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def stored() -> dict[int, tuple[datetime | None, datetime | None, bool, bool]]:
    return {
        row.conversation_id: (row.due_at, row.warning_at, row.breached, row.paused)
        for row in ConversationDue.objects.all()
    }


def summary(
    conversation: Conversation,
    due_at: datetime | None,
    *,
    warning_at: datetime | None = None,
    breached: bool = False,
    paused: bool = False,
) -> SlaDue:
    return SlaDue(
        conversation_id=conversation.pk,
        due_at=due_at,
        warning_at=warning_at,
        breached=breached,
        paused=paused,
    )


def test_bulk_set_sla_due_writes_changes_only_and_clears_rows_with_nothing_to_show(
    people: Personas,
) -> None:
    made = [open_conversation(people.customer, team=people.orders) for _ in range(6)]
    first = [
        summary(c, DUE + timedelta(minutes=i), warning_at=DUE + timedelta(minutes=i - 30))
        for i, c in enumerate(made[:4])
    ] + [summary(made[4], None, paused=True), summary(made[5], None, breached=True)]

    assert set_sla_due(first) == 6
    assert stored() == {
        **{c.pk: (DUE + timedelta(minutes=i), DUE + timedelta(minutes=i - 30), False, False)
           for i, c in enumerate(made[:4])},
        made[4].pk: (None, None, False, True),
        made[5].pk: (None, None, True, False),
    }  # fmt: skip

    # The same values again: nothing written.
    assert set_sla_due(first) == 0

    # One moved, one breached, two with nothing to show any more (gone), two unchanged.
    later = DUE + timedelta(hours=2)
    second = [
        summary(made[0], later, warning_at=later),
        summary(made[1], DUE + timedelta(minutes=1), warning_at=DUE - timedelta(minutes=29),
                breached=True),
        first[2],
        first[3],
        summary(made[4], None),
        summary(made[5], None),
    ]  # fmt: skip
    assert set_sla_due(second) == 4
    assert stored() == {
        made[0].pk: (later, later, False, False),
        made[1].pk: (DUE + timedelta(minutes=1), DUE - timedelta(minutes=29), True, False),
        made[2].pk: (DUE + timedelta(minutes=2), DUE - timedelta(minutes=28), False, False),
        made[3].pk: (DUE + timedelta(minutes=3), DUE - timedelta(minutes=27), False, False),
    }

    # Clearing what has no row is no change; the last summary of a conversation wins.
    assert set_sla_due([summary(made[4], None), summary(made[0], None)]) == 1
    assert set_sla_due([summary(made[2], DUE), summary(made[2], later)]) == 1
    assert stored()[made[2].pk] == (later, None, False, False)
    assert made[0].pk not in stored()


def test_set_sla_due_leaves_the_conversation_row_as_it_was(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    before = Conversation.objects.values().get(pk=conversation.pk)

    assert set_sla_due([summary(conversation, DUE, warning_at=DUE)]) == 1

    assert Conversation.objects.values().get(pk=conversation.pk) == before
    shown = Conversation.objects.select_related("sla_due").get(pk=conversation.pk).sla_summary
    assert shown is not None and shown.due_at == DUE


def test_a_conversation_without_a_summary_row_shows_none(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)

    found = Conversation.objects.select_related("sla_due").get(pk=conversation.pk)
    assert found.sla_summary is None
