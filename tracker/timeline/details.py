"""What each timeline event says about its record, as typed values: one frozen dataclass per kind of event.

Values keep their types (datetimes, dates, Decimals, enums, ints); nothing here is formatted for a reader or a
wire. Display text is made from these in tracker.timeline.text, and the API form in
tracker.api.timeline_serializers. A record with two moments (a QC result and its invalidation, a hold and QA's
decision, a batch started and released) has one class per moment, so the class alone says which it is.

A detail also reads as a mapping of its field names (`detail["grade"]`, `dict(detail)`), as the API's `detail`
object does.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, ClassVar

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
from tracker.timeline.kinds import TimelineKind

# Who opened a hold the system opened itself (an excursion, a failing QC result after release), as the API says.
SYSTEM = "system"


@cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


@dataclass(frozen=True, slots=True)
class Detail(Mapping[str, Any]):
    """The base of every event's detail: its kind, the type of record it comes from, and mapping access."""

    kind: ClassVar[TimelineKind]
    record_type: ClassVar[str]

    def __getitem__(self, key: str) -> Any:
        if key not in _names(type(self)):
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_names(type(self)))

    def __len__(self) -> int:
        return len(_names(type(self)))

    def __or__(self, other: Mapping[str, Any]) -> dict[str, Any]:
        return {**self, **other}

    def __ror__(self, other: Mapping[str, Any]) -> dict[str, Any]:
        return {**other, **self}


# ---------------------------------------------------------------------------------------------------------
# The chain and manufacturing (the product side: no patient data in these records).


@dataclass(frozen=True, slots=True)
class OrderDetail(Detail):
    kind = TimelineKind.ORDER
    record_type = "order"

    coi: str
    product: str  # the product's code
    status: CoiStatus
    product_name: str
    ordered_by: str


@dataclass(frozen=True, slots=True)
class CollectionDetail(Detail):
    kind = TimelineKind.COLLECTION
    record_type = "collection"

    din: str  # with its flag and check characters
    coi: str
    facility: str  # the facility's code
    method: CollectionMethod
    volume_ml: Decimal
    total_nucleated_cells: int | None
    cd3_cells: int | None
    facility_name: str


@dataclass(frozen=True, slots=True)
class BatchDetail(Detail):
    """A batch started (kind `batch`)."""

    kind = TimelineKind.BATCH
    record_type = "batch"

    lot_number: str
    facility: str
    status: BatchStatus  # the batch's status now
    facility_name: str


@dataclass(frozen=True, slots=True)
class BatchReleaseDetail(BatchDetail):
    """QA's signed release of the batch."""

    kind = TimelineKind.RELEASE

    disposition: BatchStatus  # released
    signed_by: str
    statement: str  # the signer's own words


@dataclass(frozen=True, slots=True)
class BatchRejectionDetail(BatchDetail):
    """QA's signed rejection of the batch."""

    kind = TimelineKind.RELEASE

    disposition: BatchStatus  # rejected
    signed_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class ProcessingStepDetail(Detail):
    kind = TimelineKind.PROCESSING_STEP
    record_type = "processing_step"

    lot_number: str
    step: StepKind
    ended_at: datetime | None
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class QCResultDetail(Detail):
    """A QC result as recorded (it stays on record when it is later invalidated)."""

    kind = TimelineKind.QC_RESULT
    record_type = "qc_result"

    lot_number: str
    test: str  # the release specification's test code
    value: Decimal | str  # a number, or a text result such as "negative"
    unit: str
    passed: bool
    invalidated: bool
    invalidated_at: datetime | None
    invalidated_by: str
    invalidation_reason: str
    test_name: str  # the specification's name for the test (its code when it has none)


@dataclass(frozen=True, slots=True)
class QCInvalidationDetail(QCResultDetail):
    """QA's signed invalidation of that result (FDA guidance on OOS results: it is set aside, never deleted)."""


