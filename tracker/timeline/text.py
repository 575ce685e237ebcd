"""The timeline's words: the one-line summary of each event, made from its typed detail alone.

Pure functions (no database), one per kind of detail; times are written in the display time zone.
"""

from datetime import datetime
from decimal import Decimal
from functools import singledispatch

from django.utils import timezone

from products.choices import CustodyEvent, HoldStatus, RegulatoryStatus
from tracker.choices import CerebralEdema, Consciousness, Hypotension, Hypoxia, RcvResult, ReminderStatus, Seizure
from tracker.rules import gvhd as gvhd_rules
from tracker.rules.grading import CAPD_SCORE, ICE_MAX
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

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def cells(count: int | None) -> str:
    """1.5 × 10⁸, the way a dose is written on a label."""  # noqa: RUF002
    if not count:
        return "0"
    mantissa, exponent = f"{count:.2e}".split("e")
    return f"{float(mantissa):g} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"  # noqa: RUF001


def plain(value: Decimal) -> str:
    """30.00 -> 30, 2.50 -> 2.5, 1E+2 -> 100 (no exponent)."""
    return f"{value.normalize():f}"


def qc_value(value: Decimal | str) -> str:
    """A QC result as written: a number without trailing zeros, or the text result."""
    return plain(value) if isinstance(value, Decimal) else value


def minute(at: datetime) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M}"


@singledispatch
def summary(detail: Detail) -> str:
    """What happened, in one line."""
    raise TypeError(f"No summary for {type(detail).__name__}")


@summary.register
def _(d: OrderDetail) -> str:
    return f"{d.product_name} ordered (COI {d.coi}) by {d.ordered_by}"


@summary.register
def _(d: CollectionDetail) -> str:
    return f"{d.method.label} collection at {d.facility_name}: DIN {d.din}, {d.volume_ml} mL"


@summary.register
def _(d: BatchDetail) -> str:
    return f"Manufacturing started: lot {d.lot_number} at {d.facility_name}"


@summary.register
def _(d: BatchReleaseDetail) -> str:
    return f"Lot {d.lot_number} released by {d.signed_by}: “{d.statement}”"


@summary.register
def _(d: BatchRejectionDetail) -> str:
    return f"Lot {d.lot_number} rejected by {d.signed_by}: {d.reason}"


@summary.register
def _(d: ProcessingStepDetail) -> str:
    ended = f", ended {minute(d.ended_at)}" if d.ended_at else ""
    return f"{d.step.label} (lot {d.lot_number}){ended}"


def _measured(d: QCResultDetail) -> str:
    return f"{qc_value(d.value)}{f' {d.unit}'.rstrip()}"


@summary.register
def _(d: QCResultDetail) -> str:
    verdict = "pass" if d.passed else "FAIL"
    invalidated = " — later invalidated" if d.invalidated else ""
    return f"QC {d.test_name}: {_measured(d)} ({verdict}, lot {d.lot_number}){invalidated}"


@summary.register
def _(d: QCInvalidationDetail) -> str:
    return (
        f"QC {d.test_name} result {_measured(d)} (lot {d.lot_number}) invalidated by {d.invalidated_by} "
        f"(e-signed): {d.invalidation_reason}"
    )


def _held(d: HoldDetail) -> str:
    return f"lot {d.lot_number}" if d.unit is None else f"unit {d.unit}"


@summary.register
def _(d: HoldDetail) -> str:
    what = _held(d)
    by = " automatically" if d.opened_by == SYSTEM else f" by {d.opened_by}"
    return f"{what[:1].upper()}{what[1:]} put on hold{by} ({d.hold_kind.label.lower()}): {d.reason}"


@summary.register
def _(d: HoldDecisionDetail) -> str:
    decision = "discarded" if d.status == HoldStatus.DISCARDED else "released for use"
    return f"Hold {d.hold} on {_held(d)}: {decision} by {d.signed_by} (e-signed): {d.rationale}"


@summary.register
def _(d: AllocationDetail) -> str:
    match = f"; HLA {d.hla_matches}/8" if d.hla_matches is not None else ""
    donor = f" (donor {d.donor_code})" if d.donor_code else ""
    exception = f"; under exception: {d.exception.replace('_', ' ')}" if d.exception else ""
    warnings = f"; label: {', '.join(d.label_warnings)}" if d.label_warnings else ""
    return (
        f"Unit {d.unit} of lot {d.lot_number}{donor} allocated to {d.coi} by {d.allocated_by}{match}{exception}"
        f"{warnings}"
    )


@summary.register
def _(d: AllocationReleaseDetail) -> str:
    return f"Unit {d.unit} returned to stock from {d.coi}: {d.release_reason}"


@summary.register
def _(d: CustodyDetail) -> str:
    if d.event == CustodyEvent.SHIPPED:
        where = f"from {d.from_facility_name} to {d.facility_name}"
    else:
        where = f"at {d.facility_name}"
    temperature = f", {d.temperature_c} °C" if d.temperature_c is not None else ""
    excursion = " — temperature excursion" if d.excursion else ""
    return f"Unit {d.unit} {d.event.label.lower()} {where}{temperature}{excursion}"


@summary.register
def _(d: ConditioningDetail) -> str:
    return f"{d.regimen}: {d.drug} {plain(d.dose)} {d.dose_unit} (planned day {d.planned_day})"


