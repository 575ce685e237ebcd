"""Benchmark: the surveillance figures (tracker.surveillance) for 20,000 infused patients, in under a second.

Uses the benchmarks' database of its own (`<name>_bench`, see benchmarks/scan.py). `fill()` bulk-loads a realistic
post-market population in set-based SQL (INSERT ... SELECT over generate_series: no row is saved one by one); it is
a plain function so that a general load generator can call it. Then the summary is read through the selector, the
API (JSON and CSV) and the page, for every product and facility and for one product infused this year; each line
gives the best of `--repeat` runs and the number of queries.

    .venv/bin/python -m benchmarks surveillance [--patients 20000] [--repeat 3] [--explain]

The population, per patient (deterministic: the generator seeds PostgreSQL's random()):
- one course of one of two CAR-T products at one of four treatment facilities, first infused at a random time over
  the last six years;
- ten daily assessments from day 0, graded with a worst CRS of 0-4 (45/30/15/7/3 %) from a day 1-8 onset for three
  days, and a worst ICANS of 0-3 (70/15/10/5 %) from day 2-9;
- tocilizumab for CRS >= 2, a corticosteroid for ICANS >= 2 or CRS >= 3;
- an adverse event for any CRS (serious from grade 3, expected), an infection in a quarter of the patients (grade
  2-4, unexpected: a 15-day report clock; 80 % reported on time, 10 % late, 10 % not yet), 4 % deaths (a fatal event,
  or a visit recording it), 1 % secondary malignancies;
- the car_t_standard schedule (about 70 checks each, 15 years: 1.4 million rows at 20,000 patients) completed on
  time (75 %), late (10 %) or not (15 %) once due, closed after a death; a follow-up visit for each visit done, a
  third with an RCV result; the registry documents' due dates (20 each).
"""

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from benchmarks.scan import ensure_database, setup_django
from benchmarks.timeline import measure

TABLES = (
    "tracker_registryform, tracker_notification, tracker_reminder, tracker_scheduledcheck, tracker_followupvisit, "
    "tracker_adverseevent, tracker_intervention, tracker_assessment, tracker_conditioning, tracker_administration, "
    "tracker_therapyorder, tracker_patienttransfer, tracker_patientweight, tracker_patient, products_unit, "
    "products_batch, products_collection, products_chainofidentity"
)

COURSES_SQL = """
DROP TABLE IF EXISTS bench_course;
CREATE TEMP TABLE bench_course AS
SELECT g AS id,
       (%(facilities)s::bigint[])[1 + g %% array_length(%(facilities)s::bigint[], 1)] AS facility_id,
       (%(products)s::bigint[])[1 + (g / 7) %% array_length(%(products)s::bigint[], 1)] AS product_id,
       date_trunc('minute', %(now)s::timestamptz - interval '1 minute' * floor(r0 * %(span_minutes)s)) AS infused_at,
       CASE WHEN r1 < .45 THEN 0 WHEN r1 < .75 THEN 1 WHEN r1 < .90 THEN 2 WHEN r1 < .97 THEN 3 ELSE 4 END AS crs_worst,
       1 + floor(r2 * 8)::int AS crs_onset,
       CASE WHEN r3 < .70 THEN 0 WHEN r3 < .85 THEN 1 WHEN r3 < .95 THEN 2 ELSE 3 END AS icans_worst,
       2 + floor(r4 * 8)::int AS icans_onset,
       r5 < .25 AS infection, 2 + floor(r6 * 3)::int AS infection_grade, r7 AS report_draw,
       CASE WHEN r8 < .04 THEN 10 + floor(r9 * 700)::int END AS death_day,
       r8 < .02 AS death_by_event,
       r10 < .01 AS malignancy
FROM (SELECT g, random() r0, random() r1, random() r2, random() r3, random() r4, random() r5, random() r6, random() r7,
             random() r8, random() r9, random() r10
      FROM generate_series(1, %(patients)s) g) draws;
-- A death after now has not happened yet.
UPDATE bench_course SET death_day = NULL
WHERE death_day IS NOT NULL AND infused_at + interval '1 day' * death_day > %(now)s::timestamptz;
"""