@dataclass(frozen=True, slots=True)
class HoldDetail(Detail):
    """A hold opened on one of the patient's units or on their batch."""

    kind = TimelineKind.HOLD
    record_type = "hold"

    hold: int
    unit: str | None  # None: the hold is on the whole batch
    lot_number: str
    hold_kind: HoldKind
    status: HoldStatus
    reason: str
    opened_by: str  # a person's name, or SYSTEM
    decision: HoldDecision | None
    rationale: str
    signed_by: str | None


@dataclass(frozen=True, slots=True)
class HoldDecisionDetail(HoldDetail):
    """QA's signed decision on the hold (release for use, or discard)."""


@dataclass(frozen=True, slots=True)
class AllocationDetail(Detail):
    """An allogeneic unit reserved for the patient's order from inventory (the donor known by code only)."""

    kind = TimelineKind.ALLOCATION
    record_type = "allocation"

    allocation: int
    unit: str
    coi: str
    lot_number: str
    donor_code: str | None
    hla_matches: int | None  # 0-8 at A, B, C, DRB1; None when either side is untyped
    hla_match_min: int
    donor_eligibility: str  # eligible / pending / ineligible, when allocated
    exception: str  # "" or the documented exception (21 CFR 1271.60(d), 1271.65(b))
    label_warnings: tuple[str, ...]
    allocated_by: str
    released_at: datetime | None
    release_reason: str


@dataclass(frozen=True, slots=True)
class AllocationReleaseDetail(AllocationDetail):
    """The allocation released: the unit returned to stock, on record."""


@dataclass(frozen=True, slots=True)
class CustodyDetail(Detail):
    kind = TimelineKind.CUSTODY
    record_type = "custody"

    unit: str
    event: CustodyEvent
    seq: int
    facility: str
    from_facility: str
    temperature_c: Decimal | None
    excursion: bool
    recorded_by: str
    note: str
    facility_name: str
    from_facility_name: str


@dataclass(frozen=True, slots=True)
class DatedDetail(Detail):
    """A record with a calendar date and no time of day (conditioning, follow-up visit)."""

    date: date


# ---------------------------------------------------------------------------------------------------------
# Treatment and monitoring.


@dataclass(frozen=True, slots=True)
class ConditioningDetail(DatedDetail):
    kind = TimelineKind.CONDITIONING
    record_type = "conditioning"

    regimen: str
    drug: str
    dose: Decimal
    dose_unit: str
    planned_day: int


@dataclass(frozen=True, slots=True)
class BedsideCheckDetail(Detail):
    """A bag and a wristband scanned against an order, match or not (tracker.services.bedside_checks)."""

    kind = TimelineKind.BEDSIDE_CHECK
    record_type = "bedside_check"

    coi: str
    unit: str | None  # the order's bag the scan named; None when it named none of them
    match: bool
    mismatches: tuple[dict[str, str], ...]  # {"field", "expected", "scanned", "reason"}
    unit_problems: tuple[dict[str, str], ...]  # {"code", "detail"}: why the bag may not be given now
    checked_by: str  # the username


@dataclass(frozen=True, slots=True)
class AdministrationDetail(Detail):
    kind = TimelineKind.ADMINISTRATION
    record_type = "administration"

    unit: str
    coi: str
    route: Route
    dose_cells: int
    dose_cells_per_kg: int | None
    weight_kg: Decimal | None
    verified_by: str | None  # the second person who signed the bedside check
    voided_at: datetime | None
    void_reason: str
    administered_by: str


