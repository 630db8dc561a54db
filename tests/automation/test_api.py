"""/api/v1/automation/...: triggers, time rules, macros, canned replies and webhooks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from frontdesk.accounts.models import User
from frontdesk.accounts.services import create_api_token
from frontdesk.automation import services as automation
from frontdesk.automation import webhooks
from frontdesk.automation.models import Macro, Trigger, Webhook
from tests.api.conftest import Api, assert_problem
from tests.automation.conftest import Open
from tests.conftest import Personas


def api_as(user: User) -> Api:
    _token, raw = create_api_token(user, by=None, name="tests")
    return Api(raw)


@pytest.fixture
def admin_api(people: Personas) -> Api:
    return api_as(people.admin)


@pytest.fixture
def agent_api(people: Personas) -> Api:
    return api_as(people.agent)


def body(response: Any) -> Any:
    return json.loads(response.content)


TRIGGER: dict[str, Any] = {
    "name": "Urgent words",
    "events": ["conversation_created", "customer_replied"],
    "conditions": {"all": [{"field": "message", "op": "matches_words", "value": "urgent"}]},
    "actions": [{"type": "set_priority", "value": 4}],
}


def test_triggers_are_created_read_changed_and_deleted(admin_api: Api, people: Personas) -> None:
    created = admin_api.post("/automation/triggers", TRIGGER)
    assert created.status_code == 201, created.content
    trigger = body(created)
    assert trigger["position"] == 0 and trigger["active"] is True
    assert trigger["events"] == ["conversation_created", "customer_replied"]
    second = body(admin_api.post("/automation/triggers", {**TRIGGER, "name": "Second"}))
    assert second["position"] == 1
    moved = admin_api.patch(f"/automation/triggers/{second['id']}", {"position": 0})
    assert body(moved)["position"] == 0
    assert [t["name"] for t in body(admin_api.get("/automation/triggers"))["items"]] == [
        "Second",
        "Urgent words",
    ]
    changed = admin_api.patch(f"/automation/triggers/{trigger['id']}", {"active": False})
    assert body(changed)["active"] is False
    assert admin_api.delete(f"/automation/triggers/{trigger['id']}").status_code == 204
    assert list(Trigger.objects.values_list("name", flat=True)) == ["Second"]


def test_bad_triggers_are_problems_naming_the_field(admin_api: Api) -> None:
    bad_action = {**TRIGGER, "actions": [{"type": "launch_rockets"}]}
    assert_problem(admin_api.post("/automation/triggers", bad_action), 422, field="actions")
    bad_condition = {
        **TRIGGER,
        "conditions": {"all": [{"field": "status", "op": "is", "value": "x"}]},
    }
    assert_problem(admin_api.post("/automation/triggers", bad_condition), 422, field="conditions")
    escape = {**TRIGGER, "actions": [{"type": "add_note", "text": "{{ customer.__class__ }}"}]}
    assert_problem(admin_api.post("/automation/triggers", escape), 422, field="actions")
    assert_problem(admin_api.post("/automation/triggers", {**TRIGGER, "events": ["boom"]}), 422)
    assert not Trigger.objects.exists()


def test_agents_neither_see_nor_change_triggers(agent_api: Api, people: Personas) -> None:
    trigger = automation.create_trigger(by=None, **TRIGGER)
    assert body(agent_api.get("/automation/triggers"))["items"] == []
    assert_problem(agent_api.get(f"/automation/triggers/{trigger.pk}"), 404)
    assert_problem(agent_api.post("/automation/triggers", TRIGGER), 403)


def test_the_dry_run_counts_matching_open_conversations(
    admin_api: Api, people: Personas, open_conversation: Open
) -> None:
    trigger = automation.create_trigger(by=None, **TRIGGER)
    open_conversation(text="This is URGENT, please")
    open_conversation(text="whenever you can")
    found = body(admin_api.get(f"/automation/triggers/{trigger.pk}/dry-run"))
    assert (found["count"], found["capped"], found["clock_holds"]) == (1, False, True)
    assert len(found["conversations"]) == 1


def test_time_rules_over_the_api(admin_api: Api) -> None:
    created = admin_api.post(
        "/automation/time-rules",
        {
            "name": "Close silent",
            "amount": 7,
            "unit": "days",
            "basis": "calendar",
            "conditions": {"all": [{"field": "status", "op": "is", "value": ["pending"]}]},
            "actions": [{"type": "set_status", "value": "solved"}],
        },
    )
    assert created.status_code == 201, created.content
    rule = body(created)
    assert (rule["anchor"], rule["calendar_id"]) == ("status", None)
    changed = admin_api.patch(f"/automation/time-rules/{rule['id']}", {"amount": 5})
    assert body(changed)["amount"] == 5
    message = admin_api.patch(
        f"/automation/time-rules/{rule['id']}",
        {"conditions": {"all": [{"field": "message", "op": "contains", "value": "x"}]}},
    )
    assert_problem(message, 422, field="conditions")


def test_agents_keep_personal_macros_and_admins_share_them(
    agent_api: Api, admin_api: Api, people: Personas
) -> None:
    mine = agent_api.post("/automation/macros", {"name": "Mine", "text": "Hi {{ customer.name }}"})
    assert mine.status_code == 201, mine.content
    assert body(mine)["shared_with"] == "personal" and body(mine)["owner_id"] == people.agent.pk
    shared = agent_api.post(
        "/automation/macros", {"name": "All", "text": "x", "shared_with": "everybody"}
    )
    assert_problem(shared, 403)
    team = admin_api.post(
        "/automation/macros",
        {
            "name": "Orders",
            "text": "x",
            "shared_with": "team",
            "team_id": people.orders.pk,
            "actions": [{"type": "add_tags", "value": ["orders"]}],
        },
    )
    assert body(team)["shared_with"] == "team"
    billing = automation.create_macro(by=None, name="Billing", text="x", team=people.billing)
    names = {m["name"] for m in body(agent_api.get("/automation/macros"))["items"]}
    assert names == {"Mine", "Orders"}
    assert_problem(agent_api.get(f"/automation/macros/{billing.pk}"), 404)
    assert_problem(agent_api.patch(f"/automation/macros/{body(team)['id']}", {"name": "Y"}), 403)
    renamed = agent_api.patch(f"/automation/macros/{body(mine)['id']}", {"name": "Still mine"})
    assert body(renamed)["name"] == "Still mine"
    webhook_action = agent_api.post(
        "/automation/macros", {"name": "Hook", "actions": [{"type": "webhook", "webhook": 1}]}
    )
    assert_problem(webhook_action, 422, field="actions")
    assert agent_api.delete(f"/automation/macros/{body(mine)['id']}").status_code == 204
    assert not Macro.objects.filter(name="Still mine").exists()


def test_canned_replies_over_the_api(admin_api: Api, agent_api: Api) -> None:
    created = admin_api.post(
        "/automation/canned-replies",
        {"name": "Thanks", "texts": {"en": "Thanks!", "pl": "Dziękujemy!"}},
    )
    assert created.status_code == 201
    assert [c["name"] for c in body(agent_api.get("/automation/canned-replies"))["items"]] == [
        "Thanks"
    ]
    bad = admin_api.post("/automation/canned-replies", {"name": "X", "texts": {"xx": "?"}})
    assert_problem(bad, 422, field="texts")


def test_webhooks_show_their_secret_once_and_their_deliveries(admin_api: Api) -> None:
    created = admin_api.post(
        "/automation/webhooks", {"name": "CRM", "url": "https://crm.example/h"}
    )
    assert created.status_code == 201, created.content
    hook = body(created)
    assert hook["secret"].startswith("whsec_")
    read = body(admin_api.get(f"/automation/webhooks/{hook['id']}"))
    assert "secret" not in read
    patched = body(admin_api.patch(f"/automation/webhooks/{hook['id']}", {"active": False}))
    assert patched["secret"] is None and patched["active"] is False
    rotated = body(admin_api.patch(f"/automation/webhooks/{hook['id']}", {"new_secret": True}))
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != hook["secret"]
    assert webhooks.readable_secret(Webhook.objects.get()) == rotated["secret"]
    assert body(admin_api.get(f"/automation/webhooks/{hook['id']}/deliveries"))["items"] == []
    bad = admin_api.post("/automation/webhooks", {"name": "Bad", "url": "file:///etc/passwd"})
    assert_problem(bad, 422, field="url")
