"""Investigational products through the services: the report clock follows the status of the course an event is
reported under (the order's trial, else the product's), each rule in turn; it is computed again on every change;
and a serious event in a trial reminds the site to tell the sponsor at once (21 CFR 312.64(b))."""

import itertools
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.errors import IllegalTransition
from products.models import Product
from products.services.catalog import product_update
from tests import journey
from tests.concurrency import race
from tracker.choices import ReminderKind, ReminderStatus
from tracker.models import AdverseEvent, Reminder
from tracker.rules import reporting
from tracker.services.clinical import adverse_event_record, adverse_event_sponsor_notified, adverse_event_update
from tracker.services.orders import order_create
from tracker.services.scan import monitoring_scan
from tracker.timeline import TimelineKind, patient_timeline

pytestmark = pytest.mark.django_db

IND = "IND 123456"


@pytest.fixture
def world():
    return journey.build_world()


def ago(**delta: float) -> datetime:
    return (timezone.now() - timedelta(**delta)).replace(microsecond=0)


def licensed(world):
    return Product.objects.filter(code="cart-licensed").first() or journey.make_product(world, code="cart-licensed")


def investigational(world):
    return Product.objects.filter(code="msc-trial").first() or journey.make_product(
        world, code="msc-trial", regulatory_status="investigational", ind_number=IND, trial_protocol="MSC-201"
    )


_patients = itertools.count(1)


def course(world, product, **trial: str):
    patient = journey.make_patient(world, mrn=f"MRN-T{next(_patients):04d}")
    return order_create(actor=world.clinician, patient=patient, product=product, **trial)


def record(world, of, /, **facts: object) -> AdverseEvent:
    fields: dict = {
        "term": "infection",
        "grade": 3,
        "onset_at": ago(days=2),
        "aware_at": ago(days=1),
        "serious": True,
        "expected": False,
        "relatedness": "possible",
    }
    fields.update(facts)
    return adverse_event_record(actor=world.clinician, patient=of.patient, **fields)


# Each rule, with the product's (or the order's) status ------------------------------------------------------------


def test_licensed_serious_unexpected_is_due_in_15_days_under_600_80(world):
    order = course(world, licensed(world))

    event = record(world, order, relatedness="unlikely")

    assert (event.regulatory_status, event.order_id, event.suspected) == ("licensed", order.id, False)
    assert event.report_due_at == event.aware_at + timedelta(days=15)
    assert event.report_rule == reporting.POSTMARKETING_15_DAY


def test_investigational_serious_unexpected_suspected_is_due_in_15_days_under_312_32_c_1(world):
    order = course(world, investigational(world))

    event = record(world, order)

    assert (event.regulatory_status, event.ind_number, event.trial_protocol) == ("investigational", IND, "MSC-201")
    assert event.suspected is True
    assert event.report_due_at == event.aware_at + timedelta(days=15)
    assert event.report_rule == reporting.IND_15_DAY


@pytest.mark.parametrize(("grade", "outcome"), [(4, "ongoing"), (5, "ongoing"), (3, "fatal")])
def test_investigational_fatal_or_life_threatening_is_due_in_7_days_under_312_32_c_2(world, grade, outcome):
    order = course(world, investigational(world))

    event = record(world, order, grade=grade, outcome=outcome, serious=False)

    assert event.serious is True  # grade 4 or 5, or fatal: serious by definition
    assert event.report_due_at == event.aware_at + timedelta(days=7)
    assert event.report_rule == reporting.IND_7_DAY


@pytest.mark.parametrize(
    ("facts", "rule"),
    [
        ({"relatedness": "unrelated"}, reporting.IND_NOT_SUSPECTED),
        ({"expected": True}, reporting.IND_EXPECTED),
        ({"serious": False, "grade": 2}, reporting.IND_NOT_SERIOUS),
    ],
)
def test_investigational_events_without_all_three_have_no_expedited_report(world, facts, rule):
    order = course(world, investigational(world))

    event = record(world, order, **facts)

    assert (event.report_due_at, event.report_rule) == (None, rule)


def test_a_licensed_product_given_in_a_trial_reports_under_the_orders_ind(world):
    product = licensed(world)
    order = course(world, product, trial_protocol="CART-LTFU-07", ind_number="IND 200001")

    event = record(world, order, grade=4)

    assert (event.regulatory_status, event.ind_number, event.trial_protocol) == (
        "investigational",
        "IND 200001",
        "CART-LTFU-07",
    )
    assert event.report_rule == reporting.IND_7_DAY


def test_a_licensed_product_in_a_trial_without_an_ind_is_refused(world):
    product = licensed(world)

    with pytest.raises(ValidationError) as refused:
        course(world, product, trial_protocol="CART-LTFU-07")

    assert "ind_number" in refused.value.message_dict


