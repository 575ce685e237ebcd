"""The monitoring schedule: instantiated at administration, completed by clinical records, escalated by grades."""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, DateTimeField, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from products.audit import audit_patient_reason
from products.choices import CheckKind, Severity
from products.errors import IllegalTransition, OutOfSequence, UnitExpired
from products.models import ChainOfIdentity, Unit
from products.rules.chains import ChainEvent
from products.rules.schedules import StepRule, course_steps, protocol_occurrences
from products.selectors import protocol_step_rules
from products.services.chains import chain_apply
from products.services.guards import require_member, require_role
from tracker.choices import CheckSource, CheckStatus, ReminderKind, ReminderStatus, SurvivalStatus
from tracker.models import Administration, AdverseEvent, Assessment, FollowUpVisit, Reminder, ScheduledCheck
from tracker.rules import adverse_events as ae_rules
from tracker.rules.grading import URGENT_GRADE
from tracker.rules.monitoring import CALM_ASSESSMENTS, ESCALATED_GRACE, ESCALATED_INTERVAL
from tracker.services.notifications import notifications_for
from tracker.services.orders import PATIENT_ROLES
from tracker.services.registry import registry_forms_end_for_death, registry_forms_sync

# Which clinical record completes which kind of check.
ASSESSMENT_KINDS = (CheckKind.TOXICITY, CheckKind.INFUSION_REACTION, CheckKind.INFECTION)
LAB_FIELDS = ("crp_mg_l", "ferritin_ng_ml", "il6_pg_ml")


def schedule_instantiate(
    *, administration: Administration, steps: list[StepRule], per_infusion: bool = False
) -> list[ScheduledCheck]:
    """Turn protocol steps into this patient's checks counted from `administration`; runs inside the
    administration's transaction. `per_infusion`: the checks of this infusion alone (named after its unit)."""
    occurrences = protocol_occurrences(steps, administration.administered_at)
    unit = f" (unit {administration.unit.unit_id})" if per_infusion else ""
    return ScheduledCheck.objects.bulk_create(
        ScheduledCheck(
            patient_id=administration.patient_id,
            administration=administration,
            kind=o.kind,
            label=f"{o.label}{unit}"[:140],
            sequence=o.sequence,
            protocol_step_id=o.step_id,
            per_infusion=per_infusion,
            due_at=o.due_at,
            grace_until=o.due_at + o.grace,
            severity=o.severity,
        )
        for o in occurrences
    )


def _resolve_reminders(checks: Iterable[int], *, resolution: str, at: datetime) -> None:
    """Resolve the checks' reminders and retire their dedupe keys, so a rescheduled check can be reminded again."""
    reminders_resolve(reminders=Reminder.objects.filter(check_item_id__in=list(checks)), resolution=resolution, at=at)


def reminders_resolve(*, reminders: QuerySet[Reminder], resolution: str, at: datetime) -> None:
    """Resolve the reminders not resolved yet, with why, and retire their dedupe keys so the same thing can be
    reminded again later."""
    reminders.exclude(status=ReminderStatus.RESOLVED).update(
        status=ReminderStatus.RESOLVED,
        resolved_at=at,
        resolution=resolution[:200],
        dedupe_key=Concat(F("dedupe_key"), Value("~"), Cast("id", output_field=CharField())),
    )


