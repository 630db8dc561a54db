"""Inline (cid:) images in customer mail: shown in the message body, not repeated as files.

Mail comes in through the real intake and is shown by the real agent and
portal pages; the images are fetched through the access-checked download views.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from frontdesk.conversations import services
from frontdesk.conversations.models import Attachment, Conversation
from frontdesk.core.html import link_cid_images, sanitize_html
from frontdesk.core.middleware import CONTENT_SECURITY_POLICY
from frontdesk.mail.intake import IngestResult, ingest_raw
from frontdesk.mail.models import Mailbox
from frontdesk.mail.services import create_mailbox
from tests.conftest import Personas

CORPUS = Path(__file__).with_name("corpus")
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

# (filename, bytes, MIME type, Content-ID) of a part next to the HTML.
Part = tuple[str, bytes, str, str]


def html_mail(
    html: str,
    related: Sequence[Part],
    *,
    sender: str = "Jana Nováková <jana@acme.example>",
    message_id: str = "<shot-1@acme.example>",
) -> bytes:
    """A mail as clients write a pasted screenshot: text and HTML alternatives, the
    images in a multipart/related next to the HTML with their Content-IDs."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@frontdesk.example"
    message["Subject"] = "The error I get"
    message["Date"] = "Mon, 1 Jun 2026 10:00:00 +0200"
    message["Message-ID"] = message_id
    message.set_content("The error I get is in the screenshot.")
    message.add_alternative(html, subtype="html")
    html_part = message.get_body(("html",))
    assert html_part is not None
    for filename, content, mime, cid in related:
        maintype, subtype = mime.split("/")
        html_part.add_related(
            content, maintype=maintype, subtype=subtype, cid=f"<{cid}>", filename=filename
        )
    return message.as_bytes()


@pytest.fixture
def mailbox(people: Personas) -> Mailbox:
    return create_mailbox(
        by=None, name="Support", email="support@frontdesk.example", default_team=people.orders
    )


def take_in(raw: bytes, mailbox: Mailbox) -> Conversation:
    result: IngestResult = ingest_raw(raw, mailbox=mailbox, source="test")
    assert result.outcome == "created", result.detail
    assert result.conversation_number is not None
    return Conversation.objects.get(number=result.conversation_number)


def agent_page(client: Client, conversation: Conversation) -> str:
    response = client.get(f"/conversations/{conversation.number}/")
    assert response.status_code == 200
    return response.content.decode()


def attachment(conversation: Conversation, filename: str) -> Attachment:
    return Attachment.objects.get(message__conversation=conversation, filename=filename)


# --- intake -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_intake_keeps_each_parts_content_id_and_inline_mark(
    people: Personas, mailbox: Mailbox
) -> None:
    conversation = take_in((CORPUS / "nested-related-inline-image.eml").read_bytes(), mailbox)

    image = attachment(conversation, "error.png")
    pdf = attachment(conversation, "log.pdf")
    assert (image.content_id, image.inline, image.content_type) == ("ii_error01", True, "image/png")
    assert (pdf.content_id, pdf.inline) == ("", False)
    assert 'src="cid:ii_error01"' in conversation.messages.get().html


# --- the agent's thread -------------------------------------------------------------------