def test_the_event_goes_with_the_last_infusion_before_its_onset_unless_told(world):
    trial_order, infusion = journey.infused_patient(world, days_ago=3, product=investigational(world))
    later = order_create(actor=world.clinician, patient=trial_order.patient, product=licensed(world))

    default = record(world, trial_order, onset_at=ago(days=1), aware_at=ago(hours=20))
    told = record(world, trial_order, onset_at=ago(days=1), aware_at=ago(hours=20), order=later)

    assert later.ordered_at > infusion.administered_at  # the last order is not the infused one
    assert (default.order_id, default.regulatory_status) == (trial_order.id, "investigational")
    assert (told.order_id, told.regulatory_status) == (later.id, "licensed")


def test_an_event_of_a_patient_without_an_order_follows_the_postmarketing_rule(world):
    patient = journey.make_patient(world)

    event = adverse_event_record(
        actor=world.clinician,
        patient=patient,
        term="other",
        grade=3,
        onset_at=ago(days=2),
        aware_at=ago(days=1),
        serious=True,
        expected=False,
    )

    assert event.order is None
    assert (event.regulatory_status, event.report_rule) == ("licensed", reporting.POSTMARKETING_15_DAY)


def test_an_order_of_another_patient_is_refused_and_nothing_is_written(world):
    order = course(world, investigational(world))
    other = course(world, licensed(world))

    with pytest.raises(ValidationError) as refused:
        record(world, order, order=other)

    assert "coi" in refused.value.message_dict
    assert not AdverseEvent.objects.exists()


def test_suspected_that_contradicts_relatedness_is_refused(world):
    order = course(world, investigational(world))

    with pytest.raises(ValidationError) as refused:
        record(world, order, relatedness="unrelated", suspected=True)

    assert "suspected" in refused.value.message_dict
    assert not AdverseEvent.objects.exists() and not Reminder.objects.exists()


# The clock on every change --------------------------------------------------------------------------------------


def test_a_change_recomputes_the_clock_from_the_status_kept_with_the_event(world):
    product = investigational(world)
    order = course(world, product)
    event = record(world, order, relatedness="unlikely")
    assert (event.report_due_at, event.report_rule) == (None, reporting.IND_NOT_SUSPECTED)

    suspected = adverse_event_update(actor=world.clinician, event_id=event.id, relatedness="probable")
    assert (suspected.suspected, suspected.report_rule) == (True, reporting.IND_15_DAY)
    life_threatening = adverse_event_update(actor=world.clinician, event_id=event.id, grade=4)
    assert life_threatening.report_due_at == event.aware_at + timedelta(days=7)
    # The product is licensed later: the event stays an event of the trial it happened in.
    product_update(
        actor=world.coordinator, product_id=product.id, regulatory_status="licensed", ind_number="", trial_protocol=""
    )
    resolved = adverse_event_update(actor=world.clinician, event_id=event.id, outcome="resolved")
    assert (resolved.regulatory_status, resolved.report_rule) == ("investigational", reporting.IND_7_DAY)


def test_suspected_given_on_a_change_must_agree_with_the_relatedness(world):
    event = record(world, course(world, investigational(world)))

    with pytest.raises(ValidationError) as refused:
        adverse_event_update(actor=world.clinician, event_id=event.id, suspected=False)

    assert "suspected" in refused.value.message_dict
    event.refresh_from_db()
    assert event.suspected is True and event.report_rule == reporting.IND_15_DAY
    agreed = adverse_event_update(actor=world.clinician, event_id=event.id, suspected=False, relatedness="unlikely")
    assert (agreed.suspected, agreed.report_due_at) == (False, None)


def test_moving_awareness_of_a_trial_event_still_needs_a_reason(world):
    event = record(world, course(world, investigational(world)), grade=4)

    with pytest.raises(ValidationError) as refused:
        adverse_event_update(actor=world.clinician, event_id=event.id, aware_at=ago(hours=6))
    moved = adverse_event_update(
        actor=world.clinician, event_id=event.id, aware_at=ago(hours=6), aware_at_reason="Phoned in late"
    )

    assert "aware_at_reason" in refused.value.message_dict
    assert moved.report_due_at == moved.aware_at + timedelta(days=7)
    assert moved.aware_at_change_reason == "Phoned in late"


# The sponsor is told at once (21 CFR 312.64(b)) -------------------------------------------------------------------


def sponsor_reminders(event: AdverseEvent):
    return Reminder.objects.filter(kind=ReminderKind.SPONSOR_NOTIFICATION, patient=event.patient)


def test_a_serious_trial_event_reminds_the_site_to_tell_the_sponsor_in_the_same_transaction(world):
    event = record(world, course(world, investigational(world)), relatedness="unrelated")

    reminder = sponsor_reminders(event).get()
    assert (reminder.status, reminder.severity, reminder.due_at) == ("open", "urgent", event.aware_at)
    assert reminder.escalate_at == event.aware_at + timedelta(days=1)
    assert "312.64(b)" in reminder.message and IND in reminder.message
    assert reminder.notifications.exists()  # on its way to the facility's people now


def test_no_sponsor_reminder_outside_a_trial_or_for_a_non_serious_event(world):
    licensed_event = record(world, course(world, licensed(world)))
    mild = record(world, course(world, investigational(world)), serious=False, grade=1)

    assert not sponsor_reminders(licensed_event).exists()
    assert not sponsor_reminders(mild).exists()


