"""A push that cannot be delivered never fails or holds up the change that caused it."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from frontdesk.conversations import services
from frontdesk.conversations.models import Message
from frontdesk.realtime.reactions import PUSH_TIMEOUT_S
from tests.cli.conftest import free_port
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation


def redis_layer(port: int) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{port}/0"]},
        }
    }


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_reply_is_saved_when_the_channel_layer_is_down(
    people: Personas,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    settings.CHANNEL_LAYERS = redis_layer(free_port())  # free a moment ago: nothing listens

    with (
        caplog.at_level(logging.WARNING, logger="frontdesk.realtime.reactions"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        message = services.add_reply(conversation, by=people.agent, text="On its way")

    assert callbacks, "the push must have run"
    assert Message.objects.filter(pk=message.pk, text="On its way").exists()
    assert any("realtime push" in r.getMessage() for r in caplog.records)


def test_a_layer_that_does_not_answer_holds_a_change_up_only_briefly(
    people: Personas,
    settings: Any,
    silent_port: int,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    settings.CHANNEL_LAYERS = redis_layer(silent_port)

    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger="frontdesk.realtime.reactions"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.set_priority(conversation, by=people.agent, priority=3)
    elapsed = time.monotonic() - started

    conversation.refresh_from_db()
    assert conversation.priority == 3
    # One timeout for the one push; a few seconds of slack for a busy machine.
    assert elapsed < PUSH_TIMEOUT_S + 3
    assert any("realtime push" in r.getMessage() for r in caplog.records)