def course_schedule_sync(*, order_id: int, resolution: str, now: datetime | None = None) -> None:
    """The schedule of a course (the units given under one order) after an infusion is recorded, voided or its
    time corrected. Runs in the caller's transaction.

    What it counts from is the protocol's (`schedule_from`, products.rules.schedules.course_steps):
    - once per course, from the first infusion that stands (not voided): the first infusion instantiates these
      checks; a later one joins them; when the first is voided or another moves before it, they pass to the new
      first infusion and their open checks move to its time (`resolution` says why on the reminders this retires);
    - from each infusion (a protocol scheduled from each infusion): each infusion instantiates its own checks,
      which move when its time is corrected and are cancelled when it is voided.
    When no infusion of the course stands, every open check of the course is cancelled.
    """
    # The order's chain row lock: two units of one course recorded at once see each other's schedule, never
    # start two (administration_record already holds it; taking it again in the same transaction is free).
    ChainOfIdentity.objects.select_for_update(of=("self",)).filter(order__id=order_id).first()
    now = now or timezone.now()
    standing = list(
        Administration.objects.filter(order_id=order_id, voided_at=None)
        .select_related("unit__batch__product__monitoring_protocol")
        .order_by("administered_at", "id")
    )
    checks = ScheduledCheck.objects.filter(administration__order_id=order_id).exclude(status=CheckStatus.CANCELLED)
    first = standing[0] if standing else None
    # The course's registry documents are due from the same first infusion (post-market surveillance, issue #12).
    registry_forms_sync(order_id=order_id, first=first, now=now)
    if first is None:
        _cancel(checks.filter(status=CheckStatus.OPEN), resolution="Administration voided", now=now)
        return
    protocol = first.unit.batch.product.monitoring_protocol
    steps = course_steps(protocol_step_rules(protocol.id), schedule_from=protocol.schedule_from)
    _course_sync(first, checks.filter(per_infusion=False), steps.from_first, resolution=resolution, now=now)
    per_infusion = checks.filter(per_infusion=True)
    # An infusion voided takes its own checks with it.
    _cancel(
        per_infusion.filter(status=CheckStatus.OPEN, administration__voided_at__isnull=False),
        resolution="Administration voided",
        now=now,
    )
    if not steps.from_each:
        return
    # An infusion whose checks of these steps exist (its own; or the course's, had the protocol been scheduled from
    # the first infusion when it was given) gets no second copy.
    covered = set(
        checks.filter(source=CheckSource.PROTOCOL, protocol_step_id__in=[s.step_id for s in steps.from_each])
        .values_list("administration_id", flat=True)
        .distinct()
    )
    for administration in standing:
        if administration.id not in covered:
            schedule_instantiate(administration=administration, steps=steps.from_each, per_infusion=True)
        else:
            open_checks = ScheduledCheck.objects.select_for_update().filter(
                administration=administration, per_infusion=True, status=CheckStatus.OPEN
            )
            _move(open_checks, steps.from_each, administration.administered_at, resolution=resolution, now=now)


def _course_sync(
    first: Administration,
    course: QuerySet[ScheduledCheck],
    steps: list[StepRule],
    *,
    resolution: str,
    now: datetime,
) -> None:
    """The checks counted once per course hang on the course's first standing infusion and count from its time."""
    if not course.filter(source=CheckSource.PROTOCOL).exists():
        if steps:
            schedule_instantiate(administration=first, steps=steps)
        return
    ScheduledCheck.objects.filter(id__in=course.exclude(administration=first).values("id")).update(administration=first)
    open_checks = ScheduledCheck.objects.select_for_update().filter(
        administration=first, status=CheckStatus.OPEN, source=CheckSource.PROTOCOL, per_infusion=False
    )
    _move(open_checks, steps, first.administered_at, resolution=resolution, now=now)


def _move(
    open_checks: QuerySet[ScheduledCheck], steps: list[StepRule], start: datetime, *, resolution: str, now: datetime
) -> None:
    """Open protocol checks to the due times their steps give counted from `start`; a check no longer due has
    its reminder resolved, and is reminded again when due."""
    new_times = {(o.step_id, o.sequence): o for o in protocol_occurrences(steps, start)}
    moved = []
    for check in open_checks:
        occurrence = new_times.get((check.protocol_step_id, check.sequence))
        if occurrence is None or check.due_at == occurrence.due_at:
            continue
        check.due_at, check.grace_until = occurrence.due_at, occurrence.due_at + occurrence.grace
        if check.due_at > now:
            check.reminded_at = None  # not due any more: its reminder goes, and a new one comes when due
        moved.append(check)
    ScheduledCheck.objects.bulk_update(moved, ["due_at", "grace_until", "reminded_at"])
    _resolve_reminders([c.id for c in moved if c.reminded_at is None], resolution=resolution, at=now)


