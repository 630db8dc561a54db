"""`frontdesk mail listen`: a child process serving SMTP/LMTP on the test database."""

from __future__ import annotations

import signal
import smtplib
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from frontdesk.conversations.models import Conversation
from frontdesk.mail.models import InboundMessage
from frontdesk.mail.services import create_mailbox
from tests.cli.conftest import RunCli, cli_environment, error_lines, free_port, frontdesk_command
from tests.conftest import Personas
from tests.mail.conftest import wait_for_port
from tests.mail.test_intake import mail
from tests.mail.test_listener import on_the_wire
from tests.realtime.sessions import shareable_test_database
from tests.realtime.test_across_processes import _database_url

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
SUPPORT = "support@frontdesk.example"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def test_database_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a child that works on this test's database."""
    if not shareable_test_database():
        pytest.skip("a child process needs PostgreSQL or a file SQLite test database")
    return cli_environment(
        tmp_path / "home",
        FRONTDESK_DATABASE_URL=_database_url(),
        FRONTDESK_SECRET_KEY=settings.SECRET_KEY,
    )


Listener = tuple[subprocess.Popen[str], int]


@pytest.fixture
def start_listener(
    test_database_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[..., Listener]]:
    """Start `frontdesk mail listen OPTIONS` and wait for its port; killed if still alive."""
    started: list[subprocess.Popen[str]] = []

    def start(*options: str) -> Listener:
        port = free_port()
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            frontdesk_command("mail", "listen", "--port", str(port), *options),
            env=test_database_env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        try:
            wait_for_port(port, timeout=STARTUP_TIMEOUT_S, alive=lambda: process.poll() is None)
        except (RuntimeError, TimeoutError) as error:
            process.kill()
            out, err = process.communicate(timeout=STOP_TIMEOUT_S)
            raise AssertionError(f"the listener did not start ({error}):\n{out}\n{err}") from None
        return process, port

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=STOP_TIMEOUT_S)


@pytest.mark.parametrize("lmtp", [False, True], ids=["smtp", "lmtp"])
def test_listen_takes_in_a_message_and_stops_on_sigterm(
    people: Personas, start_listener: Callable[..., Listener], lmtp: bool
) -> None:
    create_mailbox(by=None, name="Support", email=SUPPORT, default_team=people.orders)
    process, port = start_listener(*(["--lmtp"] if lmtp else []))
    client_class = smtplib.LMTP if lmtp else smtplib.SMTP

    with client_class("127.0.0.1", port, timeout=STOP_TIMEOUT_S) as session:
        session.ehlo()
        session.mail("jane@example.com")
        session.rcpt(SUPPORT)
        code, reply = session.data(on_the_wire(mail()))
    stored = Conversation.objects.get()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=STOP_TIMEOUT_S)

    assert (code, reply) == (250, f"2.0.0 OK created #{stored.number}".encode())
    assert stored.team == people.orders
    assert InboundMessage.objects.get().source == f"{'lmtp' if lmtp else 'smtp'}:{SUPPORT}"
    assert process.returncode == 0, err
    protocol = "LMTP" if lmtp else "SMTP"
    assert f"Frontdesk {protocol} listener on 127.0.0.1:{port}" in out
    assert "Traceback" not in err


def test_listen_on_a_busy_port_fails_with_one_line(
    test_database_env: dict[str, str], tmp_path: Path
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            frontdesk_command("mail", "listen", "--port", str(port)),
            env=test_database_env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=STARTUP_TIMEOUT_S,
            check=False,
        )

    assert result.returncode == 1
    assert error_lines(result) == [f"frontdesk: port {port} is in use"]


def test_listen_on_an_address_of_another_machine_fails_with_one_line(
    test_database_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    # TEST-NET-1 (RFC 5737): never an address of this machine.
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        frontdesk_command("mail", "listen", "--host", "192.0.2.1", "--port", str(port)),
        env=test_database_env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
        check=False,
    )

    assert result.returncode == 1
    lines = error_lines(result)
    assert len(lines) == 1
    assert lines[0].startswith(f"frontdesk: cannot listen on 192.0.2.1:{port}: ")


@pytest.mark.django_db(transaction=False)
def test_listen_without_a_database_fails_with_one_line(run_cli: RunCli) -> None:
    result = run_cli("mail", "listen", FRONTDESK_DATABASE_URL="postgres://postgres@127.0.0.1:1/x")

    assert result.returncode == 3
    lines = error_lines(result)
    assert len(lines) == 1
    assert lines[0].startswith("frontdesk: cannot connect to the database at postgres://")
