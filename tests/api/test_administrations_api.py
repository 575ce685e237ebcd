"""administrations/: the bedside check through HTTP. Every refusal is a 409 (or 400/403) that writes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from products.choices import Role
from products.models import ChainOfIdentity, Signature, Unit
from tests import journey
from tests.concurrency import race
from tests.factories import UserFactory
from tracker.models import Administration, ScheduledCheck

pytestmark = pytest.mark.django_db


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def body(order, unit, /, **extra: object) -> dict:
    """A matching bedside check, verified by the coordinator "coord" (pass verifier_username="doc" when the
    coordinator records)."""
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


class Unchanged:
    """Snapshot of a unit and its chain, to assert a refused administration wrote nothing."""

    def __init__(self, unit: Unit) -> None:
        unit.refresh_from_db()
        self.unit = unit
        self.state = self._state(unit)

    @staticmethod
    def _state(unit: Unit) -> tuple:
        return unit.status, unit.last_event_at, ChainOfIdentity.objects.get(id=unit.chain_id).status

    def check(self) -> None:
        self.unit.refresh_from_db()
        assert self._state(self.unit) == self.state
        assert not Administration.objects.exists()
        assert not ScheduledCheck.objects.exists()
        assert not Signature.objects.filter(meaning="verification").exists()


def refused(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.json()
    if code is not None:
        assert response.json()["code"] == code


# Recording ---------------------------------------------------------------------------------------------------


def test_a_verified_administration_records_dose_per_kg_signer_and_starts_the_schedule(world, client_for):
    order, unit = journey.bedside(world)
    client = client_for(world.clinician)

    response = client.post(
        "/api/v1/administrations/",
        body(
            order,
            unit,
            verifier_username=world.coordinator.username,
            verifier_password=world.password,
            premedication="paracetamol 1 g, diphenhydramine 25 mg",
        ),
    )

    assert response.status_code == 201, response.json()
    answer = response.json()
    administration = Administration.objects.get()
    assert answer["id"] == administration.id
    assert (answer["coi"], answer["unit"], answer["patient"]) == (order.coi, unit.unit_id, order.patient_id)
    assert answer["dose_cells"] == 100_000_000
    assert answer["weight_kg"] == 70
    assert answer["dose_cells_per_kg"] == round(100_000_000 / Decimal("70"))
    assert answer["administered_by"] == "doc"
    assert answer["verified_by"]["signer"] == "coord"
    assert answer["verified_by"]["meaning"] == "verification"
    assert answer["verified_by"]["signed_at"]
    assert answer["premedication"].startswith("paracetamol")
    assert answer["voided_at"] is None
    assert "verifier_password" not in answer
    assert Unit.objects.get(id=unit.id).status == "administered"
    assert client.get(f"/api/v1/administrations/{administration.id}/").json() == answer
    checks = client.get(f"/api/v1/checks/?patient={order.patient_id}").json()["results"]
    assert checks and {c["administration"] for c in checks} == {administration.id}


def test_an_administration_by_an_integration_is_verified_by_a_second_person_too(world, client_for):
    order, unit = journey.bedside(world)

    response = client_for(world.integration).post("/api/v1/administrations/", body(order, unit, route="injection"))

    assert response.status_code == 201, response.json()
    assert response.json()["verified_by"]["signer"] == "coord"
    assert response.json()["administered_by"] == "integ"
    assert response.json()["route"] == "injection"
    assert response.json()["scanned_birth_date"] == order.patient.birth_date.isoformat()


# Every refusal of the bedside check -----------------------------------------------------------------------------


def test_a_scanned_bag_that_is_not_the_unit_is_identity_mismatch(world, client_for):
    order, unit = journey.bedside(world)
    before = Unchanged(unit)

    response = client_for(world.clinician).post("/api/v1/administrations/", body(order, unit, scanned_unit="BAG-X"))

    refused(response, 409, "identity_mismatch")
    before.check()


def test_a_wristband_of_another_patient_is_identity_mismatch(world, client_for):
    order, unit = journey.bedside(world)
    before = Unchanged(unit)

    response = client_for(world.clinician).post(
        "/api/v1/administrations/", body(order, unit, scanned_patient="MRN-SOMEONE-ELSE")
    )

    refused(response, 409, "identity_mismatch")
    before.check()


def test_another_patients_bag_scanned_as_itself_is_identity_mismatch(world, client_for):
    order, _ = journey.bedside(world)
    _, other_unit = journey.bedside(world)
    before = Unchanged(other_unit)

    # the bag is read correctly, but it belongs to another patient's chain of identity
    response = client_for(world.clinician).post("/api/v1/administrations/", body(order, other_unit))

    refused(response, 409, "identity_mismatch")
    before.check()


def test_a_unit_of_an_unreleased_batch_is_unit_not_released(world, client_for):
    order = journey.make_order(world, product=journey.product_of(world))
    journey.collect(world, order)
    unit = journey.make_unit(world, journey.start_batch(world, order), unit_id="BAG-QUARANTINE")
    before = Unchanged(unit)

    response = client_for(world.clinician).post("/api/v1/administrations/", body(order, unit))

    refused(response, 409, "unit_not_released")
    before.check()


def test_a_unit_still_in_transit_is_unit_not_at_site(world, client_for):
    order = journey.make_order(world, product=journey.product_of(world))
    unit = journey.ship(world, journey.released_unit(world, order), at=timezone.now() - timedelta(hours=2))
    before = Unchanged(unit)

    response = client_for(world.clinician).post("/api/v1/administrations/", body(order, unit))

    refused(response, 409, "unit_not_at_site")
    before.check()


def test_a_unit_past_its_expiry_is_unit_expired(world, client_for):
    order, unit = journey.bedside(world)
    Unit.objects.filter(id=unit.id).update(expires_at=timezone.now() - timedelta(minutes=5))
    before = Unchanged(unit)

    response = client_for(world.clinician).post("/api/v1/administrations/", body(order, unit))

    refused(response, 409, "unit_expired")
    before.check()


def test_a_thawed_unit_past_its_use_by_time_is_unit_expired(world, client_for):
    order, unit = journey.bedside(world)
    client = client_for(world.clinician)
    before = Unchanged(unit)

    with time_machine.travel(unit.use_by + timedelta(minutes=1), tick=False):
        response = client.post("/api/v1/administrations/", body(order, unit, administered_at=ago()))

    refused(response, 409, "unit_expired")
    before.check()


def test_a_unit_given_once_is_already_administered(world, client_for):
    order, unit = journey.bedside(world)
    client = client_for(world.clinician)
    assert client.post("/api/v1/administrations/", body(order, unit)).status_code == 201

    response = client.post("/api/v1/administrations/", body(order, unit))

    refused(response, 409, "already_administered")
    assert Administration.objects.count() == 1


def test_a_frozen_unit_is_unit_not_thawed(world, client_for):
    order, unit = journey.bedside(world, thaw=False)
    before = Unchanged(unit)

    response = client_for(world.clinician).post("/api/v1/administrations/", body(order, unit))

    refused(response, 409, "unit_not_thawed")
    before.check()


def test_an_administration_before_the_units_last_custody_event_is_out_of_sequence(world, client_for):
    order, unit = journey.bedside(world)  # thawed ten minutes ago
    before = Unchanged(unit)

    response = client_for(world.clinician).post(
        "/api/v1/administrations/", body(order, unit, administered_at=ago(minutes=30))
    )

    refused(response, 409, "out_of_sequence")
    before.check()


def test_an_administration_in_the_future_is_a_400_on_administered_at(world, client_for):
    order, unit = journey.bedside(world)
    before = Unchanged(unit)
    later = (timezone.now() + timedelta(hours=1)).isoformat()

    response = client_for(world.clinician).post("/api/v1/administrations/", body(order, unit, administered_at=later))

    refused(response, 400)
    assert "administered_at" in response.json()
    before.check()


def test_a_wrong_verifier_password_is_a_403_invalid_signature(world, client_for):
    order, unit = journey.bedside(world)
    before = Unchanged(unit)

    response = client_for(world.clinician).post(
        "/api/v1/administrations/",
        body(order, unit, verifier_username=world.coordinator.username, verifier_password="not-it"),
    )

    refused(response, 403, "invalid_signature")
    before.check()


def test_the_administering_user_cannot_verify_their_own_check(world, client_for):
    order, unit = journey.bedside(world)
    before = Unchanged(unit)

    response = client_for(world.clinician).post(
        "/api/v1/administrations/",
        body(order, unit, verifier_username=world.clinician.username, verifier_password=world.password),
    )

    refused(response, 400)
    assert "verifier_username" in response.json()
    before.check()


def test_a_verifier_from_another_hospital_is_refused_on_the_name(world, client_for):
    order, unit = journey.bedside(world)
    before = Unchanged(unit)

    response = client_for(world.clinician).post(
        "/api/v1/administrations/",
        body(order, unit, verifier_username=world.other_clinician.username, verifier_password=world.password),
    )

    refused(response, 400)
    assert "another active clinician or coordinator of City Hospital" in response.json()["verifier_username"][0]
    before.check()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"verifier_password": None}, "verifier_password"),
        ({"verifier_password": ""}, "verifier_password"),
        ({"verifier_username": None}, "verifier_username"),
        ({"verifier_username": None, "verifier_password": None}, "verifier_username"),
        ({"verifier_username": ""}, "verifier_username"),
        ({"scanned_birth_date": None}, "scanned_birth_date"),
        ({"scanned_birth_date": "12/31/1986"}, "scanned_birth_date"),
        ({"route": "intrathecal"}, "route"),
        ({"scanned_unit": ""}, "scanned_unit"),
        ({"scanned_patient": "x" * 65}, "scanned_patient"),
        ({"administered_at": "yesterday"}, "administered_at"),
        ({"unit": "BAG-NOWHERE"}, "unit"),
        ({"coi": "W000000000000X"}, "coi"),
    ],
)
def test_invalid_administration_input_is_a_400_naming_the_field(extra, field, world, client_for):
    order, unit = journey.bedside(world)
    before = Unchanged(unit)

    # None: the field is left out of the request.
    payload = {key: value for key, value in body(order, unit, **extra).items() if value is not None}

    response = client_for(world.clinician).post("/api/v1/administrations/", payload)

    refused(response, 400)
    assert field in response.json()
    before.check()


# Access ----------------------------------------------------------------------------------------------------------


def test_an_order_or_unit_of_another_hospital_does_not_exist_for_the_caller(world, client_for):
    theirs = journey.elsewhere(world, journey.product_of(world))
    order, unit = journey.bedside(world)
    client = client_for(world.clinician)

    their_order = client.post("/api/v1/administrations/", body(theirs.order, unit))
    their_unit = client.post("/api/v1/administrations/", body(order, theirs.unit))

    refused(their_order, 400)
    assert "does not exist" in their_order.json()["coi"][0]
    refused(their_unit, 400)
    assert "does not exist" in their_unit.json()["unit"][0]
    assert not Administration.objects.exists()


def test_a_clinician_of_another_hospital_neither_sees_nor_finds_the_administration(world, client_for):
    order, unit = journey.bedside(world)
    administration = journey.administer(world, order, unit)
    client = client_for(world.other_clinician)

    assert client.get(f"/api/v1/administrations/{administration.id}/").status_code == 404
    assert client.get("/api/v1/administrations/").json()["results"] == []
    reason = {"reason": "not mine"}
    assert client.post(f"/api/v1/administrations/{administration.id}/void/", reason).status_code == 404
    assert Administration.objects.get().voided_at is None


def test_manufacturing_gets_403_on_administrations(world, client_for):
    order, unit = journey.bedside(world)
    administration = journey.administer(world, order, unit)
    client = client_for(world.manufacturing)

    assert client.get("/api/v1/administrations/").status_code == 403
    assert client.get(f"/api/v1/administrations/{administration.id}/").status_code == 403
    assert client.post("/api/v1/administrations/", body(order, unit)).status_code == 403
    assert client.post(f"/api/v1/administrations/{administration.id}/void/", {"reason": "x"}).status_code == 403
    assert Administration.objects.get().voided_at is None


def test_a_role_that_may_not_record_administrations_is_a_403(world, client_for):
    order, unit = journey.bedside(world)
    qa_at_the_hospital = UserFactory(username="qa-ward", roles=[Role.QA], facilities=[world.hospital])
    before = Unchanged(unit)

    response = client_for(qa_at_the_hospital).post("/api/v1/administrations/", body(order, unit))

    refused(response, 403, "permission_denied")
    before.check()


def test_unauthenticated_administration_requests_are_a_401(world, anon_client):
    order, unit = journey.bedside(world)

    assert anon_client.post("/api/v1/administrations/", body(order, unit), format="json").status_code == 401
    assert anon_client.get("/api/v1/administrations/1/").status_code == 401
    assert not Administration.objects.exists()


# Void and time correction ----------------------------------------------------------------------------------------


def test_voiding_an_administration_cancels_its_checks_and_returns_the_unit(world, client_for):
    order, unit = journey.bedside(world)
    administration = journey.administer(world, order, unit)
    client = client_for(world.clinician)

    response = client.post(f"/api/v1/administrations/{administration.id}/void/", {"reason": "Wrong record"})

    assert response.status_code == 200, response.json()
    assert response.json()["voided_at"] is not None
    assert (response.json()["voided_by"], response.json()["void_reason"]) == ("doc", "Wrong record")
    assert Unit.objects.get(id=unit.id).status == "thawed"
    assert set(ScheduledCheck.objects.values_list("status", flat=True)) == {"cancelled"}
    assert client.get("/api/v1/administrations/?voided=true").json()["results"][0]["id"] == administration.id
    assert client.get("/api/v1/administrations/?voided=false").json()["results"] == []


def test_voiding_twice_is_illegal_transition(world, client_for):
    order, unit = journey.bedside(world)
    administration = journey.administer(world, order, unit)
    client = client_for(world.clinician)
    assert client.post(f"/api/v1/administrations/{administration.id}/void/", {"reason": "Wrong"}).status_code == 200

    response = client.post(f"/api/v1/administrations/{administration.id}/void/", {"reason": "Again"})

    refused(response, 409, "illegal_transition")
    assert Administration.objects.get().void_reason == "Wrong"


def test_voiding_without_a_reason_is_a_400_on_reason(world, client_for):
    order, unit = journey.bedside(world)
    administration = journey.administer(world, order, unit)

    response = client_for(world.clinician).post(f"/api/v1/administrations/{administration.id}/void/", {"reason": " "})

    refused(response, 400)
    assert "reason" in response.json()
    assert Administration.objects.get().voided_at is None


def test_correcting_the_administration_time_moves_the_open_checks(world, client_for):
    order, unit = journey.bedside(world)
    administration = journey.administer(world, order, unit)
    first_due = ScheduledCheck.objects.order_by("due_at").first()
    earlier = administration.administered_at - timedelta(minutes=5)

    response = client_for(world.clinician).post(
        f"/api/v1/administrations/{administration.id}/correct-time/",
        {"administered_at": earlier.isoformat(), "reason": "Clock of the pump was wrong"},
    )

    assert response.status_code == 200, response.json()
    administration.refresh_from_db()
    assert administration.administered_at == earlier
    first_due_before = first_due.due_at
    first_due.refresh_from_db()
    assert first_due.due_at == first_due_before - timedelta(minutes=5)


def test_correcting_the_time_of_a_voided_administration_is_illegal_transition(world, client_for):
    order, unit = journey.bedside(world)
    administration = journey.administer(world, order, unit)
    client = client_for(world.clinician)
    client.post(f"/api/v1/administrations/{administration.id}/void/", {"reason": "Wrong"})

    response = client.post(
        f"/api/v1/administrations/{administration.id}/correct-time/",
        {"administered_at": ago(minutes=3), "reason": "late"},
    )

    refused(response, 409, "illegal_transition")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"administered_at": "soon", "reason": "x"}, "administered_at"),
        ({"reason": "x"}, "administered_at"),
        ({"administered_at": "2026-01-01T00:00:00Z"}, "reason"),
    ],
)
def test_invalid_time_correction_is_a_400_naming_the_field(payload, field, world, client_for):
    order, unit = journey.bedside(world)
    administration = journey.administer(world, order, unit)

    response = client_for(world.clinician).post(f"/api/v1/administrations/{administration.id}/correct-time/", payload)

    refused(response, 400)
    assert field in response.json()
    assert Administration.objects.get().administered_at == administration.administered_at


# Lists -------------------------------------------------------------------------------------------------------------


def test_administrations_filter_by_patient_coi_and_unit(world, client_for):
    first_order, first_unit = journey.bedside(world)
    second_order, second_unit = journey.bedside(world)
    first = journey.administer(world, first_order, first_unit)
    second = journey.administer(world, second_order, second_unit)
    client = client_for(world.clinician)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/administrations/?{query}")
        assert response.status_code == 200, response.json()
        return [a["id"] for a in response.json()["results"]]

    assert ids("") == [second.id, first.id]
    assert ids(f"patient={first_order.patient_id}") == [first.id]
    assert ids(f"coi={second_order.coi}") == [second.id]
    assert ids(f"unit={first_unit.unit_id}") == [first.id]
    assert ids("route=implantation") == []
    assert client.get("/api/v1/administrations/?route=oral").status_code == 400


@pytest.mark.parametrize("rows", [1, 10])
def test_administration_list_takes_the_same_number_of_queries_for_1_or_10(
    rows, world, client_for, django_assert_max_num_queries
):
    for _ in range(rows):
        order, unit = journey.bedside(world)
        journey.administer(world, order, unit)
    client = client_for(world.clinician)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/administrations/")

    assert len(response.json()["results"]) == rows


# Concurrency through HTTP -----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_administrations_of_one_unit_through_the_api_have_one_winner(api_client_for):
    world = journey.build_world()
    order, unit = journey.bedside(world)
    first_client, second_client = api_client_for(world.clinician), api_client_for(world.coordinator)

    def post(client, verifier):
        return lambda: client.post(
            "/api/v1/administrations/", body(order, unit, verifier_username=verifier), format="json"
        )

    first, second = race(post(first_client, "coord"), post(second_client, "doc"))

    assert first.status_code == 201, first.json()
    assert second.status_code == 409, second.json()
    assert second.json()["code"] == "already_administered"
    assert Administration.objects.count() == 1
