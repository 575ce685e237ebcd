"""Bulk writing for the load generator: ids reserved from each table's own sequence, rows sent by binary COPY.

One COPY per table and family (psycopg 3, binary format: no text formatting of dates and numbers in Python),
not one INSERT per row: a million rows take seconds. Each table's column types come from the database itself,
so what is written is what the column holds.
"""

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, models
from psycopg import Cursor

# Ids are reserved from the table's sequence this many at a time: one round trip per block, and a block left
# part-used only leaves a gap in the ids (as a rolled-back insert does).
ID_BLOCK = 10_000


class MissingColumns(ValueError):
    """A family left out a column the database requires (NOT NULL, no default): a mistake in the generator."""


class Ids:
    """Primary keys for rows written by COPY, taken from each table's own sequence so that later inserts by the
    application (the benchmark's POSTs) never collide with them.

    Rows are generated while a COPY streams, and a connection in COPY runs nothing else: the ids come through a
    connection of their own (autocommit: a sequence is not transactional anyway)."""

    def __init__(self, cursor: Cursor) -> None:
        self._cursor = cursor
        self._free: dict[type[models.Model], Iterator[int]] = {}

    def take(self, model: type[models.Model]) -> int:
        try:
            return next(self._free[model])
        except (KeyError, StopIteration):
            self._free[model] = iter(self._reserve(model, ID_BLOCK))
            return next(self._free[model])

    def _reserve(self, model: type[models.Model], count: int) -> range:
        table = model._meta.db_table
        self._cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
            [table, table, count],
        )
        row = self._cursor.fetchone()
        assert row is not None
        last = int(row[0])
        return range(last - count + 1, last + 1)


class Copier:
    """Writes rows of a model's table by binary COPY and counts them per table."""

    def __init__(self, cursor: Cursor, ids_cursor: Cursor) -> None:
        self.cursor = cursor
        self.ids = Ids(ids_cursor)
        self.rows: Counter[str] = Counter()
        self.seconds: dict[str, float] = defaultdict(float)
        self._types: dict[str, dict[str, int]] = {}

    def write(self, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """COPY `rows` (tuples in the order of `columns`, by column name) into the model's table."""
        table = model._meta.db_table
        types = self._column_types(table)
        missing = self._required(table) - set(columns)
        if missing:
            raise MissingColumns(f"{table}: no value for {', '.join(sorted(missing))}")
        names = ", ".join(f'"{c}"' for c in columns)
        count = 0
        started = time.perf_counter()
        with self.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types([types[c] for c in columns])
            for row in rows:
                copy.write_row(row)
                count += 1
        self.rows[table] += count
        self.seconds[table] += time.perf_counter() - started
        return count

    def _column_types(self, table: str) -> dict[str, int]:
        if table not in self._types:
            self.cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                "AND NOT attisdropped",
                [table],
            )
            self._types[table] = {name: int(oid) for name, oid in self.cursor.fetchall()}
        return self._types[table]

    def _required(self, table: str) -> set[str]:
        self.cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
            "AND attnotnull AND NOT atthasdef AND attidentity = ''",
            [table],
        )
        return {name for (name,) in self.cursor.fetchall()}


@contextmanager
def bulk_session(*, audit: bool) -> Iterator[Copier]:
    """A transaction on the Django connection for the whole load, with a Copier on its psycopg cursor.

    Without `audit`, the session runs as a replica (superusers only): no trigger fires, so the audit history
    (django-pghistory) is not written for generated rows and foreign keys are not re-checked row by row; the
    generator writes consistent rows itself (its test loads with `audit` on, where every constraint is
    checked). Falls back to `audit` when the role may not do that.
    """
    import psycopg
    from django.db import transaction

    with transaction.atomic():
        connection.ensure_connection()
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        with (
            psycopg.connect(**params, autocommit=True) as ids,
            ids.cursor() as ids_cursor,
            connection.connection.cursor() as cursor,
        ):
            if not audit:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                row = cursor.fetchone()
                if row is not None and row[0]:
                    cursor.execute("SET LOCAL session_replication_role = replica")
            yield Copier(cursor, ids_cursor)
