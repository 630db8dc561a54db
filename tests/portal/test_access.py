"""A customer sees their own public thread and nothing else, however they ask."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from frontdesk.conversations import services
from frontdesk.conversations.models import Attachment, Conversation, MessageKind
from frontdesk.conversations.services import Upload
from frontdesk.customers.models import Customer
from frontdesk.customers.services import update_company
from tests.conftest import Personas, make_customer, make_user
from tests.portal.conftest import open_request

pytestmark = pytest.mark.django_db


def _urls(number: int) -> list[str]:
    return [reverse("portal:request", args=[number]), reverse("portal:thread", args=[number])]


def test_other_customers_request_is_not_found_on_every_page(
    portal: Client, people: Personas
) -> None:
    theirs = open_request(people, customer=people.other_customer, subject="Piotr's invoice")
    for url in _urls(theirs.number):
        response = portal.get(url)
        assert response.status_code == 404
        assert b"Piotr" not in response.content
    assert (
        portal.post(reverse("portal:reply", args=[theirs.number]), {"text": "hi"}).status_code
        == 404
    )
    assert portal.post(reverse("portal:solve", args=[theirs.number])).status_code == 404
    assert theirs.messages.count() == 1
    theirs.refresh_from_db()
    assert theirs.status == "new"


def test_other_customers_attachment_cannot_be_downloaded_by_id(
    portal: Client, people: Personas
) -> None:
    theirs = open_request(
        people,
        customer=people.other_customer,
        attachments=[Upload(filename="passport.pdf", content=b"%PDF-1.4 private")],
    )
    attachment = Attachment.objects.get(message__conversation=theirs)
    response = portal.get(reverse("portal:attachment", args=[attachment.pk]))
    assert response.status_code == 404


def test_request_page_and_partial_show_replies_but_never_notes(
    portal: Client, worked_request: Conversation
) -> None:
    for url in _urls(worked_request.number):
        response = portal.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert "We are looking into it." in body
        assert "Order 1042 was due on Monday." in body
        assert "SECRET-NOTE" not in body
        assert "internal-memo.txt" not in body


def test_note_attachment_guessed_by_id_is_not_found(
    portal: Client, worked_request: Conversation
) -> None:
    note_file = Attachment.objects.get(message__kind=MessageKind.NOTE)
    response = portal.get(reverse("portal:attachment", args=[note_file.pk]))
    assert response.status_code == 404
    assert b"SECRET-FILE" not in response.content


def test_own_attachment_downloads_as_a_file(portal: Client, people: Personas) -> None:
    mine = open_request(
        people, attachments=[Upload(filename="receipt.txt", content=b"paid 10 EUR")]
    )
    attachment = Attachment.objects.get(message__conversation=mine)
    page = portal.get(reverse("portal:request", args=[mine.number])).content.decode()
    assert reverse("portal:attachment", args=[attachment.pk]) in page
    response = portal.get(reverse("portal:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"paid 10 EUR"  # type: ignore[attr-defined]
    assert response["Content-Disposition"].startswith("attachment;")


def test_system_messages_and_internals_stay_hidden(
    portal: Client, people: Personas, worked_request: Conversation
) -> None:
    other = open_request(people, subject="Duplicate")
    services.merge(other, by=people.agent, into=worked_request)
    body = portal.get(reverse("portal:request", args=[worked_request.number])).content.decode()
    assert "was merged into this conversation" not in body
    assert people.agent.email not in body
    assert "Orders" not in body  # the team is internal


def test_agent_only_field_is_not_shown(portal: Client, people: Personas) -> None:
    services.create_field_definition(by=None, key="risk", label="Fraud risk", kind="text")
    services.create_field_definition(
        by=None, key="order_no", label="Order number", kind="text", visible_to_customers=True
    )
    mine = open_request(people, fields={"risk": "HIGH-RISK-FLAG", "order_no": "A-77"})
    for url in _urls(mine.number):
        body = portal.get(url).content.decode()
        assert "A-77" in body
        assert "Fraud risk" not in body
        assert "HIGH-RISK-FLAG" not in body
    form = portal.get(reverse("portal:new")).content.decode()
    assert 'name="cf_order_no"' in form
    assert "cf_risk" not in form


def test_posting_an_agent_only_field_is_ignored(portal: Client, people: Personas) -> None:
    services.create_field_definition(by=None, key="risk", label="Fraud risk", kind="text")
    response = portal.post(
        reverse("portal:new"),
        {"subject": "Refund", "text": "Please refund", "cf_risk": "low", "risk": "low"},
    )
    assert response.status_code == 302
    created = Conversation.objects.get(subject="Refund")
    assert created.custom_fields == {}


def test_company_requests_are_listed_only_when_the_company_allows(
    portal: Client, people: Personas
) -> None:
    colleague = make_customer("Karel Dvořák", "karel@acme.example", company=people.company)
    theirs = open_request(people, customer=colleague, subject="Karel's broken printer")
    home_company = reverse("portal:home") + "?show=company"

    assert b"Karel" not in portal.get(home_company).content
    assert portal.get(reverse("portal:request", args=[theirs.number])).status_code == 404

    update_company(people.company, by=None, members_see_all=True)
    listing = portal.get(home_company).content.decode()
    assert "Karel&#x27;s broken printer" in listing or "Karel's broken printer" in listing
    assert "Requested by Karel Dvořák" in listing
    page = portal.get(reverse("portal:request", args=[theirs.number]))
    assert page.status_code == 200
    # Following a colleague's request is reading it; replying stays with its author.
    assert reverse("portal:reply", args=[theirs.number]) not in page.content.decode()
    assert (
        portal.post(reverse("portal:reply", args=[theirs.number]), {"text": "me too"}).status_code
        == 422
    )
    assert portal.post(reverse("portal:solve", args=[theirs.number])).status_code == 404
    assert theirs.messages.count() == 1

    own_list = portal.get(reverse("portal:home")).content.decode()
    assert "Karel" not in own_list


def test_other_company_requests_stay_hidden_even_when_shared(
    portal: Client, people: Personas
) -> None:
    update_company(people.company, by=None, members_see_all=True)
    outsider = open_request(people, customer=people.other_customer, subject="Outsider")
    assert b"Outsider" not in portal.get(reverse("portal:home") + "?show=company").content
    assert portal.get(reverse("portal:request", args=[outsider.number])).status_code == 404


def test_staff_are_sent_to_their_workspace(client: Client, people: Personas) -> None:
    client.force_login(people.agent)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_signed_out_visitor_is_sent_to_the_portal_sign_in(client: Client, people: Personas) -> None:
    mine = open_request(people)
    url = reverse("portal:request", args=[mine.number])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login") + "?next=")


def test_login_without_customer_record_gets_a_clear_page(client: Client, people: Personas) -> None:
    orphan = make_user("orphan@example.net", "customer")
    client.force_login(orphan)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 403
    assert not Customer.objects.filter(user=orphan).exists()
