"""The API form of the patient timeline (`patients/{id}/timeline/`): `{"patient", ..., "events": [...]}`.

Each event's `detail` has a serializer of its own, one per typed detail (tracker.timeline.details), so the schema
documents every kind. A story can hold thousands of events: the serializers render with their fields' own
`to_representation`, without DRF's per-object machinery, which would multiply the time of the answer.
"""

from collections.abc import Callable
from datetime import tzinfo
from functools import cache
from operator import attrgetter
from typing import Any, ClassVar

from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from products.api import plain
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
from tracker.api.serializers import PatientSerializer
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
from tracker.timeline import details
from tracker.timeline.events import Timeline, TimelineEvent
from tracker.timeline.kinds import Level, TimelineKind
from tracker.timeline.text import qc_value

# ---------------------------------------------------------------------------------------------------------
# Fields the details need beyond DRF's own.


class InstantField(serializers.DateTimeField):
    """An instant inside `detail`, written as ISO 8601 with its offset as stored (`+00:00`)."""

    def to_representation(self, value: Any) -> str:
        return value.isoformat()


class QCValueField(serializers.CharField):
    """A QC value as text: a number without trailing zeros (`98.5`), or the text result (`negative`)."""

    def to_representation(self, value: Any) -> str:
        return qc_value(value)


class BlankChoiceField(serializers.ChoiceField):
    """A choice that may be absent, written `""` then (as the records' own endpoints write it)."""

    represent_none = ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_blank=True, **kwargs)


def _choice(enum: Any, **kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=enum.choices, **kwargs)


def _name(help_text: str) -> serializers.CharField:
    return serializers.CharField(help_text=help_text)


class DetailSerializer(serializers.Serializer):
    """Renders one kind of typed detail; `detail_type` is the dataclass it renders."""

    detail_type: ClassVar[type[details.Detail]]

    def to_representation(self, instance: Any) -> dict[str, Any]:
        out = {}
        for name, write, absent in _plan(type(self)):
            value = getattr(instance, name)
            out[name] = absent if value is None else write(value)
        return out


# The typed values a detail holds (str, int, float of a Decimal, bool, the value of an enum member): a choice is
# an enum member, written as its value.
TYPED_BUILTINS: dict[type[serializers.Field], Callable[[Any], Any]] = {
    **plain.SAME_AS_BUILTIN,
    serializers.ChoiceField: attrgetter("value"),
}


def field_writer(field: serializers.Field) -> Callable[[Any], Any]:
    """How a field writes a detail's value that is not None."""
    return plain.field_writer(field, builtins=TYPED_BUILTINS)


@cache
def _plan(serializer_class: type[DetailSerializer]) -> tuple[tuple[str, Callable[[Any], Any], Any], ...]:
    """Each declared field's name, its writer, and what it writes for None (null unless the field says)."""
    return tuple(
        (name, field_writer(field), getattr(field, "represent_none", None))
        for name, field in serializer_class().fields.items()
    )


# ---------------------------------------------------------------------------------------------------------
# One serializer per detail: the field names and order the API has always given, additions last.

NAMES_ADDED = "Added in 1.1 so that `detail` holds everything `summary` says."


class OrderDetailSerializer(DetailSerializer):
    detail_type = details.OrderDetail

    coi = serializers.CharField()
    product = serializers.CharField(help_text="The product's code.")
    status = _choice(CoiStatus, help_text="The chain's status now.")
    product_name = _name(NAMES_ADDED)
    ordered_by = _name(NAMES_ADDED)


class CollectionDetailSerializer(DetailSerializer):
    detail_type = details.CollectionDetail

    din = serializers.CharField(help_text="ISBT 128 DIN with its flag and check characters.")
    coi = serializers.CharField()
    facility = serializers.CharField(help_text="The facility's code.")
    method = _choice(CollectionMethod)
    volume_ml = serializers.FloatField()
    total_nucleated_cells = serializers.IntegerField(allow_null=True)
    cd3_cells = serializers.IntegerField(allow_null=True)
    facility_name = _name(NAMES_ADDED)


