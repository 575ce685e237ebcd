"""Across the clinical endpoints: credentials are required, and one record costs a fixed number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests import journey
from tracker.models import Reminder, ScheduledCheck
from tracker.services.clinical import (
    adverse_event_record,
    assessment_record,
    conditioning_record,
    follow_up_record,
    intervention_record,
)

pytestmark = pytest.mark.django_db

WRITES = [
    "/api/v1/administrations/",
    "/api/v1/administrations/1/void/",
    "/api/v1/administrations/1/correct-time/",
    "/api/v1/assessments/",
    "/api/v1/interventions/",
    "/api/v1/conditioning/",
    "/api/v1/adverse-events/",
    "/api/v1/adverse-events/1/report-submitted/",
    "/api/v1/follow-up-visits/",
    "/api/v1/reminders/1/acknowledge/",
    "/api/v1/reminders/1/resolve/",
]
READS = [
    "/api/v1/administrations/1/",
    "/api/v1/assessments/1/",
    "/api/v1/interventions/1/",
    "/api/v1/conditioning/1/",
    "/api/v1/adverse-events/1/",
    "/api/v1/follow-up-visits/1/",
    "/api/v1/checks/1/",
    "/api/v1/reminders/1/",
]


@pytest.mark.parametrize("path", WRITES)
def test_clinical_writes_without_credentials_are_a_401(path, anon_client):
    response = anon_client.post(path, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("path", READS)
def test_clinical_reads_of_one_record_without_credentials_are_a_401(path, anon_client):
    assert anon_client.get(path).status_code == 401


def test_an_adverse_event_patch_without_credentials_is_a_401(anon_client):
    assert anon_client.patch("/api/v1/adverse-events/1/", {"expected": True}, format="json").status_code == 401


@pytest.fixture
def records(world) -> dict[str, int]:
    """One record of each kind for an infused patient, written through the services."""
    order, administration = journey.infused_patient(world, days_ago=1.2)
    patient, now = order.patient, timezone.now()
    assessment = assessment_record(
        actor=world.clinician,
        patient=patient,
        assessed_at=now - timedelta(minutes=3),
        temperature_c=Decimal("39"),
        hypotension="fluids",
    )
    intervention = intervention_record(
        actor=world.clinician, patient=patient, given_at=now, kind="tocilizumab", drug="tocilizumab"
    )
    conditioning = conditioning_record(
        actor=world.clinician,
        order=order,
        regimen="Flu/Cy",
        drug="fludarabine",
        dose=Decimal("30"),
        given_on=timezone.localdate() - timedelta(days=6),
        day_relative=-5,
    )
    event = adverse_event_record(
        actor=world.clinician,
        patient=patient,
        term="crs",
        grade=2,
        onset_at=now - timedelta(hours=3),
        aware_at=now - timedelta(hours=2),
        serious=True,
        expected=False,
    )
    visit = follow_up_record(actor=world.clinician, patient=patient, visit_date=timezone.localdate())
    return {
        "administrations": administration.id,
        "assessments": assessment.id,
        "interventions": intervention.id,
        "conditioning": conditioning.id,
        "adverse-events": event.id,
        "follow-up-visits": visit.id,
        "checks": ScheduledCheck.objects.filter(patient=patient).first().id,
        "reminders": Reminder.objects.get(patient=patient, kind="toxicity_grade").id,
    }


# token, the caller's facilities, the caller's roles, the record with its joins
DETAIL_BOUND = 4


@pytest.mark.parametrize(
    "resource",
    [
        "administrations",
        "assessments",
        "interventions",
        "conditioning",
        "adverse-events",
        "follow-up-visits",
        "checks",
        "reminders",
    ],
)
def test_a_clinical_detail_costs_a_fixed_number_of_queries(
    resource, records, world, client_for, django_assert_max_num_queries
):
    client = client_for(world.clinician)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(DETAIL_BOUND):
        response = client.get(f"/api/v1/{resource}/{records[resource]}/")

    assert response.status_code == 200, response.json()
    assert response.json()["id"] == records[resource]
