"""Automation tests: reactions run as after a real commit, tasks run at once, rules are made
through the services, conversations are opened as a channel opens them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from frontdesk.accounts.models import Team
from frontdesk.automation import services as automation
from frontdesk.automation.models import Trigger
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation
from frontdesk.core.models import Event, Via
from frontdesk.customers.models import Customer
from tests.conftest import Personas

# The SLA tests' fixtures: `live` (on-commit reactions run) and `office` (a Prague calendar).
from tests.sla.conftest import live, office  # noqa: F401

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

Live = Callable[[], AbstractContextManager[Any]]
Open = Callable[..., Conversation]
MakeTrigger = Callable[..., Trigger]


@pytest.fixture(autouse=True)
def _tasks_run_now(settings: Any) -> None:
    settings.TASKS = IMMEDIATE


@pytest.fixture
def open_conversation(people: Personas) -> Open:
    """A customer's new conversation as mail intake opens it."""

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
            team=team if team is not None else people.orders,
            via=via,
            **extra,
        )

    return make


@pytest.fixture
def make_trigger(people: Personas) -> MakeTrigger:
    def make(name: str, events: list[str], actions: list[dict[str, Any]], **extra: Any) -> Trigger:
        return automation.create_trigger(
            by=people.admin, name=name, events=events, actions=actions, **extra
        )

    return make


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)


def tags_of(conversation: Conversation) -> set[str]:
    return set(conversation.tags.values_list("name", flat=True))


def events_of(conversation: Conversation, action: str) -> list[Event]:
    return list(
        Event.objects.filter(object_type="conversation", object_id=conversation.pk, action=action)
    )
