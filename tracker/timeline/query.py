"""The timeline selector: a patient's story read from the database, one chronological list of typed events.

One query per kind of record, whatever the number of events: the cost of a long story is the rows it
returns, never a query per row. Each builder turns its rows into events with typed details
(tracker.timeline.details); the words are made from those later (tracker.timeline.text).
"""

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, TypedDict

from django.db.models import Q, QuerySet
from django.utils import timezone

from products.choices import (
    BatchStatus,
    CoiStatus,
    CollectionMethod,
    CustodyEvent,
    HoldDecision,
    HoldKind,
    HoldStatus,
    RegulatoryStatus,
    Severity,
    StepKind,
)
from products.models import Allocation, Batch, Collection, CustodyRecord, Hold, ProcessingStep, QCResult, Unit
from tracker.choices import (
    AdverseEventTerm,
    CerebralEdema,
    Consciousness,
    DiseaseResponse,
    GradingSystem,
    GvhdResponse,
    Hypotension,
    Hypoxia,
    Indication,
    InterventionKind,
    Outcome,
    RcvResult,
    Relatedness,
    ReminderKind,
    ReminderStatus,
    Route,
    Seizure,
    SurvivalStatus,
)
from tracker.models import (
    Administration,
    AdverseEvent,
    Assessment,
    BedsideCheck,
    Conditioning,
    FollowUpVisit,
    Intervention,
    Patient,
    Reminder,
    TherapyOrder,
)
from tracker.rules import gvhd as gvhd_rules
from tracker.rules.grading import URGENT_GRADE
from tracker.timeline.details import (
    SYSTEM,
    AdministrationDetail,
    AdverseEventDetail,
    AllocationDetail,
    AllocationReleaseDetail,
    AssessmentDetail,
    BatchDetail,
    BatchRejectionDetail,
    BatchReleaseDetail,
    BedsideCheckDetail,
    CollectionDetail,
    ConditioningDetail,
    CustodyDetail,
    DatedDetail,
    Detail,
    FollowUpDetail,
    GvhdDetail,
    HoldDecisionDetail,
    HoldDetail,
    InterventionDetail,
    OrderDetail,
    ProcessingStepDetail,
    QCInvalidationDetail,
    QCResultDetail,
    ReminderDetail,
)
from tracker.timeline.events import Timeline, TimelineEvent, dated_at, day_number, day_start
from tracker.timeline.kinds import KIND_RANK, Level, TimelineKind


def _who(user: Any) -> str:
    if user is None:
        return ""
    return _name(user.first_name, user.last_name, user.get_username())


def _name(first_name: str | None, last_name: str | None, username: str | None) -> str:
    """A user's name as User.get_full_name() gives it, else the username; "" for nobody (a row's null join)."""
    if username is None:
        return ""
    return f"{first_name} {last_name}".strip() or username


@dataclass(frozen=True)
class _Window:
    since: datetime | None
    until: datetime | None

    def on(self, field_name: str) -> Q:
        q = Q()
        if self.since is not None:
            q &= Q(**{f"{field_name}__gte": self.since})
        if self.until is not None:
            q &= Q(**{f"{field_name}__lt": self.until})
        return q

    def on_date(self, field_name: str) -> Q:
        # Coarse by a day each side; the exact test is made on the event's instant afterwards.
        q = Q()
        if self.since is not None:
            q &= Q(**{f"{field_name}__gte": self.since.date() - timedelta(days=1)})
        if self.until is not None:
            q &= Q(**{f"{field_name}__lte": self.until.date() + timedelta(days=1)})
        return q

    def holds(self, at: datetime) -> bool:
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)


@dataclass(frozen=True)
class _Story:
    """What every builder reads: whose story, which time window, and day 0 (for day numbers)."""

    patient: Patient
    window: _Window
    day_zero: date | None
    zone: tzinfo  # the display time zone, read once for every event

    def event(self, at: datetime, record_id: int, detail: Detail, level: Level = Level.INFO) -> TimelineEvent:
        if isinstance(detail, DatedDetail):
            # A dated record counts on its calendar date, whatever the display time zone.
            day = (detail.date - self.day_zero).days if self.day_zero else None
        else:
            day = day_number(at, self.day_zero, self.zone)
        return TimelineEvent(at=at, record_id=record_id, detail=detail, level=level, day=day)


