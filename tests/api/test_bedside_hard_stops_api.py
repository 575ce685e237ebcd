"""The bedside hard stops through HTTP: two people, two identifiers, checks before any password, one course one
schedule, and the weight of the infusion day."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from products.choices import Role
from products.models import FacilityMembership, SignatureFailure, Unit
from tests import journey
from tests.factories import UserFactory
from tracker.choices import CheckSource
from tracker.models import Administration, PatientWeight, ScheduledCheck

pytestmark = pytest.mark.django_db


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def body(order, unit, /, **extra: object) -> dict:
    return {
        "coi": order.coi,
        "unit": unit.unit_id,
        "administered_at": ago(minutes=1),
        "route": "iv_infusion",
        "scanned_unit": unit.unit_id,
        "scanned_patient": order.patient.mrn,
        "scanned_birth_date": order.patient.birth_date.isoformat(),
        "verifier_username": "coord",
        "verifier_password": journey.TEST_PASSWORD,
    } | extra


def post(client, payload):
    return client.post("/api/v1/administrations/", payload)


def answer(response) -> tuple:
    return response.status_code, response.content


@pytest.fixture
def qa_at_hospital(world):
    FacilityMembership.objects.create(user=world.qa, facility=world.hospital)
    return world.qa


# Two identifiers ------------------------------------------------------------------------------------------------


def test_a_wristband_birth_date_that_is_not_the_patients_is_identity_mismatch(world, client_for):
    order, unit = journey.bedside(world)
    wrong = (order.patient.birth_date + timedelta(days=365)).isoformat()

    response = post(client_for(world.clinician), body(order, unit, scanned_birth_date=wrong))

    assert response.status_code == 409 and response.json()["code"] == "identity_mismatch"
    assert "birth date" in response.json()["detail"]
    assert not Administration.objects.exists() and not SignatureFailure.objects.exists()


# Nobody who may not record the administration tests or locks a password --------------------------------------------


def _five_wrong_then_right(client, payload_for) -> set:
    answers = {answer(post(client, payload_for("guess"))) for _ in range(5)}
    answers.add(answer(post(client, payload_for(journey.TEST_PASSWORD))))
    return answers


def test_a_qa_users_password_cannot_be_tested_or_locked_through_the_bedside(world, client_for, qa_at_hospital):
    """Before: any API user could post a QA user's name with guesses, learn when a guess was right (the answer
    changed) and lock the QA user's signing of batch releases after five wrong ones."""
    order, unit = journey.bedside(world)
    callers = {
        # may record administrations, but the QA user may not verify them
        "clinician": world.clinician,
        # may not record administrations at all
        "qa_at_the_ward": UserFactory(username="qa-ward", roles=[Role.QA], facilities=[world.hospital]),
        # not the patient's hospital
        "other_hospital": world.other_clinician,
    }
    for name, caller in callers.items():
        answers = _five_wrong_then_right(
            client_for(caller),
            lambda password: body(order, unit, verifier_username=qa_at_hospital.username, verifier_password=password),
        )
        assert len(answers) == 1, name  # the same answer whether the password is right or wrong
        status = next(iter(answers))[0]
        assert status in (400, 403), name
    assert not SignatureFailure.objects.exists()
    assert not Administration.objects.exists()
    # The QA user still signs: a batch release goes through.
    batch = journey.started_batch(world)
    journey.make_unit(world, batch, unit_id="BAG-RELEASE")
    journey.record_qc(world, batch)
    assert journey.release(world, batch).status == "released"


@pytest.mark.parametrize("refusal", ["wrong_wristband", "wrong_bag", "unit_expired"])
def test_a_check_that_fails_before_the_password_adds_no_signature_failure(world, client_for, refusal):
    order, unit = journey.bedside(world)
    extra = {"wrong_wristband": {"scanned_patient": "MRN-X"}, "wrong_bag": {"scanned_unit": "BAG-X"}}.get(refusal, {})
    if refusal == "unit_expired":
        Unit.objects.filter(id=unit.id).update(expires_at=timezone.now() - timedelta(minutes=1))

    answers = _five_wrong_then_right(
        client_for(world.clinician), lambda password: body(order, unit, verifier_password=password, **extra)
    )

    assert len(answers) == 1 and next(iter(answers))[0] == 409
    assert not SignatureFailure.objects.exists()


def test_a_wrong_password_of_an_allowed_check_is_a_403_on_record_and_five_lock_the_verifier(world, client_for):
    order, unit = journey.bedside(world)
    client = client_for(world.clinician)

    for _ in range(5):
        response = post(client, body(order, unit, verifier_password="not-theirs"))
        assert response.status_code == 403 and response.json()["code"] == "invalid_signature"
    locked = post(client, body(order, unit))

    assert locked.status_code == 403 and locked.json()["code"] == "signing_locked"
    assert SignatureFailure.objects.filter(signer=world.coordinator).count() == 5
    assert not Administration.objects.exists()


# One course, one schedule -----------------------------------------------------------------------------------------