@pytest.mark.django_db
def test_agent_thread_shows_the_inline_image_in_the_body_and_lists_only_the_other_files(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    conversation = take_in((CORPUS / "nested-related-inline-image.eml").read_bytes(), mailbox)
    image = attachment(conversation, "error.png")
    pdf = attachment(conversation, "log.pdf")
    client.force_login(people.agent)

    html = agent_page(client, conversation)

    assert f'<img src="/api/v1/attachments/{image.pk}" alt="error.png">' in html
    assert "cid:" not in html
    assert f'<a href="/api/v1/attachments/{pdf.pk}" download>log.pdf</a>' in html
    assert f'href="/api/v1/attachments/{image.pk}"' not in html
    shown = client.get(f"/api/v1/attachments/{image.pk}")
    assert shown.status_code == 200
    assert shown["Content-Type"] == "image/png"
    assert b"".join(shown.streaming_content) == (  # type: ignore[attr-defined]
        image.file.open("rb").read()
    )


@pytest.mark.django_db
def test_the_inline_image_is_served_only_to_who_may_see_the_conversation(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    conversation = take_in((CORPUS / "nested-related-inline-image.eml").read_bytes(), mailbox)
    image = attachment(conversation, "error.png")
    client.force_login(people.other_agent)  # Billing; the mail went to Orders

    assert client.get(f"/conversations/{conversation.number}/").status_code == 404
    assert client.get(f"/api/v1/attachments/{image.pk}").status_code == 404


@pytest.mark.django_db
def test_an_unknown_cid_stays_a_broken_image_and_remote_images_stay_blocked_by_csp(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    raw = html_mail(
        '<p>Here: <img src="cid:nowhere@acme.example" alt="lost">'
        ' <img src="https://tracker.example/pixel.gif" alt="pixel">'
        ' <img src="cid:shot@acme.example" alt="shot"></p>',
        [("shot.png", PNG, "image/png", "shot@acme.example")],
    )
    conversation = take_in(raw, mailbox)
    image = attachment(conversation, "shot.png")
    client.force_login(people.agent)

    response = client.get(f"/conversations/{conversation.number}/")
    html = response.content.decode()

    assert '<img src="cid:nowhere@acme.example" alt="lost">' in html
    # As before: a remote image keeps its URL, and the page's CSP (images from this
    # site only) keeps the browser from fetching it.
    assert '<img src="https://tracker.example/pixel.gif" alt="pixel">' in html
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "img-src 'self' data:" in CONTENT_SECURITY_POLICY
    assert f'<img src="/api/v1/attachments/{image.pk}" alt="shot">' in html


@pytest.mark.django_db
def test_an_inline_part_the_body_does_not_show_is_listed_as_a_file(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    raw = html_mail(
        "<p>Only text in the HTML.</p>",
        [("signature.png", PNG, "image/png", "sig@acme.example")],
    )
    conversation = take_in(raw, mailbox)
    image = attachment(conversation, "signature.png")
    client.force_login(people.agent)

    html = agent_page(client, conversation)

    assert image.content_id == "sig@acme.example"
    assert f'<a href="/api/v1/attachments/{image.pk}" download>signature.png</a>' in html
    assert "<img" not in html.split('class="message-body"', 1)[1].split("</div>", 1)[0]


@pytest.mark.django_db
def test_a_cid_image_naming_a_file_that_is_not_an_image_keeps_the_file_listed(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    raw = html_mail(
        '<p>Contract: <img src="cid:contract@acme.example"></p>',
        [("contract.pdf", PDF, "application/pdf", "contract@acme.example")],
    )
    conversation = take_in(raw, mailbox)
    pdf = attachment(conversation, "contract.pdf")
    client.force_login(people.agent)

    html = agent_page(client, conversation)

    assert '<img src="cid:contract@acme.example">' in html
    assert f'<a href="/api/v1/attachments/{pdf.pk}" download>contract.pdf</a>' in html


@pytest.mark.django_db
def test_thread_queries_do_not_grow_with_messages_that_show_inline_images(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    conversation = take_in((CORPUS / "nested-related-inline-image.eml").read_bytes(), mailbox)
    client.force_login(people.agent)
    agent_page(client, conversation)  # warm caches (session, translations) out of the count
    with CaptureQueriesContext(connection) as one_message:
        agent_page(client, conversation)
    for i in range(4):
        services.add_customer_message(
            conversation,
            by=None,
            text="",
            html=f'<p>Another one <img src="cid:more{i}@acme.example"></p>',
            attachments=[
                services.Upload(
                    f"more{i}.png", PNG + bytes([i]), content_id=f"more{i}@acme.example"
                )
            ],
        )

    with CaptureQueriesContext(connection) as five_messages:
        html = agent_page(client, conversation)

    assert html.count('<img src="/api/v1/attachments/') == 5
    assert len(five_messages.captured_queries) == len(one_message.captured_queries)


# --- the portal ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_portal_thread_shows_the_inline_image_from_the_portal_download(
    client: Client, people: Personas, mailbox: Mailbox
) -> None:
    raw = html_mail(
        '<p>The error I get: <img src="cid:shot@acme.example" alt="shot"></p>',
        [("shot.png", PNG, "image/png", "shot@acme.example")],
    )
    conversation = take_in(raw, mailbox)
    assert conversation.customer == people.customer
    image = attachment(conversation, "shot.png")
    client.force_login(people.customer_user)

    response = client.get(f"/portal/requests/{conversation.number}/")
    html = response.content.decode()

    assert response.status_code == 200
    assert f'<img src="/portal/attachments/{image.pk}/" alt="shot">' in html
    assert "cid:" not in html
    assert f'href="/portal/attachments/{image.pk}/"' not in html
    shown = client.get(f"/portal/attachments/{image.pk}/")
    assert shown.status_code == 200
    assert shown["Content-Type"] == "image/png"


# --- the sanitiser and the rewrite --------------------------------------------------------

TARGETS = {"shot@acme.example": "/api/v1/attachments/7"}


def test_only_cid_survives_the_sanitiser_among_unusual_image_schemes() -> None:
    assert sanitize_html('<img src="cid:shot@acme.example">') == '<img src="cid:shot@acme.example">'
    for hostile in (
        '<img src="javascript:alert(1)">',
        '<img src="jav&#x09;ascript:alert(1)">',
        '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
        '<img src="vbscript:msgbox(1)">',
    ):
        assert sanitize_html(hostile) == "<img>", hostile


def test_link_cid_images_points_known_images_at_their_url_and_reports_them() -> None:
    html, shown = link_cid_images(
        sanitize_html(
            '<p><img src="cid:shot@acme.example" alt="a"><img src="CID:shot%40acme.example"></p>'
        ),
        TARGETS,
    )

    assert (
        html == '<p><img src="/api/v1/attachments/7" alt="a"><img src="/api/v1/attachments/7"></p>'
    )
    assert shown == {"shot@acme.example"}


def test_link_cid_images_leaves_links_text_and_unknown_ids_alone() -> None:
    source = sanitize_html(
        '<p>src="cid:shot@acme.example" <a href="cid:shot@acme.example">x</a>'
        ' <img src="cid:other@acme.example"></p>'
    )

    html, shown = link_cid_images(source, TARGETS)

    assert html == source
    assert shown == set()


def test_link_cid_images_cannot_be_turned_into_an_attribute_or_script() -> None:
    source = sanitize_html(
        '<img src=\'cid:shot@acme.example" onerror="alert(1)\'><img src="cid:javascript:alert(1)">'
    )

    html, shown = link_cid_images(source, TARGETS)

    assert html == source
    assert shown == set()
    assert img_attributes(html) == [
        [("src", 'cid:shot@acme.example" onerror="alert(1)')],
        [("src", "cid:javascript:alert(1)")],
    ]


def img_attributes(html: str) -> list[list[tuple[str, str | None]]]:
    """The attributes of each <img>, as a browser's parser reads them."""
    found: list[list[tuple[str, str | None]]] = []

    class Images(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "img":
                found.append(attrs)

    Images().feed(html)
    return found


@pytest.mark.parametrize(
    "target",
    [
        "https://tracker.example/p.gif",
        "//tracker.example/p.gif",
        "/\\tracker.example/p.gif",
        "javascript:alert(1)",
    ],
)
def test_link_cid_images_refuses_a_target_that_is_not_a_path_on_this_site(target: str) -> None:
    with pytest.raises(ValueError, match="not a path on this site"):
        link_cid_images('<img src="cid:shot@acme.example">', {"shot@acme.example": target})
