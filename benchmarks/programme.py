"""`make bench`: the programme at national size, each operation against a baseline measured in the same run.

A database of its own (`<name>_bench`) is filled once by `manage.py generate_load` (refilled when the size
changes). Our server is gunicorn serving config.wsgi with DEBUG off; the baseline (benchmarks/baseline.py) is a
minimal WSGI function under the same gunicorn settings that runs the same SQL our endpoint ran (captured from
one request) through psycopg and serialises the rows with orjson. Load comes from locust, headless, in another
process on loopback. One table is printed; its last line is `targets met: N of M`.

    .venv/bin/python -m benchmarks programme [--smoke] [--patients N] [--users 8] [--seconds 20]
"""

import argparse
import csv
import importlib.util
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.scan import ensure_database, setup_django

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
API = "/api/v1"

# Targets (issue 14), each a ratio from the same run.
READ_TARGET = 0.5
WRITE_TARGET = 0.33
SCAN_TARGET = 2.0  # our scan within 2x of the set-based statement
EMPTY_SCAN_SHARE = 0.10  # a scan with nothing due costs at most this share of one with the load's due checks
FHIR_LINEAR = 1.5  # time per event of the big story at most this many times that of the 5,000-event one


@dataclass
class Operation:
    name: str
    kind: str  # "read" or "write"
    clients: list[dict]  # {"path", "token", "steps"?} one per locust user (round robin)
    statements: list[str] = field(default_factory=list)
    queries: int = 0


@dataclass
class Figures:
    p50_ms: float
    p99_ms: float
    rps: float
    requests: int
    failures: int


# Stage: the load -------------------------------------------------------------------------------------------


def ensure_load(patients: int, stories: tuple[int, ...], due: int) -> dict[int, int]:
    """The generated programme of this size (generated now unless the database holds it); story patient ids."""
    from django.db import connection

    from tracker.models import Patient

    def story_ids() -> dict[int, int]:
        found = {}
        for k, events in enumerate(stories):
            patient = Patient.objects.filter(mrn__endswith=f"-{patients + k:07d}", mrn__startswith="L03").first()
            if patient is None:
                return {}
            found[events] = patient.id
        # Stories all live at one hospital (tracker.loadgen): a database filled otherwise is refilled.
        return found if Patient.objects.filter(id__in=found.values()).values("facility").distinct().count() == 1 else {}

    expected = patients + len(stories)
    have = Patient.objects.filter(mrn__regex=r"^L03[0-9]{2}-").count()
    ids = story_ids() if have == expected else {}
    if ids:
        return ids
    print(f"bench: generating {patients:,} patients (stories {', '.join(map(str, stories))})...", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tracker_patient, products_chainofidentity, products_batch, products_unit, products_collection, "
            "products_signature, products_coisequence, tracker_reminder, tracker_scheduledcheck RESTART IDENTITY "
            "CASCADE"
        )
    argv = ["generate_load", "--patients", str(patients), "--due", str(due)]
    for events in stories:
        argv += ["--story", str(events)]
    from django.core.management import call_command

    call_command(*argv)
    return story_ids()


# Stage: what to send ---------------------------------------------------------------------------------------


def token_for(user: Any) -> str:
    from products.services.tokens import token_issue

    return token_issue(user=user).key


