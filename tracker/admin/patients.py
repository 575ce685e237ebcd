"""Patients and therapy orders in the admin. Patient data: never shown to the manufacturing role."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db import models
from django.forms import BaseForm, BaseFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from products.access import may_see_patients, user_facility_ids
from products.admin.base import ReadOnlyInline, ServiceAdmin
from products.admin.chain import admin_link, chain_cancel_many, member_facilities
from products.admin_forms import ServiceModelForm
from products.models import Product
from tracker.admin.labels import WRISTBAND_ACTIONS
from tracker.models import Patient, PatientWeight, TherapyOrder
from tracker.services.orders import order_create, patient_create


def patients_visible_to(request: HttpRequest) -> models.QuerySet[Patient]:
    patients = Patient.objects.select_related("facility")
    if request.user.is_superuser:
        return patients
    if not may_see_patients(request.user):
        return patients.none()
    return patients.filter(facility_id__in=user_facility_ids(request.user))


class PatientDataAdmin(ServiceAdmin):
    """Scoped to the user's facilities; invisible to anyone who may not see patient data."""

    facility_path = "facility"

    def scope_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        if not may_see_patients(request.user):
            return queryset.none()
        return queryset.filter(**{f"{self.facility_path}__in": user_facility_ids(request.user)})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_see_patients(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_see_patients(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may_see_patients(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Recorded through a service; there is no service to edit them (yet), so the page is read-only.
        return obj is None and may_see_patients(request.user) and super().has_change_permission(request, obj)


# What is recorded for a patient, from the patient's page: (permission, model name, label).
PATIENT_RECORDS = [
    ("add_therapyorder", "therapyorder", "Order a therapy"),
    ("add_patientweight", "patientweight", "Record a weight"),
    ("add_assessment", "assessment", "Record an assessment"),
    ("add_intervention", "intervention", "Record an intervention"),
    ("add_adverseevent", "adverseevent", "Record an adverse event"),
    ("add_followupvisit", "followupvisit", "Record a follow-up visit"),
]
# The patient's records as lists: (permission, model name, label, filter).
PATIENT_LISTS = [
    ("view_scheduledcheck", "scheduledcheck", "Scheduled checks", "patient__id__exact"),
    ("view_reminder", "reminder", "Reminders", "patient__id__exact"),
]


def patient_record_links(request: HttpRequest, patient_id: str) -> list[tuple[str, str]]:
    user = request.user
    links = [
        (label, f"{reverse(f'admin:tracker_{model}_add')}?patient={patient_id}")
        for perm, model, label in PATIENT_RECORDS
        if user.has_perm(f"tracker.{perm}")
    ]
    links += [
        (label, f"{reverse(f'admin:tracker_{model}_changelist')}?{lookup}={patient_id}")
        for perm, model, label, lookup in PATIENT_LISTS
        if user.has_perm(f"tracker.{perm}")
    ]
    return links


class PatientAddForm(ServiceModelForm):
    class Meta:
        model = Patient
        fields = ["facility", "mrn", "given_name", "family_name", "birth_date", "sex", "weight_kg"]


class WeightInline(ReadOnlyInline):
    model = PatientWeight
    fields = ["measured_on", "weight_kg", "note", "recorded_by", "created_at"]
    verbose_name_plural = "weights (a dose per kg uses the latest weight on or before its infusion day)"
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).select_related("recorded_by")


class OrderInline(ReadOnlyInline):
    model = TherapyOrder
    fields = ["coi", "product", "status", "ordered_at", "ordered_by"]
    verbose_name_plural = "therapy orders"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).select_related("chain", "product", "ordered_by")

    @admin.display(description="COI")
    def coi(self, obj: TherapyOrder) -> str:
        return obj.chain.coi

    @admin.display(description="status")
    def status(self, obj: TherapyOrder) -> str:
        return obj.chain.get_status_display()


@admin.register(Patient)
class PatientAdmin(PatientDataAdmin):
    list_display = ["display_name", "mrn", "birth_date", "sex", "facility", "cois", "created_at"]
    list_filter = [("facility", admin.RelatedOnlyFieldListFilter), "sex", "created_at"]
    list_select_related = ["facility"]
    search_fields = ["mrn", "family_name", "given_name", "orders__chain__coi", "orders__chain__legacy_coi"]
    actions = WRISTBAND_ACTIONS
    date_hierarchy = "created_at"
    add_form = PatientAddForm
    add_fieldsets = [
        (None, {"fields": ["facility", "mrn", "given_name", "family_name", "birth_date", "sex", "weight_kg"]})
    ]
    change_fields = (
        "family_name",
        "given_name",
        "mrn",
        "birth_date",
        "sex",
        "weight_kg",
        "facility",
        "created_at",
        "updated_at",
    )
    # weight_kg shows the latest dated weight; the weights below are the record doses are computed from.
    inlines = [OrderInline, WeightInline]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).prefetch_related("orders__chain")

    def get_inline_instances(self, request: HttpRequest, obj: Patient | None = None) -> list:
        return super().get_inline_instances(request, obj) if obj is not None else []

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "facility":
            kwargs["queryset"] = member_facilities(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        extra_context = dict(extra_context or {})
        if may_see_patients(request.user):
            extra_context["object_links"] = patient_record_links(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="name", ordering="family_name")
    def display_name(self, obj: Patient) -> str:
        return obj.display_name

    @admin.display(description="COIs")
    def cois(self, obj: Patient) -> str:
        return ", ".join(order.chain.coi for order in obj.orders.all()) or "-"

    def service_create(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet]) -> models.Model:
        data = form.cleaned_data
        return patient_create(
            actor=request.user,
            facility=data["facility"],
            mrn=data["mrn"],
            given_name=data["given_name"],
            family_name=data["family_name"],
            birth_date=data["birth_date"],
            sex=data["sex"],
            weight_kg=data.get("weight_kg"),
        )


