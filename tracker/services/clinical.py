"""Clinical records after administration: assessments (graded), interventions, adverse events, follow-up."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from products.audit import audit_patient_reason
from products.choices import CheckKind, CoiStatus, RegulatoryStatus, Severity
from products.errors import IllegalTransition
from products.services.collections import not_in_future
from products.services.common import UNSET, Unset, given, model_update, refuse_unknown_fields
from products.services.guards import require_member, require_role
from tracker.choices import (
    CerebralEdema,
    Consciousness,
    GradingSystem,
    GvhdResponse,
    Hypotension,
    Hypoxia,
    Indication,
    Outcome,
    RcvResult,
    Relatedness,
    ReminderKind,
    ReminderStatus,
    Seizure,
    SurvivalStatus,
)
from tracker.models import (
    Administration,
    AdverseEvent,
    Assessment,
    Conditioning,
    FollowUpVisit,
    Intervention,
    Patient,
    Reminder,
    ScheduledCheck,
    TherapyOrder,
)
from tracker.rules import adverse_events as ae_rules
from tracker.rules import grading
from tracker.rules import gvhd as gvhd_rules
from tracker.rules.monitoring import SPONSOR_NOTIFICATION_ESCALATION
from tracker.rules.ranges import CONDITIONING_DAY, TEMPERATURE_C, VITALS, WELLBEING_SCORE
from tracker.rules.reporting import LICENSED, report_clock, sponsor_notification_due
from tracker.selectors import weight_on
from tracker.services.monitoring import (
    assessment_followups,
    checks_complete,
    monitoring_end_for_death,
    reminders_resolve,
)
from tracker.services.notifications import notifications_for
from tracker.services.orders import PATIENT_ROLES


def _authorise(actor: User, patient: Patient, action: str) -> None:
    require_role(actor, *PATIENT_ROLES, action=action)
    require_member(actor, patient.facility)


@refuse_unknown_fields
@transaction.atomic
def assessment_record(
    *,
    actor: User,
    patient: Patient,
    assessed_at: datetime,
    temperature_c: Decimal | None = None,
    hypotension: str = Hypotension.NONE,
    hypoxia: str = Hypoxia.NONE,
    fever_masked: bool = False,
    ice_score: int | None = None,
    ice_items: dict[str, int] | None = None,
    capd_score: int | None = None,
    capd_unable: bool = False,
    consciousness: str = Consciousness.ALERT,
    seizure: str = Seizure.NONE,
    motor_weakness: bool = False,
    cerebral_edema: str = CerebralEdema.NONE,
    heart_rate: int | None = None,
    systolic_bp: int | None = None,
    diastolic_bp: int | None = None,
    respiratory_rate: int | None = None,
    spo2: int | None = None,
    oxygen_l_min: Decimal | None = None,
    crp_mg_l: Decimal | None = None,
    ferritin_ng_ml: Decimal | None = None,
    il6_pg_ml: Decimal | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Assessment:
    """Store the raw measurements and the grades computed from them (ASTCT 2019)."""
    _authorise(actor, patient, "record assessments")
    not_in_future(assessed_at, "assessed_at", now=now)
    vitals = {
        "heart_rate": heart_rate,
        "systolic_bp": systolic_bp,
        "diastolic_bp": diastolic_bp,
        "respiratory_rate": respiratory_rate,
        "spo2": spo2,
        "oxygen_l_min": oxygen_l_min,
    }
    _check_ranges({"temperature_c": temperature_c, **vitals})
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
        **vitals,
        crp_mg_l=crp_mg_l,
        ferritin_ng_ml=ferritin_ng_ml,
        il6_pg_ml=il6_pg_ml,
        note=note,
        crs_grade=crs,
        icans_grade=icans,
        assessed_by=actor,
    )
    assessment_followups(assessment=assessment, now=now)
    return assessment


def _check_ranges(measurements: dict[str, object]) -> None:
    ranges = {"temperature_c": TEMPERATURE_C, **VITALS}
    errors = {
        field: [ranges[field].message]
        for field, value in measurements.items()
        if value is not None and value not in ranges[field]
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


@refuse_unknown_fields
@transaction.atomic
def intervention_record(
    *,
    actor: User,
    patient: Patient,
    given_at: datetime,
    kind: str,
    drug: str,
    dose: Decimal | None = None,
    dose_unit: str = "",
    route: str = "",
    indication: str = Indication.CRS,
    note: str = "",
    now: datetime | None = None,
) -> Intervention:
    _authorise(actor, patient, "record interventions")
    not_in_future(given_at, "given_at", now=now)
    if dose is not None and Decimal(dose) <= 0:
        raise ValidationError({"dose": ["Must be more than 0."]})
    return Intervention.objects.create(
        patient=patient,
        given_at=given_at,
        given_by=actor,
        kind=kind,
        drug=drug,
        dose=dose,
        dose_unit=dose_unit,
        route=route,
        indication=indication,
        note=note,
    )


@refuse_unknown_fields
@transaction.atomic
def conditioning_record(
    *,
    actor: User,
    order: TherapyOrder,
    regimen: str,
    drug: str,
    dose: Decimal,
    dose_unit: str = "mg/m2",
    given_on: date,
    day_relative: int,
    now: datetime | None = None,
) -> Conditioning:
    _authorise(actor, order.patient, "record conditioning")
    if order.chain.status == CoiStatus.CANCELLED:
        raise IllegalTransition(f"Order {order.chain.coi} is cancelled.")
    if given_on > timezone.localdate(now):
        raise ValidationError({"given_on": ["Cannot be in the future."]})
    if day_relative not in CONDITIONING_DAY:
        raise ValidationError(
            {
                "day_relative": [
                    f"Conditioning days run from {CONDITIONING_DAY.low} to {CONDITIONING_DAY.high} (the infusion day)."
                ]
            }
        )
    if Decimal(dose) <= 0:
        raise ValidationError({"dose": ["Must be more than 0."]})
    return Conditioning.objects.create(
        order=order,
        recorded_by=actor,
        regimen=regimen,
        drug=drug,
        dose=dose,
        dose_unit=dose_unit,
        given_on=given_on,
        day_relative=day_relative,
    )


def _check_ae_times(
    onset_at: datetime, aware_at: datetime, resolved_at: datetime | None, *, now: datetime | None
) -> None:
    not_in_future(onset_at, "onset_at", now=now)
    not_in_future(aware_at, "aware_at", now=now)
    if aware_at < onset_at:
        raise ValidationError({"aware_at": ["Awareness cannot come before onset."]})
    if resolved_at is not None:
        not_in_future(resolved_at, "resolved_at", now=now)
        if resolved_at < onset_at:
            raise ValidationError({"resolved_at": ["Resolution cannot come before onset."]})


@refuse_unknown_fields
@transaction.atomic
def adverse_event_record(
    *,
    actor: User,
    patient: Patient,
    term: str,
    grade: int,
    onset_at: datetime,
    aware_at: datetime,
    serious: bool,
    expected: bool | None,
    resolved_at: datetime | None = None,
    outcome: str = Outcome.ONGOING,
    term_text: str = "",
    meddra_code: str = "",
    grading_system: str = GradingSystem.CTCAE,
    relatedness: str = Relatedness.POSSIBLE,
    suspected: bool | None = None,
    order: TherapyOrder | None = None,
    description: str = "",
    now: datetime | None = None,
) -> AdverseEvent:
    """Record an adverse event. Grade 4 or 5 or a fatal outcome makes it serious whatever `serious` says, grade 5
    makes it fatal (tracker.rules.adverse_events), and a fatal event ends the patient's monitoring schedule.

    The event is reported under a course (`order`; default: the order of the patient's last infusion at or before
    the onset, else the patient's last order): its trial or its product's status decides the report clock
    (tracker.rules.reporting), and is kept with the event. `suspected` agrees with `relatedness` (derived from it
    when not given). In a clinical investigation a serious event raises, in this transaction, the reminder to tell
    the sponsor at once (21 CFR 312.64(b))."""
    _authorise(actor, patient, "record adverse events")
    if expected is None:
        raise ValidationError({"expected": [EXPECTED_REQUIRED]})
    if grade not in ae_rules.GRADE:
        raise ValidationError({"grade": [ae_rules.GRADE.message]})
    _check_ae_times(onset_at, aware_at, resolved_at, now=now)
    suspected = _suspected(relatedness, suspected)
    order = _reported_under(patient, order, onset_at)
    trial = order.trial if order is not None else LICENSED
    outcome = ae_rules.outcome_of(grade=grade, outcome=outcome)
    serious = ae_rules.is_serious(grade=grade, outcome=outcome, serious=serious)
    clock = report_clock(
        regulatory_status=trial.regulatory_status,
        serious=serious,
        expected=expected,
        suspected=suspected,
        grade=grade,
        outcome=outcome,
        aware_at=aware_at,
    )
    event = AdverseEvent.objects.create(
        patient=patient,
        order=order,
        regulatory_status=trial.regulatory_status,
        ind_number=trial.ind_number,
        trial_protocol=trial.trial_protocol,
        suspected=suspected,
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
        term_text=term_text,
        meddra_code=meddra_code,
        grading_system=grading_system,
        relatedness=relatedness,
        description=description,
    )
    _sponsor_reminder_sync(event, now=now or timezone.now())
    if ae_rules.is_fatal(grade=grade, outcome=outcome):
        monitoring_end_for_death(patient_id=patient.id, record=f"adverse_event:{event.id}", now=now)
    return event


def _suspected(relatedness: str, suspected: bool | None) -> bool:
    try:
        return ae_rules.suspected_of(relatedness=relatedness, suspected=suspected)
    except ValueError as exc:
        raise ValidationError({"suspected": [str(exc)]}) from exc


def _reported_under(patient: Patient, order: TherapyOrder | None, onset_at: datetime) -> TherapyOrder | None:
    """The course the event is reported under: the one given (the patient's own), else the order of the last
    infusion that stands at or before the onset, else the patient's last order; None when there is no order."""
    if order is not None:
        if order.patient_id != patient.id:
            raise ValidationError({"coi": [f"Order {order.chain.coi} is not this patient's."]})
        return order
    infused = (
        Administration.objects.filter(patient=patient, voided_at=None, administered_at__lte=onset_at)
        .order_by("-administered_at", "-id")
        .values_list("order_id", flat=True)
        .first()
    )
    orders = TherapyOrder.objects.select_related("product", "chain")
    if infused is not None:
        return orders.get(id=infused)
    return orders.filter(patient=patient).order_by("-ordered_at", "-id").first()


SPONSOR_KEY = "sponsor:{}"


def _sponsor_reminder_sync(event: AdverseEvent, *, now: datetime) -> None:
    """21 CFR 312.64(b): the investigator tells the sponsor of a serious adverse event at once. A serious event in
    a clinical investigation, the sponsor not yet told, has one open urgent reminder, due on the day of awareness
    (escalated when still open a day later); the reminder resolves when the sponsor notification is recorded or
    the event is no longer serious. Runs in the event's transaction under its row lock: idempotent."""
    live = Reminder.objects.filter(dedupe_key=SPONSOR_KEY.format(event.id))
    due = sponsor_notification_due(regulatory_status=event.regulatory_status, serious=event.serious)
    if not due or event.sponsor_notified_at is not None:
        resolution = "Sponsor notified" if event.sponsor_notified_at else "No longer a serious event in a trial"
        reminders_resolve(reminders=live, resolution=resolution, at=now)
        return
    trial = f"protocol {event.trial_protocol}, " if event.trial_protocol else ""
    reminder, created = live.get_or_create(
        dedupe_key=SPONSOR_KEY.format(event.id),
        defaults={
            "kind": ReminderKind.SPONSOR_NOTIFICATION,
            "patient_id": event.patient_id,
            "facility_id": event.patient.facility_id,
            "due_at": event.aware_at,
            "escalate_at": event.aware_at + SPONSOR_NOTIFICATION_ESCALATION,
            "severity": Severity.URGENT,
            "message": (
                f"Patient {event.patient_id}: serious adverse event {event.id} ({event.get_term_display()}, grade "
                f"{event.grade}) in a clinical investigation ({trial}IND/CTA {event.ind_number}): tell the sponsor "
                "at once (21 CFR 312.64(b))."
            )[:300],
        },
    )
    if created:
        notifications_for(reminder=reminder, reason="raised", now=now)
    elif reminder.due_at != event.aware_at:
        # The awareness time was corrected: the duty dates from the corrected time.
        live.update(due_at=event.aware_at, escalate_at=event.aware_at + SPONSOR_NOTIFICATION_ESCALATION)


EXPECTED_REQUIRED = "Say whether the product's label lists this event (yes or no): it decides the report deadline."


@refuse_unknown_fields
@transaction.atomic
def adverse_event_update(
    *,
    actor: User,
    event_id: int,
    aware_at_reason: str = "",
    term: str | Unset = UNSET,
    term_text: str | Unset = UNSET,
    meddra_code: str | Unset = UNSET,
    grade: int | Unset = UNSET,
    grading_system: str | Unset = UNSET,
    onset_at: datetime | Unset = UNSET,
    aware_at: datetime | Unset = UNSET,
    resolved_at: datetime | Unset | None = UNSET,
    outcome: str | Unset = UNSET,
    serious: bool | Unset = UNSET,
    expected: bool | Unset | None = UNSET,
    relatedness: str | Unset = UNSET,
    suspected: bool | Unset | None = UNSET,
    description: str | Unset = UNSET,
    now: datetime | None = None,
) -> AdverseEvent:
    """Change an adverse event (resolution, outcome, seriousness...); the report clock is recomputed.

    What may change is the rule's list (tracker.rules.adverse_events.EDITABLE); a field not given stays as it is.
    Moving `aware_at` follows tracker.rules.adverse_events.aware_clock, for the API and the admin alike: free
    while no deadline is set; with a reason once one is (who, when and why are kept on the event and in the audit
    trail); never once the report has been submitted (409 `illegal_transition`). The clock follows the regulatory
    status kept with the event when it was recorded; `suspected` follows `relatedness` unless given (and then
    agrees with it); the sponsor reminder follows seriousness.
    """
    event = AdverseEvent.objects.select_for_update(of=("self",)).select_related("patient__facility").get(id=event_id)
    _authorise(actor, event.patient, "change adverse events")
    if expected is None:
        raise ValidationError({"expected": [EXPECTED_REQUIRED]})
    was_fatal = ae_rules.is_fatal(grade=event.grade, outcome=event.outcome)
    aware_before = event.aware_at
    changed = model_update(
        instance=event,
        fields=ae_rules.EDITABLE,
        data=given(
            term=term,
            term_text=term_text,
            meddra_code=meddra_code,
            grade=grade,
            grading_system=grading_system,
            onset_at=onset_at,
            aware_at=aware_at,
            resolved_at=resolved_at,
            outcome=outcome,
            serious=serious,
            expected=expected,
            relatedness=relatedness,
            suspected=suspected,
            description=description,
        ),
    )
    event.suspected = _suspected(event.relatedness, None if suspected is UNSET else suspected)
    moves_clock = "aware_at" in changed and event.aware_at != aware_before
    if event.grade not in ae_rules.GRADE:
        raise ValidationError({"grade": [ae_rules.GRADE.message]})
    event.outcome = ae_rules.outcome_of(grade=event.grade, outcome=event.outcome)
    event.serious = ae_rules.is_serious(grade=event.grade, outcome=event.outcome, serious=event.serious)
    _check_ae_times(event.onset_at, event.aware_at, event.resolved_at, now=now)
    if moves_clock:
        # Judged on the deadline and submission as they stood before this change (neither is set by the caller).
        _check_clock_move(event, aware_at_reason)
    if moves_clock and event.report_due_at is not None:
        # Who moved the clock, when and why: on the event, and (as the reason) on its audit-trail row.
        event.aware_at_changed_at, event.aware_at_changed_by = now or timezone.now(), actor
        event.aware_at_change_reason = aware_at_reason.strip()
        audit_patient_reason(f"Awareness time moved: {event.aware_at_change_reason}")
    clock = report_clock(
        regulatory_status=event.regulatory_status,
        serious=event.serious,
        expected=event.expected,
        suspected=event.suspected,
        grade=event.grade,
        outcome=event.outcome,
        aware_at=event.aware_at,
    )
    if clock.due_at != event.report_due_at:
        # The old deadline's reminders no longer apply; the scan raises the new deadline's afresh.
        _retire_report_reminders(event.id, resolution="Report deadline changed", actor=actor, now=now)
    event.report_due_at, event.report_rule = clock.due_at, clock.rule
    event.save()
    _sponsor_reminder_sync(event, now=now or timezone.now())
    if not was_fatal and ae_rules.is_fatal(grade=event.grade, outcome=event.outcome):
        monitoring_end_for_death(patient_id=event.patient_id, record=f"adverse_event:{event.id}", now=now)
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


def _retire_report_reminders(event_id: int, *, resolution: str, actor: User, now: datetime | None) -> None:
    Reminder.objects.filter(dedupe_key__startswith=f"ae:{event_id}:").exclude(status=ReminderStatus.RESOLVED).update(
        status=ReminderStatus.RESOLVED,
        resolved_at=now or timezone.now(),
        resolved_by=actor,
        resolution=resolution,
        dedupe_key=Concat(F("dedupe_key"), Value("~"), Cast("id", output_field=CharField())),
    )


@transaction.atomic
def adverse_event_mark_reported(
    *, actor: User, event_id: int, at: datetime | None = None, now: datetime | None = None
) -> AdverseEvent:
    """The expedited report went to the regulator `at` (default: now); its deadline reminders are resolved."""
    now = now or timezone.now()
    event = AdverseEvent.objects.select_for_update(of=("self",)).select_related("patient__facility").get(id=event_id)
    _authorise(actor, event.patient, "record report submissions")
    if event.report_submitted_at is not None:
        raise IllegalTransition(f"The report was already submitted at {event.report_submitted_at.isoformat()}.")
    event.report_submitted_at = at or now
    not_in_future(event.report_submitted_at, "report_submitted_at", now=now)
    if event.report_submitted_at < event.aware_at:
        raise ValidationError({"report_submitted_at": ["A report cannot be submitted before awareness."]})
    event.save(update_fields=["report_submitted_at", "updated_at"])
    _retire_report_reminders(event.id, resolution="Report submitted", actor=actor, now=now)
    return event


@transaction.atomic
def adverse_event_sponsor_notified(
    *, actor: User, event_id: int, at: datetime | None = None, now: datetime | None = None
) -> AdverseEvent:
    """The investigator told the sponsor of the event `at` (default: now; 21 CFR 312.64(b)); the reminder to do so
    is resolved. Only an event of a clinical investigation has a sponsor to tell; it is recorded once."""
    now = now or timezone.now()
    event = AdverseEvent.objects.select_for_update(of=("self",)).select_related("patient__facility").get(id=event_id)
    _authorise(actor, event.patient, "record sponsor notifications")
    if event.regulatory_status != RegulatoryStatus.INVESTIGATIONAL:
        raise IllegalTransition("This event is not reported under a clinical investigation: there is no sponsor.")
    if event.sponsor_notified_at is not None:
        raise IllegalTransition(f"The sponsor was already told at {event.sponsor_notified_at.isoformat()}.")
    event.sponsor_notified_at = at or now
    not_in_future(event.sponsor_notified_at, "sponsor_notified_at", now=now)
    if event.sponsor_notified_at < event.aware_at:
        raise ValidationError({"sponsor_notified_at": ["The sponsor cannot be told before the site was aware."]})
    event.save(update_fields=["sponsor_notified_at", "updated_at"])
    _sponsor_reminder_sync(event, now=now)
    return event


@refuse_unknown_fields
@transaction.atomic
def follow_up_record(
    *,
    actor: User,
    patient: Patient,
    visit_date: date,
    survival_status: str = SurvivalStatus.ALIVE,
    disease_response: str = "",
    death_date: date | None = None,
    cause_of_death: str = "",
    new_malignancy: bool = False,
    malignancy_description: str = "",
    car_testing_requested: bool = False,
    rcv_result: str = RcvResult.NOT_DONE,
    wellbeing_score: int | None = None,
    patient_reported: str = "",
    gvhd_skin_bsa_pct: int | None = None,
    gvhd_skin_bullae: bool = False,
    gvhd_bilirubin_mg_dl: Decimal | None = None,
    gvhd_upper_gi_persistent: bool = False,
    gvhd_stool_ml_per_day: int | None = None,
    gvhd_stool_episodes_per_day: int | None = None,
    gvhd_lower_gi_severe: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> FollowUpVisit:
    """Record a follow-up visit; it completes the visit's checks, and a death on it ends the schedule.

    Acute GVHD is staged in every organ or not at all: the raw findings are kept, and the MAGIC stages and grade
    computed from them (tracker.rules.gvhd). A staged visit that answers a `gvhd_response` check of the protocol
    (the days it names, e.g. day 28) also gets the response, judged against the last staging on or before the
    course's first infusion (baseline)."""
    _authorise(actor, patient, "record follow-up visits")
    today = timezone.localdate(now)
    if visit_date > today:
        raise ValidationError({"visit_date": ["Cannot be in the future."]})
    if survival_status == SurvivalStatus.DEAD and death_date is None:
        raise ValidationError({"death_date": ["Required when the patient has died."]})
    if death_date is not None and (survival_status != SurvivalStatus.DEAD or death_date > today):
        raise ValidationError({"death_date": ["Only for a patient who has died, and not in the future."]})
    if wellbeing_score is not None and wellbeing_score not in WELLBEING_SCORE:
        raise ValidationError({"wellbeing_score": [WELLBEING_SCORE.message]})
    if car_testing_requested and not new_malignancy:
        raise ValidationError({"car_testing_requested": ["Only with a new malignancy to test."]})
    raw = {
        "gvhd_skin_bsa_pct": gvhd_skin_bsa_pct,
        "gvhd_skin_bullae": gvhd_skin_bullae,
        "gvhd_bilirubin_mg_dl": gvhd_bilirubin_mg_dl,
        "gvhd_upper_gi_persistent": gvhd_upper_gi_persistent,
        "gvhd_stool_ml_per_day": gvhd_stool_ml_per_day,
        "gvhd_stool_episodes_per_day": gvhd_stool_episodes_per_day,
        "gvhd_lower_gi_severe": gvhd_lower_gi_severe,
    }
    findings = _gvhd_findings(patient, visit_date, raw)
    staging = _gvhd_staging(findings)
    visit = FollowUpVisit.objects.create(
        patient=patient,
        visit_date=visit_date,
        survival_status=survival_status,
        recorded_by=actor,
        disease_response=disease_response,
        death_date=death_date,
        cause_of_death=cause_of_death,
        new_malignancy=new_malignancy,
        malignancy_description=malignancy_description,
        car_testing_requested=car_testing_requested,
        rcv_result=rcv_result,
        wellbeing_score=wellbeing_score,
        patient_reported=patient_reported,
        note=note,
        **raw,
        **staging,
    )
    kinds = [CheckKind.FOLLOW_UP, CheckKind.MALIGNANCY_SCREEN]
    if visit.rcv_result != RcvResult.NOT_DONE:
        kinds.append(CheckKind.RCV_TEST)
    # A visit is dated, not timed: it counts at noon UTC of its day.
    at = datetime.combine(visit_date, time(12), tzinfo=UTC)
    checks_complete(patient_id=patient.id, kinds=kinds, at=at, record=f"follow_up:{visit.id}", now=now)
    if findings is not None:
        answered = checks_complete(
            patient_id=patient.id, kinds=[CheckKind.GVHD_RESPONSE], at=at, record=f"follow_up:{visit.id}", now=now
        )
        if answered:
            _gvhd_response(visit, findings, check_id=answered[0])
    if visit.survival_status == SurvivalStatus.DEAD:
        monitoring_end_for_death(patient_id=patient.id, record=f"follow_up:{visit.id}", now=now)
    return visit


GVHD_ALL_ORGANS = (
    "Acute GVHD is staged in every organ or not at all (MAGIC): give the rash's extent, the bilirubin and the stool "
    "output (volume or episodes) with the other findings."
)


def _gvhd_findings(patient: Patient, visit_date: date, raw: dict[str, Any]) -> gvhd_rules.Findings | None:
    """The visit's GVHD findings, or None when GVHD was not staged (nothing given); a partial staging is a 400."""
    if not any(value not in (None, False) for value in raw.values()):
        return None
    errors = {
        field: [bounds.message]
        for field, bounds in gvhd_rules.RANGES.items()
        if raw[field] is not None and raw[field] not in bounds
    }
    missing = [field for field in ("gvhd_skin_bsa_pct", "gvhd_bilirubin_mg_dl") if raw[field] is None]
    stool = (raw["gvhd_stool_ml_per_day"], raw["gvhd_stool_episodes_per_day"])
    if stool == (None, None) and not raw["gvhd_lower_gi_severe"]:
        missing.append("gvhd_stool_ml_per_day")
    errors |= {field: [GVHD_ALL_ORGANS] for field in missing if field not in errors}
    if errors:
        raise ValidationError(errors)
    child = gvhd_rules.staged_as_child(patient.birth_date, visit_date)
    weight = weight_on(patient_id=patient.id, day=visit_date) if child and stool[0] is not None else None
    if child and stool[0] is not None and weight is None:
        raise ValidationError(
            {
                "gvhd_stool_ml_per_day": [
                    "This patient is under 18: the stool volume is staged per kg (MAGIC), and no weight is on "
                    "record on or before the visit. Record the weight first, or give the number of episodes a day."
                ]
            }
        )
    return gvhd_rules.Findings(
        skin_rash_bsa_pct=raw["gvhd_skin_bsa_pct"],
        skin_bullae=raw["gvhd_skin_bullae"],
        bilirubin_mg_dl=Decimal(raw["gvhd_bilirubin_mg_dl"]),
        upper_gi_persistent=raw["gvhd_upper_gi_persistent"],
        stool_ml_per_day=stool[0],
        stool_episodes_per_day=stool[1],
        lower_gi_severe=raw["gvhd_lower_gi_severe"],
        child=child,
        weight_kg=weight,
    )


def _gvhd_staging(findings: gvhd_rules.Findings | None) -> dict[str, int | None]:
    if findings is None:
        return {}
    stages = gvhd_rules.stages(findings)
    return {
        "gvhd_skin_stage": stages.skin,
        "gvhd_liver_stage": stages.liver,
        "gvhd_upper_gi_stage": stages.upper_gi,
        "gvhd_lower_gi_stage": stages.lower_gi,
        "gvhd_grade": gvhd_rules.overall_grade(stages),
    }


def gvhd_stages_of(visit: FollowUpVisit) -> gvhd_rules.Stages:
    assert visit.gvhd_grade is not None, "a visit that staged GVHD"
    return gvhd_rules.Stages(
        skin=visit.gvhd_skin_stage or 0,
        liver=visit.gvhd_liver_stage or 0,
        upper_gi=visit.gvhd_upper_gi_stage or 0,
        lower_gi=visit.gvhd_lower_gi_stage or 0,
    )


def _gvhd_response(visit: FollowUpVisit, findings: gvhd_rules.Findings, *, check_id: int) -> None:
    """The response at a time point the protocol names (the `gvhd_response` check this visit answered), against the
    last staging on or before the course's first infusion (Martin et al. 2009; tracker.rules.gvhd.response)."""
    order_id = ScheduledCheck.objects.filter(id=check_id).values_list("administration__order_id", flat=True).get()
    first = (
        Administration.objects.filter(order_id=order_id, voided_at=None)
        .order_by("administered_at", "id")
        .values_list("administered_at", flat=True)
        .first()
    )
    if first is None:  # the course was voided while the check stayed open: nothing to count from
        return
    day_zero = timezone.localdate(first)
    baseline = (
        FollowUpVisit.objects.filter(patient_id=visit.patient_id, gvhd_grade__isnull=False, visit_date__lte=day_zero)
        .exclude(id=visit.id)
        .order_by("-visit_date", "-id")
        .first()
    )
    if baseline is None:
        visit.gvhd_response = GvhdResponse.NOT_EVALUABLE
    else:
        assert baseline.gvhd_bilirubin_mg_dl is not None
        visit.gvhd_response = gvhd_rules.response(
            baseline=gvhd_stages_of(baseline),
            baseline_bilirubin_mg_dl=baseline.gvhd_bilirubin_mg_dl,
            current=gvhd_stages_of(visit),
            findings=findings,
        )
    visit.gvhd_baseline = baseline
    visit.gvhd_response_day = (visit.visit_date - day_zero).days
    visit.save(update_fields=["gvhd_response", "gvhd_baseline", "gvhd_response_day"])
