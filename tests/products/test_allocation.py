"""Allocation through the services: a unit of an allogeneic batch reserved for an order, every refusal (each writes
nothing), the exceptions of 21 CFR 1271.60(d)/1271.65(b), release back to stock, and two orders racing for one unit."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.errors import (
    DonorIneligible,
    HlaMismatch,
    IllegalTransition,
    InvalidSignature,
    NoEligibleUnit,
    PermissionDeniedError,
    UnitNotAvailable,
)
from products.models import Allocation, ChainOfIdentity, Signature, SignatureFailure, Unit
from products.services.allocations import allocation_release
from products.services.donors import donor_test_record
from products.services.holds import hold_open
from products.services.units import custody_record
from tests.allogeneic import (
    PATIENT_HLA,
    allocate,
    determine,
    donor_batch,
    donor_collection,
    eligible_donor,
    inventory,
    msc_order,
    msc_product,
    record_tests,
    register_donor,
    screen,
)
from tests.concurrency import race
from tests.journey import build_world, make_order, make_product
from tracker.services.allocations import order_allocate

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return build_world()


def _nothing_written(order, unit=None):
    assert not Allocation.objects.filter(chain=order.chain).exists()
    order.chain.refresh_from_db()
    assert order.chain.status == "ordered"
    if unit is not None:
        unit.refresh_from_db()
        assert unit.chain_id is None


def test_the_soonest_expiring_eligible_unit_is_allocated_and_bound_to_the_order(world):
    soon, later = timezone.now() + timedelta(days=20), timezone.now() + timedelta(days=200)
    product, _, units = inventory(world, units=3, expiries=[later, soon, later + timedelta(days=1)])
    order = msc_order(world, product, hla=PATIENT_HLA)

    allocation = allocate(world, order)

    assert allocation.unit == units[1]
    assert (allocation.chain, allocation.allocated_by, allocation.donor_eligibility) == (
        order.chain,
        world.clinician,
        "eligible",
    )
    assert (allocation.hla_matches, allocation.hla_match_min, allocation.label_warnings) == (5, 0, [])
    units[1].refresh_from_db()
    order.chain.refresh_from_db()
    assert units[1].chain == order.chain and order.chain.status == "released"


def test_a_named_unit_is_allocated_and_an_order_may_hold_several(world):
    product, _, units = inventory(world, units=3)
    order = msc_order(world, product)

    allocate(world, order, units[2])
    allocate(world, order, units[0])

    assert set(Unit.objects.filter(chain=order.chain)) == {units[0], units[2]}
    assert Allocation.objects.filter(chain=order.chain, hla_matches=None).count() == 2  # the patient is untyped


def test_a_unit_allocated_to_another_order_is_not_available(world):
    product, _, units = inventory(world, units=1)
    first, second = msc_order(world, product), msc_order(world, product)
    allocate(world, first, units[0])

    with pytest.raises(UnitNotAvailable, match=f"allocated to order {first.coi}"):
        allocate(world, second, units[0])
    _nothing_written(second)
    with pytest.raises(NoEligibleUnit):
        allocate(world, second)


def test_a_held_unit_is_not_available_and_says_which_hold(world):
    product, _, units = inventory(world, units=1)
    order = msc_order(world, product)
    hold = hold_open(actor=world.qa, kind="deviation", reason="Dewar alarm", unit_id=units[0].unit_id)

    with pytest.raises(UnitNotAvailable) as refused:
        allocate(world, order, units[0])

    assert refused.value.extra["holds"] == [hold.pk] and "on hold" in refused.value.detail
    _nothing_written(order, units[0])
    with pytest.raises(NoEligibleUnit):
        allocate(world, order)


def test_a_unit_of_a_held_batch_is_not_available(world):
    product, _, units = inventory(world, units=2)
    hold_open(actor=world.qa, kind="recall", reason="Recall", batch_id=units[0].batch_id)
    with pytest.raises(UnitNotAvailable):
        allocate(world, msc_order(world, product), units[1])


def test_an_expired_unit_is_not_available(world):
    product = msc_product(world)
    donor = eligible_donor(world)
    collection = donor_collection(world, donor, product, at=timezone.now() - timedelta(days=3))
    _, units = donor_batch(world, collection, units=1, expiries=[timezone.now() + timedelta(minutes=1)])
    order = msc_order(world, product)
    later = timezone.now() + timedelta(minutes=5)

    with pytest.raises(UnitNotAvailable, match="expired"):
        order_allocate(actor=world.clinician, order_id=order.pk, unit_id=units[0].unit_id, now=later)
    _nothing_written(order, units[0])


def test_a_unit_of_an_unreleased_batch_is_not_available(world):
    product = msc_product(world)
    donor = eligible_donor(world)
    _, units = donor_batch(world, donor_collection(world, donor, product), units=1, release=False)
    order = msc_order(world, product)
    with pytest.raises(UnitNotAvailable, match="not released"):
        allocate(world, order, units[0])
    with pytest.raises(NoEligibleUnit):
        allocate(world, order)


def test_a_unit_in_transit_or_at_another_hospital_is_not_available(world):
    product, _, units = inventory(world, units=2)
    custody_record(
        actor=world.integration,
        unit_id=units[0].unit_id,
        event="shipped",
        at=timezone.now() - timedelta(hours=2),
        facility=world.other_hospital,
        temperature_c=-150,
    )
    order = msc_order(world, product)
    with pytest.raises(UnitNotAvailable, match="shipped"):
        allocate(world, order, units[0])
    custody_record(
        actor=world.other_clinician,
        unit_id=units[0].unit_id,
        event="received",
        at=timezone.now() - timedelta(hours=1),
        facility=world.other_hospital,
        temperature_c=-150,
    )
    with pytest.raises(UnitNotAvailable, match="another treatment centre"):
        allocate(world, order, units[0])


def test_a_unit_of_another_product_is_not_available(world):
    _, _, units = inventory(world, units=1)
    other = msc_product(world, code="msc-y")
    with pytest.raises(UnitNotAvailable, match="order is for msc-y"):
        allocate(world, msc_order(world, other), units[0])


def test_no_eligible_unit_when_the_inventory_is_empty(world):
    order = msc_order(world, msc_product(world))
    with pytest.raises(NoEligibleUnit, match="None is in stock"):
        allocate(world, order)
    _nothing_written(order)


def _pending_donor_units(world, product, units=1):
    donor = register_donor(world).donor
    screen(world, donor)
    record_tests(world, donor)
    _, made = donor_batch(world, donor_collection(world, donor, product), units=units)
    return donor, made


def test_a_pending_donors_unit_is_refused_and_not_chosen(world):
    product = msc_product(world)
    _, units = _pending_donor_units(world, product)
    order = msc_order(world, product)

    with pytest.raises(DonorIneligible) as refused:
        allocate(world, order, units[0])

    assert refused.value.extra["eligibility"] == "pending" and "urgent medical need" in refused.value.detail
    _nothing_written(order, units[0])
    with pytest.raises(NoEligibleUnit, match="donor_ineligible"):
        allocate(world, order)


def test_an_ineligible_donors_unit_is_refused(world):
    product = msc_product(world)
    donor, units = _pending_donor_units(world, product)
    determine(world, donor, "ineligible")
    with pytest.raises(DonorIneligible, match="ineligible"):
        allocate(world, msc_order(world, product), units[0])


def test_a_reactive_result_after_the_determination_stops_allocation(world):
    product, donor, units = inventory(world, units=1)
    donor_test_record(
        actor=world.integration, donor_id=donor.pk, test="hiv_1_2", result="reactive", sampled_at=timezone.now()
    )
    with pytest.raises(DonorIneligible, match="HIV"):
        allocate(world, msc_order(world, product), units[0])


def test_tests_not_timed_for_the_units_recovery_stop_allocation(world):
    product = msc_product(world)
    donor = eligible_donor(world)  # tested 2 days ago
    late = donor_collection(world, donor, product, at=timezone.now() - timedelta(hours=1), method="tissue")
    early = donor_collection(world, donor, product, at=timezone.now() - timedelta(days=20), method="tissue")
    _, (in_time,) = donor_batch(world, late, units=1)
    _, (too_early,) = donor_batch(world, early, units=1)
    order = msc_order(world, product)

    with pytest.raises(DonorIneligible, match=r"1271\.80"):
        allocate(world, order, too_early)
    assert allocate(world, order, in_time).unit == in_time


def exception_of(world, order, unit, exception="urgent_medical_need", **overrides):
    fields = {
        "actor": world.clinician,
        "order_id": order.pk,
        "unit_id": unit.unit_id,
        "exception": exception,
        "exception_rationale": "Steroid-refractory grade IV GVHD; no eligible unit in time",
        "password": world.password,
        "meaning": "Urgent medical need documented",
    }
    fields.update(overrides)
    return order_allocate(**fields)


def test_urgent_medical_need_allows_a_pending_donors_unit_signed_by_the_physician_with_its_labelling(world):
    product = msc_product(world)
    _, units = _pending_donor_units(world, product)
    order = msc_order(world, product)

    allocation = exception_of(world, order, units[0])

    assert (allocation.exception, allocation.donor_eligibility) == ("urgent_medical_need", "pending")
    assert allocation.exception_signature.signer == world.clinician
    assert allocation.exception_signature.meaning == "donor_exception"
    warnings = ["NOT EVALUATED FOR INFECTIOUS SUBSTANCES", "WARNING: Advise patient of communicable disease risks"]
    assert allocation.label_warnings == warnings
    units[0].refresh_from_db()
    assert list(units[0].label_warnings) == warnings  # carried on the unit, for its label


def test_a_related_donor_allows_an_ineligible_donors_unit_but_not_a_pending_one(world):
    product = msc_product(world)
    donor, units = _pending_donor_units(world, product, units=2)
    order = msc_order(world, product)
    with pytest.raises(DonorIneligible):
        exception_of(world, order, units[0], exception="related_donor")
    assert not Signature.objects.filter(meaning="donor_exception").exists()

    determine(world, donor, "ineligible")
    allocation = exception_of(world, order, units[0], exception="related_donor")
    assert allocation.label_warnings[:2] == ["BIOHAZARD", "WARNING: Advise patient of communicable disease risks"]


def test_an_exception_needs_the_clinician_role_a_rationale_a_unit_and_the_right_password(world):
    product = msc_product(world)
    _, units = _pending_donor_units(world, product)
    order = msc_order(world, product)
    with pytest.raises(PermissionDeniedError):
        exception_of(world, order, units[0], actor=world.coordinator)
    with pytest.raises(ValidationError) as refused:
        exception_of(world, order, units[0], exception_rationale=" ")
    assert "exception_rationale" in refused.value.message_dict
    with pytest.raises(ValidationError):
        order_allocate(actor=world.clinician, order_id=order.pk, exception="urgent_medical_need", password="x")
    with pytest.raises(InvalidSignature):
        exception_of(world, order, units[0], password="wrong")
    assert SignatureFailure.objects.filter(signer=world.clinician).count() == 1
    _nothing_written(order, units[0])


def test_no_exception_for_an_eligible_donor(world):
    product, _, units = inventory(world, units=1)
    with pytest.raises(ValidationError):
        exception_of(world, msc_order(world, product), units[0])
    assert not SignatureFailure.objects.exists()


def test_fewer_hla_matches_than_the_product_needs_is_a_mismatch(world):
    product = msc_product(world, code="hsc-x", hla_match_min=6)
    _, _, units = inventory(world, product=product, units=1)
    order = msc_order(world, product, hla=PATIENT_HLA)  # 5/8 with the donor

    with pytest.raises(HlaMismatch, match="5/8"):
        allocate(world, order, units[0])
    _nothing_written(order, units[0])
    with pytest.raises(NoEligibleUnit, match="hla_mismatch"):
        allocate(world, order)
    untyped = msc_order(world, product)
    with pytest.raises(HlaMismatch, match="patient is not typed"):
        allocate(world, untyped, units[0])


def test_enough_hla_matches_allocate_and_the_count_is_kept(world):
    product = msc_product(world, code="hsc-y", hla_match_min=5)
    inventory(world, product=product, units=1)
    allocation = allocate(world, msc_order(world, product, hla=PATIENT_HLA))
    assert (allocation.hla_matches, allocation.hla_match_min) == (5, 5)


def test_an_autologous_order_and_a_cancelled_one_allocate_nothing(world):
    _, _, units = inventory(world, units=1)
    with pytest.raises(IllegalTransition, match="autologous"):
        allocate(world, make_order(world, product=make_product(world)), units[0])


def test_only_the_patients_site_allocates(world):
    product, _, units = inventory(world, units=1)
    order = msc_order(world, product)
    with pytest.raises(PermissionDeniedError):
        order_allocate(actor=world.manufacturing, order_id=order.pk, unit_id=units[0].unit_id)
    with pytest.raises(PermissionDeniedError):
        order_allocate(actor=world.other_clinician, order_id=order.pk, unit_id=units[0].unit_id)


def test_releasing_returns_the_unit_to_stock_on_record(world):
    product, _, units = inventory(world, units=1)
    order, other = msc_order(world, product), msc_order(world, product)
    allocation = allocate(world, order, units[0])

    allocation_release(actor=world.clinician, allocation_id=allocation.pk, reason="Patient too unwell to infuse")

    allocation.refresh_from_db()
    assert (allocation.released_by, allocation.release_reason) == (world.clinician, "Patient too unwell to infuse")
    assert allocation.released_at is not None
    units[0].refresh_from_db()
    order.chain.refresh_from_db()
    assert units[0].chain is None and order.chain.status == "ordered"
    assert allocate(world, other).unit == units[0]  # back in stock
    with pytest.raises(IllegalTransition, match="released"):
        allocation_release(actor=world.clinician, allocation_id=allocation.pk, reason="again")


def test_release_needs_a_reason_and_a_unit_in_stock(world):
    product, _, units = inventory(world, units=1)
    order = msc_order(world, product)
    allocation = allocate(world, order, units[0])
    with pytest.raises(ValidationError):
        allocation_release(actor=world.clinician, allocation_id=allocation.pk, reason="")
    custody_record(
        actor=world.integration,
        unit_id=units[0].unit_id,
        event="shipped",
        at=timezone.now() - timedelta(minutes=5),
        facility=world.hospital,
        temperature_c=-150,
    )
    with pytest.raises(IllegalTransition, match="shipped"):
        allocation_release(actor=world.clinician, allocation_id=allocation.pk, reason="Not needed")
    assert Allocation.objects.get().released_at is None


@pytest.mark.django_db(transaction=True)
def test_two_orders_racing_for_one_unit_one_wins():
    world = build_world()
    product, _, units = inventory(world, units=1)
    first, second = msc_order(world, product), msc_order(world, product)

    results = race(lambda: allocate(world, first, units[0]), lambda: allocate(world, second, units[0]))

    assert isinstance(results[0], Allocation)
    assert isinstance(results[1], UnitNotAvailable)
    assert Allocation.objects.get().chain_id == first.chain_id
    assert list(ChainOfIdentity.objects.filter(status="released")) == [first.chain]


@pytest.mark.django_db(transaction=True)
def test_two_orders_choosing_at_once_get_different_units_or_none():
    world = build_world()
    product, _, units = inventory(world, units=2)
    first, second = msc_order(world, product), msc_order(world, product)

    results = race(lambda: allocate(world, first), lambda: allocate(world, second))

    assert all(isinstance(r, Allocation) for r in results)
    assert {r.unit_id for r in results} == {u.pk for u in units}