_SCANNED = {"scanned_unit": "bag", "scanned_patient": "wristband", "scanned_birth_date": "birth date"}


@summary.register
def _(d: BedsideCheckDetail) -> str:
    if d.match:
        return f"Bedside check by {d.checked_by}: MATCH, unit {d.unit}"
    wrong = [f"{_SCANNED.get(m['field'], m['field'])} does not match" for m in d.mismatches]
    what = ", ".join(wrong + [p["code"] for p in d.unit_problems])
    return f"Bedside check by {d.checked_by}: NO MATCH ({what})"


@summary.register
def _(d: AdministrationDetail) -> str:
    per_kg = f" ({cells(d.dose_cells_per_kg)}/kg)" if d.dose_cells_per_kg else ""
    verified = f", verified by {d.verified_by}" if d.verified_by is not None else ""
    voided = f" — VOIDED: {d.void_reason}" if d.voided_at else ""
    return (
        f"{d.route.label} of unit {d.unit}: {cells(d.dose_cells)} cells{per_kg}, "
        f"by {d.administered_by}{verified}{voided}"
    )


@summary.register
def _(d: AssessmentDetail) -> str:
    parts = [f"CRS grade {d.crs_grade}", f"ICANS grade {d.icans_grade}"]
    if d.temperature_c is not None:
        parts.append(f"{d.temperature_c} °C")
    if d.hypotension != Hypotension.NONE:
        parts.append(f"hypotension: {d.hypotension.label.lower()}")
    if d.hypoxia != Hypoxia.NONE:
        parts.append(f"hypoxia: {d.hypoxia.label.lower()}")
    if d.ice_score is not None:
        parts.append(f"ICE {d.ice_score}/{ICE_MAX}")
    if d.capd_score is not None:
        parts.append(f"CAPD {d.capd_score}/{CAPD_SCORE.high}")
    if d.capd_unable:
        parts.append("CAPD not possible")
    if d.consciousness != Consciousness.ALERT:
        parts.append(d.consciousness.label.lower())
    if d.seizure != Seizure.NONE:
        parts.append("seizure")
    if d.cerebral_edema != CerebralEdema.NONE:
        parts.append(f"cerebral edema ({d.cerebral_edema.value})")
    return ", ".join(parts)


@summary.register
def _(d: InterventionDetail) -> str:
    dose = f" {plain(d.dose)} {d.dose_unit}".rstrip() if d.dose is not None else ""
    route = f" {d.route}" if d.route else ""
    return f"{d.drug}{dose}{route} for {d.indication.label}"


@summary.register
def _(d: AdverseEventDetail) -> str:
    flags = [f"grade {d.grade}", "serious" if d.serious else "non-serious"]
    if not d.expected:
        flags.append("unexpected")
    flags.append(d.outcome.label.lower())
    trial = d.regulatory_status == RegulatoryStatus.INVESTIGATIONAL
    if trial:
        flags.append("suspected" if d.suspected else "not suspected")
    if d.report_due_at and not d.report_submitted_at:
        # The rule's citation comes first in its text (tracker.rules.reporting).
        cited = f" ({d.report_rule.split(':', 1)[0]})" if trial else ""
        flags.append(f"report due {timezone.localtime(d.report_due_at):%Y-%m-%d}{cited}")
    if trial and d.serious:
        told = f"told {minute(d.sponsor_notified_at)}" if d.sponsor_notified_at else "not yet told"
        flags.append(f"sponsor {told}")
    text = f"{d.term_text or d.term.label}: {', '.join(flags)}"
    if trial:
        protocol = f"protocol {d.trial_protocol}, " if d.trial_protocol else ""
        text += f" [trial: {protocol}IND/CTA {d.ind_number}]"
    return text


@summary.register
def _(d: ReminderDetail) -> str:
    if d.status == ReminderStatus.OPEN:
        state = "open"
    elif d.status == ReminderStatus.ACKNOWLEDGED:
        when = f" {minute(d.acknowledged_at)}" if d.acknowledged_at else ""
        state = f"acknowledged by {d.acknowledged_by}{when}"
    else:
        state = f"resolved: {d.resolution}" if d.resolution else "resolved"
    return f"{d.reminder_kind.label}: {d.message} ({state})"


@summary.register
def _(d: FollowUpDetail) -> str:
    parts = [str(d.survival_status.label)]
    if d.disease_response is not None:
        parts.append(d.disease_response.label.lower())
    if d.new_malignancy:
        parts.append("NEW MALIGNANCY")
    if d.rcv_result != RcvResult.NOT_DONE:
        parts.append(f"RCV test {d.rcv_result.label.lower()}")
    if d.wellbeing_score is not None:
        parts.append(f"well-being {d.wellbeing_score}/10")
    return "Follow-up visit: " + ", ".join(parts)


@summary.register
def _(d: GvhdDetail) -> str:
    stages = gvhd_rules.Stages(
        skin=d.skin_stage, liver=d.liver_stage, upper_gi=d.upper_gi_stage, lower_gi=d.lower_gi_stage
    )
    return gvhd_rules.describe(grade=d.grade, stages=stages, response=d.response or "", response_day=d.response_day)
