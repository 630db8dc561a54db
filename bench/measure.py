"""Timing the API and the raw SQL it stands on.

Every loop here is bounded twice, by a request count and by a deadline, so a
slow or stuck server makes the benchmark report less, never hang.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

API = "/api/v1"


class BenchError(RuntimeError):
    """The server answered something the benchmark cannot time (an error, a wrong shape)."""


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; q in [0, 100]. NaN for no values (see `figure`)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def figure(values: Sequence[float], q: float) -> float | None:
    """A percentile for the report, rounded; None when nothing was timed (JSON has no NaN)."""
    if not values:
        return None
    return round(percentile(values, q), 2)


@dataclass
class Timings:
    name: str
    ms: list[float] = field(default_factory=list)
    note: str = ""

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n": len(self.ms),
            "p50_ms": figure(self.ms, 50),
            "p95_ms": figure(self.ms, 95),
            "max_ms": round(max(self.ms), 2) if self.ms else None,
        }
        if self.note:
            out["note"] = self.note
        return out


def combined(timings: Sequence[Timings]) -> list[float]:
    return [ms for t in timings for ms in t.ms]


@dataclass(frozen=True)
class Budget:
    """How many requests to time, after how many untimed ones, within how long."""

    count: int = 200
    warmup: int = 20
    seconds: float = 60.0


def _check(response: httpx.Response, expected: int = 200) -> None:
    if response.status_code != expected:
        raise BenchError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:300]}"
        )


def time_requests(
    name: str,
    client: httpx.Client,
    request: Callable[[int], tuple[str, Mapping[str, Any]]],
    budget: Budget,
) -> Timings:
    """GET request(i) = (path, params) for warmup + count values of i; time the counted ones."""
    out = Timings(name)
    deadline = time.monotonic() + budget.seconds
    for i in range(budget.warmup + budget.count):
        if time.monotonic() > deadline:
            out.note = f"stopped at the {budget.seconds:.0f}s deadline"
            break
        path, params = request(i)
        started = time.perf_counter()
        response = client.get(path, params=params)
        elapsed = (time.perf_counter() - started) * 1000
        _check(response)
        if i >= budget.warmup:
            out.ms.append(elapsed)
    return out


def client_for(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=httpx.Timeout(60.0),
    )


# --- what the benchmark needs to know about the data ---------------------------------------


@dataclass(frozen=True)
class Facts:
    """Ids to filter by, read from the database once before timing."""

    conversations: int
    max_number: int
    server_version: str
    team_ids: list[int]
    agent_ids: list[int]
    customer_ids: tuple[int, int]  # lowest and highest
    bench_agent_id: int
    bench_agent_team: int
    bench_agent_numbers: list[int]  # conversations the bench agent may open
    busiest_team: tuple[int, str]  # (team id, status) with the most rows
    busiest_assignee: tuple[int, str]


def read_facts(url: str, *, admin_email: str, agent_email: str) -> Facts:
    with psycopg.connect(url, autocommit=True) as conn:

        def one(query: Any, params: Sequence[Any] = ()) -> Any:
            row = conn.execute(query, params).fetchone()
            if row is None:
                raise BenchError(f"no data for: {query}")
            return row

        max_number = one("SELECT max(number) FROM conversations_conversation")[0]
        if not max_number:
            raise BenchError("no conversations loaded; run without --skip-load first")
        count = one("SELECT count(*) FROM conversations_conversation")[0]
        version = one("SHOW server_version")[0]
        team_ids = [r[0] for r in conn.execute("SELECT id FROM accounts_team ORDER BY id")]
        agent_ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM accounts_user WHERE role = 'agent' AND email <> %s ORDER BY id",
                (admin_email,),
            )
        ]
        low, high = one("SELECT min(id), max(id) FROM customers_customer")
        agent_id = one("SELECT id FROM accounts_user WHERE email = %s", (agent_email,))[0]
        agent_team = one(
            "SELECT team_id FROM accounts_membership WHERE user_id = %s ORDER BY team_id",
            (agent_id,),
        )[0]
        numbers = [
            r[0]
            for r in conn.execute(
                "SELECT number FROM conversations_conversation TABLESAMPLE SYSTEM (10) "
                "WHERE team_id = %s LIMIT 1000",
                (agent_team,),
            )
        ] or [
            r[0]
            for r in conn.execute(
                "SELECT number FROM conversations_conversation WHERE team_id = %s LIMIT 1000",
                (agent_team,),
            )
        ]
        team = one(
            "SELECT team_id, status FROM conversations_conversation "
            "WHERE team_id IS NOT NULL AND status IN ('solved', 'closed') "
            "GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1"
        )
        assignee = one(
            "SELECT assignee_id, status FROM conversations_conversation "
            "WHERE assignee_id IS NOT NULL AND status IN ('solved', 'closed') "
            "GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1"
        )
    return Facts(
        conversations=int(count),
        max_number=int(max_number),
        server_version=str(version),
        team_ids=team_ids,
        agent_ids=agent_ids,
        customer_ids=(int(low), int(high)),
        bench_agent_id=int(agent_id),
        bench_agent_team=int(agent_team),
        bench_agent_numbers=numbers,
        busiest_team=(int(team[0]), str(team[1])),
        busiest_assignee=(int(assignee[0]), str(assignee[1])),
    )


# --- the API ------------------------------------------------------------------------------


def list_first_pages(
    admin: httpx.Client, agent: httpx.Client, facts: Facts, rng: random.Random, budget: Budget
) -> list[Timings]:
    """First page of the two inbox filters, as an admin and as an agent."""
    path = f"{API}/conversations"

    def by_team(_: int) -> tuple[str, dict[str, Any]]:
        return path, {"team": rng.choice(facts.team_ids), "status": "open", "limit": 50}

    def by_assignee(_: int) -> tuple[str, dict[str, Any]]:
        return path, {"assignee": rng.choice(facts.agent_ids), "status": "open", "limit": 50}

    def own_team(_: int) -> tuple[str, dict[str, Any]]:
        return path, {"team": facts.bench_agent_team, "status": "open", "limit": 50}

    def own_queue(_: int) -> tuple[str, dict[str, Any]]:
        return path, {"assignee": facts.bench_agent_id, "status": "open", "limit": 50}

    return [
        time_requests("list admin team+open", admin, by_team, budget),
        time_requests("list admin assignee+open", admin, by_assignee, budget),
        time_requests("list agent team+open", agent, own_team, budget),
        time_requests("list agent assignee+open", agent, own_queue, budget),
    ]


def walk(
    client: httpx.Client, params: Mapping[str, Any], *, pages: int, limit: int, seconds: float
) -> tuple[str | None, int]:
    """Follow next_cursor for `pages` pages; the cursor of the page after, and rows seen."""
    cursor: str | None = None
    rows = 0
    deadline = time.monotonic() + seconds
    for _ in range(pages):
        if time.monotonic() > deadline:
            break
        query = {**params, "limit": limit}
        if cursor:
            query["cursor"] = cursor
        response = client.get(f"{API}/conversations", params=query)
        _check(response)
        body = response.json()
        if not isinstance(body, dict) or "items" not in body or "next_cursor" not in body:
            raise BenchError(f"list answered an unexpected shape: {str(body)[:200]}")
        rows += len(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    return cursor, rows


def _fixed(path: str, params: Mapping[str, Any]) -> Callable[[int], tuple[str, Mapping[str, Any]]]:
    def request(_: int) -> tuple[str, Mapping[str, Any]]:
        return path, params

    return request


def deep_pages(
    client: httpx.Client, facts: Facts, budget: Budget, *, pages: int = 50, limit: int = 100
) -> list[Timings]:
    """Page 51 (5,000 rows deep at limit 100) of three common filters, timed repeatedly."""
    team, team_status = facts.busiest_team
    assignee, assignee_status = facts.busiest_assignee
    cases: list[tuple[str, dict[str, Any]]] = [
        ("deep status=solved", {"status": "solved"}),
        (f"deep team+{team_status}", {"team": team, "status": team_status}),
        (f"deep assignee+{assignee_status}", {"assignee": assignee, "status": assignee_status}),
    ]
    out: list[Timings] = []
    for name, params in cases:
        cursor, rows = walk(client, params, pages=pages, limit=limit, seconds=budget.seconds)
        if cursor is None:
            out.append(Timings(name, note=f"only {rows} rows; no page {pages + 1}"))
            continue
        query = {**params, "limit": limit, "cursor": cursor}
        timings = time_requests(name, client, _fixed(f"{API}/conversations", query), budget)
        timings.note = f"{rows} rows deep" + (f"; {timings.note}" if timings.note else "")
        out.append(timings)
    return out


def retrieves(
    admin: httpx.Client, agent: httpx.Client, facts: Facts, rng: random.Random, budget: Budget
) -> list[Timings]:
    def any_number(_: int) -> tuple[str, dict[str, Any]]:
        return f"{API}/conversations/{rng.randint(1, facts.max_number)}", {}

    def agent_number(_: int) -> tuple[str, dict[str, Any]]:
        return f"{API}/conversations/{rng.choice(facts.bench_agent_numbers)}", {}

    out = [time_requests("retrieve admin", admin, any_number, budget)]
    if facts.bench_agent_numbers:
        out.append(time_requests("retrieve agent", agent, agent_number, budget))
    return out


@dataclass
class CreateResult:
    created: int
    errors: int
    seconds: float
    timings: Timings
    first_error: str = ""

    @property
    def per_s(self) -> float:
        return self.created / self.seconds if self.seconds > 0 else 0.0


def creates(
    base_url: str,
    token: str,
    facts: Facts,
    *,
    clients: int = 4,
    max_requests: int = 2000,
    seconds: float = 20.0,
    seed: int = 1,
) -> CreateResult:
    """POST conversations from `clients` threads until the count or the time runs out."""
    lock = threading.Lock()
    issued = 0
    created = 0
    errors = 0
    first_error = ""
    latencies: list[float] = []
    started = time.monotonic()
    deadline = started + seconds
    finished_at = started

    def worker(index: int) -> None:
        nonlocal issued, created, errors, first_error, finished_at
        rng = random.Random(seed * 1000 + index)
        low, high = facts.customer_ids
        with client_for(base_url, token) as client:
            while time.monotonic() < deadline:
                with lock:
                    if issued >= max_requests:
                        return
                    issued += 1
                    n = issued
                payload = {
                    "subject": f"Benchmark order {n} has not arrived",
                    "customer_id": rng.randint(low, high),
                    "channel": "api",
                    "message": {"text": f"Hello, my order {n} is late. Could you check it?"},
                    "team_id": rng.choice(facts.team_ids),
                }
                t0 = time.perf_counter()
                try:
                    response = client.post(f"{API}/conversations", json=payload)
                    ok = response.status_code == 201
                    problem = "" if ok else f"{response.status_code}: {response.text[:300]}"
                except httpx.HTTPError as exc:
                    ok, problem = False, repr(exc)
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    finished_at = time.monotonic()
                    if ok:
                        created += 1
                        latencies.append(elapsed)
                    else:
                        errors += 1
                        first_error = first_error or problem
                        if errors >= 20:
                            return

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 90)
    return CreateResult(
        created=created,
        errors=errors,
        seconds=finished_at - started,
        timings=Timings("create", latencies),
        first_error=first_error,
    )


# --- raw SQL ------------------------------------------------------------------------------

# The two statements the list endpoint runs for an admin (Django's SQL, condensed):
# the page joined to what it shows, and the prefetch of the page's tags.
RAW_LIST = """
SELECT c.*, cu.*, t.*, a.*, o.*
FROM conversations_conversation c
JOIN customers_customer cu ON cu.id = c.customer_id
LEFT JOIN accounts_team t ON t.id = c.team_id
LEFT JOIN accounts_user a ON a.id = c.assignee_id
LEFT JOIN accounts_user o ON o.id = c.owner_id
WHERE c.status = %(status)s AND {filter}
ORDER BY c.last_activity_at DESC, c.id DESC
LIMIT 51
"""
RAW_TAGS = """
SELECT ct.conversation_id, t.id, t.name, t.created_at
FROM conversations_tag t JOIN conversations_conversationtag ct ON ct.tag_id = t.id
WHERE ct.conversation_id = ANY(%(ids)s)
ORDER BY t.name
"""


def raw_lists(url: str, facts: Facts, rng: random.Random, budget: Budget) -> list[Timings]:
    """The list endpoint's queries straight through psycopg: the floor the API stands on."""
    out: list[Timings] = []
    # Not prepared, like Django's queries, so the comparison is like for like.
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        for name, column, ids in (
            ("raw team+open", "team_id", facts.team_ids),
            ("raw assignee+open", "assignee_id", facts.agent_ids),
        ):
            statement = RAW_LIST.format(filter=f"c.{column} = %(id)s")
            timings = Timings(name)
            deadline = time.monotonic() + budget.seconds
            for i in range(budget.warmup + budget.count):
                if time.monotonic() > deadline:
                    timings.note = f"stopped at the {budget.seconds:.0f}s deadline"
                    break
                params = {"status": "open", "id": rng.choice(ids)}
                t0 = time.perf_counter()
                with conn.cursor() as cur:
                    cur.execute(statement, params)
                    rows = cur.fetchall()
                    cur.execute(RAW_TAGS, {"ids": [row[0] for row in rows]})
                    cur.fetchall()
                elapsed = (time.perf_counter() - t0) * 1000
                if i >= budget.warmup:
                    timings.ms.append(elapsed)
            out.append(timings)
    return out


