"""create_tag, rename_tag and delete_tag: admins manage the tag list."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.conversations.events import TagChanged
from frontdesk.conversations.models import ConversationTag, Tag
from frontdesk.conversations.services import create_tag, delete_tag, rename_tag
from frontdesk.core.errors import Conflict, InvalidInput, PermissionDenied
from frontdesk.core.models import Event, Via
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.events import collected


def test_admin_creates_a_tag_normalised(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(TagChanged) as seen, django_capture_on_commit_callbacks(execute=True):
        tag = create_tag(by=people.admin, name="  Late Delivery ", via=Via.WEB)

    assert tag.name == "late-delivery"
    audit = Event.objects.get(action="tag.created")
    assert (audit.object_id, audit.actor_id) == (tag.pk, people.admin.pk)
    assert [(e.tag_id, e.change) for e in seen] == [(tag.pk, "created")]  # type: ignore[attr-defined]


def test_duplicate_and_bad_names_are_refused_on_the_name_field(people: Personas) -> None:
    create_tag(by=people.admin, name="vip")

    with pytest.raises(Conflict) as duplicate:
        create_tag(by=people.admin, name="VIP")
    with pytest.raises(InvalidInput) as bad:
        create_tag(by=people.admin, name="a,b")

    assert duplicate.value.field == "name"
    assert bad.value.field == "name"


def test_agents_may_not_manage_tags(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        create_tag(by=people.agent, name="vip")


def test_rename_keeps_the_tag_on_its_conversations(people: Personas) -> None:
    conv = open_conversation(people.customer, team=people.orders, tags=["refund"])
    tag = Tag.objects.get(name="refund")

    renamed = rename_tag(tag, by=people.admin, name="Refunds")

    assert renamed.pk == tag.pk
    assert list(conv.tags.values_list("name", flat=True)) == ["refunds"]
    assert Event.objects.get(action="tag.renamed").data == {"from": "refund", "to": "refunds"}


def test_rename_onto_an_existing_name_is_a_conflict(people: Personas) -> None:
    create_tag(by=people.admin, name="vip")
    other = create_tag(by=people.admin, name="gold")

    with pytest.raises(Conflict) as caught:
        rename_tag(other, by=people.admin, name="vip")

    assert caught.value.field == "name"
    assert Tag.objects.get(pk=other.pk).name == "gold"


def test_delete_removes_the_tag_from_conversations_and_audits_the_count(
    people: Personas,
) -> None:
    conv = open_conversation(people.customer, team=people.orders, tags=["refund", "vip"])
    tag = Tag.objects.get(name="refund")

    delete_tag(tag, by=people.admin, via=Via.WEB)

    assert not Tag.objects.filter(name="refund").exists()
    assert list(conv.tags.values_list("name", flat=True)) == ["vip"]
    assert ConversationTag.objects.count() == 1
    audit = Event.objects.get(action="tag.deleted")
    assert audit.data == {"name": "refund", "conversations": 1}
