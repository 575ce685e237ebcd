"""The baseline of `make bench`: the same SQL as our endpoint, through psycopg, serialised with orjson, served by
a minimal WSGI function under the same gunicorn settings. No framework, no ORM, no serializer: the least
machinery that does the same work, so the ratio ours/baseline says how much our machinery costs.

The SQL of each operation is what our endpoint ran for one request (captured by the benchmark, with its values
bound). A read replays it and returns every row it fetched; a write replays it in a transaction that is rolled
back, so the same statements (row locks, inserts, triggers) run every time without colliding on unique keys.
"""

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
import psycopg

# The request header (`X-Bench-Op`) that names the operation: both servers get the same requests, and the path
# of a write changes from one request to the next (another unit, another patient).
OPERATION_HEADER = "HTTP_X_BENCH_OP"


@dataclass(frozen=True)
class Operation:
    statements: list[str]
    write: bool


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    raise TypeError(type(value).__name__)


def run_operation(conn: psycopg.Connection, operation: Operation) -> bytes:
    """Run the operation's statements in one transaction; every row fetched, as JSON."""
    results: list[list[tuple]] = []
    with conn.transaction(force_rollback=operation.write), conn.cursor() as cursor:
        for statement in operation.statements:
            cursor.execute(statement.encode())  # bytes: psycopg sends it as it is, with no placeholders
            results.append(cursor.fetchall() if cursor.description is not None else [])
    return orjson.dumps(results, default=_default)


def load_operations(path: str) -> dict[str, Operation]:
    with open(path, encoding="utf-8") as f:
        return {name: Operation(**spec) for name, spec in json.load(f).items()}


def make_app(operations: dict[str, Operation], connect: Callable[[], psycopg.Connection]) -> Callable:
    """A WSGI application: the operation the request names, on one connection per process (opened lazily)."""
    connection: list[psycopg.Connection] = []

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        operation = operations.get(environ.get(OPERATION_HEADER, ""))
        if operation is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such operation"]
        if environ.get("CONTENT_LENGTH"):
            environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        if not connection:
            connection.append(connect())
        body = run_operation(connection[0], operation)
        start_response(
            "201 Created" if operation.write else "200 OK",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return application


def _from_environment() -> Callable:
    path = os.environ.get("BENCH_BASELINE_OPERATIONS")
    if not path:
        return lambda environ, start_response: []
    url = os.environ["BENCH_BASELINE_DATABASE_URL"]
    return make_app(load_operations(path), lambda: psycopg.connect(url, autocommit=True))


# gunicorn benchmarks.baseline:application
application = _from_environment()
