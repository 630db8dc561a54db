"""Benchmark Frontdesk at scale: load, serve, time, print one JSON object.

    python bench/run.py --conversations 1000000 [--skip-load] [--base-url URL]

Runs against FRONTDESK_DATABASE_URL, which must be PostgreSQL; the load
replaces every row of Frontdesk's tables there. Progress goes to stderr, the
figures to stdout. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

if __package__ in (None, ""):
    # Run as `python bench/run.py`: make the repository root importable, so `bench`
    # is a package for this process and for the loader's child process alike.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import load, measure, pages  # noqa: E402

log = load.log_stderr


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description="Load, serve and time Frontdesk; print JSON figures."
    )
    parser.add_argument("--conversations", type=int, required=True, help="how many to load")
    parser.add_argument("--skip-load", action="store_true", help="reuse the data already there")
    parser.add_argument(
        "--base-url", help="time a server already running here instead of starting one"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument(
        "--only",
        choices=["all", "api", "pages"],
        default="all",
        help="time the API, the workspace pages, or both (all)",
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per case")
    parser.add_argument("--case-seconds", type=float, default=60, help="time limit per case")
    parser.add_argument("--clients", type=int, default=4, help="concurrent creating clients")
    parser.add_argument("--create-seconds", type=float, default=20, help="how long to create")
    parser.add_argument("--create-requests", type=int, default=2000, help="most creates")
    parser.add_argument("--server-workers", type=int, default=1, help="uvicorn processes (1)")
    parser.add_argument(
        "--server",
        choices=("frontdesk", "uvicorn"),
        default="frontdesk",
        help="start `frontdesk serve --no-worker` (default) or bare uvicorn on the ASGI app",
    )
    parser.add_argument(
        "--explain", action="store_true", help="add EXPLAIN ANALYZE of the list queries"
    )
    args = parser.parse_args(argv)
    if args.conversations < 1:
        parser.error("--conversations must be at least 1")
    return args


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load: other work on the machine skews every figure."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def database_url() -> str:
    url = os.environ.get("FRONTDESK_DATABASE_URL", "")
    if urlsplit(url).scheme not in ("postgres", "postgresql"):
        raise SystemExit("bench: set FRONTDESK_DATABASE_URL to a postgres:// URL")
    return url


def issue_tokens() -> tuple[str, str]:
    """Fresh API tokens for the benchmark admin and agent, through the accounts service."""
    from django.db import connections

    from frontdesk.accounts.models import User
    from frontdesk.accounts.services import create_api_token

    try:
        admin = User.objects.get(email=load.ADMIN_EMAIL)
        agent = User.objects.get(email=load.AGENT_EMAIL)
    except User.DoesNotExist:
        raise SystemExit(
            "bench: the benchmark users are missing; run without --skip-load"
        ) from None
    _, admin_token = create_api_token(admin, by=None, name="bench")
    _, agent_token = create_api_token(agent, by=None, name="bench")
    connections.close_all()
    return admin_token, agent_token


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(port: int, workers: int, kind: str) -> list[str]:
    cli = Path(sys.executable).with_name("frontdesk")
    if kind == "frontdesk" and cli.exists():
        return [str(cli), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers)]  # fmt: skip
    return [sys.executable, "-m", "uvicorn", "frontdesk.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--no-access-log"]  # fmt: skip


def wait_until_serving(base_url: str, proc: subprocess.Popen[bytes], *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            httpx.get(f"{base_url}/api/v1/openapi.json", timeout=2.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {seconds:.0f}s")


def process_tree_rss_mb(pid: int) -> float | None:
    """Resident memory of a process and its children, from /proc (Linux only)."""
    total_kb = 0
    pending = [pid]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        proc = Path("/proc") / str(current)
        try:
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
            for task in (proc / "task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            if current == pid:
                return None
    return round(total_kb / 1024, 1)


@contextmanager
def running_server(workers: int, kind: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`frontdesk serve` (or bare uvicorn) on a free local port, stopped whatever happens."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "FRONTDESK_DATABASE_POOL": "true", "FRONTDESK_DEBUG": "false"}
    command = server_command(port, workers, kind)
    log(
        f"server: {' '.join(Path(command[0]).name if i == 0 else c for i, c in enumerate(command))}"
    )
    with tempfile.TemporaryFile() as output:
        # The command is this interpreter's own `frontdesk` script (or uvicorn) and our arguments.
        proc = subprocess.Popen(  # noqa: S603
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until_serving(base_url, proc, seconds=60)
            yield base_url, proc
        except BaseException:
            output.seek(0)
            tail = output.read()[-3000:].decode(errors="replace")
            log(f"server output (tail):\n{tail}")
            raise
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    # Its own session: the group holds exactly the server and its worker processes.
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# --- the run ----------------------------------------------------------------------------------


def measure_api(
    args: argparse.Namespace,
    url: str,
    base_url: str,
    tokens: tuple[str, str],
    facts: measure.Facts,
) -> dict[str, Any]:
    rng = random.Random(args.seed)
    budget = measure.Budget(count=args.requests, warmup=args.warmup, seconds=args.case_seconds)
    with (
        measure.client_for(base_url, tokens[0]) as admin,
        measure.client_for(base_url, tokens[1]) as agent,
    ):
        log("timing list first pages")
        lists = measure.list_first_pages(admin, agent, facts, rng, budget)
        log("timing deep pages")
        deep = measure.deep_pages(admin, facts, budget)
        log("timing retrieve")
        retrieve = measure.retrieves(admin, agent, facts, rng, budget)
    log("timing raw SQL")
    raw = measure.raw_lists(url, facts, rng, budget)
    log(f"timing create with {args.clients} clients for up to {args.create_seconds:.0f}s")
    create = measure.creates(
        base_url,
        tokens[0],
        facts,
        clients=args.clients,
        max_requests=args.create_requests,
        seconds=args.create_seconds,
        seed=args.seed,
    )
    if create.created == 0:
        raise measure.BenchError(f"no conversation was created: {create.first_error}")

    list_ms = measure.combined(lists)
    deep_ms = measure.combined(deep)
    raw_ms = measure.combined(raw)
    list_p95 = measure.figure(list_ms, 95)
    raw_p95 = measure.figure(raw_ms, 95)
    figures: dict[str, Any] = {
        "list_p50_ms": measure.figure(list_ms, 50),
        "list_p95_ms": list_p95,
        "list_deep_p50_ms": measure.figure(deep_ms, 50),
        "list_deep_p95_ms": measure.figure(deep_ms, 95),
        "retrieve_p50_ms": measure.figure(measure.combined(retrieve), 50),
        "retrieve_p95_ms": measure.figure(measure.combined(retrieve), 95),
        "create_per_s": round(create.per_s, 1),
        "create_p95_ms": measure.figure(create.timings.ms, 95),
        "create_errors": create.errors,
        "raw_list_p50_ms": measure.figure(raw_ms, 50),
        "raw_list_p95_ms": raw_p95,
        "overhead_ratio": round(list_p95 / raw_p95, 2) if list_p95 and raw_p95 else None,
        "cases": {t.name: t.summary() for t in (*lists, *deep, *retrieve, *raw, create.timings)},
    }
    if create.first_error:
        figures["create_first_error"] = create.first_error
    return figures


def measure_all(
    args: argparse.Namespace,
    url: str,
    base_url: str,
    tokens: tuple[str, str],
    facts: measure.Facts,
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if args.only in ("all", "pages"):
        log("timing the inbox and conversation pages")
        budget = measure.Budget(count=args.requests, warmup=args.warmup, seconds=args.case_seconds)
        figures.update(
            pages.measure_pages(
                base_url,
                admin_email=load.ADMIN_EMAIL,
                agent_email=load.AGENT_EMAIL,
                facts=facts,
                rng=random.Random(args.seed),
                budget=budget,
            )
        )
    if args.only in ("all", "api"):
        figures.update(measure_api(args, url, base_url, tokens, facts))
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    url = database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")
    import django

    django.setup()
    # Django's logging config sends INFO to stderr; one line per request would drown the log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    started = datetime.now(UTC)
    report: dict[str, Any] = {"conversations": args.conversations, "load_s": None}
    if not args.skip_load:
        plan = load.Plan.for_size(args.conversations, seed=args.seed)
        result = load.load(url, plan, timeout_s=3600)
        report["load_s"] = result.seconds
        report["load_phases_s"] = result.phases
    tokens = issue_tokens()
    facts = measure.read_facts(url, admin_email=load.ADMIN_EMAIL, agent_email=load.AGENT_EMAIL)
    report["conversations"] = facts.conversations
    load_before = load_average()
    if args.base_url:
        report.update(measure_all(args, url, args.base_url.rstrip("/"), tokens, facts))
        report["server_rss_mb"] = None
    else:
        with running_server(args.server_workers, args.server) as (base_url, proc):
            report.update(measure_all(args, url, base_url, tokens, facts))
            report["server_rss_mb"] = process_tree_rss_mb(proc.pid)
    if args.explain:
        report["explain"] = measure.explain(url, facts)
    report["environment"] = {
        "date": started.date().isoformat(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "postgres": facts.server_version,
        "server": None if args.base_url else f"{args.server} x{args.server_workers}",
        "loadavg_before": load_before,
        "loadavg_after": load_average(),
        "requests_per_case": args.requests,
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
