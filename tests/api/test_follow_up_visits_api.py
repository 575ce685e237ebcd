"""follow-up-visits/: response, survival, new malignancies, RCV tests, patient-reported outcomes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import journey
from tracker.models import FollowUpVisit

pytestmark = pytest.mark.django_db


def visit(patient, /, **extra: object) -> dict:
    return {"patient": patient.id, "visit_date": timezone.localdate().isoformat()} | extra


@pytest.fixture
def patient(world):
    return journey.make_patient(world)


def test_a_visit_with_a_new_malignancy_and_car_testing_is_recorded(world, patient, client_for):
    client = client_for(world.clinician)

    response = client.post(
        "/api/v1/follow-up-visits/",
        visit(
            patient,
            disease_response="cr",
            new_malignancy=True,
            malignancy_description="Peripheral T-cell lymphoma",
            car_testing_requested=True,
            rcv_result="negative",
            wellbeing_score=7,
            patient_reported="Tired, back at work part-time.",
        ),
    )

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["id"] == FollowUpVisit.objects.get().id
    assert (answer["survival_status"], answer["disease_response"], answer["rcv_result"]) == ("alive", "cr", "negative")
    assert (answer["car_testing_requested"], answer["wellbeing_score"], answer["recorded_by"]) == (True, 7, "doc")
    assert client.get(f"/api/v1/follow-up-visits/{answer['id']}/").json() == answer


def test_a_visit_completes_the_due_follow_up_checks(world, client_for):
    order, _ = journey.infused_patient(world, days_ago=365)
    client = client_for(world.clinician)

    client.post("/api/v1/follow-up-visits/", visit(order.patient, rcv_result="negative"))

    completed = client.get(f"/api/v1/checks/?patient={order.patient_id}&status=completed").json()["results"]
    assert sorted(c["kind"] for c in completed) == ["follow_up_visit", "malignancy_screen", "rcv_test"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"visit_date": (timezone.localdate() + timedelta(days=2)).isoformat()}, "visit_date"),
        ({"survival_status": "dead"}, "death_date"),
        ({"death_date": timezone.localdate().isoformat()}, "death_date"),
        ({"wellbeing_score": 11}, "wellbeing_score"),
        ({"disease_response": "better"}, "disease_response"),
        ({"rcv_result": "maybe"}, "rcv_result"),
        ({"car_testing_requested": True}, "car_testing_requested"),
        ({"patient": 999_999}, "patient"),
    ],
)
def test_inconsistent_visits_are_a_400_naming_the_field(extra, field, world, patient, client_for):
    response = client_for(world.clinician).post("/api/v1/follow-up-visits/", visit(patient, **extra))

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not FollowUpVisit.objects.exists()


def test_a_death_is_recorded_with_its_date_and_cause(world, patient, client_for):
    response = client_for(world.clinician).post(
        "/api/v1/follow-up-visits/",
        visit(patient, survival_status="dead", death_date=timezone.localdate().isoformat(), cause_of_death="Relapse"),
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["survival_status"], response.json()["cause_of_death"]) == ("dead", "Relapse")


def test_follow_up_visits_filter_by_patient_coi_and_survival(world, client_for):
    order = journey.make_order(world, product=journey.product_of(world))
    other = journey.make_patient(world, mrn="H-2")
    client = client_for(world.clinician)
    ours = client.post("/api/v1/follow-up-visits/", visit(order.patient)).json()
    lost = client.post("/api/v1/follow-up-visits/", visit(other, survival_status="lost_to_follow_up")).json()

    def ids(query: str) -> list[int]:
        return [v["id"] for v in client.get(f"/api/v1/follow-up-visits/?{query}").json()["results"]]

    assert ids(f"patient={other.id}") == [lost["id"]]
    assert ids(f"coi={order.coi}") == [ours["id"]]
    assert ids("survival_status=lost_to_follow_up") == [lost["id"]]


def test_other_hospitals_and_manufacturing_neither_see_nor_record_visits(world, patient, client_for):
    created = client_for(world.clinician).post("/api/v1/follow-up-visits/", visit(patient)).json()
    other, manufacturing = client_for(world.other_clinician), client_for(world.manufacturing)

    assert other.get(f"/api/v1/follow-up-visits/{created['id']}/").status_code == 404
    assert other.get("/api/v1/follow-up-visits/").json()["results"] == []
    assert other.post("/api/v1/follow-up-visits/", visit(patient)).status_code == 400
    assert manufacturing.get("/api/v1/follow-up-visits/").status_code == 403
    assert manufacturing.post("/api/v1/follow-up-visits/", visit(patient)).status_code == 403
    assert FollowUpVisit.objects.count() == 1


@pytest.mark.parametrize("rows", [1, 10])
def test_follow_up_visit_list_takes_the_same_number_of_queries_for_1_or_10(
    rows, world, patient, client_for, django_assert_max_num_queries
):
    client = client_for(world.clinician)
    for n in range(rows):
        day = (timezone.localdate() - timedelta(days=30 * n)).isoformat()
        assert client.post("/api/v1/follow-up-visits/", visit(patient, visit_date=day)).status_code == 201

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/follow-up-visits/")

    assert len(response.json()["results"]) == rows
