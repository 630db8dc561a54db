"""Benchmark routing and assignment: how long deciding where a new conversation goes takes.

    python bench/routing.py [--agents 200] [--open 2000] [--conversations 1000] [--seed 1]

A help desk on PostgreSQL (FRONTDESK_DATABASE_URL, by default
postgres://postgres@127.0.0.1:5432/fd_bench_routing, created when missing): one
least-loaded team of 200 agents, all online, a quarter speaking Thai, some with a
skill and their own chat capacity; 2,000 open conversations already assigned among
them; 20 routing rules (keywords in English, Polish, Czech, Russian, Indonesian and
Thai, languages, channels, tags), the last a catch-all. Then, for each of 1,000 new
conversations in those languages, it times

- the decision: read the conversation, its facts and the rules, pick the first
  matching rule, read the team's online agents with their loads and rank them
  (what a worker does before it writes anything); target p95 <= 5 ms;
- the whole of it as the worker runs it: routing (the rule's changes, audited)
  and assignment (its own reads, locks, recount of the chosen agent, assign, audit,
  running counts stored), each committed, with the reactions run on commit.

Each figure comes as wall time and as this process's CPU time: the machine's other load
inflates the first, hardly the second. After the run the reconcile job compares every
agent's running counts with their conversations (`fixed` should be 0).

**It replaces every row of the database it is pointed at** (a flush, then the
desk above). Progress goes to stderr, one JSON object of figures to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as `python bench/routing.py`: make the repository root importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import texts  # noqa: E402
from bench.standalone import database_url, ensure_database, log, setup_django  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fd_bench_routing"
TARGET_P95_MS = 5.0
LANGUAGES = ("en", "pl", "cs", "ru", "id", "th")
THAI_SUBJECTS = ("พัสดุยังไม่มาถึง", "ขอคืนเงินค่าสินค้า", "ใบแจ้งหนี้ไม่ถูกต้อง", "ยกเลิกคำสั่งซื้อ")
THAI_TEXT = "สวัสดีครับ ผมสั่งสินค้าไปเมื่อสัปดาห์ที่แล้ว แต่ยังไม่ได้รับเลย ช่วยตรวจสอบให้ด้วยครับ"
CHANNELS = ("email", "email", "email", "portal", "chat", "phone")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/routing.py", description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200, help="online agents in the team")
    parser.add_argument("--open", type=int, default=2000, help="open conversations they hold")
    parser.add_argument("--conversations", type=int, default=1000, help="new ones to time")
    parser.add_argument("--warmup", type=int, default=50, help="untimed new ones first")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.agents < 1 or args.conversations < 1:
        parser.error("--agents and --conversations must be at least 1")
    return args


# --- the desk ----------------------------------------------------------------------------------


def build_desk(args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    from django.core.management import call_command

    from frontdesk.accounts.models import Presence, Role, Skill, Team, User
    from frontdesk.accounts.services import create_team, create_user, set_presence
    from frontdesk.conversations import services as conversations
    from frontdesk.core.models import Via
    from frontdesk.customers.services import get_or_create_customer_by_email
    from frontdesk.routing import services as routing
    from frontdesk.routing.models import AssignmentMode

    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    began = time.perf_counter()
    invoices = Skill.objects.create(name="invoices")
    agents: list[User] = []
    for i in range(args.agents):
        roll = rng.random()
        languages = ["en", "th"] if roll < 0.25 else ["en", "pl"] if roll < 0.45 else ["en"]
        agent = create_user(
            by=None, email=f"agent{i}@bench.example", role=Role.AGENT, first_name=f"Agent {i}",
            languages=languages, skills=["invoices"] if rng.random() < 0.1 else [],
        )  # fmt: skip
        agents.append(agent)
    support = create_team(by=None, name="Support", members=agents, via=Via.SYSTEM)
    others = [create_team(by=None, name=name, via=Via.SYSTEM) for name in ("Billing", "Returns")]
    for agent in agents:
        set_presence(agent, by=None, presence=Presence.ONLINE)
    routing.update_team_routing(
        support, by=None, mode=AssignmentMode.LEAST_LOADED, default_capacity=20
    )
    for agent in agents[: args.agents // 10]:
        routing.set_agent_capacity(agent, by=None, channel="chat", max_open=3)
    log(f"{args.agents} agents online in {time.perf_counter() - began:.1f}s")

    customers = [
        get_or_create_customer_by_email(f"customer{i}@example.com", name=texts.person_name(rng))[0]
        for i in range(500)
    ]
    began = time.perf_counter()
    for i in range(args.open):
        conversations.create_conversation(
            by=None, customer=customers[i % len(customers)], subject=f"Earlier question {i}",
            channel=rng.choice(CHANNELS), text="Still waiting.", team=support,
            assignee=agents[rng.randrange(len(agents))], via=Via.SYSTEM,
        )  # fmt: skip
    log(f"{args.open} open conversations assigned in {time.perf_counter() - began:.1f}s")
    make_rules(support, others, invoices)
    return {
        "support": support,
        "customers": customers,
        "teams": Team.objects.count(),
        "agents_online": User.objects.filter(presence=Presence.ONLINE).count(),
    }


def make_rules(support: Any, others: list[Any], invoices: Any) -> None:
    from frontdesk.conversations.models import Priority
    from frontdesk.routing import services as routing

    rules: list[dict[str, Any]] = [
        {"name": "Refunds EN", "keywords": ["refund*", "charged twice"], "add_tags": ["refund"]},
        {"name": "Zwroty PL", "keywords": ["zwrot*", "reklamacj*"], "add_tags": ["refund"]},
        {"name": "Reklamace CS", "keywords": ["reklamac*", "vrácení"], "add_tags": ["refund"]},
        {"name": "Возвраты RU", "keywords": ["возврат*"], "add_tags": ["refund"]},
        {"name": "Pengembalian ID", "keywords": ["pengembalian"], "add_tags": ["refund"]},
        {"name": "คืนเงิน TH", "keywords": ["คืนเงิน", "ยกเลิก"], "add_tags": ["refund", "thai"]},
        {
            "name": "Invoices",
            "keywords": ["invoice*", "faktur*", "ใบแจ้งหนี้"],
            "skill": invoices,
            "priority": Priority.HIGH,
        },
        {"name": "Cancel", "keywords": ["cancel*"], "priority": Priority.HIGH},
        {"name": "Chat VIP", "channels": ["chat"], "tags": ["vip"], "priority": Priority.URGENT},
        {"name": "Phone", "channels": ["phone"], "add_tags": ["phone"]},
        {"name": "Thai", "languages": ["th"], "add_tags": ["thai"]},
        {"name": "Polish", "languages": ["pl"], "add_tags": ["pl"]},
        {"name": "Czech", "languages": ["cs"], "add_tags": ["cs"]},
        {"name": "Russian", "languages": ["ru"], "add_tags": ["ru"]},
        {"name": "Login", "keywords": ["log in", "password*"], "add_tags": ["account"]},
        {"name": "Courier", "keywords": ["courier", "kurier*"], "add_tags": ["courier"]},
        {"name": "Damaged", "keywords": ["damaged", "uszkodz*"], "priority": Priority.HIGH},
        {"name": "Warranty", "keywords": ["warranty", "gwarancj*"], "add_tags": ["warranty"]},
        {"name": "Portal", "channels": ["portal"], "add_tags": ["portal"]},
        {"name": "Everything else", "add_tags": ["routed"]},
    ]
    for values in rules:
        routing.create_rule(by=None, team=support, **values)


def new_conversations(desk: dict[str, Any], count: int, rng: random.Random) -> list[int]:
    from frontdesk.conversations import services as conversations
    from frontdesk.core.models import Via

    subjects = texts.subject_pool(rng, 500)
    bodies = texts.text_pool(rng, 200)
    ids = []
    for _ in range(count):
        language = rng.choice(LANGUAGES)
        thai = language == "th"
        conversation = conversations.create_conversation(
            by=None,
            customer=rng.choice(desk["customers"]),
            subject=rng.choice(THAI_SUBJECTS) if thai else rng.choice(subjects),
            channel=rng.choice(CHANNELS),
            text=THAI_TEXT if thai else rng.choice(bodies),
            # Half declare their language (a portal form does); the rest are told by script.
            language=language if rng.random() < 0.5 else "",
            via=Via.SYSTEM,
        )
        ids.append(conversation.pk)
    return ids


# --- timing ------------------------------------------------------------------------------------


def decide(conversation_id: int) -> tuple[Any, Any]:
    """What the worker reads and computes before writing: the rule, then the ranking.

    The same reads as route_conversation and assign_conversation: the conversation's facts
    with the settings stamp in one statement (rules, team settings and capacities kept in
    the process while the stamp holds), then the team's online agents with their running
    counts and turns.
    """
    from frontdesk.routing import selectors, services

    found, current = selectors.read_with_settings(conversation_id)
    assert found is not None and current is not None  # noqa: S101 - just created
    rule = selectors.first_matching_rule(current.rules, found.facts)
    team_id = rule.team_id if rule is not None and rule.team_id is not None else found.team_id
    team = current.team(team_id or 0)
    choice = services.decide_assignee(
        team_id=team_id or 0,
        channel=found.facts.channel,
        language=found.facts.language,
        mode=team.mode,
        default_capacity=team.default_capacity,
        skill_id=rule.skill_id if rule is not None else None,
        capacities=current.capacities_in(found.facts.channel),
    )
    return rule, choice


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 3),
        "p95_ms": round(percentile(values, 0.95), 3),
        "p99_ms": round(percentile(values, 0.99), 3),
        "max_ms": round(max(values), 3),
    }


class Clock:
    """Wall and this process's CPU time of consecutive steps, in milliseconds."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        lapped = ((wall - self.wall) * 1000, (cpu - self.cpu) * 1000)
        self.wall, self.cpu = wall, cpu
        return lapped


