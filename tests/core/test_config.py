"""Settings helpers: loud on bad input, SQLite in WAL mode with a busy timeout."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from frontdesk.core.config import (
    database_config,
    env_bool,
    env_int,
    env_list,
    env_secret,
    secret_key,
    stored_secret_key_path,
)


def test_env_bool_names_the_variable_on_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FRONTDESK_DEBUG"):
        env_bool("FRONTDESK_DEBUG", default=False)
    monkeypatch.setenv("FRONTDESK_DEBUG", "Yes")
    assert env_bool("FRONTDESK_DEBUG", default=False) is True


def test_env_int_names_the_variable_on_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_MAX_ATTACHMENT_MB", "ten")
    with pytest.raises(ImproperlyConfigured, match="FRONTDESK_MAX_ATTACHMENT_MB"):
        env_int("FRONTDESK_MAX_ATTACHMENT_MB", default=25)


def test_env_list_splits_and_trims(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_ALLOWED_HOSTS", " a.example , b.example,, ")
    assert env_list("FRONTDESK_ALLOWED_HOSTS", default=[]) == ["a.example", "b.example"]


def test_secret_is_read_from_a_file_variant(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret_file = tmp_path / "key"
    secret_file.write_text("s3cret\n", encoding="utf-8")
    monkeypatch.delenv("FRONTDESK_SECRET_KEY", raising=False)
    monkeypatch.setenv("FRONTDESK_SECRET_KEY_FILE", str(secret_file))
    assert env_secret("FRONTDESK_SECRET_KEY") == "s3cret"
    monkeypatch.setenv("FRONTDESK_SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="FRONTDESK_SECRET_KEY_FILE"):
        env_secret("FRONTDESK_SECRET_KEY")


def test_stored_secret_key_is_used_when_the_environment_has_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("FRONTDESK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FRONTDESK_SECRET_KEY_FILE", raising=False)
    stored_secret_key_path(tmp_path).write_text("from-init", encoding="utf-8")
    assert secret_key(tmp_path) == "from-init"


def test_database_url_scheme_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FRONTDESK_DATABASE_URL", "mysql://root@localhost/x")
    with pytest.raises(ImproperlyConfigured, match="FRONTDESK_DATABASE_URL"):
        database_config(tmp_path)


def test_sqlite_default_lives_in_the_home_and_takes_the_write_lock_early(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("FRONTDESK_DATABASE_URL", raising=False)
    config = database_config(tmp_path)
    assert config["NAME"] == str(tmp_path / "frontdesk.sqlite3")
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["OPTIONS"]["timeout"] >= 5


@pytest.mark.django_db
def test_sqlite_connection_runs_with_a_busy_timeout() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        (timeout_ms,) = cursor.fetchone()
    assert timeout_ms >= 5000


@pytest.mark.django_db  # pytest-django blocks every connection without it
def test_sqlite_file_database_runs_in_wal_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from django.db.utils import ConnectionHandler

    monkeypatch.delenv("FRONTDESK_DATABASE_URL", raising=False)
    handler = ConnectionHandler({"default": database_config(tmp_path)})
    conn = handler["default"]
    try:
        with conn.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            (mode,) = cursor.fetchone()
            cursor.execute("PRAGMA busy_timeout")
            (timeout_ms,) = cursor.fetchone()
    finally:
        conn.close()
    assert mode == "wal"
    assert timeout_ms >= 5000
