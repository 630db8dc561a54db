"""Run the `frontdesk` command as a user would: a child process with its own data dir.

The child gets a fresh FRONTDESK_HOME and its own SQLite file, never the test
database and never a developer's real data.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

ADMIN_EMAIL = "boss@example.com"
ADMIN_PASSWORD = "violet tractor harbour 42"

_INHERITED_OUT = (
    "FRONTDESK_DATABASE_URL",
    "FRONTDESK_SECRET_KEY",
    "FRONTDESK_SECRET_KEY_FILE",
    "FRONTDESK_REDIS_URL",
)

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def cli_environment(home: Path, **overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _INHERITED_OUT}
    env["FRONTDESK_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


def frontdesk_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "frontdesk.cli", *args]


def run_frontdesk(
    *args: str, env: Mapping[str, str], cwd: Path, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        frontdesk_command(*args),
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stderr.strip().splitlines()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def query(home: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the child's SQLite database directly, to see what a command really wrote."""
    with sqlite3.connect(home / "frontdesk.sqlite3") as db:
        return db.execute(sql, params).fetchall()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def run_cli(home: Path, tmp_path: Path) -> RunCli:
    """Run frontdesk with a fresh home; keyword arguments become environment variables."""

    def run(*args: str, timeout_s: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        return run_frontdesk(
            *args, env=cli_environment(home, **env), cwd=tmp_path, timeout_s=timeout_s
        )

    return run


@pytest.fixture(scope="module")
def ready_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home on which `frontdesk init` has run once, shared by a module's tests."""
    base = tmp_path_factory.mktemp("ready")
    home = base / "home"
    result = run_frontdesk(
        "init",
        "--admin-email",
        ADMIN_EMAIL,
        "--admin-password",
        ADMIN_PASSWORD,
        env=cli_environment(home),
        cwd=base,
    )
    assert result.returncode == 0, result.stderr
    return home


@pytest.fixture
def run_ready(ready_home: Path, tmp_path: Path) -> RunCli:
    """Run frontdesk against the initialised home."""

    def run(*args: str, timeout_s: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        return run_frontdesk(
            *args, env=cli_environment(ready_home, **env), cwd=tmp_path, timeout_s=timeout_s
        )

    return run
