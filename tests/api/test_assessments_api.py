"""assessments/: raw measurements in, ASTCT 2019 grades out; impossible values are 400s; grade >= 2 is urgent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import journey
from tracker.models import Assessment, Reminder, ScheduledCheck

pytestmark = pytest.mark.django_db


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def measured(patient, /, **extra: object) -> dict:
    return {"patient": patient.id, "assessed_at": ago(minutes=5)} | extra


@pytest.fixture
def patient(world):
    return journey.make_patient(world)


def test_grades_are_computed_from_the_measurements_and_returned(world, patient, client_for):
    client = client_for(world.clinician)

    response = client.post(
        "/api/v1/assessments/",
        measured(
            patient,
            temperature_c=39.1,
            hypotension="fluids",
            hypoxia="high_flow",
            ice_score=5,
            consciousness="voice",
            heart_rate=118,
            spo2=91,
            oxygen_l_min=8,
            crp_mg_l=182.5,
            il6_pg_ml=1450,
        ),
    )

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert (answer["crs_grade"], answer["icans_grade"]) == (3, 2)
    assert answer["temperature_c"] == 39.1
    assert (answer["heart_rate"], answer["spo2"], answer["oxygen_l_min"]) == (118, 91, 8)
    assert (answer["crp_mg_l"], answer["il6_pg_ml"], answer["ferritin_ng_ml"]) == (182.5, 1450, None)
    assert answer["assessed_by"] == "doc"
    assert answer["id"] == Assessment.objects.get().id
    assert client.get(f"/api/v1/assessments/{answer['id']}/").json() == answer


def test_grades_in_the_request_are_ignored(world, patient, client_for):
    response = client_for(world.clinician).post(
        "/api/v1/assessments/", measured(patient, temperature_c=38.4, hypotension="one_vasopressor", crs_grade=0)
    )

    assert response.status_code == 201, response.json()
    assert response.json()["crs_grade"] == 3


def test_a_masked_fever_still_grades_crs_by_hypoxia(world, patient, client_for):
    client = client_for(world.clinician)
    # Masking needs CRS graded before, or an antipyretic or anti-cytokine treatment on record before.
    given = (timezone.now() - timedelta(hours=2)).isoformat()
    tocilizumab = {"patient": patient.id, "given_at": given, "kind": "tocilizumab", "drug": "tocilizumab"}
    assert client.post("/api/v1/interventions/", tocilizumab).status_code == 201

    response = client.post(
        "/api/v1/assessments/", measured(patient, temperature_c=37.0, fever_masked=True, hypoxia="low_flow")
    )

    assert response.json()["crs_grade"] == 2


def test_without_fever_or_masking_there_is_no_crs(world, patient, client_for):
    response = client_for(world.clinician).post(
        "/api/v1/assessments/", measured(patient, temperature_c=37.2, hypotension="multiple_vasopressors")
    )

    assert response.json()["crs_grade"] == 0


def test_ice_items_give_the_ice_score_and_the_icans_grade(world, patient, client_for):
    items = {"orientation": 3, "naming": 3, "following_commands": 1, "writing": 0, "attention": 1}

    response = client_for(world.clinician).post("/api/v1/assessments/", measured(patient, ice_items=items))

    assert response.status_code == 201, response.json()
    assert (response.json()["ice_score"], response.json()["icans_grade"]) == (8, 1)
    assert response.json()["ice_items"] == items


def test_ice_0_in_an_unarousable_patient_is_icans_4(world, patient, client_for):
    response = client_for(world.clinician).post(
        "/api/v1/assessments/", measured(patient, ice_score=0, consciousness="unarousable")
    )

    assert response.json()["icans_grade"] == 4


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"ice_score": 11}, "ice_score"),
        ({"ice_score": -1}, "ice_score"),
        ({"temperature_c": 55}, "temperature_c"),
        ({"temperature_c": 20}, "temperature_c"),
        ({"temperature_c": "hot"}, "temperature_c"),
        ({"temperature_c": 38.25}, "temperature_c"),
        ({"hypotension": "some"}, "hypotension"),
        ({"hypoxia": "tent"}, "hypoxia"),
        ({"consciousness": "dreaming"}, "consciousness"),
        ({"seizure": "maybe"}, "seizure"),
        ({"cerebral_edema": "global"}, "cerebral_edema"),
        ({"motor_weakness": "left arm"}, "motor_weakness"),
        ({"spo2": 101}, "spo2"),
        ({"heart_rate": 400}, "heart_rate"),
        ({"crp_mg_l": -3}, "crp_mg_l"),
        ({"ice_items": {"orientation": 9}}, "ice_items"),
        ({"ice_items": {"juggling": 1}}, "ice_items"),
        ({"ice_items": {"orientation": 4}}, "ice_items"),  # all five or none
        (
            {
                "ice_items": {"orientation": 4, "naming": 3, "following_commands": 1, "writing": 1, "attention": 0},
                "ice_score": 8,
            },
            "ice_score",
        ),
        ({"fever_masked": True}, "fever_masked"),  # no CRS and no antipyretic or anti-cytokine on record
        ({"capd_score": 4}, "capd_score"),  # an adult: the ICE score, not the CAPD
        ({"capd_score": 33}, "capd_score"),
        ({"oxygen_l_min": 120}, "oxygen_l_min"),
        ({"assessed_at": (timezone.now() + timedelta(hours=2)).isoformat()}, "assessed_at"),
        ({"assessed_at": None}, "assessed_at"),
        ({"patient": 999_999}, "patient"),
    ],
)
def test_impossible_values_are_a_400_naming_the_field_and_nothing_is_written(extra, field, world, patient, client_for):
    response = client_for(world.clinician).post("/api/v1/assessments/", measured(patient, **extra))

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Assessment.objects.exists()
    assert not Reminder.objects.exists()


def test_a_grade_2_crs_assessment_raises_an_urgent_reminder_visible_at_once(world, client_for):
    order, _ = journey.infused_patient(world, days_ago=2)
    client = client_for(world.clinician)

    response = client.post(
        "/api/v1/assessments/", measured(order.patient, temperature_c=39.2, hypotension="fluids", hypoxia="none")
    )

    assert response.status_code == 201, response.json()
    assert response.json()["crs_grade"] == 2
    reminders = client.get(f"/api/v1/reminders/?patient={order.patient_id}&severity=urgent").json()["results"]
    assert [(r["kind"], r["status"]) for r in reminders] == [("toxicity_grade", "open")]
    assert "CRS grade 2" in reminders[0]["message"]
    assert client.get("/api/v1/reminders/").json()["results"][0]["id"] == reminders[0]["id"]  # urgent first
    escalated = client.get(f"/api/v1/checks/?patient={order.patient_id}&source=toxicity_escalation").json()
    assert [c["status"] for c in escalated["results"]] == ["open"]


def test_a_grade_1_assessment_raises_no_reminder(world, client_for):
    order, _ = journey.infused_patient(world, days_ago=2)

    response = client_for(world.clinician).post("/api/v1/assessments/", measured(order.patient, temperature_c=38.5))

    assert response.json()["crs_grade"] == 1
    assert not Reminder.objects.filter(kind="toxicity_grade").exists()
    assert not ScheduledCheck.objects.filter(source="toxicity_escalation").exists()


def test_another_hospitals_patient_does_not_exist_for_the_caller(world, patient, client_for):
    response = client_for(world.other_clinician).post("/api/v1/assessments/", measured(patient, temperature_c=38.5))

    assert response.status_code == 400
    assert "does not exist" in response.json()["patient"][0]
    assert not Assessment.objects.exists()


def test_a_clinician_of_another_hospital_neither_sees_nor_finds_the_assessment(world, patient, client_for):
    created = client_for(world.clinician).post("/api/v1/assessments/", measured(patient)).json()
    client = client_for(world.other_clinician)

    assert client.get(f"/api/v1/assessments/{created['id']}/").status_code == 404
    assert client.get("/api/v1/assessments/").json()["results"] == []
    assert client.get(f"/api/v1/assessments/?patient={patient.id}").json()["results"] == []


def test_manufacturing_gets_403_on_assessments(world, patient, client_for):
    created = client_for(world.clinician).post("/api/v1/assessments/", measured(patient)).json()
    client = client_for(world.manufacturing)

    assert client.get("/api/v1/assessments/").status_code == 403
    assert client.get(f"/api/v1/assessments/{created['id']}/").status_code == 403
    assert client.post("/api/v1/assessments/", measured(patient)).status_code == 403
    assert Assessment.objects.count() == 1


def test_assessments_filter_by_patient_coi_time_and_grade(world, client_for):
    order, _ = journey.infused_patient(world, days_ago=3)
    other = journey.make_patient(world, mrn="H-2")
    client = client_for(world.clinician)
    calm = client.post("/api/v1/assessments/", measured(order.patient, assessed_at=ago(hours=30))).json()
    feverish = client.post("/api/v1/assessments/", measured(order.patient, temperature_c=39, hypoxia="low_flow")).json()
    elsewhere = client.post("/api/v1/assessments/", measured(other)).json()

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/assessments/?{query}")
        assert response.status_code == 200, response.json()
        return [a["id"] for a in response.json()["results"]]

    assert ids("") == [elsewhere["id"], feverish["id"], calm["id"]]
    assert ids(f"patient={order.patient_id}") == [feverish["id"], calm["id"]]
    assert ids(f"coi={order.coi}") == [feverish["id"], calm["id"]]
    assert ids("min_crs_grade=2") == [feverish["id"]]
    assert ids(f"assessed_before={ago(hours=24)}".replace("+", "%2B")) == [calm["id"]]


@pytest.mark.parametrize("rows", [1, 10])
def test_assessment_list_takes_the_same_number_of_queries_for_1_or_10(
    rows, world, patient, client_for, django_assert_max_num_queries
):
    client = client_for(world.clinician)
    for n in range(rows):
        client.post("/api/v1/assessments/", measured(patient, assessed_at=ago(minutes=10 + n), temperature_c=37))

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/assessments/")

    assert len(response.json()["results"]) == rows
