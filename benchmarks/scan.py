"""Benchmark: the monitoring scan against 100,000 and 1,000,000 scheduled checks, 10,000 of them due.

Run with `make bench` (it starts the same embedded PostgreSQL as `make run`). It uses a database of its
own (`<name>_bench`), prints a table, and leaves the developer's data alone.
"""

import argparse
import os
import resource
import sys
import time
import tracemalloc
from urllib.parse import urlsplit, urlunsplit


def bench_database_url() -> str:
    from config import paths

    url = os.environ.get("DATABASE_URL") or paths.default_database_url()
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_bench"))


def setup_django() -> None:
    os.environ["DATABASE_URL"] = bench_database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    import django

    django.setup()


def ensure_database() -> None:
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    params = {
        "dbname": "postgres",
        "user": settings["USER"],
        "host": settings["HOST"] or settings["OPTIONS"].get("host"),
    }
    if settings.get("PORT"):
        params["port"] = settings["PORT"]
    if settings.get("PASSWORD"):
        params["password"] = settings["PASSWORD"]
    with psycopg.connect(**params, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{settings["NAME"]}"')


FILL_SQL = """
SET session_replication_role = replica;  -- bulk load: skip audit triggers and FK checks
INSERT INTO tracker_patient (id, mrn, given_name, family_name, birth_date, sex, facility_id, created_at, updated_at)
SELECT g, 'B' || g, 'Bench', 'Patient' || g, DATE '1970-01-01', 'unknown', %(facility)s, now(), now()
FROM generate_series(1, %(patients)s) g;
INSERT INTO products_chainofidentity (id, coi, status, treatment_facility_id, product_id, created_at, updated_at)
SELECT g, 'BENCH' || g, 'administered', %(facility)s, %(product)s, now(), now() FROM generate_series(1, %(patients)s) g;
INSERT INTO tracker_therapyorder (id, ordered_at, note, chain_id, ordered_by_id, patient_id, product_id)
SELECT g, now(), '', g, %(user)s, g, %(product)s FROM generate_series(1, %(patients)s) g;
INSERT INTO products_unit (id, unit_id, dose_cells, volume_ml, expires_at, status, custody_seq, temperature_excursion,
                           created_at, updated_at, batch_id, current_facility_id, chain_id)
SELECT g, 'BENCH-U' || g, 100000000, 50, now() + interval '1 year', 'administered', 0, false, now(), now(),
       %(batch)s, %(facility)s, g
FROM generate_series(1, %(patients)s) g;
INSERT INTO tracker_administration (id, administered_at, route, scanned_unit, scanned_patient, dose_cells,
    premedication, infusion_reaction, note, unit_status_before, void_reason, created_at, updated_at,
    administered_by_id, unit_id, patient_id, order_id)
SELECT g, now() - interval '1 year', 'iv_infusion', 'BENCH-U' || g, 'B' || g, 100000000, '', '', '', 'thawed', '',
       now(), now(), %(user)s, g, g, g
FROM generate_series(1, %(patients)s) g;
-- Checks: the first %(due)s are due in the last hour; the rest are due in the future or already done.
INSERT INTO tracker_scheduledcheck (kind, label, sequence, source, due_at, grace_until, severity, status, completed_by,
                                    created_at, administration_id, patient_id, reminded_at)
SELECT 'follow_up_visit', 'Bench check', g, 'protocol',
       CASE WHEN g <= %(due)s THEN now() - interval '1 hour' * random()
            WHEN g %% 2 = 0 THEN now() + interval '1 day' * (1 + g %% 5000)
            ELSE now() - interval '1 day' * (1 + g %% 5000) END,
       CASE WHEN g <= %(due)s THEN now() + interval '1 day' ELSE now() + interval '2 days' * (1 + g %% 5000) END,
       'routine',
       CASE WHEN g > %(due)s AND g %% 2 = 1 THEN 'completed' ELSE 'open' END,
       '', now(), 1 + (g %% %(patients)s), 1 + (g %% %(patients)s), NULL
FROM generate_series(1, %(checks)s) g;
SET session_replication_role = DEFAULT;
"""


def reset_and_fill(checks: int, due: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from products.choices import FacilityKind
    from products.models import Batch, Facility, MonitoringProtocol, Product

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tracker_notification, tracker_reminder, tracker_scheduledcheck, tracker_administration, "
            "tracker_therapyorder, tracker_patient, products_unit, products_batch, products_chainofidentity "
            "RESTART IDENTITY CASCADE"
        )
    facility, _ = Facility.objects.get_or_create(
        code="bench", defaults={"name": "Bench", "kind": FacilityKind.TREATMENT}
    )
    mfg, _ = Facility.objects.get_or_create(
        code="bench-mfg", defaults={"name": "Bench", "kind": FacilityKind.MANUFACTURING}
    )
    product, _ = Product.objects.get_or_create(
        code="bench",
        defaults={
            "name": "Bench",
            "modality": "car_t",
            "source": "allogeneic",
            "monitoring_protocol": MonitoringProtocol.objects.get(code="car_t_standard"),
        },
    )
    from django.utils import timezone

    batch = Batch.objects.create(product=product, lot_number="BENCH", facility=mfg, started_at=timezone.now())
    user, _ = get_user_model().objects.get_or_create(username="bench")
    patients = max(1, checks // 50)
    with connection.cursor() as cursor:
        cursor.execute(
            FILL_SQL,
            {
                "facility": facility.id,
                "product": product.id,
                "batch": batch.id,
                "user": user.id,
                "patients": patients,
                "due": due,
                "checks": checks,
            },
        )
        cursor.execute("ANALYZE")


def measure_scan() -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from tracker.services.scan import monitoring_scan

    reset_queries()
    tracemalloc.start()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = monitoring_scan()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    again = monitoring_scan()
    second = time.perf_counter() - started
    return {
        "reminded": result.counts.get("checks_reminded", 0),
        "seconds": elapsed,
        "peak_mib": peak / 2**20,
        "queries": len(queries),
        "second_scan_s": second,
        "second_reminded": again.counts.get("checks_reminded", 0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--due", type=int, default=10_000)
    args = parser.parse_args(argv)

    setup_django()
    ensure_database()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    rows = []
    for size in args.sizes:
        fill_started = time.perf_counter()
        reset_and_fill(size, args.due)
        fill = time.perf_counter() - fill_started
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tracker_scheduledcheck")
            (count,) = cursor.fetchone()
        rows.append({"checks": count, "fill_s": fill, **measure_scan()})

    header = (
        f"{'checks':>10} {'due':>7} {'reminded':>9} {'scan s':>8} {'peak MiB':>9} {'queries':>8} {'rescan s':>9} "
        f"{'fill s':>7}"
    )
    print("\nMonitoring scan benchmark (one scan, then a second that must find nothing)")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['checks']:>10,} {args.due:>7,} {row['reminded']:>9,} {row['seconds']:>8.2f} {row['peak_mib']:>9.1f} "
            f"{row['queries']:>8,} {row['second_scan_s']:>9.3f} {row['fill_s']:>7.1f}"
        )
    print(f"\nmax RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    ok = all(row["reminded"] == args.due and row["second_reminded"] == 0 for row in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
