"""Two `frontdesk serve` processes sharing Redis: notices and presence reach both."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import redis
from django.conf import settings
from django.db import connection
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from frontdesk.accounts.models import User
from frontdesk.conversations import services
from tests.cli.conftest import cli_environment, free_port, frontdesk_command
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.realtime.sessions import session_cookie, shareable_test_database

# A database number of its own, so these tests never meet another user of the server.
REDIS_URL = os.environ.get("FRONTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
STARTUP_TIMEOUT_S = 60.0
RECEIVE_TIMEOUT_S = 5.0

pytestmark = pytest.mark.django_db(transaction=True)


def _redis_unreachable() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except (redis.RedisError, OSError) as exc:
        return f"no Redis at {REDIS_URL} ({exc}); set FRONTDESK_TEST_REDIS_URL"
    return None


def _database_url() -> str:
    """The test database, as a URL another process can open."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{user}{password}@{host}/{db['NAME']}"


@pytest.fixture
def redis_layer(settings: Any) -> None:
    reason = _redis_unreachable()
    if reason:
        pytest.skip(reason)
    if not shareable_test_database():
        pytest.skip("server processes need PostgreSQL or a file SQLite test database")
    # Changes made here publish on commit in this process: through Redis, like the servers.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }


Server = Callable[[], int]


@pytest.fixture
def server(redis_layer: None, tmp_path: Path) -> Iterator[Server]:
    """Start `frontdesk serve --no-worker` processes on the test database; returns the port."""
    started: list[subprocess.Popen[str]] = []

    def start() -> int:
        port = free_port()
        env = cli_environment(
            tmp_path / f"home-{port}",
            FRONTDESK_DATABASE_URL=_database_url(),
            FRONTDESK_REDIS_URL=REDIS_URL,
            FRONTDESK_SECRET_KEY=settings.SECRET_KEY,
        )
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            frontdesk_command("serve", "--no-worker", "--port", str(port)),
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/login/", timeout=5)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            return port
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"server did not start:\n{output}")

    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def live_socket(port: int, user: User) -> ClientConnection:
    name, value = session_cookie(user)
    return connect(
        f"ws://127.0.0.1:{port}/ws/live/",
        origin=Origin(f"http://127.0.0.1:{port}"),
        additional_headers={"Cookie": f"{name}={value}"},
        open_timeout=10,
    )


def wait_for(socket: ClientConnection, wanted: Callable[[Any], bool]) -> Any:
    """The first message `wanted` accepts; others (earlier presence states) are skipped."""
    deadline = time.monotonic() + RECEIVE_TIMEOUT_S
    seen = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(socket.recv(timeout=left))
        except TimeoutError:
            break
        if wanted(message):
            return message
        seen.append(message)
    raise AssertionError(f"nothing wanted arrived; got {seen}")


def presence_is(number: int, viewers: list[dict[str, Any]]) -> Callable[[Any], bool]:
    return lambda m: m == {"event": "presence", "number": number, "viewers": viewers}


def test_agents_on_two_servers_hear_of_a_change_and_see_each_other(
    people: Personas, server: Server
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    number = conversation.number
    anna = {"id": people.agent.pk, "name": people.agent.display_name}
    carl = {"id": people.colleague.pk, "name": people.colleague.display_name}
    first, second = server(), server()

    with (
        live_socket(first, people.agent) as anna_socket,
        live_socket(second, people.colleague) as carl_socket,
    ):
        anna_socket.send(json.dumps({"action": "view", "number": number}))
        wait_for(anna_socket, presence_is(number, []))
        carl_socket.send(json.dumps({"action": "view", "number": number}))
        wait_for(carl_socket, presence_is(number, [anna | {"typing": False}]))
        wait_for(anna_socket, presence_is(number, [carl | {"typing": False}]))

        carl_socket.send(json.dumps({"action": "typing", "number": number, "typing": True}))
        wait_for(anna_socket, presence_is(number, [carl | {"typing": True}]))

        services.add_note(conversation, by=people.supervisor, text="Call the courier")
        notice = {"event": "conversation_changed", "number": number, "kind": "MessageAdded"}
        assert wait_for(anna_socket, lambda m: m["event"] == "conversation_changed") == notice
        assert wait_for(carl_socket, lambda m: m["event"] == "conversation_changed") == notice

        anna_socket.send(json.dumps({"action": "leave", "number": number}))
        wait_for(carl_socket, presence_is(number, []))
        anna_socket.send(json.dumps({"action": "view", "number": number}))
        wait_for(carl_socket, presence_is(number, [anna | {"typing": False}]))
        wait_for(anna_socket, presence_is(number, [carl | {"typing": True}]))