class BatchDetailSerializer(DetailSerializer):
    detail_type: ClassVar[type[details.Detail]] = details.BatchDetail

    lot_number = serializers.CharField()
    facility = serializers.CharField(help_text="The manufacturing facility's code.")
    status = _choice(BatchStatus, help_text="The batch's status now.")
    facility_name = _name(NAMES_ADDED)


class BatchReleaseDetailSerializer(BatchDetailSerializer):
    detail_type = details.BatchReleaseDetail

    disposition = _choice(BatchStatus, help_text="`released`.")
    signed_by = serializers.CharField()
    statement = serializers.CharField(help_text=f"The signer's own words. {NAMES_ADDED}")


class BatchRejectionDetailSerializer(BatchDetailSerializer):
    detail_type = details.BatchRejectionDetail

    disposition = _choice(BatchStatus, help_text="`rejected`.")
    signed_by = serializers.CharField()
    reason = serializers.CharField()


class ProcessingStepDetailSerializer(DetailSerializer):
    detail_type = details.ProcessingStepDetail

    lot_number = serializers.CharField()
    step = _choice(StepKind)
    ended_at = InstantField(allow_null=True)
    parameters = serializers.JSONField()


class QCResultDetailSerializer(DetailSerializer):
    detail_type = details.QCResultDetail

    lot_number = serializers.CharField()
    test = serializers.CharField(help_text="The release specification's test code.")
    value = QCValueField()
    unit = serializers.CharField()
    passed = serializers.BooleanField()
    invalidated = serializers.BooleanField()
    invalidated_at = InstantField(allow_null=True)
    invalidated_by = serializers.CharField()
    invalidation_reason = serializers.CharField()
    test_name = _name(f"The specification's name for the test. {NAMES_ADDED}")


class QCInvalidationDetailSerializer(QCResultDetailSerializer):
    detail_type = details.QCInvalidationDetail


class HoldDetailSerializer(DetailSerializer):
    detail_type = details.HoldDetail

    hold = serializers.IntegerField(help_text="The hold's id.")
    unit = serializers.CharField(allow_null=True, help_text="The unit held; null when the whole batch is.")
    lot_number = serializers.CharField()
    hold_kind = _choice(HoldKind)
    status = _choice(HoldStatus, help_text="The hold's status now.")
    reason = serializers.CharField()
    opened_by = serializers.CharField(help_text="A person's name, or `system`.")
    decision = _choice(HoldDecision, allow_null=True)
    rationale = serializers.CharField()
    signed_by = serializers.CharField(allow_null=True)


class HoldDecisionDetailSerializer(HoldDetailSerializer):
    detail_type = details.HoldDecisionDetail


class AllocationDetailSerializer(DetailSerializer):
    detail_type = details.AllocationDetail

    allocation = serializers.IntegerField(help_text="The allocation's id (see `orders/{coi}/allocations/`).")
    unit = serializers.CharField()
    coi = serializers.CharField()
    lot_number = serializers.CharField()
    donor_code = serializers.CharField(allow_null=True, help_text="The donor's code (never the person).")
    hla_matches = serializers.IntegerField(allow_null=True, help_text="0-8 at A, B, C, DRB1; null: untyped.")
    hla_match_min = serializers.IntegerField()
    donor_eligibility = serializers.CharField(help_text="`eligible`, `pending` or `ineligible` when allocated.")
    exception = serializers.CharField(help_text="`urgent_medical_need`, `related_donor`, or empty.")
    label_warnings = serializers.ListField(child=serializers.CharField())
    allocated_by = serializers.CharField()
    released_at = InstantField(allow_null=True)
    release_reason = serializers.CharField()


class AllocationReleaseDetailSerializer(AllocationDetailSerializer):
    detail_type = details.AllocationReleaseDetail


class CustodyDetailSerializer(DetailSerializer):
    detail_type = details.CustodyDetail

    unit = serializers.CharField()
    event = _choice(CustodyEvent)
    seq = serializers.IntegerField()
    facility = serializers.CharField()
    from_facility = serializers.CharField()
    temperature_c = serializers.FloatField(allow_null=True)
    excursion = serializers.BooleanField()
    recorded_by = serializers.CharField()
    note = serializers.CharField()
    facility_name = _name(NAMES_ADDED)
    from_facility_name = _name(NAMES_ADDED)


