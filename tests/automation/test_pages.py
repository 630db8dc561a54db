"""Manage → Automations: admins only; rules typed in rows; the dry run; the delivery log."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from frontdesk.automation import services as automation
from frontdesk.automation.models import (
    CannedReply,
    Macro,
    TimeRule,
    Trigger,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from frontdesk.conversations.models import Priority
from frontdesk.sla.models import BusinessCalendar
from tests.automation.conftest import Open
from tests.conftest import Personas


@pytest.fixture
def admin_client(client: Client, people: Personas) -> Client:
    client.force_login(people.admin)
    return client


def rows(prefix: str, items: list[dict[str, str]], extra: int = 2) -> dict[str, Any]:
    """A formset's POST data: the given rows and `extra` blank ones."""
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(len(items) + extra),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, item in enumerate(items):
        for key, value in item.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


def trigger_form(**extra: Any) -> dict[str, Any]:
    return {
        "name": "VIP refunds",
        "active": "on",
        "events": ["conversation_created", "customer_replied"],
        **rows(
            "all",
            [
                {"field": "tags", "op": "includes_any", "value": "vip"},
                {"field": "team", "op": "is", "value": "Orders"},
            ],
        ),
        **rows(
            "any",
            [
                {"field": "subject", "op": "matches_words", "value": "refund, money"},
                {"field": "priority", "op": "above", "value": "normal"},
            ],
        ),
        **rows(
            "actions",
            [
                {"type": "set_priority", "value": "urgent"},
                {"type": "assign", "value": "anna@example.com"},
                {"type": "add_note", "text": "VIP refund for {{ customer.name }}"},
            ],
        ),
        **extra,
    }


def test_only_admins_open_the_automation_pages(client: Client, people: Personas) -> None:
    client.force_login(people.supervisor)
    for name in ("triggers", "trigger_new", "time_rules", "macros", "canned_replies", "webhooks"):
        assert client.get(reverse(f"automation:{name}")).status_code == 403, name


def test_an_admin_adds_a_trigger_by_typing_rows_and_sees_it_listed(
    admin_client: Client, people: Personas
) -> None:
    response = admin_client.post(reverse("automation:trigger_new"), trigger_form())
    assert response.status_code == 302
    trigger = Trigger.objects.get()
    assert trigger.events == ["conversation_created", "customer_replied"]
    assert trigger.conditions == {
        "all": [
            {"field": "tags", "op": "includes_any", "value": ["vip"]},
            {"field": "team", "op": "is", "value": [people.orders.pk]},
        ],
        "any": [
            {"field": "subject", "op": "matches_words", "value": "refund, money"},
            {"field": "priority", "op": "above", "value": Priority.NORMAL},
        ],
    }
    assert trigger.actions == [
        {"type": "set_priority", "value": Priority.URGENT},
        {"type": "assign", "value": people.agent.pk},
        {"type": "add_note", "text": "VIP refund for {{ customer.name }}"},
    ]
    listing = admin_client.get(reverse("automation:triggers")).content.decode()
    assert "VIP refunds" in listing and "Customer replied" in listing
    # The edit page shows the rows as typed.
    edit = admin_client.get(reverse("automation:trigger_edit", args=[trigger.pk])).content.decode()
    assert 'value="anna@example.com"' in edit and 'value="Orders"' in edit


def test_rows_naming_nothing_or_escaping_the_sandbox_are_refused_on_the_form(
    admin_client: Client,
) -> None:
    data = trigger_form(**rows("actions", [{"type": "assign", "value": "ghost@example.com"}]))
    page = admin_client.post(reverse("automation:trigger_new"), data).content.decode()
    assert "No agent has the address ghost@example.com." in page
    data = trigger_form(
        **rows("actions", [{"type": "add_note", "text": "{{ settings.SECRET_KEY }}"}])
    )
    page = admin_client.post(reverse("automation:trigger_new"), data).content.decode()
    assert "Unknown placeholder" in page
    assert not Trigger.objects.exists()


