"""The monitoring engine in the service layer: schedule, scan, escalation, completion, report and unit risks."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db.models import Count
from django.utils import timezone

from products.errors import OutOfSequence
from products.models import Batch, FacilityMembership, Unit
from products.services.units import custody_record
from tests import journey
from tracker.choices import CheckStatus, ReminderStatus
from tracker.models import Administration, Notification, Reminder, ScheduledCheck
from tracker.services.clinical import (
    adverse_event_mark_reported,
    adverse_event_record,
    assessment_record,
    follow_up_record,
)
from tracker.services.monitoring import administration_void, reminder_acknowledge, schedule_reschedule
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


@pytest.fixture
def world():
    world = journey.build_world()
    for user in (world.clinician, world.coordinator):
        user.email = f"{user.username}@hospital.example"
        user.save()
    return world


def assess(world, patient, at=None, **measurements):
    return assessment_record(
        actor=world.clinician, patient=patient, assessed_at=at or timezone.now() - timedelta(minutes=1), **measurements
    )


def test_administration_instantiates_the_products_protocol(world):
    _order, administration = journey.infused_patient(world)
    checks = ScheduledCheck.objects.filter(administration=administration)
    assert Counter(checks.values_list("kind", flat=True)) == {
        "toxicity_check": 14,
        "labs": 5,
        "follow_up_visit": 18,
        "rcv_test": 17,
        "malignancy_screen": 15,
    }
    first = checks.filter(kind="toxicity_check").order_by("due_at").first()
    assert first.due_at == administration.administered_at + timedelta(days=1)
    assert first.grace_until == first.due_at + timedelta(hours=6)


def test_patient_infused_three_days_ago_gets_reminders_for_overdue_checks_once(world):
    order, _administration = journey.infused_patient(world, days_ago=3)

    result = monitoring_scan()

    reminders = Reminder.objects.filter(patient=order.patient)
    # the registry's first documents (due on the infusion day) are reminded too, without a check
    check_reminders = reminders.filter(check_item__isnull=False)
    labels = sorted(check_reminders.values_list("check_item__label", flat=True))
    # due by now: toxicity checks at 24 h and 48 h (72 h is a few seconds ahead or just due), labs on days 1 and 3
    assert {
        "Daily CRS/ICANS check with ICE score #1",
        "Daily CRS/ICANS check with ICE score #2",
        "Labs day 1 (blood count, CRP, ferritin)",
    } <= set(labels)
    assert result.counts["checks_reminded"] == check_reminders.count()
    assert set(reminders.filter(check_item=None).values_list("kind", flat=True)) == {"registry_due"}
    overdue = reminders.get(check_item__label="Daily CRS/ICANS check with ICE score #1")
    assert overdue.severity == "urgent" and overdue.escalated_at is not None  # past its 6 h grace
    before = reminders.count()

    monitoring_scan()
    monitoring_scan()

    assert Reminder.objects.filter(patient=order.patient).count() == before
    assert not Reminder.objects.values("check_item").annotate(n=Count("id")).filter(n__gt=1, check_item__isnull=False)


def test_a_due_check_escalates_only_after_its_grace_period_and_notifies_on_call(world):
    _order, administration = journey.infused_patient(world, days_ago=1)
    FacilityMembership.objects.filter(user=world.coordinator, facility=world.hospital).update(on_call=True)
    check = ScheduledCheck.objects.filter(administration=administration).order_by("due_at").first()

    with time_machine.travel(check.due_at + timedelta(minutes=1), tick=False):
        monitoring_scan()
    reminder = Reminder.objects.get(check_item=check)
    assert (reminder.severity, reminder.escalated_at) == ("routine", None)
    assert Notification.objects.filter(reminder=reminder, reason="raised", recipient="doc@hospital.example").exists()

    with time_machine.travel(check.grace_until + timedelta(minutes=1), tick=False):
        monitoring_scan()
    reminder.refresh_from_db()
    assert reminder.severity == "urgent" and reminder.escalated_at is not None
    assert list(
        Notification.objects.filter(reminder=reminder, reason="escalated").values_list("recipient", flat=True)
    ) == ["coord@hospital.example"]


def test_a_check_first_found_past_its_grace_is_raised_escalated_and_both_audiences_hear_once(world):
    # A scan that ran late (an outage) finds a check already past its grace: its reminder is raised urgent and
    # escalated in the same write; the owners hear it was raised and those on call that it escalated, once each.
    _order, administration = journey.infused_patient(world, days_ago=1)
    FacilityMembership.objects.filter(user=world.coordinator, facility=world.hospital).update(on_call=True)
    check = ScheduledCheck.objects.filter(administration=administration).order_by("due_at").first()

    with time_machine.travel(check.grace_until + timedelta(minutes=1), tick=False):
        result = monitoring_scan()
        monitoring_scan()
    reminder = Reminder.objects.get(check_item=check)
    assert reminder.severity == "urgent" and reminder.escalated_at == check.grace_until + timedelta(minutes=1)
    assert " overdue since " in reminder.message
    assert result.counts["escalated"] >= 1
    sent = Notification.objects.filter(reminder=reminder, channel="email")
    assert set(sent.filter(reason="raised").values_list("recipient", flat=True)) == {"doc@hospital.example"}
    assert list(sent.filter(reason="escalated").values_list("recipient", flat=True)) == ["coord@hospital.example"]


def test_an_acknowledged_reminder_does_not_escalate(world):
    _order, administration = journey.infused_patient(world, days_ago=1)
    check = ScheduledCheck.objects.filter(administration=administration).order_by("due_at").first()
    with time_machine.travel(check.due_at + timedelta(minutes=1), tick=False):
        monitoring_scan()
        reminder_acknowledge(reminder_id=Reminder.objects.get(check_item=check).id, actor=world.clinician)
    with time_machine.travel(check.grace_until + timedelta(hours=1), tick=False):
        monitoring_scan()
    reminder = Reminder.objects.get(check_item=check)
    assert (reminder.status, reminder.severity, reminder.acknowledged_by) == (
        "acknowledged",
        "routine",
        world.clinician,
    )


def test_an_assessment_in_the_window_completes_the_check_and_resolves_its_reminder(world):
    order, administration = journey.infused_patient(world, days_ago=1)
    check = (
        ScheduledCheck.objects.filter(administration=administration, kind="toxicity_check").order_by("due_at").first()
    )
    with time_machine.travel(check.due_at + timedelta(minutes=5), tick=False):
        monitoring_scan()
        assessment = assess(world, order.patient, at=timezone.now(), temperature_c=Decimal("37.2"), ice_score=10)
    check.refresh_from_db()
    assert (check.status, check.completed_by) == (CheckStatus.COMPLETED, f"assessment:{assessment.id}")
    assert Reminder.objects.get(check_item=check).status == ReminderStatus.RESOLVED


def test_grade_2_crs_raises_an_urgent_reminder_at_once_and_4_hourly_checks_until_two_calm_ones(world):
    order, _administration = journey.infused_patient(world, days_ago=2)
    patient = order.patient

    bad = assess(
        world, patient, at=timezone.now() - timedelta(hours=9), temperature_c=Decimal("39.0"), hypotension="fluids"
    )

    assert bad.crs_grade == 2
    urgent = Reminder.objects.get(dedupe_key=f"assessment:{bad.id}")
    assert (urgent.kind, urgent.severity, urgent.status) == ("toxicity_grade", "urgent", "open")
    escalated = ScheduledCheck.objects.filter(patient=patient, source="toxicity_escalation", status="open")
    assert list(escalated.values_list("due_at", flat=True)) == [bad.assessed_at + timedelta(hours=4)]

    first_calm = assess(world, patient, at=bad.assessed_at + timedelta(hours=4), temperature_c=Decimal("37.5"))
    assert first_calm.crs_grade == 0
    assert escalated.count() == 1  # one calm check is not enough: the next 4-hourly check is scheduled
    assert escalated.get().due_at == first_calm.assessed_at + timedelta(hours=4)

    assess(world, patient, at=first_calm.assessed_at + timedelta(hours=4), temperature_c=Decimal("37.1"))
    assert not escalated.exists()
    assert ScheduledCheck.objects.filter(patient=patient, source="toxicity_escalation", status="completed").count() == 2


def test_report_deadline_reminders_three_days_before_then_overdue_and_resolved_on_submission(world):
    patient = journey.make_patient(world)
    aware = timezone.now() - timedelta(days=1)
    event = adverse_event_record(
        actor=world.clinician,
        patient=patient,
        term="infection",
        grade=3,
        onset_at=aware - timedelta(hours=2),
        aware_at=aware,
        serious=True,
        expected=False,
    )
    monitoring_scan()
    assert not Reminder.objects.filter(dedupe_key__startswith=f"ae:{event.id}").exists()

    with time_machine.travel(event.report_due_at - timedelta(days=2), tick=False):
        monitoring_scan()
    assert Reminder.objects.get(dedupe_key=f"ae:{event.id}:due").severity == "routine"

    with time_machine.travel(event.report_due_at + timedelta(minutes=1), tick=False):
        monitoring_scan()
        monitoring_scan()
        assert Reminder.objects.get(dedupe_key=f"ae:{event.id}:overdue").severity == "urgent"
        adverse_event_mark_reported(actor=world.clinician, event_id=event.id)
    assert set(Reminder.objects.filter(dedupe_key__startswith=f"ae:{event.id}").values_list("status", flat=True)) == {
        "resolved"
    }


def test_unit_risks_raise_reminders_excursion_use_by_and_expiry(world, settings):
    settings.UNIT_EXPIRY_WARNING_DAYS = 7
    order = journey.make_order(world)
    unit = journey.released_unit(world, order)
    custody_record(
        actor=world.integration,
        unit_id=unit.unit_id,
        event="shipped",
        facility=world.hospital,
        at=timezone.now() - timedelta(hours=3),
        temperature_c=Decimal("-100"),
    )
    Unit.objects.filter(id=unit.id).update(expires_at=timezone.now() + timedelta(days=2))

    monitoring_scan()
    monitoring_scan()

    kinds = dict(Reminder.objects.filter(dedupe_key__startswith=f"unit:{unit.id}:").values_list("kind", "severity"))
    assert kinds == {"temperature_excursion": "urgent", "unit_expiring": "routine"}
    # in transit the bag is still the factory's: a product-side reminder, no patient attached
    excursion = Reminder.objects.get(kind="temperature_excursion")
    assert (excursion.patient, excursion.facility) == (None, world.factory_site)


def test_a_batch_in_quarantine_too_long_raises_a_product_side_reminder(world, settings):
    settings.BATCH_QUARANTINE_ALERT_DAYS = 14
    order = journey.make_order(world)
    journey.collect(world, order)
    batch = journey.start_batch(world, order)
    journey.record_qc(world, batch, {"viability": 90})
    Batch.objects.filter(id=batch.id).update(status_changed_at=timezone.now() - timedelta(days=15))

    monitoring_scan()

    reminder = Reminder.objects.get(kind="batch_quarantine")
    assert reminder.patient is None and reminder.facility == world.factory_site


def test_follow_up_visit_completes_the_visit_rcv_and_malignancy_checks(world):
    order, _administration = journey.infused_patient(world, days_ago=365)
    follow_up_record(
        actor=world.clinician, patient=order.patient, visit_date=timezone.localdate(), rcv_result="negative"
    )
    completed = Counter(
        ScheduledCheck.objects.filter(patient=order.patient, status="completed").values_list("kind", flat=True)
    )
    assert completed == {"follow_up_visit": 1, "rcv_test": 1, "malignancy_screen": 1}


def test_correcting_the_administration_time_moves_the_open_checks(world):
    _order, administration = journey.infused_patient(world, days_ago=1)
    monitoring_scan()
    earlier = administration.administered_at - timedelta(minutes=5)  # the bag was thawed 9 minutes before

    schedule_reschedule(
        administration_id=administration.id,
        actor=world.clinician,
        administered_at=earlier,
        reason="Infusion started earlier than typed",
    )

    first = ScheduledCheck.objects.filter(administration=administration).order_by("due_at").first()
    assert first.due_at == earlier + timedelta(days=1)


def test_an_administration_cannot_be_moved_before_its_unit_was_thawed(world):
    _order, administration = journey.infused_patient(world, days_ago=1)
    recorded = administration.administered_at
    with pytest.raises(OutOfSequence):
        schedule_reschedule(
            administration_id=administration.id,
            actor=world.clinician,
            administered_at=recorded - timedelta(hours=2),
            reason="typo",
        )
    assert Administration.objects.get(id=administration.id).administered_at == recorded


def test_voiding_an_administration_cancels_its_checks_and_frees_the_unit(world):
    order, administration = journey.infused_patient(world, days_ago=2)
    monitoring_scan()
    assert Reminder.objects.filter(patient=order.patient, status="open").exists()

    administration_void(administration_id=administration.id, actor=world.clinician, reason="Entered on wrong patient")

    assert not ScheduledCheck.objects.filter(administration=administration, status="open").exists()
    assert not Reminder.objects.filter(check_item__administration=administration).exclude(status="resolved").exists()
    unit = Unit.objects.get(id=administration.unit_id)
    assert unit.status == "thawed"


def test_emails_name_no_patient(world):
    order, administration = journey.infused_patient(world, days_ago=1)
    check = ScheduledCheck.objects.filter(administration=administration).order_by("due_at").first()
    with time_machine.travel(check.due_at + timedelta(minutes=1), tick=False):
        monitoring_scan()
    from tracker.services.notifications import notification_send

    for notification in Notification.objects.filter(channel="email"):
        assert notification_send(notification_id=notification.id) == "sent"
    assert mail.outbox
    patient = order.patient
    reminders = list(Reminder.objects.filter(patient=patient))
    for message in mail.outbox:
        text = message.subject + message.body
        assert patient.mrn not in text and patient.family_name not in text and patient.given_name not in text
        # nor what the reminder is about (its message names the check): the reader signs in to see it
        assert not any(r.message in text or (r.check_item and r.check_item.label in text) for r in reminders)
        assert f"/patients/{patient.id}/" in text and any(f"Reminder {r.id} " in text for r in reminders)


def test_a_late_assessment_completes_the_overdue_check_it_answers(world):
    order, administration = journey.infused_patient(world, days_ago=1.5)
    first = ScheduledCheck.objects.filter(administration=administration, kind="toxicity_check").order_by("due_at")[0]
    monitoring_scan()
    assert Reminder.objects.get(check_item=first).severity == "urgent"  # overdue and escalated

    assess(world, order.patient, temperature_c=Decimal("37.0"), ice_score=10)

    first.refresh_from_db()
    assert first.status == CheckStatus.COMPLETED
    assert Reminder.objects.get(check_item=first).status == ReminderStatus.RESOLVED
    # the next day's check is not touched: it is not due yet
    assert (
        ScheduledCheck.objects.filter(administration=administration, kind="toxicity_check", status="open").count() == 13
    )