def _patient_batches(patient: Patient) -> QuerySet[Batch]:
    """The batches of the patient's chains; allogeneic: also those whose units were allocated to them.

    A UNION of three indexed lookups: the same test written as OR of EXISTS read every batch of the programme
    (EXPLAIN: a sequential scan, 26 ms at 20,000 patients, three times per timeline)."""
    own = Batch.objects.filter(chain__order__patient=patient).values("id")
    units = Unit.objects.filter(chain__order__patient=patient).values("batch_id")
    allocated = Allocation.objects.filter(chain__order__patient=patient).values("unit__batch_id")
    return Batch.objects.filter(id__in=own.union(units, allocated))


# ---------------------------------------------------------------------------------------------------------
# One builder per kind of record: a queryset (one query) and the events made from its rows.


def _orders(story: _Story) -> Iterable[TimelineEvent]:
    orders = TherapyOrder.objects.filter(story.window.on("ordered_at"), patient=story.patient).select_related(
        "chain", "product", "ordered_by"
    )
    for order in orders:
        yield story.event(
            order.ordered_at,
            order.id,
            OrderDetail(
                coi=order.chain.coi,
                product=order.product.code,
                status=CoiStatus(order.chain.status),
                product_name=order.product.name,
                ordered_by=_who(order.ordered_by),
            ),
        )


def _collections(story: _Story) -> Iterable[TimelineEvent]:
    collections = Collection.objects.filter(
        story.window.on("collected_at"), chain__order__patient=story.patient
    ).select_related("chain", "facility")
    for c in collections:
        yield story.event(
            c.collected_at,
            c.id,
            CollectionDetail(
                din=c.full_din,
                coi=c.chain.coi if c.chain is not None else "",  # the patient's: chosen by its chain
                facility=c.facility.code,
                method=CollectionMethod(c.method),
                volume_ml=c.volume_ml,
                total_nucleated_cells=c.total_nucleated_cells,
                cd3_cells=c.cd3_cells,
                facility_name=c.facility.name,
            ),
        )


class _BatchFields(TypedDict):
    """What a batch's start, release and rejection all say about it."""

    lot_number: str
    facility: str
    status: BatchStatus
    facility_name: str


def _batches(story: _Story, kinds: frozenset[TimelineKind]) -> Iterable[TimelineEvent]:
    batches = _patient_batches(story.patient).select_related(
        "facility", "release_signature", "rejection_signature", "product"
    )
    for batch in batches:
        base = _BatchFields(
            lot_number=batch.lot_number,
            facility=batch.facility.code,
            status=BatchStatus(batch.status),
            facility_name=batch.facility.name,
        )
        if TimelineKind.BATCH in kinds:
            yield story.event(batch.started_at, batch.id, BatchDetail(**base))
        if TimelineKind.RELEASE not in kinds:
            continue
        if (signature := batch.release_signature) is not None:
            yield story.event(
                signature.signed_at,
                batch.id,
                BatchReleaseDetail(
                    **base,
                    disposition=BatchStatus.RELEASED,
                    signed_by=signature.printed_name,
                    statement=signature.statement,
                ),
            )
        if (signature := batch.rejection_signature) is not None:
            yield story.event(
                signature.signed_at,
                batch.id,
                BatchRejectionDetail(
                    **base,
                    disposition=BatchStatus.REJECTED,
                    signed_by=signature.printed_name,
                    reason=batch.rejection_reason,
                ),
                Level.ALERT,
            )


def _steps(story: _Story) -> Iterable[TimelineEvent]:
    steps = ProcessingStep.objects.filter(
        story.window.on("started_at"), batch__in=_patient_batches(story.patient).values("id")
    ).select_related("batch", "operator")
    for step in steps:
        yield story.event(
            step.started_at,
            step.id,
            ProcessingStepDetail(
                lot_number=step.batch.lot_number,
                step=StepKind(step.kind),
                ended_at=step.ended_at,
                parameters=step.parameters,
            ),
        )


def _qc_results(story: _Story) -> Iterable[TimelineEvent]:
    window = story.window
    results = QCResult.objects.filter(
        window.on("tested_at") | window.on("invalidated_at"), batch__in=_patient_batches(story.patient).values("id")
    ).select_related("batch", "spec", "invalidated_by")
    for result in results:
        # 21 CFR 610.1: a failing result that was not invalidated keeps the batch from release: it alerts.
        level = Level.INFO if result.passed or result.invalidated else Level.ALERT
        yield story.event(result.tested_at, result.id, _qc_detail(QCResultDetail, result), level)
        if result.invalidated_at is not None:
            invalidation = _qc_detail(QCInvalidationDetail, result)
            yield story.event(result.invalidated_at, result.id, invalidation, Level.NOTICE)