def _cancel(checks: QuerySet[ScheduledCheck], *, resolution: str, now: datetime) -> None:
    cancelled = list(checks.values_list("id", flat=True))
    ScheduledCheck.objects.filter(id__in=cancelled).update(status=CheckStatus.CANCELLED)
    _resolve_reminders(cancelled, resolution=resolution, at=now)


@transaction.atomic
def schedule_reschedule(
    *,
    administration_id: int,
    actor: User,
    administered_at: datetime,
    reason: str,
    now: datetime | None = None,
) -> Administration:
    """Correct the administration time: when it is (or becomes) the course's first infusion, every still-open
    protocol check moves with it."""
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the administration time is corrected (21 CFR 11.10(e))."]})
    administration = (
        Administration.objects.select_for_update(of=("self",))
        .select_related("patient__facility", "unit__batch__product")
        .get(id=administration_id)
    )
    require_role(actor, *PATIENT_ROLES, action="correct administrations")
    require_member(actor, administration.patient.facility)
    if administration.voided_at is not None:
        raise IllegalTransition("A voided administration cannot be corrected.")
    now = now or timezone.now()
    if administered_at > now:
        raise ValidationError({"administered_at": ["Cannot be in the future."]})
    unit = administration.unit
    if unit.thawed_at is not None and administered_at < unit.thawed_at:
        raise OutOfSequence(f"Unit {unit.unit_id} was thawed at {unit.thawed_at.isoformat()}.")
    if unit.is_expired(administered_at):
        raise UnitExpired(f"Unit {unit.unit_id} was past its expiry or use-by time then.")
    audit_patient_reason(reason)
    administration.administered_at = administered_at
    administration.save(update_fields=["administered_at", "updated_at"])
    course_schedule_sync(
        order_id=administration.order_id, resolution="Rescheduled: administration time corrected", now=now
    )
    return administration


@transaction.atomic
def administration_void(
    *, administration_id: int, actor: User, reason: str, now: datetime | None = None
) -> Administration:
    """Mark an administration as entered in error: the unit goes back, and the course's schedule follows the
    infusions that stand (cancelled when none does; see course_schedule_sync)."""
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the administration is voided."]})
    administration = (
        Administration.objects.select_for_update(of=("self",))
        .select_related("patient__facility")
        .get(id=administration_id)
    )
    require_role(actor, *PATIENT_ROLES, action="void administrations")
    require_member(actor, administration.patient.facility)
    if administration.voided_at is not None:
        raise IllegalTransition("The administration is already voided.")
    audit_patient_reason(reason)
    now = now or timezone.now()
    administration.voided_at, administration.voided_by, administration.void_reason = now, actor, reason.strip()
    administration.save(update_fields=["voided_at", "voided_by", "void_reason", "updated_at"])
    # Locks in the order administration_record takes them (the unit, then the chain): no deadlock between them.
    unit = Unit.objects.select_for_update().get(id=administration.unit_id)
    unit.status = administration.unit_status_before
    unit.save(update_fields=["status", "updated_at"])
    chain = ChainOfIdentity.objects.select_for_update().get(id=administration.order.chain_id)
    course_schedule_sync(
        order_id=administration.order_id, resolution="Rescheduled: the course's first infusion was voided", now=now
    )
    if not Administration.objects.filter(order__chain=chain, voided_at=None).exists():
        chain_apply(chain=chain, event=ChainEvent.ADMINISTRATION_VOIDED)
    return administration


