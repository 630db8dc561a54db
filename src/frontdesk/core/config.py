"""Typed readers for FRONTDESK_* environment variables.

Each raises ImproperlyConfigured naming the variable, so a bad value stops the
process with one line that says what to fix.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

SECRET_KEY_FILENAME = "secret_key"  # noqa: S105 - a file name, not a secret


def env_str(name: str, *, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, *, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, *, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str) -> str | None:
    """The secret in NAME, or in the file that NAME_FILE points to."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}_FILE cannot be read: {exc.strerror}") from None


def frontdesk_home() -> Path:
    return Path(os.environ.get("FRONTDESK_HOME", ".frontdesk")).resolve()


def load_dotenv_file() -> None:
    """Read an optional .env in the working directory; real environment wins."""
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)


def stored_secret_key_path(home: Path) -> Path:
    return home / SECRET_KEY_FILENAME


def secret_key(home: Path) -> str:
    """FRONTDESK_SECRET_KEY, else the key `frontdesk init` stored in the data dir.

    Before init there is neither; an ephemeral key lets commands such as
    `check` run, and init then stores a permanent one.
    """
    key = env_secret("FRONTDESK_SECRET_KEY")
    if key:
        return key
    stored = stored_secret_key_path(home)
    if stored.exists():
        return stored.read_text(encoding="utf-8").strip()
    return secrets.token_urlsafe(50)


def generate_secret_key() -> str:
    return secrets.token_urlsafe(50)


def database_url(home: Path) -> str:
    return os.environ.get("FRONTDESK_DATABASE_URL") or f"sqlite:///{home / 'frontdesk.sqlite3'}"


def database_config(home: Path) -> dict[str, Any]:
    url = database_url(home)
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"FRONTDESK_DATABASE_URL must start with sqlite:/// or postgres://, not {scheme}://"
        )
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url))
    except ValueError as exc:
        raise ImproperlyConfigured(f"FRONTDESK_DATABASE_URL is not valid: {exc}") from None
    if scheme == "sqlite":
        config["OPTIONS"] = {
            # WAL lets the web server read while the worker writes; IMMEDIATE
            # takes the write lock up front so busy_timeout applies instead of
            # failing on a read-to-write upgrade.
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        config["TEST"] = {"NAME": os.environ.get("FRONTDESK_TEST_SQLITE_NAME") or None}
    else:
        options: dict[str, Any] = {"connect_timeout": 5}
        if env_bool("FRONTDESK_DATABASE_POOL", default=False):
            options["pool"] = {
                "min_size": 2,
                "max_size": env_int("FRONTDESK_DATABASE_POOL_MAX", default=20),
            }
        config["OPTIONS"] = options
        config["CONN_HEALTH_CHECKS"] = True
    return config
