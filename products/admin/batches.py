"""Manufacturing batches: the batch page logs steps, QC results and units, and carries release and rejection."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms import BaseForm, BaseFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from products.admin.base import (
    ProjectAdmin,
    ReadOnlyInline,
    ServiceAddInline,
    ServiceAdmin,
    domain_message,
    refusal_errors,
)
from products.admin.chain import admin_link, member_facilities
from products.admin.holds import HoldLogInline, open_hold_url
from products.admin_forms import (
    BatchAddForm,
    QCInvalidationForm,
    QCResultForm,
    QCRowForm,
    RejectionForm,
    SignatureForm,
    StepForm,
    StepRowForm,
    UnitRowForm,
)
from products.choices import BatchStatus
from products.errors import DomainError, PermissionDeniedError
from products.models import Batch, ProcessingStep, QCResult, Signature, Unit
from products.rules.hashchain import digest
from products.rules.qc import Verdict
from products.selectors import batches_visible_to, chains_visible_to, qc_results_of
from products.services.batches import (
    OPEN,
    QC_RECORDABLE,
    batch_complete,
    batch_create,
    batch_reject,
    batch_release,
    batch_step_record,
    batch_verdict,
    qc_result_invalidate,
    qc_result_record,
    release_review,
)
from products.services.signatures import require_signing_role
from products.services.units import unit_create


def qc_value(result: QCResult) -> str:
    """A result as typed: 91.5, not 91.500000 (the column keeps six decimal places)."""
    value = result.value
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


def qc_value_html(result: QCResult) -> str:
    """The value, struck through when QA invalidated the result (it stays on record, it no longer counts)."""
    if result.invalidated:
        return format_html('<s title="invalidated">{}</s>', qc_value(result))
    return qc_value(result)


def invalidation_html(result: QCResult) -> str:
    if not result.invalidated:
        return ""
    by = result.invalidated_by.get_full_name() or result.invalidated_by.get_username()  # type: ignore[union-attr]
    when = timezone.localtime(result.invalidated_at).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]
    return format_html("Invalidated by {} on {}: {}", by, when, result.invalidation_reason)


def open_batches(request: HttpRequest) -> models.QuerySet[Batch]:
    return batches_visible_to(request.user).filter(status__in=OPEN)


def qc_recordable_batches(request: HttpRequest) -> models.QuerySet[Batch]:
    """Open batches, and released ones (a late or repeated test is recorded after release too)."""
    return batches_visible_to(request.user).filter(status__in=QC_RECORDABLE)


def verdict_html(verdict: Verdict) -> str:
    if verdict.releasable:
        return format_html('<strong class="tone-ok">{}</strong>', "✔ Every test of the release specification passed.")
    parts = []
    if verdict.failed:
        parts.append(format_html('<strong class="tone-alert">✘ Failed: {}</strong>', ", ".join(verdict.failed)))
    if verdict.missing:
        parts.append(format_html("<strong>No result yet: {}</strong>", ", ".join(verdict.missing)))
    return format_html_join(mark_safe("<br>"), "{}", ((p,) for p in parts))


def may_sign(user: Any, action: str) -> bool:
    try:
        require_signing_role(user, action=action)
    except PermissionDeniedError:
        return False
    return True


def review_html(signature: Signature | None) -> str:
    """What a signature judged (the release specification and the QC results, as kept with it) and its digest,
    checked again against the document shown."""
    if signature is None:
        return "-"
    reviewed = signature.reviewed or {}
    if not signature.reviewed_digest:
        return "Not recorded: signed before signatures kept what they judged."
    intact = digest(reviewed) == signature.reviewed_digest
    spec_rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (t["test"], t.get("unit", ""), t.get("min") or "", t.get("max") or "", t.get("expected") or "")
            for t in reviewed.get("specification", [])
        ),
    )
    result_rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (r["test"], r["value"], r.get("unit", ""), r["tested_at"], "pass" if r["passed"] else "FAIL")
            for r in reviewed.get("qc_results", [])
        ),
    )
    return format_html(
        "<p>Release specification as signed:</p>"
        "<table><thead><tr><th>test</th><th>unit</th><th>min</th><th>max</th><th>expected</th></tr></thead>"
        "<tbody>{}</tbody></table>"
        "<p>QC results as signed:</p>"
        "<table><thead><tr><th>test</th><th>value</th><th>unit</th><th>tested at (UTC)</th><th>result</th></tr>"
        "</thead><tbody>{}</tbody></table>"
        "<p>SHA-256 digest: <code>{}</code> {}</p>",
        spec_rows,
        result_rows,
        signature.reviewed_digest,
        format_html('<strong class="tone-ok">{}</strong>', "✔ matches what is shown")
        if intact
        else format_html('<strong class="tone-alert">{}</strong>', "✘ does not match: the record was altered"),
    )


# --- inlines on the batch page -----------------------------------------------------------------------


class StepLogInline(ReadOnlyInline):
    model = ProcessingStep
    fields = ["kind", "operator", "started_at", "ended_at", "parameters", "note"]
    verbose_name_plural = "processing steps"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).select_related("operator", "batch")


class StepAddInline(ServiceAddInline):
    model = ProcessingStep
    form = StepRowForm
    fields = ["kind", "started_at", "ended_at", "parameters", "note"]
    verbose_name = "new processing step"
    verbose_name_plural = "record processing steps"

    def create_row(self, request: HttpRequest, parent: models.Model, data: dict[str, Any]) -> models.Model:
        return batch_step_record(
            actor=request.user,
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


class QCAddInline(ServiceAddInline):
    model = QCResult
    form = QCRowForm
    fields = ["test", "value", "unit", "tested_at"]
    verbose_name = "new QC result"
    verbose_name_plural = "record QC results"

    def missing_tests(self, batch: Batch | None) -> list[str]:
        if batch is None:
            return []
        if not hasattr(batch, "_admin_verdict"):
            batch._admin_verdict = batch_verdict(batch)  # type: ignore[attr-defined]
        verdict = batch._admin_verdict  # type: ignore[attr-defined]
        return [*verdict.missing, *verdict.failed]

    def get_extra(self, request: HttpRequest, obj: Batch | None = None, **kwargs: Any) -> int:
        # One row ready for each test still without a passing result.
        return max(1, len(self.missing_tests(obj)))

    def customise_form(self, form_class: type[BaseForm], parent: models.Model | None) -> type[BaseForm]:
        tests = list(parent.product.release_spec.order_by("test")) if isinstance(parent, Batch) else []
        choices = [(t.test, f"{t.test} ({t.unit})" if t.unit else t.test) for t in tests]
        return type(form_class.__name__, (form_class,), {"spec_choices": choices})

    def create_row(self, request: HttpRequest, parent: models.Model, data: dict[str, Any]) -> models.Model:
        return qc_result_record(
            actor=request.user,
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


class UnitAddInline(ServiceAddInline):
    model = Unit
    form = UnitRowForm
    fields = ["unit_id", "dose_cells", "volume_ml", "expires_at"]
    verbose_name = "new unit"
    verbose_name_plural = "add units (bags)"
    fk_name = "batch"

    def create_row(self, request: HttpRequest, parent: models.Model, data: dict[str, Any]) -> models.Model:
        return unit_create(
            actor=request.user,
            batch_id=parent.pk,
            unit_id=data["unit_id"],
            dose_cells=data["dose_cells"],
            volume_ml=data["volume_ml"],
            expires_at=data.get("expires_at"),
        )


# --- the batch ---------------------------------------------------------------------------------------


@admin.register(Batch)
class BatchAdmin(ServiceAdmin):
    list_display = ["lot_number", "coi", "product", "facility", "status", "started_at", "status_changed_at"]
    list_filter = ["status", "product", ("facility", admin.RelatedOnlyFieldListFilter), "started_at"]
    list_select_related = ["chain", "product", "facility"]
    search_fields = ["lot_number", "chain__coi", "units__unit_id"]
    date_hierarchy = "started_at"
    add_form = BatchAddForm
    add_fieldsets = [(None, {"fields": ["coi", "lot_number", "facility", "started_at"]})]
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
    inlines = [StepLogInline, StepAddInline, QCLogInline, QCAddInline, UnitLogInline, UnitAddInline, HoldLogInline]
    # List actions only: on the change page an action form would sit above the inline rows, and pressing
    # Enter in a row would run the (empty) action instead of saving. Release and reject have buttons there.
    actions = ["release", "reject", "complete"]

    def scope_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.filter(id__in=batches_visible_to(request.user).values("id"))

    def get_inline_instances(self, request: HttpRequest, obj: Batch | None = None) -> list:
        if obj is None:
            return []
        instances = super().get_inline_instances(request, obj)
        if obj.status not in OPEN:
            # Released or rejected: the batch's records are closed, but for QC results after release.
            keep = (QCAddInline,) if obj.status in QC_RECORDABLE else ()
            instances = [i for i in instances if not isinstance(i, ServiceAddInline) or isinstance(i, keep)]
        return instances

    def get_formset_kwargs(self, request: HttpRequest, obj: Any, inline: Any, prefix: str) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, QCAddInline):
            kwargs["initial"] = [{"test": test} for test in inline.missing_tests(obj)]
        return kwargs

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "facility":
            kwargs["queryset"] = member_facilities(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"coi": request.GET.get("coi", "")}

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            # A COI is looked up only among the chains this user may see (else: "does not exist").
            form = type(form.__name__, (form,), {"visible_chains": chains_visible_to(request.user)})
        return form

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

    def service_create(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet]) -> models.Model:
        data = form.cleaned_data
        return batch_create(
            actor=request.user,
            chain=data["coi"],
            lot_number=data["lot_number"].strip(),
            facility=data["facility"],
            started_at=data["started_at"],
        )

    def created_message(self, obj: models.Model) -> str | None:
        return "Record its processing steps, QC results and units on this page."

    def response_add(self, request: HttpRequest, obj: models.Model, post_url_continue: str | None = None) -> Any:
        # Straight on to the batch page, where the rest of the batch is logged.
        if "_addanother" not in request.POST and "_popup" not in request.POST:
            messages.success(request, f"Batch {obj} started.")
            return HttpResponseRedirect(reverse("admin:products_batch_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    # --- release and rejection, each with an electronic signature --------------------------------------

    def get_urls(self) -> list:
        sign = self.admin_site.admin_view
        return [
            path("<path:object_id>/release/", sign(self.release_view), name="products_batch_release"),
            path("<path:object_id>/reject/", sign(self.reject_view), name="products_batch_reject"),
            path(
                "<path:object_id>/qc/<int:result_id>/invalidate/",
                sign(self.invalidate_qc_view),
                name="products_batch_invalidate_qc",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        batch = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        links = []
        if (
            batch is not None
            and batch.status in OPEN
            and self.has_change_permission(request, batch)
            and may_sign(request.user, "release batches")
        ):
            links += [
                ("Release (e-signature)…", reverse("admin:products_batch_release", args=[batch.pk])),
                ("Reject (e-signature)…", reverse("admin:products_batch_reject", args=[batch.pk])),
            ]
        if batch is not None and batch.status != BatchStatus.REJECTED and request.user.has_perm("products.add_hold"):
            links.append(("Hold the batch…", open_hold_url(batch=batch)))
        extra_context["object_links"] = links
        return super().change_view(request, object_id, form_url, extra_context)

    def release_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._sign_view(request, object_id, reject=False)

    def reject_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._sign_view(request, object_id, reject=True)

    def _sign_view(self, request: HttpRequest, object_id: str, *, reject: bool) -> HttpResponse:
        batch = self.get_object(request, unquote(object_id))
        if batch is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, batch):
            raise PermissionDenied
        try:
            # The same check the service makes, before the page: a superuser without the qa role is refused.
            require_signing_role(request.user, action="reject batches" if reject else "release batches")
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.detail) from exc
        form = (RejectionForm if reject else SignatureForm)(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            # The digest of the page the signer read: if a result came in since, the service refuses.
            reviewed_digest = data.get("reviewed_digest") or None
            try:
                if reject:
                    batch = batch_reject(
                        batch_id=batch.pk,
                        signer=request.user,
                        password=data["password"],
                        meaning=data["meaning"],
                        reason=data["reason"],
                        reviewed_digest=reviewed_digest,
                    )
                else:
                    batch = batch_release(
                        batch_id=batch.pk,
                        signer=request.user,
                        password=data["password"],
                        meaning=data["meaning"],
                        reviewed_digest=reviewed_digest,
                    )
            except DomainError as exc:
                # Nothing was written: the service's transaction rolled back.
                messages.error(request, f"Not {'rejected' if reject else 'released'}: {domain_message(exc)}")
            except ValidationError as exc:
                for field, msgs in refusal_errors(exc).items():
                    form.add_error(field if field in form.fields else None, msgs)
            else:
                signature = batch.rejection_signature if reject else batch.release_signature
                self.log_change(request, batch, f"{'Rejected' if reject else 'Released'}: {signature}")
                messages.success(
                    request, f"Batch {batch.lot_number} {batch.get_status_display().lower()}. {signature}."
                )
                return HttpResponseRedirect(reverse("admin:products_batch_change", args=[batch.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{'Reject' if reject else 'Release'} batch {batch.lot_number}",
            "subtitle": None,
            "opts": self.opts,
            "original": batch,
            "batch": batch,
            "reject": reject,
            "form": form,
            "meaning": "Rejection" if reject else "Release",
            "signer_name": request.user.get_full_name() or request.user.get_username(),
            "verdict": verdict_html(batch_verdict(batch)),
            "qc_results": [(result, qc_value_html(result)) for result in qc_results_of(batch)],
            "specification": list(batch.product.release_spec.order_by("test")),
            "review_digest": digest(release_review(batch)),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/products/batch/sign.html", context)

    def invalidate_qc_view(self, request: HttpRequest, object_id: str, result_id: int) -> HttpResponse:
        """QA sets a QC result aside, signed, with the reason the test is invalid; the result stays on record."""
        batch = self.get_object(request, unquote(object_id))
        if batch is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, batch):
            raise PermissionDenied
        result = qc_results_of(batch).filter(pk=result_id).first()
        if result is None:
            return self._get_obj_does_not_exist_redirect(request, QCResult._meta, str(result_id))
        batch_url = reverse("admin:products_batch_change", args=[batch.pk])
        form = QCInvalidationForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = qc_result_invalidate(
                    batch_id=batch.pk,
                    result_id=result.pk,
                    signer=request.user,
                    password=data["password"],
                    meaning=data["meaning"],
                    reason=data["reason"],
                )
            except DomainError as exc:
                messages.error(request, f"Not invalidated: {domain_message(exc)}")
            except ValidationError as exc:
                for field, msgs in refusal_errors(exc).items():
                    form.add_error(field if field in form.fields else None, msgs)
            else:
                self.log_change(request, batch, f"QC result {result.pk} invalidated: {result.invalidation_signature}")
                messages.success(
                    request, f"QC result {result} invalidated; it stays on record. {result.invalidation_signature}."
                )
                return HttpResponseRedirect(batch_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Invalidate QC result {result} of batch {batch.lot_number}",
            "subtitle": None,
            "opts": self.opts,
            "original": batch,
            "batch": batch,
            "form": form,
            "meaning": f"Invalidation of QC result {result}",
            "signed_result": result,
            "signer_name": request.user.get_full_name() or request.user.get_username(),
            "verdict": verdict_html(batch_verdict(batch)),
            "qc_results": [(r, qc_value_html(r)) for r in qc_results_of(batch)],
            "specification": list(batch.product.release_spec.order_by("test")),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/products/batch/sign.html", context)

    def _redirect_to_sign(self, request: HttpRequest, queryset: models.QuerySet, action: str) -> Any:
        ids = list(queryset.values_list("id", flat=True)[:2])
        if len(ids) != 1:
            messages.warning(request, "An electronic signature applies to one batch: select exactly one.")
            return None
        return HttpResponseRedirect(reverse(f"admin:products_batch_{action}", args=[ids[0]]))

    @admin.action(
        description="Release the batch (e-signature)…",
        permissions=["change"],
    )
    def release(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        return self._redirect_to_sign(request, queryset, "release")

    @admin.action(
        description="Reject the batch (e-signature)…",
        permissions=["change"],
    )
    def reject(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        return self._redirect_to_sign(request, queryset, "reject")

    @admin.action(
        description="Manufacturing complete: to quarantine",
        permissions=["change"],
    )
    def complete(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        for batch_id, lot in queryset.values_list("id", "lot_number"):
            try:
                batch_complete(actor=request.user, batch_id=batch_id)
            except DomainError as exc:
                messages.error(request, f"{lot}: {domain_message(exc)}")
            else:
                messages.success(request, f"Batch {lot} is in quarantine, awaiting QC and release.")


# --- the batch's records on their own (lists across batches; new ones through the same services) -------


class BatchRecordAdmin(ServiceAdmin):
    def scope_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.filter(batch__in=batches_visible_to(request.user).values("id"))

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        # Recorded is recorded: a correction is a new record (e.g. a retest), never an edit.
        return obj is None and super().has_change_permission(request, obj)

    def batch_choices(self, request: HttpRequest) -> models.QuerySet[Batch]:
        return open_batches(request)

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

    def service_create(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet]) -> models.Model:
        data = form.cleaned_data
        return batch_step_record(
            actor=request.user,
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

    def batch_choices(self, request: HttpRequest) -> models.QuerySet[Batch]:
        return qc_recordable_batches(request)

    @admin.display(description="test", ordering="spec__test")
    def test(self, obj: QCResult) -> str:
        return obj.spec.test

    @admin.display(description="value")
    def result_value(self, obj: QCResult) -> str:
        return qc_value_html(obj)

    @admin.display(description="invalidation")
    def invalidation(self, obj: QCResult) -> str:
        return invalidation_html(obj) or "-"

    def service_create(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet]) -> models.Model:
        data = form.cleaned_data
        return qc_result_record(
            actor=request.user,
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
    fields = [
        "printed_name",
        "signer",
        "meaning",
        "statement",
        "signed_at",
        "record",
        "what_was_signed",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields

    @admin.display(description="what was signed")
    def what_was_signed(self, obj: Signature) -> str:
        return review_html(obj)

    def scope_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        visible = batches_visible_to(request.user).values("id")
        return queryset.filter(
            models.Q(signer=request.user) | models.Q(released_batch__in=visible) | models.Q(rejected_batch__in=visible)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
