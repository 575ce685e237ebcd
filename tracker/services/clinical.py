"""Clinical records after administration: assessments (graded), interventions, adverse events, follow-up."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from products.audit import audit_patient_reason
from products.choices import CheckKind, CoiStatus
from products.errors import IllegalTransition
from products.services.collections import not_in_future
from products.services.guards import require_member, require_role
from tracker.choices import RcvResult, ReminderStatus, SurvivalStatus
from tracker.models import (
    AdverseEvent,
    Assessment,
    Conditioning,
    FollowUpVisit,
    Intervention,
    Patient,
    Reminder,
    TherapyOrder,
)
from tracker.rules import adverse_events as ae_rules
from tracker.rules import grading
from tracker.rules.ranges import TEMPERATURE_C, VITALS, WELLBEING_SCORE
from tracker.rules.reporting import report_clock
from tracker.services.monitoring import assessment_followups, checks_complete, monitoring_end_for_death
from tracker.services.orders import PATIENT_ROLES


def _authorise(actor: AbstractBaseUser, patient: Patient, action: str) -> None:
    require_role(actor, *PATIENT_ROLES, action=action)
    require_member(actor, patient.facility)


@transaction.atomic
def assessment_record(
    *,
    actor: AbstractBaseUser,
    patient: Patient,
    assessed_at: datetime,
    temperature_c: Decimal | None = None,
    hypotension: str = "none",
    hypoxia: str = "none",
    fever_masked: bool = False,
    ice_score: int | None = None,
    ice_items: dict[str, int] | None = None,
    capd_score: int | None = None,
    capd_unable: bool = False,
    consciousness: str = "alert",
    seizure: str = "none",
    motor_weakness: bool = False,
    cerebral_edema: str = "none",
    **extra: Any,
) -> Assessment:
    """Store the raw measurements and the grades computed from them (ASTCT 2019)."""
    _authorise(actor, patient, "record assessments")
    not_in_future(assessed_at, "assessed_at")
    _check_ranges(temperature_c=temperature_c, **extra)
    if grading.graded_with_capd(patient.birth_date, timezone.localdate(assessed_at)):
        _check_child_neuro(ice_score, ice_items, capd_score, capd_unable)
    else:
        ice_score = _adult_ice_score(ice_score, ice_items, capd_score, capd_unable)
    if fever_masked:
        _check_fever_may_be_masked(patient, assessed_at)
    crs = grading.crs_grade(grading.CrsInput(temperature_c, hypotension, hypoxia, fever_masked))
    icans = grading.icans_grade(
        grading.IcansInput(
            ice_score,
            consciousness,
            seizure,
            motor_weakness,
            cerebral_edema,
            capd_score=capd_score,
            capd_unable=capd_unable,
        )
    )
    assessment = Assessment.objects.create(
        patient=patient,
        assessed_at=assessed_at,
        temperature_c=temperature_c,
        hypotension=hypotension,
        hypoxia=hypoxia,
        fever_masked=fever_masked,
        ice_score=ice_score,
        ice_items=ice_items or None,
        capd_score=capd_score,
        capd_unable=capd_unable,
        consciousness=consciousness,
        seizure=seizure,
        motor_weakness=motor_weakness,
        cerebral_edema=cerebral_edema,
        crs_grade=crs,
        icans_grade=icans,
        assessed_by=actor,
        **extra,
    )
    assessment_followups(assessment=assessment)
    return assessment


def _check_ranges(**measurements: Any) -> None:
    ranges = {"temperature_c": TEMPERATURE_C, **VITALS}
    errors = {
        field: [ranges[field].message]
        for field, value in measurements.items()
        if field in ranges and value is not None and value not in ranges[field]
    }
    if errors:
        raise ValidationError(errors)


def _adult_ice_score(
    ice_score: int | None, ice_items: dict[str, int] | None, capd_score: int | None, capd_unable: bool
) -> int | None:
    if capd_score is not None or capd_unable:
        field = "capd_score" if capd_score is not None else "capd_unable"
        raise ValidationError(
            {
                field: [
                    "The CAPD is for children under 12 (ASTCT 2019); from 12 years on, ICANS is graded with the "
                    "ICE score."
                ]
            }
        )
    if ice_items:
        try:
            total = grading.ice_total(ice_items)
        except ValueError as exc:
            raise ValidationError({"ice_items": [str(exc)]}) from exc
        if ice_score is not None and ice_score != total:
            raise ValidationError({"ice_score": [f"The ICE items add up to {total}, not {ice_score}."]})
        ice_score = total
    if ice_score is not None and ice_score not in grading.ICE_SCORE:
        raise ValidationError({"ice_score": [grading.ICE_SCORE.message]})
    return ice_score


def _check_child_neuro(
    ice_score: int | None, ice_items: dict[str, int] | None, capd_score: int | None, capd_unable: bool
) -> None:
    if ice_score is not None or ice_items:
        field = "ice_score" if ice_score is not None else "ice_items"
        raise ValidationError(
            {
                field: [
                    "This patient is under 12: ICANS is graded with the CAPD (Cornell Assessment of Pediatric "
                    "Delirium), not the ICE score (ASTCT 2019). Enter capd_score instead."
                ]
            }
        )
    if capd_score is not None and capd_unable:
        raise ValidationError({"capd_score": ["Give a CAPD score, or say it could not be performed: not both."]})
    if capd_score is not None and capd_score not in grading.CAPD_SCORE:
        raise ValidationError({"capd_score": [grading.CAPD_SCORE.message]})


def _check_fever_may_be_masked(patient: Patient, assessed_at: datetime) -> None:
    """ASTCT 2019: fever stops being required to grade CRS only once CRS is there (graded earlier, with fever)
    or once an antipyretic or anti-cytokine treatment has been given; otherwise "masked" would grade CRS in a
    patient who never had a fever."""
    earlier_crs = Assessment.objects.filter(
        Q(crs_grade__gte=1) | Q(temperature_c__gte=grading.FEVER_C), patient=patient, assessed_at__lt=assessed_at
    ).exists()
    masking_treatment = Intervention.objects.filter(
        patient=patient, given_at__lte=assessed_at, kind__in=grading.FEVER_MASKING_INTERVENTIONS
    ).exists()
    if not (earlier_crs or masking_treatment):
        raise ValidationError(
            {
                "fever_masked": [
                    "A fever can be marked as masked only after CRS has been graded (an earlier assessment with a "
                    f"fever of {grading.FEVER_C} °C or more) or after an antipyretic or anti-cytokine treatment "
                    "(e.g. paracetamol, tocilizumab, a corticosteroid) recorded before this assessment. Record that "
                    "first, or leave the box unticked."
                ]
            }
        )


@transaction.atomic
def intervention_record(
    *, actor: AbstractBaseUser, patient: Patient, given_at: datetime, **fields: Any
) -> Intervention:
    _authorise(actor, patient, "record interventions")
    not_in_future(given_at, "given_at")
    dose = fields.get("dose")
    if dose is not None and Decimal(dose) <= 0:
        raise ValidationError({"dose": ["Must be more than 0."]})
    return Intervention.objects.create(patient=patient, given_at=given_at, given_by=actor, **fields)


@transaction.atomic
def conditioning_record(*, actor: AbstractBaseUser, order: TherapyOrder, **fields: Any) -> Conditioning:
    _authorise(actor, order.patient, "record conditioning")
    if order.chain.status == CoiStatus.CANCELLED:
        raise IllegalTransition(f"Order {order.chain.coi} is cancelled.")
    if fields.get("given_on") and fields["given_on"] > timezone.localdate():
        raise ValidationError({"given_on": ["Cannot be in the future."]})
    # Lymphodepletion comes in the days before the infusion (e.g. Flu/Cy on days -5 to -3).
    if fields.get("day_relative") is not None and not -21 <= fields["day_relative"] <= 0:
        raise ValidationError({"day_relative": ["Conditioning days run from -21 to 0 (the infusion day)."]})
    if fields.get("dose") is not None and Decimal(fields["dose"]) <= 0:
        raise ValidationError({"dose": ["Must be more than 0."]})
    return Conditioning.objects.create(order=order, recorded_by=actor, **fields)


def _check_ae_times(onset_at: datetime, aware_at: datetime, resolved_at: datetime | None) -> None:
    not_in_future(onset_at, "onset_at")
    not_in_future(aware_at, "aware_at")
    if aware_at < onset_at:
        raise ValidationError({"aware_at": ["Awareness cannot come before onset."]})
    if resolved_at is not None:
        not_in_future(resolved_at, "resolved_at")
        if resolved_at < onset_at:
            raise ValidationError({"resolved_at": ["Resolution cannot come before onset."]})


@transaction.atomic
def adverse_event_record(
    *,
    actor: AbstractBaseUser,
    patient: Patient,
    term: str,
    grade: int,
    onset_at: datetime,
    aware_at: datetime,
    serious: bool,
    expected: bool,
    resolved_at: datetime | None = None,
    outcome: str = "ongoing",
    **fields: Any,
) -> AdverseEvent:
    """Record an adverse event. Grade 4 or 5 or a fatal outcome makes it serious whatever `serious` says, grade 5
    makes it fatal (tracker.rules.adverse_events), and a fatal event ends the patient's monitoring schedule."""
    _authorise(actor, patient, "record adverse events")
    if expected is None:
        raise ValidationError({"expected": [EXPECTED_REQUIRED]})
    if grade not in ae_rules.GRADE:
        raise ValidationError({"grade": [ae_rules.GRADE.message]})
    _check_ae_times(onset_at, aware_at, resolved_at)
    outcome = ae_rules.outcome_of(grade=grade, outcome=outcome)
    serious = ae_rules.is_serious(grade=grade, outcome=outcome, serious=serious)
    clock = report_clock(serious=serious, expected=expected, aware_at=aware_at)
    event = AdverseEvent.objects.create(
        patient=patient,
        term=term,
        grade=grade,
        onset_at=onset_at,
        aware_at=aware_at,
        resolved_at=resolved_at,
        outcome=outcome,
        serious=serious,
        expected=expected,
        report_due_at=clock.due_at,
        report_rule=clock.rule,
        recorded_by=actor,
        **fields,
    )
    if ae_rules.is_fatal(grade=grade, outcome=outcome):
        monitoring_end_for_death(patient_id=patient.id, record=f"adverse_event:{event.id}")
    return event


