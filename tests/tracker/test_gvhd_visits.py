"""Acute GVHD at follow-up visits, through the service: the findings are kept and staged (MAGIC), the day-28 visit the
protocol names gets the response against the baseline staging, and the timeline, the chart and the FHIR export
show them."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests import journey
from tracker.chart.toxicity import timeline_chart
from tracker.choices import CheckStatus
from tracker.demo import GVHD_COURSE, gvhd_response_course
from tracker.fhir import patient_fhir_bundle
from tracker.models import FollowUpVisit, ScheduledCheck
from tracker.services.clinical import follow_up_record
from tracker.services.orders import patient_create
from tracker.timeline import Level, TimelineKind, patient_timeline

pytestmark = pytest.mark.django_db

# Grade III: skin 2 (40% BSA), liver 1 (2.4 mg/dL), upper GI 1, lower GI 2 (1200 mL/day).
BASELINE = {
    "gvhd_skin_bsa_pct": 40,
    "gvhd_bilirubin_mg_dl": Decimal("2.4"),
    "gvhd_upper_gi_persistent": True,
    "gvhd_stool_ml_per_day": 1200,
}
# Day 28: skin 1, the rest clear: a very good partial response against BASELINE.
DAY_28 = {"gvhd_skin_bsa_pct": 10, "gvhd_bilirubin_mg_dl": Decimal("1.2"), "gvhd_stool_ml_per_day": 300}


@pytest.fixture
def world():
    return journey.build_world()


def visit(world, patient, on: date, **findings: object) -> FollowUpVisit:
    return follow_up_record(actor=world.clinician, patient=patient, visit_date=on, **findings)


def day(administration, n: int) -> date:
    return timezone.localdate(administration.administered_at) + timedelta(days=n)


def test_a_staged_visit_keeps_the_findings_and_the_computed_stages_and_grade(world):
    patient = journey.make_patient(world)

    staged = visit(world, patient, timezone.localdate(), **BASELINE)

    stages = (staged.gvhd_skin_stage, staged.gvhd_liver_stage, staged.gvhd_upper_gi_stage, staged.gvhd_lower_gi_stage)
    assert stages == (2, 1, 1, 2)
    assert staged.gvhd_grade == 3
    assert (staged.gvhd_skin_bsa_pct, staged.gvhd_bilirubin_mg_dl, staged.gvhd_stool_ml_per_day) == (
        40,
        Decimal("2.4"),
        1200,
    )
    assert staged.gvhd_response == "" and staged.gvhd_response_day is None  # no course: no response


def test_a_visit_without_gvhd_findings_stages_nothing(world):
    plain = visit(world, journey.make_patient(world), timezone.localdate(), wellbeing_score=8)

    assert plain.gvhd_grade is None and plain.gvhd_skin_stage is None


@pytest.mark.parametrize(
    ("findings", "missing"),
    [
        ({"gvhd_skin_bsa_pct": 30}, {"gvhd_bilirubin_mg_dl", "gvhd_stool_ml_per_day"}),
        ({"gvhd_upper_gi_persistent": True}, {"gvhd_skin_bsa_pct", "gvhd_bilirubin_mg_dl", "gvhd_stool_ml_per_day"}),
        ({"gvhd_skin_bsa_pct": 0, "gvhd_bilirubin_mg_dl": Decimal("1.0")}, {"gvhd_stool_ml_per_day"}),
        ({"gvhd_skin_bsa_pct": 101, "gvhd_bilirubin_mg_dl": Decimal("1.0"), "gvhd_stool_episodes_per_day": 2}, set()),
    ],
)
def test_gvhd_is_staged_in_every_organ_or_not_at_all(world, findings, missing):
    patient = journey.make_patient(world)

    with pytest.raises(ValidationError) as refused:
        visit(world, patient, timezone.localdate(), **findings)

    errors = refused.value.message_dict
    assert set(errors) == (missing or {"gvhd_skin_bsa_pct"})
    assert not FollowUpVisit.objects.exists()


def test_severe_lower_gi_needs_no_stool_volume(world):
    staged = visit(
        world,
        journey.make_patient(world),
        timezone.localdate(),
        gvhd_skin_bsa_pct=0,
        gvhd_bilirubin_mg_dl=Decimal("1.0"),
        gvhd_lower_gi_severe=True,
    )

    assert (staged.gvhd_lower_gi_stage, staged.gvhd_grade) == (4, 4)


def child(world, *, weight: Decimal | None):
    today = timezone.localdate()
    return patient_create(
        actor=world.integration,
        facility=world.hospital,
        mrn="CHILD-1",
        given_name="Tom",
        family_name="Thumb",
        birth_date=today.replace(year=today.year - 10),
        sex="male",
        weight_kg=weight,
        weighed_on=today - timedelta(days=3) if weight else None,
    )


def test_a_childs_stool_volume_is_staged_per_kg_of_the_weight_on_record(world):
    patient = child(world, weight=Decimal("20.0"))

    staged = visit(
        world,
        patient,
        timezone.localdate(),
        gvhd_skin_bsa_pct=0,
        gvhd_bilirubin_mg_dl=Decimal("1.0"),
        gvhd_stool_ml_per_day=450,  # 22.5 mL/kg/day: stage 2 for a child, 0 for an adult
    )

    assert (staged.gvhd_lower_gi_stage, staged.gvhd_grade) == (2, 3)


def test_a_childs_stool_volume_without_a_weight_is_refused_but_episodes_are_staged(world):
    patient = child(world, weight=None)
    findings = {"gvhd_skin_bsa_pct": 0, "gvhd_bilirubin_mg_dl": Decimal("1.0")}

    with pytest.raises(ValidationError) as refused:
        visit(world, patient, timezone.localdate(), gvhd_stool_ml_per_day=450, **findings)
    staged = visit(world, patient, timezone.localdate(), gvhd_stool_episodes_per_day=7, **findings)

    assert "gvhd_stool_ml_per_day" in refused.value.message_dict
    assert staged.gvhd_lower_gi_stage == 2  # 7-10 episodes a day, a child


def test_the_day_28_visit_gets_the_response_against_the_staging_before_the_first_infusion(world):
    order, (first, _second) = journey.course_given(world, days_ago=(30, 26.5))
    patient = order.patient
    baseline = visit(world, patient, day(first, -1), **BASELINE)
    weekly = visit(world, patient, day(first, 14), **DAY_28)

    response = visit(world, patient, day(first, 28), **DAY_28)

    assert (response.gvhd_response, response.gvhd_response_day, response.gvhd_baseline) == ("vgpr", 28, baseline)
    assert weekly.gvhd_response == ""  # day 14 is not a day the protocol names
    check = ScheduledCheck.objects.get(administration__order=order, kind="gvhd_response")
    assert (check.status, check.completed_by) == (CheckStatus.COMPLETED, f"follow_up:{response.id}")


def test_a_response_without_a_baseline_staging_is_not_evaluable(world):
    order, (first,) = journey.course_given(world, days_ago=(29,))

    response = visit(world, order.patient, day(first, 28), **DAY_28)

    assert (response.gvhd_response, response.gvhd_baseline) == ("not_evaluable", None)


def test_progression_at_day_28(world):
    order, (first,) = journey.course_given(world, days_ago=(29,))
    visit(world, order.patient, day(first, -1), **BASELINE)

    worse = visit(world, order.patient, day(first, 28), **(BASELINE | {"gvhd_bilirubin_mg_dl": Decimal("7.5")}))

    assert (worse.gvhd_grade, worse.gvhd_response) == (3, "progression")


def test_a_visit_not_staging_gvhd_leaves_the_response_check_open(world):
    order, (first,) = journey.course_given(world, days_ago=(29,))

    visit(world, order.patient, day(first, 28), wellbeing_score=7)

    check = ScheduledCheck.objects.get(administration__order=order, kind="gvhd_response")
    assert check.status == CheckStatus.OPEN


def gvhd_course(world):
    order, (first, _second) = journey.course_given(world, days_ago=(30, 26.5))
    visit(world, order.patient, day(first, -1), **BASELINE)
    visit(world, order.patient, day(first, 28), **DAY_28)
    return order, first


def test_the_timeline_has_a_gvhd_event_per_staging_beside_the_visit(world):
    order, _first = gvhd_course(world)

    timeline = patient_timeline(patient=order.patient)

    events = [e for e in timeline.events if e.kind == TimelineKind.GVHD]
    assert [(e.day, e.level) for e in events] == [(-1, Level.ALERT), (28, Level.NOTICE)]
    assert events[0].summary == "Acute GVHD grade III (skin 2, liver 1, upper GI 1, lower GI 2)"
    assert events[1].summary == (
        "Acute GVHD grade I (skin 1, liver 0, upper GI 0, lower GI 0); day 28: very good partial response"
    )
    assert events[1].record == f"follow_up:{events[1].record_id}"
    assert len([e for e in timeline.events if e.kind == TimelineKind.FOLLOW_UP]) == 2
    only = patient_timeline(patient=order.patient, kinds=["gvhd"])
    assert [e.kind for e in only.events] == [TimelineKind.GVHD, TimelineKind.GVHD]


def test_the_chart_draws_the_gvhd_grades_and_says_the_response(world):
    order, _first = gvhd_course(world)

    chart = timeline_chart(patient_timeline(patient=order.patient))

    assert chart is not None and chart.gvhd_points == 2
    assert [p.title.split(": ", 1)[1] for p in chart.drawing.gvhd_points] == [
        "Acute GVHD grade III (skin 2, liver 1, upper GI 1, lower GI 2)",
        "Acute GVHD grade I (skin 1, liver 0, upper GI 0, lower GI 0); day 28: very good partial response",
    ]
    assert "highest grade III on day -1" in chart.description
    assert "Day 28 response: very good partial response." in chart.description
    assert [row.gvhd_grade for row in chart.rows if row.gvhd_grade] == ["III", "I"]
    assert 'class="point gvhd"' in chart.svg and "Acute GVHD grade (MAGIC)" in chart.svg


def test_the_patient_page_shows_the_stagings_on_its_timeline_and_chart(client, world):
    order, _first = gvhd_course(world)
    client.force_login(world.clinician)

    html = client.get(f"/patients/{order.patient.id}/").content.decode()

    assert html.count('data-kind="gvhd"') == 2
    assert "Acute GVHD grade I (skin 1, liver 0, upper GI 0, lower GI 0); day 28: very good partial response" in html
    assert 'class="point gvhd"' in html and "Acute GVHD grade (MAGIC)" in html


def test_the_fhir_export_carries_each_gvhd_grade_as_an_observation(world):
    order, first = gvhd_course(world)

    bundle = patient_fhir_bundle(patient=order.patient)

    observations = [e["resource"] for e in bundle["entry"] if e["resource"]["id"].startswith("gvhd-")]
    assert [o["valueCodeableConcept"]["coding"][0]["code"] for o in observations] == ["3", "1"]
    day_28 = observations[1]
    assert day_28["resourceType"] == "Observation" and day_28["code"]["coding"][0]["code"] == "acute-gvhd-grade"
    assert day_28["effectiveDateTime"] == day(first, 28).isoformat()
    components = {c["code"]["coding"][0]["code"]: c for c in day_28["component"]}
    assert components["skin-stage"]["valueInteger"] == 1
    bilirubin = components["1975-2"]["valueQuantity"]
    assert (bilirubin["value"], bilirubin["unit"], bilirubin["code"]) == (1.2, "mg/dL", "mg/dL")
    assert components["response"]["valueCodeableConcept"]["coding"][0]["code"] == "vgpr"


def test_the_demo_gvhd_response_course_ends_in_a_day_28_response(world):
    order, (_first, _second) = journey.course_given(world, days_ago=(30, 26.5))

    recorded = gvhd_response_course(patient=order.patient, clinician=world.clinician)
    again = gvhd_response_course(patient=order.patient, clinician=world.clinician)

    assert (recorded, again) == (len(GVHD_COURSE), 0)
    visits = FollowUpVisit.objects.filter(patient=order.patient).order_by("visit_date")
    assert [v.gvhd_grade for v in visits] == [3, 2, 2, 1, 1]
    assert (visits.last().gvhd_response, visits.last().gvhd_response_day) == ("vgpr", 28)


def test_the_demo_gvhd_course_records_only_what_has_happened(world):
    order, (_first,) = journey.course_given(world, days_ago=(10,))

    recorded = gvhd_response_course(patient=order.patient, clinician=world.clinician)

    assert recorded == 2  # the baseline and day 7
    assert not FollowUpVisit.objects.filter(patient=order.patient).exclude(gvhd_response="").exists()
