"""Services that read the clock take `now`: records made "as of" another time carry it, and judge "the future"
from it (seed_demo tells its stories this way, with no test library)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.services.batches import batch_create, batch_release, qc_result_record
from products.services.units import custody_record
from tests import journey
from tracker.models import Reminder
from tracker.services.clinical import assessment_record
from tracker.services.monitoring import reminder_resolve
from tracker.services.orders import order_create, patient_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


def test_an_order_placed_as_of_a_past_time_keeps_that_time_and_its_year_in_the_coi(world):
    placed = timezone.now().replace(year=timezone.now().year - 1) - timedelta(days=3)
    patient = journey.make_patient(world)

    order = order_create(actor=world.clinician, patient=patient, product=journey.product_of(world), now=placed)

    order.refresh_from_db()
    assert order.ordered_at == placed
    assert f"{placed.year % 100:02d}" in order.coi


def test_a_patient_registered_as_of_a_past_day_is_weighed_on_that_day(world):
    registered = timezone.now() - timedelta(days=40)
    patient = patient_create(
        actor=world.coordinator,
        facility=world.hospital,
        mrn="MRN-PAST",
        given_name="Grace",
        family_name="Hopper",
        birth_date=registered.date() - timedelta(days=365 * 50),
        sex="female",
        weight_kg=Decimal("61"),
        now=registered,
    )
    assert patient.weights.get().measured_on == timezone.localdate(registered)


def test_the_future_is_judged_from_now_as_given(world):
    """Second-worst path: a time before the real clock but after the `now` given is the future, refused."""
    order = journey.make_order(world)
    journey.collect(world, order, at=timezone.now() - timedelta(days=10))
    as_of = timezone.now() - timedelta(days=5)

    with pytest.raises(ValidationError) as error:
        batch_create(
            actor=world.manufacturing,
            chain=order.chain,
            lot_number="LOT-LATER",
            facility=world.factory_site,
            started_at=as_of + timedelta(days=1),
            now=as_of,
        )
    assert "started_at" in error.value.message_dict


def test_a_batch_made_and_released_as_of_past_times_carries_them(world):
    order = journey.make_order(world)
    journey.collect(world, order, at=timezone.now() - timedelta(days=10))
    started, tested, released = (timezone.now() - timedelta(days=d) for d in (9, 6, 5))

    batch = batch_create(
        actor=world.manufacturing,
        chain=order.chain,
        lot_number="LOT-PAST",
        facility=world.factory_site,
        started_at=started,
        now=started,
    )
    for test, value in journey.PASSING_QC.items():
        qc_result_record(
            actor=world.manufacturing, batch_id=batch.id, test=test, value=value, tested_at=tested, now=tested
        )
    batch.refresh_from_db()
    assert (batch.status, batch.status_changed_at) == ("quarantine", tested)

    batch = batch_release(batch_id=batch.id, signer=world.qa, password=world.password, meaning="QC met", now=released)

    assert (batch.status, batch.status_changed_at, batch.release_signature.signed_at) == (
        "released",
        released,
        released,
    )


def test_a_custody_event_recorded_as_of_a_past_time_is_recorded_then(world):
    unit = journey.released_unit(world)
    shipped = timezone.now() - timedelta(hours=6)

    record = custody_record(
        actor=world.manufacturing,
        unit_id=unit.unit_id,
        event="shipped",
        at=shipped,
        facility=world.hospital,
        temperature_c=Decimal("-150"),
        now=shipped,
    )

    assert record.recorded_at == record.at == shipped


def test_an_assessment_as_of_a_past_time_escalates_and_resolves_at_that_time(world):
    order, administration = journey.infused_patient(world, days_ago=3)
    assessed = administration.administered_at + timedelta(days=1)

    assessment_record(
        actor=world.clinician,
        patient=order.patient,
        assessed_at=assessed,
        temperature_c=Decimal("39.1"),
        hypotension="fluids",
        now=assessed,
    )
    urgent = Reminder.objects.get(kind="toxicity_grade")
    resolved = assessed + timedelta(hours=2)
    reminder_resolve(reminder_id=urgent.id, actor=world.clinician, resolution="Tocilizumab given", now=resolved)

    urgent.refresh_from_db()
    assert (urgent.due_at, urgent.resolved_at) == (assessed, resolved)
    check = order.patient.checks.get(source="toxicity_escalation")
    assert check.due_at == assessed + timedelta(hours=4)
