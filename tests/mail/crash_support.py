"""Helpers for the crash tests: generated mail, child processes that take it in, a TCP proxy
that cuts connections, and a private PostgreSQL server that can be restarted.

Everything listens on 127.0.0.1 and every wait is bounded by a time limit.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection

from tests.cli.conftest import cli_environment, frontdesk_command
from tests.mail.conftest import Dovecot, ImapAccount, free_port, wait_for_port

DOMAIN = "crash.example"
SENDERS = 40
STARTUP_TIMEOUT_S = 30.0

# --- the mail -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """Generated messages in delivery order, and what taking them in must give."""

    messages: list[bytes]
    message_ids: list[str]  # "<…@crash.example>", as the intake stores them
    conversations: int  # messages that answer no other one

    @property
    def total_bytes(self) -> int:
        return sum(len(raw) for raw in self.messages)


def generated_mail(count: int) -> Batch:
    """`count` messages from SENDERS customers; every fourth after the first round of
    senders answers its sender's previous message, so threading is exercised too.

    Each carries ~1.5 kB of text, so a fetch of them takes many TCP segments. Ids are
    unique per call: tests sharing a database or a Dovecot never meet each other's mail.
    """
    run = secrets.token_hex(4)
    messages: list[bytes] = []
    ids: list[str] = []
    replies = 0
    for index in range(count):
        message_id = f"<crash-{run}-{index}@{DOMAIN}>"
        answers = ids[index - SENDERS] if index >= SENDERS and index % 4 == 3 else ""
        replies += bool(answers)
        messages.append(_message(index, message_id, answers))
        ids.append(message_id)
    return Batch(messages, ids, count - replies)


def _message(index: int, message_id: str, in_reply_to: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {index % SENDERS} <customer{index % SENDERS}@{DOMAIN}>"
    message["To"] = "support@frontdesk.example"
    subject = f"Order {100000 + index % SENDERS} has not arrived"
    message["Subject"] = f"Re: {subject}" if in_reply_to else subject
    message["Date"] = "Mon, 1 Jun 2026 10:00:00 +0200"
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    lines = [f"Message {index}: the parcel has not arrived and tracking shows no change."] * 20
    message.set_content("\n".join(lines))
    return message.as_bytes()


def append_all(dovecot: Dovecot, account: ImapAccount, messages: Sequence[bytes]) -> None:
    """APPEND every message to the INBOX over one connection, in order (UIDs follow it)."""
    client = dovecot.client(account)
    try:
        for raw in messages:
            client.append("INBOX", raw)
    finally:
        client.logout()


def write_maildir(directory: Path, messages: Sequence[bytes]) -> Path:
    """A maildir holding the messages in delivery order (`frontdesk mail import` keeps it)."""
    import mailbox

    box = mailbox.Maildir(directory, create=True)
    try:
        for raw in messages:
            box.add(raw)
    finally:
        box.close()
    return directory


def imap_flagged(dovecot: Dovecot, account: ImapAccount, keyword: bytes) -> tuple[int, int]:
    """(messages in the INBOX, those carrying `keyword`), looked at read-only."""
    client = dovecot.client(account)
    try:
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        found = client.fetch(uids, ["FLAGS"]) if uids else {}
        return len(uids), sum(1 for item in found.values() if keyword in item[b"FLAGS"])
    finally:
        client.logout()


# --- counting what was taken in -------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """What the database holds of a batch, read by Message-ID."""

    inbound: Counter[str]  # InboundMessage rows per Message-ID
    messages: Counter[str]  # conversation messages per Message-ID
    conversations: int  # conversations holding the batch's messages
    quarantined: int

    def imported_once(self, batch: Batch) -> bool:
        every = Counter({message_id: 1 for message_id in batch.message_ids})
        return self.inbound == every and self.messages == every


def tally(batch: Batch) -> Tally:
    """Count through the ORM, on the test database."""
    from frontdesk.conversations.models import Message
    from frontdesk.mail.models import InboundMessage, Quarantine

    ids = batch.message_ids
    inbound = InboundMessage.objects.filter(email_message_id__in=ids)
    messages = Message.objects.filter(email_message_id__in=ids)
    return Tally(
        inbound=Counter(inbound.values_list("email_message_id", flat=True)),
        messages=Counter(messages.values_list("email_message_id", flat=True)),
        conversations=messages.values("conversation_id").distinct().count(),
        quarantined=Quarantine.objects.filter(sender__endswith=f"@{DOMAIN}").count(),
    )


def tally_sql(url: str, batch: Batch) -> Tally:
    """Count through psycopg, on a database this process's Django does not use."""
    import psycopg

    from frontdesk.conversations.models import Message
    from frontdesk.mail.models import InboundMessage, Quarantine

    ids = list(batch.message_ids)
    tables = {
        "inbound": InboundMessage._meta.db_table,
        "messages": Message._meta.db_table,
        "quarantine": Quarantine._meta.db_table,
    }
    with psycopg.connect(url, connect_timeout=5) as db, db.cursor() as cur:
        inbound = _count_by_id(cur, tables["inbound"], ids)
        messages = _count_by_id(cur, tables["messages"], ids)
        cur.execute(
            f"SELECT count(DISTINCT conversation_id) FROM {tables['messages']} "  # noqa: S608 - our table names
            "WHERE email_message_id = ANY(%s)",
            (ids,),
        )
        conversations = _one(cur)
        cur.execute(
            f"SELECT count(*) FROM {tables['quarantine']} WHERE sender LIKE %s",  # noqa: S608 - our table name
            (f"%@{DOMAIN}",),
        )
        quarantined = _one(cur)
    return Tally(inbound, messages, conversations, quarantined)