FILL_SQL = """
SET session_replication_role = replica;  -- bulk load: skip audit triggers and FK checks
INSERT INTO tracker_patient
    (id, mrn, given_name, family_name, birth_date, sex, facility_id, hla, created_at, updated_at)
SELECT id, 'S' || id, 'Bench', 'Patient' || id, DATE '1970-01-01' + (id %% 9000), 'unknown', facility_id, '{}',
    now(), now()
FROM bench_course;
INSERT INTO products_chainofidentity (id, coi, status, treatment_facility_id, product_id, created_at, updated_at)
SELECT id, 'SURV' || id, 'administered', facility_id, product_id, now(), now() FROM bench_course;
INSERT INTO tracker_therapyorder (id, ordered_at, note, chain_id, ordered_by_id, patient_id, product_id)
SELECT id, infused_at - interval '40 days', '', id, %(user)s, id, product_id FROM bench_course;
INSERT INTO products_unit (id, unit_id, dose_cells, volume_ml, expires_at, status, custody_seq, temperature_excursion,
                           storage_location, created_at, updated_at, batch_id, current_facility_id, chain_id)
SELECT id, 'SURV-U' || id, 100000000, 50, infused_at + interval '1 year', 'administered', 0, false, '', now(), now(),
       %(batch)s, facility_id, id
FROM bench_course;
INSERT INTO tracker_administration (id, administered_at, route, scanned_unit, scanned_patient, dose_cells,
    premedication, infusion_reaction, note, unit_status_before, void_reason, created_at, updated_at,
    administered_by_id, unit_id, patient_id, order_id)
SELECT id, infused_at, 'iv_infusion', 'SURV-U' || id, 'S' || id, 100000000, '', '', '', 'thawed', '', now(), now(),
       %(user)s, id, id, id
FROM bench_course;

INSERT INTO tracker_assessment (assessed_at, temperature_c, hypotension, hypoxia, fever_masked, consciousness, seizure,
    motor_weakness, cerebral_edema, crs_grade, icans_grade, note, created_at, assessed_by_id, patient_id, capd_unable)
SELECT c.infused_at + interval '1 day' * d + interval '2 hours',
       CASE WHEN c.crs_worst > 0 AND d BETWEEN c.crs_onset AND c.crs_onset + 2 THEN 38.9 ELSE 37.0 END,
       'none', 'none', false, 'alert', 'none', false, 'none',
       CASE WHEN c.crs_worst > 0 AND d BETWEEN c.crs_onset AND c.crs_onset + 2 THEN c.crs_worst ELSE 0 END,
       CASE WHEN c.icans_worst > 0 AND d BETWEEN c.icans_onset AND c.icans_onset + 2 THEN c.icans_worst ELSE 0 END,
       '', now(), %(user)s, c.id, false
FROM bench_course c CROSS JOIN generate_series(0, 9) d
WHERE c.infused_at + interval '1 day' * d + interval '2 hours' <= %(now)s::timestamptz;

INSERT INTO tracker_intervention (given_at, kind, drug, dose_unit, route, indication, note, created_at, given_by_id,
                                  patient_id)
SELECT at, kind, drug, '', 'IV', indication, '', now(), %(user)s, id
FROM (SELECT id, infused_at + interval '1 day' * crs_onset + interval '3 hours' AS at, 'tocilizumab' AS kind,
             'tocilizumab' AS drug, 'crs' AS indication
      FROM bench_course WHERE crs_worst >= 2
      UNION ALL
      SELECT id, infused_at + interval '1 day' * icans_onset + interval '4 hours', 'corticosteroid', 'dexamethasone',
             'icans'
      FROM bench_course WHERE icans_worst >= 2 OR crs_worst >= 3) given
WHERE at <= %(now)s::timestamptz;

-- Adverse events: CRS as graded (expected: no expedited clock), infections (unexpected: 15 days from awareness),
-- deaths, secondary malignancies.
INSERT INTO tracker_adverseevent (term, term_text, meddra_code, grade, grading_system, onset_at, aware_at, outcome,
    serious, expected, relatedness, description, report_due_at, report_rule, report_submitted_at, created_at,
    updated_at, recorded_by_id, patient_id, aware_at_change_reason)
SELECT term, '', '', grade, 'ctcae', onset_at, onset_at + interval '1 hour', outcome, serious, expected, 'possible', '',
       due_at, '', CASE WHEN submitted_at <= %(now)s::timestamptz THEN submitted_at END, now(), now(), %(user)s, id, ''
FROM (
    SELECT id, 'crs' AS term, crs_worst AS grade,
           infused_at + interval '1 day' * crs_onset + interval '2 hours' AS onset_at,
           'resolved' AS outcome, crs_worst >= 3 AS serious, true AS expected, NULL::timestamptz AS due_at,
           CASE WHEN crs_worst >= 3 AND report_draw < .7
                THEN infused_at + interval '1 day' * (crs_onset + 10) END AS submitted_at
    FROM bench_course WHERE crs_worst >= 1
    UNION ALL
    SELECT id, 'infection', infection_grade, infused_at + interval '20 days', 'resolved', infection_grade >= 3, false,
           CASE WHEN infection_grade >= 3 THEN infused_at + interval '20 days 1 hour' + interval '15 days' END,
           CASE WHEN report_draw < .8 THEN infused_at + interval '27 days'
                WHEN report_draw < .9 THEN infused_at + interval '40 days' END
    FROM bench_course WHERE infection
    UNION ALL
    SELECT id, CASE WHEN crs_worst >= 3 THEN 'crs' ELSE 'other' END, 5,
           infused_at + interval '1 day' * death_day, 'fatal', true, false,
           infused_at + interval '1 day' * death_day + interval '1 hour' + interval '15 days',
           infused_at + interval '1 day' * (death_day + 5)
    FROM bench_course WHERE death_day IS NOT NULL AND death_by_event
    UNION ALL
    SELECT id, 'secondary_malignancy', 3, infused_at + interval '400 days', 'ongoing', true, false,
           infused_at + interval '400 days 1 hour' + interval '15 days', infused_at + interval '410 days'
    FROM bench_course WHERE malignancy
) events
WHERE onset_at + interval '1 hour' <= %(now)s::timestamptz;

-- The schedule: every occurrence of the protocol (offset in seconds from the infusion), done or not once due.
INSERT INTO tracker_scheduledcheck (kind, label, sequence, source, due_at, grace_until, severity, status, reminded_at,
                                    completed_at, completed_by, created_at, administration_id, patient_id)
SELECT kind, label, sequence, 'protocol', due_at, due_at + grace, severity,
       CASE WHEN died_at IS NOT NULL AND due_at > died_at THEN 'deceased'
            WHEN due_at > %(now)s::timestamptz THEN 'open'
            WHEN draw < .75 THEN 'completed'
            WHEN draw < .85 AND due_at + grace + interval '2 days' <= %(now)s::timestamptz THEN 'completed'
            ELSE 'open' END,
       CASE WHEN due_at <= %(now)s::timestamptz THEN due_at END,
       CASE WHEN died_at IS NOT NULL AND due_at > died_at THEN died_at
            WHEN due_at > %(now)s::timestamptz THEN NULL
            WHEN draw < .75 THEN due_at + interval '1 hour'
            WHEN draw < .85 AND due_at + grace + interval '2 days' <= %(now)s::timestamptz
                THEN due_at + grace + interval '2 days' END,
       '', now(), id, id
FROM (SELECT c.id, s.kind, s.label, s.sequence, s.severity, c.infused_at + interval '1 second' * s.seconds AS due_at,
             interval '1 hour' * s.grace_hours AS grace, random() AS draw,
             c.infused_at + interval '1 day' * c.death_day AS died_at
      FROM bench_course c
      CROSS JOIN unnest(%(kinds)s::text[], %(labels)s::text[], %(sequences)s::int[], %(seconds)s::bigint[],
                        %(graces)s::int[], %(severities)s::text[]) AS s(kind, label, sequence, seconds, grace_hours,
                                                                         severity)) schedule;

-- A follow-up visit for each visit done; a third with an RCV result. Half the deaths are recorded by a visit.
INSERT INTO tracker_followupvisit (visit_date, disease_response, survival_status, death_date, cause_of_death,
    new_malignancy, malignancy_description, car_testing_requested, rcv_result, patient_reported, note, created_at,
    recorded_by_id, patient_id)
SELECT (completed_at AT TIME ZONE 'UTC')::date, 'cr', 'alive', NULL, '', false, '', false,
       CASE WHEN random() < .33 THEN (CASE WHEN random() < .005 THEN 'positive' ELSE 'negative' END)
            ELSE 'not_done' END,
       '', '', now(), %(user)s, patient_id
FROM tracker_scheduledcheck WHERE kind = 'follow_up_visit' AND status = 'completed';
INSERT INTO tracker_followupvisit (visit_date, disease_response, survival_status, death_date, cause_of_death,
    new_malignancy, malignancy_description, car_testing_requested, rcv_result, patient_reported, note, created_at,
    recorded_by_id, patient_id)
SELECT ((infused_at + interval '1 day' * (death_day + 2)) AT TIME ZONE 'UTC')::date, 'pd', 'dead',
       ((infused_at + interval '1 day' * death_day) AT TIME ZONE 'UTC')::date, 'Disease progression', false, '',
       false, 'not_done', '', '', now(), %(user)s, id
FROM bench_course
WHERE death_day IS NOT NULL AND NOT death_by_event
  AND infused_at + interval '1 day' * (death_day + 2) <= %(now)s::timestamptz;

-- The registry documents' due dates, reminded once fallen due.
INSERT INTO tracker_registryform (order_id, patient_id, timepoint, due_on, status, reminded_at, created_at)
SELECT c.id, c.id, t.code, ((c.infused_at AT TIME ZONE 'UTC') + t.offset_interval)::date,
       CASE WHEN c.death_day IS NOT NULL
                 AND c.infused_at + t.offset_interval > c.infused_at + interval '1 day' * c.death_day
            THEN 'deceased' ELSE 'open' END,
       CASE WHEN c.infused_at + t.offset_interval <= %(now)s::timestamptz THEN %(now)s::timestamptz END, now()
FROM bench_course c
CROSS JOIN unnest(%(timepoints)s::text[], %(offsets)s::text[]::interval[]) AS t(code, offset_interval);
SET session_replication_role = DEFAULT;
DROP TABLE bench_course;
"""