def _qc_detail[D: QCResultDetail](detail_type: type[D], result: QCResult) -> D:
    """The result as recorded; its invalidation (a detail of its own) says the same about it."""
    return detail_type(
        lot_number=result.batch.lot_number,
        test=result.spec.test,
        # A number or a text result, never both (a constraint of the model).
        value=result.value_text if result.value_numeric is None else result.value_numeric,
        unit=result.unit or result.spec.unit,
        passed=result.passed,
        invalidated=result.invalidated,
        invalidated_at=result.invalidated_at,
        invalidated_by=_who(result.invalidated_by),
        invalidation_reason=result.invalidation_reason,
        test_name=result.spec.name or result.spec.test,
    )


def _holds(story: _Story) -> Iterable[TimelineEvent]:
    """Holds on the patient's units and batches: when each was opened, and QA's signed decision."""
    window = story.window
    holds = (
        Hold.objects.filter(window.on("opened_at") | window.on("decided_at"))
        .filter(
            Q(unit__chain__order__patient=story.patient) | Q(batch__in=_patient_batches(story.patient).values("id"))
        )
        .select_related("unit__batch", "batch", "opened_by", "decision_signature")
    )
    for hold in holds:
        yield story.event(hold.opened_at, hold.id, _hold_detail(HoldDetail, hold), Level.ALERT)
        if hold.decision_signature is not None and hold.decided_at is not None:
            level = Level.ALERT if hold.status == HoldStatus.DISCARDED else Level.NOTICE
            yield story.event(hold.decided_at, hold.id, _hold_detail(HoldDecisionDetail, hold), level)


def _hold_detail[D: HoldDetail](detail_type: type[D], hold: Hold) -> D:
    """The hold as it stands; the opening and QA's decision say the same about it."""
    held_batch = hold.held_batch
    signature = hold.decision_signature
    return detail_type(
        hold=hold.id,
        unit=hold.unit.unit_id if hold.unit else None,
        lot_number=held_batch.lot_number,
        hold_kind=HoldKind(hold.kind),
        status=HoldStatus(hold.status),
        reason=hold.reason,
        opened_by=_who(hold.opened_by) or SYSTEM,
        decision=HoldDecision(hold.decision) if hold.decision else None,
        rationale=hold.rationale,
        signed_by=signature.printed_name if signature else None,
    )


def _allocations(story: _Story) -> Iterable[TimelineEvent]:
    """Allogeneic units reserved for the patient's orders, and their returns to stock."""
    window = story.window
    allocations = (
        Allocation.objects.filter(window.on("allocated_at") | window.on("released_at"))
        .filter(chain__order__patient=story.patient)
        .select_related("unit__batch__collection__donor", "chain", "allocated_by")
    )
    for a in allocations:
        collection = a.unit.batch.collection
        detail = AllocationDetail(
            allocation=a.id,
            unit=a.unit.unit_id,
            coi=a.chain.coi,
            lot_number=a.unit.batch.lot_number,
            donor_code=collection.donor.donor_code if collection is not None and collection.donor else None,
            hla_matches=a.hla_matches,
            hla_match_min=a.hla_match_min,
            donor_eligibility=a.donor_eligibility,
            exception=a.exception,
            label_warnings=tuple(a.label_warnings),
            allocated_by=_who(a.allocated_by),
            released_at=a.released_at,
            release_reason=a.release_reason,
        )
        yield story.event(a.allocated_at, a.id, detail, Level.NOTICE if a.label_warnings else Level.INFO)
        if a.released_at is not None:
            yield story.event(a.released_at, a.id, AllocationReleaseDetail(**asdict(detail)), Level.NOTICE)


def _custody(story: _Story) -> Iterable[TimelineEvent]:
    records = CustodyRecord.objects.filter(
        story.window.on("at"), unit__chain__order__patient=story.patient
    ).select_related("unit", "facility", "from_facility", "recorded_by")
    for r in records:
        yield story.event(
            r.at,
            r.id,
            CustodyDetail(
                unit=r.unit.unit_id,
                event=CustodyEvent(r.event),
                seq=r.seq,
                facility=r.facility.code,
                from_facility=r.from_facility.code,
                temperature_c=r.temperature_c,
                excursion=r.excursion,
                recorded_by=_who(r.recorded_by),
                note=r.note,
                facility_name=r.facility.name,
                from_facility_name=r.from_facility.name,
            ),
            Level.ALERT if r.excursion else Level.INFO,
        )