class OrderAddForm(ServiceModelForm):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = TherapyOrder
        fields = ["patient", "product", "note"]


@admin.register(TherapyOrder)
class TherapyOrderAdmin(PatientDataAdmin):
    facility_path = "patient__facility"
    list_display = ["coi", "patient_name", "mrn", "product", "status", "ordered_by", "ordered_at"]
    list_filter = ["chain__status", "product", ("patient__facility", admin.RelatedOnlyFieldListFilter), "ordered_at"]
    list_select_related = ["chain", "patient", "product", "ordered_by"]
    search_fields = ["chain__coi", "chain__legacy_coi", "patient__mrn", "patient__family_name", "patient__given_name"]
    date_hierarchy = "ordered_at"
    autocomplete_fields = ["patient"]
    add_form = OrderAddForm
    add_fieldsets = [(None, {"fields": ["patient", "product", "note"]})]
    change_fields = (
        "coi",
        "chain_link",
        "status",
        "patient_link",
        "mrn",
        "product",
        "ordered_by",
        "ordered_at",
        "note",
    )
    readonly_fields = ["coi", "chain_link", "status", "patient_link", "mrn"]
    actions = ["cancel"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "patient":
            kwargs["queryset"] = patients_visible_to(request)
        elif db_field.name == "product":
            kwargs["queryset"] = Product.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"patient": request.GET.get("patient")}

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        order = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if order is not None:
            coi = order.chain.coi
            extra_context["object_links"] = [
                (label, f"{reverse(f'admin:tracker_{model}_add')}?coi={coi}")
                for perm, model, label in (
                    ("add_conditioning", "conditioning", "Record conditioning"),
                    ("add_administration", "administration", "Record the administration"),
                )
                if request.user.has_perm(f"tracker.{perm}")
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="COI", ordering="chain__coi")
    def coi(self, obj: TherapyOrder) -> str:
        return obj.chain.coi

    @admin.display(description="status", ordering="chain__status")
    def status(self, obj: TherapyOrder) -> str:
        return obj.chain.get_status_display()

    @admin.display(description="patient", ordering="patient__family_name")
    def patient_name(self, obj: TherapyOrder) -> str:
        return obj.patient.display_name

    @admin.display(description="MRN", ordering="patient__mrn")
    def mrn(self, obj: TherapyOrder) -> str:
        return obj.patient.mrn

    @admin.display(description="patient")
    def patient_link(self, obj: TherapyOrder) -> str:
        return admin_link(obj.patient, obj.patient.display_name)

    @admin.display(description="chain of identity")
    def chain_link(self, obj: TherapyOrder) -> str:
        collect = reverse("admin:products_collection_add")
        return format_html(
            '{} &middot; <a href="{}?coi={}">record a collection</a>', admin_link(obj.chain), collect, obj.chain.coi
        )

    def service_create(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet]) -> models.Model:
        data = form.cleaned_data
        return order_create(
            actor=request.user, patient=data["patient"], product=data["product"], note=data.get("note", "")
        )

    def created_message(self, obj: models.Model) -> str | None:
        return f"Chain of identity {obj.chain.coi} created for this order: label the collection with it."  # type: ignore[attr-defined]

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("products.change_chainofidentity") and may_see_patients(request.user)

    @admin.action(
        description="Cancel selected orders",
        permissions=["cancel"],
        location=[admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM],
    )
    def cancel(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        chain_cancel_many(request, list(queryset.values_list("chain_id", "chain__coi")))