def operations(stories: dict[int, int], timeline_events: int, users: int) -> list[Operation]:
    from django.contrib.auth import get_user_model

    from products.choices import UnitStatus
    from products.models import Unit
    from tracker.loadgen.world import PREFIX
    from tracker.models import Administration, Patient

    User = get_user_model()
    coordinator = User.objects.get(username=f"{PREFIX}-coordinator-01")
    hospital = Patient.objects.filter(facility__code=f"{PREFIX}-hospital-01").values_list("facility__code")[0][0]
    story = Patient.objects.select_related("facility").get(id=stories[timeline_events])
    story_clinician = User.objects.filter(
        username__startswith=f"{PREFIX}-clinician-", memberships__facility=story.facility
    ).first()
    story_token = token_for(story_clinician)
    coordinator_token = token_for(coordinator)
    ops = [
        Operation(
            f"GET timeline ({timeline_events:,} events)",
            "read",
            [{"path": f"{API}/patients/{story.id}/timeline/", "token": story_token}],
        ),
        Operation(
            "GET reminders ?status=open (100)",
            "read",
            [{"path": f"{API}/reminders/?status=open&facility={hospital}&page_size=100", "token": coordinator_token}],
        ),
        Operation(
            "GET patients ?search= (100)",
            "read",
            [{"path": f"{API}/patients/?search=ros&page_size=100", "token": coordinator_token}],
        ),
        Operation(
            f"GET FHIR export ({timeline_events:,} events)",
            "read",
            [{"path": f"{API}/patients/{story.id}/fhir/", "token": story_token}],
        ),
    ]
    if importlib.util.find_spec("tracker.surveillance") is not None:
        safety = User.objects.filter(is_superuser=True).first() or coordinator
        ops.append(
            Operation(
                "GET surveillance summary (all)",
                "read",
                [{"path": f"{API}/surveillance/summary/", "token": token_for(safety)}],
            )
        )

    # Assessments: adults infused and alive, each posted by a clinician of their hospital; grade 2 CRS (fever and
    # fluids) so that grading, the schedule, the audit and the urgent reminder all run.
    infused = (
        Administration.objects.filter(patient__birth_date__lt="2000-01-01", patient__mrn__startswith="L03")
        .exclude(patient_id__in=stories.values())
        .select_related("patient__facility")
        .order_by("-administered_at")[: users + 1]
    )
    assessment_clients = []
    for administration in infused:
        clinician = User.objects.filter(
            username__startswith=f"{PREFIX}-clinician-", memberships__facility=administration.patient.facility
        ).first()
        body = {
            "patient": administration.patient_id,
            "assessed_at": "",
            "temperature_c": "38.6",
            "hypotension": "fluids",
            "ice_score": 10,
            "heart_rate": 110,
        }
        assessment_clients.append({"path": f"{API}/assessments/", "token": token_for(clinician), "steps": [body]})
    ops.append(Operation("POST assessment (graded 2, escalates)", "write", assessment_clients))

    # Custody: bags stored at a hospital before their infusion go to the apheresis centre and back, one bag per
    # user, recorded by the hospital's coordinator (a member of both).
    units = (
        Unit.objects.filter(status__in=[UnitStatus.STORED, UnitStatus.RECEIVED], thawed_at__isnull=True)
        .filter(unit_id__startswith="LOAD-U", current_facility__code__startswith=f"{PREFIX}-hospital-")
        .select_related("current_facility")
        .order_by("id")[: users + 1]
    )
    custody_clients = []
    for unit in units:
        n = int(unit.current_facility.code.rsplit("-", 1)[1])
        site = f"{PREFIX}-apheresis-{(n - 1) % 3 + 1}"
        there, back = unit.current_facility.code, site
        steps = [
            {"event": "shipped", "at": "", "facility": back, "temperature_c": "-150.0"},
            {"event": "received", "at": "", "facility": back, "temperature_c": "-150.0"},
            {"event": "shipped", "at": "", "facility": there, "temperature_c": "-150.0"},
            {"event": "received", "at": "", "facility": there, "temperature_c": "-150.0"},
        ]
        who = User.objects.get(username=f"{PREFIX}-coordinator-{n:02d}")
        custody_clients.append(
            {"path": f"{API}/units/{unit.unit_id}/custody/", "token": token_for(who), "steps": steps}
        )
    ops.append(Operation("POST custody event", "write", custody_clients))
    return ops


def capture(op: Operation) -> None:
    """Send the operation's first request in process (the Django test client, DEBUG off) and keep its SQL: what
    the baseline replays. A write uses the spare client (the last), which no locust user takes."""
    from datetime import UTC, datetime

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    spec = op.clients[-1] if op.kind == "write" else op.clients[0]
    client = Client(HTTP_AUTHORIZATION=f"Token {spec['token']}")
    # A write is captured in a transaction rolled back: its statements (a custody seq, a dedupe key) stay valid
    # for the baseline to replay.
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        if op.kind == "read":
            response = client.get(spec["path"])
        else:
            body = dict(spec["steps"][0])
            for key in ("at", "assessed_at"):
                if key in body:
                    body[key] = datetime.now(UTC).isoformat()
            response = client.post(spec["path"], body, content_type="application/json")
        transaction.set_rollback(True)
    if response.status_code not in (200, 201):
        raise SystemExit(f"bench: {op.name}: {response.status_code} {response.content[:300]!r}")
    op.statements = [q["sql"] for q in captured.captured_queries]
    op.queries = len(op.statements)
    if op.kind == "write" and len(op.clients) > 1:
        op.clients = op.clients[:-1]


