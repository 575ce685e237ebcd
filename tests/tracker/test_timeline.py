"""The patient timeline selector, its filters and the toxicity chart drawn from it."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests import holds, journey
from tracker.chart import timeline_chart
from tracker.forms import TimelineFilterForm
from tracker.services.clinical import intervention_record
from tracker.services.monitoring import administration_void, reminder_acknowledge
from tracker.services.scan import monitoring_scan
from tracker.timeline import TimelineKind, patient_timeline

pytestmark = pytest.mark.django_db

# One query per kind of record and the administrations: the bound does not depend on the number of events.
TIMELINE_QUERIES = 17


@pytest.fixture
def world():
    return journey.build_world()


@pytest.fixture
def story(world):
    order, administration, records = journey.storied_patient(world, days_ago=5)
    holds.decided_batch_hold(world, administration.unit.batch)
    journey.gvhd_staging(world, order.patient)
    monitoring_scan()
    return order, administration, records


def test_it_tells_the_whole_story_in_time_order(story):
    order, _administration, _records = story

    timeline = patient_timeline(patient=order.patient)

    kinds = Counter(e.kind for e in timeline.events)
    # An autologous story: no unit is allocated from inventory (tests/api/test_allogeneic_api.py).
    expected = set(TimelineKind.values) - {TimelineKind.ALLOCATION}
    assert set(kinds) == expected, f"missing: {expected - set(kinds)}"
    assert kinds["processing_step"] == 5
    assert kinds["qc_result"] == 4
    assert kinds["conditioning"] == 3
    assert kinds["administration"] == 1
    assert kinds["assessment"] == 6
    assert kinds["intervention"] == 2
    moments = [e.at for e in timeline.events]
    assert moments == sorted(moments)
    # The journey reads forwards: ordered, collected, made, released, shipped, infused, then watched.
    first_of = {kind: next(i for i, e in enumerate(timeline.events) if e.kind == kind) for kind in kinds}
    assert (
        first_of["order"]
        < first_of["collection"]
        < first_of["batch"]
        < first_of["processing_step"]
        < first_of["qc_result"]
        < first_of["release"]
        < first_of["custody"]
        < first_of["administration"]
        < first_of["assessment"]
    )


def test_each_event_names_its_record_and_says_what_happened(story):
    order, administration, records = story

    timeline = patient_timeline(patient=order.patient)

    infusion = next(e for e in timeline.events if e.kind == "administration")
    assert infusion.record == f"administration:{administration.id}"
    assert administration.unit.unit_id in infusion.summary
    assert "1 × 10⁸ cells" in infusion.summary  # noqa: RUF001
    assert infusion.detail["dose_cells"] == 100_000_000
    assert infusion.detail["coi"] == order.coi

    graded = next(e for e in timeline.events if e.record == f"assessment:{records['assessments'][2].id}")
    assert graded.summary.startswith("CRS grade 2, ICANS grade 0, 39.3 °C, hypotension")
    assert graded.level == "alert"
    assert graded.detail["temperature_c"] == Decimal("39.3")  # typed: the Decimal the record holds
    assert graded.detail["heart_rate"] == 118
    assert graded.detail["crp_mg_l"] == 182.0

    release = next(e for e in timeline.events if e.kind == "release")
    assert "released by" in release.summary and release.detail["disposition"] == "released"

    collection = next(e for e in timeline.events if e.kind == "collection")
    assert collection.detail["din"].startswith("W1234")

    adverse = next(e for e in timeline.events if e.kind == "adverse_event")
    assert "grade 2" in adverse.summary and "serious" in adverse.summary


def test_day_numbers_count_calendar_days_from_the_infusion(story):
    order, administration, _records = story

    timeline = patient_timeline(patient=order.patient)

    assert timeline.infused_at == administration.administered_at
    assert timeline.day_zero == timezone.localtime(administration.administered_at).date()
    by_kind = {}
    for event in timeline.events:
        by_kind.setdefault(event.kind, []).append(event.day)
    assert by_kind["administration"] == [0]
    assert by_kind["conditioning"] == [-5, -4, -3]
    assert all(day < 0 for day in by_kind["order"] + by_kind["collection"] + by_kind["processing_step"])
    assert min(by_kind["assessment"]) >= 0
    for event in timeline.events:
        if not event.date_only:
            assert event.day == (timezone.localtime(event.at).date() - timeline.day_zero).days


def test_a_voided_infusion_is_shown_but_is_not_day_zero(world):
    order, administration, _ = journey.storied_patient(world, days_ago=2, course=False)
    administration_void(administration_id=administration.id, actor=world.clinician, reason="Wrong time typed")

    timeline = patient_timeline(patient=order.patient)

    assert timeline.infused_at is None and timeline.day_zero is None
    infusion = next(e for e in timeline.events if e.kind == "administration")
    assert "VOIDED: Wrong time typed" in infusion.summary
    assert {e.day for e in timeline.events} == {None}


def test_a_patient_before_infusion_has_no_day_numbers(world):
    order = journey.make_order(world)
    journey.collect(world, order)

    timeline = patient_timeline(patient=order.patient)

    assert [e.kind for e in timeline.events] == ["collection", "order"] or [e.kind for e in timeline.events] == [
        "order",
        "collection",
    ]
    assert timeline.day_zero is None and all(e.day is None for e in timeline.events)


def test_reminders_show_whether_open_acknowledged_or_resolved(world, story):
    order, _administration, _records = story
    urgent = order.patient.reminders.filter(kind="toxicity_grade").order_by("due_at")
    reminder_acknowledge(reminder_id=urgent[0].id, actor=world.clinician)

    events = {e.record_id: e for e in patient_timeline(patient=order.patient, kinds=["reminder"]).events}

    acknowledged = events[urgent[0].id]
    assert acknowledged.detail["status"] == "acknowledged"
    assert "acknowledged by" in acknowledged.summary
    still_open = events[urgent[1].id]
    assert still_open.detail["status"] == "open" and still_open.level == "alert"
    resolved = order.patient.reminders.filter(status="resolved").first()
    if resolved is not None:
        assert events[resolved.id].detail["status"] == "resolved"


def test_kinds_filter_keeps_only_those_kinds(story):
    order, _administration, _records = story

    timeline = patient_timeline(patient=order.patient, kinds=["assessment", "intervention"])

    assert {e.kind for e in timeline.events} == {"assessment", "intervention"}
    assert len(timeline.events) == 8
    assert timeline.day_zero is not None, "day 0 is known whatever the kinds"


def test_an_unknown_kind_is_refused(story):
    order, _administration, _records = story
    with pytest.raises(ValueError, match="bogus"):
        patient_timeline(patient=order.patient, kinds=["bogus"])


def test_time_range_keeps_since_inclusive_and_until_exclusive(story):
    order, _administration, records = story
    everything = patient_timeline(patient=order.patient).events
    second = records["assessments"][1].assessed_at
    fourth = records["assessments"][3].assessed_at

    timeline = patient_timeline(patient=order.patient, since=second, until=fourth)

    assert timeline.events == [e for e in everything if second <= e.at < fourth]
    assert timeline.events[0].at == second
    assert all(e.at < fourth for e in timeline.events)


def test_day_range_is_relative_to_the_infusion(story):
    order, _administration, _records = story

    before = patient_timeline(patient=order.patient, last_day=-1)
    acute = patient_timeline(patient=order.patient, first_day=0, last_day=2)

    assert before.events and all(e.day < 0 for e in before.events)
    assert "administration" not in {e.kind for e in before.events}
    assert acute.events and {e.day for e in acute.events} <= {0, 1, 2}
    assert "administration" in {e.kind for e in acute.events}


def test_the_number_of_queries_does_not_grow_with_the_events(world, django_assert_max_num_queries):
    small, _, _ = journey.storied_patient(world, days_ago=40, course=False)
    big, administration, _ = journey.storied_patient(world, days_ago=40, course=False)
    journey.many_timeline_events(world, big.patient, administration.administered_at + timedelta(minutes=5), 5000)

    with django_assert_max_num_queries(TIMELINE_QUERIES):
        short = patient_timeline(patient=small.patient)
    with django_assert_max_num_queries(TIMELINE_QUERIES):
        long = patient_timeline(patient=big.patient)

    assert len(long.events) >= 5000 + len(short.events) - 5
    moments = [e.at for e in long.events]
    assert moments == sorted(moments)


# ---------------------------------------------------------------------------------------------------------
# Filters as the page and the API parse them.


def test_filters_accept_repeated_or_comma_separated_kinds():
    from django.http import QueryDict

    form = TimelineFilterForm(QueryDict("kind=assessment,intervention&kind=reminder"))
    assert form.is_valid(), form.errors
    assert form.timeline_arguments()["kinds"] == ["assessment", "intervention", "reminder"]


def test_a_date_until_includes_that_whole_day():
    from django.http import QueryDict

    form = TimelineFilterForm(QueryDict("since=2026-01-10&until=2026-01-12"))
    assert form.is_valid(), form.errors
    arguments = form.timeline_arguments()
    assert arguments["until"] - arguments["since"] == timedelta(days=3)
    assert timezone.localtime(arguments["since"]).hour == 0


@pytest.mark.parametrize(
    "query, field",
    [
        ("kind=bogus", "kind"),
        ("since=yesterday", "since"),
        ("since=2026-02-01&until=2026-01-01", "until"),
        ("first_day=5&last_day=1", "last_day"),
        ("first_day=x", "first_day"),
    ],
)
def test_filters_refuse_what_they_cannot_read(query, field):
    from django.http import QueryDict

    form = TimelineFilterForm(QueryDict(query))
    assert not form.is_valid()
    assert field in form.errors


# ---------------------------------------------------------------------------------------------------------
# The chart.


def test_the_chart_plots_every_assessment_and_marks_interventions(story):
    order, _administration, _records = story

    chart = timeline_chart(patient_timeline(patient=order.patient))

    assert chart is not None
    assert chart.temperature_points == 6 and chart.grade_points == 6 and chart.interventions == 2
    svg = str(chart.svg)
    assert svg.count('class="point temperature') == 6
    assert svg.count('class="point crs"') == 6 and svg.count('class="point icans"') == 6
    assert svg.count('class="intervention"') == 2
    assert 'role="img"' in svg and 'aria-labelledby="chart-title chart-desc"' in svg
    assert "Highest temperature 39.3 °C on day 2" in chart.description
    assert "Highest CRS grade 2" in chart.description and "Highest ICANS grade 2" in chart.description
    assert "tocilizumab on day 2" in chart.description
    assert chart.gvhd_points == 1
    assert len(chart.rows) == 9  # 6 assessments, 2 interventions, the GVHD staging
    assert chart.first_day <= 0 < 3 < chart.last_day


def test_the_chart_escapes_what_people_typed(world, story):
    order, _administration, _records = story
    intervention_record(
        actor=world.clinician,
        patient=order.patient,
        given_at=timezone.now() - timedelta(hours=1),
        kind="other",
        drug='<script>alert("x")</script>',
        dose=Decimal("1"),
    )

    svg = str(timeline_chart(patient_timeline(patient=order.patient)).svg)

    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_there_is_no_chart_before_the_infusion(world):
    order = journey.make_order(world)
    assert timeline_chart(patient_timeline(patient=order.patient)) is None


def test_a_long_story_is_charted_by_its_peaks(world):
    from tracker.chart import MAX_POINTS

    order, administration, _ = journey.storied_patient(world, days_ago=40, course=False)
    journey.many_timeline_events(world, order.patient, administration.administered_at + timedelta(minutes=5), 3000)
    timeline = patient_timeline(patient=order.patient)
    assessments = [e for e in timeline.events if e.kind == "assessment"]

    chart = timeline_chart(timeline)

    assert len(assessments) > MAX_POINTS >= chart.temperature_points > 0
    assert chart.grade_points <= MAX_POINTS
    hottest = max(e.detail["temperature_c"] for e in assessments)
    assert f"Highest temperature {hottest:.1f}".rstrip("0").rstrip(".") in chart.description
    assert "Each point shows the highest value of its period." in chart.description
    assert str(chart.svg).count("<text") < 200, "no label for each of hundreds of interventions"


def test_the_chart_is_drawn_without_inline_styles_or_scripts(story):
    # The Content-Security-Policy refuses inline styles and scripts: SVG presentation attributes only.
    order, _administration, _records = story

    svg = str(timeline_chart(patient_timeline(patient=order.patient)).svg)

    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="tox-chart"') and svg.endswith("</svg>")
    assert "style=" not in svg and "<script" not in svg and "<style" not in svg


def test_a_dated_record_counts_on_its_date_in_any_display_time_zone(story):
    from django.test import override_settings

    order, _administration, _records = story

    # Kiritimati is UTC+14: noon UTC is already the next day there, but a dated record keeps its date.
    with override_settings(TIME_ZONE="Pacific/Kiritimati"):
        timeline = patient_timeline(patient=order.patient)
        conditioning = [e for e in timeline.events if e.kind == "conditioning"]
        infusion = next(e for e in timeline.events if e.kind == "administration")
        assert [e.on for e in conditioning] == [e.detail.date for e in conditioning]
        assert [e.day for e in conditioning] == [(e.detail.date - timeline.day_zero).days for e in conditioning]
        assert infusion.on == timezone.localtime(infusion.at).date() == timeline.day_zero
