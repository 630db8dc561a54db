"""Timing the workspace's HTML pages: the inbox and the conversation page.

The figure that counts is the server's own time, read from the Server-Timing
header (core.middleware.ServerTimingMiddleware); the client's round trip is
kept beside it. Loops are bounded by count and deadline, like the API's.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.measure import Budget, Facts, Timings, _check, figure


def session_cookie(email: str) -> tuple[str, str]:
    """(cookie name, value) of a fresh session signed in as `email`, as Django's login makes it."""
    from django.conf import settings
    from django.db import connections
    from django.test import Client

    from frontdesk.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email=email))
    connections.close_all()
    name = settings.SESSION_COOKIE_NAME
    return name, client.cookies[name].value


def browser_for(base_url: str, cookie: tuple[str, str]) -> httpx.Client:
    name, value = cookie
    return httpx.Client(
        base_url=base_url,
        cookies={name: value},
        headers={"Accept": "text/html", "Accept-Language": "en"},
        timeout=httpx.Timeout(60.0),
    )


def server_ms(response: httpx.Response) -> float:
    header = response.headers.get("Server-Timing", "")
    _, _, duration = header.partition(";dur=")
    if not duration:
        raise RuntimeError(f"{response.request.url} sent no Server-Timing header")
    return float(duration)


def time_pages(
    name: str, client: httpx.Client, path: Callable[[int], str], budget: Budget
) -> tuple[Timings, Timings]:
    """GET path(i) for warmup + count values of i: (server time, round trip) of the counted."""
    server, round_trip = Timings(f"{name} (server)"), Timings(f"{name} (round trip)")
    deadline = time.monotonic() + budget.seconds
    for i in range(budget.warmup + budget.count):
        if time.monotonic() > deadline:
            server.note = f"stopped at the {budget.seconds:.0f}s deadline"
            break
        started = time.perf_counter()
        response = client.get(path(i))
        elapsed = (time.perf_counter() - started) * 1000
        _check(response)
        if i >= budget.warmup:
            server.ms.append(server_ms(response))
            round_trip.ms.append(elapsed)
    return server, round_trip


def measure_pages(
    base_url: str,
    *,
    admin_email: str,
    agent_email: str,
    facts: Facts,
    rng: random.Random,
    budget: Budget,
) -> dict[str, Any]:
    admin_cookie, agent_cookie = session_cookie(admin_email), session_cookie(agent_email)
    cases: list[tuple[Timings, Timings]] = []
    with (
        browser_for(base_url, admin_cookie) as admin,
        browser_for(base_url, agent_cookie) as agent,
    ):
        for view in ("", "unassigned/", "team/", "pending/"):
            cases.append(time_pages(f"inbox {view or 'mine/'} agent", agent, _fixed(view), budget))
        cases.append(time_pages("inbox team/ admin", admin, _fixed("team/"), budget))

        def any_number(_: int) -> str:
            return f"/conversations/{rng.randint(1, facts.max_number)}/"

        def agent_number(_: int) -> str:
            return f"/conversations/{rng.choice(facts.bench_agent_numbers)}/"

        cases.append(time_pages("conversation admin", admin, any_number, budget))
        if facts.bench_agent_numbers:
            cases.append(time_pages("conversation agent", agent, agent_number, budget))
    inbox = [ms for server, _ in cases if server.name.startswith("inbox") for ms in server.ms]
    page = [ms for server, _ in cases if server.name.startswith("conversation") for ms in server.ms]

    return {
        "inbox_page_server_p50_ms": figure(inbox, 50),
        "inbox_page_server_p95_ms": figure(inbox, 95),
        "conversation_page_server_p50_ms": figure(page, 50),
        "conversation_page_server_p95_ms": figure(page, 95),
        "page_cases": {t.name: t.summary() for pair in cases for t in pair},
    }


def _fixed(view: str) -> Callable[[int], str]:
    def path(_: int) -> str:
        return f"/inbox/{view}"

    return path
