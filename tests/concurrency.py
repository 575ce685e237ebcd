"""Run two service calls in two real database sessions, the first holding its transaction open."""

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections, connection, transaction


def race(first: Callable[[], Any], second: Callable[[], Any], hold_seconds: float = 0.5) -> tuple[Any, Any]:
    """`first` runs and keeps its transaction open; `second` starts meanwhile in another connection.

    Returns each call's result or the exception it raised. Without a row lock the second call would
    read the row as it was before `first` committed, and both would win.
    """
    results: list[Any] = [None, None]
    first_inside = threading.Event()

    def run_first() -> None:
        try:
            with transaction.atomic():
                results[0] = first()
                first_inside.set()
                time.sleep(hold_seconds)
        except Exception as exc:  # noqa: BLE001 - the caller inspects it
            results[0] = exc
        finally:
            first_inside.set()
            connection.close()

    def run_second() -> None:
        first_inside.wait(timeout=10)
        try:
            results[1] = second()
        except Exception as exc:  # noqa: BLE001
            results[1] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    close_old_connections()
    return results[0], results[1]


def stampede(call: Callable[[], Any], times: int) -> list[Any]:
    """`call` in `times` threads (each its own database session) released at the same instant.

    Returns each call's result or the exception it raised, in no particular order.
    """
    results: list[Any] = [None] * times
    start = threading.Barrier(times)

    def run(index: int) -> None:
        try:
            start.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the caller inspects it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    return results
