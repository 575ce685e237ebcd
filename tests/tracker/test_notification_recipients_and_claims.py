"""Who hears of an escalation, and deliveries that never stick (a claim by a worker that died is taken over)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from products.choices import Role
from products.models import FacilityMembership
from tests import journey
from tests.factories import UserFactory
from tracker.models import Notification, Reminder, ScheduledCheck
from tracker.services import scan
from tracker.services.notifications import CLAIM_TIMEOUT, _claim, _recipients
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


def on_call(user, facility, value: bool = True) -> None:
    FacilityMembership.objects.update_or_create(user=user, facility=facility, defaults={"on_call": value})


def test_an_escalation_goes_to_the_facilitys_on_call_clinician(world):
    night = UserFactory(username="night", email="night@h.example", roles=[Role.CLINICIAN], facilities=[world.hospital])
    on_call(night, world.hospital)

    assert _recipients(world.hospital.id, True, "escalated") == ["night@h.example"]
    # a reminder raised (not escalated) still goes to every clinician of the facility
    assert set(_recipients(world.hospital.id, True, "raised")) == {"night@h.example", world.clinician.email}


def test_on_call_at_another_facility_is_not_on_call_here(world):
    # A clinician of this hospital who is on call only at the other one. The old filter, chained over the
    # multi-valued memberships relation, took them for this hospital's on-call clinician and sent them alone.
    roaming = UserFactory(
        username="roam",
        email="roam@h.example",
        roles=[Role.CLINICIAN],
        facilities=[world.hospital, world.other_hospital],
    )
    on_call(roaming, world.other_hospital)

    recipients = _recipients(world.hospital.id, True, "escalated")

    assert set(recipients) == {world.clinician.email, "roam@h.example"}  # nobody on call here: all clinicians


def test_with_nobody_on_call_an_escalation_goes_to_all_the_facilitys_clinicians(world):
    second = UserFactory(username="doc2", email="doc2@h.example", roles=[Role.CLINICIAN], facilities=[world.hospital])
    outsider = UserFactory(
        username="far", email="far@h.example", roles=[Role.CLINICIAN], facilities=[world.other_hospital]
    )
    on_call(outsider, world.other_hospital)

    assert set(_recipients(world.hospital.id, True, "escalated")) == {world.clinician.email, second.email}


def test_a_role_without_access_to_patients_is_never_on_call_for_a_patient(world):
    mfg = UserFactory(username="mfg2", email="mfg2@h.example", roles=[Role.MANUFACTURING], facilities=[world.hospital])
    on_call(mfg, world.hospital)

    assert _recipients(world.hospital.id, True, "escalated") == [world.clinician.email]


def test_the_scans_escalation_reaches_the_clinicians_when_nobody_is_on_call_here(world):
    roaming = UserFactory(
        username="roam",
        email="roam@h.example",
        roles=[Role.CLINICIAN],
        facilities=[world.hospital, world.other_hospital],
    )
    on_call(roaming, world.other_hospital)
    _order, administration = journey.infused_patient(world, days_ago=1)
    check = ScheduledCheck.objects.filter(administration=administration).order_by("due_at").first()

    with time_machine.travel(check.grace_until + timedelta(minutes=1), tick=False):
        monitoring_scan()

    reminder = Reminder.objects.get(check_item=check)
    assert reminder.escalated_at is not None
    escalated = set(
        Notification.objects.filter(reminder=reminder, reason="escalated", channel="email").values_list(
            "recipient", flat=True
        )
    )
    assert escalated == {world.clinician.email, "roam@h.example"}


# --- claims ----------------------------------------------------------------------------------------------------


def pending_email(world) -> Notification:
    journey.infused_patient(world, days_ago=1.5)
    monitoring_scan()
    return Notification.objects.filter(channel="email", status="pending").first()


def test_the_scan_requeues_a_delivery_whose_worker_died_and_leaves_a_live_claim_alone(world, settings, monkeypatch):
    settings.NOTIFICATION_REQUEUE_SECONDS = 0
    dead = pending_email(world)
    live = Notification.objects.filter(channel="email", status="pending").exclude(id=dead.id).first()
    now = timezone.now()
    Notification.objects.filter(status="pending").update(next_attempt_at=now - timedelta(minutes=1))
    Notification.objects.filter(id=dead.id).update(claimed_at=now - CLAIM_TIMEOUT - timedelta(seconds=1))
    Notification.objects.filter(id=live.id).update(claimed_at=now - timedelta(seconds=30))
    enqueued: list[int] = []
    # What the scan hands to the broker (tests/tracker/test_monitoring_worker.py runs it with a real worker).
    monkeypatch.setattr(scan, "enqueue", enqueued.extend)

    monitoring_scan()

    assert dead.id in enqueued
    assert live.id not in enqueued


def test_a_stale_claim_is_taken_over_by_exactly_one_sender(world):
    notification = pending_email(world)
    Notification.objects.filter(id=notification.id).update(
        claimed_at=timezone.now() - CLAIM_TIMEOUT - timedelta(seconds=1), attempts=1
    )

    first, second = _claim(notification.id), _claim(notification.id)

    assert first is not None and first.attempts == 2
    assert second is None  # the fresh claim is someone's: not taken again