def _reference_rows() -> dict[str, object]:
    """Facilities, products, a batch and a user the bulk rows point at (created once, through the ORM)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from products.choices import FacilityKind, Modality, Source
    from products.models import Batch, Facility, MonitoringProtocol, Product

    protocol = MonitoringProtocol.objects.get(code="car_t_standard")
    facilities = [
        Facility.objects.get_or_create(
            code=f"surv-{n}", defaults={"name": f"Surveillance hospital {n}", "kind": FacilityKind.TREATMENT}
        )[0]
        for n in range(1, 5)
    ]
    factory, _ = Facility.objects.get_or_create(
        code="surv-mfg", defaults={"name": "Surveillance factory", "kind": FacilityKind.MANUFACTURING}
    )
    products = [
        Product.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "modality": Modality.CAR_T,
                "source": Source.AUTOLOGOUS,
                "gene_modified": True,
                "shelf_life_after_thaw_minutes": 90,
                "monitoring_protocol": protocol,
            },
        )[0]
        for code, name in (("surv-cd19", "Anti-CD19 CAR-T"), ("surv-bcma", "Anti-BCMA CAR-T"))
    ]
    batch = Batch.objects.create(
        product=products[0], lot_number="SURV-LOT", facility=factory, started_at=timezone.now()
    )
    user, _ = get_user_model().objects.get_or_create(username="surveillance-bench")
    return {"facilities": facilities, "products": products, "batch": batch, "user": user, "protocol": protocol}


def _schedule(protocol_id: int) -> dict[str, list]:
    """The protocol's occurrences as offsets from an infusion (in seconds, from a reference infusion)."""
    from products.rules.schedules import protocol_occurrences
    from products.selectors import protocol_step_rules

    start = datetime(2024, 1, 1, 12, tzinfo=UTC)
    occurrences = protocol_occurrences(protocol_step_rules(protocol_id), start)
    return {
        "kinds": [o.kind for o in occurrences],
        "labels": [o.label for o in occurrences],
        "sequences": [o.sequence for o in occurrences],
        "seconds": [int((o.due_at - start).total_seconds()) for o in occurrences],
        "graces": [int(o.grace.total_seconds() // 3600) for o in occurrences],
        "severities": [o.severity for o in occurrences],
    }


def fill(
    patients: int, *, years: int = 6, seed: float = 0.42, now: datetime | None = None, vacuum: bool = True
) -> dict[str, int]:
    """Empty the patient side and load `patients` infused patients (see the module's docstring); returns the number
    of rows of each table. Reusable by a general load generator: it needs only a migrated database (`vacuum=False`
    inside a transaction, where VACUUM cannot run)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tracker.rules import registry as registry_rules

    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    with transaction.atomic():
        ref = _reference_rows()
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [seed])
            cursor.execute(
                COURSES_SQL,
                {
                    "patients": patients,
                    "facilities": [f.id for f in ref["facilities"]],  # type: ignore[attr-defined]
                    "products": [p.id for p in ref["products"]],  # type: ignore[attr-defined]
                    "now": now,
                    "span_minutes": years * 365 * 24 * 60,
                },
            )
            cursor.execute(
                FILL_SQL,
                {
                    "now": now,
                    "user": ref["user"].id,  # type: ignore[attr-defined]
                    "batch": ref["batch"].id,  # type: ignore[attr-defined]
                    **_schedule(ref["protocol"].id),  # type: ignore[attr-defined]
                    "timepoints": list(registry_rules.CODES),
                    "offsets": [
                        f"{t.offset.years} years {t.offset.months} months {t.offset.days} days"
                        for t in registry_rules.TIMEPOINTS
                    ],
                },
            )
    counts = {}
    with connection.cursor() as cursor:
        for table in ("tracker_patient", "tracker_assessment", "tracker_adverseevent", "tracker_scheduledcheck"):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a fixed table name
            counts[table] = cursor.fetchone()[0]
    # A table freshly loaded in bulk, as autovacuum leaves it: statistics, and the visibility map that lets the
    # covering indexes answer without reading the table.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    return counts


def explain(user: object, **filters: object) -> str:
    """EXPLAIN ANALYZE of the summary statement, as the selector runs it (filters: `product_id`, `since`)."""
    from django.db import connection
    from django.utils import timezone

    from tracker.surveillance import summary_statement, surveillance_facility_ids

    arguments: dict = {"product_id": None, "since": None, "until": None, **filters}
    sql, params = summary_statement(
        facility_ids=sorted(surveillance_facility_ids(user)),  # type: ignore[arg-type]
        now=timezone.now(),
        **arguments,
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def database_cpu_seconds(run: Callable[[], object], repeat: int) -> float | None:
    """The least CPU time PostgreSQL's backend spent on `run` (its /proc entry, when the server is on this machine):
    on a machine other work keeps busy, this is what the query costs, whatever the wall clock says."""
    import os

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    stat = f"/proc/{pid}/stat"
    if not os.path.exists(stat):
        return None

    def used() -> float:
        with open(stat) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    best = float("inf")
    for _ in range(repeat):
        before = used()
        run()
        best = min(best, used() - before)
    return best


def bench(size: int, repeat: int, *, show_plan: bool) -> list[tuple]:
    """Fill, then time the summary through the selector, the API (JSON, CSV) and the page, for two selections."""
    import time

    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from products.models import Product
    from tracker.surveillance import surveillance_summary

    started = time.perf_counter()
    counts = fill(size)
    filled = time.perf_counter() - started
    root, _ = get_user_model().objects.get_or_create(
        username="surveillance-root", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client()
    client.force_login(root)
    product = Product.objects.get(code="surv-cd19")
    january = timezone.localdate().replace(month=1, day=1)
    scenarios = {
        "all products, all facilities": ({}, {}),
        "one product infused this year": (
            {"product": product, "since": january},
            {"product": product.code, "since": january.isoformat()},
        ),
    }
    lines = []
    for name, (arguments, query) in scenarios.items():
        selector_s, selector_q, summary = measure(lambda a=arguments: surveillance_summary(user=root, **a), repeat)
        cpu = database_cpu_seconds(lambda a=arguments: surveillance_summary(user=root, **a), repeat)
        api_s, api_q, api = measure(lambda q=query: client.get("/api/v1/surveillance/summary/", q), repeat)
        csv_s, _, csv = measure(lambda q=query: client.get("/api/v1/surveillance/summary.csv", q), repeat)
        page_s, page_q, page = measure(lambda q=query: client.get("/surveillance/", q), repeat)
        assert (api.status_code, csv.status_code, page.status_code) == (200, 200, 200)  # type: ignore[attr-defined]
        assert api.json()["patients_infused"] == summary.total.patients_infused  # type: ignore[attr-defined]
        counted = summary.total.patients_infused  # type: ignore[attr-defined]
        lines.append((size, name, counted, selector_s, selector_q, cpu, api_s, api_q, csv_s, page_s, page_q))
    if show_plan:
        print(explain(root))
    print(
        f"\nloaded {counts['tracker_patient']:,} patients, {counts['tracker_assessment']:,} assessments, "
        f"{counts['tracker_adverseevent']:,} adverse events, {counts['tracker_scheduledcheck']:,} scheduled checks "
        f"in {filled:.0f} s"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, nargs="+", default=[20_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="print the summary statement's plan")
    args = parser.parse_args(argv)

    setup_django()
    ensure_database()
    from django.core.management import call_command
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    # Production settings otherwise: only what a test client and a bench-only user need.
    with override_settings(
        ALLOWED_HOSTS=["testserver"],
        SECURE_SSL_REDIRECT=False,
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        lines = [line for size in args.patients for line in bench(size, args.repeat, show_plan=args.explain)]

    header = (
        f"{'patients':>9} {'selection':<30} {'counted':>8} {'selector s':>10} {'q':>3} {'DB CPU s':>8} {'API s':>7} "
        f"{'q':>3} {'CSV s':>7} {'page s':>7} {'q':>3}"
    )
    print("\nSurveillance summary benchmark (best of runs; q = queries; DB CPU = the database's own CPU time)")
    print(header)
    print("-" * len(header))
    for size, name, counted, selector_s, selector_q, cpu, api_s, api_q, csv_s, page_s, page_q in lines:
        cpu_text = "-" if cpu is None else f"{cpu:.2f}"
        print(
            f"{size:>9,} {name:<30} {counted:>8,} {selector_s:>10.3f} {selector_q:>3} {cpu_text:>8} {api_s:>7.3f} "
            f"{api_q:>3} {csv_s:>7.3f} {page_s:>7.3f} {page_q:>3}"
        )
    target = all(line[3] < 1.0 for line in lines)
    print(f"\ntarget (the figures in under a second): {'met' if target else 'NOT met'}")
    return 0 if target else 1


if __name__ == "__main__":
    sys.exit(main())
