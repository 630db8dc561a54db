"""Real mail servers for the mail tests: a private Dovecot (IMAP) and aiosmtpd (SMTP).

Both start once per test session on 127.0.0.1 at free ports and stop at the end.
Tests outside tests/mail share them by assigning the `*_fixture` functions to a
module attribute (pytest registers them under their `name=`); see
tests/web/test_mailbox_pages.py.

Dovecot runs from a config written into a temporary directory (its own base_dir,
state_dir and log), so it never touches a system instance. It listens on a plain
port that also offers STARTTLS and on an implicit-TLS port, both with a
self-signed certificate for `localhost` / 127.0.0.1 made with `cryptography`.
Each user has a passwd-file of its own, read on first use, so
`dovecot.add_user()` gives each test its own empty mailbox; the password is
also accepted as an XOAUTH2 token (Dovecot hands the token to the passdb as
the password).

aiosmtpd runs two controllers: `plain` (AUTH over plain text allowed, STARTTLS
offered) and `ssl` (implicit TLS); both take the SMTP_USER / SMTP_PASSWORD
login and keep every message they receive in `smtp_server.messages`.
`smtp.refuse(address, reply)` makes them answer RCPT TO for that address with
`reply` (a 550 by default) until the next test.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import pwd
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from imapclient import IMAPClient

STARTUP_TIMEOUT = 15.0
SMTP_USER = "sender@example.com"
SMTP_PASSWORD = "smtp-secret"  # noqa: S105 - a test server's password


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port() -> int:
    """A port nothing listens on (free a moment ago, so a connect is refused)."""
    return free_port()


def wait_for_port(port: int, *, timeout: float, alive: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError("the server exited while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass(frozen=True)
class Certificate:
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate (for tests that verify)."""
        return ssl.create_default_context(cafile=str(self.cert_path))


def make_certificate(directory: Path) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_path, key_path)


# --- Dovecot --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImapAccount:
    username: str
    password: str  # also accepted as the XOAUTH2 access token
    maildir: Path


@dataclass
class Dovecot:
    host: str
    port: int  # plain text, STARTTLS offered
    ssl_port: int  # implicit TLS
    root: Path
    config: Path
    certificate: Certificate
    mail_uid: int
    mail_gid: int
    process: subprocess.Popen[bytes]
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def users_dir(self) -> Path:
        return self.root / "users"

    @property
    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def add_user(self, username: str | None = None, password: str | None = None) -> ImapAccount:
        """A new user with an empty INBOX; the name is unique unless given."""
        name = username or f"user-{secrets.token_hex(4)}@example.com"
        secret = password or secrets.token_urlsafe(12)
        # One passwd-file per user: Dovecot notices a changed file only once a second,
        # but opens a file it has not seen yet on the first lookup.
        path = self.users_dir / name
        with self._lock:
            if path.exists():
                raise ValueError(f"{name} exists already")
            path.write_text(f"{name}:{{PLAIN}}{secret}::::::\n", encoding="utf-8")
            path.chmod(0o644)
        return ImapAccount(name, secret, self.root / "mail" / name)

    def client(self, account: ImapAccount) -> IMAPClient:
        """A signed-in plain-text client, to put messages in place (APPEND) or look."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=5)
        client.login(account.username, account.password)
        return client

    def append(self, account: ImapAccount, message: bytes, *, folder: str = "INBOX") -> None:
        client = self.client(account)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, message)
        finally:
            client.logout()

    def doveadm(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run doveadm against this instance (e.g. `kick <user>` to cut connections)."""
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        return subprocess.run(  # noqa: S603 - fixed binary, test arguments
            [doveadm, "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )


def _dovecot_binary() -> str:
    found = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if found is None:
        pytest.fail("Dovecot is not installed (Debian: apt-get install dovecot-imapd)")
    return found


def _service_users() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid) for this process's privileges."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid
    # Dovecot refuses to run mail processes as root, so mail belongs to its own user.
    internal = _existing_user("dovecot") or "nobody"
    login = _existing_user("dovenull") or internal
    entry = pwd.getpwnam(internal)
    return internal, login, entry.pw_uid, entry.pw_gid


def _existing_user(name: str) -> str | None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return None
    return name


def _dovecot_config(root: Path, port: int, ssl_port: int, cert: Certificate) -> str:
    internal, login, uid, gid = _service_users()
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert.cert_path}
ssl_key = <{cert.key_path}
default_internal_user = {internal}
default_login_user = {login}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
first_valid_uid = {min(uid, 500)}
first_valid_gid = {min(gid, 500)}
mail_location = maildir:{root}/mail/%u
# IDLE learns of new mail through inotify; when the machine's inotify instances run out
# (many Dovecots and test processes at once) Dovecot falls back to this check, 30 s by default.
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No growing delay for an IP after failed logins: tests fail logins on purpose.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


