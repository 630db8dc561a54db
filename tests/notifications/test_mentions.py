"""@-mentions in notes: the handle rule, and who is told (only those who may see the note)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext as _

from frontdesk.accounts.mentions import (
    MAX_MENTIONS,
    handle_for,
    handles_for,
    handles_in,
    users_for_handles,
)
from frontdesk.accounts.models import Role
from frontdesk.accounts.services import update_preferences
from frontdesk.conversations import services
from frontdesk.conversations.permissions import can_see
from frontdesk.core.errors import NotFound
from frontdesk.core.models import Via
from frontdesk.notifications.models import Notification, NotificationKind
from frontdesk.notifications.selectors import list_mention_candidates
from tests.conftest import Personas, make_user
from tests.notifications.conftest import BASE, orders_conversation

# --- the handle rule ------------------------------------------------------------------------


def test_handles_are_words_after_an_at_sign_but_not_addresses() -> None:
    text = "@Anna please ask bob@example.com, then tell @carl. (@sue) and @anna again; a@b"

    assert handles_in(text) == ["anna", "carl", "sue"]


def test_a_whole_address_is_a_handle_too() -> None:
    assert handles_in("ping @anna@example.org.") == ["anna@example.org"]


def test_a_note_names_at_most_so_many_people() -> None:
    text = " ".join(f"@person{i}" for i in range(MAX_MENTIONS + 5))

    assert len(handles_in(text)) == MAX_MENTIONS


@pytest.mark.django_db
def test_the_handle_is_the_local_part_unless_another_colleague_shares_it(
    people: Personas,
) -> None:
    other_anna = make_user("anna@example.org", Role.AGENT, teams=(people.billing,))
    make_user("carl@customer.example", Role.CUSTOMER)  # customers have no handle

    handles = handles_for([people.agent, other_anna, people.colleague])

    assert handles == {
        people.agent.pk: "anna@example.com",
        other_anna.pk: "anna@example.org",
        people.colleague.pk: "carl",
    }
    # A shared short handle means nobody; the whole address means one person.
    assert users_for_handles(["anna"]) == []
    assert users_for_handles(["anna@example.org", "carl", "nobody"]) == [
        other_anna,
        people.colleague,
    ]


@pytest.mark.django_db
def test_handles_ignore_case(people: Personas) -> None:
    assert handle_for(people.supervisor) == "sue"
    assert users_for_handles(handles_in("@SUE")) == [people.supervisor]


# --- who is told ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_mention_tells_the_colleague_under_the_bell_and_by_mail(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    conversation = orders_conversation(people)

    with on_commit():
        note = services.add_note(
            conversation, by=people.agent, text="@carl can you call the courier?", via=Via.WEB
        )

    (row,) = Notification.objects.all()
    assert (row.recipient, row.kind, row.actor, row.message_id) == (
        people.colleague,
        NotificationKind.MENTIONED,
        people.agent,
        note.pk,
    )
    assert row.excerpt == "@carl can you call the courier?"
    (sent,) = mailoutbox
    assert sent.to == [people.colleague.email]
    assert sent.subject == f"[#{conversation.number}] Anna mentioned you: Parcel never arrived"
    body = str(sent.body)
    assert "@carl can you call the courier?" in body
    assert f"{BASE}/conversations/{conversation.number}/#message-{note.pk}" in body


@pytest.mark.django_db
def test_someone_who_cannot_see_the_conversation_is_not_told(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    conversation = orders_conversation(people)
    assert not can_see(people.other_agent, conversation)

    with on_commit():
        services.add_note(conversation, by=people.agent, text="@bob @sue look", via=Via.WEB)

    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [
        people.supervisor.pk
    ]
    assert [m.to for m in mailoutbox] == [[people.supervisor.email]]
    assert not Notification.objects.filter(recipient=people.other_agent).exists()


@pytest.mark.django_db
def test_mentioning_yourself_or_in_a_reply_or_as_the_system_tells_nobody(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    conversation = orders_conversation(people, assignee=people.agent)

    with on_commit():
        services.add_note(conversation, by=people.agent, text="note to self @anna", via=Via.WEB)
        services.add_reply(conversation, by=people.agent, text="Hi @carl", via=Via.WEB)
        services.add_note(conversation, by=people.agent, text="@carl import", via=Via.SYSTEM)

    assert not Notification.objects.exists()
    assert mailoutbox == []


@pytest.mark.django_db
def test_mention_mail_off_still_rings_the_bell(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    update_preferences(people.colleague, by=people.colleague, notify_on_mention=False)
    conversation = orders_conversation(people)

    with on_commit():
        services.add_note(conversation, by=people.agent, text="@carl see above", via=Via.WEB)

    assert Notification.objects.filter(recipient=people.colleague).count() == 1
    assert mailoutbox == []


@pytest.mark.django_db
def test_mention_mail_is_in_the_recipients_language(
    people: Personas, on_commit: Any, mailoutbox: list[mail.EmailMessage]
) -> None:
    update_preferences(people.colleague, by=people.colleague, language="cs")
    conversation = orders_conversation(people)

    with on_commit():
        services.add_note(conversation, by=people.agent, text="@carl prosím", via=Via.WEB)

    (sent,) = mailoutbox
    with translation.override("cs"):
        expected = _("[#%(number)s] %(actor)s mentioned you: %(subject)s") % {
            "number": conversation.number,
            "actor": "Anna",
            "subject": "Parcel never arrived",
        }
        status = conversation.get_status_display()
    assert status != "New"
    assert sent.subject == expected
    assert f"{status}," in str(sent.body)
    assert translation.get_language() != "cs"


@pytest.mark.django_db
def test_a_transfer_note_mentions_the_new_teams_agent(people: Personas, on_commit: Any) -> None:
    conversation = orders_conversation(people, assignee=people.agent)

    with on_commit():
        services.transfer(
            conversation,
            by=people.supervisor,
            team=people.billing,
            note="@bob over to you",
            via=Via.WEB,
        )

    assert Notification.objects.filter(
        recipient=people.other_agent, kind=NotificationKind.MENTIONED
    ).exists()


# --- the composer's suggestions -------------------------------------------------------------


@pytest.mark.django_db
def test_suggestions_are_the_colleagues_who_can_see_it(people: Personas) -> None:
    conversation = orders_conversation(people)
    everyone = [people.admin, people.supervisor, people.colleague, people.other_agent]

    found = list_mention_candidates(people.agent, conversation.number)

    assert [(c.handle, c.name) for c in found] == [
        ("admin", "Ada Admin"),
        ("carl", "Carl"),
        ("sue", "Sue Visor"),
    ]
    # The same people as the permission check that guards the note itself.
    assert {c.handle for c in found} == {
        handle_for(u) for u in everyone if can_see(u, conversation)
    }


@pytest.mark.django_db
def test_suggestions_match_the_start_of_a_name_or_address(people: Personas) -> None:
    conversation = orders_conversation(people)

    assert [
        c.handle for c in list_mention_candidates(people.agent, conversation.number, prefix="vis")
    ] == ["sue"]
    assert [
        c.handle for c in list_mention_candidates(people.agent, conversation.number, prefix="@CA")
    ] == ["carl"]


@pytest.mark.django_db
def test_no_suggestions_for_a_conversation_one_cannot_see(people: Personas) -> None:
    conversation = orders_conversation(people)

    with pytest.raises(NotFound):
        list_mention_candidates(people.other_agent, conversation.number)