def count_queries(path: str, token: str) -> tuple[int, float]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    best = float("inf")
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            best = min(best, time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return len(captured.captured_queries), best


# Stage: the scan -------------------------------------------------------------------------------------------

# The baseline of the scan: one set-based statement that claims every due check, marks it reminded, inserts its
# reminder (urgent and escalated at once when its grace has run out) and the deliveries the scan records for it:
# an email to each of the facility's addressees (when raised, and to those on call when escalated) and a post to
# each of its webhooks. The addressees come in as a table (`unnest` of arrays), looked up as the scan does.
CLAIM_AND_RAISE = """
WITH claimed AS (
    UPDATE tracker_scheduledcheck c SET reminded_at = %(now)s
    WHERE status = 'open' AND reminded_at IS NULL AND due_at <= %(now)s
    RETURNING c.id, c.patient_id, c.label, c.due_at, c.grace_until, c.severity
), raised AS (
    INSERT INTO tracker_reminder (kind, dedupe_key, patient_id, facility_id, check_id, due_at, escalate_at, severity,
                                  escalated_at, status, message, resolution, created_at)
    SELECT 'check_due', 'check:' || claimed.id, claimed.patient_id, p.facility_id, claimed.id, claimed.due_at,
           claimed.grace_until,
           CASE WHEN claimed.grace_until <= %(now)s THEN 'urgent' ELSE claimed.severity END,
           CASE WHEN claimed.grace_until <= %(now)s THEN %(now)s END, 'open',
           left('Patient ' || claimed.patient_id || ': ' || claimed.label
                || CASE WHEN claimed.grace_until <= %(now)s THEN ' overdue' ELSE ' due' END
                || ' since ' || to_char(claimed.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC.', 300),
           '', %(now)s
    FROM claimed JOIN tracker_patient p ON p.id = claimed.patient_id
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, facility_id, escalated_at IS NOT NULL AS escalated
)
"""
SET_BASED_SCAN_SQL = (
    CLAIM_AND_RAISE
    + """
INSERT INTO tracker_notification (reminder_id, channel, recipient, webhook_id, reason, status, attempts,
                                  next_attempt_at, last_error, created_at)
SELECT raised.id, a.channel, a.recipient, a.webhook_id, a.reason, 'pending', 0, %(now)s, '', %(now)s
FROM raised
JOIN unnest(%(facility_ids)s::bigint[], %(reasons)s::varchar[], %(channels)s::varchar[], %(recipients)s::varchar[],
            %(webhook_ids)s::bigint[]) AS a(facility_id, reason, channel, recipient, webhook_id)
  ON a.facility_id = raised.facility_id AND (a.reason = 'raised' OR raised.escalated)
ON CONFLICT DO NOTHING
"""
)
# The same without the deliveries: the reminders alone (printed beside the target, for the record).
REMINDERS_ONLY_SQL = CLAIM_AND_RAISE + "SELECT count(*) FROM raised"  # noqa: S608 - constants, no input


def _addressee_table(facility_ids: list[int]) -> dict[str, list]:
    """What each facility's check reminders are delivered to, looked up as the scan does (notifications)."""
    from tracker.services.notifications import Addressees

    book = Addressees()
    table: dict[str, list] = {"facility_ids": [], "reasons": [], "channels": [], "recipients": [], "webhook_ids": []}
    for facility_id in facility_ids:
        for reason in ("raised", "escalated"):
            rows: list[tuple[str, str, int | None]] = [
                ("email", email, None) for email in book.emails(facility_id, True, reason, None)
            ]
            rows += [("webhook", url, hook_id) for hook_id, url in book.hooks(facility_id)]
            for channel, recipient, hook_id in rows:
                table["facility_ids"].append(facility_id)
                table["reasons"].append(reason)
                table["channels"].append(channel)
                table["recipients"].append(recipient)
                table["webhook_ids"].append(hook_id)
    return table


def _rolled_back(run: Callable[[], Any]) -> tuple[float, Any]:
    """Time `run` inside a transaction that is rolled back: the due checks stay due for the next measurement."""
    from django.db import transaction

    with transaction.atomic():
        started = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, result


def measure_scan(rounds: int = 2) -> dict:
    """The scan and its baselines, each the best of `rounds` alternated runs (after one warm-up of the baseline),
    so that neither side pays alone for reading the tables into the cache."""
    from django.db import connection
    from django.utils import timezone

    from tracker.choices import DeliveryStatus
    from tracker.models import Notification, ScheduledCheck
    from tracker.services.scan import monitoring_scan

    now = timezone.now()
    # No worker runs during the benchmark: deliveries an earlier run's writes queued would be requeued by every
    # scan measured here. They are marked sent so that each run measures the same scan.
    Notification.objects.filter(status=DeliveryStatus.PENDING).update(status=DeliveryStatus.SENT, sent_at=now)
    checks = ScheduledCheck.objects.count()
    due = ScheduledCheck.objects.filter(status="open", reminded_at__isnull=True, due_at__lte=now)
    facility_ids = sorted(set(due.values_list("patient__facility_id", flat=True)))
    params: dict[str, Any] = {"now": now, **_addressee_table(facility_ids)}

    def ours_then_empty() -> tuple[float, float, Any]:
        started = time.perf_counter()
        result = monitoring_scan(now=now)
        first = time.perf_counter() - started
        started = time.perf_counter()
        monitoring_scan(now=now)
        return first, time.perf_counter() - started, result

    def set_based(sql: str) -> Callable[[], int]:
        def run() -> int:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.rowcount

        return run

    due_count = due.count()
    _rolled_back(set_based(SET_BASED_SCAN_SQL))  # warm-up
    ours, empty, baseline, reminders_only = [], [], [], []
    for _ in range(rounds):
        _, (first, again, result) = _rolled_back(ours_then_empty)
        ours.append(first)
        empty.append(again)
        elapsed, notified = _rolled_back(set_based(SET_BASED_SCAN_SQL))
        baseline.append(elapsed)
        reminders_only.append(_rolled_back(set_based(REMINDERS_ONLY_SQL))[0])
    tracemalloc.start()
    _rolled_back(lambda: monitoring_scan(now=now))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "checks": checks,
        "due": due_count,
        "reminded": result.counts.get("checks_reminded", 0),
        "baseline_notifications": notified,
        "ours_s": min(ours),
        "empty_s": min(empty),
        "baseline_s": min(baseline),
        "reminders_only_s": min(reminders_only),
        "peak_mib": peak / 2**20,
    }


