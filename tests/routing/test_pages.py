"""Manage → Routing: rules (list, add, edit, reorder, delete, dry run) and team assignment."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from frontdesk.accounts.models import Team
from frontdesk.conversations import services
from frontdesk.conversations.models import Priority, Status
from frontdesk.routing import services as routing
from frontdesk.routing.models import AgentCapacity, AssignmentMode, RoutingRule, TeamRouting
from tests.conftest import Personas
from tests.routing.conftest import Open

FORM = {
    "name": "Thai refunds",
    "active": "on",
    "channels": ["email", "portal"],
    "languages": "th, en",
    "tags": "vip",
    "customers": "jana@acme.example\n",
    "companies": "acme s.r.o.",
    "custom_fields": "",
    "keywords": "คืนเงิน\nrefund*\n",
    "team": "",
    "priority": str(Priority.HIGH),
    "add_tags": "refund, thai",
    "skill": "",
}


@pytest.fixture
def admin_client(client: Client, people: Personas) -> Client:
    client.force_login(people.admin)
    return client


def field_errors(page: str, field: str) -> str:
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</ul>', page, re.S)
    return match.group(1) if match else ""


def test_only_admins_open_the_routing_pages(client: Client, people: Personas) -> None:
    rule = routing.create_rule(by=None, name="R", add_tags=["x"])
    client.force_login(people.supervisor)
    for url in (
        reverse("routing:rules"),
        reverse("routing:rule_new"),
        reverse("routing:rule_edit", args=[rule.pk]),
        reverse("routing:rule_dry_run", args=[rule.pk]),
        reverse("routing:teams"),
        reverse("routing:team_edit", args=[people.orders.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("routing:rule_delete", args=[rule.pk])).status_code == 403
    assert RoutingRule.objects.filter(pk=rule.pk).exists()


def test_manage_navigation_links_routing(admin_client: Client) -> None:
    html = admin_client.get(reverse("routing:rules")).content.decode()
    assert f'<a href="{reverse("routing:rules")}" aria-current="page">Routing</a>' in html


def test_adding_a_rule_parses_what_was_typed(admin_client: Client, people: Personas) -> None:
    response = admin_client.post(reverse("routing:rule_new"), FORM)
    rule = RoutingRule.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("routing:rule_edit", args=[rule.pk])
    assert rule.channels == ["email", "portal"]
    assert rule.languages == ["th", "en"]
    assert rule.customer_ids == [people.customer.pk]
    assert rule.company_ids == [people.company.pk]
    assert rule.keywords == ["คืนเงิน", "refund*"]
    assert rule.priority == Priority.HIGH
    assert rule.add_tags == ["refund", "thai"]
    page = admin_client.get(reverse("routing:rule_edit", args=[rule.pk])).content.decode()
    assert "jana@acme.example" in page and "Acme s.r.o." in page and "คืนเงิน" in page


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customers": "nobody@example.com"}, "customers"),
        ({"companies": "No Such Ltd"}, "companies"),
        ({"custom_fields": "just text"}, "custom_fields"),
        ({"languages": "thai language"}, "languages"),
        ({"priority": "", "add_tags": ""}, "team"),
    ],
)
def test_a_refused_rule_shows_the_error_on_its_field(
    admin_client: Client, change: dict[str, Any], field: str
) -> None:
    response = admin_client.post(reverse("routing:rule_new"), {**FORM, **change})
    assert response.status_code == 200
    assert field_errors(response.content.decode(), field)
    assert not RoutingRule.objects.exists()


def test_editing_moving_and_deleting_rules(admin_client: Client, people: Personas) -> None:
    first = routing.create_rule(by=None, name="First", add_tags=["a"])
    second = routing.create_rule(by=None, name="Second", add_tags=["b"])
    response = admin_client.post(
        reverse("routing:rule_edit", args=[first.pk]),
        {**FORM, "name": "First, renamed", "team": str(people.billing.pk), "customers": ""},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.name, first.team_id, first.customer_ids) == (
        "First, renamed",
        people.billing.pk,
        [],
    )

    admin_client.post(reverse("routing:rule_move", args=[second.pk]), {"direction": "up"})
    order = list(RoutingRule.objects.order_by("position").values_list("name", flat=True))
    assert order == ["Second", "First, renamed"]
    page = admin_client.get(reverse("routing:rules")).content.decode()
    assert page.index("Second") < page.index("First, renamed")

    admin_client.post(reverse("routing:rule_delete", args=[second.pk]))
    assert list(RoutingRule.objects.values_list("name", "position")) == [("First, renamed", 0)]


def test_the_dry_run_lists_open_conversations_the_rule_matches_now(
    admin_client: Client, people: Personas, open_conversation: Open
) -> None:
    rule = routing.create_rule(by=None, name="Refunds", keywords=["refund"], add_tags=["r"])
    hit = open_conversation("Refund please", team=people.orders)
    miss = open_conversation("Where is my parcel?", team=people.orders)
    solved = open_conversation("Refund again", team=people.orders)
    services.set_status(solved, by=None, status=Status.SOLVED)
    page = admin_client.get(reverse("routing:rule_dry_run", args=[rule.pk])).content.decode()
    numbers = {int(n) for n in re.findall(r'href="/conversations/(\d+)/"', page)}
    assert numbers == {hit.number}
    assert miss.number not in numbers
    assert hit.subject in page
    # Nothing was changed by looking.
    assert not hit.tags.exists()


def test_the_dry_run_stops_at_fifty(
    admin_client: Client, people: Personas, open_conversation: Open
) -> None:
    rule = routing.create_rule(by=None, name="All", add_tags=["x"])
    for i in range(55):
        open_conversation(f"Question {i}", team=people.orders)
    page = admin_client.get(reverse("routing:rule_dry_run", args=[rule.pk])).content.decode()
    assert len(re.findall(r'href="/conversations/(\d+)/"', page)) == 50


def test_team_assignment_settings_and_capacities(admin_client: Client, people: Personas) -> None:
    url = reverse("routing:team_edit", args=[people.orders.pk])
    page = admin_client.get(url).content.decode()
    cell = f"cap_{people.agent.pk}_chat"
    assert f'name="{cell}"' in page
    response = admin_client.post(
        url,
        {"mode": AssignmentMode.LEAST_LOADED, "default_capacity": "4", cell: "2",
         f"cap_{people.colleague.pk}_phone": "0"},
    )  # fmt: skip
    assert response.status_code == 302
    settings = TeamRouting.objects.get(team=people.orders)
    assert (settings.mode, settings.default_capacity) == (AssignmentMode.LEAST_LOADED, 4)
    assert set(AgentCapacity.objects.values_list("user_id", "channel", "max_open")) == {
        (people.agent.pk, "chat", 2),
        (people.colleague.pk, "phone", 0),
    }
    # Emptying a cell goes back to the team's number.
    admin_client.post(url, {"mode": AssignmentMode.LEAST_LOADED, "default_capacity": "4"})
    assert not AgentCapacity.objects.exists()
    listing = admin_client.get(reverse("routing:teams")).content.decode()
    assert "Least loaded" in listing


def test_team_settings_refuse_bad_numbers(admin_client: Client, people: Personas) -> None:
    url = reverse("routing:team_edit", args=[people.orders.pk])
    response = admin_client.post(url, {"mode": AssignmentMode.ROUND_ROBIN, "default_capacity": "0"})
    assert response.status_code == 200
    assert field_errors(response.content.decode(), "default_capacity")
    assert not TeamRouting.objects.exists()
    assert Team.objects.count() == 2