def _count_by_id(cur: Any, table: str, ids: list[str]) -> Counter[str]:
    cur.execute(
        f"SELECT email_message_id, count(*) FROM {table} "  # noqa: S608 - our table name
        "WHERE email_message_id = ANY(%s) GROUP BY email_message_id",
        (ids,),
    )
    return Counter({message_id: count for message_id, count in cur.fetchall()})


def _one(cur: Any) -> int:
    row = cur.fetchone()
    return int(row[0]) if row else 0


def inbound_count_sql(url: str) -> int:
    """Messages committed so far, or -1 while the database cannot be reached."""
    import psycopg

    from frontdesk.mail.models import InboundMessage

    try:
        with psycopg.connect(url, connect_timeout=2) as db, db.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {InboundMessage._meta.db_table}")  # noqa: S608 - our table
            return _one(cur)
    except psycopg.Error:
        return -1


def wait_until(predicate: Callable[[], bool], *, timeout_s: float, every_s: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every_s)
    return predicate()


# --- child processes ------------------------------------------------------------------------

# A worker in miniature: poll every mailbox until a round finds nothing new, riding out
# database outages as `frontdesk worker` does (a failed round is tried again). Prints the
# outcomes as JSON; exits 0 once a round was clean and found nothing.
POLLER = r"""
import json, sys, time
import django
django.setup()
from django import db
from frontdesk.mail.polling import poll_mailboxes
from frontdesk.mail.services import create_mailbox
from frontdesk.mail.models import Mailbox

rounds, seconds, mailbox = int(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
if mailbox and not Mailbox.objects.filter(email=mailbox["email"]).exists():
    create_mailbox(by=None, **mailbox)
deadline = time.monotonic() + seconds
totals, failures, done = {}, 0, False
for _ in range(rounds):
    if time.monotonic() > deadline:
        break
    try:
        results = poll_mailboxes()
    except db.Error as error:
        failures += 1
        print("round failed:", error, file=sys.stderr, flush=True)
        db.connections.close_all()
        time.sleep(0.3)
        continue
    for result in results:
        for outcome, count in result.outcomes.items():
            totals[outcome] = totals.get(outcome, 0) + count
    errors = [result.error for result in results if result.error]
    if errors:
        failures += 1
        print("poll failed:", errors, file=sys.stderr, flush=True)
        db.connections.close_all()
        time.sleep(0.3)
        continue
    if sum(result.fetched for result in results) == 0:
        done = True
        break
print(json.dumps({"outcomes": totals, "failures": failures, "done": done}), flush=True)
sys.exit(0 if done else 1)
"""


