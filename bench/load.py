"""Bulk-load the benchmark data set into PostgreSQL through COPY.

N conversations with five messages each, N/10 customers with an email identity,
N/30 companies, 200 agents in 20 teams, and some tags.

Everything happens in one transaction on one connection: TRUNCATE, dropping the
indexes and constraints of the big tables, COPY ... FREEZE, recreating them.
A failure or a kill at any point rolls back to what was there before, so the
schema is never left without its indexes. Because the tables were truncated in
the same transaction, COPY FREEZE writes rows already frozen and all-visible,
so index-only scans work without a VACUUM afterwards.

Rows are generated in a child process, a chunk at a time, while the parent
streams the previous chunk to the server: one core makes rows, the other
parses them, and memory stays bounded whatever N is.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from bench import texts

CHUNK = 10_000  # conversations per generated chunk (50,000 messages)
MESSAGES_PER_CONVERSATION = 5
AGENTS = 200
TEAMS = 20
HISTORY_DAYS = 730

ADMIN_EMAIL = "bench-admin@example.com"
AGENT_EMAIL = "bench-agent@example.com"
COUNTER_NAME = "conversation_number"

# (value, weight): most conversations are finished; about a tenth are being worked.
STATUSES = (
    ("new", 2),
    ("open", 5),
    ("pending", 2),
    ("on_hold", 1),
    ("solved", 30),
    ("closed", 60),
)
CHANNELS = (
    ("email", 45),
    ("portal", 15),
    ("chat", 15),
    ("phone", 10),
    ("visit", 3),
    ("messaging", 7),
    ("api", 5),
)
PRIORITIES = ((1, 20), (2, 60), (3, 15), (4, 5))
LANGUAGES = (("en", 50), ("pl", 15), ("cs", 10), ("ru", 10), ("id", 8), ("th", 7))
COMPANY_FORMS = ("Ltd", "GmbH", "s.r.o.", "Sp. z o.o.", "PT", "Co.")
ACTIVE = frozenset({"new", "open", "pending", "on_hold"})

# Message kinds by the conversation's status: "c" customer, "r" reply, "n" note.
KINDS = {
    "new": "cncnc",
    "open": "crcrc",
    "pending": "crcnr",
    "on_hold": "crcrn",
    "solved": "crcnr",
    "closed": "crcnr",
}
KIND_NAMES = {"c": "customer", "r": "reply", "n": "note"}

Log = Callable[[str], None]


def log_stderr(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Plan:
    conversations: int
    customers: int
    companies: int
    agents: int = AGENTS
    teams: int = TEAMS
    seed: int = 1

    @classmethod
    def for_size(cls, conversations: int, *, seed: int = 1) -> Plan:
        if conversations < 1:
            raise ValueError("--conversations must be at least 1")
        return cls(
            conversations=conversations,
            customers=max(conversations // 10, 10),
            companies=max(conversations // 30, 1),
            seed=seed,
        )


@dataclass
class LoadResult:
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


# --- COPY text format ------------------------------------------------------------------

NULL = "\\N"


def escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def copy_literal(value: Any) -> str:
    """One Python value as COPY text, for the constant columns filled from model defaults."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return escape(json.dumps(value))
    raise TypeError(f"no COPY text form for {value!r}")


@dataclass(frozen=True)
class CopyTarget:
    """A table, the columns the loader writes, and the constant tail for all the others.

    Columns the loader does not know about get their model default, so a column
    added by a later migration does not break the benchmark unless it has none.
    """

    table: str
    columns: tuple[str, ...]
    tail: str

    def statement(self) -> sql.Composed:
        return sql.SQL("COPY {} ({}) FROM STDIN WITH (FREEZE)").format(
            sql.Identifier(self.table), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )


def copy_target(model: Any, given: Sequence[str]) -> CopyTarget:
    from django.db import models

    fields = {f.column: f for f in model._meta.concrete_fields}
    unknown = [c for c in given if c not in fields]
    if unknown:
        raise RuntimeError(f"{model._meta.db_table} has no column(s) {', '.join(unknown)}")
    rest: list[str] = []
    values: list[str] = []
    for column, f in fields.items():
        if column in given:
            continue
        if f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif isinstance(f, models.CharField | models.TextField) and f.blank:
            value = ""
        else:
            raise RuntimeError(
                f"{model._meta.db_table}.{column} needs a value; teach bench/load.py about it"
            )
        rest.append(column)
        values.append(copy_literal(value))
    tail = "".join("\t" + v for v in values)
    return CopyTarget(model._meta.db_table, (*given, *rest), tail)


