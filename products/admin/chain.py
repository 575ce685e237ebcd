"""Chains of identity and collections."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.forms import BaseFormSet
from django.http import HttpRequest

from products.admin.base import ProjectAdmin, ReadOnlyInline, acting_user
from products.admin.board_filters import LateFilter, StageFilter, at_filter
from products.admin.labels import COLLECTION_LABEL_ACTIONS
from products.admin.links import add_url, admin_link
from products.admin.service_pages import ServiceAdmin, domain_message
from products.admin_forms import CollectionAddForm
from products.errors import DomainError
from products.models import Batch, ChainOfIdentity, Collection, Unit
from products.pipeline import chain_at
from products.selectors import chains_visible_to, collections_visible_to, member_facilities
from products.services.chains import CLOSED, chain_cancel
from products.services.collections import collection_record


class CollectionLogInline(ReadOnlyInline):
    model = Collection
    fields = ["din_display", "facility", "method", "volume_ml", "collected_at"]
    verbose_name_plural = "collections"

    @admin.display(description="DIN")
    def din_display(self, obj: Collection) -> str:
        return obj.full_din


class BatchLogInline(ReadOnlyInline):
    model = Batch
    fields = ["lot_number", "facility", "status", "started_at", "status_changed_at"]
    verbose_name_plural = "batches"


class UnitLogInline(ReadOnlyInline):
    model = Unit
    fields = ["unit_id", "status", "current_facility", "expires_at", "temperature_excursion"]
    verbose_name_plural = "units"


@admin.register(ChainOfIdentity)
class ChainOfIdentityAdmin(ProjectAdmin):
    """One therapy order on the product side. Created by ordering a therapy (tracker), never here."""

    list_display = ["coi", "product", "treatment_facility", "status", "created_at"]
    list_filter = [
        StageFilter,
        LateFilter,
        "status",
        "product",
        ("treatment_facility", admin.RelatedOnlyFieldListFilter),
        "created_at",
        at_filter(chain_at),
    ]
    list_select_related = ["product", "treatment_facility"]
    search_fields = ["coi", "legacy_coi", "collections__din", "batches__lot_number", "units__unit_id"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "coi",
        "legacy_coi",
        "product",
        "treatment_facility",
        "status",
        "created_at",
        "updated_at",
    )
    inlines = [CollectionLogInline, BatchLogInline, UnitLogInline]
    actions = ["cancel"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return chains_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def record_context(self, request: HttpRequest, obj: ChainOfIdentity) -> dict[str, Any]:
        if obj.status in CLOSED:
            return {}
        links = []
        if request.user.has_perm("products.add_collection"):
            links.append(("Record a collection", add_url(Collection, coi=obj.coi)))
        if request.user.has_perm("products.add_batch"):
            links.append(("Start a batch", add_url(Batch, coi=obj.coi)))
        return {"object_links": links}

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("products.change_chainofidentity")

    @admin.action(
        description="Cancel selected chains",
        permissions=["cancel"],
        location=[admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM],
    )
    def cancel(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        chain_cancel_many(request, list(queryset.values_list("id", "coi")))


def chain_cancel_many(request: HttpRequest, chains: list[tuple[int, str]]) -> None:
    for chain_id, coi in chains:
        try:
            chain_cancel(actor=acting_user(request), chain_id=chain_id)
        except DomainError as exc:
            messages.error(request, f"{coi}: {domain_message(exc)}")
        else:
            messages.success(request, f"Chain {coi} cancelled.")


@admin.register(Collection)
class CollectionAdmin(ServiceAdmin):
    list_display = ["din_display", "coi", "facility", "method", "volume_ml", "collected_at", "collected_by"]
    list_filter = ["method", ("facility", admin.RelatedOnlyFieldListFilter), "collected_at"]
    list_select_related = ["chain", "facility", "collected_by"]
    search_fields = ["din", "chain__coi", "chain__legacy_coi"]
    actions = COLLECTION_LABEL_ACTIONS
    date_hierarchy = "collected_at"
    add_form = CollectionAddForm
    add_fieldsets = [
        (None, {"fields": ["coi", "din", "facility", "collected_at", "method", "volume_ml"]}),
        ("Allogeneic: a donor's cells (instead of a COI)", {"fields": ["donor_code", "product"]}),
        ("Cell counts", {"fields": ["total_nucleated_cells", "cd3_cells", "cd34_cells"]}),
        (None, {"fields": ["note"]}),
    ]
    change_fields = (
        "din_display",
        "chain_link",
        "facility",
        "collected_at",
        "method",
        "volume_ml",
        "total_nucleated_cells",
        "cd3_cells",
        "cd34_cells",
        "collected_by",
        "note",
        "created_at",
    )
    readonly_fields = ["din_display", "chain_link"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return collections_visible_to(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Collection | None = None) -> bool:
        # A collection is a record of what happened: it is not edited afterwards.
        return obj is None and super().has_change_permission(request, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"coi": request.GET.get("coi", "")}

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "facility":
            kwargs["queryset"] = member_facilities(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="DIN", ordering="din")
    def din_display(self, obj: Collection) -> str:
        return obj.full_din

    @admin.display(description="COI", ordering="chain__coi")
    def coi(self, obj: Collection) -> str:
        return obj.chain.coi if obj.chain is not None else "-"  # a donor's collection (allogeneic) has no chain

    @admin.display(description="chain of identity")
    def chain_link(self, obj: Collection) -> str:
        return admin_link(obj.chain)

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> Collection:
        return collection_record(
            actor=acting_user(request),
            chain=data.get("coi"),
            donor=data.get("donor_code"),
            product=data.get("product"),
            din=data["din"],
            facility=data["facility"],
            collected_at=data["collected_at"],
            method=data["method"],
            volume_ml=data["volume_ml"],
            total_nucleated_cells=data.get("total_nucleated_cells"),
            cd3_cells=data.get("cd3_cells"),
            cd34_cells=data.get("cd34_cells"),
            note=data.get("note", ""),
        )
