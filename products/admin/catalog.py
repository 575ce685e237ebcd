"""The catalogue: monitoring protocols (editable data) and products with their release specification."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.forms import BaseFormSet
from django.http import HttpRequest

from products.admin.base import ProjectAdmin, acting_user
from products.admin.service_pages import ServiceAdmin
from products.admin_forms import ProductAddForm
from products.models import MonitoringProtocol, Product, ProtocolStep, ReleaseTest
from products.rules.stages import STAGE_DAYS_FIELDS
from products.services.catalog import SpecTest, product_create, product_update

# The coordinators' board shows a chain past its product's expected days in its stage as late (products.pipeline).
STAGE_DAYS_FIELDSET = (
    "Expected days per stage (the coordinators' board)",
    {
        "fields": [STAGE_DAYS_FIELDS[:3], STAGE_DAYS_FIELDS[3:6], STAGE_DAYS_FIELDS[6:]],
        "description": "A chain longer than this in a stage is shown as late. Administered: how long an infused "
        "chain stays on the board.",
    },
)


class ProtocolStepInline(admin.TabularInline):
    model = ProtocolStep
    extra = 0
    fields = [
        "position",
        "kind",
        "label",
        "first_due_value",
        "first_due_unit",
        "repeat_every_value",
        "repeat_every_unit",
        "repeat_count",
        "repeat_until_value",
        "repeat_until_unit",
        "grace_hours",
        "severity",
        "once_per_course",
    ]


@admin.register(MonitoringProtocol)
class MonitoringProtocolAdmin(ProjectAdmin):
    """Protocols are data: the schedule after administration is edited here, not in code."""

    list_display = ["code", "name", "schedule_from", "step_count", "product_count", "updated_at"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "description", "schedule_from", "lost_to_follow_up_days", "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ProtocolStepInline]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(step_count=Count("steps", distinct=True), product_count=Count("products", distinct=True))
        )

    @admin.display(description="steps", ordering="step_count")
    def step_count(self, obj: MonitoringProtocol) -> int:
        return obj.step_count  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="products", ordering="product_count")
    def product_count(self, obj: MonitoringProtocol) -> int:
        return obj.product_count  # type: ignore[attr-defined]  # annotated by get_queryset


class ReleaseSpecInline(admin.TabularInline):
    """Entered with the product; fixed afterwards (QC results already judged against it point at its rows)."""

    model = ReleaseTest
    extra = 4
    can_delete = False
    fields = ["test", "name", "unit", "min_value", "max_value", "expected"]
    verbose_name = "release test"
    verbose_name_plural = "release specification"

    def get_extra(self, request: HttpRequest, obj: Product | None = None, **kwargs: Any) -> int:
        return self.extra if obj is None else 0

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> Any:
        return self.fields if obj is not None else ()

    def has_add_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        return obj is None and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)


@admin.register(Product)
class ProductAdmin(ServiceAdmin):
    list_display = [
        "code",
        "name",
        "modality",
        "source",
        "gene_modified",
        "cryopreserved",
        "monitoring_protocol",
        "regulatory_status",
        "is_active",
    ]
    list_filter = [
        "modality",
        "source",
        "gene_modified",
        "cryopreserved",
        "regulatory_status",
        "is_active",
        "monitoring_protocol",
    ]
    list_select_related = ["monitoring_protocol"]
    search_fields = ["code", "name"]
    inlines = [ReleaseSpecInline]
    add_form = ProductAddForm
    add_fieldsets = [
        (None, {"fields": ["code", "name", "modality", "source", "gene_modified", "cryopreserved", "is_active"]}),
        (
            "Storage and dosing",
            {
                "fields": [
                    "shelf_life_days",
                    "shelf_life_after_thaw_minutes",
                    "storage_min_temp_c",
                    "storage_max_temp_c",
                    "dose_unit",
                ]
            },
        ),
        ("Monitoring", {"fields": ["monitoring_protocol"]}),
        (
            "Clinical trial",
            {
                "fields": ["regulatory_status", "ind_number", "trial_protocol"],
                "description": "An investigational product needs its IND or CTA number: its adverse events follow "
                "the IND safety-report clocks (21 CFR 312.32). A licensed product used in a trial names the trial "
                "on the order instead.",
            },
        ),
        STAGE_DAYS_FIELDSET,
    ]
    change_fields = (
        "code",
        "name",
        "modality",
        "source",
        "gene_modified",
        "cryopreserved",
        "is_active",
        "shelf_life_days",
        "shelf_life_after_thaw_minutes",
        "storage_min_temp_c",
        "storage_max_temp_c",
        "dose_unit",
        "monitoring_protocol",
        "regulatory_status",
        "ind_number",
        "trial_protocol",
        *STAGE_DAYS_FIELDS,
        "created_at",
        "updated_at",
    )
    # What a product *is* (code, modality, source, gene modification, cryopreservation) is fixed once it
    # exists; descriptive and logistic settings may be edited through product_update, whose allow-list
    # (PRODUCT_EDITABLE) has the last word (every edit is in the audit trail).
    service_change_fields = (
        "name",
        "is_active",
        "shelf_life_days",
        "shelf_life_after_thaw_minutes",
        "storage_min_temp_c",
        "storage_max_temp_c",
        "dose_unit",
        "monitoring_protocol",
        "regulatory_status",
        "ind_number",
        "trial_protocol",
        *STAGE_DAYS_FIELDS,
    )

    def update(self, request: HttpRequest, obj: Product, changes: dict[str, Any], data: dict[str, Any]) -> None:
        product_update(actor=acting_user(request), product_id=obj.pk, **changes)

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> Product:
        spec = [
            SpecTest(
                test=row["test"],
                name=row.get("name", ""),
                unit=row.get("unit", ""),
                min=row.get("min_value"),
                max=row.get("max_value"),
                expected=row.get("expected", ""),
            )
            for formset in rows
            for row in (form.cleaned_data for form in formset.forms if form.has_changed() and form.cleaned_data)
        ]
        fields = {name: value for name, value in data.items() if name != "monitoring_protocol"}
        return product_create(
            actor=acting_user(request), monitoring_protocol=data["monitoring_protocol"], release_spec=spec, **fields
        )
