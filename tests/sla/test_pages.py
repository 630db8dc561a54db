"""SLA in the workspace: badges on inbox rows and the sidebar, "Due soonest" with keyset
pages, the At risk view (supervisors' teams, admins everything), and the policy pages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, Status
from frontdesk.conversations.selectors import SORT_DUE, ConversationFilters, list_conversations
from frontdesk.conversations.services import SlaDue, set_sla_due
from frontdesk.conversations.views import inbox as inbox_views
from frontdesk.core.models import Event
from frontdesk.sla.models import BusinessCalendar, SlaPolicy
from frontdesk.sla.services import create_policy
from tests.conftest import Personas, make_customer
from tests.conversations.helpers import open_conversation
from tests.sla.conftest import Live, MakePolicy, targets

ROW = re.compile(r'data-row="(\d+)"')
NEXT = re.compile(r'href="([^"]+)" rel="next"')


def rows(response: Any) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [int(n) for n in ROW.findall(response.content.decode())]


def soon(**delta: Any) -> datetime:
    return timezone.now() + timedelta(**delta)


def due(
    conversation: Conversation,
    *,
    at: datetime | None,
    warning: datetime | None = None,
    paused: bool = False,
    breached: bool = False,
) -> None:
    set_sla_due(
        [
            SlaDue(
                conversation_id=conversation.pk,
                due_at=at,
                warning_at=warning if warning is not None else at,
                breached=breached,
                paused=paused,
            )
        ]
    )


# --- badges --------------------------------------------------------------------------------


def test_inbox_rows_show_time_left_warning_overdue_and_paused(
    client: Client, people: Personas
) -> None:
    calm, risky, late, waiting, plain = (
        open_conversation(people.customer, team=people.orders, subject=f"S{i}") for i in range(5)
    )
    due(calm, at=soon(hours=5), warning=soon(hours=3))
    due(risky, at=soon(minutes=50), warning=soon(minutes=-10))
    due(late, at=soon(hours=-2), breached=True)
    services.set_status(waiting, by=None, status=Status.PENDING)
    due(waiting, at=None, paused=True)
    client.force_login(people.agent)

    html = client.get(reverse("conversations:inbox_view", args=["team"])).content.decode()

    def badge(conversation: Conversation) -> str:
        found = re.search(
            rf'data-row="{conversation.number}".*?<span class="badge sla sla-(\w+)"[^>]*>([^<]+)<',
            html,
            re.S,
        )
        assert found is not None, conversation
        return f"{found.group(1)}: {found.group(2)}"

    assert badge(calm).startswith("ok: 4") and badge(calm).endswith("left")
    assert badge(risky).startswith("warning: ") and "minutes left" in badge(risky)
    assert badge(late).startswith("breached: overdue by 1") or badge(late).startswith(
        "breached: overdue by 2"
    )
    assert badge(waiting) == "paused: SLA paused"
    plain_row = re.search(rf'data-row="{plain.number}".*?</tr>', html, re.S)
    assert plain_row is not None and "badge sla" not in plain_row.group(0)
    # Colour comes from classes in the stylesheet, never from inline styles.
    assert "style=" not in html


def test_the_conversation_sidebar_shows_the_badge(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    due(conversation, at=soon(hours=2), warning=soon(hours=1))
    client.force_login(people.agent)

    html = client.get(reverse("conversations:detail", args=[conversation.number])).content
    sidebar = client.get(reverse("conversations:conversation_sidebar",
                                 args=[conversation.number])).content  # fmt: skip

    for page in (html.decode(), sidebar.decode()):
        assert re.search(r'class="badge sla sla-ok"[^>]*>1\xa0hour', page) or re.search(
            r'class="badge sla sla-ok"[^>]*>2\xa0hours', page
        )


@pytest.fixture
def sla_desk(people: Personas) -> list[Conversation]:
    """Thirty open conversations with SLA due times, tags and assignees, so N+1 would show."""
    customers = [make_customer(f"Customer {i}", f"c{i}@example.com") for i in range(10)]
    assignees = [people.agent, people.colleague, None]
    made = []
    for i in range(30):
        conversation = open_conversation(
            customers[i % 10], team=people.orders, assignee=assignees[i % 3],
            tags=[f"t{i % 4}", "common"],
        )  # fmt: skip
        due(conversation, at=soon(minutes=10 * (30 - i)), warning=soon(minutes=5 * (30 - i) - 60))
        made.append(conversation)
    return made


def test_inbox_query_count_stays_pinned_with_sla_badges(
    client: Client,
    people: Personas,
    sla_desk: list[Conversation],
    django_assert_max_num_queries: Any,
) -> None:
    client.force_login(people.agent)
    url = reverse("conversations:inbox_view", args=["team"])
    # As before SLAs: session, user, team ids, teams, people, the page, its tags.
    with django_assert_max_num_queries(7):
        response = client.get(url, {"tag": "common"})
    assert len(rows(response)) == 30
    assert response.content.decode().count("badge sla sla-") == 30
    # Due soonest may read the conversations without a due time after the rest.
    with django_assert_max_num_queries(8):
        response = client.get(url, {"tag": "common", "sort": SORT_DUE})
    assert rows(response) == [c.number for c in reversed(sla_desk)]


# --- due soonest ------------------------------------------------------------------------------


def test_due_soonest_walks_keyset_pages_with_undated_conversations_last(
    people: Personas,
) -> None:
    made = [open_conversation(people.customer, team=people.orders) for _ in range(7)]
    tie = soon(hours=3)
    due(made[0], at=soon(hours=5))
    due(made[1], at=tie)
    due(made[2], at=soon(hours=1))
    due(made[3], at=tie)
    due(made[4], at=soon(hours=-1))
    expected = [made[4], made[2], made[1], made[3], made[0], made[5], made[6]]

    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = list_conversations(
            people.agent, filters=ConversationFilters(), sort=SORT_DUE, cursor=cursor, limit=2
        )
        seen += [c.number for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == [c.number for c in expected]


def test_due_soonest_in_the_inbox_follows_its_next_page_links(
    client: Client, people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_views, "PAGE_SIZE", 2)
    made = [open_conversation(people.customer, team=people.orders) for _ in range(5)]
    for index, conversation in enumerate(made[:3]):
        due(conversation, at=soon(hours=3 - index))
    client.force_login(people.agent)

    url = reverse("conversations:inbox_view", args=["team"]) + f"?sort={SORT_DUE}"
    seen: list[int] = []
    for _ in range(5):
        response = client.get(url)
        seen += rows(response)
        found = NEXT.search(response.content.decode())
        if found is None:
            break
        url = found.group(1).replace("&amp;", "&")

    assert seen == [made[2].number, made[1].number, made[0].number, made[3].number,
                    made[4].number]  # fmt: skip


def test_a_saved_view_may_sort_by_due_soonest(people: Personas) -> None:
    view = services.create_saved_view(by=people.agent, name="Due", filters={}, sort=SORT_DUE)
    assert view.sort == SORT_DUE


def test_a_forged_due_cursor_is_refused(client: Client, people: Personas) -> None:
    client.force_login(people.agent)
    url = reverse("conversations:inbox_view", args=["team"])
    response = client.get(url, {"sort": SORT_DUE, "cursor": "WyJ4IiwxXQ"})
    assert response.status_code == 200
    assert "The cursor is not one this server issued." in response.content.decode()


# --- at risk --------------------------------------------------------------------------------


@pytest.fixture
def risky(people: Personas) -> dict[str, Conversation]:
    found = {
        "orders_warning": open_conversation(people.customer, team=people.orders, subject="W"),
        "orders_breached": open_conversation(people.customer, team=people.orders, subject="B"),
        "orders_calm": open_conversation(people.customer, team=people.orders, subject="C"),
        "billing_breached": open_conversation(people.customer, team=people.billing, subject="X"),
    }
    due(found["orders_warning"], at=soon(minutes=30), warning=soon(minutes=-5))
    due(found["orders_breached"], at=soon(minutes=-20), breached=True)
    due(found["orders_calm"], at=soon(hours=6), warning=soon(hours=4))
    due(found["billing_breached"], at=soon(minutes=-90), breached=True)
    return found


def test_agents_may_not_watch_the_risks(client: Client, people: Personas, risky: Any) -> None:
    client.force_login(people.agent)
    assert client.get(reverse("sla:at_risk")).status_code == 403
    client.force_login(people.customer_user)
    assert client.get(reverse("sla:at_risk")).status_code == 302


def test_a_supervisor_sees_the_risks_of_their_teams_due_soonest_first(
    client: Client, people: Personas, risky: dict[str, Conversation],
    django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    client.force_login(people.supervisor)
    # session, user, team ids, the page with its joins
    with django_assert_max_num_queries(4):
        response = client.get(reverse("sla:at_risk"))
    assert rows(response) == [risky["orders_breached"].number, risky["orders_warning"].number]
    html = response.content.decode()
    assert "sla-breached" in html and "sla-warning" in html
    # The list refreshes itself when realtime says something changed, and each minute.
    assert 'hx-trigger="fd:inbox-changed from:body throttle:2s, every 60s"' in html

    partial = client.get(reverse("sla:at_risk"), headers={"HX-Target": "at-risk-list"})
    assert rows(partial) == rows(response)
    assert "<html" not in partial.content.decode()


def test_an_admin_sees_the_risks_of_every_team(
    client: Client, people: Personas, risky: dict[str, Conversation]
) -> None:
    client.force_login(people.admin)
    assert rows(client.get(reverse("sla:at_risk"))) == [
        risky["billing_breached"].number,
        risky["orders_breached"].number,
        risky["orders_warning"].number,
    ]


def test_the_rail_links_at_risk_for_supervisors_only(client: Client, people: Personas) -> None:
    at_risk = reverse("sla:at_risk")
    client.force_login(people.supervisor)
    assert at_risk in client.get(reverse("conversations:rail")).content.decode()
    client.force_login(people.agent)
    assert at_risk not in client.get(reverse("conversations:rail")).content.decode()


def test_the_risks_page_names_the_policy_and_the_target(
    client: Client, people: Personas, office: BusinessCalendar, make_policy: MakePolicy,
    live: Live,
) -> None:  # fmt: skip
    make_policy("Gold", time_basis="calendar", targets=[targets(first=60)])
    with live():
        conversation = open_conversation(
            people.customer, team=people.orders, at=timezone.now() - timedelta(minutes=50)
        )
    client.force_login(people.supervisor)
    html = client.get(reverse("sla:at_risk")).content.decode()
    assert rows(client.get(reverse("sla:at_risk"))) == [conversation.number]
    assert "Gold" in html and "First response" in html


# --- policy pages -----------------------------------------------------------------------------

FORM = {
    "name": "Gold",
    "active": "on",
    "priorities": ["3", "4"],
    "team_ids": [],
    "tags": "vip, key account",
    "customer_ids": "",
    "company_ids": "",
    "time_basis": "business",
    "calendar": "",
    "warning_percent": "80",
    "p3_first_response": "1h",
    "p3_next_response": "90",
    "p3_resolution": "1d 4h",
    "p4_first_response": "15m",
    "breach_notify": ["assignee", "team_lead"],
    "breach_raise_priority": "on",
}


def test_admin_adds_a_policy_with_typed_durations(client: Client, people: Personas) -> None:
    client.force_login(people.admin)
    assert client.get(reverse("sla:policy_new")).status_code == 200

    response = client.post(reverse("sla:policy_new"), FORM)

    assert response.status_code == 302, response.content.decode()[:2000]
    policy = SlaPolicy.objects.get()
    assert policy.conditions == {"priorities": [3, 4], "tags": ["key-account", "vip"]}
    assert policy.targets == [
        {"priority": 3, "first_response_minutes": 60, "next_response_minutes": 90,
         "resolution_minutes": 28 * 60},
        {"priority": 4, "first_response_minutes": 15, "next_response_minutes": None,
         "resolution_minutes": None},
    ]  # fmt: skip
    assert policy.warning_percent == 80
    assert policy.breach_actions == [
        {"type": "notify", "to": ["assignee", "team_lead"]},
        {"type": "raise_priority"},
    ]
    listing = client.get(reverse("sla:policies")).content.decode()
    assert "Gold" in listing and "1d 4h" in listing
    edit = client.get(reverse("sla:policy_edit", args=[policy.pk])).content.decode()
    assert 'value="1d 4h"' in edit


def test_a_typo_or_a_refusal_comes_back_on_its_field(client: Client, people: Personas) -> None:
    create_policy(by=people.admin, name="Gold", targets=[targets(first=60)])
    client.force_login(people.admin)

    typo = client.post(reverse("sla:policy_new"), {**FORM, "name": "New", "p3_resolution": "soon"})
    taken = client.post(reverse("sla:policy_new"), FORM)
    empty = client.post(
        reverse("sla:policy_new"),
        {**FORM, "name": "Empty", "p3_first_response": "", "p3_next_response": "",
         "p3_resolution": "", "p4_first_response": ""},
    )  # fmt: skip

    assert typo.status_code == 200
    assert re.search(r'id="id_p3_resolution_error"', typo.content.decode())
    assert re.search(r'id="id_name_error"', taken.content.decode())
    assert "Give at least one target." in empty.content.decode()
    assert SlaPolicy.objects.count() == 1


def test_admin_reorders_and_deletes_policies(client: Client, people: Personas) -> None:
    first = create_policy(by=people.admin, name="First", targets=[targets(first=60)])
    second = create_policy(by=people.admin, name="Second", targets=[targets(first=60)])
    client.force_login(people.admin)

    client.post(reverse("sla:policy_move", args=[second.pk]), {"direction": "up"})
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["Second", "First"]

    client.post(reverse("sla:policy_delete", args=[first.pk]))
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["Second"]
    assert Event.objects.filter(action="sla_policy.deleted", object_id=first.pk).exists()


def test_only_admins_open_the_policy_pages(client: Client, people: Personas) -> None:
    policy = create_policy(by=people.admin, name="Gold", targets=[targets(first=60)])
    client.force_login(people.supervisor)
    for url in (reverse("sla:policies"), reverse("sla:policy_new"),
                reverse("sla:policy_edit", args=[policy.pk])):  # fmt: skip
        assert client.get(url).status_code == 403
    assert client.post(reverse("sla:policy_delete", args=[policy.pk])).status_code == 403
    assert SlaPolicy.objects.exists()
