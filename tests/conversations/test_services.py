"""Conversation services: each change, its permission, its audit row and its events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from frontdesk.conversations import events, services
from frontdesk.conversations.models import (
    Attachment,
    Conversation,
    FieldKind,
    Message,
    MessageKind,
    Priority,
    Status,
)
from frontdesk.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from frontdesk.core.models import Event, Via
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.events import collected

pytestmark = pytest.mark.django_db


def actions(conversation: Conversation) -> list[str]:
    return list(
        Event.objects.filter(object_type="conversation", object_id=conversation.pk).values_list(
            "action", flat=True
        )
    )


# --- create ---------------------------------------------------------------------


def test_create_conversation_numbers_stores_first_message_and_audits(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected() as seen, django_capture_on_commit_callbacks(execute=True):
        first = open_conversation(people.customer, team=people.orders, via=Via.EMAIL)
        second = open_conversation(people.other_customer, team=people.orders)

    assert second.number == first.number + 1
    assert first.status == Status.NEW
    assert first.company_id == people.company.pk
    message = first.messages.get()
    assert message.kind == MessageKind.CUSTOMER
    assert message.author_customer_id == people.customer.pk
    assert first.last_customer_activity_at == message.created_at
    event = Event.objects.get(object_id=first.pk, action="conversation.created")
    assert event.via == Via.EMAIL
    created = [e for e in seen if isinstance(e, events.ConversationCreated)]
    assert [e.number for e in created] == [first.number, second.number]
    assert created[0].audience.team_ids == {people.orders.pk}
    assert created[0].audience.customer_id == people.customer.pk
    assert [e.via for e in created] == [Via.EMAIL, Via.SYSTEM]


def test_create_conversation_refuses_empty_subject_and_writes_nothing(people: Personas) -> None:
    with pytest.raises(InvalidInput) as error:
        open_conversation(people.customer, team=people.orders, subject="   ")
    assert error.value.field == "subject"
    assert not Conversation.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"priority": 9}, "priority"),
        ({"text": ""}, "text"),
        ({"tags": ["ok", "bad,tag"]}, "tags"),
        ({"fields": {"nope": 1}}, "custom_fields.nope"),
    ],
)
def test_create_conversation_names_the_bad_field(
    people: Personas, extra: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        open_conversation(people.customer, team=people.orders, **extra)
    assert error.value.field == field
    assert not Conversation.objects.exists()


def test_agent_without_team_choice_files_into_their_own_team(people: Personas) -> None:
    conversation = open_conversation(
        people.customer, team=None, by=people.agent, channel="phone", kind=MessageKind.REPLY
    )
    assert conversation.team_id == people.orders.pk
    assert conversation.status == Status.OPEN
    assert conversation.messages.get().author_user_id == people.agent.pk


def test_agent_filing_into_another_team_keeps_following_as_owner(people: Personas) -> None:
    conversation = open_conversation(
        people.customer, team=people.billing, by=people.agent, channel="phone"
    )
    assert conversation.owner_id == people.agent.pk
    note = services.add_note(conversation, by=people.agent, text="Called back, no answer.")
    assert note.conversation_id == conversation.pk


def test_customer_opens_only_for_themselves(people: Personas) -> None:
    with pytest.raises(PermissionDenied) as error:
        open_conversation(people.other_customer, team=None, by=people.customer_user)
    assert error.value.field == "customer"
    own = open_conversation(people.customer, team=None, by=people.customer_user, channel="portal")
    assert own.customer_id == people.customer.pk


def test_customer_cannot_choose_team_or_tags(people: Personas) -> None:
    with pytest.raises(PermissionDenied) as error:
        open_conversation(people.customer, team=people.orders, by=people.customer_user)
    assert error.value.field == "team"


def test_assignee_must_belong_to_the_team(people: Personas) -> None:
    with pytest.raises(InvalidInput) as error:
        open_conversation(people.customer, team=people.orders, assignee=people.other_agent)
    assert error.value.field == "assignee"


def test_attachment_type_is_sniffed_and_hashed(people: Personas) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    conversation = open_conversation(
        people.customer,
        team=people.orders,
        attachments=[services.Upload("photo.txt", png), services.Upload("../../etc/x", b"hi")],
    )
    photo, text = Attachment.objects.filter(message__conversation=conversation).order_by("id")
    assert photo.content_type == "image/png"  # not trusted from the name
    assert photo.size == len(png)
    assert len(photo.sha256) == 64
    assert photo.file.read() == png
    assert text.filename == ".._.._etc_x"
    assert text.content_type == "text/plain"


def test_attachment_over_the_limit_is_refused(people: Personas, settings: Any) -> None:
    settings.MAX_ATTACHMENT_BYTES = 10
    with pytest.raises(InvalidInput) as error:
        open_conversation(
            people.customer, team=people.orders, attachments=[services.Upload("a.bin", b"x" * 11)]
        )
    assert error.value.field == "attachments"
    assert not Conversation.objects.exists()


def test_html_is_sanitised_and_gives_the_text(people: Personas) -> None:
    conversation = open_conversation(
        people.customer,
        team=people.orders,
        text="",
        html='<p onclick="steal()">Where is <b>my</b> order?<script>alert(1)</script></p>',
    )
    message = conversation.messages.get()
    assert "script" not in message.html
    assert "onclick" not in message.html
    assert message.text == "Where is my order?"


# --- messages ---------------------------------------------------------------------


def test_reply_sets_first_response_opens_and_assigns_the_replier(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    with collected() as seen, django_capture_on_commit_callbacks(execute=True):
        reply = services.add_reply(conversation, by=people.agent, text="It ships today.")
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    assert conversation.first_response_at == reply.created_at
    assert conversation.assignee_id == people.agent.pk
    assert conversation.owner_id == people.agent.pk
    kinds = [type(e) for e in seen]
    assert kinds == [
        events.MessageAdded,
        events.ConversationAssigned,
        events.ConversationStatusChanged,
    ]
    added = seen[0]
    assert isinstance(added, events.MessageAdded)
    assert added.public and added.audience.customer_id == people.customer.pk


def test_second_reply_keeps_first_response_time(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    first = services.add_reply(conversation, by=people.agent, text="Looking into it.")
    services.add_reply(conversation, by=people.agent, text="Found it.")
    conversation.refresh_from_db()
    assert conversation.first_response_at == first.created_at


def test_reply_with_status_pending_waits_for_the_customer(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.add_reply(conversation, by=people.agent, text="Which size?", status=Status.PENDING)
    conversation.refresh_from_db()
    assert conversation.status == Status.PENDING


def test_customer_message_reopens_pending_and_solved(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.add_reply(conversation, by=people.agent, text="Done.", status=Status.SOLVED)
    services.add_customer_message(conversation, by=None, text="It broke again.")
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    assert conversation.solved_at is None
    assert "conversation.status_changed" in actions(conversation)


def test_customer_message_to_closed_conversation_is_refused(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.set_status(conversation, by=people.agent, status=Status.SOLVED)
    services.set_status(conversation, by=people.agent, status=Status.CLOSED)
    with pytest.raises(Conflict):
        services.add_customer_message(conversation, by=None, text="Hello?")
    assert conversation.messages.count() == 1


def test_note_never_reaches_the_customer_audience(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    with collected() as seen, django_capture_on_commit_callbacks(execute=True):
        note = services.add_note(conversation, by=people.agent, text="Customer is a VIP.")
    assert note.kind == MessageKind.NOTE
    (event,) = seen
    assert isinstance(event, events.MessageAdded)
    assert event.public is False
    assert event.audience.customer_id is None
    assert event.audience.team_ids == {people.orders.pk}


def test_agent_of_another_team_cannot_see_or_reply(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    with pytest.raises(NotFound):
        services.add_reply(conversation, by=people.other_agent, text="Hi")
    with pytest.raises(NotFound):
        services.add_note(conversation, by=people.other_agent, text="Hi")
    assert conversation.messages.count() == 1


def test_customer_cannot_write_notes_or_replies(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    with pytest.raises(PermissionDenied):
        services.add_note(conversation, by=people.customer_user, text="sneaky")
    with pytest.raises(PermissionDenied):
        services.add_reply(conversation, by=people.customer_user, text="sneaky")


def test_other_customer_cannot_add_to_a_conversation(people: Personas) -> None:
    conversation = open_conversation(people.other_customer, team=people.orders)
    with pytest.raises(NotFound):
        services.add_customer_message(conversation, by=people.customer_user, text="hi")


def test_see_all_grant_lets_an_agent_work_any_team(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    people.other_agent.sees_all_teams = True
    people.other_agent.save()
    services.add_note(conversation, by=people.other_agent, text="Billing checked the invoice.")
    assert conversation.messages.count() == 2


# --- assignment, teams, transfer -------------------------------------------------------


def test_agent_takes_an_unassigned_conversation(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    updated = services.assign(conversation, by=people.agent, assignee=people.agent)
    assert updated.assignee_id == people.agent.pk
    assert updated.owner_id == people.agent.pk
    assert "conversation.assigned" in actions(conversation)


def test_agent_cannot_take_a_colleagues_conversation_but_supervisor_can(
    people: Personas,
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.assign(conversation, by=people.colleague, assignee=people.colleague)
    with pytest.raises(PermissionDenied) as error:
        services.assign(conversation, by=people.agent, assignee=people.agent)
    assert error.value.field == "assignee"
    updated = services.assign(conversation, by=people.supervisor, assignee=people.agent)
    assert updated.assignee_id == people.agent.pk
    assert updated.owner_id == people.colleague.pk


def test_assign_to_someone_outside_the_team_is_refused(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    with pytest.raises(InvalidInput) as error:
        services.assign(conversation, by=people.supervisor, assignee=people.other_agent)
    assert error.value.field == "assignee"
    with pytest.raises(InvalidInput):
        services.assign(conversation, by=people.supervisor, assignee=people.customer_user)


def test_assigning_the_same_person_twice_writes_once(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.assign(conversation, by=people.agent, assignee=people.agent)
    services.assign(conversation, by=people.agent, assignee=people.agent)
    assert actions(conversation).count("conversation.assigned") == 1


def test_set_team_releases_an_assignee_outside_the_new_team(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.assign(conversation, by=people.agent, assignee=people.agent)
    moved = services.set_team(conversation, by=people.agent, team=people.billing)
    assert moved.team_id == people.billing.pk
    assert moved.assignee_id is None


def test_transfer_keeps_owner_following_up(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.add_reply(conversation, by=people.agent, text="I'll pass you to billing.")
    with collected() as seen, django_capture_on_commit_callbacks(execute=True):
        moved = services.transfer(
            conversation,
            by=people.agent,
            team=people.billing,
            assignee=people.other_agent,
            note="Refund needs billing.",
        )
    assert moved.team_id == people.billing.pk
    assert moved.assignee_id == people.other_agent.pk
    assert moved.owner_id == people.agent.pk
    transferred = [e for e in seen if isinstance(e, events.ConversationTransferred)]
    assert len(transferred) == 1
    assert transferred[0].audience.team_ids == {people.orders.pk, people.billing.pk}
    assert people.agent.pk in transferred[0].audience.user_ids
    assert moved.messages.filter(kind=MessageKind.NOTE, text="Refund needs billing.").exists()
    # The owner keeps following it although it left her team.
    note = services.add_note(moved, by=people.agent, text="Customer called again.")
    assert note.conversation_id == moved.pk


def test_transfer_of_a_colleagues_conversation_needs_a_supervisor(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.assign(conversation, by=people.colleague, assignee=people.colleague)
    with pytest.raises(PermissionDenied):
        services.transfer(conversation, by=people.agent, team=people.billing)
    conversation.refresh_from_db()
    assert conversation.team_id == people.orders.pk


# --- status, priority, tags, fields ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED], Status.OPEN),
        ([Status.SOLVED, Status.OPEN, Status.SOLVED], Status.PENDING),
        ([Status.PENDING], Status.NEW),
    ],
)
def test_status_follows_allowed_transitions(
    people: Personas, path: list[str], refused: str
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    for status in path:
        conversation = services.set_status(conversation, by=people.agent, status=status)
        assert conversation.status == status
    with pytest.raises(Conflict) as error:
        services.set_status(conversation, by=people.agent, status=refused)
    assert error.value.field == "status"
    conversation.refresh_from_db()
    assert conversation.status == path[-1]


def test_solving_and_closing_stamp_their_times(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    at = timezone.now() + timedelta(minutes=5)
    solved = services.set_status(conversation, by=people.agent, status=Status.SOLVED, at=at)
    assert solved.solved_at == at
    closed = services.set_status(solved, by=people.agent, status=Status.CLOSED)
    assert closed.closed_at is not None


def test_solving_needs_required_fields(people: Personas) -> None:
    services.create_field_definition(
        by=people.admin, key="order_number", label="Order number", kind=FieldKind.TEXT,
        required_to_solve=True,
    )  # fmt: skip
    conversation = open_conversation(people.customer, team=people.orders)
    with pytest.raises(InvalidInput) as error:
        services.set_status(conversation, by=people.agent, status=Status.SOLVED)
    assert error.value.field == "custom_fields.order_number"
    services.set_fields(conversation, by=people.agent, values={"order_number": "A-1042"})
    solved = services.set_status(conversation, by=people.agent, status=Status.SOLVED)
    assert solved.status == Status.SOLVED


def test_customer_may_only_mark_solved(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    with pytest.raises(PermissionDenied):
        services.set_status(conversation, by=people.customer_user, status=Status.PENDING)
    solved = services.set_status(conversation, by=people.customer_user, status=Status.SOLVED)
    assert solved.status == Status.SOLVED


def test_set_priority_audits_old_and_new(people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    services.set_priority(conversation, by=people.agent, priority=Priority.URGENT)
    event = Event.objects.get(object_id=conversation.pk, action="conversation.priority_changed")
    assert event.data == {"priority": Priority.URGENT, "previous_priority": Priority.NORMAL}
    with pytest.raises(InvalidInput):
        services.set_priority(conversation, by=people.agent, priority=0)


def test_tags_are_normalised_added_and_removed(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    conversation = open_conversation(people.customer, team=people.orders, tags=["VIP"])
    with collected() as seen, django_capture_on_commit_callbacks(execute=True):
        services.add_tags(conversation, by=people.agent, tags=[" Late Delivery ", "vip"])
        services.remove_tags(conversation, by=people.agent, tags=["VIP"])
    names = sorted(conversation.tags.values_list("name", flat=True))
    assert names == ["late-delivery"]
    changes = [e for e in seen if isinstance(e, events.ConversationTagsChanged)]
    assert [(e.added, e.removed) for e in changes] == [(("late-delivery",), ()), ((), ("vip",))]


@pytest.mark.parametrize(
    ("kind", "good", "stored", "bad"),
    [
        (FieldKind.TEXT, " A-1 ", "A-1", 12),
        (FieldKind.NUMBER, "12.5", 12.5, "twelve"),
        (FieldKind.DATE, "2026-11-23", "2026-11-23", "23/11/2026"),
        (FieldKind.CHOICE, "shoes", "shoes", "hats"),
        (FieldKind.CHECKBOX, True, True, "yes"),
    ],
)
def test_custom_field_values_are_validated_by_kind(
    people: Personas, kind: str, good: Any, stored: Any, bad: Any
) -> None:
    services.create_field_definition(
        by=people.admin, key="f", label="F", kind=kind,
        choices=["shoes", "bags"] if kind == FieldKind.CHOICE else [],
    )  # fmt: skip
    conversation = open_conversation(people.customer, team=people.orders)
    updated = services.set_fields(conversation, by=people.agent, values={"f": good})
    assert updated.custom_fields == {"f": stored}
    with pytest.raises(InvalidInput) as error:
        services.set_fields(conversation, by=people.agent, values={"f": bad})
    assert error.value.field == "custom_fields.f"
    cleared = services.set_fields(conversation, by=people.agent, values={"f": None})
    assert cleared.custom_fields == {}


def test_customer_cannot_set_an_agent_only_field(people: Personas) -> None:
    services.create_field_definition(by=people.admin, key="cost", label="Cost", kind="number")
    conversation = open_conversation(people.customer, team=people.orders)
    with pytest.raises(PermissionDenied) as error:
        services.set_fields(conversation, by=people.customer_user, values={"cost": 3})
    assert error.value.field == "custom_fields.cost"


def test_only_admins_define_fields(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        services.create_field_definition(by=people.agent, key="x", label="X", kind="text")
    with pytest.raises(InvalidInput) as error:
        services.create_field_definition(by=people.admin, key="Bad Key", label="X", kind="text")
    assert error.value.field == "key"
    with pytest.raises(InvalidInput) as error:
        services.create_field_definition(by=people.admin, key="c", label="C", kind="choice")
    assert error.value.field == "choices"


# --- merge --------------------------------------------------------------------------


def test_merge_moves_messages_and_leaves_a_pointer(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    source = open_conversation(people.customer, team=people.orders, tags=["refund"])
    target = open_conversation(people.customer, team=people.orders, subject="Refund status")
    original_ids = set(source.messages.values_list("pk", flat=True))
    with collected() as seen, django_capture_on_commit_callbacks(execute=True):
        services.merge(source, by=people.agent, into=target)
    source.refresh_from_db()
    assert source.merged_into_id == target.pk
    assert source.status == Status.CLOSED
    moved = Message.objects.filter(pk__in=original_ids)
    assert {m.conversation_id for m in moved} == {target.pk}
    assert {m.moved_from_id for m in moved} == {source.pk}
    assert source.messages.filter(kind=MessageKind.SYSTEM).exists()  # the pointer
    assert list(target.tags.values_list("name", flat=True)) == ["refund"]
    merged = [e for e in seen if isinstance(e, events.ConversationsMerged)]
    assert merged[0].source_number == source.number
    assert Conversation.objects.count() == 2  # nothing deleted


def test_merge_refuses_itself_and_already_merged(people: Personas) -> None:
    a = open_conversation(people.customer, team=people.orders)
    b = open_conversation(people.customer, team=people.orders)
    c = open_conversation(people.customer, team=people.orders)
    with pytest.raises(InvalidInput):
        services.merge(a, by=people.agent, into=a)
    services.merge(a, by=people.agent, into=b)
    with pytest.raises(Conflict):
        services.merge(a, by=people.agent, into=c)
    with pytest.raises(Conflict) as error:
        services.merge(c, by=people.agent, into=a)
    assert error.value.field == "into"


def test_merge_into_an_invisible_conversation_is_not_found(people: Personas) -> None:
    mine = open_conversation(people.customer, team=people.orders)
    theirs = open_conversation(people.customer, team=people.billing)
    with pytest.raises(NotFound):
        services.merge(mine, by=people.agent, into=theirs)
    assert Message.objects.filter(conversation=mine).count() == 1


def test_customer_reply_to_a_merged_conversation_lands_in_the_target(people: Personas) -> None:
    source = open_conversation(people.customer, team=people.orders)
    target = open_conversation(people.customer, team=people.orders)
    services.merge(source, by=people.agent, into=target)
    message = services.add_customer_message(source, by=None, text="Any news?")
    assert message.conversation_id == target.pk


# --- atomicity --------------------------------------------------------------------------


def test_failure_after_the_first_write_leaves_nothing(
    people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_audit(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "record_event", broken_audit)
    with pytest.raises(RuntimeError):
        open_conversation(people.customer, team=people.orders, tags=["vip"])
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    monkeypatch.undo()
    conversation = open_conversation(people.customer, team=people.orders)
    monkeypatch.setattr(services, "record_event", broken_audit)
    with pytest.raises(RuntimeError):
        services.add_reply(conversation, by=people.agent, text="Hello")
    conversation.refresh_from_db()
    assert conversation.messages.count() == 1
    assert conversation.assignee_id is None
    assert conversation.first_response_at is None


def test_events_are_not_published_when_the_transaction_rolls_back(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    conversation = open_conversation(people.customer, team=people.orders)
    with collected() as seen, django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            services.add_note(conversation, by=people.agent, text="will vanish")
            _ = 1 / 0
    assert seen == []
    assert conversation.messages.count() == 1


def test_set_tags_replaces_the_set_in_one_audited_change(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    conversation = open_conversation(people.customer, team=people.orders, tags=["vip", "late"])
    with collected() as seen, django_capture_on_commit_callbacks(execute=True):
        services.set_tags(conversation, by=people.agent, tags=["Late", "refund"])
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["late", "refund"]
    (change,) = [e for e in seen if isinstance(e, events.ConversationTagsChanged)]
    assert (change.added, change.removed) == (("refund",), ("vip",))
    services.set_tags(conversation, by=people.agent, tags=["late", "refund"])
    assert actions(conversation).count("conversation.tags_changed") == 1


def test_identical_uploads_share_one_stored_file(people: Personas) -> None:
    first = open_conversation(
        people.customer, team=people.orders, attachments=[services.Upload("a.txt", b"same")]
    )
    services.add_note(
        first, by=people.agent, text="again", attachments=[services.Upload("b.txt", b"same")]
    )
    a, b = Attachment.objects.order_by("id")
    assert a.file.name == b.file.name
    assert (a.filename, b.filename) == ("a.txt", "b.txt")
    assert b.file.read() == b"same"
