"""Presence: online, away, offline."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.accounts.events import PresenceChanged
from frontdesk.accounts.models import Presence, User
from frontdesk.accounts.services import set_presence
from frontdesk.core.errors import InvalidInput, PermissionDenied
from frontdesk.core.events import Audience
from frontdesk.core.models import Event
from tests.conftest import Personas
from tests.events import collected


def test_agent_goes_online_and_their_team_hears_of_it(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(PresenceChanged) as seen, django_capture_on_commit_callbacks(execute=True):
        user = set_presence(people.agent, by=people.agent, presence=Presence.ONLINE)

    assert user.presence == Presence.ONLINE
    assert seen == [
        PresenceChanged(
            audience=Audience(
                user_ids=frozenset({people.agent.pk}), team_ids=frozenset({people.orders.pk})
            ),
            user_id=people.agent.pk,
            presence=Presence.ONLINE,
            previous=Presence.OFFLINE,
        )
    ]
    audit = Event.objects.get(action="user.presence_changed")
    assert audit.data == {"from": "offline", "to": "online"}


def test_setting_the_same_presence_writes_and_announces_nothing(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(PresenceChanged) as seen, django_capture_on_commit_callbacks(execute=True):
        set_presence(people.agent, by=people.agent, presence=Presence.OFFLINE)

    assert seen == []
    assert not Event.objects.filter(action="user.presence_changed").exists()


def test_supervisor_may_set_an_agent_away(people: Personas) -> None:
    user = set_presence(people.agent, by=people.supervisor, presence=Presence.AWAY)

    assert user.presence == Presence.AWAY


def test_agent_may_not_set_a_colleagues_presence(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        set_presence(people.colleague, by=people.agent, presence=Presence.AWAY)

    assert User.objects.get(pk=people.colleague.pk).presence == Presence.OFFLINE


def test_unknown_presence_is_refused(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        set_presence(people.agent, by=people.agent, presence="on holiday")

    assert refused.value.field == "presence"
