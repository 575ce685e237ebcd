"""One course, one schedule: the units given under one order share the monitoring schedule of the first infusion,
and the dose per kg comes from the weight of the infusion day."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.errors import PermissionDeniedError
from tests import journey
from tests.concurrency import race
from tracker.choices import CheckSource, CheckStatus
from tracker.models import Administration, PatientWeight, Reminder, ScheduledCheck
from tracker.selectors import with_course_dose
from tracker.services.administrations import administration_record
from tracker.services.monitoring import administration_void, schedule_reschedule
from tracker.services.orders import patient_weight_record
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


def give(world, order, unit, minutes_ago: float, actor=None):
    actor = actor or world.clinician
    return administration_record(
        actor=actor,
        coi=order.coi,
        unit_id=unit.unit_id,
        administered_at=timezone.now() - timedelta(minutes=minutes_ago),
        route="iv_infusion",
        scanned_unit=unit.unit_id,
        scanned_patient=order.patient.mrn,
        **journey.bedside_check(world, order, actor),
    )


def protocol_checks(order):
    return ScheduledCheck.objects.filter(administration__order=order, source=CheckSource.PROTOCOL)


def offsets(order, since) -> list[timedelta]:
    """The course's protocol checks as offsets from an infusion time."""
    return sorted(due - since for due in protocol_checks(order).values_list("due_at", flat=True))


def single_course_checks(world) -> int:
    order, unit = journey.bedside(world)
    give(world, order, unit, minutes_ago=5)
    return protocol_checks(order).count()


# One course, one schedule -----------------------------------------------------------------------------------------


def test_two_units_of_one_order_start_the_schedule_once_from_the_first_infusion(world):
    single, single_unit = journey.bedside(world)
    reference = offsets(single, give(world, single, single_unit, minutes_ago=5).administered_at)
    order, (cd4, cd8) = journey.course_at_bedside(world)

    first = give(world, order, cd4, minutes_ago=5)
    after_first = offsets(order, first.administered_at)
    second = give(world, order, cd8, minutes_ago=2)

    checks = protocol_checks(order)
    assert set(checks.values_list("administration_id", flat=True)) == {first.id}
    assert offsets(order, first.administered_at) == after_first == reference  # once, counted from the first
    assert not ScheduledCheck.objects.filter(administration=second).exists()


def test_a_unit_recorded_with_an_earlier_time_takes_the_schedule_to_its_time(world):
    order, (later, earlier) = journey.course_at_bedside(world)
    first_recorded = give(world, order, later, minutes_ago=2)
    schedule = offsets(order, first_recorded.administered_at)

    earlier_given = give(world, order, earlier, minutes_ago=6)

    checks = protocol_checks(order)
    assert set(checks.values_list("administration_id", flat=True)) == {earlier_given.id}
    assert offsets(order, earlier_given.administered_at) == schedule


def test_the_course_dose_sums_every_unit_not_voided(world):
    order, (cd4, cd8) = journey.course_at_bedside(world, dose_cells=50_000_000)
    first = give(world, order, cd4, minutes_ago=5)
    give(world, order, cd8, minutes_ago=2)

    listed = with_course_dose(Administration.objects.filter(id=first.id)).get()
    assert (listed.course_units, listed.course_dose_cells) == (2, 100_000_000)
    assert listed.course_dose_cells_per_kg == 2 * round(50_000_000 / Decimal("70"))
    assert listed.dose_cells_per_kg == round(50_000_000 / Decimal("70"))

    administration_void(administration_id=first.id, actor=world.clinician, reason="Wrong bag entered")
    listed = with_course_dose(Administration.objects.filter(id=first.id)).get()
    assert (listed.course_units, listed.course_dose_cells) == (1, 50_000_000)


