"""The clinical hard stops through HTTP: ICE items all or none, CAPD for children under 12, a masked fever only after
CRS or treatment, death ends the schedule, adverse-event seriousness and report clock, and legacy COIs found."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from products.models import ChainOfIdentity
from tests import journey
from tracker.models import AdverseEvent, AdverseEventEvent, Assessment, ScheduledCheck
from tracker.services.orders import patient_create

pytestmark = pytest.mark.django_db

ALL_ICE_ITEMS = {"orientation": 4, "naming": 3, "following_commands": 1, "writing": 1, "attention": 1}


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).replace(microsecond=0).isoformat()


def measured(patient, /, **extra: object) -> dict:
    return {"patient": patient.id, "assessed_at": ago(minutes=5)} | extra


@pytest.fixture
def patient(world):
    return journey.make_patient(world)


@pytest.fixture
def child(world):
    today = timezone.localdate()
    return patient_create(
        actor=world.coordinator,
        facility=world.hospital,
        mrn="MRN-KID",
        given_name="Pip",
        family_name="Pirrip",
        birth_date=date(today.year - 7, 1, 15),
        sex="male",
    )


# ICE items, CAPD ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", list(ALL_ICE_ITEMS))
def test_a_partial_set_of_ice_items_is_a_400(world, patient, client_for, missing):
    items = {item: points for item, points in ALL_ICE_ITEMS.items() if item != missing}

    response = client_for(world.clinician).post("/api/v1/assessments/", measured(patient, ice_items=items))

    assert response.status_code == 400 and missing in response.json()["ice_items"][0]
    assert not Assessment.objects.exists()


def test_a_child_is_graded_with_the_capd(world, child, client_for):
    response = client_for(world.clinician).post(
        "/api/v1/assessments/", measured(child, capd_score=6, consciousness="voice")
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["capd_score"], response.json()["ice_score"], response.json()["icans_grade"]) == (6, None, 2)


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"ice_score": 9}, "ice_score"), ({"ice_items": ALL_ICE_ITEMS}, "ice_items"), ({"capd_score": 40}, "capd_score")],
)
def test_an_ice_score_for_a_child_is_a_400(world, child, client_for, extra, field):
    response = client_for(world.clinician).post("/api/v1/assessments/", measured(child, **extra))

    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Assessment.objects.exists()


# Fever masked --------------------------------------------------------------------------------------------------------


def test_fever_masked_is_a_400_saying_why_until_crs_was_graded(world, patient, client_for):
    client = client_for(world.clinician)

    refused = client.post("/api/v1/assessments/", measured(patient, temperature_c=37.2, fever_masked=True))
    fever = client.post("/api/v1/assessments/", measured(patient, assessed_at=ago(hours=3), temperature_c=38.6))
    accepted = client.post("/api/v1/assessments/", measured(patient, temperature_c=37.2, fever_masked=True))

    assert refused.status_code == 400 and "only after CRS has been graded" in refused.json()["fever_masked"][0]
    assert fever.status_code == accepted.status_code == 201
    assert accepted.json()["crs_grade"] == 1


# Death --------------------------------------------------------------------------------------------------------------


def test_a_visit_recording_death_closes_the_checks_and_the_scan_raises_no_more(world, client_for):
    order, _ = journey.infused_patient(world, days_ago=2)
    client = client_for(world.clinician)
    today = timezone.localdate().isoformat()

    response = client.post(
        "/api/v1/follow-up-visits/",
        {"patient": order.patient_id, "visit_date": today, "survival_status": "dead", "death_date": today},
    )

    assert response.status_code == 201, response.json()
    checks = client.get(f"/api/v1/checks/?patient={order.patient_id}&status=open").json()["results"]
    assert checks == []
    ended = client.get(f"/api/v1/checks/?patient={order.patient_id}&status=deceased").json()["results"]
    assert ended and {c["completed_by"] for c in ended} == {f"follow_up:{response.json()['id']}"}


# Adverse events -----------------------------------------------------------------------------------------------------


def event(patient, /, **extra: object) -> dict:
    return {
        "patient": patient.id,
        "term": "infection",
        "grade": 3,
        "onset_at": ago(days=2),
        "aware_at": ago(days=1),
        "serious": True,
        "expected": False,
    } | extra


def test_an_event_without_expected_is_a_400(world, patient, client_for):
    body = event(patient)
    del body["expected"]
    client = client_for(world.clinician)

    as_json = client.post("/api/v1/adverse-events/", body)
    as_form = client.post("/api/v1/adverse-events/", body, format="multipart")

    for response in (as_json, as_form):
        assert response.status_code == 400 and "label lists this event" in response.json()["expected"][0]
    assert not AdverseEvent.objects.exists()


@pytest.mark.parametrize(
    ("extra", "outcome"), [({"grade": 4}, "ongoing"), ({"grade": 5}, "fatal"), ({"outcome": "fatal"}, "fatal")]
)
def test_grade_4_or_5_or_a_fatal_outcome_is_serious_whatever_serious_says(world, patient, client_for, extra, outcome):
    response = client_for(world.clinician).post("/api/v1/adverse-events/", event(patient, serious=False, **extra))

    assert response.status_code == 201, response.json()
    assert (response.json()["serious"], response.json()["outcome"]) == (True, outcome)
    assert response.json()["report_due_at"] is not None


def test_moving_the_awareness_time_after_the_deadline_needs_a_reason_kept_on_the_event(world, patient, client_for):
    client = client_for(world.clinician)
    created = client.post("/api/v1/adverse-events/", event(patient)).json()
    path = f"/api/v1/adverse-events/{created['id']}/"
    later = (datetime.fromisoformat(created["aware_at"]) + timedelta(hours=5)).isoformat()

    without = client.patch(path, {"aware_at": later})
    with_reason = client.patch(path, {"aware_at": later, "aware_at_reason": "Fax read the next morning"})

    assert without.status_code == 400 and "aware_at_reason" in without.json()
    assert with_reason.status_code == 200, with_reason.json()
    answer = with_reason.json()
    assert datetime.fromisoformat(answer["report_due_at"]) == datetime.fromisoformat(later) + timedelta(days=15)
    assert (answer["aware_at_changed_by"], answer["aware_at_change_reason"]) == ("doc", "Fax read the next morning")
    history = AdverseEventEvent.objects.filter(pgh_obj_id=created["id"], pgh_label="update").select_related(
        "pgh_context"
    )
    assert history.get().pgh_context.metadata["patient_reason"] == "Awareness time moved: Fax read the next morning"


def test_after_submission_the_awareness_time_is_a_409(world, patient, client_for):
    client = client_for(world.clinician)
    created = client.post("/api/v1/adverse-events/", event(patient)).json()
    client.post(f"/api/v1/adverse-events/{created['id']}/report-submitted/", {})

    response = client.patch(
        f"/api/v1/adverse-events/{created['id']}/", {"aware_at": ago(days=1, hours=2), "aware_at_reason": "Typo"}
    )

    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    assert AdverseEvent.objects.get().aware_at.isoformat() == created["aware_at"].replace("Z", "+00:00")


# Legacy COIs stay searchable ------------------------------------------------------------------------------------------


def test_a_chain_is_found_by_the_din_shaped_code_it_carried_before(world, client_for):
    order, unit = journey.bedside(world)
    administration = journey.administer(world, order, unit)
    legacy = "W432126000042" + "X"
    ChainOfIdentity.objects.filter(id=order.chain_id).update(legacy_coi=legacy)
    client = client_for(world.clinician)

    for path in ("orders", "administrations", "units", "assessments"):
        response = client.get(f"/api/v1/{path}/?coi={legacy.lower()}")
        assert response.status_code == 200, (path, response.json())
    assert [o["coi"] for o in client.get(f"/api/v1/orders/?coi={legacy}").json()["results"]] == [order.coi]
    assert [a["id"] for a in client.get(f"/api/v1/administrations/?coi={legacy}").json()["results"]] == [
        administration.id
    ]
    assert [u["unit_id"] for u in client.get(f"/api/v1/units/?coi={legacy}").json()["results"]] == [unit.unit_id]
    assert ScheduledCheck.objects.filter(patient=order.patient).exists()
    checks = client.get(f"/api/v1/checks/?coi={legacy}").json()["results"]
    assert checks and {c["patient"] for c in checks} == {order.patient_id}