def test_the_second_unit_of_a_course_joins_the_schedule_and_the_course_dose_is_summed(world, client_for):
    order, (cd4, cd8) = journey.course_at_bedside(world, dose_cells=60_000_000)
    client = client_for(world.clinician)

    first = post(client, body(order, cd4, administered_at=ago(minutes=4)))
    checks = ScheduledCheck.objects.filter(source=CheckSource.PROTOCOL).count()
    second = post(client, body(order, cd8, administered_at=ago(minutes=2)))

    assert first.status_code == second.status_code == 201, (first.json(), second.json())
    assert ScheduledCheck.objects.filter(source=CheckSource.PROTOCOL).count() == checks
    listed = client.get(f"/api/v1/administrations/?coi={order.coi}").json()["results"]
    per_bag = round(60_000_000 / Decimal("70"))
    assert [(a["course_units"], a["course_dose_cells"], a["course_dose_cells_per_kg"]) for a in listed] == [
        (2, 120_000_000, 2 * per_bag)
    ] * 2
    assert {a["dose_cells_per_kg"] for a in listed} == {per_bag}
    check_ids = {
        c["administration"] for c in client.get(f"/api/v1/checks/?patient={order.patient_id}").json()["results"]
    }
    assert check_ids == {first.json()["id"]}


# Dated weights ------------------------------------------------------------------------------------------------------


def test_weights_are_recorded_dated_and_the_infusion_uses_the_weight_of_its_day(world, client_for):
    order, unit = journey.bedside(world)
    client = client_for(world.clinician)
    path = f"/api/v1/patients/{order.patient_id}/weights/"

    today = client.post(path, {"weight_kg": 82.5, "measured_on": timezone.localdate().isoformat(), "note": "ward"})
    given = post(client, body(order, unit))
    later = client.post(path, {"weight_kg": 90, "measured_on": timezone.localdate().isoformat()})

    assert today.status_code == 201 and later.status_code == 201, (today.json(), later.json())
    assert today.json()["weight_kg"] == 82.5 and today.json()["recorded_by"] == "doc"
    assert given.json()["weight_kg"] == 82.5
    assert given.json()["dose_cells_per_kg"] == round(100_000_000 / Decimal("82.5"))
    # The infusion keeps its day's weight; the patient record shows the latest.
    assert client.get(f"/api/v1/administrations/{given.json()['id']}/").json()["weight_kg"] == 82.5
    assert client.get(f"/api/v1/patients/{order.patient_id}/").json()["weight_kg"] == 90
    listed = client.get(path).json()["results"]
    assert [w["weight_kg"] for w in listed] == [90, 82.5, 70]


def test_a_patient_registered_with_a_weight_has_a_first_dated_weight(world, client_for):
    client = client_for(world.coordinator)
    created = client.post(
        "/api/v1/patients/",
        {
            "mrn": "MRN-NEW",
            "given_name": "Rosalind",
            "family_name": "Franklin",
            "birth_date": "1980-07-25",
            "sex": "female",
            "weight_kg": 61.2,
            "weighed_on": (timezone.localdate() - timedelta(days=2)).isoformat(),
            "facility": "hospital",
        },
    )
    assert created.status_code == 201, created.json()
    weights = client.get(f"/api/v1/patients/{created.json()['id']}/weights/").json()["results"]
    assert [(w["weight_kg"], w["measured_on"]) for w in weights] == [
        (61.2, (timezone.localdate() - timedelta(days=2)).isoformat())
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"weight_kg": 0, "measured_on": "2026-01-01"}, "weight_kg"),
        ({"weight_kg": 1000, "measured_on": "2026-01-01"}, "weight_kg"),
        ({"weight_kg": 70}, "measured_on"),
        ({"weight_kg": 70, "measured_on": "2999-01-01"}, "measured_on"),
        ({"weight_kg": 70, "measured_on": "1900-01-01"}, "measured_on"),  # before birth
        ({"measured_on": "2026-01-01"}, "weight_kg"),
    ],
)
def test_an_impossible_weight_is_a_400_naming_the_field(world, client_for, payload, field):
    patient = journey.make_patient(world)

    response = client_for(world.clinician).post(f"/api/v1/patients/{patient.id}/weights/", payload)

    assert response.status_code == 400 and field in response.json(), response.json()
    assert PatientWeight.objects.filter(patient=patient).count() == 1


def test_weights_of_another_hospitals_patient_do_not_exist_for_the_caller(world, client_for):
    patient = journey.make_patient(world)
    path = f"/api/v1/patients/{patient.id}/weights/"

    assert client_for(world.other_clinician).get(path).status_code == 404
    assert (
        client_for(world.other_clinician).post(path, {"weight_kg": 1, "measured_on": "2026-01-01"}).status_code == 404
    )
    assert client_for(world.manufacturing).get(path).status_code == 403
    assert PatientWeight.objects.filter(patient=patient).count() == 1


@pytest.mark.parametrize("rows", [1, 10])
def test_the_weight_list_takes_the_same_number_of_queries_for_1_or_10(
    rows, world, client_for, django_assert_max_num_queries
):
    patient = journey.make_patient(world)
    client = client_for(world.clinician)
    for day in range(rows - 1):
        client.post(
            f"/api/v1/patients/{patient.id}/weights/",
            {"weight_kg": 70 + day, "measured_on": f"2026-01-0{day % 9 + 1}"},
        )
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(6):
        response = client.get(f"/api/v1/patients/{patient.id}/weights/")

    assert len(response.json()["results"]) == rows
