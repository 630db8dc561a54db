from __future__ import annotations

import os
import pty
import select
import stat
import time
from pathlib import Path

from tests.cli.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    RunCli,
    cli_environment,
    error_lines,
    frontdesk_command,
    query,
)


def admins(home: Path) -> list[tuple[str, int, int]]:
    rows = query(
        home,
        "SELECT email, is_staff, is_active FROM accounts_user WHERE role = 'admin' ORDER BY id",
    )
    return [(str(email), int(staff), int(active)) for email, staff, active in rows]


def test_init_without_flags_or_terminal_generates_an_admin_and_prints_the_login(
    run_cli: RunCli, home: Path
) -> None:
    result = run_cli("init")

    assert result.returncode == 0, result.stderr
    assert "Admin login: admin@example.com" in result.stdout
    password = next(
        line.split(":", 1)[1].strip()
        for line in result.stdout.splitlines()
        if line.startswith("Password:")
    )
    assert len(password) >= 12
    assert (home / "initial_admin_password").read_text().strip() == password
    assert admins(home) == [("admin@example.com", 1, 1)]


def test_init_stores_a_private_secret_key_when_none_is_configured(
    run_cli: RunCli, home: Path
) -> None:
    result = run_cli("init")

    assert result.returncode == 0, result.stderr
    key_file = home / "secret_key"
    assert len(key_file.read_text().strip()) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_init_leaves_a_configured_secret_key_out_of_the_data_dir(
    run_cli: RunCli, home: Path
) -> None:
    result = run_cli("init", FRONTDESK_SECRET_KEY="from-the-environment")

    assert result.returncode == 0, result.stderr
    assert not (home / "secret_key").exists()


def test_init_with_flags_creates_that_admin_and_prints_no_password(
    run_cli: RunCli, home: Path
) -> None:
    result = run_cli("init", "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD)

    assert result.returncode == 0, result.stderr
    assert f"Admin login: {ADMIN_EMAIL}" in result.stdout
    assert ADMIN_PASSWORD not in result.stdout
    assert not (home / "initial_admin_password").exists()
    assert admins(home) == [(ADMIN_EMAIL, 1, 1)]


def test_second_init_succeeds_and_creates_no_second_admin(run_cli: RunCli, home: Path) -> None:
    first = run_cli("init")
    key = (home / "secret_key").read_text()

    second = run_cli("init", "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "Admin: admin@example.com (already exists; no new admin created)" in second.stdout
    assert admins(home) == [("admin@example.com", 1, 1)]
    assert (home / "secret_key").read_text() == key


def test_init_with_a_weak_password_fails_with_one_line_and_creates_no_admin(
    run_cli: RunCli, home: Path
) -> None:
    result = run_cli("init", "--admin-email", ADMIN_EMAIL, "--admin-password", "1234")

    assert result.returncode == 1
    [line] = error_lines(result)
    assert line.startswith("frontdesk: password: ")
    assert admins(home) == []


def test_init_with_a_malformed_email_fails_with_one_line(run_cli: RunCli) -> None:
    result = run_cli("init", "--admin-email", "not-an-email", "--admin-password", ADMIN_PASSWORD)

    assert result.returncode == 1
    assert error_lines(result) == ["frontdesk: email: not-an-email is not an email address."]


def test_init_with_an_unreachable_database_fails_with_one_line(run_cli: RunCli) -> None:
    result = run_cli("init", FRONTDESK_DATABASE_URL="postgres://postgres@127.0.0.1:1/x")

    assert result.returncode == 3
    [line] = error_lines(result)
    assert line.startswith(
        "frontdesk: cannot connect to the database at postgres://postgres@127.0.0.1:1/x: "
    )


def _read_until(fd: int, marker: str, seen: list[str], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while marker not in "".join(seen):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} in {''.join(seen)!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                chunk = b""
            assert chunk, f"child ended before {marker!r}: {''.join(seen)!r}"
            seen.append(chunk.decode(errors="replace"))


def test_init_on_a_terminal_prompts_for_the_missing_admin_login(home: Path, tmp_path: Path) -> None:
    env = cli_environment(home)
    command = frontdesk_command("init")
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session whose controlling terminal is the pty
        try:
            os.chdir(tmp_path)
            os.execve(command[0], command, env)  # noqa: S606 - our own interpreter
        finally:
            os._exit(127)  # never run the rest of pytest in the child
    seen: list[str] = []
    try:
        _read_until(fd, "Admin email [admin@example.com]: ", seen)
        os.write(fd, f"{ADMIN_EMAIL}\n".encode())
        _read_until(fd, "Admin password (empty to generate one): ", seen)
        os.write(fd, f"{ADMIN_PASSWORD}\n".encode())
        _read_until(fd, "Again: ", seen)
        os.write(fd, f"{ADMIN_PASSWORD}\n".encode())
        _read_until(fd, f"Admin login: {ADMIN_EMAIL}", seen)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)

    assert os.waitstatus_to_exitcode(status) == 0, "".join(seen)
    assert ADMIN_PASSWORD not in "".join(seen)
    assert admins(home) == [(ADMIN_EMAIL, 1, 1)]
