"""Testing a mailbox's servers step by step, so an admin learns exactly what failed.

IMAP: DNS → TCP → TLS → sign-in → folder; SMTP: DNS → TCP → TLS → sign-in.
The first failing step stops the run; the steps after it are marked skipped.
Every network wait is bounded by `timeout` (the DNS lookup runs in a thread,
since `getaddrinfo` takes none), so a check never hangs.
"""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from frontdesk.mail.crypto import CredentialError, decrypt
from frontdesk.mail.models import ImapAuth, Mailbox, Security

DEFAULT_TIMEOUT = 10.0
_CLOSE_ERRORS = (OSError, IMAPClientError, imaplib.IMAP4.error, smtplib.SMTPException)

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"

DNS = "dns"
TCP = "tcp"
TLS = "tls"
LOGIN = "login"
FOLDER = "folder"

STEP_LABELS: dict[str, Promise] = {
    DNS: gettext_lazy("DNS lookup"),
    TCP: gettext_lazy("TCP connection"),
    TLS: gettext_lazy("TLS"),
    LOGIN: gettext_lazy("Sign-in"),
    FOLDER: gettext_lazy("Folder"),
}
IMAP_STEPS = (DNS, TCP, TLS, LOGIN, FOLDER)
SMTP_STEPS = (DNS, TCP, TLS, LOGIN)


@dataclass(frozen=True)
class Step:
    name: str
    status: str
    message: str
    # The underlying error (or server answer), untranslated: what a search engine knows.
    detail: str = ""

    @property
    def label(self) -> str:
        return str(STEP_LABELS[self.name])

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def failed(self) -> bool:
        return self.status == FAILED


@dataclass(frozen=True)
class CheckResult:
    protocol: str  # "imap" or "smtp"
    configured: bool
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.configured and not any(step.failed for step in self.steps)

    @property
    def failed_step(self) -> Step | None:
        return next((step for step in self.steps if step.failed), None)

    def summary(self) -> str:
        """One line for `Mailbox.last_error`; "" when every step passed."""
        step = self.failed_step
        if step is None:
            return ""
        text = f"{self.protocol.upper()} {step.label}: {step.message}"
        return f"{text} ({step.detail})" if step.detail else text


