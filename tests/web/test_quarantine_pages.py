"""The quarantine pages under Manage: admins list, read, download, retry and discard held mail."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from frontdesk.conversations.models import Message
from frontdesk.core.models import Event
from frontdesk.mail import views
from frontdesk.mail.intake import ingest_raw
from frontdesk.mail.models import Mailbox, Quarantine
from frontdesk.mail.services import create_mailbox, discard_quarantined_mail
from tests.conftest import Personas


def mail(*, sender: str = "Jane Doe <jane@example.com>", message_id: str, subject: str) -> bytes:
    message = EmailMessage()
    if sender:
        message["From"] = sender
    message["To"] = "support@frontdesk.example"
    message["Cc"] = "boss@example.com"
    message["Subject"] = subject
    message["Date"] = "Mon, 1 Jun 2026 10:00:00 +0200"
    message["Message-ID"] = message_id
    message.set_content(f"Body of {subject}")
    return message.as_bytes()


@pytest.fixture
def mailbox(people: Personas) -> Mailbox:
    return create_mailbox(
        by=None, name="Support", email="support@frontdesk.example", default_team=people.orders
    )


def hold_senderless(mailbox: Mailbox, subject: str, *, minutes_ago: int = 0) -> Quarantine:
    """Quarantine a mail that names no sender: it is refused again on every retry."""
    result = ingest_raw(
        mail(sender="", message_id=f"<{subject.replace(' ', '-')}@example.com>", subject=subject),
        mailbox=mailbox,
        source="imap",
        at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    assert result.outcome == "quarantined"
    return Quarantine.objects.get(subject=subject)


@pytest.fixture
def rate_limited(mailbox: Mailbox) -> Quarantine:
    """A good mail held back by the per-sender limit, which a retry does not apply."""
    with override_settings(MAIL_SENDER_LIMIT=1):
        ingest_raw(mail(message_id="<a@example.com>", subject="First"), mailbox=mailbox, source="t")
        held = ingest_raw(
            mail(message_id="<b@example.com>", subject="Second"), mailbox=mailbox, source="t"
        )
    assert held.outcome == "quarantined"
    return Quarantine.objects.get(subject="Second")


@pytest.fixture
def admin_client(client: Client, people: Personas) -> Client:
    client.force_login(people.admin)
    return client


def rows(html: str) -> list[str]:
    """The subjects in the list's rows, top to bottom."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r'<a href="/manage/quarantine/\d+/">([^<]+)</a></td>', body)


# --- who may see it -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["agent", "supervisor", "customer_user"])
def test_quarantine_pages_are_forbidden_to_everyone_but_admins(
    client: Client, people: Personas, rate_limited: Quarantine, persona: str
) -> None:
    client.force_login(getattr(people, persona))
    pk = rate_limited.pk

    assert client.get(reverse("mail:quarantine")).status_code == 403
    assert client.get(reverse("mail:quarantine_detail", args=[pk])).status_code == 403
    assert client.get(reverse("mail:quarantine_raw", args=[pk])).status_code == 403
    assert client.post(reverse("mail:quarantine_retry", args=[pk])).status_code == 403
    assert client.post(reverse("mail:quarantine_discard", args=[pk])).status_code == 403
    assert Quarantine.objects.get(pk=pk).resolved_at is None
    assert not Message.objects.filter(text__startswith="Body of Second").exists()


def test_strangers_are_sent_to_sign_in(client: Client, rate_limited: Quarantine) -> None:
    response = client.get(reverse("mail:quarantine"))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- the list -------------------------------------------------------------------------------


def test_list_shows_open_mail_newest_first_with_its_labels(
    admin_client: Client, mailbox: Mailbox
) -> None:
    hold_senderless(mailbox, "Older", minutes_ago=10)
    hold_senderless(mailbox, "Newer", minutes_ago=1)
    done = hold_senderless(mailbox, "Dealt with", minutes_ago=5)
    discard_quarantined_mail(done, by=None)

    html = admin_client.get(reverse("mail:quarantine")).content.decode()

    assert rows(html) == ["Newer", "Older"]
    assert "support@frontdesk.example" in html
    assert "no sender address" in html
    assert 'aria-current="page">Quarantine</a>' in html