EXPECTED_REQUIRED = "Say whether the product's label lists this event (yes or no): it decides the report deadline."


@transaction.atomic
def adverse_event_update(
    *, actor: AbstractBaseUser, event_id: int, aware_at_reason: str = "", **changes: Any
) -> AdverseEvent:
    """Change an adverse event (resolution, outcome, seriousness...); the report clock is recomputed.

    Moving `aware_at` follows tracker.rules.adverse_events.aware_clock, for the API and the admin alike: free
    while no deadline is set; with a reason once one is (who, when and why are kept on the event and in the audit
    trail); never once the report has been submitted (409 `illegal_transition`).
    """
    event = AdverseEvent.objects.select_for_update(of=("self",)).select_related("patient__facility").get(id=event_id)
    _authorise(actor, event.patient, "change adverse events")
    unknown = set(changes) - set(ae_rules.EDITABLE)
    if unknown:
        raise ValidationError({field: ["Not editable."] for field in sorted(unknown)})
    if "expected" in changes and changes["expected"] is None:
        raise ValidationError({"expected": [EXPECTED_REQUIRED]})
    was_fatal = ae_rules.is_fatal(grade=event.grade, outcome=event.outcome)
    moves_clock = "aware_at" in changes and changes["aware_at"] != event.aware_at
    for field, value in changes.items():
        setattr(event, field, value)
    if event.grade not in ae_rules.GRADE:
        raise ValidationError({"grade": [ae_rules.GRADE.message]})
    event.outcome = ae_rules.outcome_of(grade=event.grade, outcome=event.outcome)
    event.serious = ae_rules.is_serious(grade=event.grade, outcome=event.outcome, serious=event.serious)
    _check_ae_times(event.onset_at, event.aware_at, event.resolved_at)
    if moves_clock:
        # Judged on the deadline and submission as they stood before this change (neither is set by the caller).
        _check_clock_move(event, aware_at_reason)
    if moves_clock and event.report_due_at is not None:
        # Who moved the clock, when and why: on the event, and (as the reason) on its audit-trail row.
        event.aware_at_changed_at, event.aware_at_changed_by = timezone.now(), actor
        event.aware_at_change_reason = aware_at_reason.strip()
        audit_patient_reason(f"Awareness time moved: {event.aware_at_change_reason}")
    clock = report_clock(serious=event.serious, expected=event.expected, aware_at=event.aware_at)
    if clock.due_at != event.report_due_at:
        # The old deadline's reminders no longer apply; the scan raises the new deadline's afresh.
        _retire_report_reminders(event.id, resolution="Report deadline changed", actor=actor)
    event.report_due_at, event.report_rule = clock.due_at, clock.rule
    event.save()
    if not was_fatal and ae_rules.is_fatal(grade=event.grade, outcome=event.outcome):
        monitoring_end_for_death(patient_id=event.patient_id, record=f"adverse_event:{event.id}")
    return event


