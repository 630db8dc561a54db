"""Anna mentions Carl in a note, picked from the @ suggestions; Carl's bell counts it live."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from frontdesk.conversations.models import Conversation
from frontdesk.core.models import Via
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.e2e.conftest import Login, screenshot
from tests.e2e.support import (
    REALTIME_TIMEOUT_MS,
    ConsoleWatch,
    mark_page,
    still_marked,
    track_sockets,
    wait_until_live,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def conversation(people: Personas, settings: Any) -> Conversation:
    """Made before the browser starts (see test_agent_flow); the notice task runs in the request."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return open_conversation(people.customer, team=people.orders, via=Via.EMAIL)


def test_a_mention_in_a_note_rings_the_colleagues_bell_live(
    people: Personas,
    conversation: Conversation,
    live_server_url: str,
    browser: Browser,
    *,
    login: Login,
    artifacts: Path,
) -> None:
    carl = browser.new_context().new_page()
    anna = browser.new_context().new_page()
    carl_console, anna_console = ConsoleWatch(carl), ConsoleWatch(anna)
    login(carl, people.colleague)
    login(anna, people.agent)
    track_sockets(carl)

    carl.goto(live_server_url + reverse("conversations:inbox"))
    wait_until_live(carl)
    bell = carl.locator("#notification-bell [data-bell]")
    expect(bell).to_be_visible()
    expect(carl.locator("[data-bell-count]")).to_have_count(0)
    mark_page(carl)

    anna.goto(live_server_url + reverse("conversations:detail", args=[conversation.number]))
    anna.get_by_role("button", name="Internal note").click()
    composer = anna.get_by_role("textbox", name="Message")
    composer.press_sequentially("Could you call the courier, @ca", delay=20)
    suggestions = anna.get_by_role("listbox", name="Colleagues to mention")
    expect(suggestions.get_by_role("option")).to_have_count(1)
    expect(suggestions.get_by_role("option")).to_contain_text("@carl")
    # caret="initial": hiding the caret leaves empty style attributes that htmx's settle
    # would copy back, which the page's CSP then reports.
    anna.screenshot(path=str(artifacts / "notifications-mention-suggestions.png"), caret="initial")
    composer.press("Enter")
    expect(composer).to_have_value("Could you call the courier, @carl ")
    expect(suggestions).to_be_hidden()
    composer.press_sequentially("please?")
    anna.get_by_role("button", name="Add note").click()
    expect(anna.locator("#thread article.kind-note")).to_contain_text("@carl please?")

    expect(carl.locator("[data-bell-count]")).to_have_text("1", timeout=REALTIME_TIMEOUT_MS)
    assert still_marked(carl), "the bell changed by reloading the page"
    screenshot(carl, artifacts, "notifications-bell")

    bell.click()
    item = carl.locator("[data-notification]")
    expect(item).to_contain_text(f"Anna mentioned you in #{conversation.number}")
    screenshot(carl, artifacts, "notifications-page")
    item.get_by_role("button").click()
    expect(carl).to_have_url(re.compile(rf"/conversations/{conversation.number}/#message-\d+$"))
    expect(carl.locator("[data-bell-count]")).to_have_count(0, timeout=REALTIME_TIMEOUT_MS)

    assert carl_console.take() == []
    assert anna_console.take() == []
