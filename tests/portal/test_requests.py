"""Submitting, following, replying to and solving requests, with plain forms."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from frontdesk.conversations import services
from frontdesk.conversations.models import Attachment, Conversation, Message, Status
from frontdesk.core.models import Event
from tests.conftest import Personas
from tests.portal.conftest import open_request

pytestmark = pytest.mark.django_db


def _file(name: str = "photo.txt", content: bytes = b"a scratched box") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def _writes() -> tuple[int, int, int, int]:
    return (
        Conversation.objects.count(),
        Message.objects.count(),
        Attachment.objects.count(),
        Event.objects.count(),
    )


@pytest.fixture
def order_field(people: Personas) -> None:
    services.create_field_definition(
        by=None, key="order_no", label="Order number", kind="number", visible_to_customers=True
    )
    services.create_field_definition(
        by=None,
        key="topic",
        label="Topic",
        kind="choice",
        choices=["Delivery", "Billing"],
        visible_to_customers=True,
    )


def test_new_request_form_is_a_plain_multipart_form(portal: Client, order_field: None) -> None:
    body = portal.get(reverse("portal:new")).content.decode()
    assert f'action="{reverse("portal:new")}"' in body
    assert 'enctype="multipart/form-data"' in body
    assert 'name="attachments"' in body and "multiple" in body
    assert 'name="cf_order_no"' in body and 'name="cf_topic"' in body
    assert '<option value="Billing">Billing</option>' in body


def test_submit_with_attachments_and_visible_fields(
    portal: Client, people: Personas, order_field: None
) -> None:
    response = portal.post(
        reverse("portal:new"),
        {
            "subject": "Box arrived damaged",
            "text": "The box was crushed.",
            "cf_order_no": "1042",
            "cf_topic": "Delivery",
            "attachments": [_file("one.txt"), _file("two.txt", b"second")],
        },
    )
    assert response.status_code == 302
    created = Conversation.objects.get(subject="Box arrived damaged")
    assert response["Location"] == reverse("portal:request", args=[created.number])
    assert created.customer == people.customer
    assert created.channel == "portal"
    assert created.custom_fields == {"order_no": 1042, "topic": "Delivery"}
    first = created.messages.get()
    assert first.kind == "customer"
    assert sorted(a.filename for a in first.attachments.all()) == ["one.txt", "two.txt"]
    assert Event.objects.filter(action="conversation.created", via="portal").exists()
    page = portal.get(response["Location"]).content.decode()
    assert "We received your request." in page
    assert "1042" in page and "one.txt" in page


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"subject": "   ", "text": "Something"}, "A subject is required."),
        ({"subject": "Hi", "text": ""}, "The message is empty."),
        ({"subject": "Hi", "text": "x", "cf_topic": "Weather"}, "Select a valid choice."),
        ({"subject": "Hi", "text": "x", "cf_order_no": "many"}, "Enter a number."),
    ],
)
def test_bad_input_shows_the_error_and_writes_nothing(
    portal: Client, order_field: None, data: dict[str, Any], field_error: str
) -> None:
    before = _writes()
    response = portal.post(reverse("portal:new"), data)
    assert response.status_code == 422
    assert field_error in response.content.decode()
    assert _writes() == before


def test_too_large_file_is_refused_on_the_field_and_writes_nothing(
    portal: Client, settings: Any
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 1024 * 1024
    before = _writes()
    response = portal.post(
        reverse("portal:new"),
        {
            "subject": "Video",
            "text": "See file",
            "attachments": [_file("big.bin", b"x" * (1024 * 1024 + 1))],
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "big.bin is larger than 1 MB." in body
    assert 'value="Video"' in body  # what was typed is kept
    assert _writes() == before


def test_reply_with_attachment_reopens_and_shows_up(portal: Client, people: Personas) -> None:
    mine = open_request(people)
    services.add_reply(mine, by=people.agent, text="Could you send a photo?", status=Status.PENDING)
    page = portal.get(reverse("portal:request", args=[mine.number])).content.decode()
    assert "Awaiting your reply" in page

    response = portal.post(
        reverse("portal:reply", args=[mine.number]),
        {"text": "Here it is", "attachments": [_file("photo.txt")]},
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == Status.OPEN
    latest = mine.messages.order_by("-id").first()
    assert latest is not None and latest.kind == "customer" and latest.text == "Here it is"
    assert latest.channel == "portal"
    assert [a.filename for a in latest.attachments.all()] == ["photo.txt"]
    page = portal.get(reverse("portal:request", args=[mine.number])).content.decode()
    assert "Here it is" in page and "photo.txt" in page and "You" in page


def test_empty_reply_is_refused(portal: Client, people: Personas) -> None:
    mine = open_request(people)
    before = _writes()
    response = portal.post(reverse("portal:reply", args=[mine.number]), {"text": "  "})
    assert response.status_code == 422
    assert "The message is empty." in response.content.decode()
    assert _writes() == before


def test_mark_solved_then_reopen_by_replying(portal: Client, people: Personas) -> None:
    services.create_field_definition(
        by=None, key="cause", label="Root cause", kind="text", required_to_solve=True
    )
    mine = open_request(people)
    page = portal.get(reverse("portal:request", args=[mine.number])).content.decode()
    assert reverse("portal:solve", args=[mine.number]) in page

    response = portal.post(reverse("portal:solve", args=[mine.number]))
    assert response.status_code == 302
    mine.refresh_from_db()
    # The agents' required field does not stop the customer saying it is solved.
    assert mine.status == Status.SOLVED
    page = portal.get(reverse("portal:request", args=[mine.number])).content.decode()
    assert "Solved" in page
    assert reverse("portal:solve", args=[mine.number]) not in page
    assert "Reply to reopen this request" in page

    portal.post(reverse("portal:reply", args=[mine.number]), {"text": "It broke again"})
    mine.refresh_from_db()
    assert mine.status == Status.OPEN


def test_closed_request_offers_a_new_one_instead_of_a_reply(
    portal: Client, people: Personas
) -> None:
    mine = open_request(people)
    services.set_status(mine, by=people.agent, status=Status.SOLVED)
    services.set_status(mine, by=people.agent, status=Status.CLOSED)
    page = portal.get(reverse("portal:request", args=[mine.number])).content.decode()
    assert reverse("portal:reply", args=[mine.number]) not in page
    assert "This request is closed." in page
    response = portal.post(reverse("portal:reply", args=[mine.number]), {"text": "hello?"})
    assert response.status_code == 422
    assert mine.messages.count() == 1


def test_request_page_refreshes_its_thread_on_the_realtime_event(
    portal: Client, people: Personas
) -> None:
    mine = open_request(people)
    page = portal.get(reverse("portal:request", args=[mine.number])).content.decode()
    assert f'data-conversation="{mine.number}"' in page
    assert f'hx-get="{reverse("portal:thread", args=[mine.number])}"' in page
    assert f'hx-trigger="fd:conversation-{mine.number}-changed from:body"' in page
    assert "realtime/realtime.js" in page
    assert "portal/portal.css" in page
    assert "<script>" not in page and "style=" not in page


def test_statuses_are_worded_for_customers(portal: Client, people: Personas) -> None:
    waiting = open_request(people, subject="Waiting")
    services.add_reply(waiting, by=people.agent, text="?", status=Status.PENDING)
    held = open_request(people, subject="Held")
    services.set_status(held, by=people.agent, status=Status.ON_HOLD)
    body = portal.get(reverse("portal:home")).content.decode()
    assert "Awaiting your reply" in body
    assert "On hold" not in body


def test_my_requests_pages_with_a_cursor(
    portal: Client, people: Personas, django_assert_max_num_queries: Any
) -> None:
    for n in range(30):
        open_request(people, subject=f"Request number {n:02d}")
    open_request(people, customer=people.other_customer, subject="Not mine")
    with django_assert_max_num_queries(6):
        first = portal.get(reverse("portal:home"))
    body = first.content.decode()
    assert body.count('class="portal-request-subject"') == 25
    assert "Request number 29" in body and "Not mine" not in body
    cursor = first.context["next_cursor"]
    assert cursor
    second = portal.get(reverse("portal:home"), {"cursor": cursor}).content.decode()
    assert second.count('class="portal-request-subject"') == 5
    assert "Request number 00" in second
    assert portal.get(reverse("portal:home"), {"cursor": "garbage"}).status_code == 200


def test_request_page_query_count_does_not_grow_with_the_thread(
    portal: Client, people: Personas, django_assert_max_num_queries: Any
) -> None:
    mine = open_request(people)
    for n in range(10):
        services.add_reply(mine, by=people.agent, text=f"reply {n}")
        services.add_customer_message(mine, by=None, text=f"answer {n}")
    with django_assert_max_num_queries(10):
        response = portal.get(reverse("portal:request", args=[mine.number]))
    assert response.status_code == 200
    with django_assert_max_num_queries(10):
        portal.get(reverse("portal:thread", args=[mine.number]))