def test_voiding_the_first_of_two_infusions_passes_the_schedule_to_the_second(world):
    order, (cd4, cd8) = journey.course_at_bedside(world)
    first = give(world, order, cd4, minutes_ago=8)
    second = give(world, order, cd8, minutes_ago=2)
    from_first = offsets(order, first.administered_at)
    # A scan run as if a day had passed reminds the day-1 check, counted from the first infusion.
    monitoring_scan(now=first.administered_at + timedelta(days=1, minutes=3))
    day_1 = Reminder.objects.get(check_item__administration=first, check_item__kind="toxicity_check")

    administration_void(administration_id=first.id, actor=world.clinician, reason="Entered on the wrong order")

    checks = protocol_checks(order)
    assert set(checks.values_list("administration_id", flat=True)) == {second.id}
    assert offsets(order, second.administered_at) == from_first  # the same schedule, from the second infusion
    # The day-1 check is not due yet from the second infusion: its reminder goes, a new one comes when due.
    day_1.refresh_from_db()
    assert day_1.status == "resolved" and day_1.resolution == "Rescheduled: the course's first infusion was voided"
    assert day_1.check_item.reminded_at is None


def test_voiding_every_infusion_of_the_course_cancels_the_schedule(world):
    order, (cd4, cd8) = journey.course_at_bedside(world)
    first = give(world, order, cd4, minutes_ago=5)
    second = give(world, order, cd8, minutes_ago=2)

    administration_void(administration_id=second.id, actor=world.clinician, reason="Wrong")
    assert protocol_checks(order).filter(status=CheckStatus.OPEN).exists()  # the first still stands
    administration_void(administration_id=first.id, actor=world.clinician, reason="Wrong")

    assert set(protocol_checks(order).values_list("status", flat=True)) == {CheckStatus.CANCELLED}


def test_a_course_given_again_after_a_full_void_starts_a_fresh_schedule(world):
    expected = single_course_checks(world)
    order, (cd4, cd8) = journey.course_at_bedside(world)
    first = give(world, order, cd4, minutes_ago=5)
    administration_void(administration_id=first.id, actor=world.clinician, reason="Wrong patient record")

    again = give(world, order, cd8, minutes_ago=2)

    live = protocol_checks(order).exclude(status=CheckStatus.CANCELLED)
    assert live.count() == expected and set(live.values_list("administration_id", flat=True)) == {again.id}


def test_correcting_the_second_infusion_to_before_the_first_moves_the_schedule_to_it(world):
    order, (cd4, cd8) = journey.course_at_bedside(world)
    first = give(world, order, cd4, minutes_ago=4)
    second = give(world, order, cd8, minutes_ago=2)
    schedule = offsets(order, first.administered_at)
    corrected = first.administered_at - timedelta(minutes=3)

    schedule_reschedule(
        administration_id=second.id, actor=world.clinician, administered_at=corrected, reason="Pump clock"
    )

    checks = protocol_checks(order).filter(status=CheckStatus.OPEN)
    assert set(checks.values_list("administration_id", flat=True)) == {second.id}
    assert offsets(order, corrected) == schedule


def test_correcting_a_later_infusion_of_the_course_moves_nothing(world):
    order, (cd4, cd8) = journey.course_at_bedside(world)
    give(world, order, cd4, minutes_ago=5)
    second = give(world, order, cd8, minutes_ago=3)
    due_before = sorted(protocol_checks(order).values_list("due_at", flat=True))

    schedule_reschedule(
        administration_id=second.id,
        actor=world.clinician,
        administered_at=second.administered_at + timedelta(minutes=1),
        reason="Typed late",
    )

    assert sorted(protocol_checks(order).values_list("due_at", flat=True)) == due_before


@pytest.mark.django_db(transaction=True)
def test_two_units_of_one_course_given_at_once_start_one_schedule():
    world = journey.build_world()
    expected = single_course_checks(world)
    order, (cd4, cd8) = journey.course_at_bedside(world)

    first, second = race(
        lambda: give(world, order, cd4, minutes_ago=3),
        lambda: give(world, order, cd8, minutes_ago=2, actor=world.coordinator),
    )

    assert isinstance(first, Administration) and isinstance(second, Administration), (first, second)
    checks = protocol_checks(order)
    assert checks.count() == expected
    assert set(checks.values_list("administration_id", flat=True)) == {first.id}


