"""reminders/: urgent first, then by due time; acknowledged and resolved once, by whom and when; scoped."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from products.models import Batch
from products.services.batches import batch_complete
from tests import journey
from tracker.models import Reminder
from tracker.services.clinical import assessment_record
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db

CONTRACT_FIELDS = {"id", "patient", "kind", "due_at", "severity", "status", "message"}


def grade_2(world, patient, minutes_ago: int = 5) -> Reminder:
    """A grade-2 CRS assessment: the service raises an urgent reminder at once."""
    assessment = assessment_record(
        actor=world.clinician,
        patient=patient,
        assessed_at=timezone.now() - timedelta(minutes=minutes_ago),
        temperature_c=Decimal("39.0"),
        hypotension="fluids",
    )
    return Reminder.objects.get(dedupe_key=f"assessment:{assessment.id}")


def quarantine_reminder(world, settings) -> Reminder:
    """A batch left in quarantine too long: a product-side reminder (no patient) at the factory."""
    settings.BATCH_QUARANTINE_ALERT_DAYS = 14
    batch = journey.started_batch(world)
    batch_complete(actor=world.manufacturing, batch_id=batch.id)
    Batch.objects.filter(id=batch.id).update(status_changed_at=timezone.now() - timedelta(days=15))
    monitoring_scan()
    return Reminder.objects.get(kind="batch_quarantine")


def test_reminders_list_urgent_first_then_by_due_time_with_the_contract_fields(world, client_for):
    order, _ = journey.infused_patient(world, days_ago=1.2)
    monitoring_scan()  # day-1 checks are due, still within their grace: routine reminders
    urgent = grade_2(world, order.patient)

    results = client_for(world.clinician).get("/api/v1/reminders/").json()["results"]

    assert CONTRACT_FIELDS <= set(results[0])
    assert results[0]["id"] == urgent.id
    assert (results[0]["severity"], results[0]["kind"], results[0]["patient"]) == (
        "urgent",
        "toxicity_grade",
        order.patient_id,
    )
    routine = results[1:]
    assert routine and {r["severity"] for r in routine} == {"routine"}
    assert [r["due_at"] for r in routine] == sorted(r["due_at"] for r in routine)
    assert all(r["due_at"] < results[0]["due_at"] for r in routine)  # due earlier, yet listed after the urgent one
    assert {r["facility"] for r in results} == {"hospital"}
    # the day-1 checks' reminders, and the registry documents due on the infusion day (surveillance, issue #12)
    assert {r["kind"] for r in routine} == {"check_due", "registry_due"}
    assert all(r["check"] is not None for r in routine if r["kind"] == "check_due")


def test_reminders_filter_by_patient_status_severity_and_kind(world, client_for):
    first, second = journey.make_patient(world, mrn="H-1"), journey.make_patient(world, mrn="H-2")
    a, b = grade_2(world, first), grade_2(world, second)
    client = client_for(world.clinician)
    client.post(f"/api/v1/reminders/{b.id}/acknowledge/")

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/reminders/?{query}")
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids(f"patient={first.id}") == [a.id]
    assert ids("status=open") == [a.id]
    assert ids("status=acknowledged") == [b.id]
    assert ids("status=resolved") == []
    assert sorted(ids("severity=urgent&kind=toxicity_grade")) == sorted([a.id, b.id])
    assert ids("severity=routine") == []
    assert ids("kind=check_due") == []
    assert client.get("/api/v1/reminders/?status=snoozed").status_code == 400


def test_acknowledging_records_who_and_when_and_a_second_acknowledge_is_illegal_transition(world, client_for):
    reminder = grade_2(world, journey.make_patient(world))
    client = client_for(world.clinician)

    first = client.post(f"/api/v1/reminders/{reminder.id}/acknowledge/")
    second = client.post(f"/api/v1/reminders/{reminder.id}/acknowledge/")

    assert first.status_code == 200, first.json()
    assert (first.json()["status"], first.json()["acknowledged_by"]) == ("acknowledged", "doc")
    assert first.json()["acknowledged_at"] is not None
    assert second.status_code == 409
    assert second.json()["code"] == "illegal_transition"
    assert client.get(f"/api/v1/reminders/{reminder.id}/").json() == first.json()


def test_resolving_records_the_resolution_and_a_second_resolve_is_illegal_transition(world, client_for):
    reminder = grade_2(world, journey.make_patient(world))
    client = client_for(world.clinician)
    client.post(f"/api/v1/reminders/{reminder.id}/acknowledge/")

    first = client.post(f"/api/v1/reminders/{reminder.id}/resolve/", {"resolution": "Tocilizumab given"})
    second = client.post(f"/api/v1/reminders/{reminder.id}/resolve/", {"resolution": "again"})
    acknowledge = client.post(f"/api/v1/reminders/{reminder.id}/acknowledge/")

    assert first.status_code == 200, first.json()
    answer = first.json()
    assert (answer["status"], answer["resolved_by"], answer["resolution"]) == ("resolved", "doc", "Tocilizumab given")
    assert answer["acknowledged_by"] == "doc"
    assert (second.status_code, second.json()["code"]) == (409, "illegal_transition")
    assert (acknowledge.status_code, acknowledge.json()["code"]) == (409, "illegal_transition")
    assert Reminder.objects.get().resolution == "Tocilizumab given"


def test_resolving_without_a_resolution_says_it_was_by_hand(world, client_for):
    reminder = grade_2(world, journey.make_patient(world))

    response = client_for(world.clinician).post(f"/api/v1/reminders/{reminder.id}/resolve/")

    assert response.status_code == 200, response.json()
    assert response.json()["resolution"] == "Resolved by hand"


def test_a_resolution_too_long_is_a_400_and_the_reminder_stays_open(world, client_for):
    reminder = grade_2(world, journey.make_patient(world))

    response = client_for(world.clinician).post(f"/api/v1/reminders/{reminder.id}/resolve/", {"resolution": "x" * 201})

    assert response.status_code == 400
    assert "resolution" in response.json()
    assert Reminder.objects.get().status == "open"


def test_a_clinician_of_another_hospital_neither_sees_nor_acknowledges_the_reminder(world, client_for):
    reminder = grade_2(world, journey.make_patient(world))
    client = client_for(world.other_clinician)

    assert client.get("/api/v1/reminders/").json()["results"] == []
    assert client.get(f"/api/v1/reminders/{reminder.id}/").status_code == 404
    assert client.post(f"/api/v1/reminders/{reminder.id}/acknowledge/").status_code == 404
    assert client.post(f"/api/v1/reminders/{reminder.id}/resolve/").status_code == 404
    assert Reminder.objects.get().status == "open"


def test_manufacturing_sees_and_acknowledges_only_product_side_reminders_of_its_sites(world, client_for, settings):
    patient_reminder = grade_2(world, journey.make_patient(world))
    batch_reminder = quarantine_reminder(world, settings)
    client = client_for(world.manufacturing)

    listed = client.get("/api/v1/reminders/").json()["results"]
    acknowledged = client.post(f"/api/v1/reminders/{batch_reminder.id}/acknowledge/")

    assert [(r["id"], r["patient"], r["facility"]) for r in listed] == [(batch_reminder.id, None, "factory")]
    assert acknowledged.status_code == 200, acknowledged.json()
    assert acknowledged.json()["acknowledged_by"] == "mfg"
    assert client.get(f"/api/v1/reminders/{patient_reminder.id}/").status_code == 404
    assert client.post(f"/api/v1/reminders/{patient_reminder.id}/acknowledge/").status_code == 404
    assert Reminder.objects.get(id=patient_reminder.id).status == "open"


def test_a_hospital_clinician_does_not_see_the_factorys_product_side_reminders(world, client_for, settings):
    batch_reminder = quarantine_reminder(world, settings)
    client = client_for(world.clinician)

    assert client.get("/api/v1/reminders/").json()["results"] == []
    assert client.get(f"/api/v1/reminders/{batch_reminder.id}/").status_code == 404
    assert [r["id"] for r in client_for(world.qa).get("/api/v1/reminders/?product_side=true").json()["results"]] == [
        batch_reminder.id
    ]


def test_unauthenticated_reminder_requests_are_a_401(world, anon_client):
    reminder = grade_2(world, journey.make_patient(world))

    assert anon_client.get("/api/v1/reminders/").status_code == 401
    assert anon_client.get(f"/api/v1/reminders/{reminder.id}/").status_code == 401
    assert anon_client.post(f"/api/v1/reminders/{reminder.id}/acknowledge/").status_code == 401
    assert anon_client.post(f"/api/v1/reminders/{reminder.id}/resolve/").status_code == 401
    assert Reminder.objects.get().status == "open"


@pytest.mark.parametrize("rows", [1, 10])
def test_reminder_list_takes_the_same_number_of_queries_for_1_or_10(
    rows, world, client_for, django_assert_max_num_queries
):
    patient = journey.make_patient(world)
    for n in range(rows):
        reminder = grade_2(world, patient, minutes_ago=10 + n)
        if n % 2:
            reminder_acknowledge_and_resolve(world, client_for, reminder)
    client = client_for(world.clinician)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/reminders/")

    assert len(response.json()["results"]) == rows


def reminder_acknowledge_and_resolve(world, client_for, reminder: Reminder) -> None:
    """Some rows with an acknowledging and a resolving user, so the bound covers those joins too."""
    client = client_for(world.coordinator)
    assert client.post(f"/api/v1/reminders/{reminder.id}/acknowledge/").status_code == 200
    assert client.post(f"/api/v1/reminders/{reminder.id}/resolve/").status_code == 200
