"""Downloading attachments: only what the caller may see, always as a download."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.http import FileResponse
from django.test import Client

from frontdesk.accounts.models import User
from frontdesk.conversations import services
from frontdesk.conversations.models import Attachment
from tests.api.conftest import BASE, Api, assert_problem, open_conversation
from tests.conftest import Personas

pytestmark = pytest.mark.django_db

HTML = b"<html><script>alert(document.cookie)</script></html>"


def _content(response: FileResponse) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[arg-type]


def test_agent_downloads_an_attachment_as_a_file(
    people: Personas, api_as: Callable[[User], Api]
) -> None:
    conversation = open_conversation(
        people.customer, team=people.orders, attachments=[services.Upload("page.html", HTML)]
    )
    attachment = Attachment.objects.get(message__conversation=conversation)
    response = api_as(people.agent).get(f"/attachments/{attachment.pk}")
    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert _content(response) == HTML
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="page.html"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_agent_of_another_team_gets_not_found(
    people: Personas, api_as: Callable[[User], Api]
) -> None:
    conversation = open_conversation(
        people.customer, team=people.orders, attachments=[services.Upload("a.txt", b"hi")]
    )
    attachment = Attachment.objects.get(message__conversation=conversation)
    assert_problem(api_as(people.other_agent).get(f"/attachments/{attachment.pk}"), 404)
    assert_problem(api_as(people.agent).get("/attachments/999999"), 404)


def test_customer_never_downloads_a_note_attachment(people: Personas) -> None:
    conversation = open_conversation(
        people.customer, team=people.orders, attachments=[services.Upload("mine.txt", b"mine")]
    )
    services.add_note(
        conversation, by=people.agent, text="internal",
        attachments=[services.Upload("internal.txt", b"secret")],
    )  # fmt: skip
    own = Attachment.objects.get(filename="mine.txt")
    internal = Attachment.objects.get(filename="internal.txt")
    portal = Client()  # customers sign in with a session, not a token
    portal.force_login(people.customer_user)
    response = portal.get(f"{BASE}/attachments/{own.pk}")
    assert isinstance(response, FileResponse)
    assert _content(response) == b"mine"
    assert_problem(portal.get(f"{BASE}/attachments/{internal.pk}"), 404)
