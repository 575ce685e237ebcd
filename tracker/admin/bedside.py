"""At the bedside: the administration (with its scans and the second person's e-signature) and the conditioning
before it. Recorded through the services; an administration is voided or its time corrected, never edited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q
from django.forms import BaseFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from products.admin.base import acting_user
from products.admin.links import add_url, admin_link, changelist_url
from products.admin.service_pages import REFUSALS, show_refusal
from tracker.admin.action_page import action_page
from tracker.admin.base import ClinicalAdmin
from tracker.admin.display import cells, check_state, panel, patient_link, when
from tracker.admin.filters import facility_filter
from tracker.admin.forms import AdministrationAddForm, ConditioningAddForm, CorrectTimeForm, VoidForm
from tracker.choices import CheckStatus
from tracker.models import Administration, Conditioning, ScheduledCheck
from tracker.selectors import administrations_visible_to, conditioning_visible_to
from tracker.services.administrations import administration_record
from tracker.services.clinical import conditioning_record
from tracker.services.monitoring import administration_void, schedule_reschedule


class VoidedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "voided"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Given"), ("yes", "Voided (entered in error)")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(voided_at__isnull=self.value() == "no")
        return queryset


# The next checks shown on an administration's page; the whole schedule (15 years of it) is one click away.
NEXT_CHECKS = 8


def schedule_summary(administration: Administration) -> str:
    """The monitoring schedule of this administration's course (one per order): counts, then the next open checks
    (overdue first). The course's checks hang on its first standing infusion, and, when its protocol is scheduled
    from each infusion, each infusion's own on that infusion (see course_schedule_sync)."""
    checks = ScheduledCheck.objects.filter(administration__order_id=administration.order_id)
    now = timezone.now()
    counts = checks.aggregate(
        overdue=Count("id", filter=Q(status=CheckStatus.OPEN, grace_until__lt=now)),
        open=Count("id", filter=Q(status=CheckStatus.OPEN)),
        completed=Count("id", filter=Q(status=CheckStatus.COMPLETED)),
        cancelled=Count("id", filter=Q(status=CheckStatus.CANCELLED)),
    )
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (check_state(c), c.label, when(c.due_at), when(c.grace_until), c.get_severity_display())
            for c in checks.filter(status=CheckStatus.OPEN).order_by("due_at", "id")[:NEXT_CHECKS]
        ),
    )
    return format_html(
        '<p class="m-b4"><strong>Monitoring schedule:</strong> {} open ({} overdue), {} completed, {} '
        'cancelled &middot; <a href="{}">all scheduled checks</a></p>'
        '<table class="w-full"><thead><tr><th>Status</th><th>Next checks</th><th>Due</th><th>Overdue after</th>'
        "<th>Severity</th></tr></thead><tbody>{}</tbody></table>",
        counts["open"],
        counts["overdue"],
        counts["completed"],
        counts["cancelled"],
        changelist_url(ScheduledCheck, patient__id__exact=administration.patient_id),
        rows or format_html('<tr><td colspan="5">{}</td></tr>', "No open checks."),
    )


