"""What a database's owner can do behind the application's back, for the tamper-evidence tests."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def triggers_disabled(*tables: str) -> Iterator[None]:
    """What the database's owner can always do: set the append-only triggers (and the foreign keys) aside."""
    with connection.cursor() as cursor:
        # The test's own deferred foreign-key checks first: ALTER TABLE refuses while they are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def owner_sql(table: str, sql: str, params: list | None = None) -> None:
    with triggers_disabled(table), connection.cursor() as cursor:
        cursor.execute(sql, params or [])
