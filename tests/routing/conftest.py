"""Routing tests: a support team of online agents, rules, and conversations opened through
the services. Tasks run inline (the immediate backend) when a test lets commit callbacks run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from frontdesk.accounts.models import Presence, Role, Skill, Team, User
from frontdesk.accounts.services import set_presence
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation
from frontdesk.core.models import Via
from frontdesk.customers.models import Customer
from frontdesk.routing import services as routing
from frontdesk.routing.models import AssignmentMode
from tests.conftest import Personas, make_user

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _tasks_inline(settings: Any) -> None:
    settings.TASKS = IMMEDIATE


def make_agent(
    email: str,
    team: Team,
    *,
    presence: str = Presence.ONLINE,
    languages: tuple[str, ...] = (),
    skills: tuple[str, ...] = (),
) -> User:
    user = make_user(email, Role.AGENT, teams=(team,), languages=list(languages))
    for name in skills:
        user.skills.add(Skill.objects.get_or_create(name=name)[0])
    if presence != Presence.OFFLINE:
        set_presence(user, by=None, presence=presence)
    return User.objects.get(pk=user.pk)


def auto_team(team: Team, mode: str = AssignmentMode.ROUND_ROBIN, capacity: int = 10) -> Team:
    routing.update_team_routing(team, by=None, mode=mode, default_capacity=capacity)
    return team


Open = Callable[..., Conversation]


@pytest.fixture
def open_conversation(people: Personas) -> Open:
    """A customer's new conversation as a channel opens it (via email unless told)."""

    def make(
        subject: str = "Parcel never arrived",
        *,
        text: str = "Order 1042 was due on Monday and is still not here.",
        team: Team | None = None,
        customer: Customer | None = None,
        channel: str = "email",
        via: str = Via.EMAIL,
        **extra: Any,
    ) -> Conversation:
        return services.create_conversation(
            by=None,
            customer=customer or people.customer,
            subject=subject,
            channel=channel,
            text=text,
            team=team,
            via=via,
            **extra,
        )

    return make


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)