def _conditioning(story: _Story) -> Iterable[TimelineEvent]:
    doses = Conditioning.objects.filter(story.window.on_date("given_on"), order__patient=story.patient)
    for dose in doses:
        yield story.event(
            dated_at(dose.given_on),
            dose.id,
            ConditioningDetail(
                date=dose.given_on,
                regimen=dose.regimen,
                drug=dose.drug,
                dose=dose.dose,
                dose_unit=dose.dose_unit,
                planned_day=dose.day_relative,
            ),
        )


def _bedside_checks(story: _Story) -> Iterable[TimelineEvent]:
    """Every bedside scan, match or not: a refusal is an alert (the wrong bag or the wrong patient was at hand)."""
    checks = BedsideCheck.objects.filter(story.window.on("checked_at"), patient=story.patient).select_related(
        "order__chain", "unit", "checked_by"
    )
    for check in checks:
        yield story.event(
            check.checked_at,
            check.id,
            BedsideCheckDetail(
                coi=check.order.chain.coi,
                unit=check.unit.unit_id if check.unit else None,
                match=check.match,
                mismatches=tuple(check.mismatches),
                unit_problems=tuple(check.unit_problems),
                checked_by=check.checked_by.get_username(),
            ),
            Level.INFO if check.match else Level.ALERT,
        )


def _administrations(story: _Story, administrations: list[Administration]) -> Iterable[TimelineEvent]:
    for a in administrations:
        if not story.window.holds(a.administered_at):
            continue
        signature = a.verification_signature
        yield story.event(
            a.administered_at,
            a.id,
            AdministrationDetail(
                unit=a.unit.unit_id,
                coi=a.order.chain.coi,
                route=Route(a.route),
                dose_cells=a.dose_cells,
                dose_cells_per_kg=a.dose_cells_per_kg,
                weight_kg=a.weight_kg,
                verified_by=signature.printed_name if signature is not None else None,
                voided_at=a.voided_at,
                void_reason=a.void_reason,
                administered_by=_who(a.administered_by),
            ),
            Level.NOTICE if a.voided_at else Level.INFO,
        )


# An assessment's detail is read as a plain row, with its author's name: a long story holds thousands of
# assessments, and a model instance with its user for each was most of the timeline's time (make bench).
_ASSESSMENT_FIELDS = (
    "id",
    "assessed_at",
    *(f.name for f in fields(AssessmentDetail) if f.name != "assessed_by"),
    "assessed_by__first_name",
    "assessed_by__last_name",
    "assessed_by__username",
)


def _assessments(story: _Story) -> Iterable[TimelineEvent]:
    rows = Assessment.objects.filter(story.window.on("assessed_at"), patient=story.patient).values_list(
        *_ASSESSMENT_FIELDS, named=True
    )
    for a in rows:
        worst = max(a.crs_grade, a.icans_grade)
        yield story.event(
            a.assessed_at,
            a.id,
            AssessmentDetail(
                crs_grade=a.crs_grade,
                icans_grade=a.icans_grade,
                temperature_c=a.temperature_c,
                hypotension=Hypotension(a.hypotension),
                hypoxia=Hypoxia(a.hypoxia),
                fever_masked=a.fever_masked,
                ice_score=a.ice_score,
                capd_score=a.capd_score,
                capd_unable=a.capd_unable,
                consciousness=Consciousness(a.consciousness),
                seizure=Seizure(a.seizure),
                motor_weakness=a.motor_weakness,
                cerebral_edema=CerebralEdema(a.cerebral_edema),
                heart_rate=a.heart_rate,
                systolic_bp=a.systolic_bp,
                diastolic_bp=a.diastolic_bp,
                respiratory_rate=a.respiratory_rate,
                spo2=a.spo2,
                oxygen_l_min=a.oxygen_l_min,
                crp_mg_l=a.crp_mg_l,
                ferritin_ng_ml=a.ferritin_ng_ml,
                il6_pg_ml=a.il6_pg_ml,
                assessed_by=_name(a.assessed_by__first_name, a.assessed_by__last_name, a.assessed_by__username),
                note=a.note,
            ),
            Level.ALERT if worst >= URGENT_GRADE else Level.NOTICE if worst else Level.INFO,
        )


