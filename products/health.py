"""Reachability checks for the health endpoint: each answers within a couple of seconds."""

from django.conf import settings
from django.db import connection
from kombu import Connection


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def broker_ok(url: str | None = None) -> bool:
    timeout = settings.BROKER_TIMEOUT_SECONDS
    try:
        with Connection(
            url or settings.CELERY_BROKER_URL,
            connect_timeout=timeout,
            transport_options={"socket_timeout": timeout, "socket_connect_timeout": timeout},
        ) as conn:
            # kombu takes seconds as a float (its stubs say int); the channel is the Redis transport's, with a client.
            conn.ensure_connection(max_retries=0, timeout=timeout)  # type: ignore[arg-type]
            client = conn.default_channel.client  # type: ignore[attr-defined]
            return bool(client.ping())
    except Exception:  # noqa: BLE001
        return False
