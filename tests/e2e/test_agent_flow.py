"""An agent's day in the workspace, driven through the real pages in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from frontdesk.conversations.models import Conversation, Priority
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.e2e.conftest import Login
from tests.e2e.support import REALTIME_TIMEOUT_MS, ConsoleWatch, mark_page, still_marked

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"  # what tests/conftest.py gives every persona


def _inbox_rows(page: Page) -> list[str]:
    """The subjects the inbox list shows, top to bottom."""
    return page.locator("#inbox-list [data-row] a[data-open]").all_inner_texts()


@pytest.fixture
def urgent(people: Personas) -> Conversation:
    """Anna's three open conversations; the urgent one is returned.

    Made before the browser starts: with Playwright's loop running in the test
    thread, the services' realtime pushes could not be sent.
    """
    urgent = open_conversation(
        people.customer,
        team=people.orders,
        assignee=people.agent,
        subject="Parcel never arrived",
        priority=Priority.URGENT,
        tags=["courier"],
    )
    open_conversation(
        people.customer,
        team=people.orders,
        assignee=people.agent,
        subject="Invoice copy, please",
        priority=Priority.LOW,
    )
    open_conversation(
        people.other_customer,
        team=people.orders,
        assignee=people.agent,
        subject="Change of delivery address",
        priority=Priority.NORMAL,
        tags=["courier"],
    )
    return urgent


def test_agent_signs_in_filters_opens_replies_and_solves(
    people: Personas, urgent: Conversation, live_server_url: str, browser: Browser
) -> None:
    page = browser.new_context().new_page()
    console = ConsoleWatch(page)

    page.goto(f"{live_server_url}/login/")
    page.get_by_label("Email").fill("Anna@Example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name=people.agent.display_name)).to_be_visible()

    page.goto(f"{live_server_url}/inbox/")
    expect(page.locator("#inbox-list [data-row]")).to_have_count(3)
    filters = page.get_by_role("search", name="Filter conversations")
    filters.get_by_label("Tag").fill("courier")
    filters.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"[?&]tag=courier"))
    expect(page.locator("#inbox-list [data-row]")).to_have_count(2)
    assert sorted(_inbox_rows(page)) == ["Change of delivery address", "Parcel never arrived"]
    filters.get_by_label("Priority").select_option(label="Urgent")
    filters.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#inbox-list [data-row]")).to_have_count(1)
    assert _inbox_rows(page) == ["Parcel never arrived"]

    page.locator("body").focus()
    page.keyboard.press("j")
    expect(page.locator(f'[data-row="{urgent.number}"]')).to_have_class(re.compile("is-selected"))
    page.keyboard.press("o")
    expect(page).to_have_url(f"{live_server_url}/conversations/{urgent.number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Parcel never arrived")

    mark_page(page)
    composer = page.get_by_role("textbox", name="Message")
    composer.fill("We have asked the courier; you will hear from us by Friday.")
    page.get_by_role("button", name="Send reply").click()
    reply = page.locator("#thread article.kind-reply")
    expect(reply).to_contain_text("you will hear from us by Friday")
    expect(reply).to_contain_text(people.agent.display_name)
    expect(page.get_by_role("textbox", name="Message")).to_have_value("")
    assert still_marked(page), "sending the reply reloaded the page"

    page.locator("body").focus()
    page.keyboard.press("s")
    status = page.locator("#sidebar").get_by_label("Status")
    expect(status).to_have_value("solved", timeout=REALTIME_TIMEOUT_MS)
    expect(status.locator("option:checked")).to_have_text("Solved")
    assert still_marked(page), "solving reloaded the page"
    urgent.refresh_from_db()
    assert urgent.status == "solved"

    assert console.take() == []


def test_a_draft_survives_a_reload(
    people: Personas, urgent: Conversation, live_server_url: str, browser: Browser, login: Login
) -> None:
    page = browser.new_context().new_page()
    console = ConsoleWatch(page)
    login(page, people.agent)

    page.goto(f"{live_server_url}/conversations/{urgent.number}/")
    page.get_by_role("textbox", name="Message").press_sequentially(
        "Half-written answer about order 1042"
    )
    page.reload()

    expect(page.get_by_role("textbox", name="Message")).to_have_value(
        "Half-written answer about order 1042"
    )
    assert console.take() == []
