"""End-to-end harness: a real server in a thread, headless Chromium, signed-in pages.

`live_server_url` runs uvicorn with the whole ASGI application (HTTP, static
files and websockets) on a free 127.0.0.1 port against the test database, so
tests using it are transactional. `browser` drives the system Chromium through
Playwright's sync API; `login(page, user)` signs a page in by setting a session
cookie made directly, which is faster than filling in the form.

Playwright's sync API keeps an event loop running in the test's thread, where
Django then refuses synchronous ORM calls; while a browser is open,
DJANGO_ALLOW_ASYNC_UNSAFE lifts that check (the test thread still does one
thing at a time, which is what the check protects).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from django.db import connections
from playwright.sync_api import Browser, Page, sync_playwright

from frontdesk.accounts.models import User
from frontdesk.cli import WebApplication
from tests.cli.conftest import free_port
from tests.realtime.sessions import session_cookie, shareable_test_database

CHROMIUM = os.environ.get("FRONTDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STARTUP_TIMEOUT_S = 30.0
REPO = Path(__file__).resolve().parents[2]

Login = Callable[[Page, User], None]


@pytest.fixture
def live_server_url(transactional_db: None) -> Iterator[str]:
    if not shareable_test_database():
        pytest.skip("the server thread needs PostgreSQL or a file SQLite test database")
    port = free_port()
    config = uvicorn.Config(
        WebApplication(),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        ws="auto",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the e2e server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"e2e tests need Chromium at {CHROMIUM} (install the chromium package, "
            "or point FRONTDESK_CHROMIUM at a Chromium binary)",
            pytrace=False,
        )
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
            # With Playwright's loop running, Django keeps the test thread's
            # connections apart from the ones pytest-django closes; close them
            # while that loop still runs, or the test database cannot be dropped.
            connections.close_all()


@pytest.fixture
def login(live_server_url: str) -> Login:
    """`login(page, user)`: the page's browser context is signed in as `user`."""

    def sign_in(page: Page, user: User) -> None:
        name, value = session_cookie(user)
        page.context.add_cookies(
            [{"name": name, "value": value, "url": live_server_url, "httpOnly": True}]
        )

    return sign_in


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Where a test leaves screenshots: FRONTDESK_ARTIFACTS or <repo>/artifacts (gitignored)."""
    base = Path(os.environ.get("FRONTDESK_ARTIFACTS") or REPO / "artifacts")
    directory = base / "e2e"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def screenshot(page: Page, artifacts: Path, name: str) -> Path:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
