"""A push that cannot be delivered never fails or holds up the change that caused it."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from channels.layers import get_channel_layer

from frontdesk.conversations import services
from frontdesk.conversations.models import Message
from frontdesk.realtime import sender
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

    with caplog.at_level(logging.WARNING, logger="frontdesk.realtime"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            message = services.add_reply(conversation, by=people.agent, text="On its way")
        sent = sender.flush(PUSH_TIMEOUT_S + 3)

    assert callbacks, "the push must have run"
    assert sent
    assert Message.objects.filter(pk=message.pk, text="On its way").exists()
    assert any("realtime push" in r.getMessage() for r in caplog.records)


def test_a_layer_that_does_not_answer_does_not_hold_a_change_up(
    people: Personas,
    settings: Any,
    silent_port: int,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    settings.CHANNEL_LAYERS = redis_layer(silent_port)

    with caplog.at_level(logging.WARNING, logger="frontdesk.realtime"):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            services.set_priority(conversation, by=people.agent, priority=3)
        elapsed = time.monotonic() - started
        # The push itself gives up after its time limit, in the background.
        sent = sender.flush(PUSH_TIMEOUT_S + 3)
        waited = time.monotonic() - started

    conversation.refresh_from_db()
    assert conversation.priority == 3
    # The change did not wait for the push's time limit (a busy machine still answers in 1 s).
    assert elapsed < min(1.0, PUSH_TIMEOUT_S)
    assert sent
    assert waited >= PUSH_TIMEOUT_S
    assert any("realtime push" in r.getMessage() for r in caplog.records)


def test_pushes_past_the_queue_limit_are_dropped_and_logged(
    settings: Any, silent_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CHANNEL_LAYERS = redis_layer(silent_port)
    layer = get_channel_layer()
    assert layer is not None
    queued = sender.Sender(capacity=2)
    notice = [("team-1", {"type": "conversation.changed", "number": 1})]

    with caplog.at_level(logging.WARNING, logger="frontdesk.realtime"):
        started = time.monotonic()
        for _ in range(6):
            queued.submit((layer, notice, 0.5))
        submitted = time.monotonic() - started
        # The first is being sent (and times out); two wait; three had no room.
        assert queued.wait_idle(3 * 0.5 + 3)

    assert submitted < 0.5
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == 1  # one line for the burst, not one per push
    failed = [r for r in caplog.records if "push of 1 messages failed" in r.getMessage()]
    assert 2 <= len(failed) <= 3
