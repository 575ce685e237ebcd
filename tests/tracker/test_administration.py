"""Bedside verification: every refusal writes nothing; a unit is given at most once, even concurrently."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.choices import CoiStatus, UnitStatus
from products.errors import InvalidSignature, UnitExpired, UnitNotReleased
from products.models import ChainOfIdentity, Unit
from products.services.units import custody_record
from tests import journey
from tests.concurrency import race
from tracker.errors import AlreadyAdministered, IdentityMismatch, UnitNotAtSite, UnitNotThawed
from tracker.models import Administration
from tracker.services.administrations import administration_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


@pytest.fixture
def ready(world):
    """An order whose thawed unit waits at the patient's bedside."""
    order = journey.make_order(world)
    unit = journey.deliver(world, journey.released_unit(world, order))
    return order, unit


def administer(world, order, unit, **overrides):
    fields = {
        "actor": world.clinician,
        "coi": order.coi,
        "unit_id": unit.unit_id,
        "administered_at": timezone.now() - timedelta(minutes=1),
        "route": "iv_infusion",
        "scanned_unit": unit.unit_id,
        "scanned_patient": order.patient.mrn,
        **journey.bedside_check(world, order, world.clinician),
    }
    fields.update(overrides)
    return administration_record(**fields)


def assert_nothing_written(unit):
    assert not Administration.objects.exists()
    assert Unit.objects.get(id=unit.id).status != UnitStatus.ADMINISTERED


def test_a_verified_administration_records_dose_per_kg_and_closes_the_chain(world, ready):
    order, unit = ready

    administration = administer(
        world, order, unit, verifier_username=world.coordinator.username, verifier_password=world.password
    )

    assert administration.dose_cells == 100_000_000
    assert administration.dose_cells_per_kg == round(100_000_000 / Decimal("70"))
    assert administration.verification_signature.signer == world.coordinator
    assert Unit.objects.get(id=unit.id).status == UnitStatus.ADMINISTERED
    assert ChainOfIdentity.objects.get(id=order.chain_id).status == CoiStatus.ADMINISTERED


def test_scanned_bag_that_is_not_the_unit_is_identity_mismatch(world, ready):
    order, unit = ready
    with pytest.raises(IdentityMismatch):
        administer(world, order, unit, scanned_unit="UNIT-OTHER")
    assert_nothing_written(unit)


def test_wristband_of_another_patient_is_identity_mismatch(world, ready):
    order, unit = ready
    with pytest.raises(IdentityMismatch):
        administer(world, order, unit, scanned_patient="MRN-9999")
    assert_nothing_written(unit)


def test_unit_of_another_patients_order_is_identity_mismatch(world, ready):
    order, _ = ready
    other_order = journey.make_order(world, product=order.product, patient=journey.make_patient(world, mrn="MRN-2"))
    other_unit = journey.deliver(world, journey.released_unit(world, other_order, unit_id="UNIT-2"))
    with pytest.raises(IdentityMismatch):
        administer(world, order, other_unit)
    assert_nothing_written(other_unit)


def test_scans_are_compared_without_case_or_spaces(world, ready):
    order, unit = ready
    administer(world, order, unit, scanned_unit=f" {unit.unit_id.lower()} ", scanned_patient=order.patient.mrn.lower())
    assert Administration.objects.count() == 1


def test_unreleased_unit_is_refused(world):
    order = journey.make_order(world)
    journey.collect(world, order)
    batch = journey.start_batch(world, order)
    unit = journey.make_unit(world, batch)
    with pytest.raises(UnitNotReleased):
        administer(world, order, unit)
    assert_nothing_written(unit)


def test_unit_still_in_transit_is_not_at_site(world):
    order = journey.make_order(world)
    unit = journey.released_unit(world, order)
    custody_record(
        actor=world.integration,
        unit_id=unit.unit_id,
        event="shipped",
        facility=world.hospital,
        at=timezone.now() - timedelta(hours=2),
        temperature_c=Decimal("-150"),
    )
    with pytest.raises(UnitNotAtSite):
        administer(world, order, unit)
    assert_nothing_written(unit)


def test_unit_stored_frozen_is_not_thawed(world):
    order = journey.make_order(world)
    unit = journey.deliver(world, journey.released_unit(world, order), thaw=False)
    with pytest.raises(UnitNotThawed):
        administer(world, order, unit)
    assert_nothing_written(unit)


def test_unit_past_its_use_by_after_thaw_is_expired(world, ready):
    order, unit = ready
    with time_machine.travel(unit.use_by + timedelta(minutes=1), tick=False):
        with pytest.raises(UnitExpired):
            administer(world, order, unit, administered_at=timezone.now())
    assert_nothing_written(unit)


def test_unit_past_its_expiry_is_expired(world, ready):
    order, unit = ready
    Unit.objects.filter(id=unit.id).update(expires_at=timezone.now() - timedelta(minutes=5))
    with pytest.raises(UnitExpired):
        administer(world, order, unit)
    assert_nothing_written(unit)


def test_second_administration_of_a_unit_is_refused(world, ready):
    order, unit = ready
    administer(world, order, unit)
    with pytest.raises(AlreadyAdministered):
        administer(world, order, unit)
    assert Administration.objects.count() == 1


def test_administration_time_in_the_future_is_refused(world, ready):
    order, unit = ready
    with pytest.raises(ValidationError) as error:
        administer(world, order, unit, administered_at=timezone.now() + timedelta(hours=1))
    assert "administered_at" in error.value.message_dict
    assert_nothing_written(unit)


def test_wrong_verifier_password_is_refused_and_writes_nothing(world, ready):
    order, unit = ready
    with pytest.raises(InvalidSignature):
        administer(world, order, unit, verifier_username=world.coordinator.username, verifier_password="wrong")
    assert_nothing_written(unit)


def test_the_administrator_cannot_verify_their_own_check(world, ready):
    order, unit = ready
    with pytest.raises(ValidationError):
        administer(world, order, unit, verifier_username=world.clinician.username, verifier_password=world.password)
    assert_nothing_written(unit)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_administrations_of_one_unit_have_one_winner():
    world = journey.build_world()
    order = journey.make_order(world)
    unit = journey.deliver(world, journey.released_unit(world, order))

    first, second = race(lambda: administer(world, order, unit), lambda: administer(world, order, unit))

    assert isinstance(first, Administration)
    assert isinstance(second, AlreadyAdministered)
    assert Administration.objects.count() == 1