def time_routing(ids: list[int], warmup: int) -> dict[str, Any]:
    from frontdesk.routing import services

    laps: dict[str, list[float]] = {
        name: []
        for name in (
            "decision", "decision_cpu", "route", "route_cpu", "assign", "assign_cpu",
            "whole", "whole_cpu",
        )
    }  # fmt: skip
    assigned = 0
    preferred: Counter[str] = Counter()
    for index, conversation_id in enumerate(ids):
        clock = Clock()
        _rule, choice = decide(conversation_id)
        decision = clock.lap()
        services.route_conversation(conversation_id)
        route = clock.lap()
        assignee = services.assign_conversation(conversation_id)
        assign = clock.lap()
        if index < warmup:
            continue
        for name, (wall, cpu) in (("decision", decision), ("route", route), ("assign", assign)):
            laps[name].append(wall)
            laps[f"{name}_cpu"].append(cpu)
        laps["whole"].append(route[0] + assign[0])
        laps["whole_cpu"].append(route[1] + assign[1])
        assigned += assignee is not None
        preferred["language"] += choice.language_matched
        preferred["skill"] += choice.skill_matched
    return {
        # What the worker reads and ranks before it writes anything (no locks).
        "decision": summary(laps["decision"]),
        # This process's own CPU time in the decision: the share the database's and other
        # processes' load on the machine cannot inflate.
        "decision_cpu_in_this_process": summary(laps["decision_cpu"]),
        # route_conversation: the rule's changes, audited, committed, reactions included.
        "route_committed": summary(laps["route"]),
        "route_committed_cpu": summary(laps["route_cpu"]),
        # assign_conversation as the worker runs it: its own decision reads, the locks, the
        # recount under the agent's lock, assign, audit, counts stored, committed.
        "assign_committed": summary(laps["assign"]),
        "assign_committed_cpu": summary(laps["assign_cpu"]),
        "route_and_assign_committed": summary(laps["whole"]),
        "route_and_assign_committed_cpu": summary(laps["whole_cpu"]),
        "timed": len(laps["decision"]),
        "assigned": assigned,
        "language_matched": preferred["language"],
        "skill_matched": preferred["skill"],
    }