class _StepFailed(Exception):
    def __init__(self, name: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.step = Step(name, FAILED, message, detail)


class _Run:
    """Collects steps in order and fills in the skipped ones after a failure."""

    def __init__(self, protocol: str, names: tuple[str, ...]) -> None:
        self.protocol = protocol
        self.names = names
        self.steps: list[Step] = []

    def ok(self, name: str, message: str, detail: str = "") -> None:
        self.steps.append(Step(name, OK, message, detail))

    def skip(self, name: str, message: str) -> None:
        self.steps.append(Step(name, SKIPPED, message))

    def result(self, failure: _StepFailed | None = None) -> CheckResult:
        steps = list(self.steps)
        if failure is not None:
            steps.append(failure.step)
        done = {step.name for step in steps}
        steps.extend(
            Step(name, SKIPPED, _("Not tried after the failure above."))
            for name in self.names
            if name not in done
        )
        return CheckResult(protocol=self.protocol, configured=True, steps=tuple(steps))


def error_text(error: BaseException) -> str:
    """An exception as one line; imaplib and imapclient put the server's bytes in args[0]."""
    if error.args and isinstance(error.args[0], bytes):
        return error.args[0].decode("utf-8", "replace")
    return str(error) or type(error).__name__


def smtp_reply(code: int, text: bytes | str) -> str:
    """An SMTP server's answer as one line, such as "550 5.1.1 No such user"."""
    return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"


def tls_context(*, verify: bool) -> ssl.SSLContext:
    """The context for every TLS connection of a mailbox."""
    if verify:
        return ssl.create_default_context()
    # An admin turned verification off for this mailbox (a self-signed certificate):
    # still encrypted, but the server's identity is not checked.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _resolve(host: str, port: int, timeout: float) -> list[tuple[Any, ...]]:
    """getaddrinfo in a daemon thread, so a stuck resolver cannot hold the check."""
    outcome: dict[str, Any] = {}

    def lookup() -> None:
        try:
            outcome["addresses"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            outcome["error"] = error

    thread = threading.Thread(target=lookup, name="mailbox-dns", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise _StepFailed(
            DNS,
            _("No answer for %(host)s within %(seconds)s seconds.")
            % {"host": host, "seconds": _seconds(timeout)},
        )
    if "error" in outcome:
        raise _StepFailed(
            DNS,
            _("The name %(host)s cannot be resolved.") % {"host": host},
            error_text(outcome["error"]),
        )
    addresses: list[tuple[Any, ...]] = outcome["addresses"]
    if not addresses:
        raise _StepFailed(DNS, _("The name %(host)s has no address.") % {"host": host})
    return addresses


def _seconds(timeout: float) -> str:
    return f"{timeout:g}"


def _probe_tcp(addresses: list[tuple[Any, ...]], host: str, port: int, timeout: float) -> str:
    """Connect to the first address that answers; returns it for the report."""
    last: OSError | None = None
    for family, kind, proto, _name, sockaddr in addresses:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
        except OSError as error:
            last = error
            continue
        finally:
            sock.close()
        return str(sockaddr[0])
    assert last is not None  # noqa: S101 - _resolve never returns an empty list
    if isinstance(last, TimeoutError | socket.timeout):
        message = _("No answer from %(host)s port %(port)s within %(seconds)s seconds.") % {
            "host": host,
            "port": port,
            "seconds": _seconds(timeout),
        }
    elif isinstance(last, ConnectionRefusedError):
        message = _("%(host)s refused the connection on port %(port)s.") % {
            "host": host,
            "port": port,
        }
    else:
        message = _("Cannot connect to %(host)s port %(port)s.") % {"host": host, "port": port}
    raise _StepFailed(TCP, message, error_text(last))


def _tls_failure(error: BaseException) -> _StepFailed:
    if isinstance(error, ssl.SSLCertVerificationError):
        message = _(
            "The server's certificate is not trusted. Fix the certificate, or turn off "
            "certificate verification for this mailbox if it is self-signed."
        )
        return _StepFailed(TLS, message, error.verify_message or error_text(error))
    return _StepFailed(TLS, _("The secure (TLS) connection failed."), error_text(error))


def _tls_ok(sock: Any) -> str:
    version = sock.version() if isinstance(sock, ssl.SSLSocket) else None
    return _("Encrypted with %(version)s.") % {"version": version or "TLS"}


def _secret(stored: str, step: str) -> str:
    try:
        return decrypt(stored)
    except CredentialError as error:
        raise _StepFailed(step, str(error)) from None


def _reach(run: _Run, host: str, port: int, timeout: float) -> None:
    addresses = _resolve(host, port, timeout)
    ips = sorted({str(address[4][0]) for address in addresses})
    run.ok(
        DNS, _("%(host)s resolves to %(addresses)s.") % {"host": host, "addresses": ", ".join(ips)}
    )
    address = _probe_tcp(addresses, host, port, timeout)
    run.ok(TCP, _("Connected to %(address)s port %(port)s.") % {"address": address, "port": port})


# --- IMAP -----------------------------------------------------------------------------------


def check_imap(mailbox: Mailbox, *, timeout: float = DEFAULT_TIMEOUT) -> CheckResult:
    if not mailbox.imap_configured:
        return CheckResult(protocol="imap", configured=False)
    run = _Run("imap", IMAP_STEPS)
    try:
        client, _info = _imap_steps(run, mailbox, timeout, readonly=True)
    except _StepFailed as failure:
        return run.result(failure)
    close_imap(client)
    return run.result()


class ImapUnavailable(Exception):
    """`open_imap` failed; `result` names the step, and str() is its one-line summary."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.summary())
        self.result = result


def open_imap(
    mailbox: Mailbox, *, timeout: float = DEFAULT_TIMEOUT
) -> tuple[IMAPClient, dict[bytes, Any]]:
    """A signed-in client with the mailbox's folder selected for writing flags, and the
    server's answer to that SELECT (PERMANENTFLAGS, UIDVALIDITY, ...).

    The same steps as `check_imap`, so a poll that fails reports it in the same words.
    The caller closes it with `close_imap`.
    """
    if not mailbox.imap_configured:
        raise ImapUnavailable(CheckResult(protocol="imap", configured=False))
    run = _Run("imap", IMAP_STEPS)
    try:
        return _imap_steps(run, mailbox, timeout, readonly=False)
    except _StepFailed as failure:
        raise ImapUnavailable(run.result(failure)) from None


def close_imap(client: IMAPClient) -> None:
    """Log out; if the server is gone already, just drop the socket."""
    try:
        client.logout()
    except _CLOSE_ERRORS:
        _quietly(client.shutdown)


def _imap_steps(
    run: _Run, mailbox: Mailbox, timeout: float, *, readonly: bool
) -> tuple[IMAPClient, dict[bytes, Any]]:
    """Every IMAP step in order; after a failure, nothing is left open."""
    _reach(run, mailbox.imap_host, mailbox.imap_port, timeout)
    client = _imap_connect(run, mailbox, timeout)
    try:
        _imap_login(run, client, mailbox)
        info = _imap_folder(run, client, mailbox.imap_folder, readonly=readonly)
    except _StepFailed:
        close_imap(client)
        raise
    return client, info


def _imap_connect(run: _Run, mailbox: Mailbox, timeout: float) -> IMAPClient:
    context = tls_context(verify=mailbox.verify_certificates)
    implicit = mailbox.imap_security == Security.SSL
    try:
        client = IMAPClient(
            mailbox.imap_host,
            port=mailbox.imap_port,
            ssl=implicit,
            ssl_context=context if implicit else None,
            timeout=timeout,
        )
    except ssl.SSLError as error:
        raise _tls_failure(error) from None
    except (OSError, imaplib.IMAP4.error) as error:
        if implicit:
            raise _tls_failure(error) from None
        raise _StepFailed(
            TCP, _("Connected, but the server did not greet as an IMAP server."), error_text(error)
        ) from None
    if mailbox.imap_security == Security.STARTTLS:
        try:
            client.starttls(context)
        except ssl.SSLError as error:
            _quietly(client.shutdown)
            raise _tls_failure(error) from None
        except (OSError, imaplib.IMAP4.error) as error:
            _quietly(client.shutdown)
            raise _StepFailed(
                TLS, _("The server does not accept STARTTLS."), error_text(error)
            ) from None
    if mailbox.imap_security == Security.NONE:
        run.skip(TLS, _("Unencrypted connection, as configured."))
    else:
        run.ok(TLS, _tls_ok(client.socket()))
    return client


def _imap_login(run: _Run, client: IMAPClient, mailbox: Mailbox) -> None:
    oauth2 = mailbox.imap_auth == ImapAuth.OAUTH2
    secret = _secret(
        mailbox.imap_oauth2_token_encrypted if oauth2 else mailbox.imap_password_encrypted, LOGIN
    )
    answer: object
    try:
        if oauth2:
            answer = client.oauth2_login(mailbox.imap_username, secret)
        else:
            answer = client.login(mailbox.imap_username, secret)
    except LoginError as error:
        message = (
            _("The server refused the access token for %(user)s.")
            if oauth2
            else _("The server refused the username or password for %(user)s.")
        )
        raise _StepFailed(
            LOGIN, message % {"user": mailbox.imap_username}, error_text(error)
        ) from None
    except (OSError, IMAPClientError, imaplib.IMAP4.error) as error:
        raise _StepFailed(LOGIN, _("Signing in failed."), error_text(error)) from None
    run.ok(LOGIN, _("Signed in as %(user)s.") % {"user": mailbox.imap_username}, _answer(answer))


def _answer(answer: object) -> str:
    """A server's answer as text; imapclient gives bytes, or a list of them for AUTHENTICATE."""
    parts = answer if isinstance(answer, list | tuple) else [answer]
    return " ".join(
        part.decode("utf-8", "replace") if isinstance(part, bytes) else str(part)
        for part in parts
        if part
    )


def _imap_folder(
    run: _Run, client: IMAPClient, folder: str, *, readonly: bool = True
) -> dict[bytes, Any]:
    try:
        info = client.select_folder(folder, readonly=readonly)
    except (OSError, IMAPClientError, imaplib.IMAP4.error) as error:
        raise _StepFailed(
            FOLDER,
            _("The folder %(folder)s cannot be opened.") % {"folder": folder},
            error_text(error),
        ) from None
    count = int(info.get(b"EXISTS", 0))
    message = ngettext(
        "The folder %(folder)s holds %(count)d message.",
        "The folder %(folder)s holds %(count)d messages.",
        count,
    )
    run.ok(FOLDER, message % {"folder": folder, "count": count})
    return info


# --- SMTP -----------------------------------------------------------------------------------


def check_smtp(mailbox: Mailbox, *, timeout: float = DEFAULT_TIMEOUT) -> CheckResult:
    if not mailbox.smtp_configured:
        return CheckResult(protocol="smtp", configured=False)
    run = _Run("smtp", SMTP_STEPS)
    try:
        client = _smtp_steps(run, mailbox, timeout)
    except _StepFailed as failure:
        return run.result(failure)
    close_smtp(client)
    return run.result()


class SmtpUnavailable(Exception):
    """`open_smtp` failed; `result` names the step, and str() is its one-line summary."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.summary())
        self.result = result


def open_smtp(mailbox: Mailbox, *, timeout: float = DEFAULT_TIMEOUT) -> smtplib.SMTP:
    """A connected, signed-in SMTP client for sending; the caller closes it with `close_smtp`.

    The same steps as `check_smtp`, so a failed send reports it in the same words.
    """
    if not mailbox.smtp_configured:
        raise SmtpUnavailable(CheckResult(protocol="smtp", configured=False))
    run = _Run("smtp", SMTP_STEPS)
    try:
        return _smtp_steps(run, mailbox, timeout)
    except _StepFailed as failure:
        raise SmtpUnavailable(run.result(failure)) from None


def close_smtp(client: smtplib.SMTP) -> None:
    """Say goodbye and close; a failing goodbye changes nothing."""
    _quietly(client.quit)
    _quietly(client.close)


def _smtp_steps(run: _Run, mailbox: Mailbox, timeout: float) -> smtplib.SMTP:
    """Every SMTP step in order; after a failure, nothing is left open."""
    _reach(run, mailbox.smtp_host, mailbox.smtp_port, timeout)
    client = _smtp_connect(run, mailbox, timeout)
    try:
        _smtp_login(run, client, mailbox)
    except _StepFailed:
        close_smtp(client)
        raise
    return client


def _smtp_connect(run: _Run, mailbox: Mailbox, timeout: float) -> smtplib.SMTP:
    context = tls_context(verify=mailbox.verify_certificates)
    host, port = mailbox.smtp_host, mailbox.smtp_port
    implicit = mailbox.smtp_security == Security.SSL
    try:
        client = (
            smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            if implicit
            else smtplib.SMTP(host, port, timeout=timeout)
        )
    except ssl.SSLError as error:
        raise _tls_failure(error) from None
    except (OSError, smtplib.SMTPException) as error:
        if implicit:
            raise _tls_failure(error) from None
        raise _StepFailed(
            TCP, _("Connected, but the server did not greet as an SMTP server."), error_text(error)
        ) from None
    try:
        client.ehlo()
        if mailbox.smtp_security == Security.STARTTLS:
            if not client.has_extn("starttls"):
                raise _StepFailed(TLS, _("The server does not offer STARTTLS."))
            try:
                client.starttls(context=context)
            except ssl.SSLError as error:
                raise _tls_failure(error) from None
            client.ehlo()
    except _StepFailed:
        _quietly(client.close)
        raise
    except (OSError, smtplib.SMTPException) as error:
        _quietly(client.close)
        raise _StepFailed(
            TLS if mailbox.smtp_security == Security.STARTTLS else TCP,
            _("The server closed the connection."),
            error_text(error),
        ) from None
    if mailbox.smtp_security == Security.NONE:
        run.skip(TLS, _("Unencrypted connection, as configured."))
    else:
        run.ok(TLS, _tls_ok(client.sock))
    return client


def _smtp_login(run: _Run, client: smtplib.SMTP, mailbox: Mailbox) -> None:
    if not mailbox.smtp_username:
        run.skip(LOGIN, _("No username set: mail is sent without signing in."))
        return
    password = _secret(mailbox.smtp_password_encrypted, LOGIN)
    user = mailbox.smtp_username
    try:
        code, answer = client.login(user, password)
    except smtplib.SMTPAuthenticationError as error:
        raise _StepFailed(
            LOGIN,
            _("The server refused the username or password for %(user)s.") % {"user": user},
            smtp_reply(error.smtp_code, error.smtp_error),
        ) from None
    except smtplib.SMTPNotSupportedError as error:
        raise _StepFailed(
            LOGIN, _("The server does not offer signing in (AUTH)."), error_text(error)
        ) from None
    except (OSError, smtplib.SMTPException) as error:
        raise _StepFailed(LOGIN, _("Signing in failed."), error_text(error)) from None
    run.ok(LOGIN, _("Signed in as %(user)s.") % {"user": user}, smtp_reply(code, answer))


def _quietly(close: Callable[[], object]) -> None:
    """Closing: the outcome is known, a failing goodbye changes nothing."""
    try:
        close()
    except _CLOSE_ERRORS:
        pass
