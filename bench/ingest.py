"""Benchmark the email intake: generate a maildir, import it, print one JSON object.

    python bench/ingest.py [--messages 10000] [--seed 1] [--batch 50] [--no-parse-ahead]
                           [--reuse] [--profile FILE] [--time-reactions]

Writes N generated messages (plain text, HTML with text, replies that thread onto
earlier messages by In-Reply-To, attachments, several charsets, a few duplicates
and unreadable ones) into a maildir in a temporary directory, then takes them in
through the same call as `frontdesk mail import` (`ingest_in_batches` over the
maildir in delivery order, --batch messages a transaction, parsed ahead in a
worker process on a machine with two CPUs or more, without the rate limit) into
the database at FRONTDESK_DATABASE_URL, which must be PostgreSQL. The database is
created when it does not exist, and migrated; one that already holds
conversations is refused unless --reuse. Progress goes to stderr, the figures to
stdout.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import json
import logging
import os
import platform
import quopri
import random
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

if __package__ in (None, ""):
    # Run as `python bench/ingest.py`: make the repository root importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import texts  # noqa: E402

TARGET_PER_S = 200
SUPPORT = "Support <support@frontdesk.example>"
DOMAINS = (
    "example.com", "example.org", "mail.example.net", "firma.example.pl", "seznam.example.cz",
    "yandex.example.ru", "example.co.id", "example.co.th", "example.de",
)  # fmt: skip

# Of every 1,000 messages: replies, HTML with text, attachments, auto-replies,
# copies delivered twice, and mail without a sender (which goes to the quarantine).
REPLY = 300
HTML = 450
ATTACHMENT = 40
AUTO_REPLY = 10
DUPLICATE = 5
NO_SENDER = 3

# Each script's charsets as mail programs use them; Python's name where it differs.
CHARSETS = {
    "thai": ("utf-8", "tis-620", "windows-874"),
    "cyrillic": ("utf-8", "koi8-r", "windows-1251"),
    "latin2": ("utf-8", "iso-8859-2", "windows-1250"),
    "latin": ("utf-8", "us-ascii", "iso-8859-1"),
}
PYTHON_CODEC = {"windows-874": "cp874"}
LATIN2_LETTERS = set("ąćęłńóśźżčďěňřšťůžáéíýúĄĆĘŁŃÓŚŹŻČĎĚŇŘŠŤŮŽ")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/ingest.py", description="Generate mail, import it, print JSON figures."
    )
    parser.add_argument("--messages", type=int, default=10_000, help="messages to generate")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument(
        "--reuse", action="store_true", help="import into a database that has conversations"
    )
    parser.add_argument("--maildir", help="write the maildir here (kept) instead of a temp dir")
    parser.add_argument("--profile", help="write cProfile stats of the import to this file")
    parser.add_argument(
        "--seconds", type=float, default=1800, help="stop the import after this long (1800)"
    )
    parser.add_argument(
        "--batch", type=int, default=50, help="messages per transaction, as `--batch` (50)"
    )
    parser.add_argument(
        "--parse-ahead",
        action=argparse.BooleanOptionalAction,
        default=(os.cpu_count() or 1) > 1,
        help="parse each batch in a worker process while the one before is written "
        "(as the import does: on with two CPUs or more)",
    )
    parser.add_argument(
        "--time-reactions",
        action="store_true",
        help="time each reaction to the domain events; adds `reactions_per_message`",
    )
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    if args.batch < 1:
        parser.error("--batch must be at least 1")
    return args


# --- generating the mail --------------------------------------------------------------------


def script_of(text: str) -> str:
    if any("\u0e00" <= ch <= "\u0e7f" for ch in text):
        return "thai"
    if any("\u0400" <= ch <= "\u04ff" for ch in text):
        return "cyrillic"
    if any(ch in LATIN2_LETTERS for ch in text):
        return "latin2"
    return "latin"


def codec(charset: str) -> str:
    return PYTHON_CODEC.get(charset, charset)


def fits(text: str, charset: str) -> bool:
    try:
        text.encode(codec(charset))
    except UnicodeEncodeError:
        return False
    return True


def encoded_words(text: str, charset: str, rng: random.Random) -> str:
    """`text` as RFC 2047 words (B or Q) when it is not plain ASCII, else as it is."""
    if text.isascii():
        return text
    data = text.encode(codec(charset))
    if rng.random() < 0.5:
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    q = "".join(
        chr(b) if chr(b).isalnum() and b < 128 else "_" if b == 32 else f"={b:02X}" for b in data
    )
    return f"=?{charset}?Q?{q}?="


def body_part(ctype: str, text: str, charset: str, rng: random.Random) -> bytes:
    """One text part, transfer-encoded the way clients do it for that charset."""
    data = text.encode(codec(charset))
    if data.isascii():
        cte, payload = "7bit", data
    elif rng.random() < 0.5:
        cte, payload = "base64", base64.encodebytes(data)
    else:
        cte, payload = "quoted-printable", quopri.encodestring(data)
    head = f"Content-Type: {ctype}; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n"
    return head.encode() + payload + (b"" if payload.endswith(b"\n") else b"\n")


def multipart(subtype: str, parts: Sequence[bytes], boundary: str) -> bytes:
    out = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n'.encode()
    out += b"This is a multi-part message in MIME format.\n"
    for item in parts:
        out += f"\n--{boundary}\n".encode() + item
    return out + f"\n--{boundary}--\n".encode()


def attachment(rng: random.Random) -> bytes:
    """A PDF, a photo or a spreadsheet export, 5 to 200 kB."""
    size = rng.randrange(5_000, 200_000)
    kind = rng.choice(("pdf", "jpg", "csv"))
    if kind == "pdf":
        ctype, name, data = "application/pdf", "invoice.pdf", b"%PDF-1.4\n" + rng.randbytes(size)
    elif kind == "jpg":
        ctype, name, data = "image/jpeg", "photo.jpg", b"\xff\xd8\xff\xe0" + rng.randbytes(size)
    else:
        ctype, name = "text/csv", "zamówienia.csv"
        data = b"order;amount\n" + b"".join(
            f"{rng.randrange(10**5, 10**6)};{rng.randrange(1, 999)}\n".encode()
            for _ in range(size // 12)
        )
    if name.isascii():
        type_name, disposition = name, f'filename="{name}"'
    else:
        # RFC 2231, as most clients write a non-ASCII file name.
        type_name = "file" + Path(name).suffix
        disposition = "filename*=utf-8''" + "".join(f"%{b:02X}" for b in name.encode())
    head = (
        f'Content-Type: {ctype}; name="{type_name}"\n'
        "Content-Transfer-Encoding: base64\n"
        f"Content-Disposition: attachment; {disposition}\n\n"
    )
    return head.encode() + base64.encodebytes(data)


@dataclass(frozen=True)
class Sent:
    """What a later reply needs of a message: its ids, sender, subject and first line."""

    message_id: str
    references: tuple[str, ...]
    name: str
    address: str
    subject: str
    line: str
    charset: str


@dataclass
class Generated:
    count: int = 0
    bytes: int = 0
    expected: Counter[str] = field(default_factory=Counter)


class MailMaker:
    """Makes the messages one by one; keeps only what replies and copies need."""

    def __init__(self, seed: int, messages: int) -> None:
        self.rng = random.Random(seed)
        self.run = secrets.token_hex(3)
        customers = max(10, messages // 5)
        self.customers = [self._customer(i) for i in range(customers)]
        self.sent: list[Sent] = []
        self.raws: list[bytes] = []  # recent ones, for copies delivered twice
        self.start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
        self.index = 0

    def _customer(self, index: int) -> tuple[str, str]:
        first, last = self.rng.choice(texts.FIRST_NAMES), self.rng.choice(texts.LAST_NAMES)
        ascii_last = last.encode("ascii", "ignore").decode().lower() or "x"
        address = f"{first.lower()}.{ascii_last}{index}@{self.rng.choice(DOMAINS)}"
        return f"{first} {last}", address

    def next(self) -> tuple[bytes, str]:
        """The next message and what the intake must do with it."""
        self.index += 1
        roll = self.rng.randrange(1000)
        if roll < DUPLICATE and self.raws:
            return self.rng.choice(self.raws), "duplicates"
        roll -= DUPLICATE
        if roll < NO_SENDER:
            return self._message(anonymous=True), "quarantined"
        roll -= NO_SENDER
        replying = self.sent and roll < REPLY + AUTO_REPLY
        if replying:
            earlier = self.rng.choice(self.sent[-3000:])
            raw = self._message(answers=earlier, auto=roll < AUTO_REPLY)
            return raw, "threaded"
        return self._message(), "created"

    def _message(
        self,
        *,
        anonymous: bool = False,
        answers: Sent | None = None,
        auto: bool = False,
    ) -> bytes:
        rng = self.rng
        lines = rng.choices(texts.SENTENCES, k=rng.randint(2, 8))
        text_script = script_of(" ".join(lines))
        charset = rng.choice(CHARSETS[text_script])
        if not fits(" ".join(lines), charset):
            charset = "utf-8"
        if answers is not None:
            name, address = answers.name, answers.address
            subject = answers.subject.removeprefix("Re: ")
            subject = f"Re: {subject}"
            if auto:
                subject = f"Automatic reply: {answers.subject}"
        elif anonymous:
            name, address = "", ""
            subject = self._subject()
        else:
            name, address = rng.choice(self.customers)
            subject = self._subject()
        if not fits(subject, charset) or not fits(name, charset):
            charset = "utf-8"
        at = self.start + timedelta(seconds=self.index * 37)
        host = address.split("@")[-1] if address else "unknown.example"
        message_id = f"<{self.index}.{self.run}.{rng.getrandbits(32):08x}@{host}>"
        headers = [
            "Received: from mx.example.net (mx.example.net [192.0.2.10]) by mx.frontdesk.example",
            f"Date: {format_datetime(at)}",
            f"To: {SUPPORT}",
            f"Subject: {encoded_words(subject, charset, rng)}",
            f"Message-ID: {message_id}",
            "MIME-Version: 1.0",
        ]
        if address:
            headers.insert(1, f"From: {encoded_words(name, charset, rng)} <{address}>")
        references: tuple[str, ...] = ()
        if answers is not None:
            references = (*answers.references[-10:], answers.message_id)
            headers.append(f"In-Reply-To: {answers.message_id}")
            headers.append("References: " + "\n ".join(references))
        if auto:
            headers.append("Auto-Submitted: auto-replied")
        body = self._body(lines, answers, at, charset, with_files=rng.randrange(1000) < ATTACHMENT)
        raw = ("\n".join(headers) + "\n").encode() + body
        if address:
            self.sent.append(
                Sent(message_id, references, name, address, subject, lines[0], charset)
            )
        self.raws = [*self.raws[-50:], raw]
        return raw

    def _subject(self) -> str:
        template = self.rng.choice(texts.SUBJECT_TEMPLATES)
        return template.format(n=self.rng.randrange(100_000, 999_999), d=self.rng.randrange(2, 90))

    def _body(
        self,
        lines: list[str],
        answers: Sent | None,
        at: datetime,
        charset: str,
        *,
        with_files: bool,
    ) -> bytes:
        rng = self.rng
        text = "\n\n".join(lines) + "\n\n-- \nSent from my phone\n"
        quote_line = answers.line if answers is not None and fits(answers.line, charset) else ""
        if answers is not None:
            when = format_datetime(at - timedelta(hours=3))
            text += f"\nOn {when}, {SUPPORT} wrote:\n> {quote_line}\n>\n> Kind regards\n"
        boundary = f"b{rng.getrandbits(48):012x}"
        if rng.randrange(1000) < HTML:
            paragraphs = "".join(f"<p>{line}</p>" for line in lines)
            quoted = f'<blockquote type="cite"><p>{quote_line}</p></blockquote>' if answers else ""
            html = (
                "<html><head><style>p{margin:0 0 1em}</style></head><body>"
                f'<div dir="auto">{paragraphs}<div class="signature">Sent from my phone</div>'
                f"{quoted}</div></body></html>"
            )
            content = multipart(
                "alternative",
                [body_part("text/plain", text, charset, rng),
                 body_part("text/html", html, charset, rng)],
                boundary + "a",
            )  # fmt: skip
        else:
            content = body_part("text/plain", text, charset, rng)
        if with_files:
            files = [attachment(rng) for _ in range(rng.choice((1, 1, 2)))]
            return multipart("mixed", [content, *files], boundary + "m")
        return content


def write_maildir(directory: Path, messages: int, seed: int) -> Generated:
    """The maildir `frontdesk mail import` reads: new/ in delivery order, cur/ and tmp/."""
    for sub in ("new", "cur", "tmp"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    maker = MailMaker(seed, messages)
    made = Generated()
    for number in range(messages):
        raw, outcome = maker.next()
        # Names sort in delivery order by their counters, as the importer reads them.
        (directory / "new" / f"1780000000.M{number}P1.bench").write_bytes(raw)
        made.count += 1
        made.bytes += len(raw)
        made.expected[outcome] += 1
    return made


# --- the database ---------------------------------------------------------------------------


def database_url() -> str:
    url = os.environ.get("FRONTDESK_DATABASE_URL", "")
    if urlsplit(url).scheme not in ("postgres", "postgresql"):
        raise SystemExit("bench: set FRONTDESK_DATABASE_URL to a postgres:// URL")
    return url


def ensure_database(url: str) -> bool:
    """Create the database when it does not exist; True when it was created."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("bench: FRONTDESK_DATABASE_URL names no database")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as db:
        found = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found:
            return False
        db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def prepare_database(url: str, *, reuse: bool) -> dict[str, int]:
    """Migrate; refuse a database with conversations unless asked; the counts before."""
    from django.core.management import call_command

    from frontdesk.conversations.models import Conversation
    from frontdesk.mail.models import InboundMessage

    created = ensure_database(url)
    log(f"database {urlsplit(url).path.lstrip('/')} {'created' if created else 'exists'}")
    call_command("migrate", verbosity=0, interactive=False)
    before = {
        "conversations": Conversation.objects.count(),
        "inbound": InboundMessage.objects.count(),
    }
    if before["conversations"] and not reuse:
        raise SystemExit(
            f"bench: the database already holds {before['conversations']} conversations; "
            "point FRONTDESK_DATABASE_URL at an empty one or pass --reuse"
        )
    return before


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        row = cur.fetchone()
    return str(row[0]) if row else ""


