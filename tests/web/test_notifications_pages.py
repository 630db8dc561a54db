"""The bell, the notifications page, opening one, and the composer's @ suggestions."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from frontdesk.accounts.models import User
from frontdesk.conversations.models import Conversation
from frontdesk.notifications import services
from frontdesk.notifications.models import Notification, NotificationKind
from frontdesk.notifications.selectors import UNREAD_CAP
from tests.conftest import Personas, make_customer
from tests.conversations.helpers import open_conversation

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _notify(
    people: Personas,
    conversation: Conversation,
    *,
    kind: str = NotificationKind.ASSIGNED,
    recipient: User | None = None,
    excerpt: str = "",
) -> Notification:
    services.add_notifications(
        conversation,
        recipients=[recipient or people.agent],
        kind=kind,
        actor=people.supervisor,
        excerpt=excerpt,
    )
    return Notification.objects.order_by("-id").first()  # type: ignore[return-value]


def _bell(client: Client) -> str:
    response = client.get(reverse("notifications:bell"), headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def _count(html: str) -> str | None:
    found = re.search(r"data-bell-count[^>]*>([^<]+)<", html)
    return found.group(1) if found else None


def test_the_header_asks_for_the_bell_and_the_bell_shows_the_unread_count(
    client: Client, people: Personas
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    page = client.get(reverse("conversations:inbox")).content.decode()
    assert 'hx-get="/notifications/bell/' in page
    assert "fd:notifications-changed from:body" in page
    assert _count(_bell(client)) is None

    _notify(people, conversation)
    _notify(people, conversation, kind=NotificationKind.NEW_IN_TEAM)

    html = _bell(client)
    assert _count(html) == "2"
    assert "Notifications: 2 unread" in html


def test_the_bell_caps_its_count(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    for _i in range(UNREAD_CAP + 1):
        _notify(people, conversation)
    client.force_login(people.agent)

    assert _count(_bell(client)) == f"{UNREAD_CAP}+"


def test_the_page_lists_what_happened_and_opening_one_reads_it(
    client: Client, people: Personas
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    mention = _notify(
        people, conversation, kind=NotificationKind.MENTIONED, excerpt="@anna call them"
    )
    _notify(people, conversation, kind=NotificationKind.CUSTOMER_REPLIED)
    client.force_login(people.agent)

    html = client.get(reverse("notifications:list")).content.decode()
    assert f"Sue Visor mentioned you in #{conversation.number}" in html
    assert f"Jana Nováková wrote in #{conversation.number}" in html
    assert "@anna call them" in html
    assert html.count("is-unread") == 2

    response = client.post(reverse("notifications:open", args=[mention.pk]))

    assert response.status_code == 302
    assert response["Location"] == f"/conversations/{conversation.number}/"
    mention.refresh_from_db()
    assert mention.read_at is not None
    assert _count(_bell(client)) == "1"


def test_mark_all_read_answers_htmx_with_the_list(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    _notify(people, conversation)
    client.force_login(people.agent)

    response = client.post(reverse("notifications:read_all"), headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="notification-list"' in html
    assert "is-unread" not in html
    assert _count(_bell(client)) is None


def test_someone_elses_notification_is_not_found(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    notification = _notify(people, conversation)
    client.force_login(people.colleague)

    response = client.post(reverse("notifications:open", args=[notification.pk]))

    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_customers_do_not_get_the_workspace_bell(client: Client, people: Personas) -> None:
    client.force_login(people.customer_user)

    response = client.get(reverse("notifications:bell"))

    assert response.status_code == 302
    assert response["Location"].startswith("/portal/")


def test_the_page_walks_older_notifications_by_cursor(client: Client, people: Personas) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    for _i in range(35):
        _notify(people, conversation)
    client.force_login(people.agent)

    html = client.get(reverse("notifications:list")).content.decode()
    assert html.count("data-notification=") == 30
    cursor = re.search(r'hx-get="/notifications/\?cursor=([^"]+)"', html)
    assert cursor is not None

    older = client.get(f"/notifications/?cursor={cursor.group(1)}", headers=HTMX)

    assert older.content.decode().count("data-notification=") == 5
    assert "cursor=" not in older.content.decode()


def test_page_query_count_is_pinned(
    client: Client, people: Personas, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        customer = make_customer(f"Customer {i}", f"c{i}@example.com")
        conversation = open_conversation(customer, team=people.orders)
        _notify(people, conversation, kind=list(NotificationKind)[i % 4])
    client.force_login(people.agent)

    # session, user, team ids, the page (with conversation, customer, team, actor)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("notifications:list"))

    assert response.content.decode().count("data-notification=") == 30
    # and the bell: session, user, team ids, the count
    with django_assert_max_num_queries(4):
        _bell(client)


# --- the composer's @ suggestions -----------------------------------------------------------


def test_suggestions_answer_json_for_a_visible_conversation(
    client: Client, people: Personas
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.agent)

    page = client.get(f"/conversations/{conversation.number}/").content.decode()
    source = f"/notifications/mentions/{conversation.number}/"
    assert f'data-mention-source="{source}"' in page

    response = client.get(source, {"q": "ca"})

    assert response.status_code == 200
    assert response.json() == {"results": [{"handle": "carl", "name": "Carl"}]}


def test_suggestions_for_an_invisible_conversation_are_not_found(
    client: Client, people: Personas
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    client.force_login(people.other_agent)

    response = client.get(f"/notifications/mentions/{conversation.number}/", {"q": ""})

    assert response.status_code == 404


# --- settings -------------------------------------------------------------------------------


def test_settings_show_the_handle_and_save_the_new_preferences(
    client: Client, people: Personas
) -> None:
    client.force_login(people.agent)
    page = client.get(reverse("accounts:settings")).content.decode()
    assert "<strong>@anna</strong>" in page
    assert 'name="notify_on_mention" checked' in page.replace(' id="id_notify_on_mention"', "")

    response = client.post(
        reverse("accounts:settings"),
        {"language": "", "time_zone": "UTC", "presence": "online", "notify_on_new_in_team": "on"},
    )

    assert response.status_code == 302
    user = User.objects.get(pk=people.agent.pk)
    assert user.notify_on_new_in_team
    assert not user.notify_on_mention
