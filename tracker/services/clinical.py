"""Clinical records after administration: assessments (graded), interventions, adverse events, follow-up."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from products.choices import CheckKind, CoiStatus
from products.errors import IllegalTransition
from products.services.collections import not_in_future
from products.services.guards import require_member, require_role
from tracker.choices import RcvResult, ReminderStatus
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
from tracker.rules import grading
from tracker.rules.reporting import report_clock
from tracker.services.monitoring import assessment_followups, checks_complete
from tracker.services.orders import PATIENT_ROLES

# Outside this range a body temperature is a typing error (or a unit mix-up), not a measurement.
TEMPERATURE_RANGE_C = (Decimal("25.0"), Decimal("45.0"))


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
    consciousness: str = "alert",
    seizure: str = "none",
    motor_weakness: bool = False,
    cerebral_edema: str = "none",
    **extra: Any,
) -> Assessment:
    """Store the raw measurements and the grades computed from them (ASTCT 2019)."""
    _authorise(actor, patient, "record assessments")
    not_in_future(assessed_at, "assessed_at")
    if temperature_c is not None and not TEMPERATURE_RANGE_C[0] <= Decimal(temperature_c) <= TEMPERATURE_RANGE_C[1]:
        raise ValidationError({"temperature_c": [f"{temperature_c} C is not a possible body temperature."]})
    if ice_items:
        try:
            total = grading.ice_total(ice_items)
        except ValueError as exc:
            raise ValidationError({"ice_items": [str(exc)]}) from exc
        if ice_score is not None and ice_score != total:
            raise ValidationError({"ice_score": [f"The ICE items add up to {total}, not {ice_score}."]})
        ice_score = total
    if ice_score is not None and not 0 <= ice_score <= 10:
        raise ValidationError({"ice_score": ["The ICE score is 0 to 10."]})
    crs = grading.crs_grade(grading.CrsInput(temperature_c, hypotension, hypoxia, fever_masked))
    icans = grading.icans_grade(grading.IcansInput(ice_score, consciousness, seizure, motor_weakness, cerebral_edema))
    assessment = Assessment.objects.create(
        patient=patient,
        assessed_at=assessed_at,
        temperature_c=temperature_c,
        hypotension=hypotension,
        hypoxia=hypoxia,
        fever_masked=fever_masked,
        ice_score=ice_score,
        ice_items=ice_items or None,
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
    **fields: Any,
) -> AdverseEvent:
    _authorise(actor, patient, "record adverse events")
    if not 1 <= grade <= 5:
        raise ValidationError({"grade": ["The grade is 1 to 5."]})
    _check_ae_times(onset_at, aware_at, resolved_at)
    if grade == 5:
        # CTCAE v5: grade 5 is death related to the adverse event, which is always serious.
        serious = True
        fields["outcome"] = "fatal"
    clock = report_clock(serious=serious, expected=expected, aware_at=aware_at)
    return AdverseEvent.objects.create(
        patient=patient,
        term=term,
        grade=grade,
        onset_at=onset_at,
        aware_at=aware_at,
        resolved_at=resolved_at,
        serious=serious,
        expected=expected,
        report_due_at=clock.due_at,
        report_rule=clock.rule,
        recorded_by=actor,
        **fields,
    )


# Fields a clinician may correct; the report clock and audit fields are the service's.
AE_EDITABLE = {
    "term",
    "term_text",
    "meddra_code",
    "grade",
    "grading_system",
    "onset_at",
    "aware_at",
    "resolved_at",
    "outcome",
    "serious",
    "expected",
    "relatedness",
    "description",
}


@transaction.atomic
def adverse_event_update(*, actor: AbstractBaseUser, event_id: int, **changes: Any) -> AdverseEvent:
    """Change an adverse event (resolution, outcome, seriousness...); the report clock is recomputed."""
    event = AdverseEvent.objects.select_for_update(of=("self",)).select_related("patient__facility").get(id=event_id)
    _authorise(actor, event.patient, "change adverse events")
    unknown = set(changes) - AE_EDITABLE
    if unknown:
        raise ValidationError({field: ["Not editable."] for field in sorted(unknown)})
    for field, value in changes.items():
        setattr(event, field, value)
    if not 1 <= event.grade <= 5:
        raise ValidationError({"grade": ["The grade is 1 to 5."]})
    if event.grade == 5:
        event.serious, event.outcome = True, "fatal"
    _check_ae_times(event.onset_at, event.aware_at, event.resolved_at)
    clock = report_clock(serious=event.serious, expected=event.expected, aware_at=event.aware_at)
    if clock.due_at != event.report_due_at:
        # The old deadline's reminders no longer apply; the scan raises the new deadline's afresh.
        _retire_report_reminders(event.id, resolution="Report deadline changed", actor=actor)
    event.report_due_at, event.report_rule = clock.due_at, clock.rule
    event.save()
    return event


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
    if survival_status == "dead" and death_date is None:
        raise ValidationError({"death_date": ["Required when the patient has died."]})
    if death_date is not None and (survival_status != "dead" or death_date > today):
        raise ValidationError({"death_date": ["Only for a patient who has died, and not in the future."]})
    score = fields.get("wellbeing_score")
    if score is not None and not 0 <= score <= 10:
        raise ValidationError({"wellbeing_score": ["The well-being score is 0 to 10."]})
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
    return visit
