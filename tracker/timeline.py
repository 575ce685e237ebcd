"""The patient timeline: one chronological story of the chain and the care, read by the page and the API alike.

One query per kind of record, whatever the number of events: the cost of a long story is the rows it
returns, never a query per row. Day numbers count calendar days from the infusion (day 0: the first
administration that was not voided), in the display time zone.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, TextChoices
from django.utils import timezone

from products.choices import HoldStatus
from products.models import Batch, Collection, CustodyRecord, Hold, ProcessingStep, QCResult, Unit
from tracker.choices import CheckStatus, ReminderStatus
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
    ScheduledCheck,
    TherapyOrder,
)
from tracker.rules.grading import CAPD_SCORE, ICE_MAX, URGENT_GRADE


class TimelineKind(TextChoices):
    """What a timeline event records; the values are the API's `kind` and the filters' choices."""

    ORDER = "order", "Order"
    COLLECTION = "collection", "Collection"
    BATCH = "batch", "Batch started"
    PROCESSING_STEP = "processing_step", "Processing step"
    QC_RESULT = "qc_result", "QC result"
    RELEASE = "release", "Release or rejection"
    CUSTODY = "custody", "Custody"
    HOLD = "hold", "Hold or QA decision"
    CONDITIONING = "conditioning", "Conditioning"
    BEDSIDE_CHECK = "bedside_check", "Bedside check"
    ADMINISTRATION = "administration", "Infusion"
    ASSESSMENT = "assessment", "Assessment"
    INTERVENTION = "intervention", "Intervention"
    ADVERSE_EVENT = "adverse_event", "Adverse event"
    REMINDER = "reminder", "Reminder"
    FOLLOW_UP = "follow_up", "Follow-up visit"


# Events at the same instant read in the order of the journey (e.g. a batch released, then shipped).
KIND_RANK = {kind.value: rank for rank, kind in enumerate(TimelineKind)}

# The filters' groups, as clinicians think of the story.
KIND_GROUPS: list[tuple[str, list[TimelineKind]]] = [
    (
        "Chain and manufacturing",
        [
            TimelineKind.ORDER,
            TimelineKind.COLLECTION,
            TimelineKind.BATCH,
            TimelineKind.PROCESSING_STEP,
            TimelineKind.QC_RESULT,
            TimelineKind.RELEASE,
            TimelineKind.CUSTODY,
            TimelineKind.HOLD,
        ],
    ),
    ("Treatment", [TimelineKind.CONDITIONING, TimelineKind.BEDSIDE_CHECK, TimelineKind.ADMINISTRATION]),
    (
        "Monitoring",
        [
            TimelineKind.ASSESSMENT,
            TimelineKind.INTERVENTION,
            TimelineKind.ADVERSE_EVENT,
            TimelineKind.REMINDER,
            TimelineKind.FOLLOW_UP,
        ],
    ),
]

# How much an event asks for attention: the page colours it, the API passes it on.
INFO, NOTICE, ALERT = "info", "notice", "alert"

# A dated record (conditioning, follow-up visit) counts at noon UTC of its day, as the services count it.
DATED_AT = time(12, tzinfo=UTC)


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened (or is due), with the record it comes from."""

    at: datetime
    kind: str
    summary: str
    record_type: str
    record_id: int
    day: int | None = None
    date_only: bool = False
    level: str = INFO
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def record(self) -> str:
        return f"{self.record_type}:{self.record_id}"

    @property
    def kind_label(self) -> str:
        return TimelineKind(self.kind).label

    @property
    def local_at(self) -> datetime:
        return timezone.localtime(self.at)


@dataclass(frozen=True)
class Timeline:
    """A patient's story, in time order, with day 0 (the infusion) when there has been one."""

    patient: Patient
    events: list[TimelineEvent]
    infused_at: datetime | None
    day_zero: date | None
    kinds: tuple[str, ...]
    since: datetime | None
    until: datetime | None

    def day_of(self, at: datetime) -> int | None:
        return day_number(at, self.day_zero)

    @property
    def filtered(self) -> bool:
        return len(self.kinds) < len(TimelineKind) or self.since is not None or self.until is not None


def day_number(at: datetime, day_zero: date | None) -> int | None:
    """Calendar days since the infusion day (day 0) in the display time zone; None before any infusion."""
    if day_zero is None:
        return None
    return (timezone.localtime(at).date() - day_zero).days