def test_the_dry_run_page_lists_matching_open_conversations(
    admin_client: Client, people: Personas, open_conversation: Open
) -> None:
    trigger = automation.create_trigger(
        by=people.admin,
        name="Refunds",
        events=["conversation_created"],
        conditions={"all": [{"field": "subject", "op": "contains", "value": "refund"}]},
        actions=[{"type": "add_tags", "value": ["refund"]}],
    )
    match = open_conversation("Refund please")
    open_conversation("Something else")
    page = admin_client.get(reverse("automation:trigger_dry_run", args=[trigger.pk]))
    text = page.content.decode()
    assert "1 conversation matches." in text
    assert f">{match.number}</a>" in text
    assert "Something else" not in text


def test_an_admin_adds_a_time_rule(admin_client: Client, people: Personas) -> None:
    calendar = BusinessCalendar.objects.create(
        name="Office", time_zone="Europe/Prague", is_24_7=True
    )
    data = {
        "name": "Remind",
        "active": "on",
        "anchor": "status",
        "amount": "3",
        "unit": "days",
        "basis": "business",
        "calendar": str(calendar.pk),
        **rows("all", [{"field": "status", "op": "is", "value": "pending"}]),
        **rows("any", []),
        **rows(
            "actions",
            [
                {
                    "type": "email_customer",
                    "subject": "Still there?",
                    "text": "Hi {{ customer.first_name }}",
                }
            ],
        ),
    }
    assert admin_client.post(reverse("automation:time_rule_new"), data).status_code == 302
    rule = TimeRule.objects.get()
    assert (rule.amount, rule.unit, rule.basis, rule.calendar_id) == (
        3,
        "days",
        "business",
        calendar.pk,
    )
    assert rule.actions[0]["text"] == "Hi {{ customer.first_name }}"
    # A message-text condition means nothing to a time rule: not even offered.
    form = admin_client.get(reverse("automation:time_rule_new")).content.decode()
    assert 'value="message"' not in form


def test_an_admin_adds_a_team_macro_and_a_canned_reply(
    admin_client: Client, people: Personas
) -> None:
    data = {
        "name": "Close politely",
        "active": "on",
        "text": "Thanks {{ customer.first_name }}!",
        "scope": f"team:{people.orders.pk}",
        **rows(
            "actions",
            [
                {"type": "set_status", "value": "solved"},
                {"type": "add_tags", "value": "closed-politely"},
            ],
        ),
    }
    assert admin_client.post(reverse("automation:macro_new"), data).status_code == 302
    macro = Macro.objects.get()
    assert (macro.team_id, macro.owner_id) == (people.orders.pk, None)
    assert macro.actions == [
        {"type": "set_status", "value": "solved"},
        {"type": "add_tags", "value": ["closed-politely"]},
    ]
    data = {
        "name": "Greeting",
        "active": "on",
        "text_en": "Hello {{ customer.first_name }}",
        "text_th": "สวัสดีค่ะ {{ customer.first_name }}",
    }
    assert admin_client.post(reverse("automation:canned_reply_new"), data).status_code == 302
    assert CannedReply.objects.get().texts == {
        "en": "Hello {{ customer.first_name }}",
        "th": "สวัสดีค่ะ {{ customer.first_name }}",
    }
    bad = {"name": "Bad", "text_en": "{% debug %}"}
    page = admin_client.post(reverse("automation:canned_reply_new"), bad).content.decode()
    assert "Only placeholders" in page


def test_the_webhook_page_shows_the_secret_and_every_attempt(
    admin_client: Client, people: Personas
) -> None:
    data = {"name": "CRM", "url": "https://crm.example/hooks", "active": "on"}
    assert admin_client.post(reverse("automation:webhook_new"), data).status_code == 302
    webhook = Webhook.objects.get()
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event="conversation_created", payload={}, attempts=2
    )
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        at=delivery.created_at,
        status_code=500,
        duration_ms=12,
        error="HTTP 500: boom",
    )
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=2,
        at=delivery.created_at,
        status_code=None,
        duration_ms=10_000,
        error="timed out",
    )
    page = admin_client.get(reverse("automation:webhook_edit", args=[webhook.pk])).content.decode()
    assert "data-webhook-secret" in page and 'value="whsec_' in page
    assert "HTTP 500" in page and "HTTP 500: boom" in page and "timed out" in page
    assert "X-Frontdesk-Signature" in page
    bad = {"name": "Bad", "url": "ftp://crm.example/"}
    page = admin_client.post(reverse("automation:webhook_new"), bad).content.decode()
    assert "http:// or https://" in page
