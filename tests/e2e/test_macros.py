"""Anna inserts a canned reply and applies a macro in the composer; sending does it all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from frontdesk.automation import services as automation
from frontdesk.automation.models import Macro
from frontdesk.conversations.models import Conversation, Message, MessageKind, Priority
from frontdesk.core.models import Via
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation
from tests.e2e.conftest import Login
from tests.e2e.support import ConsoleWatch

pytestmark = pytest.mark.e2e


@pytest.fixture
def conversation(people: Personas, settings: Any) -> Conversation:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return open_conversation(people.customer, team=people.orders, via=Via.EMAIL)


@pytest.fixture
def macro(people: Personas) -> Macro:
    automation.create_canned_reply(
        by=people.admin, name="Greeting", texts={"en": "Hello {{ customer.first_name }},"}
    )
    return automation.create_macro(
        by=people.admin,
        name="Refund on its way",
        text="your refund for #{{ conversation.number }} is on its way. {{ agent.first_name }}",
        actions=[
            {"type": "add_tags", "value": ["refund"]},
            {"type": "set_priority", "value": Priority.HIGH},
            {"type": "set_status", "value": "pending"},
        ],
    )


def test_applying_a_macro_fills_the_composer_and_sending_applies_its_actions(
    people: Personas,
    conversation: Conversation,
    macro: Macro,
    live_server_url: str,
    browser: Browser,
    *,
    login: Login,
    artifacts: Path,
) -> None:
    page = browser.new_context().new_page()
    console = ConsoleWatch(page)
    login(page, people.agent)
    page.goto(live_server_url + reverse("conversations:detail", args=[conversation.number]))
    composer = page.get_by_role("textbox", name="Message")

    page.get_by_label("Canned replies").select_option(label="Greeting")
    expect(composer).to_have_value("Hello Jana,")
    page.get_by_label("Macros").select_option(label="Refund on its way")
    expected = f"Hello Jana,\n\nyour refund for #{conversation.number} is on its way. Anna"
    expect(composer).to_have_value(expected)
    applied = page.locator("[data-macro-applied]")
    expect(applied).to_be_visible()
    expect(applied).to_contain_text("Refund on its way")
    expect(page.locator("#composer-then-status")).to_have_value("pending")
    # Nothing has changed yet: the actions wait for the send.
    assert Conversation.objects.get(pk=conversation.pk).priority == Priority.NORMAL
    # caret="initial": a hidden caret leaves style attributes htmx's settle would copy back,
    # which the page's CSP then reports.
    page.screenshot(path=str(artifacts / "automation-macro-applied.png"), caret="initial")

    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#thread article.kind-reply")).to_contain_text("is on its way. Anna")
    expect(page.locator("[data-macro-applied]")).to_be_hidden()
    expect(composer).to_have_value("")
    expect(page.locator("#sidebar")).to_contain_text("refund")
    current = Conversation.objects.get(pk=conversation.pk)
    assert (current.status, current.priority) == ("pending", Priority.HIGH)
    assert set(current.tags.values_list("name", flat=True)) == {"refund"}
    (reply,) = Message.objects.filter(conversation=current, kind=MessageKind.REPLY)
    assert reply.text.replace("\r\n", "\n").startswith(expected)
    # The draft was dropped with the send: a reload shows an empty composer.
    page.reload()
    expect(page.get_by_role("textbox", name="Message")).to_have_value("")
    assert console.take() == []
