"""A customer's request travels to the workspace and the answer back, live, in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from frontdesk.conversations.models import Conversation
from tests.conftest import Personas
from tests.e2e.conftest import Login
from tests.e2e.support import (
    REALTIME_TIMEOUT_MS,
    ConsoleWatch,
    mark_page,
    still_marked,
    track_sockets,
    wait_until_live,
)

pytestmark = pytest.mark.e2e


def _page(browser: Browser) -> tuple[Page, ConsoleWatch]:
    page = browser.new_context().new_page()
    watch = ConsoleWatch(page)
    track_sockets(page)
    return page, watch


def test_portal_request_reaches_the_inbox_and_the_reply_reaches_the_customer_live(
    people: Personas, live_server_url: str, browser: Browser, login: Login
) -> None:
    # Portal requests come in without a team: an admin sees every conversation.
    agent, agent_console = _page(browser)
    login(agent, people.admin)
    agent.goto(f"{live_server_url}/inbox/unassigned/")
    expect(agent.locator("#inbox-list")).to_contain_text("No conversations here.")
    wait_until_live(agent)
    mark_page(agent)

    customer, customer_console = _page(browser)
    login(customer, people.customer_user)
    customer.goto(f"{live_server_url}/portal/requests/new/")
    customer.get_by_label("Subject").fill("Wrong size delivered")
    customer.get_by_label("Description").fill("I ordered the shoes in 42 and got 44.")
    customer.get_by_role("button", name="Send request").click()
    expect(customer).to_have_url(re.compile(r"/portal/requests/\d+/$"))
    expect(customer.get_by_role("heading", level=1)).to_have_text("Wrong size delivered")
    number = Conversation.objects.get(subject="Wrong size delivered").number

    new_row = agent.locator(f'#inbox-list [data-row="{number}"]')
    expect(new_row).to_contain_text("Wrong size delivered", timeout=REALTIME_TIMEOUT_MS)
    expect(new_row).to_contain_text(people.customer.name)
    assert still_marked(agent), "the inbox reloaded instead of refreshing its list"

    wait_until_live(customer)
    mark_page(customer)
    new_row.get_by_role("link", name="Wrong size delivered").click()
    expect(agent).to_have_url(f"{live_server_url}/conversations/{number}/")
    agent.get_by_role("textbox", name="Message").fill("Sorry! The right pair ships tomorrow.")
    agent.get_by_role("button", name="Send reply").click()
    expect(agent.locator("#thread article.kind-reply")).to_contain_text("ships tomorrow")

    agent_message = customer.locator(".portal-thread .from-agent")
    expect(agent_message).to_contain_text(
        "Sorry! The right pair ships tomorrow.", timeout=REALTIME_TIMEOUT_MS
    )
    expect(agent_message).to_contain_text(people.admin.first_name)
    assert still_marked(customer), "the request page reloaded instead of refreshing its thread"

    assert agent_console.take() == []
    assert customer_console.take() == []
