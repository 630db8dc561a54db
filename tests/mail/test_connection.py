"""The connection test against a real Dovecot and a real aiosmtpd: which step fails, and why."""

from __future__ import annotations

import time
from typing import Any

import pytest

from frontdesk.mail.connection import (
    DNS,
    FAILED,
    FOLDER,
    LOGIN,
    OK,
    SKIPPED,
    TCP,
    TLS,
    CheckResult,
    check_imap,
    check_smtp,
)
from frontdesk.mail.models import ImapAuth, Mailbox, Security
from frontdesk.mail.services import create_mailbox
from tests.mail.conftest import Dovecot, ImapAccount, SmtpServer, closed_port

pytestmark = pytest.mark.django_db

TIMEOUT = 3.0


def imap_mailbox(dovecot: Dovecot, account: ImapAccount, **overrides: Any) -> Mailbox:
    settings: dict[str, Any] = {
        "name": "Support",
        "email": "support@example.com",
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_security": Security.NONE,
        "imap_username": account.username,
        "imap_password": account.password,
        **overrides,
    }
    return create_mailbox(by=None, **settings)


def smtp_mailbox(smtp: SmtpServer, **overrides: Any) -> Mailbox:
    settings: dict[str, Any] = {
        "name": "Support",
        "email": "support@example.com",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": Security.NONE,
        "smtp_username": smtp.username,
        "smtp_password": smtp.password,
        **overrides,
    }
    return create_mailbox(by=None, **settings)


def statuses(result: CheckResult) -> dict[str, str]:
    return {step.name: step.status for step in result.steps}


def failed(result: CheckResult) -> tuple[str, str, str]:
    step = result.failed_step
    assert step is not None, result
    return step.name, step.message, step.detail


# --- IMAP -------------------------------------------------------------------------------------


