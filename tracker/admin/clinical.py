"""After the infusion: assessments (graded by the service, never by hand), interventions, adverse events (with the
expedited-report clock) and follow-up visits. Added through the services; read-only afterwards, but for the
clinical fields of an adverse event, changed through adverse_event_update."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms import BaseForm, BaseFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from products.access import may_see_patients
from products.admin.base import adopt, domain_message
from products.errors import DomainError
from tracker.admin.common import (
    ClinicalAdmin,
    action_page,
    facility_filter,
    form_refusal,
    grade_badge,
    grade_filter,
    panel,
    refused_on,
    when,
)
from tracker.admin.forms import (
    AdverseEventAddForm,
    AdverseEventChangeForm,
    AssessmentAddForm,
    FollowUpVisitAddForm,
    InterventionAddForm,
    PatientWeightAddForm,
)
from tracker.models import AdverseEvent, Assessment, FollowUpVisit, Intervention, PatientWeight
from tracker.rules import adverse_events as ae_rules
from tracker.rules.grading import URGENT_GRADE
from tracker.rules.ranges import VITALS as VITAL_RANGES
from tracker.services.clinical import (
    adverse_event_mark_reported,
    adverse_event_record,
    adverse_event_update,
    assessment_record,
    follow_up_record,
    intervention_record,
)
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

    def service_create(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet]) -> models.Model:
        data = form.cleaned_data
        extra = {name: data.get(name) for name in (*VITAL_FIELDS, *LABS)}
        # A partial set of ICE items is the service's refusal (all five or none): shown at the top of the form.
        with refused_on({"ice_items": None}):  # type: ignore[dict-item]
            return assessment_record(
                actor=request.user,
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

    def created_message(self, obj: models.Model) -> str | None:
        assert isinstance(obj, Assessment)
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

    @admin.display(description="dose", ordering="dose")
    def dose_display(self, obj: Intervention) -> str:
        return f"{obj.dose.normalize():f} {obj.dose_unit}".strip() if obj.dose is not None else "-"

    def service_create(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet]) -> models.Model:
        data = form.cleaned_data
        return intervention_record(
            actor=request.user,
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


# --- adverse events ------------------------------------------------------------------------------------------


class ReportFilter(admin.SimpleListFilter):
    """The expedited report (21 CFR 600.80): overdue, due, submitted, or none required."""

    title = "expedited report"
    parameter_name = "report"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("overdue", "Overdue"),
            ("due", "Due, not yet submitted"),
            ("submitted", "Submitted"),
            ("none", "No expedited report"),
        ]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        now = timezone.now()
        pending = queryset.filter(report_due_at__isnull=False, report_submitted_at__isnull=True)
        match self.value():
            case "overdue":
                return pending.filter(report_due_at__lte=now)
            case "due":
                return pending.filter(report_due_at__gt=now)
            case "submitted":
                return queryset.filter(report_submitted_at__isnull=False)
            case "none":
                return queryset.filter(report_due_at__isnull=True, report_submitted_at__isnull=True)
        return queryset


class ReportSubmittedForm(forms.Form):
    submitted_at = forms.SplitDateTimeField(
        label="Submitted at",
        required=False,
        widget=widgets.AdminSplitDateTime,
        help_text="When the report went to the regulator. Empty: now.",
    )


def report_state(event: AdverseEvent) -> str:
    if event.report_submitted_at is not None:
        return format_html('<span class="tone-ok">submitted {}</span>', when(event.report_submitted_at))
    if event.report_due_at is None:
        return "-"
    if event.report_due_at <= timezone.now():
        return format_html('<strong class="tone-alert">OVERDUE since {}</strong>', when(event.report_due_at))
    return format_html("<strong>due {}</strong>", when(event.report_due_at))


# What may change after recording: the rule's list (adverse_event_update recomputes the report clock from it),
# and why the awareness time moves when it does.
AE_CHANGEABLE = (*ae_rules.EDITABLE, "aware_at_reason")


@admin.register(AdverseEvent)
class AdverseEventAdmin(ClinicalAdmin):
    list_display = [
        "onset_at",
        "patient_name",
        "mrn",
        "term_display",
        "grade",
        "serious",
        "expected",
        "report",
        "outcome",
    ]
    list_filter = [
        "term",
        grade_filter("grade", "grade", (1, 2, 3, 4, 5)),
        "serious",
        "expected",
        ReportFilter,
        facility_filter("patient__facility"),
        "onset_at",
    ]
    list_select_related = ["patient", "recorded_by"]
    search_fields = ["patient__mrn", "patient__family_name", "patient__given_name", "term_text", "meddra_code"]
    date_hierarchy = "onset_at"
    add_form = AdverseEventAddForm
    form = AdverseEventChangeForm
    add_fieldsets = [
        (None, {"fields": ["patient", "term", "term_text", "meddra_code", "grade", "grading_system"]}),
        ("When", {"fields": ["onset_at", "aware_at", "resolved_at", "outcome"]}),
        (
            "Seriousness and expectedness",
            {
                "fields": ["serious", "expected", "relatedness"],
                "description": "These decide the expedited report deadline, which is computed once saved.",
            },
        ),
        (None, {"fields": ["description"]}),
    ]
    change_fields = (
        "report",
        "report_due_at",
        "report_rule",
        "report_submitted_at",
        "patient_link",
        "term",
        "term_text",
        "meddra_code",
        "grading_system",
        "grade",
        "serious",
        "expected",
        "relatedness",
        "onset_at",
        "aware_at",
        "aware_at_reason",
        "aware_at_changed",
        "resolved_at",
        "outcome",
        "description",
        "recorded_by",
        "created_at",
        "updated_at",
    )
    plain_change_fields = AE_CHANGEABLE
    readonly_fields = ["report", "patient_link", "aware_at_changed"]
    actions = ["mark_reported"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The clinical fields change through adverse_event_update (the report clock follows).
        return may_see_patients(request.user) and admin.ModelAdmin.has_change_permission(self, request, obj)

    @admin.display(description="term", ordering="term")
    def term_display(self, obj: AdverseEvent) -> str:
        text = obj.get_term_display()
        return f"{text}: {obj.term_text}" if obj.term_text else text

    @admin.display(description="expedited report", ordering="report_due_at")
    def report(self, obj: AdverseEvent) -> str:
        return report_state(obj)

    @admin.display(description="awareness time last moved")
    def aware_at_changed(self, obj: AdverseEvent) -> str:
        if obj.aware_at_changed_at is None:
            return "-"
        return format_html(
            "{} by {}: “{}”", when(obj.aware_at_changed_at), obj.aware_at_changed_by, obj.aware_at_change_reason
        )

    def record_panel(self, request: HttpRequest, obj: AdverseEvent) -> dict[str, Any]:
        overdue = (
            obj.report_submitted_at is None and obj.report_due_at is not None and obj.report_due_at <= timezone.now()
        )
        if obj.report_due_at is None and obj.report_submitted_at is None:
            headline = "No expedited report"
        elif obj.report_submitted_at is not None:
            headline = f"Report submitted {when(obj.report_submitted_at)}"
        else:
            left = obj.report_due_at - timezone.now()
            headline = (
                f"Expedited report OVERDUE since {when(obj.report_due_at)}"
                if overdue
                else f"Expedited report due {when(obj.report_due_at)} ({max(left.days, 0)} days left)"
            )
        return panel(
            format_html(
                '<p class="fs-lg m-b6"><strong>{}</strong></p><p class="m-0">{}: grade {}, {}, {}. Rule: {}</p>',
                headline,
                obj.get_term_display(),
                obj.grade,
                "serious" if obj.serious else "not serious",
                "expected" if obj.expected else "unexpected",
                obj.report_rule or "-",
            ),
            alert=overdue,
        )

    def object_links(self, request: HttpRequest, obj: AdverseEvent) -> list[tuple[str, str]]:
        if obj.report_submitted_at is None and self.has_change_permission(request, obj):
            return [("Mark report submitted…", reverse("admin:tracker_adverseevent_report_submitted", args=[obj.pk]))]
        return []

    def service_create(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet]) -> models.Model:
        data = form.cleaned_data
        return adverse_event_record(
            actor=request.user,
            patient=data["patient"],
            term=data["term"],
            grade=data["grade"],
            onset_at=data["onset_at"],
            aware_at=data["aware_at"],
            serious=data.get("serious", False),
            expected=data["expected"],
            resolved_at=data.get("resolved_at"),
            term_text=data.get("term_text", ""),
            meddra_code=data.get("meddra_code", ""),
            grading_system=data["grading_system"],
            outcome=data["outcome"],
            relatedness=data["relatedness"],
            description=data.get("description", ""),
        )

    def created_message(self, obj: models.Model) -> str | None:
        assert isinstance(obj, AdverseEvent)
        if obj.serious and obj.grade >= ae_rules.LIFE_THREATENING_GRADE:
            serious = f"Grade {obj.grade} is serious by definition (ICH E2A). "
        elif obj.serious and obj.outcome == ae_rules.FATAL_OUTCOME:
            serious = "A fatal event is serious by definition (ICH E2A). "
        else:
            serious = ""
        if obj.outcome == ae_rules.FATAL_OUTCOME:
            serious += "The patient's monitoring schedule has ended. "
        if obj.report_due_at is not None:
            return f"{serious}Expedited report due {when(obj.report_due_at)}: {obj.report_rule}."
        return f"{serious}{obj.report_rule}".strip() or None

    def save_model(self, request: HttpRequest, obj: models.Model, form: BaseForm, change: bool) -> None:
        if not change:
            return  # added by the service in save_related
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in ae_rules.EDITABLE}
        if changes:
            with refused_on({}):
                updated = adverse_event_update(
                    actor=request.user,
                    event_id=obj.pk,
                    aware_at_reason=form.cleaned_data.get("aware_at_reason", ""),
                    **changes,
                )
            adopt(obj, updated)

    # --- the report submitted ---------------------------------------------------------------------------------

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/report-submitted/",
                view(self.report_submitted_view),
                name="tracker_adverseevent_report_submitted",
            ),
            *super().get_urls(),
        ]

    def report_submitted_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        event = self.get_object(request, unquote(object_id))
        if event is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, event):
            raise PermissionDenied
        change_url = reverse("admin:tracker_adverseevent_change", args=[event.pk])
        if event.report_submitted_at is not None:
            messages.info(request, f"The report was already submitted on {when(event.report_submitted_at)}.")
            return HttpResponseRedirect(change_url)
        form = ReportSubmittedForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                event = adverse_event_mark_reported(
                    actor=request.user, event_id=event.pk, at=form.cleaned_data.get("submitted_at")
                )
            except (DomainError, ValidationError) as exc:
                form_refusal(form, exc)
            else:
                self.log_change(request, event, f"Report submitted {when(event.report_submitted_at)}")
                messages.success(request, f"Report recorded as submitted {when(event.report_submitted_at)}.")
                return HttpResponseRedirect(change_url)
        return action_page(
            self,
            request,
            title=f"Report submitted: {event}",
            summary=[
                ("Patient", f"{event.patient.display_name} (MRN {event.patient.mrn})"),
                ("Event", f"{event.get_term_display()}, grade {event.grade}"),
                ("Report due", when(event.report_due_at)),
                ("Rule", event.report_rule or "-"),
            ],
            form=form,
            submit="Record the report as submitted",
            cancel_url=change_url,
            obj=event,
        )

    @admin.action(description="Mark the expedited report submitted (now)", permissions=["change"])
    def mark_reported(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        for event in queryset.select_related(None).only("id", "term", "grade", "report_submitted_at"):
            if event.report_submitted_at is not None:
                messages.info(request, f"{event}: already submitted on {when(event.report_submitted_at)}.")
                continue
            try:
                adverse_event_mark_reported(actor=request.user, event_id=event.pk)
            except DomainError as exc:
                messages.error(request, f"{event}: {domain_message(exc)}")
            else:
                messages.success(request, f"{event}: report recorded as submitted.")


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
        "recorded_by",
    ]
    list_filter = [
        "disease_response",
        "survival_status",
        "new_malignancy",
        "rcv_result",
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
        (None, {"fields": ["note"]}),
    ]
    change_fields = (
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
        "recorded_by",
        "note",
        "created_at",
    )
    readonly_fields = ["patient_link"]

    def service_create(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet]) -> models.Model:
        data = dict(form.cleaned_data)
        patient, visit_date = data.pop("patient"), data.pop("visit_date")
        return follow_up_record(actor=request.user, patient=patient, visit_date=visit_date, **data)


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

    def service_create(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet]) -> models.Model:
        data = form.cleaned_data
        return patient_weight_record(
            actor=request.user,
            patient_id=data["patient"].pk,
            weight_kg=data["weight_kg"],
            measured_on=data["measured_on"],
            note=data.get("note", ""),
        )
