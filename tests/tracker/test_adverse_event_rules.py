"""Adverse events through the service: expectedness is always answered, grade 4-5 or a fatal outcome is serious,
and the report clock (aware_at) moves by one rule (tracker.rules.adverse_events.aware_clock)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.audit import audit_context
from products.errors import IllegalTransition
from tests import journey
from tracker.models import AdverseEvent, AdverseEventEvent
from tracker.rules.adverse_events import EDITABLE, AwareClock, aware_clock, is_serious, outcome_of
from tracker.services.clinical import adverse_event_mark_reported, adverse_event_record, adverse_event_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


@pytest.fixture
def patient(world):
    return journey.make_patient(world)


def record(world, patient, **fields):
    now = timezone.now()
    values = {
        "term": "infection",
        "grade": 3,
        "onset_at": now - timedelta(days=2),
        "aware_at": now - timedelta(days=1),
        "serious": True,
        "expected": False,
    }
    values.update(fields)
    return adverse_event_record(actor=world.clinician, patient=patient, **values)


# The pure rules, row by row ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "outcome", "serious", "result"),
    [
        (1, "ongoing", False, False),
        (3, "ongoing", False, False),
        (3, "ongoing", True, True),  # hospitalisation and the like: the reporter's call
        (4, "ongoing", False, True),  # CTCAE grade 4 is life-threatening: serious (ICH E2A)
        (5, "ongoing", False, True),  # death
        (2, "fatal", False, True),  # a fatal outcome
    ],
)
def test_seriousness_rule(grade, outcome, serious, result):
    assert is_serious(grade=grade, outcome=outcome, serious=serious) is result


def test_grade_5_is_fatal_and_no_other_grade_changes_the_outcome():
    assert outcome_of(grade=5, outcome="ongoing") == "fatal"
    assert outcome_of(grade=4, outcome="resolved") == "resolved"


def test_the_awareness_clock_rule():
    now = timezone.now()
    assert aware_clock(report_due_at=None, report_submitted_at=None) is AwareClock.FREE
    assert aware_clock(report_due_at=now, report_submitted_at=None) is AwareClock.NEEDS_REASON
    assert aware_clock(report_due_at=now, report_submitted_at=now) is AwareClock.CLOSED


# Expected: no default ---------------------------------------------------------------------------------------------


def test_an_event_without_an_answer_on_expectedness_is_refused(world, patient):
    with pytest.raises(ValidationError) as error:
        record(world, patient, expected=None)
    assert "label lists this event" in error.value.message_dict["expected"][0]
    assert not AdverseEvent.objects.exists()


def test_the_model_has_no_default_for_expected():
    assert not AdverseEvent._meta.get_field("expected").has_default()


# Grade 4 or 5, or fatal: serious --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "outcome"), [({"grade": 4}, "ongoing"), ({"grade": 5}, "fatal"), ({"outcome": "fatal"}, "fatal")]
)
def test_a_life_threatening_or_fatal_event_is_serious_whatever_serious_says(world, patient, fields, outcome):
    event = record(world, patient, serious=False, **fields)
    assert event.serious is True and event.outcome == outcome
    # serious and unexpected: the 15-day clock runs (21 CFR 600.80(c)(1)(i))
    assert event.report_due_at == event.aware_at + timedelta(days=15)


def test_raising_the_grade_to_4_makes_an_event_serious_and_starts_the_clock(world, patient):
    event = record(world, patient, serious=False)
    assert event.report_due_at is None

    event = adverse_event_update(actor=world.clinician, event_id=event.id, grade=4, serious=False)

    assert event.serious is True and event.report_due_at is not None


# Moving the awareness time ----------------------------------------------------------------------------------------


def test_without_a_deadline_the_awareness_time_moves_freely(world, patient):
    event = record(world, patient, serious=False)
    new_aware = event.aware_at - timedelta(hours=3)

    event = adverse_event_update(actor=world.clinician, event_id=event.id, aware_at=new_aware)

    assert event.aware_at == new_aware and event.aware_at_changed_at is None


def test_once_a_deadline_is_set_the_awareness_time_moves_only_with_a_reason(world, patient):
    event = record(world, patient)
    due = event.report_due_at

    with pytest.raises(ValidationError) as error:
        adverse_event_update(actor=world.clinician, event_id=event.id, aware_at=event.aware_at + timedelta(hours=6))

    assert "say why it moves" in error.value.message_dict["aware_at_reason"][0]
    event.refresh_from_db()
    assert event.report_due_at == due and event.aware_at_changed_by is None


def test_a_reasoned_move_keeps_who_when_and_why_on_the_event_and_in_the_audit_trail(world, patient):
    event = record(world, patient)
    later = event.aware_at + timedelta(hours=6)

    with audit_context(actor="test", user_id=world.clinician.pk):
        event = adverse_event_update(
            actor=world.clinician, event_id=event.id, aware_at=later, aware_at_reason="The email came the next morning"
        )

    assert event.report_due_at == later + timedelta(days=15)
    assert event.aware_at_changed_by == world.clinician and event.aware_at_changed_at is not None
    assert event.aware_at_change_reason == "The email came the next morning"
    history = AdverseEventEvent.objects.filter(pgh_obj_id=event.id, pgh_label="update").select_related("pgh_context")
    # A reason about a patient: kept under the key only patient-side history shows.
    metadata = history.get().pgh_context.metadata
    assert metadata["patient_reason"] == "Awareness time moved: The email came the next morning"


def test_an_unchanged_awareness_time_needs_no_reason(world, patient):
    event = record(world, patient)
    event = adverse_event_update(actor=world.clinician, event_id=event.id, aware_at=event.aware_at, grade=2)
    assert event.grade == 2 and event.aware_at_changed_at is None


def test_after_the_report_is_submitted_the_awareness_time_no_longer_moves(world, patient):
    event = record(world, patient)
    adverse_event_mark_reported(actor=world.clinician, event_id=event.id)

    with pytest.raises(IllegalTransition, match="follow-up report"):
        adverse_event_update(
            actor=world.clinician,
            event_id=event.id,
            aware_at=event.aware_at - timedelta(hours=1),
            aware_at_reason="Typo",
        )

    assert AdverseEvent.objects.get(id=event.id).aware_at == event.aware_at


def test_every_field_the_rule_lists_may_change_and_no_other(world, patient):
    event = record(world, patient)
    with pytest.raises(ValidationError) as error:
        adverse_event_update(actor=world.clinician, event_id=event.id, report_rule="none", recorded_by=None)
    assert set(error.value.message_dict) == {"report_rule", "recorded_by"}
    assert {"aware_at", "expected", "serious", "outcome", "grade"} <= set(EDITABLE)
