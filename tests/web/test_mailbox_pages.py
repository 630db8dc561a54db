"""The mailbox pages under Manage: admins only, secrets never shown, and the connection test."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from frontdesk.core.models import Event
from frontdesk.mail.crypto import decrypt
from frontdesk.mail.models import Mailbox, Security
from frontdesk.mail.services import create_mailbox
from tests.conftest import Personas
from tests.mail import conftest as mail_servers
from tests.mail.conftest import Dovecot, ImapAccount, SmtpServer

# The real Dovecot and aiosmtpd of tests/mail/conftest.py, shared with these pages: pytest
# registers each under its `name=`, whatever the attribute here is called.
shared_dovecot = mail_servers.dovecot_fixture
shared_imap_account = mail_servers.imap_account_fixture
shared_smtp_server = mail_servers.smtp_server_fixture
shared_smtp = mail_servers.smtp_fixture

FORM = {
    "name": "Support",
    "email": "support@example.com",
    "display_name": "Acme Support",
    "default_team": "",
    "signature": "",
    "imap_host": "imap.example.com",
    "imap_port": "993",
    "imap_security": "ssl",
    "imap_username": "support@example.com",
    "imap_auth": "password",
    "imap_password": "imap-secret-123",
    "imap_oauth2_token": "",
    "imap_folder": "INBOX",
    "smtp_host": "smtp.example.com",
    "smtp_port": "587",
    "smtp_security": "starttls",
    "smtp_username": "support@example.com",
    "smtp_password": "smtp-secret-456",
    "verify_certificates": "on",
}


@pytest.fixture
def admin_client(client: Client, people: Personas) -> Client:
    client.force_login(people.admin)
    return client


@pytest.fixture
def mailbox(people: Personas) -> Mailbox:
    return create_mailbox(
        by=people.admin,
        name="Support",
        email="support@example.com",
        imap_host="imap.example.com",
        imap_username="support@example.com",
        imap_password="imap-secret-123",
        smtp_host="smtp.example.com",
        smtp_username="support@example.com",
        smtp_password="smtp-secret-456",
    )


@pytest.mark.parametrize("persona", ["agent", "supervisor", "customer_user"])
def test_mailbox_pages_are_forbidden_to_everyone_but_admins(
    client: Client, people: Personas, mailbox: Mailbox, persona: str
) -> None:
    client.force_login(getattr(people, persona))

    assert client.get(reverse("mail:mailboxes")).status_code == 403
    assert client.get(reverse("mail:mailbox_new")).status_code == 403
    assert client.get(reverse("mail:mailbox_edit", args=[mailbox.pk])).status_code == 403
    assert client.post(reverse("mail:mailbox_test", args=[mailbox.pk])).status_code == 403
    assert (
        client.post(reverse("mail:mailbox_active", args=[mailbox.pk]), {"active": "0"}).status_code
        == 403
    )
    mailbox.refresh_from_db()
    assert mailbox.active
    assert mailbox.last_checked_at is None


def test_the_manage_navigation_links_to_mailboxes(admin_client: Client) -> None:
    page = admin_client.get(reverse("accounts:manage_users")).content.decode()

    assert reverse("mail:mailboxes") in page


def test_list_shows_mailboxes_with_their_servers(
    admin_client: Client, mailbox: Mailbox, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("mail:mailboxes"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "support@example.com" in page
    assert "imap.example.com:993" in page
    assert reverse("mail:mailbox_edit", args=[mailbox.pk]) in page
    assert 'aria-current="page"' in page


def test_create_a_mailbox(admin_client: Client, people: Personas) -> None:
    response = admin_client.post(
        reverse("mail:mailbox_new"), {**FORM, "default_team": str(people.orders.pk)}
    )

    mailbox = Mailbox.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("mail:mailbox_edit", args=[mailbox.pk])
    assert mailbox.default_team == people.orders
    assert decrypt(mailbox.imap_password_encrypted) == "imap-secret-123"
    assert decrypt(mailbox.smtp_password_encrypted) == "smtp-secret-456"
    assert Event.objects.get(action="mailbox.created").via == "web"


def test_a_refused_mailbox_shows_the_error_on_its_field(
    admin_client: Client, mailbox: Mailbox
) -> None:
    response = admin_client.post(reverse("mail:mailbox_new"), FORM)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Another mailbox already uses this address." in page
    assert Mailbox.objects.count() == 1
    # Even the form that comes back does not echo the typed password.
    assert "imap-secret-123" not in page


def test_missing_host_for_a_configured_part_is_shown(admin_client: Client, db: None) -> None:
    response = admin_client.post(reverse("mail:mailbox_new"), {**FORM, "smtp_host": ""})

    assert "Give the SMTP host" in response.content.decode()
    assert not Mailbox.objects.exists()


def test_edit_page_never_renders_stored_secrets(admin_client: Client, mailbox: Mailbox) -> None:
    page = admin_client.get(reverse("mail:mailbox_edit", args=[mailbox.pk])).content.decode()

    assert "imap-secret-123" not in page
    assert "smtp-secret-456" not in page
    assert mailbox.imap_password_encrypted not in page
    assert re.search(r'<input type="password" name="imap_password"[^>]*>', page)
    assert not re.search(r'name="imap_password"[^>]*value=', page)
    assert "A value is stored. Leave empty to keep it." in page
    assert 'value="imap.example.com"' in page
    assert reverse("mail:mailbox_test", args=[mailbox.pk]) in page


def test_saving_with_empty_passwords_keeps_them(admin_client: Client, mailbox: Mailbox) -> None:
    form = {**FORM, "name": "Help desk", "imap_password": "", "smtp_password": ""}

    response = admin_client.post(reverse("mail:mailbox_edit", args=[mailbox.pk]), form)

    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.name == "Help desk"
    assert decrypt(mailbox.imap_password_encrypted) == "imap-secret-123"
    assert decrypt(mailbox.smtp_password_encrypted) == "smtp-secret-456"


def test_deactivate_from_the_list(admin_client: Client, mailbox: Mailbox) -> None:
    response = admin_client.post(
        reverse("mail:mailbox_active", args=[mailbox.pk]), {"active": "0"}, follow=True
    )

    mailbox.refresh_from_db()
    assert not mailbox.active
    assert "was deactivated" in response.content.decode()
    assert "Reactivate" in response.content.decode()


def test_unknown_mailbox_is_404(admin_client: Client, db: None) -> None:
    assert admin_client.get(reverse("mail:mailbox_edit", args=[999])).status_code == 404


# --- the test button against real servers ---------------------------------------------------


def _real_mailbox(
    people: Personas, dovecot: Dovecot, account: ImapAccount, smtp: SmtpServer, **extra: Any
) -> Mailbox:
    values: dict[str, Any] = {
        "name": "Support",
        "email": "support@example.com",
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_security": Security.NONE,
        "imap_username": account.username,
        "imap_password": account.password,
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": Security.NONE,
        "smtp_username": smtp.username,
        "smtp_password": smtp.password,
        **extra,
    }
    return create_mailbox(by=people.admin, **values)


def _steps(page: str) -> list[tuple[str, str]]:
    return re.findall(r'data-step="(\w+)" data-status="(\w+)"', page)


def test_test_button_shows_every_step_passing(
    admin_client: Client,
    people: Personas,
    dovecot: Dovecot,
    imap_account: ImapAccount,
    smtp: SmtpServer,
) -> None:
    mailbox = _real_mailbox(people, dovecot, imap_account, smtp)

    response = admin_client.post(
        reverse("mail:mailbox_test", args=[mailbox.pk]), HTTP_HX_REQUEST="true"
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'data-check-ok="true"' in page
    assert _steps(page) == [
        ("dns", "ok"),
        ("tcp", "ok"),
        ("tls", "skipped"),
        ("login", "ok"),
        ("folder", "ok"),
        ("dns", "ok"),
        ("tcp", "ok"),
        ("tls", "skipped"),
        ("login", "ok"),
    ]
    mailbox.refresh_from_db()
    assert mailbox.last_checked_at is not None
    assert mailbox.last_error == ""


def test_test_button_names_the_failing_step(
    admin_client: Client,
    people: Personas,
    dovecot: Dovecot,
    imap_account: ImapAccount,
    smtp: SmtpServer,
) -> None:
    mailbox = _real_mailbox(
        people,
        dovecot,
        imap_account,
        smtp,
        imap_password="wrong-pass-xyz",
        smtp_password="wrong-pass-xyz",
    )

    response = admin_client.post(
        reverse("mail:mailbox_test", args=[mailbox.pk]), HTTP_HX_REQUEST="true"
    )

    page = response.content.decode()
    assert 'data-check-ok="false"' in page
    assert ("login", "failed") in _steps(page)
    assert ("folder", "skipped") in _steps(page)
    assert "refused the username or password" in page
    assert "AUTHENTICATIONFAILED" in page
    assert "wrong-pass-xyz" not in page
    mailbox.refresh_from_db()
    assert mailbox.last_error.startswith("IMAP Sign-in:")


def test_test_without_htmx_renders_a_page(
    admin_client: Client,
    people: Personas,
    dovecot: Dovecot,
    imap_account: ImapAccount,
    smtp: SmtpServer,
) -> None:
    mailbox = _real_mailbox(people, dovecot, imap_account, smtp)

    response = admin_client.post(reverse("mail:mailbox_test", args=[mailbox.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" in page
    assert 'data-check-ok="true"' in page


def test_test_is_post_only(admin_client: Client, mailbox: Mailbox) -> None:
    assert admin_client.get(reverse("mail:mailbox_test", args=[mailbox.pk])).status_code == 405
