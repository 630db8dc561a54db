"""The `frontdesk` command line: init, serve, worker, demo, check, token, mail.

Every failure a user can cause — a bad option, an unreachable database, a port
in use, migrations not applied, a refused service call — ends as one line on
stderr and a non-zero exit code, never a traceback:

    1  the command was refused or could not do its work
    2  the command line itself was wrong (unknown option, missing value)
    3  the database or Redis could not be reached

Django is set up only after the arguments parse, so `--help` and usage errors
work without any configuration, and `init` can store the secret key before the
settings read it.
"""

from __future__ import annotations

import argparse
import errno
import getpass
import os
import re
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured
from django.db import Error as DatabaseError

from frontdesk.core.config import (
    database_url,
    env_secret,
    frontdesk_home,
    generate_secret_key,
    load_dotenv_file,
    stored_secret_key_path,
)
from frontdesk.core.errors import ServiceError

if TYPE_CHECKING:
    from frontdesk.accounts.models import User
    from frontdesk.mail.idle import IdleSupervisor

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

DEFAULT_ADMIN_EMAIL = "admin@example.com"
FIRST_LOGIN_FILENAME = "initial_admin_password"
PROMPT_ATTEMPTS = 3

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[Any], Awaitable[None]]


class CommandError(Exception):
    """A failure to report as one line, with the exit code it deserves."""

    def __init__(self, message: str, *, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def one_line(exc: BaseException) -> str:
    """Database drivers write several lines with tabs; a user needs one."""
    return " ".join(str(exc).split()) or type(exc).__name__


def masked_url(url: str) -> str:
    """`url` with its password replaced by ***, safe to print and log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


# --- argument parsing -----------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage first; one line that points at --help is clearer.
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} must be 1 or more")
    return value


def _port(raw: str) -> int:
    value = _positive_int(raw)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a TCP port (1-65535)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="frontdesk", description="Frontdesk, the open-source help desk.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    init = commands.add_parser(
        "init",
        help="create the data directory, apply migrations and create the first admin",
        description="Create FRONTDESK_HOME and its secret key, apply migrations and create "
        "the first admin. Safe to run again: it never creates a second admin.",
    )
    init.add_argument("--admin-email", metavar="EMAIL", help="the first admin's email")
    init.add_argument("--admin-password", metavar="PASSWORD", help="the first admin's password")
    init.set_defaults(run=cmd_init)

    serve = commands.add_parser(
        "serve",
        help="serve the web app and API (with an embedded task worker)",
        description="Serve Frontdesk over HTTP with uvicorn. Unless --no-worker is given, a "
        "task worker and the periodic scheduler run in the same process.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="TCP port (8000)")
    serve.add_argument("--workers", type=_positive_int, default=1, help="web server processes (1)")
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not run background tasks here; run `frontdesk worker` instead",
    )
    serve.set_defaults(run=cmd_serve)

    worker = commands.add_parser(
        "worker",
        help="run background tasks and periodic jobs until stopped",
        description="Run the task worker and the periodic scheduler until SIGTERM or SIGINT. "
        "Start as many as you like: each periodic job still runs once per interval.",
    )
    worker.set_defaults(run=cmd_worker)

    demo = commands.add_parser(
        "demo",
        help="load realistic multilingual demo data",
        description="Load demo teams, agents, customers and conversations.",
    )
    demo.add_argument("--conversations", type=_positive_int, default=1000, help="how many (1000)")
    demo.add_argument("--seed", type=int, default=7, help="random seed; same seed, same data (7)")
    demo.set_defaults(run=cmd_demo)

    check = commands.add_parser(
        "check",
        help="print the configuration and test database and Redis connectivity",
        description="Print the configuration (passwords masked) and test that the database "
        "and Redis answer and that migrations are applied.",
    )
    check.set_defaults(run=cmd_check)

    token = commands.add_parser("token", help="manage API tokens for integrators")
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_commands.add_parser(
        "create",
        help="print a new API token for a user",
        description="Create an API token for a staff user and print it. It is shown only "
        "once: store it now.",
    )
    create.add_argument("--user", required=True, metavar="EMAIL", help="the token's owner")
    create.add_argument(
        "--expires-days", type=_positive_int, metavar="N", help="expire after N days"
    )
    create.add_argument("--name", default="", help="a label to recognise the token by")
    create.set_defaults(run=cmd_token_create)

    mail = commands.add_parser("mail", help="the email channel")
    mail_commands = mail.add_subparsers(dest="mail_command", metavar="ACTION", required=True)
    mail_import = mail_commands.add_parser(
        "import",
        help="take in mail from a .eml file, a directory of them, a maildir or an mbox",
        description="Take in every message found at PATH through the same intake as IMAP "
        "polling. Safe to run again: mail already taken in counts as a duplicate.",
    )
    mail_import.add_argument("path", metavar="PATH", help=".eml file, directory, maildir or mbox")
    mail_import.add_argument("--json", action="store_true", help="print one JSON object")
    mail_import.add_argument(
        "--mailbox", metavar="EMAIL", help="the mailbox the mail was sent to (its default team)"
    )
    mail_import.add_argument(
        "--batch",
        type=_positive_int,
        default=50,
        metavar="N",
        help="messages committed together (50); 1 commits each on its own",
    )
    mail_import.set_defaults(run=cmd_mail_import)
    mail_listen = mail_commands.add_parser(
        "listen",
        help="take in mail that a mail server delivers over SMTP or LMTP, until stopped",
        description="Listen for the mail a mail server (Postfix, Exim) delivers to the "
        "mailboxes' addresses and take it in through the same intake as IMAP polling. A "
        "message is answered 250 only once it is stored; if storing fails the answer is 451 "
        "and the mail server tries again. Addresses without a mailbox are refused. Runs until "
        "SIGTERM or SIGINT.",
    )
    mail_listen.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    mail_listen.add_argument("--port", type=_port, default=8025, help="TCP port (8025)")
    mail_listen.add_argument(
        "--lmtp", action="store_true", help="speak LMTP (RFC 2033) instead of SMTP"
    )
    mail_listen.set_defaults(run=cmd_mail_listen)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv_file()
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (
        CommandError,
        ImproperlyConfigured,
        ServiceError,
        DatabaseError,
        EOFError,
        KeyboardInterrupt,
    ) as exc:
        message, code = describe_failure(exc)
        return _fail(message, code)


def describe_failure(exc: BaseException) -> tuple[str, int]:
    """The one line and exit code for a failure a user can cause."""
    if isinstance(exc, CommandError):
        return str(exc), exc.code
    if isinstance(exc, ImproperlyConfigured):
        return f"configuration error: {one_line(exc)}", EXIT_FAILED
    if isinstance(exc, ServiceError):
        return (f"{exc.field}: " if exc.field else "") + exc.detail, EXIT_FAILED
    if isinstance(exc, DatabaseError):
        return f"database error: {one_line(exc)}", EXIT_UNREACHABLE
    if isinstance(exc, EOFError):
        return "input ended before all answers were given", EXIT_FAILED
    return "interrupted", 130


def _fail(message: str, code: int) -> int:
    print(f"frontdesk: {message}", file=sys.stderr)
    return code


# --- shared steps ---------------------------------------------------------------------------


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")
    import django

    django.setup()


def require_database(*, create: bool = False) -> None:
    """Connect once; `create` lets SQLite make a new database file (only init should)."""
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and not create and not _in_memory(name):
        path = Path(name)
        if not path.exists():
            raise CommandError(f"no database at {path}: run `frontdesk init`")
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        url = masked_url(database_url(frontdesk_home()))
        raise CommandError(
            f"cannot connect to the database at {url}: {one_line(exc)}", code=EXIT_UNREACHABLE
        ) from None


def _in_memory(sqlite_name: str) -> bool:
    return sqlite_name == ":memory:" or sqlite_name.startswith("file:")


def pending_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def require_migrated() -> None:
    if pending_migrations():
        raise CommandError("migrations pending: run `frontdesk init`")


def ensure_secret_key(home: Path) -> bool:
    """Store a new secret key in `home` unless one is configured; True if one was made."""
    if env_secret("FRONTDESK_SECRET_KEY"):
        return False
    path = stored_secret_key_path(home)
    try:
        # O_EXCL: two inits at once must not each write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise CommandError(f"cannot write the secret key to {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(generate_secret_key() + "\n")
    return True


# --- init -----------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    home = frontdesk_home()
    try:
        # Owner-only: the directory holds the secret key and the database.
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"cannot create FRONTDESK_HOME {home}: {exc.strerror}") from None
    made_key = ensure_secret_key(home)
    setup_django()
    require_database(create=True)

    from django.core.management import call_command

    print(f"Frontdesk home: {home}")
    if made_key:
        print(f"Secret key: stored in {stored_secret_key_path(home)}")
    call_command("migrate", interactive=False, verbosity=0)
    print("Database: migrations applied")
    _ensure_admin(args, home)
    return EXIT_OK


def _ensure_admin(args: argparse.Namespace, home: Path) -> None:
    from frontdesk.accounts.models import Role, User

    existing = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    if existing is not None:
        print(f"Admin: {existing.email} (already exists; no new admin created)")
        stored = home / FIRST_LOGIN_FILENAME
        if stored.exists():
            print(f"Its first password is in {stored}")
        return
    interactive = sys.stdin.isatty() and (args.admin_email is None or args.admin_password is None)
    for attempt in range(1, PROMPT_ATTEMPTS + 1):
        email, password, generated = _admin_credentials(args, interactive=interactive)
        try:
            admin = _create_admin(email, password)
        except ServiceError as exc:
            if not interactive or attempt == PROMPT_ATTEMPTS:
                raise
            print(exc.detail, file=sys.stderr)
            continue
        break
    if generated:
        _store_initial_password(home, password)
    print(f"Admin login: {admin.email}")
    if generated:
        print(f"Password:    {password}")
        print(f"(also stored in {home / FIRST_LOGIN_FILENAME}; change it after signing in)")


def _admin_credentials(args: argparse.Namespace, *, interactive: bool) -> tuple[str, str, bool]:
    """Flags first; prompt for what is missing on a terminal; otherwise defaults."""
    email = args.admin_email
    password = args.admin_password
    if email is None:
        email = DEFAULT_ADMIN_EMAIL
        if interactive:
            email = input(f"Admin email [{DEFAULT_ADMIN_EMAIL}]: ").strip() or DEFAULT_ADMIN_EMAIL
    if password is None and interactive:
        password = getpass.getpass("Admin password (empty to generate one): ")
        if password and getpass.getpass("Again: ") != password:
            raise CommandError("the passwords differ")
    if password:
        return email, password, False
    return email, secrets.token_urlsafe(12), True


def _create_admin(email: str, password: str) -> User:
    from frontdesk.accounts.models import Role
    from frontdesk.accounts.services import create_user
    from frontdesk.core.models import Via

    return create_user(by=None, email=email, password=password, role=Role.ADMIN, via=Via.CLI)


def _store_initial_password(home: Path, password: str) -> None:
    path = home / FIRST_LOGIN_FILENAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password + "\n")


# --- serve and worker -----------------------------------------------------------------------


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind now, so a busy port is one clear line and nobody can take it before uvicorn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio enables TCP_NODELAY only when sock.proto says TCP,
    # and without it every kept-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # Like uvicorn: connections of a previous run in TIME_WAIT must not block a restart.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if isinstance(exc, socket.gaierror):
            raise CommandError(f"cannot listen on {host}: unknown address") from None
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(f"port {port} is in use") from None
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


class WebApplication:
    """The Django ASGI app with the static files (Django admin's CSS and JS) in front."""

    def __init__(self) -> None:
        from django.conf import settings
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        from frontdesk.asgi import application, django_asgi_app

        self.application = application
        self.static = ASGIStaticFilesHandler(django_asgi_app)
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(self.static_prefix):
            await self.static(dict(scope), receive, send)
        else:
            await self.application(scope, receive, send)


def web_application() -> WebApplication:
    """uvicorn's factory; each web process builds its own app."""
    setup_django()
    return WebApplication()


def cmd_serve(args: argparse.Namespace) -> int:
    setup_django()

    import uvicorn
    from django.db import connection
    from uvicorn.supervisors import Multiprocess

    from frontdesk.core.worker import BackgroundWorker

    require_database()
    require_migrated()
    connection.close()
    sock = bind_socket(args.host, args.port)
    config = uvicorn.Config(
        "frontdesk.cli:web_application",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        lifespan="off",
    )
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # uvicorn re-raises the signal it shut down on; catching it here lets the
        # embedded worker finish its task instead of the process dying mid-write.
        stopping.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    background = None if args.no_worker else BackgroundWorker()
    idle = None if background is None else idle_supervisor(background.worker_id)
    print(f"Frontdesk at http://{args.host}:{args.port}/ (Ctrl+C to stop)", flush=True)
    try:
        if background is not None:
            background.start()
        if idle is not None:
            idle.start()
        if args.workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            server = uvicorn.Server(config)
            server.run(sockets=[sock])
            if not server.started and not stopping.is_set():
                raise CommandError("the web server did not start (see the log above)")
    finally:
        if background is not None:
            background.stop()
        if idle is not None:
            idle.stop()
        sock.close()
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    setup_django()

    from django.db import connection

    from frontdesk.core.worker import BackgroundWorker, run_until_signalled

    require_database()
    require_migrated()
    connection.close()
    background = BackgroundWorker()
    run_until_signalled(
        background,
        banner=f"Frontdesk worker {background.worker_id} (Ctrl+C to stop)",
        companions=[idle_supervisor(background.worker_id)],
    )
    return EXIT_OK


def idle_supervisor(worker_id: str) -> IdleSupervisor:
    """The IMAP IDLE watchers of a worker (mail/idle.py), under the worker's id as lease owner."""
    from frontdesk.mail.idle import IdleSupervisor

    return IdleSupervisor(owner=worker_id)


# --- demo -----------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    setup_django()
    require_database()
    require_migrated()

    from frontdesk.demo import DEMO_PASSWORD, load_demo

    summary = load_demo(conversations=args.conversations, seed=args.seed)
    print(f"Demo data loaded (seed {args.seed}):")
    for key, value in summary.items():
        print(f"  {key}: {value}")
    print(f"Demo agents (…@frontdesk.example) sign in with the password {DEMO_PASSWORD}")
    return EXIT_OK


# --- check ----------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    setup_django()

    from django.conf import settings
    from django.db import connection

    home = frontdesk_home()
    db = connection.settings_dict
    print("Configuration")
    _row("home", str(home))
    _row("database", f"{connection.vendor} {masked_url(database_url(home))}")
    _row("redis", masked_url(settings.REDIS_URL) if settings.REDIS_URL else "not set (in-process)")
    _row("debug", "true" if settings.DEBUG else "false")
    _row("allowed hosts", ", ".join(settings.ALLOWED_HOSTS) or "(none)")
    _row("secret key", _secret_key_source(home))
    _row("task backend", str(settings.TASKS["default"]["BACKEND"]))

    problems: list[str] = []
    print("Checks")
    try:
        require_database()
    except CommandError as exc:
        _row("database", "FAILED")
        problems.append(str(exc))
        code = exc.code
    else:
        _row("database", f"ok ({db['NAME']})")
        code = EXIT_OK
        pending = pending_migrations()
        if pending:
            _row("migrations", f"{len(pending)} pending")
            problems.append("migrations pending: run `frontdesk init`")
            code = EXIT_FAILED
        else:
            _row("migrations", "applied")
    if settings.REDIS_URL:
        error = _redis_error(settings.REDIS_URL)
        _row("redis", "FAILED" if error else "ok")
        if error:
            problems.append(f"cannot connect to Redis at {masked_url(settings.REDIS_URL)}: {error}")
            code = EXIT_UNREACHABLE
    else:
        _row("redis", "not configured")
    if problems:
        raise CommandError("; ".join(problems), code=code)
    print("All checks passed.")
    return EXIT_OK


def _row(label: str, value: str) -> None:
    print(f"  {label + ':':<15}{value}")


def _secret_key_source(home: Path) -> str:
    if os.environ.get("FRONTDESK_SECRET_KEY"):
        return "from FRONTDESK_SECRET_KEY"
    if os.environ.get("FRONTDESK_SECRET_KEY_FILE"):
        return "from FRONTDESK_SECRET_KEY_FILE"
    path = stored_secret_key_path(home)
    if path.exists():
        return f"stored in {path}"
    return "not set: a temporary one is used until `frontdesk init`"


def _redis_error(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
    except (redis.RedisError, ValueError, OSError) as exc:
        return one_line(exc)
    return None


# --- token ----------------------------------------------------------------------------------


def cmd_token_create(args: argparse.Namespace) -> int:
    setup_django()
    require_database()
    require_migrated()

    from frontdesk.accounts.models import User
    from frontdesk.accounts.services import create_api_token
    from frontdesk.core.models import Via

    user = User.objects.filter(email__iexact=args.user.strip()).first()
    if user is None:
        raise CommandError(f"no user with the email {args.user}")
    token, raw = create_api_token(
        user, by=None, name=args.name, expires_days=args.expires_days, via=Via.CLI
    )
    expiry = f", expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
    print(f"API token for {user.email}{expiry}; it is shown only once:", file=sys.stderr)
    print(raw)
    return EXIT_OK


# --- mail -----------------------------------------------------------------------------------


def cmd_mail_import(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.exists():
        raise CommandError(f"no such file or directory: {path}")
    setup_django()
    require_database()
    require_migrated()

    import json

    from frontdesk.mail.intake import ingest_in_batches
    from frontdesk.mail.models import Mailbox

    mailbox = None
    if args.mailbox is not None:
        mailbox = Mailbox.objects.filter(email__iexact=args.mailbox.strip()).first()
        if mailbox is None:
            raise CommandError(f"no mailbox with the address {args.mailbox}")
    counts = {
        "messages": 0,
        "conversations_created": 0,
        "threaded": 0,
        "quarantined": 0,
        "duplicates": 0,
        "ignored": 0,
    }
    field = {"created": "conversations_created", "duplicate": "duplicates"}
    mails = ((raw, f"import:{label}") for label, raw in mail_sources(path))
    # An archive holds many messages per sender: the rate limit is for live traffic.
    # With a core to spare, a worker parses each batch while the one before is written.
    parse_ahead = (os.cpu_count() or 1) > 1
    for result in ingest_in_batches(
        mails, mailbox=mailbox, batch_size=args.batch, rate_limit=False, parse_ahead=parse_ahead
    ):
        counts["messages"] += 1
        counts[field.get(result.outcome, result.outcome)] += 1
    if args.json:
        print(json.dumps(counts))
    else:
        print(
            f"{counts['messages']} messages: {counts['conversations_created']} new conversations, "
            f"{counts['threaded']} added to conversations, {counts['quarantined']} quarantined, "
            f"{counts['duplicates']} duplicates, {counts['ignored']} ignored"
        )
    return EXIT_OK


def cmd_mail_listen(args: argparse.Namespace) -> int:
    setup_django()

    from django.db import connection

    from frontdesk.mail.listener import ListenerController, quieten_session_log

    require_database()
    require_migrated()
    connection.close()
    quieten_session_log()
    sock = bind_socket(args.host, args.port)
    listener = ListenerController(sock, lmtp=args.lmtp)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise SystemExit(EXIT_FAILED)  # a second signal: no more waiting
        stop.set()

    # Before the port answers: whoever sees it answer may send SIGTERM at once.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        listener.start()
    except Exception as exc:
        listener.stop(no_assert=True, grace_s=0)
        sock.close()
        raise CommandError(f"the mail listener did not start: {one_line(exc)}") from None
    protocol = listener.protocol.upper()
    print(f"Frontdesk {protocol} listener on {args.host}:{args.port} (Ctrl+C to stop)", flush=True)
    try:
        while not stop.wait(3600):
            pass
    finally:
        # Messages already in the intake are still answered; the MTA retries the rest.
        listener.stop()
        sock.close()
    return EXIT_OK


def mail_sources(path: Path) -> Iterator[tuple[str, bytes]]:
    """(label, raw bytes) of each message at `path`: .eml, a directory of them, maildir, mbox."""
    import mailbox

    try:
        if path.is_dir():
            if (path / "cur").is_dir() or (path / "new").is_dir():
                maildir = mailbox.Maildir(path, factory=None, create=False)
                for key in sorted(maildir.iterkeys(), key=_delivery_order):
                    yield f"{path}/{key}", maildir.get_bytes(key)
                return
            files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".eml" and p.is_file())
            if not files:
                raise CommandError(f"no .eml files and no maildir in {path}")
            for file in files:
                yield str(file), file.read_bytes()
            return
        with path.open("rb") as handle:
            mbox_like = handle.read(5) == b"From "
        if mbox_like and path.suffix.lower() != ".eml":
            box = mailbox.mbox(path, factory=None, create=False)
            for key in box.iterkeys():
                yield f"{path}#{key}", box.get_bytes(key)
            return
        yield str(path), path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or one_line(exc)}") from None


def _delivery_order(key: str) -> list[int | str]:
    """Maildir names start with the delivery time followed by unpadded counters
    ("1700000000.M99P7" is older than "1700000000.M100P7"): compare their numbers as numbers,
    so a reply is taken in after the message it answers."""
    return [int(part) if i % 2 else part for i, part in enumerate(re.split(r"(\d+)", key))]


if __name__ == "__main__":
    sys.exit(main())
