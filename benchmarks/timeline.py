"""Benchmark: a patient with 5,000 timeline events: the selector, the API, the page and the FHIR export.

Uses the same database of its own as benchmarks/scan.py (`<name>_bench`): it empties the patient and chain
tables there, records one patient's whole journey through the services, bulk-adds the events, and prints
the time and the number of queries of each read (best of `--repeat` runs).

    .venv/bin/python -m benchmarks.timeline [--events 5000 20000] [--repeat 3]
"""

import argparse
import sys
import time
from collections.abc import Callable
from datetime import timedelta

from benchmarks.scan import ensure_database, setup_django

RESET_SQL = (
    "TRUNCATE tracker_patient, products_chainofidentity, products_batch, products_unit, products_collection, "
    "products_signature, products_coisequence RESTART IDENTITY CASCADE"
)


def measure(run: Callable[[], object], repeat: int) -> tuple[float, int, object]:
    """Best wall time of `repeat` runs, the queries of one run, and its result."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    best, queries, result = float("inf"), 0, None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = run()
            elapsed = time.perf_counter() - started
        best, queries = min(best, elapsed), len(captured)
    return best, queries, result


def build_patient(events: int) -> tuple[object, object]:
    """A world, one patient's journey through the services, then `events` more bulk-inserted events."""
    from django.db import connection

    from tests import journey

    with connection.cursor() as cursor:
        cursor.execute(RESET_SQL)
    world = journey.build_world()
    order, administration, _ = journey.storied_patient(world, days_ago=60, course=False)
    journey.many_timeline_events(world, order.patient, administration.administered_at + timedelta(minutes=5), events)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return world, order.patient


def bench(events: int, repeat: int) -> dict:
    from django.test import Client
    from rest_framework.test import APIClient

    from tracker.chart import timeline_chart
    from tracker.fhir import patient_fhir_bundle
    from tracker.timeline import patient_timeline

    fill_started = time.perf_counter()
    world, patient = build_patient(events)
    fill = time.perf_counter() - fill_started

    row: dict = {"fill_s": fill}
    row["timeline_s"], row["timeline_q"], timeline = measure(lambda: patient_timeline(patient=patient), repeat)
    row["events"] = len(timeline.events)
    # The chart with its markup (the SVG template), as the page draws it.
    row["chart_s"], _, _ = measure(lambda: str(getattr(timeline_chart(timeline), "svg", "")), repeat)

    api = APIClient()
    api.force_authenticate(world.clinician)
    row["api_s"], row["api_q"], response = measure(lambda: api.get(f"/api/v1/patients/{patient.id}/timeline/"), repeat)
    assert response.status_code == 200, response.status_code
    row["api_kib"] = len(response.content) / 1024

    page = Client()
    page.force_login(world.clinician)
    row["page_s"], row["page_q"], response = measure(lambda: page.get(f"/patients/{patient.id}/"), repeat)
    assert response.status_code == 200, response.status_code
    row["page_kib"] = len(response.content) / 1024

    row["fhir_s"], row["fhir_q"], bundle = measure(lambda: patient_fhir_bundle(patient=patient), repeat)
    row["fhir_entries"] = len(bundle["entry"])
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="+", default=[5_000], help="bulk events added to the story")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (the best is shown)")
    args = parser.parse_args(argv)

    setup_django()
    ensure_database()
    from django.core.management import call_command
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    # Production settings otherwise: only what a test client and a bench-only user need.
    with override_settings(
        ALLOWED_HOSTS=["testserver"],
        # The test client speaks plain HTTP (as in the tests): no redirect to HTTPS.
        SECURE_SSL_REDIRECT=False,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        rows = [bench(size, args.repeat) for size in args.events]

    header = (
        f"{'events':>7} {'timeline s':>10} {'queries':>7} {'chart s':>7} {'API s':>6} {'queries':>7} {'KiB':>6} "
        f"{'page s':>6} {'queries':>7} {'KiB':>6} {'FHIR s':>6} {'queries':>7} {'fill s':>6}"
    )
    print(f"\nPatient timeline benchmark (best of {args.repeat}; queries of one run)")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['events']:>7,} {r['timeline_s']:>10.3f} {r['timeline_q']:>7} {r['chart_s']:>7.3f} "
            f"{r['api_s']:>6.3f} {r['api_q']:>7} {r['api_kib']:>6.0f} {r['page_s']:>6.3f} {r['page_q']:>7} "
            f"{r['page_kib']:>6.0f} {r['fhir_s']:>6.3f} {r['fhir_q']:>7} {r['fill_s']:>6.1f}"
        )
    # The number of queries must not grow with the story.
    flat = len({(r["timeline_q"], r["api_q"], r["page_q"], r["fhir_q"]) for r in rows}) == 1
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
