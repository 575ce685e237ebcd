"""Bedside, clinical records, monitoring checks and reminders: input serializers check shapes (400s), output
serializers render what the services wrote. The rules (409s) stay in tracker.services."""

from decimal import Decimal
from typing import Any

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from products.api.plain import PlainListSerializer
from products.api.serializers.batches import SignatureSerializer
from products.api.serializers.fields import (
    PASSWORD_MAX_LENGTH,
    BoundedDateField,
    BoundedDateTimeField,
    DecimalShape,
    OptionalText,
    OptionalValue,
    ScopedPrimaryKeyRelatedField,
    ScopedSlugRelatedField,
    free_text,
)
from products.models import Facility, Unit
from products.selectors import units_visible_to
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
    Route,
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
from tracker.rules.ranges import TEMPERATURE_C, VITALS, WELLBEING_SCORE, Range
from tracker.selectors import orders_visible_to, patients_visible_to

OPTIONAL: OptionalValue = {"required": False, "allow_null": True, "default": None}
TEXT: OptionalText = {"required": False, "allow_blank": True, "default": ""}


class AnsweredBooleanField(serializers.BooleanField):
    """A yes or no that must be given: absent is a 400, in JSON and in form posts alike (DRF reads an absent
    checkbox in a form post as false, which would answer the question for the user)."""

    default_empty_html = empty


def in_range(bounds: Range, help_text: str, **kwargs: Any) -> serializers.Field:
    """A number field bounded by a rule's range (tracker.rules), with the rule's own message."""
    low, high = bounds.low, bounds.high
    # Any: the stubs want str-or-lazy-str values, a type only a development package (django-stubs-ext) names.
    messages: dict[str, Any] = {"min_value": bounds.message, "max_value": bounds.message}
    if isinstance(low, Decimal) or isinstance(high, Decimal):
        return NumberField(
            max_digits=kwargs.pop("max_digits", 4),
            decimal_places=kwargs.pop("decimal_places", 1),
            min_value=low,
            max_value=high,
            help_text=help_text,
            error_messages=messages,
            **kwargs,
        )
    return serializers.IntegerField(
        min_value=low, max_value=high, help_text=help_text, error_messages=messages, **kwargs
    )


def patient_field(**kwargs: Any) -> ScopedPrimaryKeyRelatedField:
    """A patient by id, among the patients of the caller's facilities (others "do not exist")."""
    return ScopedPrimaryKeyRelatedField(
        queryset=Patient.objects.all(), scope=patients_visible_to, help_text="The patient's id.", **kwargs
    )


@extend_schema_field(OpenApiTypes.STR)
class OrderByCoiField(ScopedSlugRelatedField):
    """A therapy order by its COI, among the orders of the caller's facilities' patients."""

    default_error_messages = {"does_not_exist": "Order with COI {value} does not exist."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "The order's chain of identity (COI).")
        super().__init__(
            slug_field="chain__coi", queryset=TherapyOrder.objects.all(), scope=orders_visible_to, **kwargs
        )


class UnitByIdField(ScopedSlugRelatedField):
    """A unit by its unit id, among the units the caller may see."""

    default_error_messages = {"does_not_exist": "Unit {value} does not exist."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="unit_id", queryset=Unit.objects.all(), scope=units_visible_to, **kwargs)


