"""Two agents on one conversation page see each other in its presence box."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.e2e.conftest import Login, screenshot

pytestmark = pytest.mark.e2e


def test_two_agents_on_one_conversation_see_each_other(
    people: Personas, live_server_url: str, browser: Browser, login: Login, artifacts: Path
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    path = reverse("conversations:detail", args=[conversation.number])
    anna_page = browser.new_context().new_page()
    carl_page = browser.new_context().new_page()
    login(anna_page, people.agent)
    login(carl_page, people.colleague)

    anna_page.goto(live_server_url + path)
    carl_page.goto(live_server_url + path)

    expect(anna_page.locator("[data-presence]")).to_contain_text(people.colleague.display_name)
    expect(carl_page.locator("[data-presence]")).to_contain_text(people.agent.display_name)
    screenshot(anna_page, artifacts, "presence-anna")
    screenshot(carl_page, artifacts, "presence-carl")

    carl_page.close()
    expect(anna_page.locator("[data-presence]")).not_to_contain_text(people.colleague.display_name)
