"""The bedside check through the service: the administration's own comparison, every answer kept; and the
administration accepting the bag's DIN or 2-D code as scanners send them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from products.errors import PermissionDeniedError
from products.models import Collection
from products.rules.isbt128 import check_character, format_unit_composite
from tests import journey
from tests.holds import hold
from tracker.errors import IdentityMismatch
from tracker.models import Administration, BedsideCheck
from tracker.services.administrations import administration_record, unit_problems
from tracker.services.bedside_checks import bedside_check_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


def check(world, order, unit, **overrides):
    fields = {
        "actor": world.clinician,
        "coi": order.coi,
        "scanned_unit": unit.unit_id,
        "scanned_patient": order.patient.mrn,
        "scanned_birth_date": order.patient.birth_date,
    }
    return bedside_check_record(**(fields | overrides))


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
    return administration_record(**(fields | overrides))


def din(order) -> str:
    return Collection.objects.get(chain=order.chain).din


def test_a_match_is_kept_with_the_bag_it_named(world):
    order, unit = journey.bedside(world)

    result = check(world, order, unit, scanned_unit=f"]C0={din(order)}00\r\n")

    assert result.match and result.unit == unit and result.mismatches == [] and result.unit_problems == []
    assert result.checked_by == world.clinician and result.patient == order.patient
    assert result.scanned_unit == f"]C0={din(order)}00\r\n", "what was scanned is kept as scanned"


def test_a_refusal_is_kept_too_and_names_every_identifier_that_does_not_match(world):
    order, unit = journey.bedside(world)

    result = check(
        world,
        order,
        unit,
        scanned_unit="BAG-NOT-OURS",
        scanned_patient="MRN-NOT-OURS",
        scanned_birth_date=order.patient.birth_date + timedelta(days=1),
    )

    assert not result.match and result.unit is None
    assert [m["field"] for m in result.mismatches] == ["scanned_unit", "scanned_patient", "scanned_birth_date"]
    assert BedsideCheck.objects.get() == result


def test_the_unit_problems_are_those_the_administration_refuses_with(world):
    order, unit = journey.bedside(world, thaw=False)
    hold(world, unit=unit)

    result = check(world, order, unit)

    assert [p["code"] for p in result.unit_problems] == ["unit_on_hold", "unit_not_thawed"]
    assert [p.code for p in unit_problems(unit=unit, patient=order.patient, at=timezone.now())] == [
        "unit_on_hold",
        "unit_not_thawed",
    ]
    with pytest.raises(Exception) as refused:
        administer(world, order, unit)
    assert refused.value.code == "unit_on_hold"  # the first of them


def test_a_given_bag_is_reported_as_already_administered(world):
    order, unit = journey.bedside(world)
    administer(world, order, unit)

    result = check(world, order, unit)

    assert not result.match and result.unit_problems[0]["code"] == "already_administered"


def test_only_patient_side_roles_of_the_patients_facility_check(world):
    order, unit = journey.bedside(world)

    with pytest.raises(PermissionDeniedError):
        check(world, order, unit, actor=world.manufacturing)
    with pytest.raises(PermissionDeniedError):
        check(world, order, unit, actor=world.other_clinician)
    with pytest.raises(ValidationError) as unknown:
        check(world, order, unit, coi="COIW999926000001X")
    assert "coi" in unknown.value.message_dict
    assert not BedsideCheck.objects.exists()


def test_a_check_is_never_edited_nor_deleted(world):
    order, unit = journey.bedside(world)
    kept = check(world, order, unit)

    with pytest.raises(DatabaseError), transaction.atomic():
        BedsideCheck.objects.filter(id=kept.id).update(match=False)
    with pytest.raises(DatabaseError), transaction.atomic():
        BedsideCheck.objects.filter(id=kept.id).delete()


def test_a_match_cannot_be_stored_with_a_mismatch(world):
    order, unit = journey.bedside(world)
    kept = check(world, order, unit)

    with pytest.raises(DatabaseError), transaction.atomic():
        BedsideCheck.objects.create(
            order=order,
            patient=order.patient,
            unit=unit,
            checked_by=world.clinician,
            checked_at=kept.checked_at,
            scanned_unit="X",
            scanned_patient="Y",
            scanned_birth_date=order.patient.birth_date,
            match=True,
            mismatches=[{"field": "scanned_unit"}],
        )


# The administration reads the bag the same way -------------------------------------------------------------------


@pytest.mark.parametrize("form", ["scanned", "typed", "composite"])
def test_the_administration_accepts_the_bags_din_and_2d_code_as_scanned_or_typed(world, form):
    order, unit = journey.bedside(world)
    number = din(order)
    scanned = {
        "scanned": f"]C0={number}00",
        "typed": f"{number[:5]} {number[5:7]} {number[7:]} {check_character(number)}",
        "composite": format_unit_composite(coi=order.coi, unit_id=unit.unit_id, expires_at=unit.expires_at),
    }[form]

    administration = administer(world, order, unit, scanned_unit=scanned)

    assert administration.scanned_unit == scanned


def test_the_administration_refuses_another_donations_din_and_a_typo_in_a_typed_one(world):
    order, unit = journey.bedside(world)
    other, _ = journey.bedside(world)
    number = din(order)
    typo = number + next(c for c in "ABCDEFGH" if c != check_character(number))

    with pytest.raises(IdentityMismatch, match="not on this order's bags"):
        administer(world, order, unit, scanned_unit=f"={din(other)}00")
    with pytest.raises(IdentityMismatch, match="Wrong check character"):
        administer(world, order, unit, scanned_unit=typo)
    with pytest.raises(IdentityMismatch, match="COI"):
        administer(world, order, unit, scanned_unit=order.coi)
    assert not Administration.objects.exists()