def test_the_sponsor_reminder_is_raised_once_however_often_the_event_changes_and_the_scan_runs(world):
    event = record(world, course(world, investigational(world)))

    adverse_event_update(actor=world.clinician, event_id=event.id, description="More detail")
    adverse_event_update(actor=world.clinician, event_id=event.id, grade=4)
    monitoring_scan(now=timezone.now() + timedelta(hours=1))

    assert sponsor_reminders(event).count() == 1


def test_an_event_that_becomes_serious_raises_it_and_one_that_stops_being_serious_resolves_it(world):
    event = record(world, course(world, investigational(world)), serious=False, grade=2)
    assert not sponsor_reminders(event).exists()

    adverse_event_update(actor=world.clinician, event_id=event.id, serious=True)
    assert sponsor_reminders(event).get().status == ReminderStatus.OPEN
    adverse_event_update(actor=world.clinician, event_id=event.id, serious=False)

    reminder = sponsor_reminders(event).get()
    assert (reminder.status, reminder.resolution) == ("resolved", "No longer a serious event in a trial")


def test_recording_the_sponsor_told_resolves_the_reminder(world):
    event = record(world, course(world, investigational(world)))
    told = ago(hours=2)

    notified = adverse_event_sponsor_notified(actor=world.clinician, event_id=event.id, at=told)

    assert notified.sponsor_notified_at == told
    reminder = sponsor_reminders(event).get()
    assert (reminder.status, reminder.resolution) == ("resolved", "Sponsor notified")
    adverse_event_update(actor=world.clinician, event_id=event.id, grade=4)  # no new reminder once told
    assert sponsor_reminders(event).count() == 1


def test_the_sponsor_is_told_once_after_awareness_and_only_of_a_trial_event(world):
    event = record(world, course(world, investigational(world)))
    outside = record(world, course(world, licensed(world)))

    with pytest.raises(ValidationError) as before:
        adverse_event_sponsor_notified(actor=world.clinician, event_id=event.id, at=event.aware_at - timedelta(hours=1))
    with pytest.raises(IllegalTransition):
        adverse_event_sponsor_notified(actor=world.clinician, event_id=outside.id)
    adverse_event_sponsor_notified(actor=world.clinician, event_id=event.id)
    with pytest.raises(IllegalTransition):
        adverse_event_sponsor_notified(actor=world.clinician, event_id=event.id)

    assert "sponsor_notified_at" in before.value.message_dict
    outside.refresh_from_db()
    assert outside.sponsor_notified_at is None


# The timeline says what the clock follows ---------------------------------------------------------------------------


def adverse_event_entry(event: AdverseEvent):
    timeline = patient_timeline(patient=event.patient, kinds={TimelineKind.ADVERSE_EVENT})
    return next(e for e in timeline.events if e.record_id == event.id)


def test_the_timeline_shows_a_trial_events_rule_suspicion_and_whether_the_sponsor_was_told(world):
    event = record(world, course(world, investigational(world)), grade=4)

    before = adverse_event_entry(event)
    adverse_event_sponsor_notified(actor=world.clinician, event_id=event.id, at=ago(hours=3))
    after = adverse_event_entry(event)

    detail = before.detail
    assert (detail.regulatory_status, detail.suspected, detail.ind_number, detail.trial_protocol) == (
        "investigational",
        True,
        IND,
        "MSC-201",
    )
    assert detail.report_rule == reporting.IND_7_DAY and detail.sponsor_notified_at is None
    assert "suspected" in before.summary and "(21 CFR 312.32(c)(2))" in before.summary
    assert "sponsor not yet told" in before.summary and f"[trial: protocol MSC-201, IND/CTA {IND}]" in before.summary
    assert "sponsor told" in after.summary and after.detail.sponsor_notified_at is not None


def test_the_timeline_of_a_licensed_event_names_its_rule_and_no_trial(world):
    event = record(world, course(world, licensed(world)))

    entry = adverse_event_entry(event)

    assert (entry.detail.regulatory_status, entry.detail.report_rule) == ("licensed", reporting.POSTMARKETING_15_DAY)
    assert "trial" not in entry.summary and "sponsor" not in entry.summary


@pytest.mark.django_db(transaction=True)
def test_two_sponsor_notifications_at_once_record_one():
    world = journey.build_world()
    event = record(world, course(world, investigational(world)))

    first, second = race(
        lambda: adverse_event_sponsor_notified(actor=world.clinician, event_id=event.id, at=ago(hours=2)),
        lambda: adverse_event_sponsor_notified(actor=world.coordinator, event_id=event.id, at=ago(hours=1)),
    )

    assert isinstance(first, AdverseEvent) and isinstance(second, IllegalTransition), (first, second)
    event.refresh_from_db()
    assert event.sponsor_notified_at == first.sponsor_notified_at
    assert sponsor_reminders(event).get().status == ReminderStatus.RESOLVED
