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


def session_cookie(email: str) -> str:
    """A signed-in session for `email`, made the way Django's login makes one."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connections

    from frontdesk.accounts.models import User

    user = User.objects.get(email=email)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    connections.close_all()
    if session.session_key is None:
        raise RuntimeError("the session store gave no key")
    return session.session_key


def browser_for(base_url: str, session_key: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        cookies={"sessionid": session_key},
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
    admin_key, agent_key = session_cookie(admin_email), session_cookie(agent_email)
    cases: list[tuple[Timings, Timings]] = []
    with browser_for(base_url, admin_key) as admin, browser_for(base_url, agent_key) as agent:
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