def test_imap_check_passes_every_step_on_a_plain_connection(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    dovecot.append(imap_account, b"Subject: hi\r\n\r\nhello\r\n")

    result = check_imap(imap_mailbox(dovecot, imap_account), timeout=TIMEOUT)

    assert result.ok, result
    assert statuses(result) == {DNS: OK, TCP: OK, TLS: SKIPPED, LOGIN: OK, FOLDER: OK}
    assert "1" in result.steps[-1].message
    assert result.summary() == ""


def test_imap_check_over_implicit_tls_with_verification_off(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    mailbox = imap_mailbox(
        dovecot,
        imap_account,
        imap_port=dovecot.ssl_port,
        imap_security=Security.SSL,
        verify_certificates=False,
    )

    result = check_imap(mailbox, timeout=TIMEOUT)

    assert result.ok, result
    assert statuses(result)[TLS] == OK
    assert "TLS" in result.steps[2].message


def test_imap_check_over_starttls_with_verification_off(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    mailbox = imap_mailbox(
        dovecot, imap_account, imap_security=Security.STARTTLS, verify_certificates=False
    )

    result = check_imap(mailbox, timeout=TIMEOUT)

    assert result.ok, result
    assert statuses(result)[TLS] == OK


@pytest.mark.parametrize("security", [Security.SSL, Security.STARTTLS])
def test_self_signed_certificate_fails_the_tls_step_when_verified(
    dovecot: Dovecot, imap_account: ImapAccount, security: str
) -> None:
    port = dovecot.ssl_port if security == Security.SSL else dovecot.port
    mailbox = imap_mailbox(dovecot, imap_account, imap_port=port, imap_security=security)

    result = check_imap(mailbox, timeout=TIMEOUT)

    name, message, detail = failed(result)
    assert name == TLS
    assert "certificate" in message
    assert "self-signed" in detail or "self signed" in detail
    assert statuses(result) == {DNS: OK, TCP: OK, TLS: FAILED, LOGIN: SKIPPED, FOLDER: SKIPPED}


def test_wrong_password_fails_the_login_step(dovecot: Dovecot, imap_account: ImapAccount) -> None:
    mailbox = imap_mailbox(dovecot, imap_account, imap_password="not-the-password")

    result = check_imap(mailbox, timeout=TIMEOUT)

    name, message, detail = failed(result)
    assert name == LOGIN
    assert imap_account.username in message
    assert "AUTHENTICATIONFAILED" in detail
    assert statuses(result)[FOLDER] == SKIPPED


def test_xoauth2_token_signs_in(dovecot: Dovecot, imap_account: ImapAccount) -> None:
    mailbox = imap_mailbox(
        dovecot,
        imap_account,
        imap_password="",
        imap_auth=ImapAuth.OAUTH2,
        imap_oauth2_token=imap_account.password,
    )

    result = check_imap(mailbox, timeout=TIMEOUT)

    assert result.ok, result
    assert result.steps[3].detail == "Logged in"


def test_rejected_xoauth2_token_fails_the_login_step(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    mailbox = imap_mailbox(
        dovecot, imap_account, imap_auth=ImapAuth.OAUTH2, imap_oauth2_token="expired-token"
    )

    name, message, _detail = failed(check_imap(mailbox, timeout=TIMEOUT))

    assert name == LOGIN
    assert "access token" in message


def test_missing_folder_fails_the_folder_step(dovecot: Dovecot, imap_account: ImapAccount) -> None:
    mailbox = imap_mailbox(dovecot, imap_account, imap_folder="Nowhere")

    result = check_imap(mailbox, timeout=TIMEOUT)

    name, message, detail = failed(result)
    assert name == FOLDER
    assert "Nowhere" in message
    assert "doesn't exist" in detail
    assert statuses(result)[LOGIN] == OK


def test_another_folder_is_selected(dovecot: Dovecot, imap_account: ImapAccount) -> None:
    dovecot.append(imap_account, b"Subject: a\r\n\r\na\r\n", folder="Support")

    result = check_imap(imap_mailbox(dovecot, imap_account, imap_folder="Support"), timeout=TIMEOUT)

    assert result.ok, result


def test_closed_port_fails_the_tcp_step(dovecot: Dovecot, imap_account: ImapAccount) -> None:
    mailbox = imap_mailbox(dovecot, imap_account, imap_port=closed_port())

    result = check_imap(mailbox, timeout=TIMEOUT)

    name, message, _detail = failed(result)
    assert name == TCP
    assert "refused" in message
    assert statuses(result) == {DNS: OK, TCP: FAILED, TLS: SKIPPED, LOGIN: SKIPPED, FOLDER: SKIPPED}


def test_unresolvable_host_fails_the_dns_step(dovecot: Dovecot, imap_account: ImapAccount) -> None:
    mailbox = imap_mailbox(dovecot, imap_account, imap_host="imap.does-not-exist.invalid")

    started = time.monotonic()
    result = check_imap(mailbox, timeout=TIMEOUT)

    assert time.monotonic() - started < TIMEOUT + 1
    name, message, _detail = failed(result)
    assert name == DNS
    assert "imap.does-not-exist.invalid" in message
    assert [step.status for step in result.steps] == [FAILED] + [SKIPPED] * 4


def test_tls_against_a_plain_port_fails_the_tls_step(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    mailbox = imap_mailbox(
        dovecot, imap_account, imap_security=Security.SSL, verify_certificates=False
    )

    name, _message, _detail = failed(check_imap(mailbox, timeout=TIMEOUT))

    assert name == TLS


def test_silent_server_times_out_instead_of_hanging(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    # A listening socket that never answers: the IMAP greeting never comes.
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        mailbox = imap_mailbox(dovecot, imap_account, imap_port=silent.getsockname()[1])

        started = time.monotonic()
        result = check_imap(mailbox, timeout=1.0)

    assert time.monotonic() - started < 5
    assert failed(result)[0] == TCP


def test_a_mailbox_without_imap_reports_not_configured(db: None) -> None:
    mailbox = create_mailbox(by=None, name="Send only", email="out@example.com")

    result = check_imap(mailbox)

    assert not result.configured
    assert not result.ok
    assert result.steps == ()


# --- SMTP -------------------------------------------------------------------------------------


def test_smtp_check_signs_in(smtp: SmtpServer) -> None:
    result = check_smtp(smtp_mailbox(smtp), timeout=TIMEOUT)

    assert result.ok, result
    assert statuses(result) == {DNS: OK, TCP: OK, TLS: SKIPPED, LOGIN: OK}
    assert "235" in result.steps[-1].detail


def test_smtp_check_over_starttls(smtp: SmtpServer) -> None:
    mailbox = smtp_mailbox(smtp, smtp_security=Security.STARTTLS, verify_certificates=False)

    result = check_smtp(mailbox, timeout=TIMEOUT)

    assert result.ok, result
    assert statuses(result)[TLS] == OK


def test_smtp_check_over_implicit_tls(smtp: SmtpServer) -> None:
    mailbox = smtp_mailbox(
        smtp, smtp_port=smtp.ssl_port, smtp_security=Security.SSL, verify_certificates=False
    )

    result = check_smtp(mailbox, timeout=TIMEOUT)

    assert result.ok, result


def test_smtp_self_signed_certificate_fails_the_tls_step_when_verified(smtp: SmtpServer) -> None:
    mailbox = smtp_mailbox(smtp, smtp_security=Security.STARTTLS)

    name, message, _detail = failed(check_smtp(mailbox, timeout=TIMEOUT))

    assert name == TLS
    assert "certificate" in message


def test_smtp_bad_password_fails_the_login_step(smtp: SmtpServer) -> None:
    mailbox = smtp_mailbox(smtp, smtp_password="wrong")

    name, message, detail = failed(check_smtp(mailbox, timeout=TIMEOUT))

    assert name == LOGIN
    assert smtp.username in message
    assert detail.startswith("535")


def test_smtp_without_username_skips_sign_in(smtp: SmtpServer) -> None:
    mailbox = smtp_mailbox(smtp, smtp_username="", smtp_password="")

    result = check_smtp(mailbox, timeout=TIMEOUT)

    assert result.ok, result
    assert statuses(result)[LOGIN] == SKIPPED


def test_smtp_closed_port_fails_the_tcp_step(smtp: SmtpServer) -> None:
    name, _message, _detail = failed(
        check_smtp(smtp_mailbox(smtp, smtp_port=closed_port()), timeout=TIMEOUT)
    )

    assert name == TCP


def test_the_recorded_server_receives_what_is_sent(smtp: SmtpServer) -> None:
    # The fixture later tests rely on: a signed-in send arrives with its login.
    import smtplib

    with smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT) as client:
        client.login(smtp.username, smtp.password)
        client.sendmail("support@example.com", ["jana@acme.example"], b"Subject: t\r\n\r\nbody\r\n")

    assert len(smtp.messages) == 1
    assert smtp.messages[0].login == smtp.username
    assert smtp.messages[0].message["Subject"] == "t"