class ConditioningDetailSerializer(DetailSerializer):
    detail_type = details.ConditioningDetail

    date = serializers.DateField()
    regimen = serializers.CharField()
    drug = serializers.CharField()
    dose = serializers.FloatField()
    dose_unit = serializers.CharField()
    planned_day = serializers.IntegerField(help_text="The day relative to the planned infusion, e.g. -5.")


class BedsideMismatchSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="scanned_unit, scanned_patient or scanned_birth_date")
    expected = serializers.CharField(help_text="The order's own value (never another patient's).")
    scanned = serializers.CharField()
    reason = serializers.CharField()


class BedsideUnitProblemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The error code the administration would answer, e.g. unit_on_hold.")
    detail = serializers.CharField()


class BedsideCheckDetailSerializer(DetailSerializer):
    detail_type = details.BedsideCheckDetail

    coi = serializers.CharField()
    unit = serializers.CharField(allow_null=True, help_text="The order's bag the scan named; null if none.")
    match = serializers.BooleanField()
    mismatches = serializers.ListField(child=BedsideMismatchSerializer())
    unit_problems = serializers.ListField(child=BedsideUnitProblemSerializer())
    checked_by = serializers.CharField()


class AdministrationDetailSerializer(DetailSerializer):
    detail_type = details.AdministrationDetail

    unit = serializers.CharField()
    coi = serializers.CharField()
    route = _choice(Route)
    dose_cells = serializers.IntegerField()
    dose_cells_per_kg = serializers.IntegerField(allow_null=True)
    weight_kg = serializers.FloatField(allow_null=True)
    verified_by = serializers.CharField(allow_null=True, help_text="The second person who signed the bedside check.")
    voided_at = InstantField(allow_null=True)
    void_reason = serializers.CharField()
    administered_by = _name(NAMES_ADDED)


class AssessmentDetailSerializer(DetailSerializer):
    detail_type = details.AssessmentDetail

    crs_grade = serializers.IntegerField()
    icans_grade = serializers.IntegerField()
    temperature_c = serializers.FloatField(allow_null=True)
    hypotension = _choice(Hypotension)
    hypoxia = _choice(Hypoxia)
    fever_masked = serializers.BooleanField()
    ice_score = serializers.IntegerField(allow_null=True)
    capd_score = serializers.IntegerField(allow_null=True)
    capd_unable = serializers.BooleanField()
    consciousness = _choice(Consciousness)
    seizure = _choice(Seizure)
    motor_weakness = serializers.BooleanField()
    cerebral_edema = _choice(CerebralEdema)
    heart_rate = serializers.IntegerField(allow_null=True)
    systolic_bp = serializers.IntegerField(allow_null=True)
    diastolic_bp = serializers.IntegerField(allow_null=True)
    respiratory_rate = serializers.IntegerField(allow_null=True)
    spo2 = serializers.IntegerField(allow_null=True)
    oxygen_l_min = serializers.FloatField(allow_null=True)
    crp_mg_l = serializers.FloatField(allow_null=True)
    ferritin_ng_ml = serializers.FloatField(allow_null=True)
    il6_pg_ml = serializers.FloatField(allow_null=True)
    assessed_by = serializers.CharField()
    note = serializers.CharField()


class InterventionDetailSerializer(DetailSerializer):
    detail_type = details.InterventionDetail

    intervention = _choice(InterventionKind)
    drug = serializers.CharField()
    dose = serializers.FloatField(allow_null=True)
    dose_unit = serializers.CharField()
    route = serializers.CharField()
    indication = _choice(Indication)
    given_by = serializers.CharField()
    note = serializers.CharField()