def day_start(day_zero: date, day: int) -> datetime:
    """The first instant of day `day` (relative to the infusion) in the display time zone."""
    return timezone.make_aware(datetime.combine(day_zero + timedelta(days=day), time.min))


def _dated(on: date) -> datetime:
    return datetime.combine(on, DATED_AT)


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _who(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _cells(count: int | None) -> str:
    """1.5 × 10⁸, the way a dose is written on a label."""  # noqa: RUF002
    if not count:
        return "0"
    mantissa, exponent = f"{count:.2e}".split("e")
    return f"{float(mantissa):g} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"  # noqa: RUF001


def _dec(value: Decimal) -> str:
    """30.00 -> 30, 2.50 -> 2.5 (no exponent)."""
    return f"{value.normalize():f}"


# ---------------------------------------------------------------------------------------------------------
# One builder per kind of record: a queryset (one query) and the events made from its rows.


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


def _patient_batches(patient: Patient) -> QuerySet[Batch]:
    """The batches of the patient's chains; allogeneic (later): also those whose units were allocated to them."""
    return Batch.objects.filter(
        Q(chain__order__patient=patient)
        | Exists(Unit.objects.filter(batch=OuterRef("pk"), chain__order__patient=patient))
    )


def _orders(patient: Patient, window: _Window) -> Iterable[TimelineEvent]:
    orders = TherapyOrder.objects.filter(window.on("ordered_at"), patient=patient).select_related(
        "chain", "product", "ordered_by"
    )
    for order in orders:
        yield TimelineEvent(
            at=order.ordered_at,
            kind=TimelineKind.ORDER,
            summary=f"{order.product.name} ordered (COI {order.chain.coi}) by {_who(order.ordered_by)}",
            record_type="order",
            record_id=order.id,
            detail={"coi": order.chain.coi, "product": order.product.code, "status": order.chain.status},
        )


def _collections(patient: Patient, window: _Window) -> Iterable[TimelineEvent]:
    collections = Collection.objects.filter(window.on("collected_at"), chain__order__patient=patient).select_related(
        "chain", "facility"
    )
    for c in collections:
        yield TimelineEvent(
            at=c.collected_at,
            kind=TimelineKind.COLLECTION,
            summary=f"{c.get_method_display()} collection at {c.facility.name}: DIN {c.full_din}, {c.volume_ml} mL",
            record_type="collection",
            record_id=c.id,
            detail={
                "din": c.full_din,
                "coi": c.chain.coi,
                "facility": c.facility.code,
                "method": c.method,
                "volume_ml": _num(c.volume_ml),
                "total_nucleated_cells": c.total_nucleated_cells,
                "cd3_cells": c.cd3_cells,
            },
        )


def _batches(patient: Patient, window: _Window, kinds: frozenset[str]) -> Iterable[TimelineEvent]:
    batches = _patient_batches(patient).select_related(
        "facility", "release_signature", "rejection_signature", "product"
    )
    for batch in batches:
        base = {"lot_number": batch.lot_number, "facility": batch.facility.code, "status": batch.status}
        if TimelineKind.BATCH in kinds:
            yield TimelineEvent(
                at=batch.started_at,
                kind=TimelineKind.BATCH,
                summary=f"Manufacturing started: lot {batch.lot_number} at {batch.facility.name}",
                record_type="batch",
                record_id=batch.id,
                detail=base,
            )
        if TimelineKind.RELEASE not in kinds:
            continue
        if batch.release_signature is not None:
            signature = batch.release_signature
            yield TimelineEvent(
                at=signature.signed_at,
                kind=TimelineKind.RELEASE,
                summary=f"Lot {batch.lot_number} released by {signature.printed_name}: “{signature.statement}”",
                record_type="batch",
                record_id=batch.id,
                detail={**base, "disposition": "released", "signed_by": signature.printed_name},
            )
        if batch.rejection_signature is not None:
            signature = batch.rejection_signature
            yield TimelineEvent(
                at=signature.signed_at,
                kind=TimelineKind.RELEASE,
                summary=f"Lot {batch.lot_number} rejected by {signature.printed_name}: {batch.rejection_reason}",
                record_type="batch",
                record_id=batch.id,
                level=ALERT,
                detail={
                    **base,
                    "disposition": "rejected",
                    "signed_by": signature.printed_name,
                    "reason": batch.rejection_reason,
                },
            )


def _steps(patient: Patient, window: _Window) -> Iterable[TimelineEvent]:
    steps = ProcessingStep.objects.filter(
        window.on("started_at"), batch__in=_patient_batches(patient).values("id")
    ).select_related("batch", "operator")
    for step in steps:
        ended = f", ended {timezone.localtime(step.ended_at):%Y-%m-%d %H:%M}" if step.ended_at else ""
        yield TimelineEvent(
            at=step.started_at,
            kind=TimelineKind.PROCESSING_STEP,
            summary=f"{step.get_kind_display()} (lot {step.batch.lot_number}){ended}",
            record_type="processing_step",
            record_id=step.id,
            detail={
                "lot_number": step.batch.lot_number,
                "step": step.kind,
                "ended_at": _iso(step.ended_at),
                "parameters": step.parameters,
            },
        )


def _qc_results(patient: Patient, window: _Window) -> Iterable[TimelineEvent]:
    results = QCResult.objects.filter(
        window.on("tested_at") | window.on("invalidated_at"), batch__in=_patient_batches(patient).values("id")
    ).select_related("batch", "spec", "invalidated_by")
    for result in results:
        value = result.value_text or f"{result.value_numeric.normalize():f}"
        unit = f" {result.unit or result.spec.unit}".rstrip()
        verdict = "pass" if result.passed else "FAIL"
        lot = result.batch.lot_number
        test = result.spec.name or result.spec.test
        detail = {
            "lot_number": result.batch.lot_number,
            "test": result.spec.test,
            "value": value,
            "unit": result.unit or result.spec.unit,
            "passed": result.passed,
            "invalidated": result.invalidated,
            "invalidated_at": _iso(result.invalidated_at),
            "invalidated_by": _who(result.invalidated_by),
            "invalidation_reason": result.invalidation_reason,
        }
        invalidated = " — later invalidated" if result.invalidated else ""
        yield TimelineEvent(
            at=result.tested_at,
            kind=TimelineKind.QC_RESULT,
            summary=f"QC {test}: {value}{unit} ({verdict}, lot {lot}){invalidated}",
            record_type="qc_result",
            record_id=result.id,
            level=INFO if result.passed or result.invalidated else ALERT,
            detail=detail,
        )
        if result.invalidated_at is not None:
            yield TimelineEvent(
                at=result.invalidated_at,
                kind=TimelineKind.QC_RESULT,
                summary=f"QC {test} result {value}{unit} (lot {lot}) invalidated by {_who(result.invalidated_by)} "
                f"(e-signed): {result.invalidation_reason}",
                record_type="qc_result",
                record_id=result.id,
                level=NOTICE,
                detail=detail,
            )


def _holds(patient: Patient, window: _Window) -> Iterable[TimelineEvent]:
    """Holds on the patient's units and batches: when each was opened, and QA's signed decision."""
    holds = (
        Hold.objects.filter(window.on("opened_at") | window.on("decided_at"))
        .filter(Q(unit__chain__order__patient=patient) | Q(batch__in=_patient_batches(patient).values("id")))
        .select_related("unit__batch", "batch", "opened_by", "decision_signature")
    )
    for hold in holds:
        lot = (hold.batch or hold.unit.batch).lot_number  # type: ignore[union-attr]
        what = f"lot {lot}" if hold.batch_id else f"unit {hold.unit.unit_id}"  # type: ignore[union-attr]
        signature = hold.decision_signature
        detail = {
            "hold": hold.id,
            "unit": hold.unit.unit_id if hold.unit else None,
            "lot_number": lot,
            "hold_kind": hold.kind,
            "status": hold.status,
            "reason": hold.reason,
            "opened_by": _who(hold.opened_by) or "system",
            "decision": hold.decision,
            "rationale": hold.rationale,
            "signed_by": signature.printed_name if signature else None,
        }
        by = f" by {_who(hold.opened_by)}" if hold.opened_by else " automatically"
        yield TimelineEvent(
            at=hold.opened_at,
            kind=TimelineKind.HOLD,
            summary=f"{what[:1].upper()}{what[1:]} put on hold{by} ({hold.get_kind_display().lower()}): {hold.reason}",
            record_type="hold",
            record_id=hold.id,
            level=ALERT,
            detail=detail,
        )
        if signature is not None and hold.decided_at is not None:
            discarded = hold.status == HoldStatus.DISCARDED
            decision = "discarded" if discarded else "released for use"
            yield TimelineEvent(
                at=hold.decided_at,
                kind=TimelineKind.HOLD,
                summary=f"Hold {hold.id} on {what}: {decision} by {signature.printed_name} (e-signed): "
                f"{hold.rationale}",
                record_type="hold",
                record_id=hold.id,
                level=ALERT if discarded else NOTICE,
                detail=detail,
            )


def _custody(patient: Patient, window: _Window) -> Iterable[TimelineEvent]:
    records = CustodyRecord.objects.filter(window.on("at"), unit__chain__order__patient=patient).select_related(
        "unit", "facility", "from_facility", "recorded_by"
    )
    for r in records:
        where = f"from {r.from_facility.name} to {r.facility.name}" if r.event == "shipped" else f"at {r.facility.name}"
        temperature = f", {r.temperature_c} °C" if r.temperature_c is not None else ""
        excursion = " — temperature excursion" if r.excursion else ""
        yield TimelineEvent(
            at=r.at,
            kind=TimelineKind.CUSTODY,
            summary=f"Unit {r.unit.unit_id} {r.get_event_display().lower()} {where}{temperature}{excursion}",
            record_type="custody",
            record_id=r.id,
            level=ALERT if r.excursion else INFO,
            detail={
                "unit": r.unit.unit_id,
                "event": r.event,
                "seq": r.seq,
                "facility": r.facility.code,
                "from_facility": r.from_facility.code,
                "temperature_c": _num(r.temperature_c),
                "excursion": r.excursion,
                "recorded_by": _who(r.recorded_by),
                "note": r.note,
            },
        )


def _conditioning(patient: Patient, window: _Window, day_zero: date | None) -> Iterable[TimelineEvent]:
    doses = Conditioning.objects.filter(window.on_date("given_on"), order__patient=patient)
    for dose in doses:
        yield TimelineEvent(
            at=_dated(dose.given_on),
            date_only=True,
            day=(dose.given_on - day_zero).days if day_zero else None,
            kind=TimelineKind.CONDITIONING,
            summary=f"{dose.regimen}: {dose.drug} {_dec(dose.dose)} {dose.dose_unit} (planned day {dose.day_relative})",
            record_type="conditioning",
            record_id=dose.id,
            detail={
                "date": dose.given_on.isoformat(),
                "regimen": dose.regimen,
                "drug": dose.drug,
                "dose": _num(dose.dose),
                "dose_unit": dose.dose_unit,
                "planned_day": dose.day_relative,
            },
        )


_SCANNED = {"scanned_unit": "bag", "scanned_patient": "wristband", "scanned_birth_date": "birth date"}


def _bedside_checks(patient: Patient, window: _Window) -> Iterable[TimelineEvent]:
    """Every bedside scan, match or not: a refusal is an alert (the wrong bag or the wrong patient was at hand)."""
    checks = BedsideCheck.objects.filter(window.on("checked_at"), patient=patient).select_related(
        "order__chain", "unit", "checked_by"
    )
    for check in checks:
        if check.match:
            summary = f"Bedside check by {_who(check.checked_by)}: MATCH, unit {check.unit.unit_id}"  # type: ignore[union-attr]
        else:
            wrong = [_SCANNED.get(m["field"], m["field"]) for m in check.mismatches]
            problems = [p["code"] for p in check.unit_problems]
            what = ", ".join([f"{w} does not match" for w in wrong] + problems)
            summary = f"Bedside check by {_who(check.checked_by)}: NO MATCH ({what})"
        yield TimelineEvent(
            at=check.checked_at,
            kind=TimelineKind.BEDSIDE_CHECK,
            summary=summary,
            record_type="bedside_check",
            record_id=check.id,
            level=INFO if check.match else ALERT,
            detail={
                "coi": check.order.chain.coi,
                "unit": check.unit.unit_id if check.unit else None,
                "match": check.match,
                "mismatches": check.mismatches,
                "unit_problems": check.unit_problems,
                "checked_by": check.checked_by.get_username(),
            },
        )


def _administrations(administrations: list[Administration], window: _Window) -> Iterable[TimelineEvent]:
    for a in administrations:
        if not window.holds(a.administered_at):
            continue
        per_kg = f" ({_cells(a.dose_cells_per_kg)}/kg)" if a.dose_cells_per_kg else ""
        verified = (
            f", verified by {a.verification_signature.printed_name}" if a.verification_signature is not None else ""
        )
        voided = f" — VOIDED: {a.void_reason}" if a.voided_at else ""
        yield TimelineEvent(
            at=a.administered_at,
            kind=TimelineKind.ADMINISTRATION,
            summary=(
                f"{a.get_route_display()} of unit {a.unit.unit_id}: {_cells(a.dose_cells)} cells{per_kg}, "
                f"by {_who(a.administered_by)}{verified}{voided}"
            ),
            record_type="administration",
            record_id=a.id,
            level=NOTICE if a.voided_at else INFO,
            detail={
                "unit": a.unit.unit_id,
                "coi": a.order.chain.coi,
                "route": a.route,
                "dose_cells": a.dose_cells,
                "dose_cells_per_kg": a.dose_cells_per_kg,
                "weight_kg": _num(a.weight_kg),
                "verified_by": a.verification_signature.printed_name if a.verification_signature else None,
                "voided_at": _iso(a.voided_at),
                "void_reason": a.void_reason,
            },
        )


def _assessments(patient: Patient, window: _Window) -> Iterable[TimelineEvent]:
    assessments = Assessment.objects.filter(window.on("assessed_at"), patient=patient).select_related("assessed_by")
    for a in assessments:
        parts = [f"CRS grade {a.crs_grade}", f"ICANS grade {a.icans_grade}"]
        if a.temperature_c is not None:
            parts.append(f"{a.temperature_c} °C")
        if a.hypotension != "none":
            parts.append(f"hypotension: {a.get_hypotension_display().lower()}")
        if a.hypoxia != "none":
            parts.append(f"hypoxia: {a.get_hypoxia_display().lower()}")
        if a.ice_score is not None:
            parts.append(f"ICE {a.ice_score}/{ICE_MAX}")
        if a.capd_score is not None:
            parts.append(f"CAPD {a.capd_score}/{CAPD_SCORE.high}")
        if a.capd_unable:
            parts.append("CAPD not possible")
        if a.consciousness != "alert":
            parts.append(a.get_consciousness_display().lower())
        if a.seizure != "none":
            parts.append("seizure")
        if a.cerebral_edema != "none":
            parts.append(f"cerebral edema ({a.cerebral_edema})")
        worst = max(a.crs_grade, a.icans_grade)
        yield TimelineEvent(
            at=a.assessed_at,
            kind=TimelineKind.ASSESSMENT,
            summary=", ".join(parts),
            record_type="assessment",
            record_id=a.id,
            level=ALERT if worst >= URGENT_GRADE else NOTICE if worst else INFO,
            detail={
                "crs_grade": a.crs_grade,
                "icans_grade": a.icans_grade,
                "temperature_c": _num(a.temperature_c),
                "hypotension": a.hypotension,
                "hypoxia": a.hypoxia,
                "fever_masked": a.fever_masked,
                "ice_score": a.ice_score,
                "capd_score": a.capd_score,
                "capd_unable": a.capd_unable,
                "consciousness": a.consciousness,
                "seizure": a.seizure,
                "motor_weakness": a.motor_weakness,
                "cerebral_edema": a.cerebral_edema,
                "heart_rate": a.heart_rate,
                "systolic_bp": a.systolic_bp,
                "diastolic_bp": a.diastolic_bp,
                "respiratory_rate": a.respiratory_rate,
                "spo2": a.spo2,
                "oxygen_l_min": _num(a.oxygen_l_min),
                "crp_mg_l": _num(a.crp_mg_l),
                "ferritin_ng_ml": _num(a.ferritin_ng_ml),
                "il6_pg_ml": _num(a.il6_pg_ml),
                "assessed_by": _who(a.assessed_by),
                "note": a.note,
            },
        )


def _interventions(patient: Patient, window: _Window) -> Iterable[TimelineEvent]:
    interventions = Intervention.objects.filter(window.on("given_at"), patient=patient).select_related("given_by")
    for i in interventions:
        dose = f" {_dec(i.dose)} {i.dose_unit}".rstrip() if i.dose is not None else ""
        route = f" {i.route}" if i.route else ""
        yield TimelineEvent(
            at=i.given_at,
            kind=TimelineKind.INTERVENTION,
            summary=f"{i.drug}{dose}{route} for {i.get_indication_display()}",
            record_type="intervention",
            record_id=i.id,
            level=NOTICE,
            detail={
                "intervention": i.kind,
                "drug": i.drug,
                "dose": _num(i.dose),
                "dose_unit": i.dose_unit,
                "route": i.route,
                "indication": i.indication,
                "given_by": _who(i.given_by),
                "note": i.note,
            },
        )


def _adverse_events(patient: Patient, window: _Window) -> Iterable[TimelineEvent]:
    events = AdverseEvent.objects.filter(window.on("onset_at"), patient=patient)
    for e in events:
        flags = [f"grade {e.grade}", "serious" if e.serious else "non-serious"]
        if not e.expected:
            flags.append("unexpected")
        flags.append(e.get_outcome_display().lower())
        if e.report_due_at and not e.report_submitted_at:
            flags.append(f"report due {timezone.localtime(e.report_due_at):%Y-%m-%d}")
        yield TimelineEvent(
            at=e.onset_at,
            kind=TimelineKind.ADVERSE_EVENT,
            summary=f"{e.term_text or e.get_term_display()}: {', '.join(flags)}",
            record_type="adverse_event",
            record_id=e.id,
            level=ALERT if e.serious or e.grade >= 3 else NOTICE,
            detail={
                "term": e.term,
                "term_text": e.term_text,
                "meddra_code": e.meddra_code,
                "grade": e.grade,
                "grading_system": e.grading_system,
                "serious": e.serious,
                "expected": e.expected,
                "relatedness": e.relatedness,
                "outcome": e.outcome,
                "aware_at": _iso(e.aware_at),
                "resolved_at": _iso(e.resolved_at),
                "report_due_at": _iso(e.report_due_at),
                "report_submitted_at": _iso(e.report_submitted_at),
                "description": e.description,
            },
        )


def _reminders(patient: Patient, window: _Window) -> Iterable[TimelineEvent]:
    reminders = Reminder.objects.filter(window.on("due_at"), patient=patient).select_related(
        "acknowledged_by", "resolved_by"
    )
    for r in reminders:
        if r.status == ReminderStatus.OPEN:
            state = "open"
        elif r.status == ReminderStatus.ACKNOWLEDGED:
            state = f"acknowledged by {_who(r.acknowledged_by)} {timezone.localtime(r.acknowledged_at):%Y-%m-%d %H:%M}"
        else:
            state = f"resolved: {r.resolution}" if r.resolution else "resolved"
        open_urgent = r.status == ReminderStatus.OPEN and r.severity == "urgent"
        yield TimelineEvent(
            at=r.due_at,
            kind=TimelineKind.REMINDER,
            summary=f"{r.get_kind_display()}: {r.message} ({state})",
            record_type="reminder",
            record_id=r.id,
            level=ALERT if open_urgent else NOTICE if r.status == ReminderStatus.OPEN else INFO,
            detail={
                "reminder_kind": r.kind,
                "severity": r.severity,
                "status": r.status,
                "message": r.message,
                "escalated_at": _iso(r.escalated_at),
                "acknowledged_at": _iso(r.acknowledged_at),
                "acknowledged_by": _who(r.acknowledged_by),
                "resolved_at": _iso(r.resolved_at),
                "resolution": r.resolution,
            },
        )


def _follow_ups(patient: Patient, window: _Window, day_zero: date | None) -> Iterable[TimelineEvent]:
    visits = FollowUpVisit.objects.filter(window.on_date("visit_date"), patient=patient)
    for v in visits:
        parts = [v.get_survival_status_display()]
        if v.disease_response:
            parts.append(v.get_disease_response_display().lower())
        if v.new_malignancy:
            parts.append("NEW MALIGNANCY")
        if v.rcv_result != "not_done":
            parts.append(f"RCV test {v.get_rcv_result_display().lower()}")
        if v.wellbeing_score is not None:
            parts.append(f"well-being {v.wellbeing_score}/10")
        alert = v.new_malignancy or v.rcv_result == "positive" or v.survival_status == "dead"
        yield TimelineEvent(
            at=_dated(v.visit_date),
            date_only=True,
            day=(v.visit_date - day_zero).days if day_zero else None,
            kind=TimelineKind.FOLLOW_UP,
            summary="Follow-up visit: " + ", ".join(parts),
            record_type="follow_up",
            record_id=v.id,
            level=ALERT if alert else INFO,
            detail={
                "date": v.visit_date.isoformat(),
                "disease_response": v.disease_response,
                "survival_status": v.survival_status,
                "death_date": v.death_date.isoformat() if v.death_date else None,
                "new_malignancy": v.new_malignancy,
                "car_testing_requested": v.car_testing_requested,
                "rcv_result": v.rcv_result,
                "wellbeing_score": v.wellbeing_score,
                "patient_reported": v.patient_reported,
                "note": v.note,
            },
        )


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
    wanted = frozenset(TimelineKind) if kinds is None else frozenset(kinds)
    unknown = wanted - set(TimelineKind.values)
    if unknown:
        raise ValueError(f"Unknown timeline kinds: {', '.join(sorted(unknown))}")

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
    window = _Window(since, until)

    sources: list[tuple[frozenset[str], Callable[[], Iterable[TimelineEvent]]]] = [
        (frozenset({TimelineKind.ORDER}), lambda: _orders(patient, window)),
        (frozenset({TimelineKind.COLLECTION}), lambda: _collections(patient, window)),
        (frozenset({TimelineKind.BATCH, TimelineKind.RELEASE}), lambda: _batches(patient, window, wanted)),
        (frozenset({TimelineKind.PROCESSING_STEP}), lambda: _steps(patient, window)),
        (frozenset({TimelineKind.QC_RESULT}), lambda: _qc_results(patient, window)),
        (frozenset({TimelineKind.CUSTODY}), lambda: _custody(patient, window)),
        (frozenset({TimelineKind.HOLD}), lambda: _holds(patient, window)),
        (frozenset({TimelineKind.CONDITIONING}), lambda: _conditioning(patient, window, day_zero)),
        (frozenset({TimelineKind.BEDSIDE_CHECK}), lambda: _bedside_checks(patient, window)),
        (frozenset({TimelineKind.ADMINISTRATION}), lambda: _administrations(administrations, window)),
        (frozenset({TimelineKind.ASSESSMENT}), lambda: _assessments(patient, window)),
        (frozenset({TimelineKind.INTERVENTION}), lambda: _interventions(patient, window)),
        (frozenset({TimelineKind.ADVERSE_EVENT}), lambda: _adverse_events(patient, window)),
        (frozenset({TimelineKind.REMINDER}), lambda: _reminders(patient, window)),
        (frozenset({TimelineKind.FOLLOW_UP}), lambda: _follow_ups(patient, window, day_zero)),
    ]
    events: list[TimelineEvent] = []
    for source_kinds, build in sources:
        if source_kinds & wanted:
            for event in build():
                if not window.holds(event.at):
                    continue
                if event.day is None and day_zero is not None and not event.date_only:
                    event = replace(event, day=day_number(event.at, day_zero))
                events.append(event)
    events.sort(key=lambda e: (e.at, KIND_RANK[e.kind], e.record_id))
    return Timeline(
        patient=patient,
        events=events,
        infused_at=infused_at,
        day_zero=day_zero,
        kinds=tuple(k for k in TimelineKind.values if k in wanted),
        since=since,
        until=until,
    )


# ---------------------------------------------------------------------------------------------------------
# What the patient page shows beside the story: what is open and what is due, whatever the filters.


def patient_open_reminders(patient: Patient) -> list[Reminder]:
    """Open reminders, urgent first, then by due time."""
    return list(
        Reminder.objects.filter(patient=patient, status=ReminderStatus.OPEN).order_by("-severity", "due_at", "id")
    )


def patient_due_checks(patient: Patient, *, limit: int = 6, now: datetime | None = None) -> list[ScheduledCheck]:
    """The next open checks (overdue ones first, as they come first by due time)."""
    now = now or timezone.now()
    checks = list(patient.checks.filter(status=CheckStatus.OPEN).order_by("due_at", "id")[:limit])
    for check in checks:
        check.is_overdue = check.grace_until < now  # type: ignore[attr-defined]
        check.is_due = check.due_at <= now  # type: ignore[attr-defined]
    return checks