class NumberField(serializers.DecimalField):
    """A decimal rendered as a JSON number (measurements, doses), not as a string."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)


class RecordSerializer(serializers.ModelSerializer):
    # Output of a record: decimals as JSON numbers, users by username; subclasses make every field read-only.

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: NumberField,
    }
    serializer_related_field = serializers.PrimaryKeyRelatedField


def username(help_text: str, **kwargs: Any) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="username", read_only=True, help_text=help_text, **kwargs)


# Administrations -------------------------------------------------------------------------------------------


class AdministrationSerializer(RecordSerializer):
    """An administration of one unit to its patient, verified at the bedside."""

    coi = serializers.CharField(source="order.chain.coi", read_only=True)
    unit = serializers.CharField(source="unit.unit_id", read_only=True)
    administered_by = username("Who administered it (username).")
    verified_by = SignatureSerializer(
        source="verification_signature",
        read_only=True,
        allow_null=True,
        help_text="The second person's electronic signature on the bedside check (21 CFR 11.50), if any.",
    )
    voided_by = username("Who voided it as entered in error.", allow_null=True)
    weight_kg = NumberField(
        max_digits=5,
        decimal_places=1,
        read_only=True,
        allow_null=True,
        help_text="The patient's weight on the infusion day: the latest weight measured on or before it.",
    )
    dose_cells_per_kg = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="This unit's dose per kg of the infusion day's weight."
    )
    course_units = serializers.IntegerField(
        read_only=True, help_text="Units given (not voided) under this order: one course, one monitoring schedule."
    )
    course_dose_cells = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Cells given over the course: every unit of the order not voided."
    )
    course_dose_cells_per_kg = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The course's dose per kg: each unit's dose per kg, summed; null when a unit had no weight.",
    )

    class Meta:
        model = Administration
        fields = [
            "id",
            "coi",
            "patient",
            "unit",
            "administered_at",
            "route",
            "scanned_unit",
            "scanned_patient",
            "scanned_birth_date",
            "dose_cells",
            "weight_kg",
            "dose_cells_per_kg",
            "course_units",
            "course_dose_cells",
            "course_dose_cells_per_kg",
            "administered_by",
            "verified_by",
            "premedication",
            "infusion_reaction",
            "note",
            "voided_at",
            "voided_by",
            "void_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AdministrationInputSerializer(serializers.Serializer):
    coi = OrderByCoiField()
    unit = UnitByIdField(help_text="The unit id of the bag given.")
    administered_at = BoundedDateTimeField()
    route = serializers.ChoiceField(choices=Route.choices)
    scanned_unit = serializers.CharField(
        max_length=128,
        help_text="As read from the bag's label: its unit id, its 2-D code, or its DIN (with or without the ISBT 128 "
        "data identifier `=` and flags; typed with its check character). See `bedside-checks/`.",
    )
    scanned_patient = serializers.CharField(max_length=64, help_text="The MRN as read from the wristband.")
    scanned_birth_date = BoundedDateField(
        help_text="The birth date as read from the wristband (YYYY-MM-DD): the second patient identifier.",
        error_messages={"required": "Scan or type the birth date on the wristband (the second identifier)."},
    )
    verifier_username = serializers.CharField(
        max_length=150,
        help_text="The second person who checks the bag and the wristband: another active clinician or coordinator "
        "of the patient's facility.",
        error_messages={
            "required": "A second person checks every administration: give their username.",
            "blank": "A second person checks every administration: give their username.",
        },
    )
    verifier_password = serializers.CharField(
        write_only=True,
        max_length=PASSWORD_MAX_LENGTH,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="The verifier's own password, re-entered (21 CFR 11.200). Tried only after every other check.",
        error_messages={
            "required": "The second person signs with their own password.",
            "blank": "The second person signs with their own password.",
        },
    )
    premedication = free_text(**TEXT)
    infusion_reaction = free_text(**TEXT)
    note = free_text(**TEXT)


class VoidInputSerializer(serializers.Serializer):
    reason = free_text(help_text="Why the administration is voided as entered in error.")


class CorrectTimeInputSerializer(serializers.Serializer):
    administered_at = BoundedDateTimeField(help_text="The corrected administration time.")
    reason = free_text(help_text="Why the time is corrected (21 CFR 11.10(e)).")


# Assessments -----------------------------------------------------------------------------------------------

LABS = ("crp_mg_l", "ferritin_ng_ml", "il6_pg_ml")


class AssessmentSerializer(RecordSerializer):
    """A toxicity assessment: the raw measurements and the CRS and ICANS grades computed from them."""

    assessed_by = username("Who assessed the patient.")

    class Meta:
        model = Assessment
        fields = [
            "id",
            "patient",
            "assessed_at",
            "temperature_c",
            "hypotension",
            "hypoxia",
            "fever_masked",
            "ice_score",
            "ice_items",
            "capd_score",
            "capd_unable",
            "consciousness",
            "seizure",
            "motor_weakness",
            "cerebral_edema",
            *VITALS,
            *LABS,
            "crs_grade",
            "icans_grade",
            "note",
            "assessed_by",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "crs_grade": {"help_text": "ASTCT 2019 CRS grade (0-4), computed from the measurements."},
            "icans_grade": {"help_text": "ASTCT 2019 ICANS grade (0-4), computed from the measurements."},
        }


def _lab(digits: int, help_text: str) -> NumberField:
    return NumberField(max_digits=digits, decimal_places=1, min_value=Decimal(0), help_text=help_text, **OPTIONAL)


class AssessmentInputSerializer(serializers.Serializer):
    """The raw measurements; the grades are computed from them. Ranges refuse what no patient can measure."""

    patient = patient_field()
    assessed_at = BoundedDateTimeField()
    temperature_c = in_range(TEMPERATURE_C, "Body temperature in degrees Celsius.", **OPTIONAL)
    hypotension = serializers.ChoiceField(choices=Hypotension.choices, default=Hypotension.NONE)
    hypoxia = serializers.ChoiceField(choices=Hypoxia.choices, default=Hypoxia.NONE)
    fever_masked = serializers.BooleanField(
        default=False,
        help_text="Antipyretic or anti-cytokine therapy given after CRS onset. Accepted only after CRS has been graded "
        "(an earlier assessment with fever) or after an antipyretic or anti-cytokine intervention recorded before "
        "this assessment; otherwise a 400 on `fever_masked`.",
    )
    ice_score = in_range(grading.ICE_SCORE, "ICE score 0-10 (patients 12 and over); null if not done.", **OPTIONAL)
    ice_items = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=max(grading.ICE_ITEMS.values())),
        help_text=f"ICE items and their points ({', '.join(f'{k} 0-{v}' for k, v in grading.ICE_ITEMS.items())}): "
        "all five or none (a partial set is a 400); they give the ICE score.",
        **OPTIONAL,
    )
    capd_score = in_range(
        grading.CAPD_SCORE,
        "Children under 12 on the assessment date: Cornell Assessment of Pediatric Delirium, 0-32 (ASTCT 2019 "
        "grades their ICANS with it instead of the ICE score; an ICE score for them, or a CAPD for anyone older, "
        "is a 400).",
        **OPTIONAL,
    )
    capd_unable = serializers.BooleanField(
        default=False, help_text="Children under 12: the CAPD could not be performed (ICANS grade 4)."
    )
    consciousness = serializers.ChoiceField(choices=Consciousness.choices, default=Consciousness.ALERT)
    seizure = serializers.ChoiceField(choices=Seizure.choices, default=Seizure.NONE)
    motor_weakness = serializers.BooleanField(
        default=False, help_text="Deep focal motor weakness (hemiparesis or paraparesis)."
    )
    cerebral_edema = serializers.ChoiceField(choices=CerebralEdema.choices, default=CerebralEdema.NONE)
    heart_rate = in_range(VITALS["heart_rate"], "Beats per minute.", **OPTIONAL)
    systolic_bp = in_range(VITALS["systolic_bp"], "mmHg.", **OPTIONAL)
    diastolic_bp = in_range(VITALS["diastolic_bp"], "mmHg.", **OPTIONAL)
    respiratory_rate = in_range(VITALS["respiratory_rate"], "Breaths per minute.", **OPTIONAL)
    spo2 = in_range(VITALS["spo2"], "Oxygen saturation, %.", **OPTIONAL)
    oxygen_l_min = in_range(VITALS["oxygen_l_min"], "Supplemental oxygen, L/min.", **OPTIONAL)
    crp_mg_l = _lab(7, "C-reactive protein, mg/L.")
    ferritin_ng_ml = _lab(9, "Ferritin, ng/mL.")
    il6_pg_ml = _lab(9, "Interleukin-6, pg/mL.")
    note = free_text(**TEXT)


# Interventions and conditioning ----------------------------------------------------------------------------


class InterventionSerializer(RecordSerializer):
    """A treatment of toxicity (tocilizumab, corticosteroids...)."""

    given_by = username("Who recorded it as given.")

    class Meta:
        model = Intervention
        fields = [
            "id",
            "patient",
            "given_at",
            "kind",
            "drug",
            "dose",
            "dose_unit",
            "route",
            "indication",
            "note",
            "given_by",
            "created_at",
        ]
        read_only_fields = fields


class DoseShape(DecimalShape):
    min_value: Decimal


DOSE: DoseShape = {"max_digits": 10, "decimal_places": 2, "min_value": Decimal("0.01")}


class InterventionInputSerializer(serializers.Serializer):
    patient = patient_field()
    given_at = BoundedDateTimeField()
    kind = serializers.ChoiceField(choices=InterventionKind.choices)
    drug = serializers.CharField(max_length=100, help_text="e.g. tocilizumab, dexamethasone")
    dose = NumberField(**DOSE, **OPTIONAL)
    dose_unit = serializers.CharField(max_length=20, help_text="e.g. mg/kg, mg", **TEXT)
    route = serializers.CharField(max_length=20, help_text="e.g. IV, PO", **TEXT)
    indication = serializers.ChoiceField(choices=Indication.choices, default=Indication.CRS)
    note = free_text(**TEXT)


class ConditioningSerializer(RecordSerializer):
    """One drug of the lymphodepleting regimen before infusion."""

    coi = serializers.CharField(source="order.chain.coi", read_only=True)
    patient = serializers.IntegerField(source="order.patient_id", read_only=True)
    recorded_by = username("Who recorded it.")

    class Meta:
        model = Conditioning
        fields = [
            "id",
            "coi",
            "patient",
            "regimen",
            "drug",
            "dose",
            "dose_unit",
            "given_on",
            "day_relative",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields


class ConditioningInputSerializer(serializers.Serializer):
    coi = OrderByCoiField()
    regimen = serializers.CharField(max_length=100, help_text="e.g. Flu/Cy")
    drug = serializers.CharField(max_length=100)
    dose = NumberField(**DOSE)
    dose_unit = serializers.CharField(max_length=20, default="mg/m2")
    given_on = BoundedDateField()
    day_relative = serializers.IntegerField(
        min_value=-365, max_value=365, help_text="Day relative to the planned infusion (day 0), e.g. -5."
    )


# Adverse events --------------------------------------------------------------------------------------------


class AdverseEventSerializer(RecordSerializer):
    """An adverse event with its grade, seriousness, expectedness and expedited-report clock."""

    recorded_by = username("Who recorded it.")
    aware_at_changed_by = username("Who last moved the awareness time after the deadline was set.", allow_null=True)
    coi = serializers.CharField(
        source="order.chain.coi",
        read_only=True,
        allow_null=True,
        help_text="The course (order) the event is reported under; null when the patient has no order.",
    )

    class Meta:
        model = AdverseEvent
        fields = [
            "id",
            "patient",
            "coi",
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
            "suspected",
            "description",
            "regulatory_status",
            "ind_number",
            "trial_protocol",
            "report_due_at",
            "report_rule",
            "report_submitted_at",
            "sponsor_notified_at",
            "aware_at_changed_at",
            "aware_at_changed_by",
            "aware_at_change_reason",
            "recorded_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "report_due_at": {
                "help_text": "When the expedited report is due; null when none is. Licensed: serious and unexpected, "
                "15 days (21 CFR 600.80(c)(1)(i)). Investigational: serious, unexpected and suspected, 15 days "
                "(312.32(c)(1)); and fatal or life-threatening (grade 4 or 5, or fatal), 7 days (312.32(c)(2))."
            },
            "report_rule": {
                "help_text": "The reporting rule that applied, its citation first, e.g. `21 CFR 600.80(c)(1)(i): ...`, "
                "`21 CFR 312.32(c)(1)(i): ...`, `21 CFR 312.32(c)(2): ...`."
            },
            "regulatory_status": {
                "help_text": "The status the report clock follows: the course's trial, else its product's, when the "
                "event was recorded."
            },
            "ind_number": {"help_text": "The IND or CTA the event is reported under (investigational only)."},
            "trial_protocol": {"help_text": "The trial protocol the event is reported under, if any."},
            "suspected": {
                "help_text": "A reasonable possibility that the product caused it (21 CFR 312.32(a)); agrees with "
                "`relatedness` (possible, probable or definite)."
            },
            "sponsor_notified_at": {
                "help_text": "When the investigator told the sponsor (21 CFR 312.64(b)); see "
                "`adverse-events/{id}/sponsor-notified/`."
            },
            "serious": {"help_text": "Serious (ICH E2A); always true for grade 4 or 5 or a fatal outcome."},
            "aware_at_changed_at": {"help_text": "When the awareness time last moved after the deadline was set."},
            "aware_at_change_reason": {"help_text": "Why it moved (required then; also in the audit trail)."},
        }


class AdverseEventChangeSerializer(serializers.Serializer):
    """What PATCH may change: every field given is set, and the report clock is computed again."""

    term = serializers.ChoiceField(choices=AdverseEventTerm.choices)
    term_text = serializers.CharField(max_length=200, help_text="Verbatim term.", **TEXT)
    meddra_code = serializers.RegexField(
        r"^\d{8}$",
        max_length=8,
        help_text="MedDRA code (8 digits).",
        error_messages={"invalid": "8 digits."},
        **TEXT,
    )
    grade = in_range(
        ae_rules.GRADE, "CTCAE v5, or ASTCT 2019 for CRS/ICANS. Grade 4 or 5 makes the event serious; 5 makes it fatal."
    )
    grading_system = serializers.ChoiceField(choices=GradingSystem.choices, default=GradingSystem.CTCAE)
    onset_at = BoundedDateTimeField()
    aware_at = BoundedDateTimeField(help_text="When the site became aware: the report clock starts here.")
    resolved_at = BoundedDateTimeField(**OPTIONAL)
    outcome = serializers.ChoiceField(choices=Outcome.choices, default=Outcome.ONGOING)
    serious = serializers.BooleanField(
        help_text="Serious (death, life-threatening, hospitalisation...). Grade 4 or 5 or a fatal outcome makes the "
        "event serious whatever this says (ICH E2A)."
    )
    expected = AnsweredBooleanField(
        help_text="Listed in the product's label (reference safety information). Required: no default, since it "
        "decides the report deadline.",
        error_messages={"required": "Say whether the product's label lists this event (true or false)."},
    )
    relatedness = serializers.ChoiceField(choices=Relatedness.choices, default=Relatedness.POSSIBLE)
    suspected = serializers.BooleanField(
        required=False,
        help_text="A reasonable possibility that the product caused the event (21 CFR 312.32(a)). Optional: derived "
        "from `relatedness` (possible, probable, definite: true; unlikely, unrelated: false); given, it must agree "
        "with it (400 on `suspected`). In a trial it decides the IND safety report (312.32(c)).",
    )
    description = free_text(**TEXT)

    # Optional in the type because a subclass removes the field (DRF's way: the subclass sets it to None).
    aware_at_reason: serializers.CharField | None = free_text(
        write_only=True,
        help_text="PATCH only: why `aware_at` moves. Required once a report deadline is set (400 without it); once "
        "the report is submitted `aware_at` no longer moves (409 `illegal_transition`).",
        **TEXT,
    )


class AdverseEventInputSerializer(AdverseEventChangeSerializer):
    patient = patient_field()
    coi = OrderByCoiField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The course (order, by COI) the event is reported under: its trial, else its product's status, "
        "decides the report clock. Default: the order of the patient's last infusion at or before the onset, else "
        "the patient's last order. An order of another patient is a 400.",
    )
    aware_at_reason = None  # a new event has no clock to move


class SponsorNotifiedInputSerializer(serializers.Serializer):
    sponsor_notified_at = BoundedDateTimeField(
        help_text="When the sponsor was told (21 CFR 312.64(b)); default: now. Not before awareness, not in the "
        "future.",
        **OPTIONAL,
    )


class ReportSubmittedInputSerializer(serializers.Serializer):
    report_submitted_at = BoundedDateTimeField(
        help_text="When the report was submitted to the regulator; default: now.", **OPTIONAL
    )


# Follow-up visits ------------------------------------------------------------------------------------------


GVHD_COMPUTED = (
    "gvhd_skin_stage",
    "gvhd_liver_stage",
    "gvhd_upper_gi_stage",
    "gvhd_lower_gi_stage",
    "gvhd_grade",
    "gvhd_response",
    "gvhd_response_day",
    "gvhd_baseline",
)


class FollowUpVisitSerializer(RecordSerializer):
    """A follow-up visit: response, survival, new malignancies, RCV test, patient-reported outcomes, acute GVHD."""

    recorded_by = username("Who recorded it.")
    disease_response = serializers.ChoiceField(
        choices=DiseaseResponse.choices, allow_blank=True, read_only=True, help_text="Empty when not assessed."
    )
    gvhd_response = serializers.ChoiceField(
        choices=GvhdResponse.choices,
        allow_blank=True,
        read_only=True,
        help_text="Acute GVHD response at a time point the protocol names (its `gvhd_response` checks, e.g. day 28), "
        "against the baseline staging (Martin et al., BBMT 2009): `cr`, `vgpr`, `pr`, `mixed`, `nr`, "
        '`progression`, or `not_evaluable` (no active GVHD staged on or before the first infusion); `""` on other '
        "visits.",
    )

    class Meta:
        model = FollowUpVisit
        fields = [
            "id",
            "patient",
            "visit_date",
            "disease_response",
            "survival_status",
            "death_date",
            "cause_of_death",
            "new_malignancy",
            "malignancy_description",
            "car_testing_requested",
            "rcv_result",
            "wellbeing_score",
            "patient_reported",
            *gvhd_rules.FINDING_FIELDS,
            *GVHD_COMPUTED,
            "note",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "gvhd_skin_stage": {"help_text": "MAGIC skin stage (0-4), computed; null when GVHD was not staged."},
            "gvhd_liver_stage": {"help_text": "MAGIC liver stage (0-4), computed."},
            "gvhd_upper_gi_stage": {"help_text": "MAGIC upper GI stage (0-1), computed."},
            "gvhd_lower_gi_stage": {"help_text": "MAGIC lower GI stage (0-4), computed."},
            "gvhd_grade": {
                "help_text": "Acute GVHD overall grade by the MAGIC criteria (Harris et al., BBMT 2016), 0-4 for "
                "0-IV, computed from the organ stages; null when GVHD was not staged."
            },
            "gvhd_response_day": {"help_text": "Days from the course's first infusion to this visit, with a response."},
            "gvhd_baseline": {"help_text": "The visit whose staging the response is judged against."},
        }


class FollowUpVisitInputSerializer(serializers.Serializer):
    patient = patient_field()
    visit_date = BoundedDateField()
    disease_response = serializers.ChoiceField(choices=DiseaseResponse.choices, **TEXT)
    survival_status = serializers.ChoiceField(choices=SurvivalStatus.choices, default=SurvivalStatus.ALIVE)
    death_date = BoundedDateField(**OPTIONAL)
    cause_of_death = serializers.CharField(max_length=200, **TEXT)
    new_malignancy = serializers.BooleanField(default=False)
    malignancy_description = free_text(**TEXT)
    car_testing_requested = serializers.BooleanField(
        default=False, help_text="Tumour tested for the CAR transgene (FDA boxed warning, 2024)."
    )
    rcv_result = serializers.ChoiceField(choices=RcvResult.choices, default=RcvResult.NOT_DONE)
    wellbeing_score = in_range(WELLBEING_SCORE, "Patient-reported well-being, 0-10.", **OPTIONAL)
    patient_reported = free_text(help_text="Patient-reported outcomes, free text.", **TEXT)
    # Acute GVHD staging (MAGIC, Harris et al. 2016): every organ or none (a partial staging is a 400 naming the
    # missing field). The stages, the grade and, on the days the protocol names, the response are computed.
    gvhd_skin_bsa_pct = in_range(
        gvhd_rules.SKIN_BSA,
        "Acute GVHD, skin: active (erythematous) rash, % body surface area (0 for none). Stages: < 25% 1, 25-50% 2, "
        "> 50% 3.",
        **OPTIONAL,
    )
    gvhd_skin_bullae = serializers.BooleanField(
        default=False,
        help_text="Skin: generalized erythroderma with bullous formation and desquamation > 5% BSA (stage 4, with a "
        "rash over 50%).",
    )
    gvhd_bilirubin_mg_dl = in_range(
        gvhd_rules.BILIRUBIN_MG_DL,
        "Liver: total serum bilirubin, mg/dL. Stages: < 2 0, 2-3 1, 3.1-6 2, 6.1-15 3, > 15 4.",
        max_digits=4,
        decimal_places=1,
        **OPTIONAL,
    )
    gvhd_upper_gi_persistent = serializers.BooleanField(
        default=False, help_text="Upper GI: persistent nausea, vomiting or anorexia (stage 1)."
    )
    gvhd_stool_ml_per_day = in_range(
        gvhd_rules.STOOL_ML_PER_DAY,
        "Lower GI: stool volume, mL/day (3-day average). Adults: < 500 0, 500-999 1, 1000-1500 2, > 1500 3; under "
        "18, per kg of the weight on record (< 10, 10-19.9, 20-30, > 30 mL/kg/day).",
        **OPTIONAL,
    )
    gvhd_stool_episodes_per_day = in_range(
        gvhd_rules.STOOL_EPISODES_PER_DAY,
        "Lower GI: stool episodes a day, when the volume is not measured (adults < 3, 3-4, 5-7, > 7; under 18 < 4, "
        "4-6, 7-10, > 10). With a volume too, the higher stage counts.",
        **OPTIONAL,
    )
    gvhd_lower_gi_severe = serializers.BooleanField(
        default=False,
        help_text="Lower GI: severe abdominal pain with or without ileus, or grossly bloody stool (stage 4, whatever "
        "the volume).",
    )
    note = free_text(**TEXT)


# Monitoring: scheduled checks and reminders ----------------------------------------------------------------


class ScheduledCheckSerializer(RecordSerializer):
    """A check the patient is due, from the product's monitoring protocol or a toxicity escalation."""

    per_infusion = serializers.BooleanField(
        read_only=True,
        help_text="Counted from its own infusion (`administration`; a protocol scheduled from each infusion); "
        "false: from the course's first infusion.",
    )

    class Meta:
        model = ScheduledCheck
        fields = [
            "id",
            "patient",
            "administration",
            "kind",
            "label",
            "sequence",
            "source",
            "per_infusion",
            "due_at",
            "grace_until",
            "severity",
            "status",
            "reminded_at",
            "completed_at",
            "completed_by",
            "created_at",
        ]
        read_only_fields = fields


class ReminderSerializer(RecordSerializer):
    """Something a person must look at: a due or overdue check, a report deadline, a unit or batch at risk."""

    facility = serializers.SlugRelatedField[Facility](slug_field="code", read_only=True)
    check = serializers.IntegerField(
        source="check_item_id", read_only=True, allow_null=True, help_text="The scheduled check it is about, if any."
    )
    acknowledged_by = username("Who acknowledged it.", allow_null=True)
    resolved_by = username("Who resolved it; null when it resolved itself.", allow_null=True)

    class Meta:
        model = Reminder
        list_serializer_class = PlainListSerializer  # a coordinator's page of a hundred reminders: written plainly
        fields = [
            "id",
            "kind",
            "patient",
            "facility",
            "check",
            "due_at",
            "escalate_at",
            "severity",
            "status",
            "message",
            "escalated_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
            "resolution",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"patient": {"help_text": "Null for a product-side reminder (a batch, a unit)."}}


class ResolveInputSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=200, help_text="What was done; default: resolved by hand.", **TEXT)
