"""Manufacturing batches: the batch page logs steps, QC results and units, and leads to release and rejection."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.forms import BaseFormSet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from products.admin.base import ReadOnlyInline, acting_user
from products.admin.batch_record import batch_record
from products.admin.board_filters import at_filter, board_filter
from products.admin.holds import HoldLogInline, open_hold_url
from products.admin.links import admin_link
from products.admin.service_pages import RowInline, ServiceAdmin, domain_message
from products.admin.signing import BatchSigningPages, invalidation_html, qc_value_html, review_html, verdict_html
from products.admin_forms import BatchAddForm, QCRowForm, StepRowForm, UnitRowForm
from products.choices import BatchStatus
from products.errors import DomainError
from products.models import Batch, ProcessingStep, QCResult, Unit
from products.pipeline import BATCH_FIGURES, batch_at
from products.selectors import batches_visible_to, member_facilities
from products.services.batches import (
    OPEN,
    QC_RECORDABLE,
    batch_complete,
    batch_create,
    batch_step_record,
    batch_verdict,
    qc_result_record,
)
from products.services.units import unit_create

# --- the batch's records on its page: the log, and blank rows for new ones ------------------------------


class StepLogInline(ReadOnlyInline):
    model = ProcessingStep
    fields = ["kind", "operator", "started_at", "ended_at", "parameters", "note"]
    verbose_name_plural = "processing steps"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).select_related("operator", "batch")


class StepRowInline(RowInline):
    model = ProcessingStep
    form = StepRowForm
    fields = ["kind", "started_at", "ended_at", "parameters", "note"]
    verbose_name = "new processing step"
    verbose_name_plural = "record processing steps"

    def create(self, request: HttpRequest, parent: Batch, data: dict[str, Any]) -> ProcessingStep:
        return batch_step_record(
            actor=acting_user(request),
            batch_id=parent.pk,
            kind=data["kind"],
            started_at=data["started_at"],
            ended_at=data.get("ended_at"),
            parameters=data.get("parameters") or {},
            note=data.get("note", ""),
        )


class QCLogInline(ReadOnlyInline):
    model = QCResult
    fields = ["test", "result_value", "unit", "tested_at", "result", "recorded_by", "invalidation"]
    verbose_name_plural = (
        "QC results (every valid result counts: a retest never outweighs a failure; invalidated results are "
        "struck through)"
    )

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("spec", "recorded_by", "batch", "invalidated_by")
            .order_by("tested_at", "id")
        )

    @admin.display(description="test")
    def test(self, obj: QCResult) -> str:
        return obj.spec.test

    @admin.display(description="value")
    def result_value(self, obj: QCResult) -> str:
        return qc_value_html(obj)

    @admin.display(description="passed", boolean=True)
    def result(self, obj: QCResult) -> bool:
        return obj.passed

    @admin.display(description="invalidation")
    def invalidation(self, obj: QCResult) -> str:
        if obj.invalidated:
            return invalidation_html(obj)
        if obj.batch.status == BatchStatus.REJECTED:
            return ""
        link = reverse("admin:products_batch_invalidate_qc", args=[obj.batch_id, obj.pk])
        return format_html('<a href="{}">Invalidate (e-signature)…</a>', link)


class QCRowInline(RowInline):
    model = QCResult
    form = QCRowForm
    fields = ["test", "value", "unit", "tested_at"]
    verbose_name = "new QC result"
    verbose_name_plural = "record QC results"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.missing: dict[int, list[str]] = {}  # per batch: read once, asked twice (row count and their tests)

    def missing_tests(self, batch: Batch | None) -> list[str]:
        if batch is None:
            return []
        if batch.pk not in self.missing:
            verdict = batch_verdict(batch)
            self.missing[batch.pk] = [*verdict.missing, *verdict.failed]
        return self.missing[batch.pk]

    def get_extra(self, request: HttpRequest, obj: Batch | None = None, **kwargs: Any) -> int:
        # One row ready for each test still without a passing result.
        return max(1, len(self.missing_tests(obj)))

    def create(self, request: HttpRequest, parent: Batch, data: dict[str, Any]) -> QCResult:
        return qc_result_record(
            actor=acting_user(request),
            batch_id=parent.pk,
            test=data["test"],
            value=data["value"],
            unit=data.get("unit", ""),
            tested_at=data["tested_at"],
        )


class UnitLogInline(ReadOnlyInline):
    model = Unit
    fields = ["unit_id", "dose_cells", "volume_ml", "expires_at", "status", "current_facility", "excursion"]
    verbose_name_plural = "units"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).select_related("current_facility")

    @admin.display(description="excursion", boolean=True)
    def excursion(self, obj: Unit) -> bool:
        return obj.temperature_excursion


class UnitRowInline(RowInline):
    model = Unit
    form = UnitRowForm
    fields = ["unit_id", "dose_cells", "volume_ml", "expires_at"]
    verbose_name = "new unit"
    verbose_name_plural = "add units (bags)"
    fk_name = "batch"

    def create(self, request: HttpRequest, parent: Batch, data: dict[str, Any]) -> Unit:
        return unit_create(
            actor=acting_user(request),
            batch_id=parent.pk,
            unit_id=data["unit_id"],
            dose_cells=data["dose_cells"],
            volume_ml=data["volume_ml"],
            expires_at=data.get("expires_at"),
        )


# --- the batch ---------------------------------------------------------------------------------------


@admin.register(Batch)
class BatchAdmin(BatchSigningPages, ServiceAdmin):
    list_display = ["lot_number", "coi", "product", "facility", "status", "started_at", "status_changed_at"]
    list_filter = [
        board_filter(BATCH_FIGURES),
        "status",
        "product",
        ("facility", admin.RelatedOnlyFieldListFilter),
        "started_at",
        at_filter(batch_at),
    ]
    list_select_related = ["chain", "product", "facility"]
    search_fields = ["lot_number", "chain__coi", "units__unit_id"]
    date_hierarchy = "started_at"
    add_form = BatchAddForm
    add_fieldsets = [(None, {"fields": ["coi", "donor_din", "lot_number", "facility", "started_at"]})]
    change_fields = (
        "lot_number",
        "chain_link",
        "product",
        "facility",
        "started_at",
        "status",
        "status_changed_at",
        "release_verdict",
        "release_signature",
        "rejection_signature",
        "rejection_reason",
        "signed_review",
        "created_at",
    )
    readonly_fields = ["chain_link", "release_verdict", "signed_review"]
    inlines = [StepLogInline, StepRowInline, QCLogInline, QCRowInline, UnitLogInline, UnitRowInline, HoldLogInline]
    # List actions only: on the change page an action form would sit above the inline rows, and pressing
    # Enter in a row would run the (empty) action instead of saving. Release and reject have buttons there.
    actions = ["release", "reject", "complete"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return batches_visible_to(request.user)

    def get_inline_instances(self, request: HttpRequest, obj: Batch | None = None) -> list:
        if obj is None:
            return []
        instances = super().get_inline_instances(request, obj)
        if obj.status not in OPEN:
            # Released or rejected: the batch's records are closed, but for QC results after release.
            keep = (QCRowInline,) if obj.status in QC_RECORDABLE else ()
            instances = [i for i in instances if not isinstance(i, RowInline) or isinstance(i, keep)]
        return instances

    def get_formset_kwargs(self, request: HttpRequest, obj: Any, inline: Any, prefix: str) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, QCRowInline):
            # One row per test still missing, each with the specification's tests to pick from.
            kwargs["initial"] = [{"test": test} for test in inline.missing_tests(obj)]
            tests = obj.product.release_spec.order_by("test")
            kwargs["form_kwargs"] = {"tests": [(t.test, f"{t.test} ({t.unit})" if t.unit else t.test) for t in tests]}
        return kwargs

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "facility":
            kwargs["queryset"] = member_facilities(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"coi": request.GET.get("coi", "")}

    def record_context(self, request: HttpRequest, obj: Batch) -> dict[str, Any]:
        links = self.signing_links(request, obj) if obj.status in OPEN else []
        if obj.status != BatchStatus.REJECTED and request.user.has_perm("products.add_hold"):
            links.append(("Hold the batch…", open_hold_url(batch=obj)))
        return {"object_links": links, "batch_record": batch_record(obj)}

    @admin.display(description="COI", ordering="chain__coi")
    def coi(self, obj: Batch) -> str:
        return obj.chain.coi if obj.chain else "-"

    @admin.display(description="chain of identity")
    def chain_link(self, obj: Batch) -> str:
        return admin_link(obj.chain)

    @admin.display(description="release verdict")
    def release_verdict(self, obj: Batch) -> str:
        return verdict_html(batch_verdict(obj))

    @admin.display(description="what was signed")
    def signed_review(self, obj: Batch) -> str:
        return review_html(obj.release_signature or obj.rejection_signature)

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> Batch:
        return batch_create(
            actor=acting_user(request),
            chain=data.get("coi"),
            collection=data.get("donor_din"),
            lot_number=data["lot_number"].strip(),
            facility=data["facility"],
            started_at=data["started_at"],
        )

    def created_message(self, obj: Batch) -> str | None:
        return "Record its processing steps, QC results and units on this page."

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: str | None = None) -> Any:
        # Straight on to the batch page, where the rest of the batch is logged.
        if "_addanother" not in request.POST and "_popup" not in request.POST:
            messages.success(request, f"Batch {obj} started.")
            return HttpResponseRedirect(reverse("admin:products_batch_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    # --- list actions ---------------------------------------------------------------------------------------

    def redirect_to_sign(self, request: HttpRequest, queryset: models.QuerySet, action: str) -> Any:
        ids = list(queryset.values_list("id", flat=True)[:2])
        if len(ids) != 1:
            messages.warning(request, "An electronic signature applies to one batch: select exactly one.")
            return None
        return HttpResponseRedirect(reverse(f"admin:products_batch_{action}", args=[ids[0]]))

    @admin.action(description="Release the batch (e-signature)…", permissions=["change"])
    def release(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        return self.redirect_to_sign(request, queryset, "release")

    @admin.action(description="Reject the batch (e-signature)…", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        return self.redirect_to_sign(request, queryset, "reject")

    @admin.action(description="Manufacturing complete: to quarantine", permissions=["change"])
    def complete(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        for batch_id, lot in queryset.values_list("id", "lot_number"):
            try:
                batch_complete(actor=acting_user(request), batch_id=batch_id)
            except DomainError as exc:
                messages.error(request, f"{lot}: {domain_message(exc)}")
            else:
                messages.success(request, f"Batch {lot} is in quarantine, awaiting QC and release.")