def counts_drifted() -> dict[str, int]:
    """The reconcile job's check of every agent after the run: nothing should have drifted."""
    from frontdesk.routing import services

    return services.reconcile_agent_loads(limit=100_000)


def analyze() -> None:
    """Fresh planner statistics, as a database in use has them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def round_trips() -> dict[str, float]:
    """What the smallest query costs on this machine now: the floor under every figure."""
    from django.db import connection

    from frontdesk.accounts.models import User

    orm, raw = [], []
    with connection.cursor() as cursor:
        for _ in range(200):
            began = time.perf_counter()
            User.objects.filter(pk=1).values("id").first()
            middle = time.perf_counter()
            cursor.execute("SELECT id FROM accounts_user WHERE id = %s", [1])
            cursor.fetchone()
            orm.append((middle - began) * 1000)
            raw.append((time.perf_counter() - middle) * 1000)
    return {
        "orm_query_ms": round(statistics.median(orm), 3),
        "raw_query_ms": round(statistics.median(raw), 3),
    }


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        row = cursor.fetchone()
    return str(row[0]) if row else ""


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    url = database_url(DEFAULT_URL)
    ensure_database(url)
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-routing-") as home:
        setup_django(Path(home))
        rng = random.Random(args.seed)
        desk = build_desk(args, rng)
        ids = new_conversations(desk, args.warmup + args.conversations, rng)
        analyze()
        baseline = round_trips()
        log(f"timing {args.conversations} conversations after {args.warmup} untimed")
        figures = time_routing(ids, args.warmup)
        figures["running_counts_after_run"] = counts_drifted()
        p95 = figures["decision"]["p95_ms"]
        result = {
            "benchmark": "routing",
            "agents_online": desk["agents_online"],
            "open_conversations_before": args.open,
            "rules": 20,
            **figures,
            "target_decision_p95_ms": TARGET_P95_MS,
            "decision_within_target": p95 <= TARGET_P95_MS,
            "environment": {
                "date": datetime.now(UTC).date().isoformat(),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "postgres": server_version(),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
                "smallest_query": baseline,
                "seed": args.seed,
            },
        }
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
