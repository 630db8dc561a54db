"""A database that refuses writes, made by the database itself (a trigger), not by a mock.

PostgreSQL raises the error code asked for; SQLite aborts the statement from
a trigger, which Python sees as an IntegrityError. Dropping the trigger stands
for the database coming back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from django.db import connection, models

from frontdesk.mail.models import InboundMessage

DISK_FULL = "disk_full"
CHECK_VIOLATION = "check_violation"


@contextmanager
def database_refusing(
    model: type[models.Model], *, errcode: str = DISK_FULL, message: str = "No space left on device"
) -> Iterator[None]:
    """The database refuses every new row of `model` until the block ends."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = '{errcode}'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER test_refuse_insert BEFORE INSERT ON {table} "  # noqa: S608 - our table name
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_insert()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER test_refuse_insert BEFORE INSERT ON {table} "  # noqa: S608 - our table name
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER test_refuse_insert ON {table}")
                cursor.execute("DROP FUNCTION test_refuse_insert()")
            else:
                cursor.execute("DROP TRIGGER test_refuse_insert")


def database_refusing_mail() -> AbstractContextManager[None]:
    """Every intake's first write (its InboundMessage row) fails as on a full disk."""
    return database_refusing(InboundMessage, message="could not extend file: no space left")