@dataclass(frozen=True)
class PollerReport:
    returncode: int
    outcomes: dict[str, int]
    failures: int
    done: bool
    stderr: str


def shared_database_url() -> str:
    """The test database as a URL another process can open."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{user}{password}@{host}/{db['NAME']}"


def child_environment(home: Path, database_url: str, secret_key: str) -> dict[str, str]:
    return cli_environment(
        home,
        FRONTDESK_DATABASE_URL=database_url,
        FRONTDESK_SECRET_KEY=secret_key,
        DJANGO_SETTINGS_MODULE="frontdesk.settings",
    )


def poller_command(
    *, rounds: int = 50, seconds: float = 120, mailbox: Mapping[str, Any] | None = None
) -> list[str]:
    return [sys.executable, "-c", POLLER, str(rounds), str(seconds), json.dumps(mailbox or {})]


def start_child(command: list[str], env: Mapping[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command,
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(process: subprocess.Popen[str], *, timeout_s: float) -> tuple[int, str, str]:
    """Wait for the child; a child still running at the time limit is killed (and fails)."""
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate(timeout=10)
        err += f"\n(killed after {timeout_s:.0f} s)"
    return process.returncode, out, err


def kill_hard(process: subprocess.Popen[str]) -> None:
    """SIGKILL, as the kernel's OOM killer or a pulled plug would: no cleanup runs."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


def poller_report(returncode: int, out: str, err: str) -> PollerReport:
    lines = [line for line in out.splitlines() if line.startswith("{")]
    data: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    return PollerReport(
        returncode,
        dict(data.get("outcomes", {})),
        int(data.get("failures", 0)),
        bool(data.get("done", False)),
        err,
    )


def run_poller(
    env: Mapping[str, str], cwd: Path, *, timeout_s: float = 120, **options: Any
) -> PollerReport:
    process = start_child(poller_command(seconds=timeout_s - 10, **options), env, cwd)
    return poller_report(*finish(process, timeout_s=timeout_s))


def import_command(path: Path, *, batch: int) -> list[str]:
    return frontdesk_command("mail", "import", str(path), "--json", "--batch", str(batch))


# --- a proxy that cuts connections ----------------------------------------------------------


