"""Chains of identity and collections."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db import models
from django.forms import BaseForm, BaseFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from products.access import user_facility_ids
from products.admin.base import ProjectAdmin, ReadOnlyInline, ServiceAdmin, domain_message
from products.admin.labels import COLLECTION_LABEL_ACTIONS
from products.admin_forms import CollectionAddForm
from products.errors import DomainError
from products.models import Batch, ChainOfIdentity, Collection, Facility, Unit
from products.selectors import chains_visible_to, collections_visible_to
from products.services.chains import CLOSED, chain_cancel
from products.services.collections import collection_record


def admin_link(obj: models.Model | None, text: Any = None) -> str:
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


def member_facilities(request: HttpRequest) -> models.QuerySet[Facility]:
    """The facilities where the user works (all for superusers): where they may record what happens."""
    facilities = Facility.objects.filter(is_active=True)
    if request.user.is_superuser:
        return facilities
    return facilities.filter(id__in=user_facility_ids(request.user))


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
    list_filter = ["status", "product", ("treatment_facility", admin.RelatedOnlyFieldListFilter), "created_at"]
    list_select_related = ["product", "treatment_facility"]
    search_fields = ["coi", "legacy_coi", "collections__din", "batches__lot_number", "units__unit_id"]
    date_hierarchy = "created_at"
    fields = ["coi", "legacy_coi", "product", "treatment_facility", "status", "created_at", "updated_at"]
    readonly_fields = fields
    inlines = [CollectionLogInline, BatchLogInline, UnitLogInline]
    actions = ["cancel"]

    def scope_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.filter(id__in=chains_visible_to(request.user).values("id"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        chain = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if chain is not None and chain.status not in CLOSED:
            links = []
            if request.user.has_perm("products.add_collection"):
                links.append(("Record a collection", f"{reverse('admin:products_collection_add')}?coi={chain.coi}"))
            if request.user.has_perm("products.add_batch"):
                links.append(("Start a batch", f"{reverse('admin:products_batch_add')}?coi={chain.coi}"))
            extra_context["object_links"] = links
        return super().change_view(request, object_id, form_url, extra_context)

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
            chain_cancel(actor=request.user, chain_id=chain_id)
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

    def scope_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.filter(id__in=collections_visible_to(request.user).values("id"))

    def has_change_permission(self, request: HttpRequest, obj: Collection | None = None) -> bool:
        # A collection is a record of what happened: it is not edited afterwards.
        return obj is None and super().has_change_permission(request, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"coi": request.GET.get("coi", "")}

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            # A COI is looked up only among the chains this user may see (else: "does not exist").
            form = type(form.__name__, (form,), {"visible_chains": chains_visible_to(request.user)})
        return form

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "facility":
            kwargs["queryset"] = member_facilities(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="DIN", ordering="din")
    def din_display(self, obj: Collection) -> str:
        return obj.full_din

    @admin.display(description="COI", ordering="chain__coi")
    def coi(self, obj: Collection) -> str:
        return obj.chain.coi

    @admin.display(description="chain of identity")
    def chain_link(self, obj: Collection) -> str:
        return admin_link(obj.chain)

    def service_create(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet]) -> models.Model:
        data = form.cleaned_data
        return collection_record(
            actor=request.user,
            chain=data["coi"],
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
