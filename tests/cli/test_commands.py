"""check, token, demo and the command line itself."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from frontdesk.cli import main, masked_url
from tests.cli.conftest import ADMIN_EMAIL, RunCli, cli_environment, error_lines, query


def test_console_script_rejects_an_unknown_option_with_one_line(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("frontdesk")
    if not script.exists():
        pytest.skip("the frontdesk console script is not installed next to this python")

    result = subprocess.run(  # noqa: S603 - the project's own console script
        [str(script), "serve", "--bogus"],
        env=cli_environment(tmp_path / "home"),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert error_lines(result) == [
        "frontdesk: unrecognized arguments: --bogus (see `frontdesk --help`)"
    ]


def test_missing_command_is_one_usage_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])

    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "frontdesk: the following arguments are required: COMMAND (see `frontdesk --help`)"
    ]


def test_a_port_outside_the_tcp_range_is_one_usage_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", "70000"])

    assert exit_info.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "'70000' is not a TCP port" in line


def test_masked_url_hides_only_the_password() -> None:
    assert masked_url("postgres://fd:s3cret@db.internal:5432/fd") == (
        "postgres://fd:***@db.internal:5432/fd"
    )
    assert masked_url("sqlite:////srv/fd.sqlite3") == "sqlite:////srv/fd.sqlite3"


# --- check ----------------------------------------------------------------------------------


def test_check_prints_the_configuration_and_passes_on_an_initialised_home(
    run_ready: RunCli, ready_home: Path
) -> None:
    result = run_ready("check")

    assert result.returncode == 0, result.stderr
    assert f"home:          {ready_home}" in result.stdout
    assert "database:      sqlite sqlite:///" in result.stdout
    assert "migrations:    applied" in result.stdout
    assert "All checks passed." in result.stdout
    assert result.stderr == ""


def test_check_with_an_unreachable_database_fails_with_one_line(run_cli: RunCli) -> None:
    result = run_cli("check", FRONTDESK_DATABASE_URL="postgres://postgres@127.0.0.1:1/x")

    assert result.returncode == 3
    [line] = error_lines(result)
    assert line.startswith(
        "frontdesk: cannot connect to the database at postgres://postgres@127.0.0.1:1/x: "
    )
    assert "database:      FAILED" in result.stdout


def test_check_never_prints_the_database_password(run_cli: RunCli) -> None:
    result = run_cli("check", FRONTDESK_DATABASE_URL="postgres://fd:s3cret@127.0.0.1:1/x")

    assert result.returncode == 3
    assert "s3cret" not in result.stdout + result.stderr
    assert "postgres://fd:***@127.0.0.1:1/x" in result.stdout


def test_check_with_a_malformed_setting_fails_with_one_line(run_cli: RunCli) -> None:
    result = run_cli("check", FRONTDESK_DEBUG="maybe")

    assert result.returncode == 1
    assert error_lines(result) == [
        "frontdesk: configuration error: FRONTDESK_DEBUG must be true or false, not 'maybe'"
    ]


def test_check_with_an_unsupported_database_scheme_fails_with_one_line(run_cli: RunCli) -> None:
    result = run_cli("check", FRONTDESK_DATABASE_URL="mysql://db/frontdesk")

    assert result.returncode == 1
    assert error_lines(result) == [
        "frontdesk: configuration error: FRONTDESK_DATABASE_URL must start with sqlite:/// "
        "or postgres://, not mysql://"
    ]


def test_check_before_init_says_to_run_init(run_cli: RunCli, home: Path) -> None:
    result = run_cli("check")

    assert result.returncode == 1
    assert error_lines(result) == [
        f"frontdesk: no database at {home / 'frontdesk.sqlite3'}: run `frontdesk init`"
    ]


def test_check_with_unreachable_redis_fails_with_one_line(run_ready: RunCli) -> None:
    result = run_ready("check", FRONTDESK_REDIS_URL="redis://127.0.0.1:1/0")

    assert result.returncode == 3
    [line] = error_lines(result)
    assert line.startswith("frontdesk: cannot connect to Redis at redis://127.0.0.1:1/0: ")
    assert "redis:         FAILED" in result.stdout


def _redis_listening() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(
    not _redis_listening(), reason="no Redis on 127.0.0.1:6379 (.ci/run starts one)"
)
def test_check_passes_with_a_running_redis(run_ready: RunCli) -> None:
    result = run_ready("check", FRONTDESK_REDIS_URL="redis://127.0.0.1:6379/0")

    assert result.returncode == 0, result.stderr
    assert "redis:         ok" in result.stdout


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the suite runs on SQLite")
@pytest.mark.django_db
def test_check_passes_against_the_postgresql_test_database(run_cli: RunCli) -> None:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"

    result = run_cli("check", FRONTDESK_DATABASE_URL=url)

    assert result.returncode == 0, result.stderr
    assert "database:      postgresql postgres://" in result.stdout
    assert "migrations:    applied" in result.stdout


# --- token ----------------------------------------------------------------------------------


def test_token_create_prints_a_new_token_on_one_line(run_ready: RunCli, ready_home: Path) -> None:
    before = query(ready_home, "SELECT count(*) FROM accounts_apitoken")[0][0]

    result = run_ready("token", "create", "--user", ADMIN_EMAIL.upper(), "--name", "ci")

    assert result.returncode == 0, result.stderr
    [token] = result.stdout.split()
    assert len(token) > 30
    assert token not in result.stderr
    rows = query(ready_home, "SELECT name, digest FROM accounts_apitoken ORDER BY id")
    assert len(rows) == before + 1
    assert rows[-1][0] == "ci"
    assert token not in rows[-1][1]


def test_token_create_with_expiry_records_it(run_ready: RunCli, ready_home: Path) -> None:
    result = run_ready("token", "create", "--user", ADMIN_EMAIL, "--expires-days", "7")

    assert result.returncode == 0, result.stderr
    assert ", expires " in result.stderr
    [(expires_at,)] = query(
        ready_home, "SELECT expires_at FROM accounts_apitoken ORDER BY id DESC LIMIT 1"
    )
    assert expires_at is not None


def test_token_create_for_an_unknown_user_fails_with_one_line(run_ready: RunCli) -> None:
    result = run_ready("token", "create", "--user", "nobody@example.com")

    assert result.returncode == 1
    assert error_lines(result) == ["frontdesk: no user with the email nobody@example.com"]
    assert result.stdout == ""


def test_token_create_without_a_user_is_one_usage_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["token", "create"])

    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "frontdesk token create: the following arguments are required: --user "
        "(see `frontdesk token create --help`)"
    ]


def test_token_create_refuses_zero_days_with_one_usage_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["token", "create", "--user", ADMIN_EMAIL, "--expires-days", "0"])

    assert exit_info.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "'0' must be 1 or more" in line


# --- demo -----------------------------------------------------------------------------------


def test_demo_before_init_says_to_run_init(run_cli: RunCli, home: Path) -> None:
    result = run_cli("demo")

    assert result.returncode == 1
    assert error_lines(result) == [
        f"frontdesk: no database at {home / 'frontdesk.sqlite3'}: run `frontdesk init`"
    ]


def test_demo_loads_data_and_prints_a_summary(run_cli: RunCli, home: Path) -> None:
    assert run_cli("init").returncode == 0

    result = run_cli("demo", "--conversations", "30", "--seed", "7", timeout_s=300)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Demo data loaded (seed 7):")
    [(count,)] = query(home, "SELECT count(*) FROM conversations_conversation")
    assert count == 30
