"""Benchmark SLA recomputation: every open conversation's timers after a policy changed.

    python bench/sla.py [--conversations 100000] [--seed 1] [--batch-size 2000]

A help desk on PostgreSQL (FRONTDESK_DATABASE_URL, by default
postgres://postgres@127.0.0.1:5432/fd_bench_sla, created when missing): a Prague office
calendar with Czech public holidays (the default), three SLA policies (a VIP tag, urgent
priority, everything else; business hours and calendar time), 20 teams, and N open
conversations (new, open, pending, on hold; a third replied to, some waiting for a next
response, some paused) spread over the last two weeks, a third of them tagged. Rows are
made with bulk inserts. Then it times the task a policy edit enqueues,
`refresh_open_conversations`, twice:

- `first_run_s`: no timers yet; every conversation gets its row (inserts);
- `recompute_s`: after the standard policy's targets are edited, every row changes
  (updates); target <= 10 s for 100,000 conversations.

Each run reports its wall time split into reading, maths, timers and summaries, and the
CPU time of this process (`python_cpu_s`) and of the database server's process
(`database_cpu_s`, when the server runs on this machine): on a machine shared with other
work, wall time includes waiting for a core.

**It replaces every row of the database it is pointed at** (a flush, then the desk
above). Progress goes to stderr, one JSON object of figures to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as `python bench/sla.py`: make the repository root importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.standalone import database_url, ensure_database, log, setup_django  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fd_bench_sla"
TARGET_S = 10.0
INSERT_BATCH = 5000
STATUSES = ("new", "open", "open", "open", "pending", "on_hold")
CHANNELS = ("email", "email", "email", "portal", "chat", "phone")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/sla.py", description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000, help="open ones to load")
    parser.add_argument("--batch-size", type=int, default=2000, help="recompute batch size")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.batch_size < 1:
        parser.error("--conversations and --batch-size must be at least 1")
    return args


# --- the desk ---------------------------------------------------------------------------------


def build_desk(args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    """Flush, then the calendar, policies, teams, customers and open conversations."""
    from django.core.management import call_command
    from django.db import connection

    from frontdesk.accounts.models import Role, Team, User
    from frontdesk.sla.services import create_calendar, create_policy

    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    admin = User.objects.create_user("admin@bench.example", None, role=Role.ADMIN)
    office = {day: [(clock(8), clock(12)), (clock(13), clock(17))] for day in range(5)}
    create_calendar(by=admin, name="Prague office", time_zone="Europe/Prague", weekly=office,
                    holiday_country="CZ")  # fmt: skip
    create_policy(by=admin, name="VIP", conditions={"tags": ["vip"]}, targets=[
        _targets(p, first=30, following=30, resolution=8 * 60) for p in (1, 2, 3, 4)
    ])  # fmt: skip
    create_policy(by=admin, name="Urgent", conditions={"priorities": [4]}, time_basis="calendar",
                  targets=[_targets(4, first=60, following=60, resolution=24 * 60)])  # fmt: skip
    standard = create_policy(by=admin, name="Standard", targets=[
        _targets(p, first=8 * 60, following=8 * 60, resolution=5 * 8 * 60) for p in (1, 2, 3)
    ])  # fmt: skip
    Team.objects.bulk_create(Team(name=f"Team {i}") for i in range(20))
    team_ids = list(Team.objects.values_list("id", flat=True))
    started = time.perf_counter()
    load_conversations(args.conversations, team_ids, rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"policy": standard, "admin": admin, "load_s": time.perf_counter() - started}


def _targets(priority: int, *, first: int, following: int, resolution: int) -> dict[str, int]:
    return {
        "priority": priority,
        "first_response_minutes": first,
        "next_response_minutes": following,
        "resolution_minutes": resolution,
    }


def load_conversations(count: int, team_ids: Sequence[int], rng: random.Random) -> None:
    """Bulk inserts, bypassing the services on purpose: the load is not what is measured."""
    from frontdesk.conversations.models import Conversation, ConversationTag, Tag
    from frontdesk.customers.models import Customer

    customers = Customer.objects.bulk_create(
        Customer(name=f"Customer {i}") for i in range(max(1, count // 10))
    )
    vip = Tag.objects.create(name="vip")
    other = Tag.objects.create(name="returns")
    now = datetime.now(UTC)
    made = 0
    while made < count:
        size = min(INSERT_BATCH, count - made)
        rows = [_conversation(made + i + 1, customers, team_ids, now, rng) for i in range(size)]
        created = Conversation.objects.bulk_create(rows, batch_size=size)
        ConversationTag.objects.bulk_create(
            ConversationTag(conversation=c, tag=vip if rng.random() < 0.1 else other)
            for c in created
            if rng.random() < 1 / 3
        )
        made += size
        log(f"{made} conversations")


def _conversation(
    number: int,
    customers: Sequence[Any],
    team_ids: Sequence[int],
    now: datetime,
    rng: random.Random,
) -> Any:
    from frontdesk.conversations.models import Conversation

    status = rng.choice(STATUSES)
    created = now - timedelta(seconds=rng.randrange(14 * 86_400))
    replied = status != "new" and rng.random() < 0.6
    first_response = created + timedelta(minutes=rng.randrange(5, 600)) if replied else None
    last_agent = first_response
    last_customer: datetime | None = created
    if replied and first_response is not None and rng.random() < 0.4:
        # The customer wrote again after the answer: a next response is due.
        last_customer = first_response + timedelta(minutes=rng.randrange(5, 2000))
    activity = max(t for t in (created, last_agent, last_customer) if t is not None)
    customer = rng.choice(customers)
    return Conversation(
        number=number,
        subject=f"Conversation {number}",
        customer=customer,
        channel=rng.choice(CHANNELS),
        status=status,
        priority=rng.choice((1, 2, 2, 2, 3, 4)),
        team_id=rng.choice(team_ids),
        created_at=created,
        updated_at=activity,
        last_activity_at=activity,
        last_customer_activity_at=last_customer,
        last_agent_activity_at=last_agent,
        first_response_at=first_response,
    )


# --- the measurement --------------------------------------------------------------------------


def backend_cpu_s() -> float | None:
    """CPU seconds the database server process of this connection has used so far.

    Read from /proc, so only for a server on this machine; None elsewhere. On a machine
    shared with other work, wall time counts the waits for a core too: CPU time does not.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    try:
        # The fields after the command's closing parenthesis start at the third (state).
        stat = Path(f"/proc/{row[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return None
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def timed_refresh(batch_size: int) -> tuple[float, dict[str, Any]]:
    """Wall time of one recount, and its figures with the CPU time of both processes."""
    from dataclasses import asdict

    from frontdesk.sla.timers import refresh_open_conversations

    server_before = backend_cpu_s()
    cpu_before = time.process_time()
    started = time.perf_counter()
    result = refresh_open_conversations(batch_size=batch_size)
    wall = time.perf_counter() - started
    figures = asdict(result)
    figures["python_cpu_s"] = round(time.process_time() - cpu_before, 3)
    server_after = backend_cpu_s()
    if server_before is not None and server_after is not None:
        figures["database_cpu_s"] = round(server_after - server_before, 3)
    return wall, figures


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    url = database_url(DEFAULT_URL)
    ensure_database(url)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-sla-") as home:
        setup_django(Path(home))
        log(f"loading {args.conversations} open conversations")
        desk = build_desk(args, rng)
        log(f"loaded in {desk['load_s']:.1f} s; recomputing (no timers yet)")
        first_s, first = timed_refresh(args.batch_size)
        log(f"first run {first_s:.2f} s; editing the standard policy and recomputing")

        from frontdesk.sla.services import update_policy

        update_policy(desk["policy"], by=desk["admin"], targets=[
            _targets(p, first=4 * 60, following=4 * 60, resolution=3 * 8 * 60) for p in (1, 2, 3)
        ])  # fmt: skip
        recompute_s, recompute = timed_refresh(args.batch_size)
        log(f"recompute {recompute_s:.2f} s")
        from frontdesk.sla.models import ConversationSla

        figures = {
            "conversations": args.conversations,
            "batch_size": args.batch_size,
            "load_s": round(desk["load_s"], 2),
            "first_run_s": round(first_s, 3),
            "first_run": first,
            "recompute_s": round(recompute_s, 3),
            "recompute": recompute,
            "recompute_per_conversation_us": round(recompute_s / args.conversations * 1e6, 1),
            "target_s": TARGET_S,
            "within_target": recompute_s <= TARGET_S * args.conversations / 100_000,
            "timers": ConversationSla.objects.count(),
            "python": platform.python_version(),
        }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