class AdverseEventDetailSerializer(DetailSerializer):
    detail_type = details.AdverseEventDetail

    term = _choice(AdverseEventTerm)
    term_text = serializers.CharField()
    meddra_code = serializers.CharField()
    grade = serializers.IntegerField()
    grading_system = _choice(GradingSystem)
    serious = serializers.BooleanField()
    expected = serializers.BooleanField()
    relatedness = _choice(Relatedness)
    outcome = _choice(Outcome)
    aware_at = InstantField()
    resolved_at = InstantField(allow_null=True)
    report_due_at = InstantField(allow_null=True)
    report_submitted_at = InstantField(allow_null=True)
    description = serializers.CharField()
    suspected = serializers.BooleanField(
        help_text="A reasonable possibility that the product caused it (21 CFR 312.32(a)). Added in 1.1."
    )
    regulatory_status = _choice(
        RegulatoryStatus, help_text="The course's status the report clock follows (kept with the event). Added in 1.1."
    )
    ind_number = serializers.CharField(help_text="IND or CTA number in a clinical investigation. Added in 1.1.")
    trial_protocol = serializers.CharField(help_text="The trial's protocol number. Added in 1.1.")
    report_rule = serializers.CharField(help_text="The reporting rule `report_due_at` follows. Added in 1.1.")
    sponsor_notified_at = InstantField(
        allow_null=True, help_text="When the sponsor was told (21 CFR 312.64(b)); null: not yet. Added in 1.1."
    )


class ReminderDetailSerializer(DetailSerializer):
    detail_type = details.ReminderDetail

    reminder_kind = _choice(ReminderKind)
    severity = _choice(Severity)
    status = _choice(ReminderStatus)
    message = serializers.CharField()
    escalated_at = InstantField(allow_null=True)
    acknowledged_at = InstantField(allow_null=True)
    acknowledged_by = serializers.CharField()
    resolved_at = InstantField(allow_null=True)
    resolution = serializers.CharField()


class FollowUpDetailSerializer(DetailSerializer):
    detail_type = details.FollowUpDetail

    date = serializers.DateField()
    disease_response = BlankChoiceField(choices=DiseaseResponse.choices, help_text='`""` when not assessed.')
    survival_status = _choice(SurvivalStatus)
    death_date = serializers.DateField(allow_null=True)
    new_malignancy = serializers.BooleanField()
    car_testing_requested = serializers.BooleanField()
    rcv_result = _choice(RcvResult)
    wellbeing_score = serializers.IntegerField(allow_null=True)
    patient_reported = serializers.CharField()
    note = serializers.CharField()


class GvhdDetailSerializer(DetailSerializer):
    detail_type = details.GvhdDetail

    date = serializers.DateField()
    grade = serializers.IntegerField(help_text="Acute GVHD overall grade, MAGIC (Harris et al. 2016): 0-4 for 0-IV.")
    skin_stage = serializers.IntegerField()
    liver_stage = serializers.IntegerField()
    upper_gi_stage = serializers.IntegerField()
    lower_gi_stage = serializers.IntegerField()
    response = _choice(
        GvhdResponse, allow_null=True, help_text="The response at a time point the protocol names; null otherwise."
    )
    response_day = serializers.IntegerField(allow_null=True, help_text="Days since the course's first infusion.")
    skin_rash_bsa_pct = serializers.IntegerField(help_text="Active rash, % body surface area.")
    skin_bullae = serializers.BooleanField()
    bilirubin_mg_dl = serializers.FloatField()
    upper_gi_persistent = serializers.BooleanField()
    stool_ml_per_day = serializers.IntegerField(allow_null=True)
    stool_episodes_per_day = serializers.IntegerField(allow_null=True)
    lower_gi_severe = serializers.BooleanField()