@pytest.fixture(scope="session", name="dovecot")
def dovecot_fixture() -> Iterator[Dovecot]:
    binary = _dovecot_binary()
    root = Path(tempfile.mkdtemp(prefix="frontdesk-dovecot-"))
    # Dovecot's auth and login processes run as other users and must read the config dir.
    root.chmod(0o755)
    _, _, uid, gid = _service_users()
    mail = root / "mail"
    mail.mkdir()
    cert = make_certificate(root)
    (root / "users").mkdir(mode=0o755)
    for path in (cert.cert_path, cert.key_path):
        path.chmod(0o644)
    if os.geteuid() == 0:
        os.chown(mail, uid, gid)
    port, ssl_port = free_port(), free_port()
    config = root / "dovecot.conf"
    config.write_text(_dovecot_config(root, port, ssl_port, cert), encoding="utf-8")
    process = subprocess.Popen(  # noqa: S603 - the installed dovecot binary, our config
        [binary, "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = Dovecot(
        host="127.0.0.1",
        port=port,
        ssl_port=ssl_port,
        root=root,
        config=config,
        certificate=cert,
        mail_uid=uid,
        mail_gid=gid,
        process=process,
    )
    try:
        for each in (port, ssl_port):
            wait_for_port(each, timeout=STARTUP_TIMEOUT, alive=lambda: process.poll() is None)
    except (RuntimeError, TimeoutError) as error:
        _stop(process)
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        pytest.fail(f"Dovecot did not start: {error}\n{stderr}\n{server.log}")
    try:
        yield server
    finally:
        _stop(process)
        shutil.rmtree(root, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process.stderr is not None:
        process.stderr.close()


@pytest.fixture(name="imap_account")
def imap_account_fixture(dovecot: Dovecot) -> ImapAccount:
    """A fresh Dovecot user with an empty INBOX, for one test."""
    return dovecot.add_user()


# --- aiosmtpd -------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data)


@dataclass
class Refusal:
    reply: str  # the whole SMTP answer, e.g. "550 5.1.1 User unknown"
    times: int | None  # refusals left; None: every time


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        self.refused: dict[str, Refusal] = {}

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self.refused.get(address.lower())
        if refusal is not None and refusal.times != 0:
            if refusal.times is not None:
                refusal.times -= 1
            return refusal.reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        login = (
            session.auth_data.login.decode()
            if isinstance(session.auth_data, LoginPassword)
            else None
        )
        content = envelope.original_content or b""
        self.messages.append(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                data=content,
                login=login,
            )
        )
        return "250 Message accepted for delivery"


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@dataclass
class SmtpServer:
    host: str
    port: int  # plain, STARTTLS offered, AUTH allowed without TLS
    ssl_port: int  # implicit TLS
    username: str
    password: str
    certificate: Certificate
    recorder: _Recorder

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.recorder.messages

    def refuse(
        self,
        address: str,
        reply: str = "550 5.1.1 Recipient address rejected: User unknown",
        *,
        times: int | None = None,
    ) -> None:
        """Answer RCPT TO `address` with `reply` (`times` times, else always), for this test."""
        self.recorder.refused[address.lower()] = Refusal(reply, times)


@pytest.fixture(scope="session", name="smtp_server")
def smtp_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    cert = make_certificate(tmp_path_factory.mktemp("smtp-tls"))
    recorder = _Recorder()
    common: dict[str, Any] = {
        "hostname": "127.0.0.1",
        "authenticator": _authenticate,
        "auth_require_tls": False,
        "ready_timeout": STARTUP_TIMEOUT,
    }
    plain = Controller(recorder, port=free_port(), tls_context=cert.server_context(), **common)
    implicit = Controller(recorder, port=free_port(), ssl_context=cert.server_context(), **common)
    plain.start()
    try:
        implicit.start()
    except BaseException:
        plain.stop()
        raise
    try:
        yield SmtpServer(
            host="127.0.0.1",
            port=plain.port,
            ssl_port=implicit.port,
            username=SMTP_USER,
            password=SMTP_PASSWORD,
            certificate=cert,
            recorder=recorder,
        )
    finally:
        implicit.stop()
        plain.stop()


@pytest.fixture(name="smtp")
def smtp_fixture(smtp_server: SmtpServer) -> SmtpServer:
    """The session's SMTP server with an empty list of received messages, refusing nobody."""
    smtp_server.messages.clear()
    smtp_server.recorder.refused.clear()
    return smtp_server