def checks_complete(
    *, patient_id: int, kinds: Iterable[str], at: datetime, record: str, now: datetime | None = None
) -> list[int]:
    """Complete, per kind, the check this record answers, and resolve its reminder.

    The earliest open check whose window holds `at` (the window opens as long before the due time as the
    grace runs after it); failing that, the most recent check already overdue at `at`: a late check is
    still the check, and leaving it open would keep an escalated reminder alive for care that was given.
    Every kind is read at once (an assessment answers two or three kinds): a few queries whatever the kinds.
    """
    kinds = list(kinds)
    open_checks = ScheduledCheck.objects.select_for_update(skip_locked=True).filter(
        patient_id=patient_id, status=CheckStatus.OPEN
    )
    opens_at = ExpressionWrapper(F("due_at") - (F("grace_until") - F("due_at")), output_field=DateTimeField())
    chosen: dict[str, int] = {}
    in_window = (
        open_checks.filter(kind__in=kinds, grace_until__gte=at)
        .alias(opens_at=opens_at)
        .filter(opens_at__lte=at)
        .order_by("due_at", "id")
        .values_list("kind", "id")
    )
    for kind, check_id in in_window:
        chosen.setdefault(kind, check_id)
    if late_kinds := [kind for kind in kinds if kind not in chosen]:
        latest_overdue = (
            ScheduledCheck.objects.filter(
                patient_id=patient_id, status=CheckStatus.OPEN, kind__in=late_kinds, grace_until__lt=at
            )
            .order_by("kind", "-due_at", "-id")
            .distinct("kind")
            .values("id")
        )
        for kind, check_id in open_checks.filter(id__in=latest_overdue).values_list("kind", "id"):
            chosen.setdefault(kind, check_id)
    completed = [chosen[kind] for kind in kinds if kind in chosen]
    if completed:
        ScheduledCheck.objects.filter(id__in=completed).update(
            status=CheckStatus.COMPLETED, completed_at=at, completed_by=record
        )
        _resolve_reminders(completed, resolution=f"Completed by {record}", at=now or timezone.now())
    return completed


def assessment_followups(*, assessment: Assessment, now: datetime | None = None) -> Reminder | None:
    """After an assessment: complete its checks; on grade >= 2 raise an urgent reminder and assess every 4 h.

    Runs in the assessment's transaction, so the reminder exists even if the broker is down.
    """
    kinds = list(ASSESSMENT_KINDS)
    if any(getattr(assessment, field) is not None for field in LAB_FIELDS):
        kinds.append(CheckKind.LABS)
    now = now or timezone.now()
    checks_complete(
        patient_id=assessment.patient_id,
        kinds=kinds,
        at=assessment.assessed_at,
        record=f"assessment:{assessment.id}",
        now=now,
    )

    reminder = None
    worst = max(assessment.crs_grade, assessment.icans_grade)
    patient = assessment.patient
    if patient_deceased(patient.id):
        return None  # monitoring ended with the patient's death: no urgent reminder, no 4-hourly checks
    administration = (
        Administration.objects.filter(patient=patient, voided_at=None, administered_at__lte=assessment.assessed_at)
        .order_by("-administered_at")
        .first()
    )
    if worst >= URGENT_GRADE:
        reminder = Reminder.objects.create(
            kind=ReminderKind.TOXICITY_GRADE,
            dedupe_key=f"assessment:{assessment.id}",
            patient=patient,
            facility_id=patient.facility_id,
            due_at=assessment.assessed_at,
            severity=Severity.URGENT,
            message=(
                f"Patient {patient.id}: CRS grade {assessment.crs_grade}, ICANS grade {assessment.icans_grade} "
                f"at {assessment.assessed_at:%Y-%m-%d %H:%M} UTC. Assess every 4 h."
            ),
        )
        notifications_for(reminder=reminder, reason="raised", now=now)
    if administration is None:
        return reminder
    recent = list(
        Assessment.objects.filter(patient=patient, assessed_at__lte=assessment.assessed_at)
        .order_by("-assessed_at", "-id")
        .values_list("crs_grade", "icans_grade")[:CALM_ASSESSMENTS]
    )
    calm = len(recent) == CALM_ASSESSMENTS and all(max(grades) < URGENT_GRADE for grades in recent)
    escalated = ScheduledCheck.objects.filter(
        patient=patient, source=CheckSource.TOXICITY_ESCALATION, status=CheckStatus.OPEN
    )
    if calm:
        cancelled = list(escalated.values_list("id", flat=True))
        escalated.update(status=CheckStatus.CANCELLED)
        _resolve_reminders(cancelled, resolution="Two consecutive assessments below grade 2", at=now)
    elif worst >= URGENT_GRADE or escalated.exists() or _was_escalated(patient.id, assessment):
        if not escalated.filter(due_at__gt=assessment.assessed_at).exists():
            due = assessment.assessed_at + ESCALATED_INTERVAL
            ScheduledCheck.objects.create(
                patient=patient,
                administration=administration,
                kind=CheckKind.TOXICITY,
                label="CRS/ICANS check every 4 h (grade >= 2)",
                source=CheckSource.TOXICITY_ESCALATION,
                due_at=due,
                grace_until=due + ESCALATED_GRACE,
                severity=Severity.URGENT,
            )
    return reminder