DETAIL_SERIALIZERS: dict[type[details.Detail], type[DetailSerializer]] = {
    serializer.detail_type: serializer
    for serializer in (
        OrderDetailSerializer,
        CollectionDetailSerializer,
        BatchDetailSerializer,
        BatchReleaseDetailSerializer,
        BatchRejectionDetailSerializer,
        ProcessingStepDetailSerializer,
        QCResultDetailSerializer,
        QCInvalidationDetailSerializer,
        HoldDetailSerializer,
        HoldDecisionDetailSerializer,
        AllocationDetailSerializer,
        AllocationReleaseDetailSerializer,
        CustodyDetailSerializer,
        ConditioningDetailSerializer,
        BedsideCheckDetailSerializer,
        AdministrationDetailSerializer,
        AssessmentDetailSerializer,
        InterventionDetailSerializer,
        AdverseEventDetailSerializer,
        ReminderDetailSerializer,
        FollowUpDetailSerializer,
        GvhdDetailSerializer,
    )
}
# One instance of each, reused for every event of its kind.
_DETAIL_WRITERS = {detail_type: serializer() for detail_type, serializer in DETAIL_SERIALIZERS.items()}


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="TimelineEventDetail",
        # Several details share a kind (a QC result and its invalidation): `kind` is no discriminator here.
        serializers=list(dict.fromkeys(DETAIL_SERIALIZERS.values())),
        resource_type_field_name=None,
    )
)
class TimelineDetailField(serializers.Field):
    """The record's fields (raw measurements, units, signatures...); their set depends on the event."""

    def to_representation(self, value: details.Detail) -> dict[str, Any]:
        return _DETAIL_WRITERS[type(value)].to_representation(value)


# ---------------------------------------------------------------------------------------------------------
# The event and the whole story.


class TimelineEventListSerializer(serializers.ListSerializer):
    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        zone = timezone.get_current_timezone()
        return [self.child.write(event, zone) for event in data]  # type: ignore[union-attr]


class TimelineEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="When it happened (or is due, for a reminder).")
    date_only = serializers.BooleanField(help_text="A dated record (conditioning, follow-up visit): `at` is noon UTC.")
    day = serializers.IntegerField(
        allow_null=True, help_text="Calendar day relative to the infusion (day 0); null before any infusion."
    )
    kind = serializers.ChoiceField(choices=TimelineKind.choices)
    summary = serializers.CharField()
    level = serializers.ChoiceField(
        choices=Level.choices,
        help_text="How much the event asks for attention (e.g. a CRS/ICANS grade >= 2 is `alert`).",
    )
    record_type = serializers.CharField(help_text="The kind of record it comes from, e.g. `assessment`.")
    record_id = serializers.IntegerField(help_text="That record's id.")
    record = serializers.CharField(help_text="`record_type:record_id`, e.g. `assessment:12`.")
    detail = TimelineDetailField()

    class Meta:
        list_serializer_class = TimelineEventListSerializer

    def to_representation(self, instance: TimelineEvent) -> dict[str, Any]:
        return self.write(instance, timezone.get_current_timezone())

    @staticmethod
    def write(event: TimelineEvent, zone: tzinfo) -> dict[str, Any]:
        # Thousands of events: a plain dict per event, each value written as its field would write it.
        return {
            "at": plain.instant(event.at, zone),
            "date_only": event.date_only,
            "day": event.day,
            "kind": event.kind.value,
            "summary": event.summary,
            "level": event.level.value,
            "record_type": event.record_type,
            "record_id": event.record_id,
            "record": event.record,
            "detail": _DETAIL_WRITERS[type(event.detail)].to_representation(event.detail),
        }


class TimelineFiltersSerializer(serializers.Serializer):
    kind = serializers.ListField(child=serializers.CharField(), help_text="The kinds of event included.")
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)


class TimelineSerializer(serializers.Serializer):
    patient = PatientSerializer()
    infused_at = serializers.DateTimeField(
        allow_null=True, help_text="The first administration that was not voided (day 0)."
    )
    day_zero = serializers.DateField(allow_null=True, help_text="The calendar date of day 0.")
    filters = serializers.SerializerMethodField()
    count = serializers.SerializerMethodField()
    events = TimelineEventSerializer(many=True, help_text="In time order.")

    @extend_schema_field(TimelineFiltersSerializer)
    def get_filters(self, timeline: Timeline) -> dict[str, Any]:
        return TimelineFiltersSerializer(
            {"kind": [kind.value for kind in timeline.kinds], "since": timeline.since, "until": timeline.until}
        ).data

    def get_count(self, timeline: Timeline) -> int:
        return len(timeline.events)