# The weight of the infusion day -----------------------------------------------------------------------------------


def test_the_dose_per_kg_uses_the_weight_of_the_infusion_day_not_a_later_one(world):
    order, unit = journey.bedside(world)
    patient = order.patient
    patient_weight_record(
        actor=world.clinician, patient_id=patient.id, weight_kg=Decimal("80"), measured_on=timezone.localdate()
    )
    administration = give(world, order, unit, minutes_ago=1)
    assert administration.weight_kg == Decimal("80")
    assert administration.dose_cells_per_kg == round(100_000_000 / Decimal("80"))

    # A weight recorded afterwards (even dated the same day) is the patient's current weight; the infusion's
    # dose stays as given... and one dated before the infusion never replaces the day's own.
    patient_weight_record(
        actor=world.clinician,
        patient_id=patient.id,
        weight_kg=Decimal("60"),
        measured_on=timezone.localdate() - timedelta(days=3),
    )
    administration.refresh_from_db()
    patient.refresh_from_db()
    assert administration.weight_kg == Decimal("80") and patient.weight_kg == Decimal("80")


def test_a_later_weight_does_not_change_an_infusion_already_given(world):
    order, unit = journey.bedside(world)  # weighed 70 kg a week ago
    administration = give(world, order, unit, minutes_ago=1)

    with_later = order.patient
    patient_weight_record(
        actor=world.clinician,
        patient_id=with_later.id,
        weight_kg=Decimal("95"),
        measured_on=timezone.localdate(),
        note="Fluid overload",
    )

    administration.refresh_from_db()
    with_later.refresh_from_db()
    assert administration.weight_kg == Decimal("70")
    assert with_later.weight_kg == Decimal("95")  # the record shows the latest


def test_a_weight_measured_only_after_the_infusion_day_gives_no_dose_per_kg(world):
    order, unit = journey.bedside(world)
    PatientWeight.objects.filter(patient=order.patient).update(measured_on=timezone.localdate() + timedelta(days=1))

    administration = give(world, order, unit, minutes_ago=1)

    assert administration.weight_kg is None and administration.dose_cells_per_kg is None


def test_patient_registration_records_the_first_dated_weight(world):
    patient = journey.make_patient(world, mrn="MRN-W1")
    weight = PatientWeight.objects.get(patient=patient)
    assert (weight.weight_kg, weight.measured_on) == (Decimal("70"), timezone.localdate() - timedelta(days=7))
    assert weight.recorded_by == world.integration


@pytest.mark.parametrize(
    ("weight", "measured_on", "field"),
    [
        (Decimal("0"), 0, "weight_kg"),
        (Decimal("1000"), 0, "weight_kg"),
        (Decimal("70"), -1, "measured_on"),  # tomorrow
        (Decimal("70"), 365 * 50, "measured_on"),  # before the patient was born
    ],
)
def test_an_impossible_weight_is_refused(world, weight, measured_on, field):
    patient = journey.make_patient(world, mrn="MRN-W2")
    with pytest.raises(ValidationError) as error:
        patient_weight_record(
            actor=world.clinician,
            patient_id=patient.id,
            weight_kg=weight,
            measured_on=timezone.localdate() - timedelta(days=measured_on),
        )
    assert field in error.value.message_dict
    assert PatientWeight.objects.filter(patient=patient).count() == 1


def test_a_clinician_of_another_hospital_cannot_record_a_weight(world):
    patient = journey.make_patient(world, mrn="MRN-W3")
    with pytest.raises(PermissionDeniedError):
        patient_weight_record(
            actor=world.other_clinician,
            patient_id=patient.id,
            weight_kg=Decimal("70"),
            measured_on=timezone.localdate(),
        )