def patient_deceased(patient_id: int) -> bool:
    """A death is on record: a follow-up visit recording it, or a fatal (grade 5) adverse event."""
    fatal = Q(outcome=ae_rules.FATAL_OUTCOME) | Q(grade=ae_rules.FATAL_GRADE)
    return (
        FollowUpVisit.objects.filter(patient_id=patient_id, survival_status=SurvivalStatus.DEAD).exists()
        or AdverseEvent.objects.filter(fatal, patient_id=patient_id).exists()
    )


def monitoring_end_for_death(*, patient_id: int, record: str, now: datetime | None = None) -> list[int]:
    """Death ends the monitoring schedule: the patient's open checks close as `deceased` (naming the record that
    says so) and their reminders, and the toxicity reminders asking to assess the patient, are resolved with
    that reason. The scan reads only open checks, so it raises nothing more for the patient. Expedited-report
    reminders stay: a fatal event's report is still due to the regulator."""
    now = now or timezone.now()
    ended = list(
        ScheduledCheck.objects.select_for_update()
        .filter(patient_id=patient_id, status=CheckStatus.OPEN)
        .values_list("id", flat=True)
    )
    ScheduledCheck.objects.filter(id__in=ended).update(
        status=CheckStatus.DECEASED, completed_at=now, completed_by=record
    )
    resolution = f"Monitoring ended: the patient died ({record})"
    _resolve_reminders(ended, resolution=resolution, at=now)
    registry_forms_end_for_death(patient_id=patient_id, on=timezone.localdate(now))
    reminders_resolve(
        reminders=Reminder.objects.filter(patient_id=patient_id, kind=ReminderKind.TOXICITY_GRADE),
        resolution=resolution,
        at=now,
    )
    return ended


def _was_escalated(patient_id: int, assessment: Assessment) -> bool:
    previous = (
        Assessment.objects.filter(patient_id=patient_id, assessed_at__lte=assessment.assessed_at)
        .exclude(id=assessment.id)
        .order_by("-assessed_at", "-id")
        .values_list("crs_grade", "icans_grade")
        .first()
    )
    return previous is not None and max(previous) >= URGENT_GRADE


@transaction.atomic
def reminder_acknowledge(*, reminder_id: int, actor: User, now: datetime | None = None) -> Reminder:
    reminder = Reminder.objects.select_for_update(of=("self",)).select_related("facility").get(id=reminder_id)
    require_member(actor, reminder.facility)
    if reminder.status != ReminderStatus.OPEN:
        raise IllegalTransition(f"The reminder is already {reminder.status}.")
    reminder.status, reminder.acknowledged_at, reminder.acknowledged_by = (
        ReminderStatus.ACKNOWLEDGED,
        now or timezone.now(),
        actor,
    )
    reminder.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    return reminder


@transaction.atomic
def reminder_resolve(*, reminder_id: int, actor: User, resolution: str = "", now: datetime | None = None) -> Reminder:
    reminder = Reminder.objects.select_for_update(of=("self",)).select_related("facility").get(id=reminder_id)
    require_member(actor, reminder.facility)
    if reminder.status == ReminderStatus.RESOLVED:
        raise IllegalTransition("The reminder is already resolved.")
    reminder.status, reminder.resolved_at, reminder.resolved_by = ReminderStatus.RESOLVED, now or timezone.now(), actor
    reminder.resolution = resolution.strip() or "Resolved by hand"
    reminder.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    return reminder