@dataclass(frozen=True, slots=True)
class AssessmentDetail(Detail):
    kind = TimelineKind.ASSESSMENT
    record_type = "assessment"

    crs_grade: int
    icans_grade: int
    temperature_c: Decimal | None
    hypotension: Hypotension
    hypoxia: Hypoxia
    fever_masked: bool
    ice_score: int | None
    capd_score: int | None
    capd_unable: bool
    consciousness: Consciousness
    seizure: Seizure
    motor_weakness: bool
    cerebral_edema: CerebralEdema
    heart_rate: int | None
    systolic_bp: int | None
    diastolic_bp: int | None
    respiratory_rate: int | None
    spo2: int | None
    oxygen_l_min: Decimal | None
    crp_mg_l: Decimal | None
    ferritin_ng_ml: Decimal | None
    il6_pg_ml: Decimal | None
    assessed_by: str
    note: str


@dataclass(frozen=True, slots=True)
class InterventionDetail(Detail):
    kind = TimelineKind.INTERVENTION
    record_type = "intervention"

    intervention: InterventionKind
    drug: str
    dose: Decimal | None
    dose_unit: str
    route: str
    indication: Indication
    given_by: str
    note: str


@dataclass(frozen=True, slots=True)
class AdverseEventDetail(Detail):
    kind = TimelineKind.ADVERSE_EVENT
    record_type = "adverse_event"

    term: AdverseEventTerm
    term_text: str
    meddra_code: str
    grade: int
    grading_system: GradingSystem
    serious: bool
    expected: bool
    relatedness: Relatedness
    outcome: Outcome
    aware_at: datetime
    resolved_at: datetime | None
    report_due_at: datetime | None
    report_submitted_at: datetime | None
    description: str
    # Added in 1.1: what the report clock follows and which rule it is (tracker.rules.reporting).
    suspected: bool
    regulatory_status: RegulatoryStatus
    ind_number: str
    trial_protocol: str
    report_rule: str
    sponsor_notified_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReminderDetail(Detail):
    kind = TimelineKind.REMINDER
    record_type = "reminder"

    reminder_kind: ReminderKind
    severity: Severity
    status: ReminderStatus
    message: str
    escalated_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str
    resolved_at: datetime | None
    resolution: str


@dataclass(frozen=True, slots=True)
class FollowUpDetail(DatedDetail):
    kind = TimelineKind.FOLLOW_UP
    record_type = "follow_up"

    disease_response: DiseaseResponse | None  # None: not assessed at this visit
    survival_status: SurvivalStatus
    death_date: date | None
    new_malignancy: bool
    car_testing_requested: bool
    rcv_result: RcvResult
    wellbeing_score: int | None
    patient_reported: str
    note: str


@dataclass(frozen=True, slots=True)
class GvhdDetail(DatedDetail):
    """Acute GVHD staged at a follow-up visit: the findings, the MAGIC stages and grade, and the response on the
    days the protocol names (tracker.rules.gvhd)."""

    kind = TimelineKind.GVHD
    record_type = "follow_up"

    grade: int  # MAGIC overall grade, 0-4 for 0-IV
    skin_stage: int
    liver_stage: int
    upper_gi_stage: int
    lower_gi_stage: int
    response: GvhdResponse | None  # None: no response judged at this visit
    response_day: int | None  # days since the course's first infusion
    skin_rash_bsa_pct: int
    skin_bullae: bool
    bilirubin_mg_dl: Decimal
    upper_gi_persistent: bool
    stool_ml_per_day: int | None
    stool_episodes_per_day: int | None
    lower_gi_severe: bool


# Every concrete detail, for the serializers and the tests that keep them in step.
DETAIL_TYPES: tuple[type[Detail], ...] = (
    OrderDetail,
    CollectionDetail,
    BatchDetail,
    BatchReleaseDetail,
    BatchRejectionDetail,
    ProcessingStepDetail,
    QCResultDetail,
    QCInvalidationDetail,
    HoldDetail,
    HoldDecisionDetail,
    AllocationDetail,
    AllocationReleaseDetail,
    CustodyDetail,
    ConditioningDetail,
    BedsideCheckDetail,
    AdministrationDetail,
    AssessmentDetail,
    InterventionDetail,
    AdverseEventDetail,
    ReminderDetail,
    FollowUpDetail,
    GvhdDetail,
)
