"""checks/: the monitoring schedule, read-only, for integrations: what is due for whom, and what completed it."""

from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from tests import journey
from tracker.models import ScheduledCheck

pytestmark = pytest.mark.django_db


def test_an_administration_schedules_checks_listed_by_due_time(world, client_for):
    order, administration = journey.infused_patient(world, days_ago=0.5)

    results = client_for(world.clinician).get(f"/api/v1/checks/?patient={order.patient_id}&page_size=500").json()

    checks = results["results"]
    assert len(checks) == ScheduledCheck.objects.filter(patient=order.patient).count()
    assert [c["due_at"] for c in checks] == sorted(c["due_at"] for c in checks)
    first = checks[0]
    assert (first["administration"], first["patient"], first["status"], first["source"]) == (
        administration.id,
        order.patient_id,
        "open",
        "protocol",
    )
    assert {"kind", "label", "sequence", "grace_until", "severity", "reminded_at", "completed_at"} <= set(first)


def test_an_assessment_in_the_window_completes_the_toxicity_check(world, client_for):
    order, _ = journey.infused_patient(world, days_ago=1)
    client = client_for(world.clinician)
    assessment = client.post(
        "/api/v1/assessments/",
        {"patient": order.patient_id, "assessed_at": (timezone.now() - timedelta(minutes=2)).isoformat()},
    ).json()

    completed = client.get(f"/api/v1/checks/?patient={order.patient_id}&status=completed").json()["results"]

    assert [(c["kind"], c["completed_by"]) for c in completed] == [("toxicity_check", f"assessment:{assessment['id']}")]


def test_checks_filter_by_kind_status_and_due_time(world, client_for):
    order, administration = journey.infused_patient(world, days_ago=0.5)
    other_order, _ = journey.infused_patient(world, days_ago=0.5)
    client = client_for(world.clinician)
    day_two = administration.administered_at + timedelta(days=2, minutes=1)

    def checks(query: str) -> list[dict]:
        response = client.get(f"/api/v1/checks/?patient={order.patient_id}&page_size=500&{query}")
        assert response.status_code == 200, response.json()
        return response.json()["results"]

    toxicity = checks("kind=toxicity_check")
    early = checks(f"due_before={quote(day_two.isoformat())}")
    assert toxicity and {c["kind"] for c in toxicity} == {"toxicity_check"}
    assert {c["patient"] for c in toxicity} == {order.patient_id}
    assert early and all(datetime.fromisoformat(c["due_at"]) <= day_two for c in early)
    assert len(early) < len(checks(""))
    assert checks("status=cancelled") == []
    by_coi = client.get(f"/api/v1/checks/?coi={other_order.coi}&page_size=1").json()["results"]
    assert [c["patient"] for c in by_coi] == [other_order.patient_id]
    assert client.get("/api/v1/checks/?status=late").status_code == 400


def test_a_clinician_of_another_hospital_and_manufacturing_do_not_see_the_checks(world, client_for):
    journey.infused_patient(world, days_ago=0.5)
    check = ScheduledCheck.objects.first()
    other = client_for(world.other_clinician)
    manufacturing = client_for(world.manufacturing)

    assert other.get("/api/v1/checks/").json()["results"] == []
    assert other.get(f"/api/v1/checks/{check.id}/").status_code == 404
    assert manufacturing.get("/api/v1/checks/").status_code == 403
    assert manufacturing.get(f"/api/v1/checks/{check.id}/").status_code == 403


def test_checks_are_read_only(world, client_for):
    journey.infused_patient(world, days_ago=0.5)
    check = ScheduledCheck.objects.first()
    client = client_for(world.coordinator)

    assert client.post("/api/v1/checks/", {"patient": check.patient_id}).status_code == 405
    assert client.patch(f"/api/v1/checks/{check.id}/", {"status": "completed"}).status_code == 405
    assert ScheduledCheck.objects.get(id=check.id).status == "open"


@pytest.mark.parametrize("rows", [1, 10])
def test_check_list_takes_the_same_number_of_queries_for_1_or_10(
    rows, world, client_for, django_assert_max_num_queries
):
    journey.infused_patient(world, days_ago=0.5)
    client = client_for(world.clinician)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(5):
        response = client.get(f"/api/v1/checks/?page_size={rows}")

    assert len(response.json()["results"]) == rows
