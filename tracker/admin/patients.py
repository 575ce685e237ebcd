"""Patients and therapy orders in the admin. Patient data: never shown to the manufacturing role."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.forms import BaseFormSet
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from products.admin.base import ReadOnlyInline, acting_user
from products.admin.board_filters import at_filter, board_filter
from products.admin.chain import chain_cancel_many
from products.admin.links import add_url, admin_link, changelist_url
from products.admin_forms import ServiceForm
from products.choices import RegulatoryStatus
from products.models import Collection, Product
from products.selectors import member_facilities
from tracker.access import may_see_patients
from tracker.admin.base import PatientDataAdmin
from tracker.admin.board_filters import InfusedFilter
from tracker.admin.donors import OrderAllocationViews, allocation_links, allocation_rows
from tracker.admin.labels import WRISTBAND_ACTIONS
from tracker.board import ORDER_FIGURES, order_at, with_vein_to_vein
from tracker.models import (
    AdverseEvent,
    Assessment,
    FollowUpVisit,
    Intervention,
    Patient,
    PatientWeight,
    Reminder,
    ScheduledCheck,
    TherapyOrder,
)
from tracker.selectors import orders_visible_to, patients_visible_to
from tracker.services.orders import order_create, patient_create
from tracker.services.planning import UNPLANNABLE, order_plan

# What is recorded for a patient, from the patient's page: (permission, model name, label).
PATIENT_RECORDS = [
    ("add_therapyorder", TherapyOrder, "Order a therapy"),
    ("add_patientweight", PatientWeight, "Record a weight"),
    ("add_assessment", Assessment, "Record an assessment"),
    ("add_intervention", Intervention, "Record an intervention"),
    ("add_adverseevent", AdverseEvent, "Record an adverse event"),
    ("add_followupvisit", FollowUpVisit, "Record a follow-up visit"),
]
# The patient's records as lists: (permission, model, label, filter).
PATIENT_LISTS = [
    ("view_scheduledcheck", ScheduledCheck, "Scheduled checks", "patient__id__exact"),
    ("view_reminder", Reminder, "Reminders", "patient__id__exact"),
]


def patient_record_links(request: HttpRequest, patient: Patient) -> list[tuple[str, str]]:
    user = request.user
    links = [
        (label, add_url(model, patient=patient.pk))
        for perm, model, label in PATIENT_RECORDS
        if user.has_perm(f"tracker.{perm}")
    ]
    links += [
        (label, changelist_url(model, **{lookup: patient.pk}))
        for perm, model, label, lookup in PATIENT_LISTS
        if user.has_perm(f"tracker.{perm}")
    ]
    return links


class PatientAddForm(ServiceForm):
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

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return patients_visible_to(request.user)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).prefetch_related("orders__chain")

    def get_inline_instances(self, request: HttpRequest, obj: Patient | None = None) -> list:
        return super().get_inline_instances(request, obj) if obj is not None else []

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "facility":
            kwargs["queryset"] = member_facilities(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def record_context(self, request: HttpRequest, obj: Patient) -> dict[str, Any]:
        return {"object_links": patient_record_links(request, obj)}

    @admin.display(description="name", ordering="family_name")
    def display_name(self, obj: Patient) -> str:
        return obj.display_name

    @admin.display(description="COIs")
    def cois(self, obj: Patient) -> str:
        return ", ".join(order.chain.coi for order in obj.orders.all()) or "-"

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> Patient:
        return patient_create(
            actor=acting_user(request),
            facility=data["facility"],
            mrn=data["mrn"],
            given_name=data["given_name"],
            family_name=data["family_name"],
            birth_date=data["birth_date"],
            sex=data["sex"],
            weight_kg=data.get("weight_kg"),
        )


class OrderAddForm(ServiceForm):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = TherapyOrder
        fields = ["patient", "product", "note", "trial_protocol", "ind_number"]


@admin.register(TherapyOrder)
class TherapyOrderAdmin(OrderAllocationViews, PatientDataAdmin):
    list_display = [
        "coi",
        "patient_name",
        "mrn",
        "product",
        "status",
        "planned_conditioning_on",
        "planned_infusion_on",
        "vein_to_vein",
        "ordered_by",
        "ordered_at",
    ]
    list_filter = [
        board_filter(ORDER_FIGURES),
        "chain__status",
        "product",
        ("patient__facility", admin.RelatedOnlyFieldListFilter),
        "ordered_at",
        InfusedFilter,
        at_filter(order_at),
    ]
    list_select_related = ["chain", "patient", "product", "ordered_by"]
    search_fields = ["chain__coi", "chain__legacy_coi", "patient__mrn", "patient__family_name", "patient__given_name"]
    date_hierarchy = "ordered_at"
    autocomplete_fields = ["patient"]
    add_form = OrderAddForm
    add_fieldsets = [
        (None, {"fields": ["patient", "product", "note"]}),
        (
            "Clinical trial (optional)",
            {
                "fields": ["trial_protocol", "ind_number"],
                "description": "A course given in a trial names it here; it then decides how the course's adverse "
                "events are reported (21 CFR 312.32), whatever the product's licence. A licensed product in a trial "
                "needs the trial's IND or CTA number; an investigational product's is used when this is empty.",
            },
        ),
    ]
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
        "trial_protocol",
        "ind_number",
        "reported_under",
        "planned_conditioning_on",
        "planned_infusion_on",
        "allocations",
    )
    readonly_fields = ["coi", "chain_link", "status", "patient_link", "mrn", "reported_under", "allocations"]
    # The plan (tracker.services.planning): what the board counts as conditioning and infusions to come.
    service_change_fields = ("planned_conditioning_on", "planned_infusion_on")
    actions = ["cancel"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return with_vein_to_vein(orders_visible_to(request.user))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The plan is changed here (through its service); everything else about an order is fixed.
        return may_see_patients(request.user) and request.user.has_perm("tracker.change_therapyorder")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.chain.status in UNPLANNABLE:
            return [*fields, *self.service_change_fields]
        return fields

    def update(self, request: HttpRequest, obj: TherapyOrder, changes: dict[str, Any], data: dict[str, Any]) -> None:
        order_plan(
            actor=acting_user(request),
            order_id=obj.pk,
            planned_conditioning_on=data.get("planned_conditioning_on"),
            planned_infusion_on=data.get("planned_infusion_on"),
        )

    @admin.display(description="vein to vein (days)", ordering="vein_to_vein_days")
    def vein_to_vein(self, obj: TherapyOrder) -> str:
        days = getattr(obj, "vein_to_vein_days", None)
        return f"{days:.1f}" if days is not None else "-"

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "patient":
            kwargs["queryset"] = patients_visible_to(request.user)
        elif db_field.name == "product":
            kwargs["queryset"] = Product.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"patient": request.GET.get("patient")}

    def record_context(self, request: HttpRequest, obj: TherapyOrder) -> dict[str, Any]:
        links = [
            (label, f"{reverse(f'admin:tracker_{model}_add')}?coi={obj.chain.coi}")
            for perm, model, label in (
                ("add_conditioning", "conditioning", "Record conditioning"),
                ("add_administration", "administration", "Record the administration"),
            )
            if request.user.has_perm(f"tracker.{perm}")
        ]
        return {"object_links": [*allocation_links(request, obj), *links]}

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/allocate/", view(self.allocate_view), name="tracker_therapyorder_allocate"),
            path(
                "<path:object_id>/release/<int:allocation_id>/",
                view(self.release_allocation_view),
                name="tracker_therapyorder_release_allocation",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="units from inventory")
    def allocations(self, obj: TherapyOrder) -> str:
        rows = allocation_rows(obj)
        return format_html_join("", "<div>{}: {}</div>", rows) if rows else "-"

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

    @admin.display(description="adverse events reported as")
    def reported_under(self, obj: TherapyOrder) -> str:
        trial = obj.trial
        if trial.regulatory_status == RegulatoryStatus.LICENSED:
            return "Licensed product: postmarketing reports (21 CFR 600.80)"
        protocol = f", protocol {trial.trial_protocol}" if trial.trial_protocol else ""
        return f"In a clinical investigation (IND/CTA {trial.ind_number}{protocol}): IND safety reports (21 CFR 312.32)"

    @admin.display(description="chain of identity")
    def chain_link(self, obj: TherapyOrder) -> str:
        collect = add_url(Collection, coi=obj.chain.coi)
        return format_html('{} &middot; <a href="{}">record a collection</a>', admin_link(obj.chain), collect)

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> TherapyOrder:
        return order_create(
            actor=acting_user(request),
            patient=data["patient"],
            product=data["product"],
            note=data.get("note", ""),
            trial_protocol=data.get("trial_protocol", ""),
            ind_number=data.get("ind_number", ""),
        )

    def created_message(self, obj: TherapyOrder) -> str | None:
        return f"Chain of identity {obj.chain.coi} created for this order: label the collection with it."

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("products.change_chainofidentity") and may_see_patients(request.user)

    @admin.action(
        description="Cancel selected orders",
        permissions=["cancel"],
        location=[admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM],
    )
    def cancel(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        chain_cancel_many(request, list(queryset.values_list("chain_id", "chain__coi")))
