"""What an assessment may claim (ICE items, CAPD for children, a masked fever) and what death does to the
monitoring schedule, through the services."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests import journey
from tracker.choices import CheckStatus
from tracker.models import Assessment, RegistryForm, Reminder, ScheduledCheck
from tracker.services.clinical import (
    adverse_event_record,
    adverse_event_update,
    assessment_record,
    follow_up_record,
    intervention_record,
)
from tracker.services.orders import patient_create
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db

ALL_ICE_ITEMS = {"orientation": 4, "naming": 3, "following_commands": 1, "writing": 1, "attention": 1}


@pytest.fixture
def world():
    return journey.build_world()


@pytest.fixture
def adult(world):
    return journey.make_patient(world)


def child_born(world, years: int, days: int = 0, mrn: str = "MRN-CHILD"):
    today = timezone.localdate()
    born = date(today.year - years, today.month, min(today.day, 28)) - timedelta(days=days)
    return patient_create(
        actor=world.coordinator,
        facility=world.hospital,
        mrn=mrn,
        given_name="Tom",
        family_name="Thumb",
        birth_date=born,
        sex="male",
        weight_kg=Decimal("30"),
    )


def assess(world, patient, minutes_ago: float = 5, **measurements):
    return assessment_record(
        actor=world.clinician,
        patient=patient,
        assessed_at=timezone.now() - timedelta(minutes=minutes_ago),
        **measurements,
    )


# ICE items ------------------------------------------------------------------------------------------------------


def test_a_partial_set_of_ice_items_is_refused_and_nothing_is_written(world, adult):
    with pytest.raises(ValidationError) as error:
        assess(world, adult, ice_items={"orientation": 4, "naming": 3})
    assert "all five ICE items" in error.value.message_dict["ice_items"][0]
    assert not Assessment.objects.exists()


def test_all_five_ice_items_give_the_score(world, adult):
    assessment = assess(world, adult, ice_items={**ALL_ICE_ITEMS, "writing": 0, "attention": 0})
    assert (assessment.ice_score, assessment.icans_grade) == (8, 1)


# Children under 12: CAPD ---------------------------------------------------------------------------------------


def test_a_child_under_12_is_graded_with_the_capd(world):
    child = child_born(world, years=6)
    assessment = assess(world, child, capd_score=10, consciousness="spontaneous")
    assert (assessment.capd_score, assessment.ice_score, assessment.icans_grade) == (10, None, 3)


def test_a_child_who_could_not_do_the_capd_is_grade_4(world):
    assessment = assess(world, child_born(world, years=3), capd_unable=True)
    assert assessment.icans_grade == 4


@pytest.mark.parametrize(
    ("measurements", "field"),
    [
        ({"ice_score": 8}, "ice_score"),
        ({"ice_items": ALL_ICE_ITEMS}, "ice_items"),
        ({"capd_score": 33}, "capd_score"),
        ({"capd_score": 4, "capd_unable": True}, "capd_score"),
    ],
)
def test_a_child_assessed_with_the_ice_score_or_an_impossible_capd_is_refused(world, measurements, field):
    child = child_born(world, years=11, days=300)
    with pytest.raises(ValidationError) as error:
        assess(world, child, **measurements)
    assert list(error.value.message_dict) == [field]
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    ("measurements", "field"), [({"capd_score": 3}, "capd_score"), ({"capd_unable": True}, "capd_unable")]
)
def test_a_capd_for_an_adult_or_a_child_of_12_is_refused(world, adult, measurements, field):
    twelve = child_born(world, years=12, mrn="MRN-TWELVE")
    for patient in (adult, twelve):
        with pytest.raises(ValidationError) as error:
            assess(world, patient, **measurements)
        assert "children under 12" in error.value.message_dict[field][0]
    assert not Assessment.objects.exists()


def test_the_age_counts_on_the_assessment_date_not_today(world):
    # Twelve today, eleven a week ago: last week's assessment is graded with the CAPD.
    child = child_born(world, years=12, days=3)
    assert assess(world, child, minutes_ago=7 * 24 * 60, capd_score=2).icans_grade == 1
    with pytest.raises(ValidationError):
        assess(world, child, capd_score=2)


# A masked fever ------------------------------------------------------------------------------------------------


def test_fever_masked_without_crs_or_a_treatment_on_record_is_refused(world, adult):
    with pytest.raises(ValidationError) as error:
        assess(world, adult, temperature_c=Decimal("37.0"), fever_masked=True, hypotension="fluids")
    assert "only after CRS has been graded" in error.value.message_dict["fever_masked"][0]
    assert not Assessment.objects.exists()


def test_fever_masked_after_an_earlier_assessment_with_fever(world, adult):
    assess(world, adult, minutes_ago=60, temperature_c=Decimal("38.4"))
    assessment = assess(world, adult, temperature_c=Decimal("37.0"), fever_masked=True, hypotension="fluids")
    assert assessment.crs_grade == 2


@pytest.mark.parametrize("kind", ["tocilizumab", "corticosteroid", "antipyretic", "anakinra", "siltuximab"])
def test_fever_masked_after_an_antipyretic_or_anti_cytokine_treatment(world, adult, kind):
    intervention_record(
        actor=world.clinician, patient=adult, given_at=timezone.now() - timedelta(hours=1), kind=kind, drug=kind
    )
    assert assess(world, adult, temperature_c=Decimal("37.1"), fever_masked=True).crs_grade == 1


def test_a_fever_or_treatment_after_the_assessment_does_not_count(world, adult):
    intervention_record(
        actor=world.clinician,
        patient=adult,
        given_at=timezone.now() - timedelta(minutes=1),
        kind="tocilizumab",
        drug="t",
    )
    assess(world, adult, minutes_ago=2, temperature_c=Decimal("39.0"))
    intervention_record(
        actor=world.clinician, patient=adult, given_at=timezone.now() - timedelta(hours=2), kind="vasopressor", drug="v"
    )
    with pytest.raises(ValidationError) as error:
        assess(world, adult, minutes_ago=30, fever_masked=True)
    assert "fever_masked" in error.value.message_dict


# Death ends the monitoring schedule ---------------------------------------------------------------------------------


def test_a_follow_up_visit_recording_death_closes_the_open_checks_and_resolves_their_reminders(world):
    order, _administration = journey.infused_patient(world, days_ago=3)
    patient = order.patient
    monitoring_scan()
    reminded = list(Reminder.objects.filter(patient=patient, check_item__isnull=False, status="open"))
    assert reminded

    visit = follow_up_record(
        actor=world.clinician,
        patient=patient,
        visit_date=timezone.localdate(),
        survival_status="dead",
        death_date=timezone.localdate(),
        cause_of_death="Progressive disease",
    )

    checks = ScheduledCheck.objects.filter(patient=patient)
    assert not checks.filter(status=CheckStatus.OPEN).exists()
    ended = checks.filter(status=CheckStatus.DECEASED)
    assert ended.exists() and set(ended.values_list("completed_by", flat=True)) == {f"follow_up:{visit.id}"}
    for reminder in reminded:
        reminder.refresh_from_db()
        assert reminder.status == "resolved" and "the patient died" in reminder.resolution
    # The scan raises nothing more for the patient, now or in a year.
    monitoring_scan(now=timezone.now() + timedelta(days=400))
    # Only the registry's documents stay to be sent (issue #12): those due by the death, and the first due after it,
    # which reports the death; the later ones are closed.
    still_open = Reminder.objects.filter(patient=patient).exclude(status="resolved")
    assert set(still_open.values_list("kind", flat=True)) == {"registry_due"}
    forms = RegistryForm.objects.filter(order=order)
    reminded = {f"registry:{f.id}:{f.due_on:%Y-%m-%d}": f.timepoint for f in forms}
    assert sorted(reminded[key] for key in still_open.values_list("dedupe_key", flat=True)) == sorted(
        ["pre_infusion", "product", "infusion", "day_100"]
    )
    assert set(forms.filter(status="deceased").values_list("timepoint", flat=True)) == {
        "month_6",
        "year_1",
        *(f"year_{n}" for n in range(2, 16)),
    }


@pytest.mark.parametrize("fatal", [{"grade": 5}, {"grade": 4, "outcome": "fatal"}])
def test_a_fatal_adverse_event_ends_the_monitoring_schedule(world, fatal):
    order, _administration = journey.infused_patient(world, days_ago=2)
    patient = order.patient
    urgent = assess(world, patient, temperature_c=Decimal("39.5"), hypotension="multiple_vasopressors")
    assert Reminder.objects.filter(dedupe_key=f"assessment:{urgent.id}", status="open").exists()

    event = adverse_event_record(
        actor=world.clinician,
        patient=patient,
        term="crs",
        onset_at=timezone.now() - timedelta(hours=3),
        aware_at=timezone.now() - timedelta(hours=1),
        serious=True,
        expected=False,
        **fatal,
    )

    assert not ScheduledCheck.objects.filter(patient=patient, status=CheckStatus.OPEN).exists()
    assert set(
        ScheduledCheck.objects.filter(patient=patient, status=CheckStatus.DECEASED).values_list(
            "completed_by", flat=True
        )
    ) == {f"adverse_event:{event.id}"}
    assert not Reminder.objects.filter(patient=patient, kind="toxicity_grade").exclude(status="resolved").exists()
    # The fatal event's expedited report is still due: its reminders are the regulator's, not monitoring.
    monitoring_scan(now=event.report_due_at - timedelta(days=1))
    assert Reminder.objects.filter(dedupe_key=f"ae:{event.id}:due", status="open").exists()
    assert not Reminder.objects.filter(patient=patient, kind="check_due").exclude(status="resolved").exists()


def test_an_adverse_event_turned_fatal_later_ends_the_schedule(world):
    order, _ = journey.infused_patient(world, days_ago=2)
    event = adverse_event_record(
        actor=world.clinician,
        patient=order.patient,
        term="infection",
        grade=3,
        onset_at=timezone.now() - timedelta(hours=3),
        aware_at=timezone.now() - timedelta(hours=1),
        serious=True,
        expected=False,
    )
    assert ScheduledCheck.objects.filter(patient=order.patient, status=CheckStatus.OPEN).exists()

    adverse_event_update(actor=world.clinician, event_id=event.id, outcome="fatal")

    assert not ScheduledCheck.objects.filter(patient=order.patient, status=CheckStatus.OPEN).exists()


def test_after_death_an_assessment_raises_no_urgent_reminder_nor_4_hourly_checks(world):
    order, _ = journey.infused_patient(world, days_ago=2)
    patient = order.patient
    follow_up_record(
        actor=world.clinician,
        patient=patient,
        visit_date=timezone.localdate(),
        survival_status="dead",
        death_date=timezone.localdate(),
    )

    assess(world, patient, minutes_ago=300, temperature_c=Decimal("39.5"), hypotension="one_vasopressor")

    assert not Reminder.objects.filter(patient=patient, kind="toxicity_grade").exists()
    assert not ScheduledCheck.objects.filter(patient=patient, status=CheckStatus.OPEN).exists()
