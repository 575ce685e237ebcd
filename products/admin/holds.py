"""Quality holds: the list, opening a hold by hand (QA, coordinators) and QA's signed decision."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms import BaseFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from products.admin.base import ReadOnlyInline, acting_user
from products.admin.board_filters import at_filter, board_filter
from products.admin.links import add_url, admin_link
from products.admin.service_pages import ServiceAdmin, domain_message, show_refusal
from products.admin.signing import signer_name
from products.admin_forms import HoldAddForm, HoldDecisionForm
from products.choices import HoldStatus
from products.errors import DomainError
from products.models import Batch, Hold, Unit
from products.pipeline import HOLD_FIGURES, hold_at
from products.selectors import holds_visible_to
from products.services.holds import FINISHED, hold_decide, hold_open

SYSTEM = "system"


def opened_by_name(hold: Hold) -> str:
    return (hold.opened_by.get_full_name() or hold.opened_by.get_username()) if hold.opened_by else SYSTEM


def held_link(hold: Hold) -> str:
    return (
        format_html("unit {}", admin_link(hold.unit))
        if hold.unit_id
        else format_html("batch {}", admin_link(hold.batch))
    )


def open_hold_url(*, unit: Unit | None = None, batch: Batch | None = None) -> str:
    """The admin's "open a hold" page, with the unit or the lot already filled in."""
    if unit is not None:
        return add_url(Hold, unit_ref=unit.unit_id)
    assert batch is not None
    return add_url(Hold, batch_ref=batch.lot_number)


def may_decide(request: HttpRequest) -> bool:
    # Shows the decision page; the service still insists on the qa role itself and the facility.
    return request.user.has_perm("products.change_hold")


def covered_units(hold: Hold) -> list[Unit]:
    units = Unit.objects.filter(id=hold.unit_id) if hold.unit_id else Unit.objects.filter(batch=hold.batch)
    return list(units.select_related("current_facility").order_by("unit_id"))


class HoldLogInline(ReadOnlyInline):
    """The holds on a batch or a unit, open and decided, each linking to its page (and decision)."""

    model = Hold
    fields = ["hold_link", "kind", "status", "reason", "opened_at", "opened_by_display", "decided_at", "rationale"]
    verbose_name_plural = "holds"
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).select_related("opened_by").order_by("-opened_at", "-id")

    @admin.display(description="hold")
    def hold_link(self, obj: Hold) -> str:
        return admin_link(obj, f"Hold {obj.pk}")

    @admin.display(description="opened by")
    def opened_by_display(self, obj: Hold) -> str:
        return opened_by_name(obj)


@admin.register(Hold)
class HoldAdmin(ServiceAdmin):
    list_display = ["id", "held", "kind", "status", "opened_at", "opened_by_display", "decided_at"]
    list_display_links = ["id"]
    list_filter = [board_filter(HOLD_FIGURES), "status", "kind", "opened_at", at_filter(hold_at)]
    list_select_related = ["unit", "batch", "opened_by"]
    search_fields = ["unit__unit_id", "batch__lot_number", "unit__batch__lot_number", "reason"]
    date_hierarchy = "opened_at"
    add_form = HoldAddForm
    add_fieldsets = [(None, {"fields": ["unit_ref", "batch_ref", "kind", "reason"]})]
    change_fields = (
        "held",
        "kind",
        "reason",
        "status",
        "opened_at",
        "opened_by_display",
        "trigger",
        "covered",
        "rationale",
        "decision_signature",
        "decided_at",
    )
    readonly_fields = ["held", "opened_by_display", "trigger", "covered"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return holds_visible_to(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Hold | None = None) -> bool:
        # A hold's fields are never edited: its one change is QA's signed decision, on its own page.
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description="held", ordering="opened_at")
    def held(self, obj: Hold) -> str:
        return held_link(obj)

    @admin.display(description="opened by")
    def opened_by_display(self, obj: Hold) -> str:
        return opened_by_name(obj)

    @admin.display(description="opened because of")
    def trigger(self, obj: Hold) -> str:
        if obj.custody_record_id and obj.custody_record is not None:
            return format_html("custody event {} of unit {}", obj.custody_record.seq, admin_link(obj.unit))
        if obj.qc_result_id:
            return format_html("QC result {}", admin_link(obj.qc_result, obj.qc_result))
        return "-"

    @admin.display(description="units it covers")
    def covered(self, obj: Hold) -> str:
        units = covered_units(obj)
        if not units:
            return "none yet"
        return format_html_join(", ", "{} ({})", ((admin_link(u), u.get_status_display().lower()) for u in units))

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> Hold:
        unit, batch = data.get("unit"), data.get("batch")
        return hold_open(
            actor=acting_user(request),
            kind=data["kind"],
            reason=data["reason"],
            unit_id=unit.unit_id if unit is not None else None,
            batch_id=batch.pk if batch is not None else None,
        )

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: str | None = None) -> Any:
        if "_addanother" not in request.POST and "_popup" not in request.POST:
            messages.success(request, f"{obj} opened: nothing it covers may be shipped, thawed, dispensed or given.")
            return HttpResponseRedirect(reverse("admin:products_hold_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    # --- QA's decision, with an electronic signature ----------------------------------------------------

    def get_urls(self) -> list:
        return [
            path("<path:object_id>/decide/", self.admin_site.admin_view(self.decide_view), name="products_hold_decide"),
            *super().get_urls(),
        ]

    def record_context(self, request: HttpRequest, obj: Hold) -> dict[str, Any]:
        if obj.status == HoldStatus.OPEN and may_decide(request):
            return {"object_links": [("Decide (e-signature)…", reverse("admin:products_hold_decide", args=[obj.pk]))]}
        return {}

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        hold = self.get_object(request, unquote(object_id))
        if hold is None:
            return self.missing(request, object_id)
        if not may_decide(request):
            raise PermissionDenied
        change_url = reverse("admin:products_hold_change", args=[hold.pk])
        if hold.status != HoldStatus.OPEN:
            messages.info(request, f"{hold} was decided already; a decision is final.")
            return HttpResponseRedirect(change_url)
        form = HoldDecisionForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                hold = hold_decide(
                    hold_id=hold.pk,
                    signer=acting_user(request),
                    decision=data["decision"],
                    rationale=data["rationale"],
                    password=data["password"],
                    meaning=data["meaning"],
                )
            except DomainError as exc:
                # Nothing was written: the service's transaction rolled back.
                messages.error(request, f"Not decided: {domain_message(exc)}")
            except ValidationError as exc:
                show_refusal(form, exc)
            else:
                self.log_change(request, hold, f"Decided: {hold.get_status_display()}; {hold.decision_signature}")
                messages.success(
                    request, f"Hold {hold.pk}: {hold.get_status_display().lower()}. {hold.decision_signature}."
                )
                return HttpResponseRedirect(change_url)
        units = covered_units(hold)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Decide hold {hold.pk}",
            "subtitle": None,
            "opts": self.opts,
            "original": hold,
            "hold": hold,
            "held": held_link(hold),
            "opened_by": opened_by_name(hold),
            "trigger": self.trigger(hold),
            "units": [(u, u.status in FINISHED) for u in units],
            "form": form,
            "meaning": "Hold decision",
            "signer_name": signer_name(acting_user(request)),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/products/hold/decide.html", context)