def copy_rows(cur: psycopg.Cursor[Any], target: CopyTarget, text: str) -> None:
    if not text:
        return
    with cur.copy(target.statement()) as copy:
        # Pieces of about a megabyte keep the server parsing while we send.
        step = 1 << 20
        for start in range(0, len(text), step):
            copy.write(text[start : start + step])


# --- timestamps ------------------------------------------------------------------------


class Clock:
    """Seconds since a base instant, formatted for COPY by table look-up.

    Formatting ten million timestamps with datetime costs more than the rest of
    the row; a day string plus a time-of-day string is two list look-ups.
    """

    def __init__(self, now: datetime, days: int) -> None:
        base = (now - timedelta(days=days + 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        self.base = base
        self.now_s = int((now - base).total_seconds())
        self._days = [(base + timedelta(days=d)).strftime("%Y-%m-%d ") for d in range(days + 3)]
        self._tod = [
            f"{h:02d}:{m:02d}:{s:02d}+00" for h in range(24) for m in range(60) for s in range(60)
        ]

    def fmt(self, t: int) -> str:
        return self._days[t // 86400] + self._tod[t % 86400]


# --- the world: small tables ----------------------------------------------------------


@dataclass
class World:
    """What conversation rows refer to; small enough to send to the generator process."""

    plan: Plan
    now: datetime
    team_members: list[list[int]]  # agent user ids per team index
    agent_ids: list[int]
    customer_company: list[int]  # per customer id - 1; 0 for none
    tag_count: int


def team_assignment(agent_index: int, teams: int) -> list[int]:
    """Team indexes for an agent: one, or two for about two in five."""
    first = agent_index % teams
    if agent_index == 0:
        return [first]  # the benchmark agent sits in exactly one team
    second = (agent_index * 7 + 3) % teams
    if agent_index % 5 in (1, 3) and second != first:
        return [first, second]
    return [first]


def load_small_tables(
    cur: psycopg.Cursor[Any], plan: Plan, now: datetime, rng: random.Random, log: Log
) -> World:
    from frontdesk.accounts.models import Membership, Team, User
    from frontdesk.conversations.models import Tag
    from frontdesk.customers.models import Company, CompanyDomain, Customer, Identity

    ts = now.isoformat()
    unusable = "!" + secrets.token_urlsafe(30)

    users = copy_target(
        User,
        (
            "id", "password", "username", "email", "first_name", "last_name", "role",
            "is_staff", "is_superuser", "is_active", "date_joined", "presence",
        ),
    )  # fmt: skip
    lines = [f"1\t{unusable}\t{ADMIN_EMAIL}\t{ADMIN_EMAIL}\tBench\tAdmin\tadmin\tt\tt\tt\t{ts}\t"
             f"online{users.tail}\n"]  # fmt: skip
    agent_ids = list(range(2, 2 + plan.agents))
    for index, uid in enumerate(agent_ids):
        email = AGENT_EMAIL if index == 0 else f"agent{index}@bench.example.com"
        first, last = texts.person_name(rng).split(" ", 1)
        presence = rng.choice(("online", "away", "offline"))
        lines.append(
            f"{uid}\t{unusable}\t{email}\t{email}\t{first}\t{last}\tagent\tf\tf\tt\t{ts}\t"
            f"{presence}{users.tail}\n"
        )
    copy_rows(cur, users, "".join(lines))

    team_members: list[list[int]] = [[] for _ in range(plan.teams)]
    for index, uid in enumerate(agent_ids):
        for t in team_assignment(index, plan.teams):
            team_members[t].append(uid)
    teams = copy_target(Team, ("id", "name", "email", "lead_id", "created_at"))
    names = list(texts.TEAM_NAMES) + [f"Team {i}" for i in range(len(texts.TEAM_NAMES), 999)]
    lines = [
        f"{t + 1}\t{names[t]}\t{names[t].lower()}@bench.example.com\t{team_members[t][0]}\t{ts}"
        f"{teams.tail}\n"
        for t in range(plan.teams)
    ]
    copy_rows(cur, teams, "".join(lines))
    memberships = copy_target(Membership, ("id", "team_id", "user_id", "joined_at"))
    lines = []
    for t, members in enumerate(team_members):
        for uid in members:
            lines.append(f"{len(lines) + 1}\t{t + 1}\t{uid}\t{ts}{memberships.tail}\n")
    copy_rows(cur, memberships, "".join(lines))

    tags = copy_target(Tag, ("id", "name", "created_at"))
    copy_rows(
        cur,
        tags,
        "".join(f"{i + 1}\t{name}\t{ts}{tags.tail}\n" for i, name in enumerate(texts.TAG_NAMES)),
    )

    companies = copy_target(Company, ("id", "name", "created_at", "updated_at"))
    domains = copy_target(CompanyDomain, ("id", "company_id", "domain"))
    copy_rows(
        cur,
        companies,
        "".join(
            f"{c}\t{rng.choice(texts.LAST_NAMES)} {rng.choice(COMPANY_FORMS)} {c}"
            f"\t{ts}\t{ts}{companies.tail}\n"
            for c in range(1, plan.companies + 1)
        ),
    )
    copy_rows(
        cur,
        domains,
        "".join(
            f"{c}\t{c}\tcompany{c}.example{domains.tail}\n" for c in range(1, plan.companies + 1)
        ),
    )

    log(f"customers: {plan.customers:,}")
    customers = copy_target(
        Customer, ("id", "name", "company_id", "language", "time_zone", "created_at", "updated_at")
    )
    identities = copy_target(
        Identity, ("id", "customer_id", "kind", "value", "normalized", "is_primary", "created_at")
    )
    languages = [v for v, _ in LANGUAGES]
    zones = ("Europe/Warsaw", "Europe/Prague", "Europe/Moscow", "Asia/Jakarta", "Asia/Bangkok")
    customer_company: list[int] = []
    for start in range(1, plan.customers + 1, 50_000):
        end = min(start + 50_000, plan.customers + 1)
        c_lines: list[str] = []
        i_lines: list[str] = []
        for cid in range(start, end):
            company = 1 + cid % plan.companies if rng.random() < 0.6 else 0
            customer_company.append(company)
            email = f"c{cid}@company{company}.example" if company else f"customer{cid}@mail.example"
            c_lines.append(
                f"{cid}\t{texts.person_name(rng)}\t{company or NULL}\t{rng.choice(languages)}"
                f"\t{rng.choice(zones)}\t{ts}\t{ts}{customers.tail}\n"
            )
            i_lines.append(f"{cid}\t{cid}\temail\t{email}\t{email}\tt\t{ts}{identities.tail}\n")
        copy_rows(cur, customers, "".join(c_lines))
        copy_rows(cur, identities, "".join(i_lines))

    cur.execute(
        "INSERT INTO core_counter (name, value) VALUES (%s, %s)", (COUNTER_NAME, plan.conversations)
    )
    return World(
        plan=plan,
        now=now,
        team_members=team_members,
        agent_ids=agent_ids,
        customer_company=customer_company,
        tag_count=len(texts.TAG_NAMES),
    )


# --- the big tables: generated in chunks ------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    conversations: str
    messages: str
    tags: str
    count: int


def _cumulative(pairs: Sequence[tuple[Any, int]]) -> tuple[list[Any], list[int]]:
    values = [v for v, _ in pairs]
    total = 0
    cum: list[int] = []
    for _, w in pairs:
        total += w
        cum.append(total)
    return values, cum


def generate_chunks(world: World) -> Iterator[Chunk]:  # noqa: PLR0912
    """Conversation, message and tag rows as COPY text, CHUNK conversations at a time.

    One flat loop on purpose: it runs six million times, and a function call per
    row would cost more than the row.
    """
    from frontdesk.conversations.models import Conversation, ConversationTag, Message

    plan = world.plan
    rng = random.Random(plan.seed * 7919 + 1)
    clock = Clock(world.now, HISTORY_DAYS)
    fmt = clock.fmt
    now_s = clock.now_s
    subjects = texts.subject_pool(rng, 4000)
    bodies = texts.text_pool(rng, 6000)
    conv_t = conversation_target(Conversation)
    msg_t = message_target(Message)
    tag_t = copy_target(ConversationTag, ("id", "conversation_id", "tag_id"))
    status_v, status_cw = _cumulative(STATUSES)
    channel_v, channel_cw = _cumulative(CHANNELS)
    priority_v, priority_cw = _cumulative(PRIORITIES)
    language_v, language_cw = _cumulative(LANGUAGES)
    # Each team's lead takes four shares of its assignments: real queues have a few
    # heavy hitters, and their backlog is what a deep assignee+status page walks.
    teams = [(t + 1, [*members, *[members[0]] * 3]) for t, members in enumerate(world.team_members)]
    team_cw = [int(100 * (1 + (t % 5))) for t in range(len(teams))]  # uneven team sizes
    for i in range(1, len(team_cw)):
        team_cw[i] += team_cw[i - 1]
    agent_ids = world.agent_ids
    customer_company = world.customer_company
    ncustomers = len(customer_company)
    day = 86400
    tag_id = 0
    random_ = rng.random
    choice = rng.choice
    for first in range(1, plan.conversations + 1, CHUNK):
        count = min(CHUNK, plan.conversations + 1 - first)
        statuses = rng.choices(status_v, cum_weights=status_cw, k=count)
        channels = rng.choices(channel_v, cum_weights=channel_cw, k=count)
        priorities = rng.choices(priority_v, cum_weights=priority_cw, k=count)
        languages = rng.choices(language_v, cum_weights=language_cw, k=count)
        team_picks = rng.choices(teams, cum_weights=team_cw, k=count)
        subject_picks = rng.choices(subjects, k=count)
        body_picks = rng.choices(bodies, k=count * MESSAGES_PER_CONVERSATION)
        conv_lines: list[str] = []
        msg_lines: list[str] = []
        tag_lines: list[str] = []
        for i in range(count):
            cid = first + i
            status = statuses[i]
            channel = channels[i]
            team_id, members = team_picks[i]
            if random_() < 0.03:
                team_s = NULL
                members = agent_ids
            else:
                team_s = str(team_id)
            assignee = choice(members) if random_() < 0.7 else 0
            assignee_s = str(assignee) if assignee else NULL
            customer = 1 + int(ncustomers * random_() ** 1.5)
            company = customer_company[customer - 1]
            if status in ACTIVE:
                age = int(random_() * 30 * day)
            elif status == "solved":
                age = int(random_() * 90 * day)
            else:
                age = int(30 * day + random_() * (HISTORY_DAYS - 30) * day)
            last = now_s - age
            created = max(0, last - 300 - int(random_() ** 2 * 7 * day))
            step = (last - created) // 4
            kinds = KINDS[status]
            first_reply = last_reply = last_customer = -1
            mid = (cid - 1) * MESSAGES_PER_CONVERSATION
            responder = assignee or choice(members)
            email_channel = channel == "email"
            for k in range(MESSAGES_PER_CONVERSATION):
                mid += 1
                at = last if k == MESSAGES_PER_CONVERSATION - 1 else created + k * step
                kind = kinds[k]
                if kind == "c":
                    last_customer = at
                    author = f"{NULL}\t{customer}"
                else:
                    if kind == "r":
                        if first_reply < 0:
                            first_reply = at
                        last_reply = at
                    author = f"{responder}\t{NULL}"
                email_id = f"<{mid}.bench@example.com>" if email_channel and kind != "n" else ""
                msg_lines.append(
                    f"{mid}\t{cid}\t{KIND_NAMES[kind]}\t{channel}\t{author}"
                    f"\t{body_picks[i * MESSAGES_PER_CONVERSATION + k]}\t{email_id}\t{fmt(at)}"
                    f"{msg_t.tail}\n"
                )
            last_s = fmt(last)
            finished = status in ("solved", "closed")
            conv_lines.append(
                f"{cid}\t{cid}\t{subject_picks[i]}\t{customer}\t{company or NULL}\t{channel}"
                f"\t{status}\t{priorities[i]}\t{team_s}\t{assignee_s}\t{assignee_s}"
                f"\t{languages[i]}\t{fmt(created)}\t{last_s}\t{last_s}"
                f"\t{fmt(last_customer) if last_customer >= 0 else NULL}"
                f"\t{fmt(last_reply) if last_reply >= 0 else NULL}"
                f"\t{fmt(first_reply) if first_reply >= 0 else NULL}"
                f"\t{last_s if finished else NULL}\t{last_s if status == 'closed' else NULL}"
                f"{conv_t.tail}\n"
            )
            if random_() < 0.3:
                picked = {1 + int(random_() * world.tag_count)}
                if random_() < 0.3:
                    picked.add(1 + int(random_() * world.tag_count))
                for tag in picked:
                    tag_id += 1
                    tag_lines.append(f"{tag_id}\t{cid}\t{tag}{tag_t.tail}\n")
        yield Chunk("".join(conv_lines), "".join(msg_lines), "".join(tag_lines), count)


CONVERSATION_COLUMNS = (
    "id", "number", "subject", "customer_id", "company_id", "channel", "status", "priority",
    "team_id", "assignee_id", "owner_id", "language", "created_at", "updated_at",
    "last_activity_at", "last_customer_activity_at", "last_agent_activity_at",
    "first_response_at", "solved_at", "closed_at",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "conversation_id", "kind", "channel", "author_user_id", "author_customer_id", "text",
    "email_message_id", "created_at",
)  # fmt: skip


def conversation_target(model: Any) -> CopyTarget:
    return copy_target(model, CONVERSATION_COLUMNS)


def message_target(model: Any) -> CopyTarget:
    return copy_target(model, MESSAGE_COLUMNS)


def _producer(world: World, queue: Any) -> None:
    """Child process: make chunks and hand them over; None marks the end."""
    import django

    django.setup()
    try:
        for chunk in generate_chunks(world):
            queue.put(chunk)
        queue.put(None)
    except BaseException as exc:
        queue.put(exc)
        raise


def chunks_in_child(world: World, *, timeout_s: float) -> Iterator[Chunk]:
    """Chunks from a child process, which runs at most two chunks ahead."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue(maxsize=2)
    proc = ctx.Process(target=_producer, args=(world, queue), daemon=True)
    proc.start()
    try:
        while True:
            item = queue.get(timeout=timeout_s)
            if item is None:
                return
            if isinstance(item, BaseException):
                raise RuntimeError(f"row generator failed: {item!r}")
            yield item
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(timeout=10)


# --- indexes and constraints ----------------------------------------------------------


@dataclass(frozen=True)
class Stripped:
    """DDL to put back what was dropped, in the order to run it."""

    create: list[str]


def strip_indexes(cur: psycopg.Cursor[Any], tables: Sequence[str]) -> Stripped:
    """Drop secondary indexes, keys and foreign keys touching `tables`; return how to rebuild.

    Maintaining a dozen b-trees row by row during COPY is several times slower
    than building each once, sorted, at the end.
    """
    cur.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype
        FROM pg_constraint
        WHERE (contype = 'f' AND (conrelid = ANY(%(t)s::regclass[])
                                  OR confrelid = ANY(%(t)s::regclass[])))
           OR (contype IN ('p', 'u', 'x') AND conrelid = ANY(%(t)s::regclass[]))
        ORDER BY contype = 'f' DESC, conrelid::regclass::text, conname
        """,
        {"t": list(tables)},
    )
    constraints = cur.fetchall()
    cur.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%(t)s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                          WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
        ORDER BY 1
        """,
        {"t": list(tables)},
    )
    indexes = cur.fetchall()
    foreign = [c for c in constraints if c[3] == "f"]
    keys = [c for c in constraints if c[3] != "f"]
    for table, name, _, _ in foreign:
        cur.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.SQL(table), sql.Identifier(name)
            )
        )
    for name, _ in indexes:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))
    for table, name, _, _ in keys:
        cur.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.SQL(table), sql.Identifier(name)
            )
        )
    create = [
        f"ALTER TABLE {table} ADD CONSTRAINT {sql.Identifier(name).as_string(cur)} {definition}"
        for table, name, definition, _ in keys
    ]
    create += [definition for _, definition in indexes]
    create += [
        f"ALTER TABLE {table} ADD CONSTRAINT {sql.Identifier(name).as_string(cur)} {definition}"
        for table, name, definition, _ in foreign
    ]
    return Stripped(create=create)


# --- the whole load ----------------------------------------------------------------------


def app_tables() -> list[str]:
    """Every table of Frontdesk's apps, plus the framework tables that point at users."""
    from django.apps import apps

    tables: set[str] = set()
    for config in apps.get_app_configs():
        if config.name.startswith("frontdesk.") or config.label in (
            "django_tasks_database",
            "sessions",
            "admin",
        ):
            for model in config.get_models(include_auto_created=True):
                tables.add(model._meta.db_table)
    return sorted(tables)


def migrate(log: Log) -> None:
    from django.core.management import call_command

    log("migrate")
    call_command("migrate", verbosity=0, interactive=False)


def load(url: str, plan: Plan, *, log: Log = log_stderr, timeout_s: float = 3600) -> LoadResult:
    """Replace the app data with the benchmark data set; return timings."""
    from frontdesk.accounts.models import Membership, Team, User
    from frontdesk.conversations.models import Conversation, ConversationTag, Message, Tag
    from frontdesk.customers.models import Company, CompanyDomain, Customer, Identity

    started = time.monotonic()
    result = LoadResult(seconds=0.0)

    def phase(name: str, since: float) -> float:
        now = time.monotonic()
        result.phases[name] = round(now - since, 2)
        log(f"{name}: {now - since:.1f}s")
        return now

    migrate(log)
    t = phase("migrate", started)
    rng = random.Random(plan.seed)
    now = datetime.now(UTC).replace(microsecond=0)
    big = [m._meta.db_table for m in (Customer, Identity, Conversation, Message, ConversationTag)]
    deadline = started + timeout_s
    with psycopg.connect(url, autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        tables = app_tables()
        cur.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(map(sql.Identifier, tables))
            )
        )
        stripped = strip_indexes(cur, big)
        t = phase("truncate", t)

        world = load_small_tables(cur, plan, now, rng, log)
        t = phase("small_tables", t)

        conv_t = conversation_target(Conversation)
        msg_t = message_target(Message)
        tag_t = copy_target(ConversationTag, ("id", "conversation_id", "tag_id"))
        done = 0
        next_report = time.monotonic() + 10
        for chunk in chunks_in_child(world, timeout_s=600):
            copy_rows(cur, conv_t, chunk.conversations)
            copy_rows(cur, msg_t, chunk.messages)
            copy_rows(cur, tag_t, chunk.tags)
            done += chunk.count
            if time.monotonic() > next_report:
                rate = done / (time.monotonic() - t)
                log(f"copied {done:,} conversations ({rate:,.0f}/s)")
                next_report = time.monotonic() + 10
            if time.monotonic() > deadline:
                raise TimeoutError(f"load took longer than {timeout_s:.0f}s")
        t = phase("copy", t)

        for statement in stripped.create:
            cur.execute(statement)
        t = phase("indexes", t)

        loaded: list[Any] = [
            User, Team, Membership, Tag, Company, CompanyDomain, Customer, Identity,
            Conversation, Message, ConversationTag,
        ]  # fmt: skip
        for model in loaded:
            cur.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%(t)s, 'id'), "
                    "COALESCE((SELECT max(id) FROM {}), 0) + 1, false)"
                ).format(sql.Identifier(model._meta.db_table)),
                {"t": model._meta.db_table},
            )
        conn.commit()
        t = phase("commit", t)

    with psycopg.connect(url, autocommit=True) as conn:
        for table in big:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
        conn.execute("ANALYZE")
    phase("analyze", t)
    result.seconds = round(time.monotonic() - started, 1)
    result.rows = {
        "conversations": plan.conversations,
        "messages": plan.conversations * MESSAGES_PER_CONVERSATION,
        "customers": plan.customers,
        "companies": plan.companies,
        "agents": plan.agents,
        "teams": plan.teams,
    }
    return result
