"""Course-level monitoring for repeated doses: a protocol's schedule runs from the course's first infusion (one
schedule per course) or from each infusion (each instantiates its own checks, but for the steps counted once per
course, such as the day-28 response); both follow a void and a time correction."""

from collections import Counter
from datetime import timedelta

import pytest

from products.models import MonitoringProtocol, ProtocolStep
from tests import journey
from tests.concurrency import race
from tests.tracker.test_course_and_weight import give
from tracker.choices import CheckSource, CheckStatus, ReminderStatus
from tracker.models import Administration, Reminder, ScheduledCheck
from tracker.services.monitoring import administration_void, schedule_reschedule
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db

# msc_standard (migration 0022_msc_from_each_infusion): what each infusion brings, and what the course brings once.
PER_INFUSION = {"infusion_reaction_check": 2}
ONCE_PER_COURSE = {"infection_check": 7, "toxicity_check": 7, "follow_up_visit": 5, "gvhd_response": 1}


@pytest.fixture
def world():
    return journey.build_world()


def protocol_checks(order, **filters):
    return ScheduledCheck.objects.filter(administration__order=order, source=CheckSource.PROTOCOL, **filters)


def kinds(checks) -> Counter:
    return Counter(checks.values_list("kind", flat=True))


def offsets(checks, since) -> list[timedelta]:
    return sorted(due - since for due in checks.values_list("due_at", flat=True))


def test_msc_standard_is_scheduled_from_each_infusion_with_the_response_once_per_course():
    protocol = MonitoringProtocol.objects.get(code="msc_standard")
    steps = {step.kind: step.once_per_course for step in protocol.steps.all()}

    assert protocol.schedule_from == "each_infusion"
    assert steps == {
        "infusion_reaction_check": False,
        "infection_check": True,
        "toxicity_check": True,
        "follow_up_visit": True,
        "gvhd_response": True,
    }
    response = protocol.steps.get(kind="gvhd_response")
    assert (response.first_due_value, response.first_due_unit, response.grace_hours) == (28, "days", 72)
    # car_t_standard keeps one schedule per course.
    assert MonitoringProtocol.objects.get(code="car_t_standard").schedule_from == "first_infusion"


def test_each_infusion_instantiates_its_own_checks_and_the_course_its_checks_once(world):
    order, (first, second) = journey.course_given(world, days_ago=(7, 3.5))

    assert kinds(protocol_checks(order, per_infusion=True, administration=first)) == PER_INFUSION
    assert kinds(protocol_checks(order, per_infusion=True, administration=second)) == PER_INFUSION
    assert kinds(protocol_checks(order, per_infusion=False)) == ONCE_PER_COURSE
    assert set(protocol_checks(order, per_infusion=False).values_list("administration", flat=True)) == {first.id}
    # Each infusion's checks count from its own time, the course's from the first infusion.
    for administration in (first, second):
        own = protocol_checks(order, per_infusion=True, administration=administration)
        assert offsets(own, administration.administered_at) == [timedelta(hours=1), timedelta(hours=24)]
    response = protocol_checks(order, kind="gvhd_response").get()
    assert response.due_at == first.administered_at + timedelta(days=28)
    labels = set(protocol_checks(order, per_infusion=True, administration=second).values_list("label", flat=True))
    assert labels == {f"Infusion reaction check at {t} (unit {second.unit.unit_id})" for t in ("1 h", "24 h")}


def test_the_same_protocol_scheduled_from_the_first_infusion_starts_one_schedule(world):
    MonitoringProtocol.objects.filter(code="msc_standard").update(schedule_from="first_infusion")

    order, (first, _second) = journey.course_given(world, days_ago=(7, 3.5))

    assert not protocol_checks(order, per_infusion=True).exists()
    assert kinds(protocol_checks(order)) == PER_INFUSION | ONCE_PER_COURSE
    assert set(protocol_checks(order).values_list("administration", flat=True)) == {first.id}


def test_each_infusion_reminds_its_own_infusion_reaction_check(world):
    order, (first, second) = journey.course_given(world, days_ago=(1, 0.5))

    monitoring_scan(now=second.administered_at + timedelta(hours=1, minutes=1))

    reminded = Reminder.objects.filter(
        check_item__administration__order=order, check_item__kind="infusion_reaction_check"
    )
    assert sorted(r.check_item.administration_id for r in reminded.filter(check_item__label__contains="1 h")) == [
        first.id,
        second.id,
    ]


def test_voiding_a_later_infusion_cancels_its_own_checks_only(world):
    order, (first, second) = journey.course_given(world, days_ago=(7, 3.5))
    course = list(protocol_checks(order, per_infusion=False).values_list("id", "due_at", "status"))
    monitoring_scan(now=second.administered_at + timedelta(hours=2))
    hour_one = Reminder.objects.get(check_item__administration=second, check_item__label__contains="1 h")

    administration_void(administration_id=second.id, actor=world.clinician, reason="Entered on the wrong order")

    assert set(protocol_checks(order, administration=second).values_list("status", flat=True)) == {
        CheckStatus.CANCELLED
    }
    hour_one.refresh_from_db()
    assert (hour_one.status, hour_one.resolution) == (ReminderStatus.RESOLVED, "Administration voided")
    assert list(protocol_checks(order, per_infusion=False).values_list("id", "due_at", "status")) == course
    assert kinds(protocol_checks(order, administration=first, per_infusion=True)) == PER_INFUSION


