"""Notification tests run the reactions' tasks for real, at once, and deliver events on commit."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.accounts.models import User
from frontdesk.conversations.models import Conversation
from frontdesk.core.models import Via
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation

BASE = "https://help.example.com"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _tasks_run_now(settings: Any) -> None:
    settings.TASKS = IMMEDIATE
    settings.BASE_URL = BASE


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    def run() -> Any:
        return django_capture_on_commit_callbacks(execute=True)

    return run


def orders_conversation(people: Personas, *, assignee: User | None = None) -> Conversation:
    """Opened as mail intake would; outside `on_commit`, so its own events tell nobody."""
    return open_conversation(people.customer, team=people.orders, via=Via.EMAIL, assignee=assignee)
