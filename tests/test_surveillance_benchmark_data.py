"""The surveillance benchmark's generator (benchmarks/surveillance.py `fill`) loads what the selector reads, so that
the benchmark measures real figures and the later general load generator can reuse it."""

import pytest
from django.contrib.auth import get_user_model

from benchmarks.surveillance import fill
from tracker.models import RegistryForm, ScheduledCheck
from tracker.surveillance import summary_statement, surveillance_facility_ids, surveillance_summary

pytestmark = pytest.mark.django_db


def test_the_generator_loads_a_population_the_figures_read():
    counts = fill(200, vacuum=False)

    root = get_user_model().objects.create_superuser("bench-root", "root@example.org", "x")
    summary = surveillance_summary(user=root)
    figures = summary.total
    assert counts["tracker_patient"] == figures.patients_infused == 200
    assert sum(figures.crs_max_grade.values()) == 200
    assert figures.crs_max_grade["0"] < 200 and figures.crs_onset_days.median is not None
    assert figures.serious_events["total"] == sum(
        figures.serious_events[k] for k in ("reported_on_time", "reported_late", "pending", "overdue")
    )
    assert figures.follow_up["due"] > 0 and figures.follow_up["done"] > 0
    assert len(summary.rows) == 2 * 4  # two products at four hospitals
    assert RegistryForm.objects.count() == 200 * 20
    assert ScheduledCheck.objects.filter(kind="follow_up_visit").count() == 200 * 18


def test_a_baseline_runs_the_selectors_statement_through_the_bare_driver_to_the_same_figures():
    """`make bench` compares the API with the same SQL through psycopg alone (issue #14): summary_statement is it."""
    from django.db import connection
    from django.utils import timezone

    fill(60, vacuum=False)
    root = get_user_model().objects.create_superuser("bench-root", "root@example.org", "x")
    now = timezone.now()
    summary = surveillance_summary(user=root, now=now)

    sql, params = summary_statement(
        facility_ids=sorted(surveillance_facility_ids(root)), product_id=None, since=None, until=None, now=now
    )
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:  # psycopg's own cursor, no Django in between
        cursor.execute(sql, params)
        figures, *_ = cursor.fetchone()

    overall = next(row for row in figures if row["overall"])
    assert overall["patients_infused"] == summary.total.patients_infused == 60
    assert len([row for row in figures if not row["overall"]]) == len(summary.rows)