# --- the import -----------------------------------------------------------------------------


@dataclass
class Imported:
    seconds: float = 0.0
    per_message_ms: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    stopped_early: bool = False
    cpu_seconds: float = 0.0  # this process's, all threads: the database server's is not in it
    db_cpu_seconds: float | None = None  # the server process serving our connection, when local
    statements: int = 0


class StatementCounter:
    """Counts the SQL statements the import sends (a Django execute wrapper)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def import_maildir(path: Path, *, seconds: float, batch_size: int, parse_ahead: bool) -> Imported:
    """What `frontdesk mail import PATH --batch N` does (`ingest_in_batches`), timed."""
    from django.db import connection

    from frontdesk.cli import mail_sources
    from frontdesk.mail.intake import ingest_in_batches
    from frontdesk.realtime.sender import flush as flush_pushes

    done = Imported()
    statements = StatementCounter()
    started = time.perf_counter()
    cpu_started = time.process_time()
    db_cpu_started = backend_cpu_seconds()
    deadline = started + seconds
    next_report = started + 10
    mails = ((raw, f"import:{label}") for label, raw in mail_sources(path))
    with connection.execute_wrapper(statements):
        results = ingest_in_batches(
            mails, mailbox=None, batch_size=batch_size, rate_limit=False, parse_ahead=parse_ahead
        )
        batch_started, in_batch = started, 0
        for result in results:
            done.outcomes[result.outcome] += 1
            in_batch += 1
            if in_batch < batch_size:
                continue
            # A batch's results come together once it committed: each message is charged
            # an equal share of the time since the batch before.
            now = time.perf_counter()
            done.per_message_ms += [(now - batch_started) * 1000 / in_batch] * in_batch
            batch_started, in_batch = now, 0
            if now > next_report:
                count = len(done.per_message_ms)
                log(f"imported {count:,} ({count / (now - started):,.0f}/s)")
                next_report = now + 10
            if now > deadline:
                done.stopped_early = True
                break
        if in_batch:  # the last, shorter batch
            now = time.perf_counter()
            done.per_message_ms += [(now - batch_started) * 1000 / in_batch] * in_batch
    # What the pushes queued by the last messages still cost belongs to the import.
    flush_pushes(timeout_s=10)
    done.seconds = time.perf_counter() - started
    done.cpu_seconds = time.process_time() - cpu_started
    db_cpu_now = backend_cpu_seconds()
    if db_cpu_started is not None and db_cpu_now is not None:
        done.db_cpu_seconds = db_cpu_now - db_cpu_started
    done.statements = statements.count
    return done


def backend_cpu_seconds() -> float | None:
    """CPU time of the PostgreSQL process serving this connection; None when not on this host.

    On a machine shared with other work, wall time says little; the CPU the import
    and its database process spend says what the import itself costs.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    try:
        fields = Path(f"/proc/{row[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return None
    # utime and stime, fields 14 and 15 of stat(5), counted from the state (field 3).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ReactionTimes:
    """Wall and CPU time (this thread's) spent in each reaction during the import, by handler."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.cpu_seconds: defaultdict[str, float] = defaultdict(float)

    def install(self) -> None:
        # The bus keeps its handlers in a private table; the benchmark wraps them in place.
        from frontdesk.core import events

        for handlers in events._subscribers.values():
            handlers[:] = [self._timed(handler) for handler in handlers]

    def _timed(self, handler: Any) -> Any:
        name = f"{handler.__module__.removeprefix('frontdesk.')}.{handler.__name__}"

        def timed(event: Any) -> None:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                handler(event)
            finally:
                self.seconds[name] += time.perf_counter() - t0
                self.cpu_seconds[name] += time.thread_time() - c0

        return timed

    def figures(self, messages: int) -> dict[str, Any]:
        """ms per message: wall and CPU, each reaction and the total."""
        if not messages:
            return {}
        ordered = sorted(self.seconds, key=lambda name: -self.seconds[name])
        return {
            "total_ms": round(sum(self.seconds.values()) * 1000 / messages, 2),
            "total_cpu_ms": round(sum(self.cpu_seconds.values()) * 1000 / messages, 2),
            "ms": {name: round(self.seconds[name] * 1000 / messages, 2) for name in ordered},
            "cpu_ms": {
                name: round(self.cpu_seconds[name] * 1000 / messages, 2) for name in ordered
            },
        }


def percentile(values: Sequence[float], pct: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 2)


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def report(
    args: argparse.Namespace,
    made: Generated,
    generate_s: float,
    done: Imported,
    before: dict[str, int],
) -> dict[str, Any]:
    count = len(done.per_message_ms)
    per_s = count / done.seconds if done.seconds else 0.0
    counts = {
        "created": done.outcomes["created"],
        "threaded": done.outcomes["threaded"],
        "quarantined": done.outcomes["quarantined"],
        "duplicates": done.outcomes["duplicate"],
        "ignored": done.outcomes["ignored"],
    }
    return {
        "messages": count,
        "import_s": round(done.seconds, 2),
        "messages_per_s": round(per_s, 1),
        "target_per_s": TARGET_PER_S,
        "batch": args.batch,
        "parse_ahead": args.parse_ahead,
        "per_message_p50_ms": percentile(done.per_message_ms, 50),
        "per_message_p95_ms": percentile(done.per_message_ms, 95),
        "per_message_max_ms": round(max(done.per_message_ms), 2) if count else None,
        "cpu_ms_per_message": round(done.cpu_seconds * 1000 / count, 2) if count else None,
        "db_cpu_ms_per_message": (
            round(done.db_cpu_seconds * 1000 / count, 2)
            if count and done.db_cpu_seconds is not None
            else None
        ),
        "sql_per_message": round(done.statements / count, 1) if count else None,
        "peak_rss_mb": peak_rss_mb(),
        "counts": counts,
        # What the generator made; on a fresh database the counts must equal it.
        "expected": {key: made.expected[key] for key in counts if key != "ignored"},
        "stopped_early": done.stopped_early,
        "generate_s": round(generate_s, 2),
        "maildir_mb": round(made.bytes / (1024 * 1024), 1),
        "database_before": before,
        "environment": {
            "date": datetime.now(UTC).date().isoformat(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": server_version(),
            "loadavg_after": load_average(),
            "seed": args.seed,
        },
    }


def setup_django(home: Path) -> None:
    # Originals are stored under the home's media: a temporary one, removed at the end.
    os.environ["FRONTDESK_HOME"] = str(home)
    os.environ.setdefault("FRONTDESK_SECRET_KEY", secrets.token_urlsafe(40))
    os.environ.setdefault("FRONTDESK_DEBUG", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")
    import django

    django.setup()
    # One line per quarantined message would bury the progress lines.
    logging.getLogger("frontdesk.mail.intake").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    url = database_url()
    work = Path(tempfile.mkdtemp(prefix="frontdesk-bench-ingest-"))
    try:
        setup_django(work / "home")
        before = prepare_database(url, reuse=args.reuse)
        maildir = Path(args.maildir) if args.maildir else work / "Maildir"
        log(f"writing {args.messages:,} messages to {maildir}")
        t0 = time.perf_counter()
        made = write_maildir(maildir, args.messages, args.seed)
        generate_s = time.perf_counter() - t0
        log(f"wrote {made.bytes / 1e6:.1f} MB in {generate_s:.1f}s; importing")
        load_before = load_average()
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        reactions = ReactionTimes() if args.time_reactions else None
        if reactions is not None:
            reactions.install()
        done = import_maildir(
            maildir, seconds=args.seconds, batch_size=args.batch, parse_ahead=args.parse_ahead
        )
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
            log(f"profile written to {args.profile}")
        figures = report(args, made, generate_s, done, before)
        if reactions is not None:
            figures["reactions_per_message"] = reactions.figures(len(done.per_message_ms))
        figures["environment"]["loadavg_before"] = load_before
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
