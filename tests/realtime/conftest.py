"""Sockets against the whole ASGI application: origin check, session auth, routing."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.accounts.models import User
from tests.realtime.communicator import WebsocketCommunicator
from tests.realtime.sessions import session_cookie

ORIGIN = "http://127.0.0.1"
IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(autouse=True)
def _fresh_in_memory_layer(settings: Any) -> None:
    # Assigning the setting also drops the cached layer, so no group outlives a test.
    settings.CHANNEL_LAYERS = IN_MEMORY


def headers_for(user: User | None, *, origin: str = ORIGIN) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", origin.encode())]
    if user is not None:
        name, value = session_cookie(user)
        headers.append((b"cookie", f"{name}={value}".encode()))
    return headers


async def open_socket(headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator("/ws/live/", headers=headers)
    assert await communicator.connect()
    return communicator
