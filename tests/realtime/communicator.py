"""A websocket test client for the ASGI application, in the test's own event loop.

Channels ships one (`channels.testing.WebsocketCommunicator`), but importing
`channels.testing` imports Daphne, a server Frontdesk does not use, and
asgiref's ApplicationCommunicator under it is untyped; this is the little
these tests need.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

from frontdesk.asgi import application

AsgiMessage = MutableMapping[str, Any]


class WebsocketCommunicator:
    def __init__(self, path: str, *, headers: list[tuple[bytes, bytes]]) -> None:
        self.scope: AsgiMessage = {
            "type": "websocket",
            "path": path,
            "query_string": b"",
            "headers": headers,
            "subprotocols": [],
        }
        self._to_app: asyncio.Queue[AsgiMessage] = asyncio.Queue()
        self._from_app: asyncio.Queue[AsgiMessage] = asyncio.Queue()
        self._app: asyncio.Task[None] | None = None

    async def _send(self, message: AsgiMessage) -> None:
        await self._from_app.put(message)

    async def send_input(self, message: AsgiMessage) -> None:
        if self._app is None:
            self._app = asyncio.ensure_future(application(self.scope, self._to_app.get, self._send))
        await self._to_app.put(message)

    async def receive_output(self, timeout: float = 2) -> AsgiMessage:
        getting = asyncio.ensure_future(self._from_app.get())
        waiting: set[asyncio.Future[Any]] = {getting}
        if self._app is not None:
            waiting.add(self._app)
        done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if getting in done:
            return getting.result()
        getting.cancel()
        if self._app is not None and self._app in done:
            self._app.result()  # the application's own error, if it failed
            raise AssertionError("the application ended without sending anything")
        raise TimeoutError(f"nothing from the application in {timeout} s")

    async def receive_nothing(self, timeout: float = 0.3) -> bool:
        """True if the application sends nothing within `timeout`."""
        await asyncio.sleep(timeout)
        return self._from_app.empty()

    async def connect(self, timeout: float = 2) -> bool:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        return bool(response["type"] == "websocket.accept")

    async def send_to(self, *, text_data: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def send_json_to(self, data: Any) -> None:
        await self.send_to(text_data=json.dumps(data))

    async def receive_json_from(self, timeout: float = 2) -> Any:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 2) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        if self._app is not None:
            try:
                await asyncio.wait_for(self._app, timeout)
            finally:
                self._app.cancel()