def explain(url: str, facts: Facts) -> dict[str, str]:
    """EXPLAIN ANALYZE of the list queries, to show which index each one uses."""
    team, team_status = facts.busiest_team
    # The agent's scope as the selector writes it (their teams, or assigned to or owned
    # by them), ANDed with the filter: the planner may then misjudge how many rows match.
    scope = "(c.team_id = %(team)s OR c.assignee_id = %(me)s OR c.owner_id = %(me)s) AND "
    cases = {
        "team+open": ("team_id", facts.bench_agent_team, "open", ""),
        "assignee+open": ("assignee_id", facts.bench_agent_id, "open", ""),
        f"team+{team_status}": ("team_id", team, team_status, ""),
        "agent scope, team+open": ("team_id", facts.bench_agent_team, "open", scope),
        "agent scope, assignee+open": ("assignee_id", facts.bench_agent_id, "open", scope),
    }
    plans: dict[str, str] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name, (column, value, status, prefix) in cases.items():
            statement = "EXPLAIN (ANALYZE, BUFFERS) " + RAW_LIST.format(
                filter=f"{prefix}c.{column} = %(id)s"
            )
            params = {
                "status": status,
                "id": value,
                "team": facts.bench_agent_team,
                "me": facts.bench_agent_id,
            }
            rows = conn.execute(statement, params).fetchall()
            plans[name] = "\n".join(str(r[0]) for r in rows)
    return plans