@admin.register(Administration)
class AdministrationAdmin(ClinicalAdmin):
    list_display = [
        "administered_at",
        "patient_name",
        "mrn",
        "coi",
        "unit_label",
        "route",
        "dose",
        "dose_per_kg",
        "administered_by",
        "verified",
        "voided",
    ]
    list_filter = [VoidedFilter, "route", facility_filter("patient__facility"), "administered_at"]
    list_select_related = ["patient", "order__chain", "unit", "administered_by", "verification_signature__signer"]
    search_fields = [
        "order__chain__coi",
        "order__chain__legacy_coi",
        "unit__unit_id",
        "patient__mrn",
        "patient__family_name",
        "patient__given_name",
    ]
    date_hierarchy = "administered_at"
    add_form = AdministrationAddForm
    add_fieldsets = [
        (None, {"fields": ["coi", "unit_ref", "administered_at", "route"]}),
        (
            "Bedside check",
            {
                "fields": [
                    "scanned_unit",
                    "scanned_patient",
                    "scanned_birth_date",
                    "verifier_username",
                    "verifier_password",
                ],
                "description": "Two people, two identifiers: scan the bag and the patient's wristband (MRN and birth "
                "date), with a second nurse or doctor who signs. Nothing is recorded unless the bag and the "
                "wristband belong to this order and the unit is released, received here, thawed and in date.",
            },
        ),
        (None, {"fields": ["premedication", "infusion_reaction", "note"]}),
    ]
    change_fields = (
        "state",
        "coi",
        "patient_link",
        "unit_link",
        "administered_at",
        "route",
        "scanned_unit",
        "scanned_patient",
        "scanned_birth_date",
        "dose",
        "weight_kg",
        "dose_per_kg",
        "course_dose",
        "administered_by",
        "verifier",
        "premedication",
        "infusion_reaction",
        "note",
        "voided_at",
        "voided_by",
        "void_reason",
        "created_at",
        "updated_at",
    )
    readonly_fields = ["state", "coi", "patient_link", "unit_link", "dose", "dose_per_kg", "course_dose", "verifier"]
    # Where the bedside check's refusals belong on the form (a wrong password on the second person's).
    refusal_fields = {
        "unit": "unit_ref",
        "verified_by": "verifier_username",
        "invalid_signature": "verifier_password",
        "signing_locked": "verifier_password",
    }

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return administrations_visible_to(request.user)  # with each administration's course dose

    # --- columns ---------------------------------------------------------------------------------------------

    @admin.display(description="COI", ordering="order__chain__coi")
    def coi(self, obj: Administration) -> str:
        return obj.order.chain.coi

    @admin.display(description="unit", ordering="unit__unit_id")
    def unit_label(self, obj: Administration) -> str:
        return obj.unit.unit_id

    @admin.display(description="unit")
    def unit_link(self, obj: Administration) -> str:
        return admin_link(obj.unit, obj.unit.unit_id)

    @admin.display(description="dose", ordering="dose_cells")
    def dose(self, obj: Administration) -> str:
        return cells(obj.dose_cells)

    @admin.display(description="dose per kg", ordering="dose_cells_per_kg")
    def dose_per_kg(self, obj: Administration) -> str:
        if obj.dose_cells_per_kg is None:
            return "- (no weight on record)"
        return cells(obj.dose_cells_per_kg, "cells/kg")

    @admin.display(description="course (this order)")
    def course_dose(self, obj: Administration) -> str:
        units = getattr(obj, "course_units", None)
        if not units:
            return "-"
        per_kg = getattr(obj, "course_dose_cells_per_kg", None)
        return format_html(
            "{} unit{} given: {}, {}",
            units,
            "" if units == 1 else "s",
            cells(getattr(obj, "course_dose_cells", None)),
            cells(per_kg, "cells/kg") if per_kg is not None else "per kg: - (a unit had no weight on record)",
        )

    @admin.display(description="verified by")
    def verifier(self, obj: Administration) -> str:
        signature = obj.verification_signature
        if signature is None:
            return "- (no second-person signature)"
        return format_html(
            "{} ({}), signed {}: “{}”",
            signature.printed_name,
            signature.signer,
            when(signature.signed_at),
            signature.statement,
        )

    @admin.display(description="verified", boolean=True)
    def verified(self, obj: Administration) -> bool:
        return obj.verification_signature_id is not None

    @admin.display(description="voided", boolean=True, ordering="voided_at")
    def voided(self, obj: Administration) -> bool:
        return obj.voided_at is not None

    @admin.display(description="state")
    def state(self, obj: Administration) -> str:
        if obj.voided_at is not None:
            return mark_safe('<strong class="tone-alert">VOIDED</strong> (entered in error)')
        return "Given"

    # --- the page --------------------------------------------------------------------------------------------

    def record_panel(self, request: HttpRequest, obj: Administration) -> dict[str, Any]:
        if obj.voided_at is not None:
            return panel(
                format_html(
                    '<p class="fs-lg m-0"><strong>VOIDED</strong> as entered in error on {} by {}: {}</p>',
                    when(obj.voided_at),
                    obj.voided_by,
                    obj.void_reason,
                ),
                alert=True,
            )
        return panel(
            format_html(
                '<p class="fs-lg m-b6"><strong>{}</strong> given to <strong>{}</strong> on {} '
                '({})</p><p class="m-b8">Dose {} &middot; {} &middot; weight {} kg (on the infusion day)'
                '</p><p class="m-b8">Course: {}</p>{}',
                obj.unit.unit_id,
                obj.patient.display_name,
                when(obj.administered_at),
                obj.get_route_display(),
                cells(obj.dose_cells),
                self.dose_per_kg(obj),
                obj.weight_kg if obj.weight_kg is not None else "-",
                self.course_dose(obj),
                schedule_summary(obj),
            )
        )

    def may_correct(self, request: HttpRequest, obj: Administration | None) -> bool:
        # Whoever may record administrations may void one or correct its time (the service checks the facility
        # and keeps the reason in the audit trail).
        return obj is not None and obj.voided_at is None and self.has_add_permission(request)

    def object_links(self, request: HttpRequest, obj: Administration) -> list[tuple[str, str]]:
        if not self.may_correct(request, obj):
            return []
        return [
            ("Correct time…", reverse("admin:tracker_administration_correct_time", args=[obj.pk])),
            ("Void…", reverse("admin:tracker_administration_void", args=[obj.pk])),
        ]

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> Administration:
        # Called outside any transaction of the admin's: administration_record checks the second person's
        # password before its own transaction, so that a wrong one stays on record (21 CFR 11.300(d)).
        return administration_record(
            actor=acting_user(request),
            coi=data["coi"].coi,
            unit_id=data["unit_ref"],
            administered_at=data["administered_at"],
            route=data["route"],
            scanned_unit=data["scanned_unit"],
            scanned_patient=data["scanned_patient"],
            scanned_birth_date=data["scanned_birth_date"],
            verifier_username=data["verifier_username"].strip(),
            verifier_password=data["verifier_password"],
            premedication=data.get("premedication", ""),
            infusion_reaction=data.get("infusion_reaction", ""),
            note=data.get("note", ""),
        )

    def created_message(self, obj: Administration) -> str | None:
        first = (
            Administration.objects.filter(order_id=obj.order_id, voided_at=None)
            .order_by("administered_at", "id")
            .values_list("id", flat=True)
            .first()
        ) or obj.pk
        count = ScheduledCheck.objects.filter(administration_id=first, per_infusion=False).count()
        own = ScheduledCheck.objects.filter(administration_id=obj.pk, per_infusion=True).count()
        if first != obj.pk:
            added = f"; {own} checks of its own follow this infusion" if own else ", none is added"
            return (
                "Bedside check passed. This unit joins its order's course: the monitoring schedule counted from the "
                f"first infusion goes on ({count} checks){added}."
            )
        return f"Bedside check passed. The monitoring schedule has started: {count + own} checks scheduled."

    # --- void and time correction, each on its own page asking the reason ----------------------------------------

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/void/", view(self.void_view), name="tracker_administration_void"),
            path(
                "<path:object_id>/correct-time/",
                view(self.correct_time_view),
                name="tracker_administration_correct_time",
            ),
            *super().get_urls(),
        ]

    def correctable(self, request: HttpRequest, object_id: str) -> Administration | HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self.missing(request, object_id)
        if obj.voided_at is not None:
            messages.error(request, "This administration is voided: it can no longer be changed.")
            return HttpResponseRedirect(reverse("admin:tracker_administration_change", args=[obj.pk]))
        if not self.may_correct(request, obj):
            raise PermissionDenied
        return obj

    def summary(self, obj: Administration) -> list[tuple[str, Any]]:
        return [
            ("COI", obj.order.chain.coi),
            ("Patient", f"{obj.patient.display_name} (MRN {obj.patient.mrn})"),
            ("Unit", obj.unit.unit_id),
            ("Administered at", when(obj.administered_at)),
        ]

    def void_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.correctable(request, object_id)
        if isinstance(obj, HttpResponse):
            return obj
        form = VoidForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                administration_void(
                    administration_id=obj.pk, actor=acting_user(request), reason=form.cleaned_data["reason"]
                )
            except REFUSALS as exc:
                show_refusal(form, exc)
            else:
                self.log_change(request, obj, f"Voided: {form.cleaned_data['reason']}")
                messages.success(
                    request,
                    f"Administration of {obj.unit.unit_id} voided. Its open checks are cancelled and the unit is "
                    "back to its state before.",
                )
                return HttpResponseRedirect(reverse("admin:tracker_administration_change", args=[obj.pk]))
        return action_page(
            self,
            request,
            title=f"Void the administration of {obj.unit.unit_id}",
            intro="Void only an administration entered in error (the wrong patient, unit or record). The record "
            "stays, marked voided; its open scheduled checks are cancelled and the unit returns to its state before.",
            summary=self.summary(obj),
            form=form,
            submit="Void the administration",
            cancel_url=reverse("admin:tracker_administration_change", args=[obj.pk]),
            obj=obj,
        )

    def correct_time_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.correctable(request, object_id)
        if isinstance(obj, HttpResponse):
            return obj
        form = CorrectTimeForm(
            request.POST if request.method == "POST" else None, initial={"administered_at": obj.administered_at}
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                schedule_reschedule(
                    administration_id=obj.pk,
                    actor=acting_user(request),
                    administered_at=data["administered_at"],
                    reason=data["reason"],
                )
            except REFUSALS as exc:
                show_refusal(form, exc)
            else:
                self.log_change(request, obj, f"Time corrected from {when(obj.administered_at)}: {data['reason']}")
                messages.success(request, "Administration time corrected; the open scheduled checks moved with it.")
                return HttpResponseRedirect(reverse("admin:tracker_administration_change", args=[obj.pk]))
        return action_page(
            self,
            request,
            title=f"Correct the time of the administration of {obj.unit.unit_id}",
            summary=self.summary(obj),
            form=form,
            submit="Correct the time",
            cancel_url=reverse("admin:tracker_administration_change", args=[obj.pk]),
            obj=obj,
        )


@admin.register(Conditioning)
class ConditioningAdmin(ClinicalAdmin):
    autocomplete_fields = ()
    list_display = ["coi", "patient_name", "mrn", "regimen", "drug", "dose_display", "day_relative", "given_on"]
    list_filter = ["regimen", facility_filter("order__patient__facility"), "given_on"]
    list_select_related = ["order__chain", "order__patient", "recorded_by"]
    search_fields = [
        "order__chain__coi",
        "order__chain__legacy_coi",
        "order__patient__mrn",
        "order__patient__family_name",
        "drug",
        "regimen",
    ]
    ordering = ["order__chain__coi", "given_on", "drug"]
    date_hierarchy = "given_on"
    add_form = ConditioningAddForm
    add_fieldsets = [(None, {"fields": ["coi", "regimen", "drug", "dose", "dose_unit", "given_on", "day_relative"]})]
    change_fields = (
        "coi",
        "order_link",
        "patient_link",
        "regimen",
        "drug",
        "dose_display",
        "given_on",
        "day_relative",
        "recorded_by",
        "created_at",
    )
    readonly_fields = ["coi", "order_link", "patient_link", "dose_display"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return conditioning_visible_to(request.user)

    @admin.display(description="COI", ordering="order__chain__coi")
    def coi(self, obj: Conditioning) -> str:
        return obj.order.chain.coi

    @admin.display(description="order")
    def order_link(self, obj: Conditioning) -> str:
        return admin_link(obj.order)

    @admin.display(description="patient", ordering="order__patient__family_name")
    def patient_name(self, obj: Conditioning) -> str:
        return obj.order.patient.display_name

    @admin.display(description="MRN", ordering="order__patient__mrn")
    def mrn(self, obj: Conditioning) -> str:
        return obj.order.patient.mrn

    @admin.display(description="patient")
    def patient_link(self, obj: Conditioning) -> str:
        return patient_link(obj.order.patient)

    @admin.display(description="dose", ordering="dose")
    def dose_display(self, obj: Conditioning) -> str:
        return f"{obj.dose.normalize():f} {obj.dose_unit}"

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> Conditioning:
        return conditioning_record(
            actor=acting_user(request),
            order=data["coi"],
            regimen=data["regimen"],
            drug=data["drug"],
            dose=data["dose"],
            dose_unit=data.get("dose_unit") or "mg/m2",
            given_on=data["given_on"],
            day_relative=data["day_relative"],
        )

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: str | None = None) -> Any:
        # Conditioning is several lines (one per drug and day): straight on to the next, with the COI kept.
        if "_addanother" in request.POST:
            messages.success(request, f"Recorded {obj}.")
            return HttpResponseRedirect(add_url(Conditioning, coi=obj.order.chain.coi))
        return super().response_add(request, obj, post_url_continue)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"coi": request.GET.get("coi", "")}
