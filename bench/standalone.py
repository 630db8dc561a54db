"""What a single-process benchmark (routing, SLA) does before it builds its desk.

Each one runs against a PostgreSQL database of its own, created when missing, and sets
Django up in-process with a throwaway home and the dummy task backend.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def database_url(default: str) -> str:
    url = os.environ.setdefault("FRONTDESK_DATABASE_URL", default)
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit("bench: FRONTDESK_DATABASE_URL must be a PostgreSQL database")
    return url


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log(f"database {name} created")


def setup_django(home: Path) -> None:
    os.environ["FRONTDESK_HOME"] = str(home)
    os.environ.setdefault("FRONTDESK_SECRET_KEY", secrets.token_urlsafe(40))
    os.environ.setdefault("FRONTDESK_DEBUG", "false")
    # What reactions would enqueue is not part of what is timed; benchmarks call tasks directly.
    os.environ["FRONTDESK_TASK_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")
    import django

    django.setup()