def _interventions(story: _Story) -> Iterable[TimelineEvent]:
    interventions = Intervention.objects.filter(story.window.on("given_at"), patient=story.patient).select_related(
        "given_by"
    )
    for i in interventions:
        yield story.event(
            i.given_at,
            i.id,
            InterventionDetail(
                intervention=InterventionKind(i.kind),
                drug=i.drug,
                dose=i.dose,
                dose_unit=i.dose_unit,
                route=i.route,
                indication=Indication(i.indication),
                given_by=_who(i.given_by),
                note=i.note,
            ),
            Level.NOTICE,
        )


def _adverse_events(story: _Story) -> Iterable[TimelineEvent]:
    events = AdverseEvent.objects.filter(story.window.on("onset_at"), patient=story.patient)
    for e in events:
        yield story.event(
            e.onset_at,
            e.id,
            AdverseEventDetail(
                term=AdverseEventTerm(e.term),
                term_text=e.term_text,
                meddra_code=e.meddra_code,
                grade=e.grade,
                grading_system=GradingSystem(e.grading_system),
                serious=e.serious,
                expected=e.expected,
                relatedness=Relatedness(e.relatedness),
                outcome=Outcome(e.outcome),
                aware_at=e.aware_at,
                resolved_at=e.resolved_at,
                report_due_at=e.report_due_at,
                report_submitted_at=e.report_submitted_at,
                description=e.description,
                suspected=e.suspected,
                regulatory_status=RegulatoryStatus(e.regulatory_status),
                ind_number=e.ind_number,
                trial_protocol=e.trial_protocol,
                report_rule=e.report_rule,
                sponsor_notified_at=e.sponsor_notified_at,
            ),
            Level.ALERT if e.serious or e.grade >= 3 else Level.NOTICE,
        )


def _reminders(story: _Story) -> Iterable[TimelineEvent]:
    reminders = Reminder.objects.filter(story.window.on("due_at"), patient=story.patient).select_related(
        "acknowledged_by", "resolved_by"
    )
    for r in reminders:
        status = ReminderStatus(r.status)
        if status == ReminderStatus.OPEN:
            level = Level.ALERT if r.severity == Severity.URGENT else Level.NOTICE
        else:
            level = Level.INFO
        yield story.event(
            r.due_at,
            r.id,
            ReminderDetail(
                reminder_kind=ReminderKind(r.kind),
                severity=Severity(r.severity),
                status=status,
                message=r.message,
                escalated_at=r.escalated_at,
                acknowledged_at=r.acknowledged_at,
                acknowledged_by=_who(r.acknowledged_by),
                resolved_at=r.resolved_at,
                resolution=r.resolution,
            ),
            level,
        )


def _follow_ups(story: _Story) -> Iterable[TimelineEvent]:
    visits = FollowUpVisit.objects.filter(story.window.on_date("visit_date"), patient=story.patient)
    for v in visits:
        detail = FollowUpDetail(
            date=v.visit_date,
            disease_response=DiseaseResponse(v.disease_response) if v.disease_response else None,
            survival_status=SurvivalStatus(v.survival_status),
            death_date=v.death_date,
            new_malignancy=v.new_malignancy,
            car_testing_requested=v.car_testing_requested,
            rcv_result=RcvResult(v.rcv_result),
            wellbeing_score=v.wellbeing_score,
            patient_reported=v.patient_reported,
            note=v.note,
        )
        alert = (
            detail.new_malignancy
            or detail.rcv_result == RcvResult.POSITIVE
            or detail.survival_status == SurvivalStatus.DEAD
        )
        yield story.event(dated_at(v.visit_date), v.id, detail, Level.ALERT if alert else Level.INFO)


def _gvhd(story: _Story) -> Iterable[TimelineEvent]:
    """The visits that staged acute GVHD (partial index followup_gvhd_staged): one event each, beside the visit's."""
    visits = FollowUpVisit.objects.filter(
        story.window.on_date("visit_date"), patient=story.patient, gvhd_grade__isnull=False
    )
    for v in visits:
        # A staged visit has every organ staged from every finding (tracker.services.clinical: all or none).
        grade, bsa, bilirubin = v.gvhd_grade, v.gvhd_skin_bsa_pct, v.gvhd_bilirubin_mg_dl
        assert grade is not None and bsa is not None and bilirubin is not None
        detail = GvhdDetail(
            date=v.visit_date,
            grade=grade,
            skin_stage=v.gvhd_skin_stage or 0,
            liver_stage=v.gvhd_liver_stage or 0,
            upper_gi_stage=v.gvhd_upper_gi_stage or 0,
            lower_gi_stage=v.gvhd_lower_gi_stage or 0,
            response=GvhdResponse(v.gvhd_response) if v.gvhd_response else None,
            response_day=v.gvhd_response_day,
            skin_rash_bsa_pct=bsa,
            skin_bullae=v.gvhd_skin_bullae,
            bilirubin_mg_dl=bilirubin,
            upper_gi_persistent=v.gvhd_upper_gi_persistent,
            stool_ml_per_day=v.gvhd_stool_ml_per_day,
            stool_episodes_per_day=v.gvhd_stool_episodes_per_day,
            lower_gi_severe=v.gvhd_lower_gi_severe,
        )
        if detail.grade >= gvhd_rules.SEVERE_GRADE or detail.response == GvhdResponse.PROGRESSION:
            level = Level.ALERT
        else:
            level = Level.NOTICE if detail.grade else Level.INFO
        yield story.event(dated_at(v.visit_date), v.id, detail, level)