def test_the_filter_adds_resolved_mail_with_how_who_and_when(
    admin_client: Client, people: Personas, mailbox: Mailbox
) -> None:
    hold_senderless(mailbox, "Still open", minutes_ago=2)
    done = hold_senderless(mailbox, "Dealt with", minutes_ago=1)
    discard_quarantined_mail(done, by=people.admin)

    html = admin_client.get(reverse("mail:quarantine") + "?show=all").content.decode()

    assert rows(html) == ["Dealt with", "Still open"]
    assert ">discarded</span>" in html
    assert re.search(r'Ada Admin · <time datetime="[^"]+">', html)


def test_list_pages_by_cursor_without_repeating_or_skipping(
    admin_client: Client, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "QUARANTINE_PAGE_SIZE", 2)
    for minutes in range(5):
        hold_senderless(mailbox, f"Mail {minutes}", minutes_ago=minutes)

    seen: list[str] = []
    url = reverse("mail:quarantine")
    for _page in range(5):
        html = admin_client.get(url).content.decode()
        seen += rows(html)
        found = re.search(r'rel="next" href="\?cursor=([^"]+)"', html)
        if found is None:
            break
        url = reverse("mail:quarantine") + "?cursor=" + found.group(1)

    assert seen == [f"Mail {minutes}" for minutes in range(5)]


def test_a_forged_cursor_starts_over_at_the_first_page(
    admin_client: Client, mailbox: Mailbox
) -> None:
    hold_senderless(mailbox, "Only one")

    response = admin_client.get(reverse("mail:quarantine") + "?cursor=forged")

    assert response.status_code == 200
    html = response.content.decode()
    assert rows(html) == ["Only one"]
    assert "That page no longer exists" in html


def test_mailboxes_page_counts_open_quarantined_mail(
    admin_client: Client, people: Personas, mailbox: Mailbox
) -> None:
    hold_senderless(mailbox, "One")
    hold_senderless(mailbox, "Two")
    discard_quarantined_mail(hold_senderless(mailbox, "Three"), by=people.admin)

    html = admin_client.get(reverse("mail:mailboxes")).content.decode()

    assert "2 mails are waiting in quarantine." in html
    assert f'href="{reverse("mail:quarantine")}"' in html


def test_mailboxes_page_says_nothing_when_quarantine_is_empty(
    admin_client: Client, mailbox: Mailbox
) -> None:
    html = admin_client.get(reverse("mail:mailboxes")).content.decode()

    assert "waiting in quarantine" not in html


# --- one mail -------------------------------------------------------------------------------


def test_detail_shows_the_reason_the_headers_and_the_actions(
    admin_client: Client, rate_limited: Quarantine
) -> None:
    html = admin_client.get(
        reverse("mail:quarantine_detail", args=[rate_limited.pk])
    ).content.decode()

    assert "rate limit" in html
    assert "<dt>From</dt><dd>Jane Doe &lt;jane@example.com&gt;</dd>" in html
    assert "<dt>Cc</dt><dd>boss@example.com</dd>" in html
    assert "<dt>Message-ID</dt><dd>&lt;b@example.com&gt;</dd>" in html
    assert f'href="{reverse("mail:quarantine_raw", args=[rate_limited.pk])}" download' in html
    for action in ("quarantine_retry", "quarantine_discard"):
        form = re.search(
            rf'<form method="post" action="{reverse("mail:" + action, args=[rate_limited.pk])}"'
            r'[^>]*>\s*<input type="hidden" name="csrfmiddlewaretoken"',
            html,
        )
        assert form is not None, action


