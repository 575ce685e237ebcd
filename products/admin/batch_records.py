"""A batch's records on their own pages: processing steps and QC results (lists across batches, new ones through
the same services as on the batch page), and the electronic signatures."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import BaseFormSet
from django.http import HttpRequest

from products.access import AnyUser
from products.admin.base import ProjectAdmin, acting_user
from products.admin.links import admin_link
from products.admin.service_pages import ServiceAdmin
from products.admin.signing import invalidation_html, qc_value_html, review_html
from products.admin_forms import QCResultForm, StepForm
from products.models import Batch, ProcessingStep, QCResult, Signature
from products.selectors import batches_visible_to, qc_results_visible_to, signatures_visible_to, steps_visible_to
from products.services.batches import OPEN, QC_RECORDABLE, batch_step_record, qc_result_record


def open_batches(user: AnyUser) -> models.QuerySet[Batch]:
    return batches_visible_to(user).filter(status__in=OPEN)


def qc_recordable_batches(user: AnyUser) -> models.QuerySet[Batch]:
    """Open batches, and released ones (a late or repeated test is recorded after release too)."""
    return batches_visible_to(user).filter(status__in=QC_RECORDABLE)


class BatchRecordAdmin(ServiceAdmin):
    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        # Recorded is recorded: a correction is a new record (e.g. a retest), never an edit.
        return obj is None and super().has_change_permission(request, obj)

    def batch_choices(self, request: HttpRequest) -> models.QuerySet[Batch]:
        return open_batches(request.user)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "batch":
            kwargs["queryset"] = self.batch_choices(request).order_by("-started_at")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"batch": request.GET.get("batch")}

    @admin.display(description="batch", ordering="batch__lot_number")
    def batch_link(self, obj: Any) -> str:
        return admin_link(obj.batch)


@admin.register(ProcessingStep)
class ProcessingStepAdmin(BatchRecordAdmin):
    list_display = ["batch", "kind", "operator", "started_at", "ended_at"]
    list_filter = ["kind", "started_at"]
    list_select_related = ["batch", "operator"]
    search_fields = ["batch__lot_number", "batch__chain__coi"]
    date_hierarchy = "started_at"
    add_form = StepForm
    add_fieldsets = [(None, {"fields": ["batch", "kind", "started_at", "ended_at", "parameters", "note"]})]
    change_fields = ("batch_link", "kind", "operator", "started_at", "ended_at", "parameters", "note")
    readonly_fields = ["batch_link"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return steps_visible_to(request.user)

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> ProcessingStep:
        return batch_step_record(
            actor=acting_user(request),
            batch_id=data["batch"].pk,
            kind=data["kind"],
            started_at=data["started_at"],
            ended_at=data.get("ended_at"),
            parameters=data.get("parameters") or {},
            note=data.get("note", ""),
        )


@admin.register(QCResult)
class QCResultAdmin(BatchRecordAdmin):
    list_display = ["batch", "test", "result_value", "unit", "passed", "invalidated", "tested_at", "recorded_by"]
    list_filter = ["passed", "invalidated", "spec__test", "tested_at"]
    list_select_related = ["batch", "spec", "recorded_by"]
    search_fields = ["batch__lot_number", "batch__chain__coi", "spec__test"]
    date_hierarchy = "tested_at"
    add_form = QCResultForm
    add_fieldsets = [(None, {"fields": ["batch", "test", "value", "unit", "tested_at"]})]
    change_fields = (
        "batch_link",
        "test",
        "result_value",
        "unit",
        "passed",
        "tested_at",
        "recorded_by",
        "created_at",
        "invalidation",
    )
    readonly_fields = ["batch_link", "test", "result_value", "invalidation"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return qc_results_visible_to(request.user)

    def batch_choices(self, request: HttpRequest) -> models.QuerySet[Batch]:
        return qc_recordable_batches(request.user)

    @admin.display(description="test", ordering="spec__test")
    def test(self, obj: QCResult) -> str:
        return obj.spec.test

    @admin.display(description="value")
    def result_value(self, obj: QCResult) -> str:
        return qc_value_html(obj)

    @admin.display(description="invalidation")
    def invalidation(self, obj: QCResult) -> str:
        return invalidation_html(obj) or "-"

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> QCResult:
        return qc_result_record(
            actor=acting_user(request),
            batch_id=data["batch"].pk,
            test=data["test"].strip(),
            value=data["value"],
            unit=data.get("unit", ""),
            tested_at=data["tested_at"],
        )


@admin.register(Signature)
class SignatureAdmin(ProjectAdmin):
    """Electronic signatures (21 CFR 11.50): read-only, the database refuses any change or deletion."""

    list_display = ["signed_at", "printed_name", "meaning", "statement", "record", "signer"]
    list_filter = ["meaning", "signed_at"]
    list_select_related = ["signer"]
    search_fields = ["printed_name", "record", "signer__username", "statement"]
    date_hierarchy = "signed_at"
    fields = readonly_fields = (
        "printed_name",
        "signer",
        "meaning",
        "statement",
        "signed_at",
        "record",
        "what_was_signed",
        "prev_hash",
        "hash",
    )

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return signatures_visible_to(request.user)

    @admin.display(description="what was signed")
    def what_was_signed(self, obj: Signature) -> str:
        return review_html(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