def patient_timeline(
    *,
    patient: Patient,
    kinds: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    first_day: int | None = None,
    last_day: int | None = None,
) -> Timeline:
    """The patient's events of `kinds` (all when None) with since <= at < until, in time order.

    `first_day` / `last_day` narrow the range to days relative to the infusion (both included); they are
    ignored while the patient has had no infusion. About one query per kind, however many events there are.
    """
    requested = frozenset(TimelineKind.values if kinds is None else kinds)
    unknown = requested - set(TimelineKind.values)
    if unknown:
        raise ValueError(f"Unknown timeline kinds: {', '.join(sorted(unknown))}")
    wanted = frozenset(TimelineKind(kind) for kind in requested)

    # Always read: the first administration that was not voided is day 0 of every other event.
    administrations = list(
        Administration.objects.filter(patient=patient)
        .select_related("unit", "order__chain", "administered_by", "verification_signature")
        .order_by("administered_at", "id")
    )
    infused_at = next((a.administered_at for a in administrations if a.voided_at is None), None)
    day_zero = timezone.localtime(infused_at).date() if infused_at else None
    if day_zero is not None:
        if first_day is not None:
            start = day_start(day_zero, first_day)
            since = start if since is None else max(since, start)
        if last_day is not None:
            end = day_start(day_zero, last_day + 1)
            until = end if until is None else min(until, end)
    story = _Story(patient, _Window(since, until), day_zero, timezone.get_current_timezone())

    sources: list[tuple[frozenset[TimelineKind], Callable[[], Iterable[TimelineEvent]]]] = [
        (frozenset({TimelineKind.ORDER}), lambda: _orders(story)),
        (frozenset({TimelineKind.COLLECTION}), lambda: _collections(story)),
        (frozenset({TimelineKind.BATCH, TimelineKind.RELEASE}), lambda: _batches(story, wanted)),
        (frozenset({TimelineKind.PROCESSING_STEP}), lambda: _steps(story)),
        (frozenset({TimelineKind.QC_RESULT}), lambda: _qc_results(story)),
        (frozenset({TimelineKind.ALLOCATION}), lambda: _allocations(story)),
        (frozenset({TimelineKind.CUSTODY}), lambda: _custody(story)),
        (frozenset({TimelineKind.HOLD}), lambda: _holds(story)),
        (frozenset({TimelineKind.CONDITIONING}), lambda: _conditioning(story)),
        (frozenset({TimelineKind.BEDSIDE_CHECK}), lambda: _bedside_checks(story)),
        (frozenset({TimelineKind.ADMINISTRATION}), lambda: _administrations(story, administrations)),
        (frozenset({TimelineKind.ASSESSMENT}), lambda: _assessments(story)),
        (frozenset({TimelineKind.INTERVENTION}), lambda: _interventions(story)),
        (frozenset({TimelineKind.ADVERSE_EVENT}), lambda: _adverse_events(story)),
        (frozenset({TimelineKind.REMINDER}), lambda: _reminders(story)),
        (frozenset({TimelineKind.FOLLOW_UP}), lambda: _follow_ups(story)),
        (frozenset({TimelineKind.GVHD}), lambda: _gvhd(story)),
    ]
    events = [
        event
        for source_kinds, build in sources
        if source_kinds & wanted
        for event in build()
        if story.window.holds(event.at)
    ]
    events.sort(key=lambda e: (e.at, KIND_RANK[e.detail.kind], e.record_id))
    return Timeline(
        patient=patient,
        events=events,
        infused_at=infused_at,
        day_zero=day_zero,
        kinds=tuple(kind for kind in TimelineKind if kind in wanted),
        since=since,
        until=until,
    )
