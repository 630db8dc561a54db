"""The inbox: built-in views and their counts, filters, sort orders, bulk changes, saved views."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.conversations import selectors, services
from frontdesk.conversations.models import Conversation, Priority, SavedView, Status
from frontdesk.conversations.selectors import (
    SORT_ACTIVITY,
    SORT_CREATED,
    SORT_PRIORITY,
    ConversationFilters,
    list_conversations,
)
from frontdesk.conversations.views import inbox as inbox_views
from frontdesk.core.errors import InvalidInput, NotFound, PermissionDenied
from tests.conftest import Personas, make_customer
from tests.conversations.helpers import open_conversation

pytestmark = pytest.mark.django_db

ROW = re.compile(r'data-row="(\d+)"')


def rows(response: Any) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [int(n) for n in ROW.findall(response.content.decode())]


def page(client: Client, url: str, **params: Any) -> list[int]:
    return rows(client.get(url, params))


def view_url(view: str) -> str:
    return reverse("conversations:inbox_view", args=[view])


def flash(response: Any) -> list[str]:
    """The messages a redirect left; reading them marks them shown, as a page would."""
    storage = get_messages(response.wsgi_request)
    found = [str(m) for m in storage]
    response.client.cookies.pop("messages", None)
    return found


def ago(**delta: Any) -> datetime:
    return timezone.now() - timedelta(**delta)


# --- built-in views and the rail --------------------------------------------------------


class Desk:
    """One conversation for each built-in view, and some that belong in none."""

    def __init__(self, people: Personas) -> None:
        p = people
        self.mine_new = open_conversation(p.customer, team=p.orders, assignee=p.agent)
        self.mine_open = open_conversation(p.customer, team=p.orders, assignee=p.agent)
        services.set_status(self.mine_open, by=None, status=Status.OPEN)
        self.mine_pending = open_conversation(p.customer, team=p.orders, assignee=p.agent)
        services.set_status(self.mine_pending, by=None, status=Status.PENDING)
        self.unassigned = open_conversation(p.customer, team=p.orders)
        self.colleague_hold = open_conversation(p.customer, team=p.orders, assignee=p.colleague)
        services.set_status(self.colleague_hold, by=None, status=Status.ON_HOLD)
        self.solved_recently = open_conversation(p.customer, team=p.orders)
        services.set_status(self.solved_recently, by=None, status=Status.SOLVED, at=ago(days=2))
        self.solved_long_ago = open_conversation(p.customer, team=p.orders)
        services.set_status(self.solved_long_ago, by=None, status=Status.SOLVED, at=ago(days=9))
        self.closed = open_conversation(p.customer, team=p.orders)
        services.set_status(self.closed, by=None, status=Status.SOLVED)
        services.set_status(self.closed, by=None, status=Status.CLOSED)
        # Another team's work: never in an Orders agent's inbox.
        self.billing_unassigned = open_conversation(p.other_customer, team=p.billing)
        self.billing_pending = open_conversation(p.other_customer, team=p.billing)
        services.set_status(self.billing_pending, by=None, status=Status.PENDING)
        self.billing_solved = open_conversation(p.other_customer, team=p.billing)
        services.set_status(self.billing_solved, by=None, status=Status.SOLVED)

    def numbers(self, *conversations: Conversation) -> set[int]:
        return {c.number for c in conversations}


@pytest.fixture
def desk(people: Personas) -> Desk:
    return Desk(people)


def test_each_builtin_view_shows_its_conversations_and_not_other_teams(
    client: Client, people: Personas, desk: Desk
) -> None:
    client.force_login(people.agent)
    d = desk
    expected = {
        "mine": d.numbers(d.mine_new, d.mine_open),
        "unassigned": d.numbers(d.unassigned),
        "team": d.numbers(d.mine_new, d.mine_open, d.mine_pending, d.unassigned, d.colleague_hold),
        "pending": d.numbers(d.mine_pending),
        "on_hold": d.numbers(d.colleague_hold),
        "solved": d.numbers(d.solved_recently),
    }
    for view, numbers in expected.items():
        assert set(page(client, view_url(view))) == numbers, view
    assert set(page(client, reverse("conversations:inbox"))) == expected["mine"]


def test_the_other_team_sees_only_its_own(client: Client, people: Personas, desk: Desk) -> None:
    client.force_login(people.other_agent)
    d = desk
    assert set(page(client, view_url("unassigned"))) == d.numbers(
        d.billing_unassigned, d.billing_pending
    )
    assert set(page(client, view_url("pending"))) == d.numbers(d.billing_pending)
    assert set(page(client, view_url("solved"))) == d.numbers(d.billing_solved)
    assert page(client, view_url("mine")) == []


def test_an_admin_without_teams_sees_every_team_in_the_team_views(
    client: Client, people: Personas, desk: Desk
) -> None:
    client.force_login(people.admin)
    d = desk
    assert set(page(client, view_url("unassigned"))) == d.numbers(
        d.unassigned, d.billing_unassigned, d.billing_pending
    )


def test_unknown_view_is_404(client: Client, people: Personas) -> None:
    client.force_login(people.agent)
    assert client.get(view_url("everything")).status_code == 404


def test_customers_are_sent_to_the_portal(client: Client, people: Personas) -> None:
    client.force_login(people.customer_user)
    response = client.get(reverse("conversations:inbox"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def rail_counts(html: str) -> dict[str, str]:
    found = re.findall(r'href="([^"]+)"[^>]*><span>[^<]*</span> <span class="count">([^<]+)<', html)
    return dict(found)


def test_rail_counts_each_view_for_the_agent(client: Client, people: Personas, desk: Desk) -> None:
    client.force_login(people.agent)
    html = client.get(reverse("conversations:rail")).content.decode()
    assert rail_counts(html) == {
        reverse("conversations:inbox"): "2",
        view_url("unassigned"): "1",
        view_url("team"): "5",
        view_url("pending"): "1",
        view_url("on_hold"): "1",
        view_url("solved"): "1",
    }


def test_rail_caps_counts(
    client: Client, people: Personas, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    client.force_login(people.agent)
    counts = rail_counts(client.get(reverse("conversations:rail")).content.decode())
    assert counts[view_url("team")] == "3+"
    assert counts[reverse("conversations:inbox")] == "2"


def test_rail_marks_the_page_it_sits_on(client: Client, people: Personas) -> None:
    client.force_login(people.agent)
    here = "http://testserver" + view_url("pending") + "?status=pending"
    html = client.get(reverse("conversations:rail"), headers={"HX-Current-URL": here}).content
    current = re.findall(r'<a href="([^"]+)" aria-current="page"', html.decode())
    assert current == [view_url("pending")]
    html = client.get(reverse("conversations:rail"), {"current": "/inbox/"}).content
    current = re.findall(r'<a href="([^"]+)" aria-current="page"', html.decode())
    assert current == [reverse("conversations:inbox")]


def test_count_stops_at_the_cap(people: Personas, desk: Desk) -> None:
    team = selectors.builtin_view_filters(people.agent, "team")
    assert selectors.count_conversations(people.agent, team) == 5
    assert selectors.count_conversations(people.agent, team, cap=2) == 3


# --- filters ----------------------------------------------------------------------------


def test_filters_narrow_the_list(client: Client, people: Personas) -> None:
    p = people
    other_customer = make_customer("Eva Svobodová", "eva@example.cz")
    urgent = open_conversation(p.customer, team=p.orders, priority=Priority.URGENT, tags=["vip"])
    phone = open_conversation(p.customer, team=p.orders, channel="phone", language="cs")
    theirs = open_conversation(other_customer, team=p.orders, assignee=p.colleague)
    billing = open_conversation(p.customer, team=p.billing)
    client.force_login(p.admin)
    url = view_url("team")
    cases: list[tuple[dict[str, Any], set[int]]] = [
        ({"priority": "4"}, {urgent.number}),
        ({"tag": " VIP "}, {urgent.number}),
        ({"channel": "phone"}, {phone.number}),
        ({"language": "cs"}, {phone.number}),
        ({"customer": other_customer.pk}, {theirs.number}),
        ({"company": p.company.pk}, {urgent.number, phone.number, billing.number}),
        ({"assignee": p.colleague.pk}, {theirs.number}),
        ({"assignee": "none", "team": p.orders.pk}, {urgent.number, phone.number}),
        ({"team": p.billing.pk}, {billing.number}),
        ({"status": "pending"}, set()),
        ({"status": "new", "priority": "4"}, {urgent.number}),
    ]
    for params, expected in cases:
        assert set(page(client, url, **params)) == expected, params


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"priority": "9"}, "priority"),
        ({"priority": "high"}, "priority"),
        ({"team": "abc"}, "team"),
        ({"team": "999999"}, "team"),
        ({"assignee": "someone"}, "assignee"),
        ({"customer": "-1"}, "customer"),
        ({"company": "x"}, "company"),
        ({"language": "<script>"}, "language"),
        ({"channel": "pigeon"}, "channel"),
        ({"sort": "random"}, "sort"),
    ],
)
def test_bad_filter_values_show_an_error_on_the_field(
    client: Client, people: Personas, params: dict[str, str], field: str
) -> None:
    open_conversation(people.customer, team=people.orders, assignee=people.agent)
    client.force_login(people.agent)
    response = client.get(reverse("conversations:inbox"), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert rows(response) == []
    assert f'id="id_{field}_error"' in html
    assert 'aria-invalid="true"' in html
    assert "Correct the filters above" in html


def test_a_cursor_this_server_did_not_issue_is_an_error_not_a_crash(
    client: Client, people: Personas
) -> None:
    client.force_login(people.agent)
    response = client.get(reverse("conversations:inbox"), {"cursor": "garbage!"})
    assert response.status_code == 200
    assert "not one this server issued" in response.content.decode()


def test_the_filter_form_is_labelled_and_slash_focuses_it(client: Client, people: Personas) -> None:
    open_conversation(people.customer, team=people.orders, assignee=people.agent)
    client.force_login(people.agent)
    html = client.get(reverse("conversations:inbox")).content.decode()
    for name in ("status", "priority", "team", "assignee", "tag", "channel", "customer"):
        assert f'<label for="id_{name}"' in html
    assert re.search(r'<select name="status"[^>]*data-shortcut="/"', html)
    assert "data-rowlist" in html
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids))


# --- sorting and keyset pages -----------------------------------------------------------


def make_sortable(people: Personas) -> list[Conversation]:
    """Eight conversations with ties in priority and in activity time."""
    base = timezone.now() - timedelta(days=1)
    made = []
    shapes = [(1, 5), (4, 3), (2, 3), (4, 7), (2, 1), (3, 3), (4, 3), (1, 2)]
    for i, (priority, minutes) in enumerate(shapes):
        made.append(
            open_conversation(
                people.customer,
                team=people.orders,
                priority=priority,
                at=base + timedelta(minutes=minutes),
                subject=f"Case {i}",
            )
        )
    return [Conversation.objects.get(pk=c.pk) for c in made]


def expected_order(conversations: list[Conversation], sort: str) -> list[int]:
    keys = {
        SORT_ACTIVITY: lambda c: (c.last_activity_at, c.pk),
        SORT_CREATED: lambda c: (c.created_at, c.pk),
        SORT_PRIORITY: lambda c: (c.priority, c.last_activity_at, c.pk),
    }[sort]
    return [c.number for c in sorted(conversations, key=keys, reverse=True)]


@pytest.mark.parametrize("sort", [SORT_ACTIVITY, SORT_CREATED, SORT_PRIORITY])
def test_each_sort_pages_through_everything_once_in_order(people: Personas, sort: str) -> None:
    made = make_sortable(people)
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        result = list_conversations(
            people.agent, filters=ConversationFilters(), sort=sort, cursor=cursor, limit=3
        )
        seen.extend(c.number for c in result.items)
        cursor = result.next_cursor
        if cursor is None:
            break
    assert seen == expected_order(made, sort)


@pytest.mark.parametrize("sort", [SORT_ACTIVITY, SORT_CREATED, SORT_PRIORITY])
def test_the_page_follows_next_links_in_each_sort(
    client: Client, people: Personas, sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_views, "PAGE_SIZE", 3)
    made = make_sortable(people)
    client.force_login(people.agent)
    url: str | None = view_url("team") + "?" + urlencode({"sort": sort})
    seen: list[int] = []
    pages = 0
    while url:
        response = client.get(url)
        seen.extend(rows(response))
        pages += 1
        found = re.search(r'href="([^"]+)" rel="next"', response.content.decode())
        url = found.group(1).replace("&amp;", "&") if found else None
        if url:
            assert f"sort={sort}" in url
    assert pages == 3
    assert seen == expected_order(made, sort)


def test_a_cursor_of_another_sort_is_refused(people: Personas) -> None:
    make_sortable(people)
    first = list_conversations(people.agent, filters=ConversationFilters(), limit=2)
    assert first.next_cursor is not None
    with pytest.raises(InvalidInput):
        list_conversations(
            people.agent,
            filters=ConversationFilters(),
            sort=SORT_PRIORITY,
            cursor=first.next_cursor,
        )


def test_the_list_partial_keeps_filters_and_page(
    client: Client, people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_views, "PAGE_SIZE", 3)
    make_sortable(people)
    client.force_login(people.agent)
    first = client.get(view_url("team"), {"sort": "priority"})
    html = first.content.decode()
    assert 'hx-trigger="fd:inbox-changed from:body' in html
    next_url = re.search(r'href="([^"]+)" rel="next"', html)
    assert next_url is not None
    second_url = next_url.group(1).replace("&amp;", "&")
    full = client.get(second_url)
    partial = client.get(second_url, headers={"HX-Request": "true", "HX-Target": "inbox-list"})
    partial_html = partial.content.decode()
    assert "<html" not in partial_html
    assert rows(partial) == rows(full)
    assert f'hx-get="{second_url.replace("&", "&amp;")}"' in full.content.decode()


# --- bulk changes -----------------------------------------------------------------------


def bulk(client: Client, numbers: list[int], **data: Any) -> Any:
    return client.post(
        reverse("conversations:inbox_bulk"),
        {"conversation": numbers, "next": view_url("team"), **data},
    )


def test_bulk_assign_reports_what_was_refused_and_does_the_rest(
    client: Client, people: Personas
) -> None:
    p = people
    free = open_conversation(p.customer, team=p.orders)
    also_free = open_conversation(p.customer, team=p.orders)
    colleagues = open_conversation(p.customer, team=p.orders, assignee=p.colleague)
    other_team = open_conversation(p.customer, team=p.billing)
    client.force_login(p.agent)
    numbers = [free.number, also_free.number, colleagues.number, other_team.number]
    response = bulk(client, numbers, action="assign", assignee=str(p.agent.pk))
    assert response.status_code == 302
    assert response["Location"] == view_url("team")
    [message] = flash(response)
    assert message.startswith("2 updated, 2 refused:")
    assert f"#{colleagues.number} (Only a supervisor can take" in message
    assert f"#{other_team.number} (not found)" in message
    assignees = dict(Conversation.objects.values_list("number", "assignee_id"))
    assert assignees[free.number] == p.agent.pk
    assert assignees[also_free.number] == p.agent.pk
    assert assignees[colleagues.number] == p.colleague.pk
    assert assignees[other_team.number] is None


def test_bulk_unassign_status_and_tag(client: Client, people: Personas) -> None:
    p = people
    a = open_conversation(p.customer, team=p.orders, assignee=p.agent)
    b = open_conversation(p.customer, team=p.orders, assignee=p.agent)
    client.force_login(p.agent)
    assert flash(bulk(client, [a.number, b.number], action="assign", assignee="none")) == [
        "2 updated"
    ]
    assert flash(bulk(client, [a.number, b.number], action="tag", tag="Refund")) == ["2 updated"]
    assert flash(bulk(client, [a.number], action="status", status="pending")) == ["1 updated"]
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.assignee_id, b.assignee_id) == (None, None)
    assert a.status == Status.PENDING
    assert b.status == Status.NEW
    assert sorted(a.tags.values_list("name", flat=True)) == ["refund"]
    assert sorted(b.tags.values_list("name", flat=True)) == ["refund"]


def test_bulk_status_refuses_a_transition_that_is_not_allowed(
    client: Client, people: Personas
) -> None:
    p = people
    closed = open_conversation(p.customer, team=p.orders)
    services.set_status(closed, by=None, status=Status.SOLVED)
    services.set_status(closed, by=None, status=Status.CLOSED)
    fresh = open_conversation(p.customer, team=p.orders)
    client.force_login(p.agent)
    [message] = flash(bulk(client, [closed.number, fresh.number], action="status", status="open"))
    assert (
        message
        == f"1 updated, 1 refused: #{closed.number} (A conversation cannot go from Closed to Open.)"
    )
    fresh.refresh_from_db()
    assert fresh.status == Status.OPEN


def test_bulk_without_a_choice_changes_nothing(client: Client, people: Personas) -> None:
    c = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)
    assert flash(bulk(client, [], action="status", status="open")) == [
        "Tick at least one conversation."
    ]
    assert flash(bulk(client, [c.number], action="status")) == ["Status: Choose a status."]
    assert flash(bulk(client, [c.number], action="assign", assignee="")) != []
    c.refresh_from_db()
    assert c.status == Status.NEW


def test_bulk_goes_back_only_to_this_site(client: Client, people: Personas) -> None:
    c = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)
    response = client.post(
        reverse("conversations:inbox_bulk"),
        {"conversation": [c.number], "action": "tag", "tag": "x", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("conversations:inbox")


def test_bulk_needs_csrf(people: Personas) -> None:
    c = open_conversation(people.customer, team=people.orders)
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.agent)
    response = bulk(client, [c.number], action="tag", tag="x")
    assert response.status_code == 403


# --- saved views ------------------------------------------------------------------------


def save_view(client: Client, name: str, query: dict[str, Any], team: Any = "") -> Any:
    return client.post(
        reverse("conversations:saved_view_create"),
        {"save-name": name, "save-team": team, "query": urlencode(query), "next": "/inbox/"},
    )


def test_save_the_current_filters_and_open_them_again(client: Client, people: Personas) -> None:
    p = people
    urgent = open_conversation(p.customer, team=p.orders, priority=Priority.URGENT)
    open_conversation(p.customer, team=p.orders)
    client.force_login(p.agent)
    response = save_view(client, "Urgent", {"priority": "4", "sort": "created"})
    saved = SavedView.objects.get()
    assert response["Location"] == reverse("conversations:saved_view", args=[saved.pk])
    assert (saved.owner, saved.team, saved.filters, saved.sort) == (
        p.agent,
        None,
        {"priority": "4"},
        "created",
    )
    opened = client.get(response["Location"])
    assert rows(opened) == [urgent.number]
    assert '<option value="4" selected>' in opened.content.decode()
    rail = client.get(reverse("conversations:rail"), {"current": response["Location"]})
    assert re.search(rf'href="{response["Location"]}" aria-current="page"', rail.content.decode())


def test_saving_refuses_bad_filters_and_a_team_not_mine(client: Client, people: Personas) -> None:
    client.force_login(people.agent)
    response = save_view(client, "Odd", {"priority": "99"})
    assert any("Priority" in m for m in flash(response))
    response = save_view(client, "Theirs", {}, team=people.billing.pk)
    assert flash(response)
    assert not SavedView.objects.exists()


def test_a_shared_view_reaches_teammates_and_a_private_one_does_not(
    client: Client, people: Personas
) -> None:
    p = people
    shared = services.create_saved_view(
        by=p.agent, name="Team urgent", filters={"priority": "4"}, team=p.orders
    )
    private = services.create_saved_view(by=p.agent, name="Mine only", filters={})
    client.force_login(p.colleague)
    rail = client.get(reverse("conversations:rail")).content.decode()
    assert "Team urgent" in rail
    assert "Mine only" not in rail
    assert client.get(reverse("conversations:saved_view", args=[shared.pk])).status_code == 200
    assert client.get(reverse("conversations:saved_view", args=[private.pk])).status_code == 404
    client.force_login(p.other_agent)
    assert client.get(reverse("conversations:saved_view", args=[shared.pk])).status_code == 404
    assert "Team urgent" not in client.get(reverse("conversations:rail")).content.decode()


def test_rename_share_and_delete_my_view(client: Client, people: Personas) -> None:
    p = people
    view = services.create_saved_view(by=p.agent, name="Draft", filters={"status": "open"})
    client.force_login(p.agent)
    listing = client.get(reverse("conversations:saved_views")).content.decode()
    assert "Draft" in listing
    response = client.post(
        reverse("conversations:saved_view_edit", args=[view.pk]),
        {f"v{view.pk}-name": "Open ones", f"v{view.pk}-team": p.orders.pk},
    )
    assert response.status_code == 302
    view.refresh_from_db()
    assert (view.name, view.team_id, view.filters) == ("Open ones", p.orders.pk, {"status": "open"})
    response = client.post(reverse("conversations:saved_view_delete", args=[view.pk]))
    assert response.status_code == 302
    assert not SavedView.objects.exists()


def test_teammates_cannot_change_a_shared_view(client: Client, people: Personas) -> None:
    p = people
    view = services.create_saved_view(by=p.agent, name="Shared", filters={}, team=p.orders)
    client.force_login(p.colleague)
    response = client.post(
        reverse("conversations:saved_view_edit", args=[view.pk]),
        {f"v{view.pk}-name": "Mine now"},
    )
    assert flash(response) == ["Only the owner of a view may change it."]
    response = client.post(reverse("conversations:saved_view_delete", args=[view.pk]))
    assert flash(response) == ["Only the owner of a view may change it."]
    view.refresh_from_db()
    assert view.name == "Shared"
    client.force_login(p.other_agent)
    response = client.post(reverse("conversations:saved_view_delete", args=[view.pk]))
    assert response.status_code == 404


def test_saved_view_services_check_owner_team_and_input(people: Personas) -> None:
    p = people
    with pytest.raises(InvalidInput) as bad_team:
        services.create_saved_view(by=p.agent, name="x", filters={}, team=p.billing)
    assert bad_team.value.field == "team"
    with pytest.raises(InvalidInput) as bad_name:
        services.create_saved_view(by=p.agent, name="   ", filters={})
    assert bad_name.value.field == "name"
    with pytest.raises(InvalidInput) as bad_filter:
        services.create_saved_view(by=p.agent, name="x", filters={"owner_id": "1"})
    assert bad_filter.value.field == "filters"
    with pytest.raises(PermissionDenied):
        services.create_saved_view(by=p.customer_user, name="x", filters={})
    view = services.create_saved_view(by=p.agent, name="Mine", filters={})
    with pytest.raises(NotFound):
        services.update_saved_view(view, by=p.other_agent, name="Taken")
    renamed = services.update_saved_view(view, by=p.admin, name="Renamed by admin")
    assert renamed.name == "Renamed by admin"
    services.delete_saved_view(view, by=p.admin)
    assert not SavedView.objects.exists()


def test_access_saved_view_is_not_found_for_others_private_views(people: Personas) -> None:
    view = services.create_saved_view(by=people.agent, name="Mine", filters={})
    assert selectors.access_saved_view(people.agent, view.pk) == view
    with pytest.raises(NotFound):
        selectors.access_saved_view(people.colleague, view.pk)
    assert [v.name for v in selectors.list_saved_views(people.colleague)] == []


# --- query counts -----------------------------------------------------------------------


@pytest.fixture
def busy_desk(people: Personas) -> None:
    """Thirty conversations with tags, assignees and customers, so N+1 would show."""
    customers = [make_customer(f"Customer {i}", f"c{i}@example.com") for i in range(10)]
    assignees: list[User | None] = [people.agent, people.colleague, None]
    for i in range(30):
        open_conversation(
            customers[i % 10],
            team=people.orders,
            assignee=assignees[i % 3],
            tags=[f"t{i % 4}", "common"],
        )
    services.create_saved_view(by=people.agent, name="Mine", filters={})
    services.create_saved_view(by=people.colleague, name="Shared", filters={}, team=people.orders)


def test_inbox_page_query_count_is_pinned(
    client: Client, people: Personas, busy_desk: None, django_assert_max_num_queries: Any
) -> None:
    client.force_login(people.agent)
    # session, user, team ids, teams, people, the page, its tags
    with django_assert_max_num_queries(7):
        response = client.get(view_url("team"), {"tag": "common"})
    assert len(rows(response)) == 30


def test_rail_query_count_is_pinned(
    client: Client, people: Personas, busy_desk: None, django_assert_max_num_queries: Any
) -> None:
    client.force_login(people.agent)
    # session, user, team ids, six counts, the saved views
    with django_assert_max_num_queries(10):
        response = client.get(reverse("conversations:rail"))
    html = response.content.decode()
    assert "Mine" in html
    assert "Shared" in html


def test_last_activity_shows_in_the_users_time_zone(client: Client, people: Personas) -> None:
    people.agent.time_zone = "Asia/Bangkok"
    people.agent.save(update_fields=["time_zone"])
    open_conversation(people.customer, team=people.orders, assignee=people.agent)
    client.force_login(people.agent)
    html = client.get(reverse("conversations:inbox")).content.decode()
    assert re.search(r'<time datetime="[^"]+\+07:00"', html)
