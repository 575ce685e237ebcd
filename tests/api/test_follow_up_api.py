"""Long-term follow-up over HTTP and on the pages: registry documents by time point, patients lost to follow-up,
transfers of a patient's follow-up; scoped like every patient record, closed to the roles without patient data."""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.test import Client
from django.utils import timezone

from products.choices import Role
from tests import journey
from tests.factories import UserFactory
from tracker.models import PatientTransfer

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_registry_document_by_time_point_with_what_is_missing(world, client_for):
    order, administration = journey.infused_patient(world, days_ago=10)
    api = client_for(world.clinician)

    document = api.get(f"/api/v1/patients/{order.patient_id}/registry/", {"timepoint": "day_100"}).json()

    infused_on = timezone.localtime(administration.administered_at).date()
    assert set(document) >= {"patient", "timepoint", "due_date", "data", "missing"}
    assert (document["patient"], document["timepoint"], document["coi"]) == (order.patient_id, "day_100", order.coi)
    assert document["due_date"] == (infused_on + timedelta(days=100)).isoformat()
    assert document["missing"] == ["survival_status", "disease_response", "rcv_result"]
    assert document["data"]["window"]["first_day"] == infused_on.isoformat()

    index = api.get(f"/api/v1/patients/{order.patient_id}/registry/").json()
    assert [d["timepoint"] for d in index["documents"]][:6] == [
        "pre_infusion",
        "product",
        "infusion",
        "day_100",
        "month_6",
        "year_1",
    ]
    assert index["documents"][-1]["timepoint"] == "year_15"
    assert index["documents"][-1]["due_date"] == (infused_on + relativedelta(years=15)).isoformat()


def test_registry_documents_refuse_what_is_not_there(world, client_for):
    order, _ = journey.infused_patient(world, days_ago=1)
    api = client_for(world.clinician)
    path = f"/api/v1/patients/{order.patient_id}/registry/"

    assert api.get(path, {"timepoint": "year_16"}).status_code == 400
    assert "coi" in api.get(path, {"coi": "COI-NOT-HERS"}).json()
    waiting = journey.make_patient(world, mrn="NO-ORDER")
    refused = api.get(f"/api/v1/patients/{waiting.id}/registry/")
    assert (refused.status_code, refused.json()["code"]) == (409, "no_course")
    # another facility's patient does not exist; the roles without patient data are refused
    assert client_for(world.other_clinician).get(path).status_code == 404
    safety = UserFactory(username="safety", roles=[Role.SAFETY], facilities=[world.hospital])
    assert client_for(safety).get(path).status_code == 403
    assert client_for(world.manufacturing).get(path).status_code == 403


def test_the_registry_page_lists_each_time_point_with_what_is_missing(world):
    order, _ = journey.infused_patient(world, days_ago=10)

    page = signed_in(world.clinician).get(f"/patients/{order.patient_id}/registry/")

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("<tr data-timepoint=") == 20
    assert "conditioning" in html and "rcv_result" in html


def test_coordinators_list_the_patients_lost_to_follow_up(world, client_for):
    silent, _ = journey.infused_patient(world, days_ago=460)
    journey.infused_patient(world, days_ago=30)

    body = client_for(world.coordinator).get("/api/v1/patients/lost-to-follow-up/").json()

    assert [p["id"] for p in body["results"]] == [silent.patient_id]
    row = body["results"][0]
    assert (row["days_without_contact"], row["allowed_days"], row["coi"], row["facility"]) == (
        460,
        450,
        silent.coi,
        "hospital",
    )
    assert (
        client_for(world.coordinator)
        .get("/api/v1/patients/lost-to-follow-up/", {"facility": "elsewhere"})
        .json()["results"]
        == []
    )
    for user in (world.clinician, world.manufacturing):
        assert client_for(user).get("/api/v1/patients/lost-to-follow-up/").status_code == 403
    page = signed_in(world.coordinator).get("/follow-up/lost/")
    assert page.status_code == 200
    assert f'data-patient="{silent.patient_id}"' in page.content.decode()
    assert f"/patients/{silent.patient_id}/transfer/" in page.content.decode()
    assert signed_in(world.clinician).get("/follow-up/lost/").status_code == 403


def test_the_patient_page_flags_a_patient_lost_to_follow_up_and_leads_to_the_follow_up(world):
    silent, _ = journey.infused_patient(world, days_ago=460)
    recent, _ = journey.infused_patient(world, days_ago=30)
    coordinator = signed_in(world.coordinator)

    page = coordinator.get(f"/patients/{silent.patient_id}/").content.decode()
    assert 'data-flag="lost-to-follow-up"' in page and "450 days" in page
    assert f"/patients/{silent.patient_id}/registry/" in page
    assert f"/patients/{silent.patient_id}/transfer/" in page
    assert 'data-flag="lost-to-follow-up"' not in coordinator.get(f"/patients/{recent.patient_id}/").content.decode()
    # clinicians see the flag on the patient too; transfers and the list are the coordinators'
    seen_by_clinician = signed_in(world.clinician).get(f"/patients/{silent.patient_id}/").content.decode()
    assert 'data-flag="lost-to-follow-up"' in seen_by_clinician
    assert "/transfer/" not in seen_by_clinician and "/follow-up/lost/" not in seen_by_clinician


def test_a_coordinator_transfers_the_follow_up_through_the_api(world, client_for):
    order, _ = journey.infused_patient(world, days_ago=5)
    path = f"/api/v1/patients/{order.patient_id}/transfers/"

    refused = client_for(world.clinician).post(path, {"facility": "elsewhere", "reason": "Moved"})
    assert refused.status_code == 403
    invalid = client_for(world.coordinator).post(path, {"facility": "elsewhere", "reason": ""})
    assert invalid.status_code == 400 and "reason" in invalid.json()
    created = client_for(world.coordinator).post(path, {"facility": "elsewhere", "reason": "Moved", "mrn": "E-1"})

    assert created.status_code == 201
    body = created.json()
    assert (body["from_facility"], body["to_facility"], body["mrn"], body["transferred_by"]) == (
        "hospital",
        "elsewhere",
        "E-1",
        "coord",
    )
    # the old facility no longer sees the patient; the new one sees the patient, the history and the transfer
    assert client_for(world.clinician).get(f"/api/v1/patients/{order.patient_id}/").status_code == 404
    new_nurse = client_for(world.other_clinician)
    assert new_nurse.get(f"/api/v1/patients/{order.patient_id}/").json()["facility"] == "elsewhere"
    timeline = new_nurse.get(f"/api/v1/patients/{order.patient_id}/timeline/").json()
    assert any(e["kind"] == "administration" for e in timeline["events"])
    assert [t["id"] for t in new_nurse.get(path).json()["results"]] == [body["id"]]


def test_the_transfer_page_hands_the_patient_over(world):
    order, _ = journey.infused_patient(world, days_ago=5)
    page = signed_in(world.coordinator)
    path = f"/patients/{order.patient_id}/transfer/"
    assert page.get(path).status_code == 200
    assert signed_in(world.clinician).get(path).status_code == 403

    missing_reason = page.post(path, {"facility": "elsewhere", "reason": ""})
    assert missing_reason.status_code == 200 and not PatientTransfer.objects.exists()
    same = page.post(path, {"facility": "hospital", "reason": "Moved"})
    assert "already followed at hospital" in same.content.decode()

    done = page.post(path, {"facility": "elsewhere", "reason": "Moved near family"})

    assert done.status_code == 302 and done["Location"] == "/follow-up/lost/"
    assert PatientTransfer.objects.get().reason == "Moved near family"
