"""Mailbox services: who may change them, what is refused, what is audited and announced."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.core.errors import InvalidInput, NotFound, PermissionDenied
from frontdesk.core.models import Event, Via
from frontdesk.mail.connection import LOGIN
from frontdesk.mail.crypto import decrypt
from frontdesk.mail.events import (
    MailboxActiveChanged,
    MailboxChecked,
    MailboxCreated,
    MailboxUpdated,
)
from frontdesk.mail.models import ImapAuth, Mailbox, Security
from frontdesk.mail.selectors import access_mailbox, list_mailboxes
from frontdesk.mail.services import (
    check_mailbox_connection,
    create_mailbox,
    set_mailbox_active,
    update_mailbox,
)
from tests.conftest import Personas
from tests.events import collected
from tests.mail.conftest import Dovecot, ImapAccount, SmtpServer

IMAP = {
    "imap_host": "imap.example.com",
    "imap_username": "support@example.com",
    "imap_password": "imap-secret",
}


def make(by: Any, **overrides: Any) -> Mailbox:
    values: dict[str, Any] = {"name": "Support", "email": "support@example.com", **IMAP}
    values.update(overrides)
    return create_mailbox(by=by, **values)


# --- create -----------------------------------------------------------------------------------


def test_admin_creates_a_mailbox_with_encrypted_secrets(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(MailboxCreated) as events, django_capture_on_commit_callbacks(execute=True):
        mailbox = make(
            people.admin,
            email=" Support@Example.COM ",
            default_team=people.orders,
            smtp_host="smtp.example.com",
            smtp_username="support@example.com",
            smtp_password="smtp-secret",
            via=Via.WEB,
        )

    assert mailbox.email == "support@example.com"
    assert mailbox.imap_folder == "INBOX"
    assert mailbox.imap_password_encrypted.startswith("v1:")
    assert "imap-secret" not in mailbox.imap_password_encrypted
    assert decrypt(mailbox.imap_password_encrypted) == "imap-secret"
    assert decrypt(mailbox.smtp_password_encrypted) == "smtp-secret"
    event = Event.objects.get(action="mailbox.created")
    assert event.object_id == mailbox.pk
    assert event.actor_id == people.admin.pk
    assert event.via == Via.WEB
    assert event.data["imap_password"] == "changed"
    assert "imap-secret" not in str(event.data) and "smtp-secret" not in str(event.data)
    assert len(events) == 1
    created = events[0]
    assert isinstance(created, MailboxCreated)
    assert created.mailbox_id == mailbox.pk
    assert created.email == "support@example.com"
    assert created.audience.team_ids == frozenset({people.orders.pk})
    assert created.audience.user_ids == frozenset({people.admin.pk})


@pytest.mark.parametrize("persona", ["agent", "supervisor"])
def test_only_admins_create_mailboxes(people: Personas, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        make(getattr(people, persona))

    assert not Mailbox.objects.exists()


def test_duplicate_address_is_refused_whatever_its_case(people: Personas) -> None:
    make(people.admin)

    with pytest.raises(InvalidInput) as refused:
        make(people.admin, name="Other", email="SUPPORT@example.com")

    assert refused.value.field == "email"
    assert Mailbox.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "  "}, "name"),
        ({"email": "not an address"}, "email"),
        ({"imap_port": 0}, "imap_port"),
        ({"imap_port": 70000}, "imap_port"),
        ({"smtp_host": "smtp.example.com", "smtp_port": -1}, "smtp_port"),
        ({"imap_security": "tls13"}, "imap_security"),
        ({"imap_host": "imap://example.com"}, "imap_host"),
        ({"imap_host": "", "imap_username": "u", "imap_password": "p"}, "imap_host"),
        ({"imap_username": ""}, "imap_username"),
        ({"imap_password": ""}, "imap_password"),
        ({"imap_folder": " "}, "imap_folder"),
        ({"imap_auth": ImapAuth.OAUTH2}, "imap_oauth2_token"),
        ({"imap_auth": "kerberos"}, "imap_auth"),
        ({"smtp_username": "u", "smtp_password": "p"}, "smtp_host"),
        ({"smtp_host": "smtp.example.com", "smtp_username": "u"}, "smtp_password"),
        ({"signature": "x" * 10_001}, "signature"),
    ],
)
def test_bad_input_is_refused_on_its_field(
    people: Personas, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        make(people.admin, **overrides)

    assert refused.value.field == field
    assert not Mailbox.objects.exists()
    assert not Event.objects.filter(action="mailbox.created").exists()


def test_a_mailbox_may_have_neither_imap_nor_smtp(people: Personas) -> None:
    # Mail can also arrive by `frontdesk mail import` or the LMTP listener.
    mailbox = create_mailbox(by=people.admin, name="Import", email="import@example.com")

    assert not mailbox.imap_configured
    assert not mailbox.smtp_configured


def test_oauth2_mailbox_needs_no_password(people: Personas) -> None:
    mailbox = make(
        people.admin, imap_password="", imap_auth=ImapAuth.OAUTH2, imap_oauth2_token="ya29.token"
    )

    assert decrypt(mailbox.imap_oauth2_token_encrypted) == "ya29.token"
    assert mailbox.imap_password_encrypted == ""


# --- update -----------------------------------------------------------------------------------


def test_update_changes_settings_and_announces_field_names(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    mailbox = make(people.admin)

    with collected(MailboxUpdated) as events, django_capture_on_commit_callbacks(execute=True):
        updated = update_mailbox(
            mailbox,
            by=people.admin,
            imap_port=143,
            imap_security=Security.STARTTLS,
            imap_password="new-secret",
            default_team=people.billing,
            via=Via.WEB,
        )

    assert updated.imap_port == 143
    assert updated.default_team == people.billing
    assert decrypt(updated.imap_password_encrypted) == "new-secret"
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, MailboxUpdated)
    assert event.fields == ("default_team", "imap_password", "imap_port", "imap_security")
    assert event.audience.team_ids == frozenset({people.billing.pk})
    row = Event.objects.get(action="mailbox.updated")
    assert row.data == {
        "imap_port": 143,
        "imap_security": "starttls",
        "imap_password": "changed",
        "default_team_id": people.billing.pk,
    }


@pytest.mark.parametrize("empty", [None, ""])
def test_an_empty_password_on_edit_keeps_the_stored_one(
    people: Personas, empty: str | None
) -> None:
    mailbox = make(people.admin)
    stored = mailbox.imap_password_encrypted

    updated = update_mailbox(mailbox, by=people.admin, name="Help", imap_password=empty)

    assert updated.name == "Help"
    assert updated.imap_password_encrypted == stored


def test_clearing_the_only_password_is_refused(people: Personas) -> None:
    mailbox = make(people.admin)

    with pytest.raises(InvalidInput) as refused:
        update_mailbox(mailbox, by=people.admin, clear_imap_password=True)

    assert refused.value.field == "imap_password"
    mailbox.refresh_from_db()
    assert mailbox.has_imap_password


def test_switching_to_oauth2_may_forget_the_password(people: Personas) -> None:
    mailbox = make(people.admin)

    updated = update_mailbox(
        mailbox,
        by=people.admin,
        imap_auth=ImapAuth.OAUTH2,
        imap_oauth2_token="token",
        clear_imap_password=True,
    )

    assert not updated.has_imap_password
    assert updated.has_imap_oauth2_token


def test_update_without_changes_writes_nothing(people: Personas) -> None:
    mailbox = make(people.admin)

    update_mailbox(mailbox, by=people.admin, name="Support", imap_password="")

    assert not Event.objects.filter(action="mailbox.updated").exists()


def test_update_refuses_an_address_another_mailbox_has(people: Personas) -> None:
    make(people.admin)
    other = make(people.admin, name="Billing", email="billing@example.com")

    with pytest.raises(InvalidInput) as refused:
        update_mailbox(other, by=people.admin, email="Support@example.com")

    assert refused.value.field == "email"
    other.refresh_from_db()
    assert other.email == "billing@example.com"


def test_clear_default_team(people: Personas) -> None:
    mailbox = make(people.admin, default_team=people.orders)

    updated = update_mailbox(mailbox, by=people.admin, clear_default_team=True)

    assert updated.default_team is None


def test_agents_may_not_change_mailboxes(people: Personas) -> None:
    mailbox = make(people.admin)

    with pytest.raises(PermissionDenied):
        update_mailbox(mailbox, by=people.agent, name="Mine")
    with pytest.raises(PermissionDenied):
        set_mailbox_active(mailbox, by=people.agent, active=False)
    with pytest.raises(PermissionDenied):
        check_mailbox_connection(mailbox, by=people.supervisor)

    mailbox.refresh_from_db()
    assert mailbox.name == "Support"
    assert mailbox.active


# --- active -----------------------------------------------------------------------------------


def test_deactivate_and_reactivate(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    mailbox = make(people.admin)

    with (
        collected(MailboxActiveChanged) as events,
        django_capture_on_commit_callbacks(execute=True),
    ):
        off = set_mailbox_active(mailbox, by=people.admin, active=False)
        again = set_mailbox_active(off, by=people.admin, active=False)
        on = set_mailbox_active(mailbox, by=people.admin, active=True)

    assert not off.active and not again.active and on.active
    assert [(e.mailbox_id, e.active) for e in events if isinstance(e, MailboxActiveChanged)] == [
        (mailbox.pk, False),
        (mailbox.pk, True),
    ]
    assert list(
        Event.objects.filter(object_type="mailbox", action__startswith="mailbox.")
        .exclude(action="mailbox.created")
        .values_list("action", flat=True)
        .order_by("id")
    ) == ["mailbox.deactivated", "mailbox.reactivated"]


# --- selectors --------------------------------------------------------------------------------


def test_staff_see_mailboxes_and_customers_do_not(people: Personas) -> None:
    mailbox = make(people.admin)
    set_mailbox_active(
        make(people.admin, name="Old", email="old@example.com"), by=people.admin, active=False
    )

    assert [m.name for m in list_mailboxes(people.agent)] == ["Old", "Support"]
    assert [m.name for m in list_mailboxes(people.agent, active=True)] == ["Support"]
    assert access_mailbox(people.agent, mailbox.pk) == mailbox
    assert list_mailboxes(people.customer_user) == []
    with pytest.raises(NotFound):
        access_mailbox(people.customer_user, mailbox.pk)


# --- the connection test as a service ------------------------------------------------------------


def test_check_records_success_on_the_mailbox(
    people: Personas,
    dovecot: Dovecot,
    imap_account: ImapAccount,
    smtp: SmtpServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mailbox = create_mailbox(
        by=people.admin,
        name="Support",
        email="support@example.com",
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_security=Security.NONE,
        imap_username=imap_account.username,
        imap_password=imap_account.password,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_security=Security.NONE,
        smtp_username=smtp.username,
        smtp_password=smtp.password,
    )

    with collected(MailboxChecked) as events, django_capture_on_commit_callbacks(execute=True):
        check = check_mailbox_connection(mailbox, by=people.admin, timeout=3)

    assert check.ok
    mailbox.refresh_from_db()
    assert mailbox.last_checked_at is not None
    assert mailbox.last_error == ""
    assert [(e.ok, e.error) for e in events if isinstance(e, MailboxChecked)] == [(True, "")]
    assert Event.objects.filter(action="mailbox.checked", data__ok=True).exists()


def test_check_after_a_secret_key_change_fails_sign_in_clearly(
    people: Personas, dovecot: Dovecot, imap_account: ImapAccount, settings: Any
) -> None:
    mailbox = create_mailbox(
        by=people.admin,
        name="Support",
        email="support@example.com",
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_security=Security.NONE,
        imap_username=imap_account.username,
        imap_password=imap_account.password,
    )
    settings.SECRET_KEY = "a brand new secret key"

    check = check_mailbox_connection(mailbox, by=people.admin, timeout=3)

    assert not check.ok
    step = check.imap.failed_step
    assert step is not None and step.name == LOGIN
    assert "secret key may have changed" in step.message
    mailbox.refresh_from_db()
    assert "secret key may have changed" in mailbox.last_error
    assert mailbox.last_error.startswith("IMAP Sign-in:")
