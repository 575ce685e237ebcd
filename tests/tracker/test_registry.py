"""Registry documents: due dates kept with the course (created at the first infusion, moved with it, cancelled when
it is voided, closed after a death), the scan's reminders as each falls due (once, for the coordinators), and the
documents with what is missing."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from tests import journey
from tracker.choices import RegistryFormStatus
from tracker.models import Administration, Notification, RegistryForm, Reminder
from tracker.registry import registry_documents
from tracker.rules import registry as rules
from tracker.services.clinical import adverse_event_record, assessment_record, follow_up_record
from tracker.services.monitoring import administration_void, course_schedule_sync
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = journey.build_world()
    for user in (world.clinician, world.coordinator):
        user.email = f"{user.username}@hospital.example"
        user.save()
    return world


def due_dates(order) -> dict[str, object]:
    return dict(RegistryForm.objects.filter(order=order).values_list("timepoint", "due_on"))


def test_the_first_infusion_gives_the_course_its_documents_due_dates(world):
    order, administration = journey.infused_patient(world, days_ago=3)

    infused_on = timezone.localtime(administration.administered_at).date()
    assert due_dates(order) == {t.code: rules.due_on(t, infused_on) for t in rules.TIMEPOINTS}
    assert set(RegistryForm.objects.filter(order=order).values_list("status", flat=True)) == {"open"}


def test_the_due_dates_follow_the_courses_first_infusion_and_a_void_cancels_them(world):
    order, administration = journey.infused_patient(world, days_ago=3)
    monitoring_scan()  # the documents due on the infusion day are reminded
    reminded = Reminder.objects.filter(kind="registry_due", patient=order.patient)
    assert reminded.count() == 3

    # the infusion time moves (a correction, or the course's first infusion voided): the schedule follows, and so do
    # the documents; those no longer due lose their reminders, and are reminded afresh when due again
    moved = administration.administered_at + timedelta(days=10)
    with transaction.atomic():
        Administration.objects.filter(id=administration.id).update(administered_at=moved)
        course_schedule_sync(order_id=order.id, resolution="Rescheduled: test")
    assert due_dates(order)["day_100"] == timezone.localtime(moved).date() + timedelta(days=100)
    assert due_dates(order)["infusion"] == timezone.localtime(moved).date()
    assert set(reminded.values_list("status", flat=True)) == {"resolved"}
    assert RegistryForm.objects.filter(order=order, reminded_at__isnull=False).count() == 0
    monitoring_scan()
    assert reminded.exclude(status="resolved").count() == 0

    administration_void(administration_id=administration.id, actor=world.clinician, reason="Wrong patient")
    assert set(RegistryForm.objects.filter(order=order).values_list("status", flat=True)) == {"cancelled"}


def test_the_scan_reminds_the_coordinators_once_as_each_document_falls_due(world, settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    order, _ = journey.infused_patient(world, days_ago=101)

    monitoring_scan()
    monitoring_scan()  # a second scan finds nothing more

    reminders = Reminder.objects.filter(kind="registry_due", patient=order.patient)
    # pre-infusion, product, infusion (due on the infusion day) and day 100: four documents fallen due
    assert reminders.count() == 4
    assert {r.message.split("registry document ")[1].split(" ")[0] for r in reminders} == {
        "pre_infusion",
        "product",
        "infusion",
        "day_100",
    }
    assert all(r.escalate_at is None and r.facility_id == world.hospital.id for r in reminders)
    recipients = set(
        Notification.objects.filter(reminder__in=reminders, channel="email").values_list("recipient", flat=True)
    )
    assert recipients == {"coord@hospital.example"}  # the coordinators', not the clinicians'
    assert RegistryForm.objects.filter(order=order, reminded_at__isnull=False).count() == 4

    # month 6 falls due later: reminded then, once
    month_6 = RegistryForm.objects.get(order=order, timepoint="month_6")
    with time_machine.travel(timezone.now() + (month_6.due_on - timezone.localdate()) + timedelta(days=1), tick=False):
        monitoring_scan()
        monitoring_scan()
    assert Reminder.objects.filter(kind="registry_due", patient=order.patient).count() == 5


def test_a_death_closes_the_documents_after_the_one_that_reports_it(world):
    order, administration = journey.infused_patient(world, days_ago=10)

    adverse_event_record(
        actor=world.clinician,
        patient=order.patient,
        term="crs",
        grade=5,
        onset_at=administration.administered_at + timedelta(days=5),
        aware_at=administration.administered_at + timedelta(days=5, hours=1),
        serious=True,
        expected=True,
    )

    status = dict(RegistryForm.objects.filter(order=order).values_list("timepoint", "status"))
    assert status["day_100"] == RegistryFormStatus.OPEN  # it reports the death
    assert {status[f"year_{n}"] for n in range(1, 16)} == {RegistryFormStatus.DECEASED}
    assert status["month_6"] == RegistryFormStatus.DECEASED
    assert status["infusion"] == RegistryFormStatus.OPEN  # due already: still to be sent


def test_documents_list_what_is_missing_until_it_is_recorded(world):
    order, administration = journey.infused_patient(world, days_ago=120)
    day0 = administration.administered_at

    documents = {d.timepoint: d for d in registry_documents(order=order)}
    assert documents["pre_infusion"].missing == ["conditioning"]  # CAR-T: lymphodepletion on record is asked for
    assert documents["pre_infusion"].data["weight_kg"] == "70.0"
    assert documents["product"].missing == []
    assert documents["product"].data["lots"][0]["status"] == "released"
    assert documents["infusion"].missing == []
    assert documents["infusion"].data["dose_cells"] == 100_000_000
    assert documents["day_100"].due_date == timezone.localtime(day0).date() + timedelta(days=100)
    # no visit, and the protocol's month-3 RCV test falls in day 100's window
    assert documents["day_100"].missing == ["survival_status", "disease_response", "rcv_result"]
    assert documents["day_100"].data["crs_max_grade"] is None

    assessment_record(
        actor=world.clinician,
        patient=order.patient,
        assessed_at=day0 + timedelta(days=2),
        temperature_c=Decimal("38.8"),
        hypotension="fluids",
    )
    follow_up_record(
        actor=world.clinician,
        patient=order.patient,
        visit_date=(day0 + timedelta(days=98)).date(),
        disease_response="cr",
        rcv_result="negative",
    )

    day_100 = registry_documents(order=order, timepoint="day_100")[0]
    assert day_100.missing == []
    assert (day_100.data["survival_status"], day_100.data["disease_response"], day_100.data["rcv_result"]) == (
        "alive",
        "cr",
        "negative",
    )
    assert day_100.data["crs_max_grade"] == 2
    assert day_100.data["visit_date"] == (day0 + timedelta(days=98)).date().isoformat()
    # month 6 is still ahead, and missing everything a visit would bring
    assert registry_documents(order=order, timepoint="month_6")[0].missing == [
        "survival_status",
        "disease_response",
        "rcv_result",
    ]
