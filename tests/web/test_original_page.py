"""The original of a mailed message: everything that arrived, for staff who may see it."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from frontdesk.conversations import services
from frontdesk.conversations.models import Channel, Conversation, Message, MessageKind
from frontdesk.mail.intake import ingest_raw
from frontdesk.mail.models import Mailbox
from frontdesk.mail.services import create_mailbox
from tests.conftest import Personas

NEW_TEXT = "Thanks, that helps a lot."
SIGNATURE = "Acme Ltd, Prague"
QUOTED = "Tracking number: ZX-4711"
BODY = (
    f"{NEW_TEXT}\n\n-- \nJane Doe\n{SIGNATURE}\n\n"
    "On Mon, 1 Jun 2026 at 09:00, Support <support@frontdesk.example> wrote:\n"
    f"> Your parcel left our warehouse today.\n> {QUOTED}\n"
)


def mail(
    *, message_id: str = "<first@example.com>", body: str = BODY, in_reply_to: str = ""
) -> bytes:
    message = EmailMessage()
    message["From"] = "Jane Doe <jane@example.com>"
    message["To"] = "Support <support@frontdesk.example>"
    message["Cc"] = "boss@example.com"
    message["Subject"] = "Re: Your parcel"
    message["Date"] = "Mon, 1 Jun 2026 10:00:00 +0200"
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(body)
    message.add_attachment(
        b"%PDF-1.4 invoice", maintype="application", subtype="pdf", filename="invoice.pdf"
    )
    return message.as_bytes()


@pytest.fixture
def mailbox(people: Personas) -> Mailbox:
    return create_mailbox(
        by=None, name="Support", email="support@frontdesk.example", default_team=people.orders
    )


def take_in(raw: bytes, mailbox: Mailbox) -> Message:
    result = ingest_raw(raw, mailbox=mailbox, source="imap")
    assert result.outcome in ("created", "threaded"), result
    assert result.conversation_number is not None
    return Message.objects.filter(conversation__number=result.conversation_number).latest("id")


def page(client: Client, conversation: Conversation) -> str:
    response = client.get(reverse("conversations:detail", args=[conversation.number]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_thread_links_each_mailed_message_to_its_original(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    message = take_in(mail(), mailbox)
    client.force_login(people.agent)

    html = page(client, message.conversation)

    assert f'href="{reverse("mail:original", args=[message.pk])}">Original</a>' in html
    assert NEW_TEXT in html
    assert QUOTED not in html and SIGNATURE not in html


def test_the_original_shows_headers_the_whole_text_and_the_parts(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    message = take_in(mail(), mailbox)
    client.force_login(people.agent)

    response = client.get(reverse("mail:original", args=[message.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    for header in (
        "<dt>From</dt><dd>Jane Doe &lt;jane@example.com&gt;</dd>",
        "<dt>To</dt><dd>Support &lt;support@frontdesk.example&gt;</dd>",
        "<dt>Cc</dt><dd>boss@example.com</dd>",
        "<dt>Date</dt><dd>Mon, 01 Jun 2026 10:00:00 +0200</dd>",
        "<dt>Subject</dt><dd>Re: Your parcel</dd>",
        "<dt>Message-ID</dt><dd>&lt;first@example.com&gt;</dd>",
    ):
        assert header in html
    text = html.split('<pre class="original-text">', 1)[1].split("</pre>", 1)[0]
    assert NEW_TEXT in text and SIGNATURE in text and f"&gt; {QUOTED}" in text
    for part in ("multipart/mixed", "text/plain", "application/pdf", "invoice.pdf", "attachment"):
        assert part in html
    assert f'href="{reverse("mail:original_download", args=[message.pk])}" download' in html


def test_the_original_text_is_escaped_never_rendered(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    message = take_in(mail(body="Look: <script>alert(1)</script> <b>bold</b>"), mailbox)
    client.force_login(people.agent)

    html = client.get(reverse("mail:original", args=[message.pk])).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>alert(1)" not in html


def test_the_download_is_the_kept_mail_as_an_attachment_never_inline(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    raw = mail()
    message = take_in(raw, mailbox)
    client.force_login(people.agent)

    response = client.get(reverse("mail:original_download", args=[message.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == raw  # type: ignore[attr-defined]
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="message-{message.pk}.eml"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_an_agent_of_another_team_gets_not_found(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    message = take_in(mail(), mailbox)
    client.force_login(people.other_agent)

    assert client.get(reverse("mail:original", args=[message.pk])).status_code == 404
    assert client.get(reverse("mail:original_download", args=[message.pk])).status_code == 404


def test_a_customer_never_gets_the_original(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    message = take_in(mail(), mailbox)
    client.force_login(people.customer_user)

    for name in ("mail:original", "mail:original_download"):
        response = client.get(reverse(name, args=[message.pk]))
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:home")


def test_messages_that_did_not_come_by_mail_have_no_original(
    client: Client, people: Personas
) -> None:
    conversation = services.create_conversation(
        by=people.agent,
        customer=people.customer,
        subject="Filed by hand",
        channel=Channel.EMAIL,
        text="Forwarded by a colleague",
        kind=MessageKind.CUSTOMER,
        team=people.orders,
    )
    reply = services.add_reply(conversation, by=people.agent, text="We are on it.")
    client.force_login(people.agent)

    html = page(client, conversation)

    assert ">Original</a>" not in html
    for message in (conversation.messages.get(kind=MessageKind.CUSTOMER), reply):
        assert client.get(reverse("mail:original", args=[message.pk])).status_code == 404


def test_the_conversation_page_costs_the_same_queries_however_many_mails(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    first = take_in(mail(), mailbox)
    client.force_login(people.agent)
    page(client, first.conversation)  # warm per-process caches (templates, content types)
    with CaptureQueriesContext(connection) as one:
        page(client, first.conversation)

    for n in range(3):
        take_in(mail(message_id=f"<more-{n}@example.com>", in_reply_to="<first@example.com>",
                     body=f"Follow-up {n}"), mailbox)  # fmt: skip
    with CaptureQueriesContext(connection) as four:
        html = page(client, first.conversation)

    assert html.count(">Original</a>") == 4
    assert len(four) == len(one) <= 12