@dataclass
class CuttingProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`target_port`, and drops a connection
    after `cut_after_server_bytes` bytes from the server, or when the client sends the
    `cut_at_command`-th command matching that name (the command itself is not forwarded).

    Both are per connection; set them to None for a proxy that only forwards. A TLS
    session passes through unchanged, so the server-bytes cut works under STARTTLS too.
    """

    target_port: int
    cut_after_server_bytes: int | None = None
    cut_at_command: tuple[bytes, int] | None = None
    port: int = 0
    cuts: int = 0
    _listener: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _sockets: list[socket.socket] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> CuttingProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.2)
        self._listener = listener
        self.port = int(listener.getsockname()[1])
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            every = [*self._sockets, *([self._listener] if self._listener else [])]
        for sock in every:
            _close(sock)
        for thread in list(self._threads):
            thread.join(timeout=5)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            server.settimeout(None)
            with self._lock:
                self._sockets.extend((client, server))
            pair = _Pair(client, server)
            self._spawn(self._pump_from_server, pair)
            self._spawn(self._pump_from_client, pair)

    def _pump_from_server(self, pair: _Pair) -> None:
        sent = 0
        while (chunk := _recv(pair.server)) is not None:
            limit = self.cut_after_server_bytes
            if limit is not None and sent + len(chunk) >= limit:
                _send(pair.client, chunk[: max(0, limit - sent)])
                self._cut(pair)
                return
            if not _send(pair.client, chunk):
                break
            sent += len(chunk)
        pair.close()

    def _pump_from_client(self, pair: _Pair) -> None:
        seen = 0
        partial = b""
        while (chunk := _recv(pair.client)) is not None:
            if self.cut_at_command is not None:
                name, nth = self.cut_at_command
                # Commands end with CRLF; one split over two reads is counted once whole.
                *lines, partial = (partial + chunk).split(b"\r\n")
                seen += sum(1 for line in lines if name in line.upper().split()[1:3])
                if seen >= nth:
                    self._cut(pair)
                    return
            if not _send(pair.server, chunk):
                break
        pair.close()

    def _cut(self, pair: _Pair) -> None:
        with self._lock:
            self.cuts += 1
        pair.close()


@dataclass
class _Pair:
    client: socket.socket
    server: socket.socket

    def close(self) -> None:
        _close(self.client)
        _close(self.server)


def _recv(sock: socket.socket) -> bytes | None:
    try:
        chunk = sock.recv(65536)
    except OSError:
        return None
    return chunk or None


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
    except OSError:
        return False
    return True


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@contextlib.contextmanager
def cutting_proxy(target_port: int, **cuts: Any) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(target_port, **cuts).start()
    try:
        yield proxy
    finally:
        proxy.stop()


# --- a private PostgreSQL -------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """The newest installed server's bin directory (Debian keeps one per major version)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: [int(p) if p.isdigit() else 0 for p in path.parts[-3].split(".")],
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path and Path(on_path).with_name("initdb").exists() else None


def _server_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: then it runs as `postgres` (None: as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and no `postgres` user to run PostgreSQL as")


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of the test's own, in a temporary directory, on a free port:
    restarting it disturbs nobody else. Trust authentication, 127.0.0.1 only."""

    bin_dir: Path
    root: Path
    port: int
    user: pwd.struct_passwd | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
        self._pg_ctl("start", "-o", options)
        wait_for_port(self.port, timeout=STARTUP_TIMEOUT_S)

    def restart(self, mode: str = "immediate") -> None:
        """Stop (`immediate` is a crash: no checkpoint, WAL replayed at start) and start."""
        self._pg_ctl("restart", "-m", mode)

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast", check=False)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        import psycopg
        from psycopg import sql

        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as db:
            db.execute(statement)
        return self.url(name)

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        command = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l",
                   str(self.root / "server.log"), "-w", "-t", "60", *args]  # fmt: skip
        result = self._run(command, timeout_s=90)
        if check and result.returncode != 0:
            raise RuntimeError(f"pg_ctl {args[0]} failed: {result.stderr}\n{self.log[-3000:]}")

    def _run(self, command: list[str], *, timeout_s: float) -> subprocess.CompletedProcess[str]:
        if self.user is not None:
            command = ["runuser", "-u", self.user.pw_name, "--", *command]
        return subprocess.run(  # noqa: S603 - the installed PostgreSQL binaries, our arguments
            command,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            cwd=self.root,
        )


def start_private_postgres(bin_dir: Path) -> PrivatePostgres:
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="frontdesk-pg-"))
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    server = PrivatePostgres(bin_dir, root, free_port(), user)
    initdb = [str(bin_dir / "initdb"), "-D", str(server.data), "-U", "postgres",
              "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]  # fmt: skip
    result = server._run(initdb, timeout_s=120)
    if result.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {result.stderr}")
    server.start()
    return server


def remove_private_postgres(server: PrivatePostgres) -> None:
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


def migrate(url: str, home: Path, secret_key: str, *, timeout_s: float = 300) -> None:
    """Bring a database's schema up to date in a child process, as a deployment would."""
    env = child_environment(home, url, secret_key)
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=home.parent,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"migrate failed: {result.stderr[-3000:]}")
