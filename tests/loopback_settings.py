"""Settings for a Celery worker process in tests that deliver webhooks to the local TLS receiver (tests/worker.py).

The production rule (https, public addresses only) stays; only loopback is let through, for the receiver on
127.0.0.1. Never used outside tests: config.settings never turns this on, and `check --deploy` refuses it.
"""

from config.settings import *  # noqa: F403

WEBHOOK_TEST_ALLOW_LOOPBACK = True
