"""After the infusion: assessments (graded by the service, never by hand), interventions, follow-up visits and
dated weights. Added through the services, read-only afterwards. Adverse events: tracker.admin.adverse_events."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import BaseFormSet
from django.http import HttpRequest
from django.utils.html import format_html

from products.admin.base import acting_user
from tracker.admin.base import ClinicalAdmin
from tracker.admin.display import grade_badge, gvhd_summary, panel, when
from tracker.admin.filters import facility_filter, grade_filter
from tracker.admin.forms import AssessmentAddForm, FollowUpVisitAddForm, InterventionAddForm, PatientWeightAddForm
from tracker.choices import GvhdResponse
from tracker.models import Assessment, FollowUpVisit, Intervention, PatientWeight
from tracker.rules import gvhd as gvhd_rules
from tracker.rules.grading import URGENT_GRADE
from tracker.rules.ranges import VITALS as VITAL_RANGES
from tracker.selectors import (
    assessments_visible_to,
    follow_ups_visible_to,
    interventions_visible_to,
    weights_visible_to,
)
from tracker.services.clinical import assessment_record, follow_up_record, intervention_record
from tracker.services.orders import patient_weight_record

VITAL_FIELDS = list(VITAL_RANGES)
LABS = ["crp_mg_l", "ferritin_ng_ml", "il6_pg_ml"]


# --- assessments ---------------------------------------------------------------------------------------------


@admin.register(Assessment)
class AssessmentAdmin(ClinicalAdmin):
    list_display = [
        "assessed_at",
        "patient_name",
        "mrn",
        "crs",
        "icans",
        "temperature_c",
        "hypotension",
        "hypoxia",
        "ice_score",
        "consciousness",
        "assessed_by",
    ]
    list_filter = [
        grade_filter("crs_grade", "CRS grade"),
        grade_filter("icans_grade", "ICANS grade"),
        facility_filter("patient__facility"),
        "assessed_at",
    ]
    list_select_related = ["patient", "assessed_by"]
    search_fields = ["patient__mrn", "patient__family_name", "patient__given_name"]
    date_hierarchy = "assessed_at"
    add_form = AssessmentAddForm
    add_fieldsets = [
        (
            None,
            {
                "fields": ["patient", "assessed_at"],
                "description": "Enter what you measured and observed. The CRS and ICANS grades are computed from it "
                "(ASTCT 2019 consensus) and shown once saved: you do not grade.",
            },
        ),
        ("CRS: fever, blood pressure, oxygen", {"fields": ["temperature_c", "fever_masked", "hypotension", "hypoxia"]}),
        (
            "ICANS: ICE score and neurological signs",
            {
                "fields": [
                    "ice_score",
                    "ice_orientation",
                    "ice_naming",
                    "ice_following_commands",
                    "ice_writing",
                    "ice_attention",
                    "capd_score",
                    "capd_unable",
                    "consciousness",
                    "seizure",
                    "motor_weakness",
                    "cerebral_edema",
                ]
            },
        ),
        ("Vital signs (optional)", {"fields": VITAL_FIELDS}),
        ("Labs (optional)", {"fields": LABS}),
        (None, {"fields": ["note"]}),
    ]
    change_fields = (
        "crs",
        "icans",
        "patient_link",
        "assessed_at",
        "temperature_c",
        "fever_masked",
        "hypotension",
        "hypoxia",
        "ice_score",
        "ice_items",
        "capd_score",
        "capd_unable",
        "consciousness",
        "seizure",
        "motor_weakness",
        "cerebral_edema",
        *VITAL_FIELDS,
        *LABS,
        "assessed_by",
        "note",
        "created_at",
    )
    readonly_fields = ["crs", "icans", "patient_link"]
    # A partial set of ICE items is the service's refusal (all five or none): shown at the top of the form.
    refusal_fields = {"ice_items": None}

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return assessments_visible_to(request.user)

    @admin.display(description="CRS grade", ordering="crs_grade")
    def crs(self, obj: Assessment) -> str:
        return grade_badge(obj.crs_grade)

    @admin.display(description="ICANS grade", ordering="icans_grade")
    def icans(self, obj: Assessment) -> str:
        return grade_badge(obj.icans_grade)

    def record_panel(self, request: HttpRequest, obj: Assessment) -> dict[str, Any]:
        urgent = max(obj.crs_grade, obj.icans_grade) >= URGENT_GRADE
        advice = (
            format_html(
                '<p class="m-y4 tone-alert"><strong>Grade {} or more: an urgent reminder was raised and '
                "the patient is assessed every 4 hours until two checks in a row grade below {}.</strong></p>",
                URGENT_GRADE,
                URGENT_GRADE,
            )
            if urgent
            else ""
        )
        return panel(
            format_html(
                '<p class="fs-xl m-b6">CRS grade {} &middot; ICANS grade {}</p>'
                '<p class="m-0">Computed from the measurements below (ASTCT 2019 consensus grading, Lee et al.) '
                "for {} at {}.</p>{}",
                grade_badge(obj.crs_grade),
                grade_badge(obj.icans_grade),
                obj.patient.display_name,
                when(obj.assessed_at),
                advice,
            ),
            alert=urgent,
        )

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> Assessment:
        extra = {name: data.get(name) for name in (*VITAL_FIELDS, *LABS)}
        return assessment_record(
            actor=acting_user(request),
            patient=data["patient"],
            assessed_at=data["assessed_at"],
            temperature_c=data.get("temperature_c"),
            hypotension=data["hypotension"],
            hypoxia=data["hypoxia"],
            fever_masked=data.get("fever_masked", False),
            ice_score=data.get("ice_score"),
            ice_items=data.get("ice_items"),
            capd_score=data.get("capd_score"),
            capd_unable=data.get("capd_unable", False),
            consciousness=data["consciousness"],
            seizure=data["seizure"],
            motor_weakness=data.get("motor_weakness", False),
            cerebral_edema=data["cerebral_edema"],
            note=data.get("note", ""),
            **extra,
        )

    def created_message(self, obj: Assessment) -> str | None:
        message = f"Computed (ASTCT 2019): CRS grade {obj.crs_grade}, ICANS grade {obj.icans_grade}."
        if max(obj.crs_grade, obj.icans_grade) >= URGENT_GRADE:
            message += " An urgent reminder was raised; assess every 4 hours."
        return message


# --- interventions -------------------------------------------------------------------------------------------


@admin.register(Intervention)
class InterventionAdmin(ClinicalAdmin):
    list_display = [
        "given_at",
        "patient_name",
        "mrn",
        "kind",
        "drug",
        "dose_display",
        "route",
        "indication",
        "given_by",
    ]
    list_filter = ["kind", "indication", facility_filter("patient__facility"), "given_at"]
    list_select_related = ["patient", "given_by"]
    search_fields = ["patient__mrn", "patient__family_name", "patient__given_name", "drug"]
    date_hierarchy = "given_at"
    add_form = InterventionAddForm
    add_fieldsets = [
        (None, {"fields": ["patient", "given_at", "kind", "drug", "dose", "dose_unit", "route", "indication", "note"]})
    ]
    change_fields = (
        "patient_link",
        "given_at",
        "kind",
        "drug",
        "dose_display",
        "route",
        "indication",
        "given_by",
        "note",
        "created_at",
    )
    readonly_fields = ["patient_link", "dose_display"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return interventions_visible_to(request.user)

    @admin.display(description="dose", ordering="dose")
    def dose_display(self, obj: Intervention) -> str:
        return f"{obj.dose.normalize():f} {obj.dose_unit}".strip() if obj.dose is not None else "-"

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> Intervention:
        return intervention_record(
            actor=acting_user(request),
            patient=data["patient"],
            given_at=data["given_at"],
            kind=data["kind"],
            drug=data["drug"],
            dose=data.get("dose"),
            dose_unit=data.get("dose_unit", ""),
            route=data.get("route", ""),
            indication=data["indication"],
            note=data.get("note", ""),
        )


# --- follow-up visits ----------------------------------------------------------------------------------------


@admin.register(FollowUpVisit)
class FollowUpVisitAdmin(ClinicalAdmin):
    list_display = [
        "visit_date",
        "patient_name",
        "mrn",
        "disease_response",
        "survival_status",
        "new_malignancy",
        "rcv_result",
        "wellbeing_score",
        "gvhd",
        "gvhd_response",
        "recorded_by",
    ]
    list_filter = [
        "disease_response",
        "survival_status",
        "new_malignancy",
        "rcv_result",
        grade_filter("gvhd_grade", "acute GVHD grade"),
        "gvhd_response",
        facility_filter("patient__facility"),
        "visit_date",
    ]
    list_select_related = ["patient", "recorded_by"]
    search_fields = ["patient__mrn", "patient__family_name", "patient__given_name"]
    date_hierarchy = "visit_date"
    add_form = FollowUpVisitAddForm
    add_fieldsets = [
        (None, {"fields": ["patient", "visit_date", "disease_response"]}),
        ("Survival", {"fields": ["survival_status", "death_date", "cause_of_death"]}),
        ("New malignancy", {"fields": ["new_malignancy", "malignancy_description", "car_testing_requested"]}),
        ("Tests and patient-reported outcomes", {"fields": ["rcv_result", "wellbeing_score", "patient_reported"]}),
        (
            "Acute GVHD (optional: every organ or none)",
            {
                "fields": list(gvhd_rules.FINDING_FIELDS),
                "description": "Enter what you found in each organ. The stages and the overall grade are computed "
                "(MAGIC criteria, Harris et al. 2016), and on the days the protocol names (e.g. day 28) the response "
                "against the staging before the first infusion: you do not stage.",
            },
        ),
        (None, {"fields": ["note"]}),
    ]
    change_fields = (
        "gvhd",
        "patient_link",
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
        "gvhd_skin_stage",
        "gvhd_liver_stage",
        "gvhd_upper_gi_stage",
        "gvhd_lower_gi_stage",
        "gvhd_grade",
        "gvhd_response",
        "gvhd_response_day",
        "gvhd_baseline",
        "recorded_by",
        "note",
        "created_at",
    )
    readonly_fields = ["gvhd", "patient_link"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return follow_ups_visible_to(request.user)

    @admin.display(description="acute GVHD", ordering="gvhd_grade")
    def gvhd(self, obj: FollowUpVisit) -> str:
        return gvhd_summary(obj) or "-"

    def record_panel(self, request: HttpRequest, obj: FollowUpVisit) -> dict[str, Any] | None:
        if obj.gvhd_grade is None:
            return None
        return panel(
            format_html(
                '<p class="fs-lg m-b6"><strong>{}</strong></p><p class="m-0">Computed from the findings below (MAGIC '
                "criteria, Harris et al., BBMT 2016){}.</p>",
                gvhd_summary(obj),
                "; the response is judged organ by organ against the staging before the first infusion (Martin et "
                "al., BBMT 2009)"
                if obj.gvhd_response
                else "",
            ),
            alert=obj.gvhd_grade >= gvhd_rules.SEVERE_GRADE or obj.gvhd_response == GvhdResponse.PROGRESSION,
        )

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> FollowUpVisit:
        fields = dict(data)
        patient, visit_date = fields.pop("patient"), fields.pop("visit_date")
        return follow_up_record(actor=acting_user(request), patient=patient, visit_date=visit_date, **fields)


# --- dated weights -------------------------------------------------------------------------------------------


@admin.register(PatientWeight)
class PatientWeightAdmin(ClinicalAdmin):
    """A patient's weights, each on the day it was measured: a dose per kg uses the latest on or before the
    infusion day, so a later weight never rewrites an infusion's dose."""

    list_display = ["measured_on", "patient_name", "mrn", "weight_kg", "note", "recorded_by"]
    list_filter = [facility_filter("patient__facility"), "measured_on"]
    list_select_related = ["patient", "recorded_by"]
    search_fields = ["patient__mrn", "patient__family_name", "patient__given_name"]
    date_hierarchy = "measured_on"
    add_form = PatientWeightAddForm
    add_fieldsets = [(None, {"fields": ["patient", "weight_kg", "measured_on", "note"]})]
    change_fields = ("patient_link", "weight_kg", "measured_on", "note", "recorded_by", "created_at")
    readonly_fields = ["patient_link"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return weights_visible_to(request.user)

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> PatientWeight:
        return patient_weight_record(
            actor=acting_user(request),
            patient_id=data["patient"].pk,
            weight_kg=data["weight_kg"],
            measured_on=data["measured_on"],
            note=data.get("note", ""),
        )