def test_voiding_the_first_infusion_passes_the_course_to_the_second_and_keeps_its_own_checks(world):
    order, (first, second) = journey.course_given(world, days_ago=(7, 3.5))
    own_second = list(protocol_checks(order, administration=second).values_list("id", "due_at"))

    administration_void(administration_id=first.id, actor=world.clinician, reason="Entered in error")

    course = protocol_checks(order, per_infusion=False).exclude(status=CheckStatus.CANCELLED)
    assert set(course.values_list("administration", flat=True)) == {second.id}
    response = course.get(kind="gvhd_response")
    assert response.due_at == second.administered_at + timedelta(days=28)  # day 28 of the course now starts here
    open_first = protocol_checks(order, per_infusion=True, administration=first)
    assert set(open_first.values_list("status", flat=True)) <= {CheckStatus.CANCELLED, CheckStatus.COMPLETED}
    assert not open_first.filter(status=CheckStatus.OPEN).exists()
    assert list(protocol_checks(order, per_infusion=True, administration=second).values_list("id", "due_at")) == (
        own_second
    )


def test_voiding_every_infusion_cancels_every_open_check(world):
    order, (first, second) = journey.course_given(world, days_ago=(2, 1))

    administration_void(administration_id=second.id, actor=world.clinician, reason="Wrong")
    administration_void(administration_id=first.id, actor=world.clinician, reason="Wrong")

    assert not ScheduledCheck.objects.filter(administration__order=order, status=CheckStatus.OPEN).exists()


def test_correcting_a_later_infusions_time_moves_its_own_checks_only(world):
    order, (_first, second) = journey.course_given(world, days_ago=(7, 0.01))
    course = list(protocol_checks(order, per_infusion=False).values_list("id", "due_at"))
    corrected = second.administered_at - timedelta(minutes=5)  # after the thaw, within its use-by time

    schedule_reschedule(
        administration_id=second.id, actor=world.clinician, administered_at=corrected, reason="Pump clock was off"
    )

    own = protocol_checks(order, per_infusion=True, administration=second)
    assert offsets(own, corrected) == [timedelta(hours=1), timedelta(hours=24)]
    assert list(protocol_checks(order, per_infusion=False).values_list("id", "due_at")) == course


def test_correcting_the_first_infusions_time_moves_its_checks_and_the_courses(world):
    order, (first, second) = journey.course_given(world, days_ago=(0.02, 0.01))
    corrected = first.administered_at - timedelta(minutes=5)

    schedule_reschedule(
        administration_id=first.id, actor=world.clinician, administered_at=corrected, reason="Typed the wrong time"
    )

    assert offsets(protocol_checks(order, per_infusion=True, administration=first), corrected) == [
        timedelta(hours=1),
        timedelta(hours=24),
    ]
    assert protocol_checks(order, kind="gvhd_response").get().due_at == corrected + timedelta(days=28)
    own_second = protocol_checks(order, per_infusion=True, administration=second)
    assert offsets(own_second, second.administered_at) == [timedelta(hours=1), timedelta(hours=24)]


def test_a_protocol_changed_to_each_infusion_applies_to_the_next_infusion_of_a_running_course(world):
    protocol = MonitoringProtocol.objects.get(code="msc_standard")

    def mode(i: int) -> None:
        protocol.schedule_from = "first_infusion" if i == 0 else "each_infusion"
        protocol.save()

    order, (_first, second) = journey.course_given(world, days_ago=(7, 3.5), before_each=mode)

    # The second infusion brings its own checks; the first keeps the whole schedule it started (no second copy).
    assert kinds(protocol_checks(order, per_infusion=True)) == PER_INFUSION
    assert set(protocol_checks(order, per_infusion=True).values_list("administration", flat=True)) == {second.id}
    assert kinds(protocol_checks(order, per_infusion=False)) == PER_INFUSION | ONCE_PER_COURSE


def test_a_step_marked_once_per_course_counts_once_even_when_added_to_a_running_protocol(world):
    protocol = MonitoringProtocol.objects.get(code="msc_standard")
    ProtocolStep.objects.filter(protocol=protocol, kind="infusion_reaction_check").update(once_per_course=True)

    order, (_first, _second) = journey.course_given(world, days_ago=(7, 3.5))

    assert not protocol_checks(order, per_infusion=True).exists()
    assert kinds(protocol_checks(order)) == PER_INFUSION | ONCE_PER_COURSE


@pytest.mark.django_db(transaction=True)
def test_two_infusions_of_a_course_recorded_at_once_each_get_their_own_checks_and_the_course_one_set():
    world = journey.build_world()
    order, (bag_1, bag_2) = journey.course_at_bedside(world, product=journey.msc_product(world))

    first, second = race(
        lambda: give(world, order, bag_1, minutes_ago=6),
        lambda: give(world, order, bag_2, minutes_ago=2, actor=world.coordinator),
    )

    assert isinstance(first, Administration) and isinstance(second, Administration), (first, second)
    assert kinds(protocol_checks(order, per_infusion=True, administration=first)) == PER_INFUSION
    assert kinds(protocol_checks(order, per_infusion=True, administration=second)) == PER_INFUSION
    assert kinds(protocol_checks(order, per_infusion=False)) == ONCE_PER_COURSE
    assert set(protocol_checks(order, per_infusion=False).values_list("administration", flat=True)) == {first.id}