def test_download_is_the_raw_mail_as_an_attachment_never_inline(
    admin_client: Client, rate_limited: Quarantine
) -> None:
    response = admin_client.get(reverse("mail:quarantine_raw", args=[rate_limited.pk]))

    assert response.status_code == 200
    assert response.content == bytes(Quarantine.objects.get(pk=rate_limited.pk).raw)
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == (
        f'attachment; filename="quarantined-{rate_limited.pk}.eml"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_retry_takes_the_mail_in_and_the_list_no_longer_shows_it(
    admin_client: Client, people: Personas, rate_limited: Quarantine
) -> None:
    response = admin_client.post(
        reverse("mail:quarantine_retry", args=[rate_limited.pk]), follow=True
    )

    message = Message.objects.get(text__startswith="Body of Second")
    assert response.redirect_chain == [(reverse("mail:quarantine"), 302)]
    html = response.content.decode()
    assert f"The mail was taken in, in conversation #{message.conversation.number}." in html
    assert rows(html) == []
    row = Quarantine.objects.get(pk=rate_limited.pk)
    assert (row.resolution, row.resolved_by) == ("imported", people.admin)
    assert Event.objects.filter(
        action="mail.quarantine_retried", object_id=row.pk, actor_id=people.admin.pk
    ).exists()


def test_retry_refused_again_shows_the_reason_and_keeps_the_mail_open(
    admin_client: Client, mailbox: Mailbox
) -> None:
    held = hold_senderless(mailbox, "Nobody")

    response = admin_client.post(reverse("mail:quarantine_retry", args=[held.pk]), follow=True)

    detail = reverse("mail:quarantine_detail", args=[held.pk])
    assert response.redirect_chain == [(detail, 302)]
    html = response.content.decode()
    assert "The mail was refused again: no sender address" in html
    assert "<dt>Retries</dt><dd>1</dd>" in html
    row = Quarantine.objects.get(pk=held.pk)
    assert (row.resolved_at, row.retries) == (None, 1)


def test_discard_resolves_the_mail_and_keeps_it_raw(
    admin_client: Client, people: Personas, mailbox: Mailbox
) -> None:
    held = hold_senderless(mailbox, "Spam")
    raw = bytes(held.raw)

    response = admin_client.post(reverse("mail:quarantine_discard", args=[held.pk]), follow=True)

    assert response.redirect_chain == [(reverse("mail:quarantine"), 302)]
    assert "The mail was discarded; its original is still kept." in response.content.decode()
    row = Quarantine.objects.get(pk=held.pk)
    assert (row.resolution, row.resolved_by, bytes(row.raw)) == ("discarded", people.admin, raw)
    download = response.client.get(reverse("mail:quarantine_raw", args=[held.pk]))
    assert download.content == raw


def test_a_resolved_mail_offers_no_actions_and_refuses_them(
    admin_client: Client, people: Personas, mailbox: Mailbox
) -> None:
    held = hold_senderless(mailbox, "Twice")
    discard_quarantined_mail(held, by=people.admin)

    html = admin_client.get(reverse("mail:quarantine_detail", args=[held.pk])).content.decode()
    response = admin_client.post(reverse("mail:quarantine_retry", args=[held.pk]), follow=True)

    assert reverse("mail:quarantine_retry", args=[held.pk]) not in html
    assert "already dealt with" in response.content.decode()
    assert Quarantine.objects.get(pk=held.pk).retries == 0


def test_retry_and_discard_take_only_a_post_with_the_csrf_token(
    people: Personas, rate_limited: Quarantine
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.admin)

    assert client.get(reverse("mail:quarantine_retry", args=[rate_limited.pk])).status_code == 405
    assert client.post(reverse("mail:quarantine_retry", args=[rate_limited.pk])).status_code == 403
    assert (
        client.post(reverse("mail:quarantine_discard", args=[rate_limited.pk])).status_code == 403
    )
    assert Quarantine.objects.get(pk=rate_limited.pk).resolved_at is None


def test_an_unknown_quarantined_mail_is_not_found(admin_client: Client) -> None:
    assert admin_client.get(reverse("mail:quarantine_detail", args=[999])).status_code == 404
    assert admin_client.post(reverse("mail:quarantine_retry", args=[999])).status_code == 404
