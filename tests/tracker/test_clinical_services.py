"""Assessments are graded on save; adverse events carry their report clock; follow-up visits are checked."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.errors import PermissionDeniedError
from tests import journey
from tracker.services.clinical import (
    adverse_event_mark_reported,
    adverse_event_record,
    adverse_event_update,
    assessment_record,
    follow_up_record,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


@pytest.fixture
def patient(world):
    return journey.make_patient(world)


ALL_ICE_ITEMS = {"orientation": 4, "naming": 3, "following_commands": 1, "writing": 1, "attention": 1}


def assess(world, patient, **measurements):
    return assessment_record(
        actor=world.clinician, patient=patient, assessed_at=timezone.now() - timedelta(minutes=5), **measurements
    )


def test_grades_are_computed_from_the_raw_measurements(world, patient):
    assessment = assess(
        world,
        patient,
        temperature_c=Decimal("39.1"),
        hypotension="fluids",
        hypoxia="high_flow",
        ice_score=5,
        consciousness="voice",
    )
    assert (assessment.crs_grade, assessment.icans_grade) == (3, 2)


def test_ice_items_give_the_ice_score(world, patient):
    items = {"orientation": 3, "naming": 3, "following_commands": 1, "writing": 0, "attention": 1}
    assessment = assess(world, patient, ice_items=items)
    assert assessment.ice_score == 8
    assert assessment.icans_grade == 1


@pytest.mark.parametrize(
    ("measurements", "field"),
    [
        ({"temperature_c": Decimal("55")}, "temperature_c"),
        ({"temperature_c": Decimal("20")}, "temperature_c"),
        ({"ice_score": 11}, "ice_score"),
        ({"ice_items": {"orientation": 9}}, "ice_items"),
        ({"ice_items": {"orientation": 4}}, "ice_items"),  # all five or none
        ({"ice_items": {**ALL_ICE_ITEMS, "attention": 0}, "ice_score": 8}, "ice_score"),  # the items make 9
        ({"heart_rate": 301}, "heart_rate"),
        ({"spo2": 101}, "spo2"),
        ({"oxygen_l_min": Decimal("100.1")}, "oxygen_l_min"),
        ({"capd_score": 3}, "capd_score"),  # a CAPD is for children under 12
    ],
)
def test_impossible_measurements_are_refused(world, patient, measurements, field):
    with pytest.raises(ValidationError) as error:
        assess(world, patient, **measurements)
    assert field in error.value.message_dict
    assert not patient.assessments.exists()


def test_a_clinician_of_another_facility_cannot_assess(world, patient):
    with pytest.raises(PermissionDeniedError):
        assessment_record(actor=world.other_clinician, patient=patient, assessed_at=timezone.now())


def record_ae(world, patient, **fields):
    now = timezone.now()
    defaults = {
        "term": "infection",
        "grade": 3,
        "onset_at": now - timedelta(days=2),
        "aware_at": now - timedelta(days=1),
        "serious": True,
        "expected": False,
    }
    defaults.update(fields)
    return adverse_event_record(actor=world.clinician, patient=patient, **defaults)


def test_serious_unexpected_event_is_due_15_days_after_awareness(world, patient):
    event = record_ae(world, patient)
    assert event.report_due_at == event.aware_at + timedelta(days=15)
    assert "600.80" in event.report_rule


@pytest.mark.parametrize(("serious", "expected"), [(True, True), (False, False), (False, True)])
def test_other_events_have_no_expedited_deadline(world, patient, serious, expected):
    event = record_ae(world, patient, serious=serious, expected=expected)
    assert event.report_due_at is None
    assert "periodic" in event.report_rule


def test_grade_5_is_always_serious_and_fatal(world, patient):
    event = record_ae(world, patient, grade=5, serious=False)
    assert event.serious and event.outcome == "fatal"
    assert event.report_due_at is not None


def test_changing_expectedness_recomputes_the_clock_and_submission_is_recorded(world, patient):
    event = record_ae(world, patient, expected=True)
    assert event.report_due_at is None
    event = adverse_event_update(actor=world.clinician, event_id=event.id, expected=False)
    assert event.report_due_at == event.aware_at + timedelta(days=15)
    event = adverse_event_mark_reported(actor=world.clinician, event_id=event.id)
    assert event.report_submitted_at is not None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"grade": 6}, "grade"),
        ({"grade": 0}, "grade"),
        ({"aware_at": timezone.now() - timedelta(days=5)}, "aware_at"),
        ({"onset_at": timezone.now() + timedelta(days=1), "aware_at": timezone.now() + timedelta(days=1)}, "onset_at"),
    ],
)
def test_impossible_adverse_events_are_refused(world, patient, fields, field):
    with pytest.raises(ValidationError) as error:
        record_ae(world, patient, **fields)
    assert field in error.value.message_dict


def test_follow_up_visit_with_a_new_malignancy_and_car_testing(world, patient):
    visit = follow_up_record(
        actor=world.clinician,
        patient=patient,
        visit_date=timezone.localdate(),
        disease_response="cr",
        new_malignancy=True,
        malignancy_description="T-cell lymphoma",
        car_testing_requested=True,
        rcv_result="negative",
        wellbeing_score=7,
    )
    assert visit.car_testing_requested and visit.rcv_result == "negative"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"survival_status": "dead"}, "death_date"),
        ({"death_date": date(2026, 1, 1)}, "death_date"),
        ({"wellbeing_score": 11}, "wellbeing_score"),
        ({"car_testing_requested": True}, "car_testing_requested"),
        ({"visit_date": timezone.localdate() + timedelta(days=3)}, "visit_date"),
    ],
)
def test_inconsistent_follow_up_visits_are_refused(world, patient, fields, field):
    values = {"visit_date": timezone.localdate()}
    values.update(fields)
    with pytest.raises(ValidationError) as error:
        follow_up_record(actor=world.clinician, patient=patient, **values)
    assert field in error.value.message_dict


def test_a_changed_deadline_retires_the_old_deadlines_reminders(world, patient):
    from tracker.models import Reminder
    from tracker.services.scan import monitoring_scan

    event = record_ae(
        world, patient, aware_at=timezone.now() - timedelta(days=14), onset_at=timezone.now() - timedelta(days=15)
    )
    monitoring_scan()
    assert Reminder.objects.get(dedupe_key=f"ae:{event.id}:due").status == "open"

    adverse_event_update(actor=world.clinician, event_id=event.id, expected=True)

    assert not Reminder.objects.filter(dedupe_key__startswith=f"ae:{event.id}:").exclude(status="resolved").exists()


def test_a_report_is_submitted_once(world, patient):
    from products.errors import IllegalTransition

    event = record_ae(world, patient)
    adverse_event_mark_reported(actor=world.clinician, event_id=event.id)
    with pytest.raises(IllegalTransition):
        adverse_event_mark_reported(actor=world.clinician, event_id=event.id)


def test_adverse_event_update_refuses_an_impossible_grade_and_uneditable_fields(world, patient):
    event = record_ae(world, patient)
    with pytest.raises(ValidationError) as error:
        adverse_event_update(actor=world.clinician, event_id=event.id, grade=6)
    assert "grade" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        adverse_event_update(actor=world.clinician, event_id=event.id, report_due_at=None)
    assert "report_due_at" in error.value.message_dict


@pytest.mark.parametrize(
    ("field", "value"), [("day_relative", 3), ("dose", Decimal("0")), ("given_on", date(2099, 1, 1))]
)
def test_impossible_conditioning_is_refused(world, field, value):
    from tracker.services.clinical import conditioning_record

    order = journey.make_order(world)
    fields = {
        "regimen": "Flu/Cy",
        "drug": "fludarabine",
        "dose": Decimal("30"),
        "dose_unit": "mg/m2",
        "given_on": timezone.localdate(),
        "day_relative": -5,
    }
    fields[field] = value
    with pytest.raises(ValidationError) as error:
        conditioning_record(actor=world.clinician, order=order, **fields)
    assert field in error.value.message_dict


def test_only_clinical_roles_may_void_an_administration(world):
    from products.models import FacilityMembership
    from tracker.services.monitoring import administration_void

    _order, administration = journey.infused_patient(world, days_ago=1)
    FacilityMembership.objects.create(user=world.qa, facility=world.hospital)
    with pytest.raises(PermissionDeniedError):
        administration_void(administration_id=administration.id, actor=world.qa, reason="mistake")
