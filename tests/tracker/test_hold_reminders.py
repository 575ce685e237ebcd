"""The scan reminds QA of holds left open (a product-side reminder, no patient), once, and retires it when
QA has decided."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from products.services.units import custody_record
from tests import holds, journey
from tracker.models import Notification, Reminder
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.HOLD_OPEN_ALERT_HOURS = 24


@pytest.fixture
def world():
    return journey.build_world()


def held_at_the_hospital(world):
    """An excursion on the way to the hospital: the system holds the bag, which is now stored there."""
    unit = journey.ship(world, journey.released_unit(world), temperature_c=-90)
    custody_record(
        actor=world.clinician,
        unit_id=unit.unit_id,
        event="received",
        at=timezone.now() - timedelta(hours=2),
        facility=world.hospital,
    )
    return unit.holds.get()


def test_a_hold_open_longer_than_the_setting_reminds_qa_where_the_batch_was_made(world):
    hold = held_at_the_hospital(world)

    monitoring_scan()
    assert not Reminder.objects.filter(kind="hold_open").exists()  # not yet: QA has a day

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        monitoring_scan()
        monitoring_scan()

    reminder = Reminder.objects.get(kind="hold_open")
    assert reminder.dedupe_key == f"hold:{hold.id}:open"
    assert (reminder.patient, reminder.facility, reminder.severity) == (None, world.factory_site, "routine")
    assert reminder.due_at == hold.opened_at + timedelta(hours=24)
    assert f"Hold {hold.id} on unit {hold.unit.unit_id} (temperature excursion)" in reminder.message
    assert "QA to decide" in reminder.message
    assert world.qa.email in set(Notification.objects.filter(reminder=reminder).values_list("recipient", flat=True))


def test_the_setting_decides_how_long_qa_has(world, settings):
    settings.HOLD_OPEN_ALERT_HOURS = 1
    holds.hold(world, batch=journey.released_unit(world).batch)

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        monitoring_scan()

    assert Reminder.objects.filter(kind="hold_open").count() == 1


def test_once_qa_decides_the_reminder_is_resolved_and_no_new_one_comes(world):
    hold = held_at_the_hospital(world)
    later = timezone.now() + timedelta(hours=30)
    with time_machine.travel(later):
        monitoring_scan()
    holds.decide(world, hold)

    with time_machine.travel(later + timedelta(minutes=5)):
        first = monitoring_scan()
        second = monitoring_scan()

    reminder = Reminder.objects.get(kind="hold_open")
    assert reminder.status == "resolved" and reminder.resolution == "QA decided the hold"
    # the hold's reminder and the unit's excursion reminder
    assert first.counts["hold_reminders_resolved"] == 2 and "hold_reminders_resolved" not in second.counts


def test_a_hold_decided_in_time_is_never_reminded(world):
    holds.decide(world, holds.hold(world, unit=journey.released_unit(world)))

    with time_machine.travel(timezone.now() + timedelta(days=3)):
        monitoring_scan()

    assert not Reminder.objects.filter(kind="hold_open").exists()


def test_the_excursion_reminder_is_answered_by_qas_decision_on_the_excursion_hold(world):
    hold = held_at_the_hospital(world)
    monitoring_scan()
    excursion = Reminder.objects.get(kind="temperature_excursion")
    assert excursion.status == "open"  # "quarantine and assess": the hold is that quarantine

    holds.decide(world, hold)
    monitoring_scan()
    monitoring_scan()

    excursion.refresh_from_db()
    assert excursion.status == "resolved" and excursion.resolution == "QA decided the excursion hold"
    assert Reminder.objects.filter(kind="temperature_excursion").count() == 1


def test_a_second_excursion_after_the_decision_needs_its_own_assessment(world):
    hold = held_at_the_hospital(world)
    holds.decide(world, hold)
    monitoring_scan()
    assert not Reminder.objects.filter(kind="temperature_excursion", status="open").exists()

    custody_record(
        actor=world.clinician,
        unit_id=hold.unit.unit_id,
        event="stored",
        at=timezone.now() - timedelta(minutes=5),
        facility=world.hospital,
        temperature_c=-70,
    )

    assert hold.unit.holds.filter(status="open").count() == 1
    assert hold.unit.holds.count() == 2
