"""Electronic signatures on a batch (21 CFR Part 11): its release, its rejection, and a QC result set aside; and
how a signature shows what it judged."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from products.admin.base import ProjectAdmin, acting_user
from products.admin.service_pages import domain_message, show_refusal
from products.admin_forms import QCInvalidationForm, RejectionForm, SignatureForm
from products.errors import DomainError, PermissionDeniedError
from products.models import Batch, QCResult, Signature
from products.rules.hashchain import digest
from products.rules.qc import Verdict
from products.selectors import qc_results_of
from products.services.batches import batch_reject, batch_release, batch_verdict, qc_result_invalidate, release_review
from products.services.signatures import require_signing_role


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
    if not result.invalidated or result.invalidated_by is None or result.invalidated_at is None:
        return ""
    by = result.invalidated_by.get_full_name() or result.invalidated_by.get_username()
    when = timezone.localtime(result.invalidated_at).strftime("%Y-%m-%d %H:%M")
    return format_html("Invalidated by {} on {}: {}", by, when, result.invalidation_reason)


def verdict_html(verdict: Verdict) -> str:
    if verdict.releasable:
        return format_html('<strong class="tone-ok">{}</strong>', "✔ Every test of the release specification passed.")
    parts = []
    if verdict.failed:
        parts.append(format_html('<strong class="tone-alert">✘ Failed: {}</strong>', ", ".join(verdict.failed)))
    if verdict.missing:
        parts.append(format_html("<strong>No result yet: {}</strong>", ", ".join(verdict.missing)))
    return format_html_join(mark_safe("<br>"), "{}", ((p,) for p in parts))


def signer_name(user: AbstractUser) -> str:
    """The name a signature page says it will sign with."""
    return user.get_full_name() or user.get_username()


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


class BatchSigningPages(ProjectAdmin):
    """The batch admin's signature pages: each asks for the password and the meaning, then calls the service."""

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

    def signing_links(self, request: HttpRequest, batch: Batch) -> list[tuple[str, str]]:
        if not (self.has_change_permission(request, batch) and may_sign(request.user, "release batches")):
            return []
        return [
            ("Release (e-signature)…", reverse("admin:products_batch_release", args=[batch.pk])),
            ("Reject (e-signature)…", reverse("admin:products_batch_reject", args=[batch.pk])),
        ]

    def release_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self.sign_view(request, object_id, reject=False)

    def reject_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self.sign_view(request, object_id, reject=True)

    def sign_view(self, request: HttpRequest, object_id: str, *, reject: bool) -> HttpResponse:
        batch = self.changeable(request, object_id)
        if isinstance(batch, HttpResponse):
            return batch
        try:
            # The same check the service makes, before the page: a superuser without the qa role is refused.
            require_signing_role(acting_user(request), action="reject batches" if reject else "release batches")
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.detail) from exc
        form = (RejectionForm if reject else SignatureForm)(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            # The digest of the page the signer read: if a result came in since, the service refuses.
            signed = {
                "batch_id": batch.pk,
                "signer": acting_user(request),
                "password": data["password"],
                "meaning": data["meaning"],
                "reviewed_digest": data.get("reviewed_digest") or None,
            }
            try:
                batch = batch_reject(**signed, reason=data["reason"]) if reject else batch_release(**signed)
            except DomainError as exc:
                # Nothing was written: the service's transaction rolled back.
                messages.error(request, f"Not {'rejected' if reject else 'released'}: {domain_message(exc)}")
            except ValidationError as exc:
                show_refusal(form, exc)
            else:
                signature = batch.rejection_signature if reject else batch.release_signature
                self.log_change(request, batch, f"{'Rejected' if reject else 'Released'}: {signature}")
                messages.success(
                    request, f"Batch {batch.lot_number} {batch.get_status_display().lower()}. {signature}."
                )
                return HttpResponseRedirect(reverse("admin:products_batch_change", args=[batch.pk]))
        return self.signing_page(
            request,
            batch,
            form,
            title=f"{'Reject' if reject else 'Release'} batch {batch.lot_number}",
            meaning="Rejection" if reject else "Release",
            reject=reject,
            review_digest=digest(release_review(batch)),
        )

    def invalidate_qc_view(self, request: HttpRequest, object_id: str, result_id: int) -> HttpResponse:
        """QA sets a QC result aside, signed, with the reason the test is invalid; the result stays on record."""
        batch = self.changeable(request, object_id)
        if isinstance(batch, HttpResponse):
            return batch
        result = qc_results_of(batch).filter(pk=result_id).first()
        if result is None:
            return self.missing(request, result_id, what="QC result")
        form = QCInvalidationForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = qc_result_invalidate(
                    batch_id=batch.pk,
                    result_id=result.pk,
                    signer=acting_user(request),
                    password=data["password"],
                    meaning=data["meaning"],
                    reason=data["reason"],
                )
            except DomainError as exc:
                messages.error(request, f"Not invalidated: {domain_message(exc)}")
            except ValidationError as exc:
                show_refusal(form, exc)
            else:
                self.log_change(request, batch, f"QC result {result.pk} invalidated: {result.invalidation_signature}")
                messages.success(
                    request, f"QC result {result} invalidated; it stays on record. {result.invalidation_signature}."
                )
                return HttpResponseRedirect(reverse("admin:products_batch_change", args=[batch.pk]))
        return self.signing_page(
            request,
            batch,
            form,
            title=f"Invalidate QC result {result} of batch {batch.lot_number}",
            meaning=f"Invalidation of QC result {result}",
            signed_result=result,
        )

    def signing_page(self, request: HttpRequest, batch: Batch, form: Form, **context: Any) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "subtitle": None,
            "opts": self.opts,
            "original": batch,
            "batch": batch,
            "form": form,
            "signer_name": signer_name(acting_user(request)),
            "verdict": verdict_html(batch_verdict(batch)),
            "qc_results": [(result, qc_value_html(result)) for result in qc_results_of(batch)],
            "specification": list(batch.product.release_spec.order_by("test")),
            "media": self.media + form.media,
            **context,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/products/batch/sign.html", context)