def _check_clock_move(event: AdverseEvent, reason: str) -> None:
    rule = ae_rules.aware_clock(report_due_at=event.report_due_at, report_submitted_at=event.report_submitted_at)
    if rule is ae_rules.AwareClock.CLOSED:
        raise IllegalTransition(
            f"The expedited report was submitted on {event.report_submitted_at:%Y-%m-%d}: its awareness time no "
            "longer moves. Send the correction to the regulator as a follow-up report."
        )
    if rule is ae_rules.AwareClock.NEEDS_REASON and not reason.strip():
        raise ValidationError(
            {
                "aware_at_reason": [
                    f"The report deadline ({event.report_due_at:%Y-%m-%d %H:%M} UTC) counts from this time: say why "
                    "it moves (21 CFR 11.10(e))."
                ]
            }
        )


def _retire_report_reminders(event_id: int, *, resolution: str, actor: AbstractBaseUser) -> None:
    Reminder.objects.filter(dedupe_key__startswith=f"ae:{event_id}:").exclude(status=ReminderStatus.RESOLVED).update(
        status=ReminderStatus.RESOLVED,
        resolved_at=timezone.now(),
        resolved_by=actor,
        resolution=resolution,
        dedupe_key=Concat(F("dedupe_key"), Value("~"), Cast("id", output_field=CharField())),
    )


