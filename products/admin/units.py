"""Units (bags) and their custody log: where each bag is, who handed it on, at what temperature."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import BaseFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from products.admin.base import ReadOnlyInline, acting_user
from products.admin.batch_records import open_batches
from products.admin.board_filters import at_filter, board_filter
from products.admin.holds import HoldLogInline, may_decide, open_hold_url
from products.admin.labels import UNIT_LABEL_ACTIONS
from products.admin.links import admin_link
from products.admin.service_pages import RowInline, ServiceAdmin
from products.admin_forms import CustodyForm, CustodyRowForm, UnitAddForm
from products.models import CustodyRecord, Unit
from products.pipeline import UNIT_FIGURES, unit_at
from products.selectors import (
    active_facilities,
    custody_visible_to,
    open_holds_of_unit,
    units_visible_to,
    with_open_holds,
)
from products.services.holds import FINISHED
from products.services.units import custody_record, unit_create


class CustodyLogInline(ReadOnlyInline):
    model = CustodyRecord
    fields = ["seq", "event", "at", "from_facility", "facility", "temperature_c", "excursion", "note", "recorded_by"]
    verbose_name_plural = "custody log (append-only)"
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).select_related("unit", "facility", "from_facility", "recorded_by")


class CustodyRowInline(RowInline):
    model = CustodyRecord
    form = CustodyRowForm
    fields = ["event", "at", "facility", "temperature_c", "note"]
    verbose_name = "new custody event"
    verbose_name_plural = "record a custody event"

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "facility":
            kwargs["queryset"] = active_facilities()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def create(self, request: HttpRequest, parent: Unit, data: dict[str, Any]) -> CustodyRecord:
        return custody_record(
            actor=acting_user(request),
            unit_id=parent.unit_id,
            event=data["event"],
            at=data["at"],
            facility=data["facility"],
            temperature_c=data.get("temperature_c"),
            note=data.get("note", ""),
        )


def unit_panel(unit: Unit, *, decide: bool = False) -> dict[str, Any]:
    """What a coordinator must see first on a unit's page."""
    now = timezone.now()
    holds = [
        {
            "hold": hold,
            "on": "its batch" if hold.batch_id else "the unit",
            "url": reverse("admin:products_hold_change", args=[hold.pk]),
            "decide_url": reverse("admin:products_hold_decide", args=[hold.pk]) if decide else None,
        }
        for hold in open_holds_of_unit(unit)
    ]
    use_by_left = None
    if unit.use_by is not None and unit.use_by > now:
        use_by_left = int((unit.use_by - now).total_seconds() // 60)
    return {
        "status": unit.get_status_display(),
        "status_code": unit.status,
        "current_facility": unit.current_facility,
        "destination": unit.destination,
        "expires_at": unit.expires_at,
        "use_by": unit.use_by,
        "use_by_minutes_left": use_by_left,
        "expired": unit.is_expired(now),
        "excursion": unit.temperature_excursion,
        "excursion_at": unit.excursion_at,
        "batch_status": unit.batch.get_status_display(),
        "holds": holds,
    }


@admin.register(Unit)
class UnitAdmin(ServiceAdmin):
    list_display = [
        "unit_id",
        "coi",
        "product",
        "batch",
        "status",
        "current_facility",
        "destination",
        "expires_at",
        "use_by",
        "excursion",
        "on_hold",
    ]
    list_filter = [
        board_filter(UNIT_FIGURES),
        "status",
        "temperature_excursion",
        "batch__product",
        ("current_facility", admin.RelatedOnlyFieldListFilter),
        "expires_at",
        at_filter(unit_at),
    ]
    list_select_related = ["chain", "batch__product", "current_facility", "destination"]
    search_fields = ["unit_id", "chain__coi", "batch__lot_number"]
    actions = UNIT_LABEL_ACTIONS
    date_hierarchy = "expires_at"
    add_form = UnitAddForm
    add_fieldsets = [(None, {"fields": ["batch", "unit_id", "dose_cells", "volume_ml", "expires_at"]})]
    change_fields = (
        "unit_id",
        "chain_link",
        "batch_link",
        "product",
        "status",
        "current_facility",
        "destination",
        "expires_at",
        "thawed_at",
        "use_by",
        "temperature_excursion",
        "excursion_at",
        "dose_cells",
        "volume_ml",
        "custody_seq",
        "last_event_at",
        "created_at",
    )
    readonly_fields = ["chain_link", "batch_link", "product"]
    inlines = [CustodyLogInline, CustodyRowInline, HoldLogInline]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return with_open_holds(units_visible_to(request.user))

    def get_inline_instances(self, request: HttpRequest, obj: Unit | None = None) -> list:
        return super().get_inline_instances(request, obj) if obj is not None else []

    def has_change_permission(self, request: HttpRequest, obj: Unit | None = None) -> bool:
        # A unit's own fields are never edited; "changing" it means adding to its custody log.
        return super().has_change_permission(request, obj) or request.user.has_perm("products.add_custodyrecord")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "batch":
            kwargs["queryset"] = open_batches(request.user).order_by("-started_at")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"batch": request.GET.get("batch")}

    def record_context(self, request: HttpRequest, obj: Unit) -> dict[str, Any]:
        context: dict[str, Any] = {"unit_panel": unit_panel(obj, decide=may_decide(request))}
        if obj.status not in FINISHED and request.user.has_perm("products.add_hold"):
            context["object_links"] = [("Hold the unit…", open_hold_url(unit=obj))]
        return context

    @admin.display(description="COI", ordering="chain__coi")
    def coi(self, obj: Unit) -> str:
        return obj.chain.coi if obj.chain else "-"

    @admin.display(description="product", ordering="batch__product__code")
    def product(self, obj: Unit) -> str:
        return str(obj.batch.product)

    @admin.display(description="excursion", boolean=True, ordering="temperature_excursion")
    def excursion(self, obj: Unit) -> bool:
        return obj.temperature_excursion

    @admin.display(description="on hold", boolean=True)
    def on_hold(self, obj: Unit) -> bool:
        return bool(getattr(obj, "open_hold_ids", None))

    @admin.display(description="chain of identity")
    def chain_link(self, obj: Unit) -> str:
        return admin_link(obj.chain)

    @admin.display(description="batch")
    def batch_link(self, obj: Unit) -> str:
        return format_html("{} ({})", admin_link(obj.batch), obj.batch.get_status_display())

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> Unit:
        return unit_create(
            actor=acting_user(request),
            batch_id=data["batch"].pk,
            unit_id=data["unit_id"].strip(),
            dose_cells=data["dose_cells"],
            volume_ml=data["volume_ml"],
            expires_at=data.get("expires_at"),
        )


