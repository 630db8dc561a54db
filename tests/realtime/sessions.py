"""Signed-in session cookies for sockets and browsers, made without an HTTP round trip."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from frontdesk.accounts.models import User


def session_cookie(user: User) -> tuple[str, str]:
    """(cookie name, value) of a fresh session signed in as `user`."""
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return name, client.cookies[name].value


def shareable_test_database() -> bool:
    """Whether another thread or process can open the test database (not SQLite in memory)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return True
    name = str(connection.settings_dict["NAME"])
    return name != ":memory:" and "mode=memory" not in name
