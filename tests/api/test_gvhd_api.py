"""Acute GVHD through HTTP: follow-up-visits/ takes the findings and answers the stages, the grade and, on the day
the protocol names, the response; the timeline, the checks and the FHIR export carry them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import journey
from tracker.models import FollowUpVisit

pytestmark = pytest.mark.django_db

BASELINE = {
    "gvhd_skin_bsa_pct": 40,
    "gvhd_bilirubin_mg_dl": 2.4,
    "gvhd_upper_gi_persistent": True,
    "gvhd_stool_ml_per_day": 1200,
}
DAY_28 = {"gvhd_skin_bsa_pct": 30, "gvhd_bilirubin_mg_dl": 1.5, "gvhd_stool_episodes_per_day": 2}


def body(patient, on, **extra: object) -> dict:
    return {"patient": patient.id, "visit_date": on.isoformat()} | extra


def test_a_visit_takes_the_findings_and_answers_the_stages_and_the_grade(world, client_for):
    patient = journey.make_patient(world)
    client = client_for(world.clinician)

    response = client.post("/api/v1/follow-up-visits/", body(patient, timezone.localdate(), **BASELINE))

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert {k: answer[k] for k in BASELINE} == BASELINE
    stages = [answer[f"gvhd_{organ}_stage"] for organ in ("skin", "liver", "upper_gi", "lower_gi")]
    assert (stages, answer["gvhd_grade"], answer["gvhd_response"]) == ([2, 1, 1, 2], 3, "")
    assert client.get(f"/api/v1/follow-up-visits/{answer['id']}/").json() == answer
    assert client.get("/api/v1/follow-up-visits/?min_gvhd_grade=3").json()["results"][0]["id"] == answer["id"]
    assert client.get("/api/v1/follow-up-visits/?gvhd_staged=false").json()["results"] == []


@pytest.mark.parametrize(
    ("findings", "field"),
    [
        ({"gvhd_skin_bsa_pct": 30}, "gvhd_bilirubin_mg_dl"),
        ({"gvhd_skin_bsa_pct": 30, "gvhd_bilirubin_mg_dl": 1.0}, "gvhd_stool_ml_per_day"),
        (BASELINE | {"gvhd_skin_bsa_pct": 120}, "gvhd_skin_bsa_pct"),
        (BASELINE | {"gvhd_bilirubin_mg_dl": -1}, "gvhd_bilirubin_mg_dl"),
        (BASELINE | {"gvhd_stool_ml_per_day": 50000}, "gvhd_stool_ml_per_day"),
        (BASELINE | {"gvhd_stool_episodes_per_day": "many"}, "gvhd_stool_episodes_per_day"),
    ],
)
def test_a_partial_or_impossible_staging_is_a_400_naming_the_field(world, client_for, findings, field):
    patient = journey.make_patient(world)

    response = client_for(world.clinician).post(
        "/api/v1/follow-up-visits/", body(patient, timezone.localdate(), **findings)
    )

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not FollowUpVisit.objects.exists()


def test_the_day_28_visit_answers_the_response_and_the_timeline_and_fhir_show_it(world, client_for):
    order, (first,) = journey.course_given(world, days_ago=(29,))
    day_zero = timezone.localdate(first.administered_at)
    client = client_for(world.clinician)
    baseline = client.post("/api/v1/follow-up-visits/", body(order.patient, day_zero - timedelta(days=1), **BASELINE))
    assert baseline.status_code == 201, baseline.json()

    response = client.post("/api/v1/follow-up-visits/", body(order.patient, day_zero + timedelta(days=28), **DAY_28))

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert (answer["gvhd_grade"], answer["gvhd_response"], answer["gvhd_response_day"]) == (1, "pr", 28)
    assert answer["gvhd_baseline"] == baseline.json()["id"]
    check = client.get(f"/api/v1/checks/?patient={order.patient.id}&kind=gvhd_response").json()["results"]
    assert [(c["status"], c["completed_by"], c["per_infusion"]) for c in check] == [
        ("completed", f"follow_up:{answer['id']}", False)
    ]
    timeline = client.get(f"/api/v1/patients/{order.patient.id}/timeline/?kind=gvhd").json()
    events = timeline["events"]
    assert [(e["kind"], e["day"], e["record"]) for e in events] == [
        ("gvhd", -1, f"follow_up:{baseline.json()['id']}"),
        ("gvhd", 28, f"follow_up:{answer['id']}"),
    ]
    assert (events[1]["detail"]["grade"], events[1]["detail"]["response"], events[1]["detail"]["bilirubin_mg_dl"]) == (
        1,
        "pr",
        1.5,
    )
    assert events[1]["summary"].endswith("day 28: partial response")
    assert (events[0]["level"], events[0]["detail"]["response"]) == ("alert", None)
    bundle = client.get(f"/api/v1/patients/{order.patient.id}/fhir/").json()
    grades = [
        e["resource"]["valueCodeableConcept"]["coding"][0]["display"]
        for e in bundle["entry"]
        if e["resource"]["id"].startswith("gvhd-")
    ]
    assert grades == ["Grade III", "Grade I"]


@pytest.mark.parametrize("rows", [1, 8])
def test_the_follow_up_list_stays_flat_in_queries(rows, world, client_for, django_assert_max_num_queries):
    patient = journey.make_patient(world)
    client = client_for(world.clinician)
    for n in range(rows):
        on = timezone.localdate() - timedelta(days=n)
        assert client.post("/api/v1/follow-up-visits/", body(patient, on, **BASELINE)).status_code == 201

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/follow-up-visits/")

    assert [row["gvhd_grade"] for row in response.json()["results"]] == [3] * rows
