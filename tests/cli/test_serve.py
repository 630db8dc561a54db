"""serve and worker: the long-running commands."""

from __future__ import annotations

import select
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx

from tests.cli.conftest import (
    RunCli,
    cli_environment,
    error_lines,
    free_port,
    frontdesk_command,
)

STARTUP_TIMEOUT_S = 60.0


def start(args: list[str], home: Path, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        frontdesk_command(*args),
        env=cli_environment(home),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"did not stop on SIGTERM:\n{output}") from None
    return process.returncode, output


def test_serve_on_a_port_in_use_fails_with_one_line(run_ready: RunCli) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = run_ready("serve", "--port", str(port), "--no-worker")

    assert result.returncode == 1
    assert error_lines(result) == [f"frontdesk: port {port} is in use"]


def test_serve_with_pending_migrations_fails_with_one_line(run_cli: RunCli, home: Path) -> None:
    home.mkdir()
    sqlite3.connect(home / "frontdesk.sqlite3").close()

    result = run_cli("serve", "--port", str(free_port()))

    assert result.returncode == 1
    assert error_lines(result) == ["frontdesk: migrations pending: run `frontdesk init`"]


def test_serve_before_init_says_to_run_init(run_cli: RunCli, home: Path) -> None:
    result = run_cli("serve", "--port", str(free_port()))

    assert result.returncode == 1
    assert error_lines(result) == [
        f"frontdesk: no database at {home / 'frontdesk.sqlite3'}: run `frontdesk init`"
    ]


def test_serve_on_an_unknown_host_fails_with_one_line(run_ready: RunCli) -> None:
    result = run_ready("serve", "--host", "no-such-host.invalid", "--port", str(free_port()))

    assert result.returncode == 1
    assert error_lines(result) == [
        "frontdesk: cannot listen on no-such-host.invalid: unknown address"
    ]


def test_serve_answers_http_with_its_worker_and_stops_on_sigterm(
    ready_home: Path, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(["serve", "--port", str(port)], ready_home, tmp_path)
    try:
        schema = None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and server.poll() is None:
            try:
                response = httpx.get(f"{base}/api/v1/openapi.json", timeout=5)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            assert response.status_code == 200
            schema = response.json()
            break
        assert schema is not None, "server did not answer in time"
        assert schema["openapi"].startswith("3.")
        static = httpx.get(f"{base}/static/admin/css/base.css", timeout=5)
        assert static.status_code == 200
        assert static.headers["content-type"].startswith("text/css")
    finally:
        code, output = stop(server)

    assert code == 0, output
    assert "background worker" in output


def test_worker_runs_until_sigterm(ready_home: Path, tmp_path: Path) -> None:
    worker = start(["worker"], ready_home, tmp_path)
    try:
        assert worker.stdout is not None
        ready, _, _ = select.select([worker.stdout], [], [], STARTUP_TIMEOUT_S)
        assert ready, "worker printed nothing in time"
        first = worker.stdout.readline()
        assert first.startswith("Frontdesk worker "), first
    finally:
        code, output = stop(worker)

    assert code == 0, output


def test_worker_before_init_says_to_run_init(run_cli: RunCli, home: Path) -> None:
    result = run_cli("worker")

    assert result.returncode == 1
    assert error_lines(result) == [
        f"frontdesk: no database at {home / 'frontdesk.sqlite3'}: run `frontdesk init`"
    ]