@transaction.atomic
def adverse_event_mark_reported(*, actor: AbstractBaseUser, event_id: int, at: datetime | None = None) -> AdverseEvent:
    event = AdverseEvent.objects.select_for_update(of=("self",)).select_related("patient__facility").get(id=event_id)
    _authorise(actor, event.patient, "record report submissions")
    if event.report_submitted_at is not None:
        raise IllegalTransition(f"The report was already submitted at {event.report_submitted_at.isoformat()}.")
    event.report_submitted_at = at or timezone.now()
    not_in_future(event.report_submitted_at, "report_submitted_at")
    if event.report_submitted_at < event.aware_at:
        raise ValidationError({"report_submitted_at": ["A report cannot be submitted before awareness."]})
    event.save(update_fields=["report_submitted_at", "updated_at"])
    _retire_report_reminders(event.id, resolution="Report submitted", actor=actor)
    return event


@transaction.atomic
def follow_up_record(
    *, actor: AbstractBaseUser, patient: Patient, visit_date: date, survival_status: str = "alive", **fields: Any
) -> FollowUpVisit:
    _authorise(actor, patient, "record follow-up visits")
    today = timezone.localdate()
    if visit_date > today:
        raise ValidationError({"visit_date": ["Cannot be in the future."]})
    death_date = fields.get("death_date")
    if survival_status == SurvivalStatus.DEAD and death_date is None:
        raise ValidationError({"death_date": ["Required when the patient has died."]})
    if death_date is not None and (survival_status != SurvivalStatus.DEAD or death_date > today):
        raise ValidationError({"death_date": ["Only for a patient who has died, and not in the future."]})
    score = fields.get("wellbeing_score")
    if score is not None and score not in WELLBEING_SCORE:
        raise ValidationError({"wellbeing_score": [WELLBEING_SCORE.message]})
    if fields.get("car_testing_requested") and not fields.get("new_malignancy"):
        raise ValidationError({"car_testing_requested": ["Only with a new malignancy to test."]})
    visit = FollowUpVisit.objects.create(
        patient=patient, visit_date=visit_date, survival_status=survival_status, recorded_by=actor, **fields
    )
    kinds = [CheckKind.FOLLOW_UP, CheckKind.MALIGNANCY_SCREEN]
    if visit.rcv_result != RcvResult.NOT_DONE:
        kinds.append(CheckKind.RCV_TEST)
    # A visit is dated, not timed: it counts at noon UTC of its day.
    at = datetime.combine(visit_date, time(12), tzinfo=UTC)
    checks_complete(patient_id=patient.id, kinds=kinds, at=at, record=f"follow_up:{visit.id}")
    if visit.survival_status == SurvivalStatus.DEAD:
        monitoring_end_for_death(patient_id=patient.id, record=f"follow_up:{visit.id}")
    return visit