# Stage: the servers and the load ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app: str, env: dict[str, str], workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # The same settings for ours and the baseline: sync workers, one thread each, no access log.
    process = subprocess.Popen(  # noqa: S603 (our own executables)
        [
            str(BIN / "gunicorn"),
            app,
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        if process.poll() is not None:
            raise SystemExit(f"bench: {app} did not start")
        time.sleep(0.2)
    raise SystemExit(f"bench: {app} did not listen on {port}")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def worker_peak_mib(process: subprocess.Popen) -> float:
    """The largest peak resident set (VmHWM) among the server's workers."""
    import psutil

    peaks = []
    for child in psutil.Process(process.pid).children():
        try:
            status = Path(f"/proc/{child.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks, default=0.0)


def run_load(url: str, op: Operation, spec_path: str, users: int, seconds: int, workdir: str) -> Figures:
    prefix = os.path.join(workdir, f"locust-{abs(hash((url, op.name)))}")
    env = {**os.environ, "BENCH_SPEC": spec_path, "BENCH_OPERATION": op.name}
    subprocess.run(  # noqa: S603 (our own executables)
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "benchmarks" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--host",
            url,
            "--csv",
            prefix,
            "--only-summary",
            "--loglevel",
            "ERROR",
            "--stop-timeout",
            "10",
            "--exit-code-on-error",
            "0",
        ],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    with open(f"{prefix}_failures.csv", encoding="utf-8") as f:
        failures = list(csv.DictReader(f))
    if failures:
        print(f"bench: {op.name} at {url}: {failures[0].get('Error', '')[:200]}", file=sys.stderr)
    return Figures(
        p50_ms=float(row["50%"] or 0),
        p99_ms=float(row["99%"] or 0),
        rps=float(row["Requests/s"] or 0),
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
    )


# The table -------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="small data and short runs (under 5 minutes)")
    parser.add_argument("--patients", type=int, help="generated patients (default 20,000; 1,500 with --smoke)")
    parser.add_argument("--users", type=int, default=8, help="concurrent locust users")
    parser.add_argument("--seconds", type=int, help="load per measurement (default 20; 4 with --smoke)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (ours and the baseline's)")
    args = parser.parse_args(argv)
    patients = args.patients or (1_500 if args.smoke else 20_000)
    seconds = args.seconds or (4 if args.smoke else 20)
    timeline_events = 1_000 if args.smoke else 5_000
    stories = (timeline_events // 10, timeline_events, timeline_events * 4)
    due = 1_000 if args.smoke else 10_000

    # Production settings (DEBUG off), reached over plain HTTP on loopback, with no throttling: the throttle would
    # measure its own rate, not our code.
    os.environ.update(
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="0",
        API_THROTTLE_USER_RATE="100000000/minute",
        API_THROTTLE_ADDRESS_RATE="100000000/minute",
        # The growth row reads a story past the default bound on one answer (EXPORT_MAX_RECORDS, 20,000 records),
        # as a deployment that raised it would.
        EXPORT_MAX_RECORDS=str(stories[-1] * 2),
    )
    setup_django()
    ensure_database()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    assert not settings.DEBUG
    # pgtrigger logs every trigger it installs at INFO: noise above the table.
    logging.getLogger("pgtrigger").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    story_ids = ensure_load(patients, stories, due)
    ops = operations(story_ids, timeline_events, args.users)
    for op in ops:
        capture(op)

    # Query counts must not grow with the data; the FHIR export must grow linearly.
    small, big, huge = (story_ids[s] for s in stories)
    token = ops[0].clients[0]["token"]
    growth = {}
    for name, suffix in (("timeline", "timeline/"), ("FHIR", "fhir/")):
        growth[name] = [count_queries(f"{API}/patients/{pid}/{suffix}", token) for pid in (small, big, huge)]
    scan = measure_scan()
    connection.close()

    workdir = tempfile.mkdtemp(prefix="bench-")
    spec_path = os.path.join(workdir, "spec.json")
    baseline_path = os.path.join(workdir, "baseline.json")
    Path(spec_path).write_text(json.dumps({op.name: {"clients": op.clients} for op in ops}))
    Path(baseline_path).write_text(
        json.dumps({op.name: {"statements": op.statements, "write": op.kind == "write"} for op in ops})
    )
    env = {
        **os.environ,
        "BENCH_BASELINE_OPERATIONS": baseline_path,
        "BENCH_BASELINE_DATABASE_URL": os.environ["DATABASE_URL"],
    }
    ours_server, ours_url = start_server("config.wsgi:application", env, args.workers)
    base_server, base_url = start_server("benchmarks.baseline:application", env, args.workers)
    results: list[tuple[Operation, Figures, Figures]] = []
    try:
        for op in ops:
            ours = run_load(ours_url, op, spec_path, args.users, seconds, workdir)
            base = run_load(base_url, op, spec_path, args.users, seconds, workdir)
            results.append((op, ours, base))
        worker_mib = worker_peak_mib(ours_server)
        base_worker_mib = worker_peak_mib(base_server)
    finally:
        stop_server(ours_server)
        stop_server(base_server)

    # Print ------------------------------------------------------------------------------------------------
    met, total = 0, 0
    lines = []
    header = (
        f"{'operation':<40} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'base req/s':>10} {'ratio':>6} "
        f"{'queries':>7}  target"
    )
    lines.append(header)
    lines.append("-" * len(header))
    for op, ours, base in results:
        ratio = ours.rps / base.rps if base.rps else 0.0
        target = READ_TARGET if op.kind == "read" else WRITE_TARGET
        ok = ratio >= target and ours.failures == 0 and base.failures == 0
        met, total = met + ok, total + 1
        failed = f" ({ours.failures} of ours failed)" if ours.failures else ""
        failed += f" ({base.failures} of the baseline's failed)" if base.failures else ""
        lines.append(
            f"{op.name:<40} {ours.p50_ms:>8.0f} {ours.p99_ms:>8.0f} {ours.rps:>8.1f} {base.rps:>10.1f} {ratio:>6.2f} "
            f"{op.queries:>7}  >= {target} {'met' if ok else 'NOT met'}{failed}"
        )
    scan_ratio = scan["ours_s"] / scan["baseline_s"] if scan["baseline_s"] else 0.0
    ok = scan_ratio <= SCAN_TARGET and scan["reminded"] == scan["due"]
    met, total = met + ok, total + 1
    lines.append(
        f"{'scan: ' + format(scan['checks'], ',') + ' checks, ' + format(scan['due'], ',') + ' due':<40} "
        f"{scan['ours_s'] * 1000:>8.0f} {'':>8} {'':>8} {scan['baseline_s'] * 1000:>8.0f}ms {scan_ratio:>6.2f} "
        f"{'':>7}  <= {SCAN_TARGET} {'met' if ok else 'NOT met'}"
    )
    lines.append(
        f"{'  (baseline: reminders and ' + format(scan['baseline_notifications'], ',') + ' deliveries;':<40} "
        f"reminders alone {scan['reminders_only_s'] * 1000:.0f} ms, ratio "
        f"{scan['ours_s'] / scan['reminders_only_s']:.2f})"
    )
    empty_share = scan["empty_s"] / scan["ours_s"] if scan["ours_s"] else 1.0
    ok = empty_share <= EMPTY_SCAN_SHARE
    met, total = met + ok, total + 1
    lines.append(
        f"{'scan with nothing due (same table)':<40} {scan['empty_s'] * 1000:>8.0f} {'':>8} {'':>8} {'':>10} "
        f"{empty_share:>6.2f} {'':>7}  <= {EMPTY_SCAN_SHARE} of the due scan {'met' if ok else 'NOT met'}"
    )
    flat = all(len({q for q, _ in sizes}) == 1 for sizes in growth.values())
    met, total = met + flat, total + 1
    counts = "; ".join(f"{name} " + "/".join(str(q) for q, _ in sizes) for name, sizes in growth.items())
    lines.append(
        f"{'queries at ' + '/'.join(format(s, ',') for s in stories) + ' events':<40} {counts}  flat "
        f"{'met' if flat else 'NOT met'}"
    )
    (_, t_big), (_, t_huge) = growth["FHIR"][1], growth["FHIR"][2]
    per_event = (t_huge / stories[2]) / (t_big / stories[1])
    ok = per_event <= FHIR_LINEAR
    met, total = met + ok, total + 1
    lines.append(
        f"{'FHIR export ' + format(stories[1], ',') + ' -> ' + format(stories[2], ',') + ' events':<40} "
        f"{t_big * 1000:>8.0f} {t_huge * 1000:>8.0f} ms; time per event x{per_event:.2f}  <= {FHIR_LINEAR} "
        f"{'met' if ok else 'NOT met'}"
    )
    lines.append(
        f"peak memory: web worker {worker_mib:.0f} MiB (baseline worker {base_worker_mib:.0f} MiB); "
        f"scan {scan['peak_mib']:.1f} MiB allocated by Python (tracemalloc)"
    )
    print(
        f"\nProgramme benchmark: {patients:,} patients; locust {args.users} users for {seconds} s per row on "
        f"loopback; gunicorn {args.workers} sync workers each; {os.cpu_count()} CPUs; DEBUG "
        f"{'on' if settings.DEBUG else 'off'}; one run"
    )
    print("\n".join(lines))
    print(f"targets met: {met} of {total}")
    return 0