@admin.register(CustodyRecord)
class CustodyRecordAdmin(ServiceAdmin):
    """The custody log across units. Append-only: the database refuses any change or deletion."""

    list_display = [
        "at",
        "unit",
        "seq",
        "event",
        "from_facility",
        "facility",
        "temperature_c",
        "excursion",
        "recorded_by",
    ]
    list_filter = ["event", "excursion", ("facility", admin.RelatedOnlyFieldListFilter), "at"]
    list_select_related = ["unit", "facility", "from_facility", "recorded_by"]
    search_fields = ["unit__unit_id", "unit__chain__coi", "unit__batch__lot_number"]
    date_hierarchy = "at"
    add_form = CustodyForm
    add_fieldsets = [(None, {"fields": ["unit_ref", "event", "at", "facility", "temperature_c", "note"]})]
    change_fields = (
        "unit_link",
        "seq",
        "event",
        "at",
        "from_facility",
        "facility",
        "temperature_c",
        "excursion",
        "note",
        "recorded_by",
        "recorded_at",
        "prev_hash",
        "hash",
    )
    readonly_fields = ["unit_link"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return custody_visible_to(request.user)

    def has_change_permission(self, request: HttpRequest, obj: CustodyRecord | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"unit_ref": request.GET.get("unit", "")}

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "facility":
            kwargs["queryset"] = active_facilities()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="unit")
    def unit_link(self, obj: CustodyRecord) -> str:
        return admin_link(obj.unit)

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> CustodyRecord:
        return custody_record(
            actor=acting_user(request),
            unit_id=data["unit_ref"].unit_id,
            event=data["event"],
            at=data["at"],
            facility=data["facility"],
            temperature_c=data.get("temperature_c"),
            note=data.get("note", ""),
        )
