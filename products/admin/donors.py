"""Allogeneic donors as the product side knows them (a code, never the person), with their screening, tests and
QA's e-signed eligibility determination; and the inventory: allogeneic units on hand, where, expiring when,
allocated to which order (a COI)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from products.access import user_roles
from products.admin.base import ReadOnlyInline, acting_user
from products.admin.links import admin_link
from products.admin.service_pages import REFUSALS, RowInline, ServiceAdmin, show_refusal
from products.admin_forms import SignatureForm
from products.choices import EligibilityDecision, Role
from products.models import Donor, DonorDetermination, DonorScreening, DonorTest, InventoryUnit, Unit
from products.rules.hla import typing_text
from products.selectors import donors_visible_to, inventory_visible_to, unit_donation, with_open_holds
from products.services.donors import donor_determine, donor_screening_record, donor_test_record


class ScreeningLogInline(ReadOnlyInline):
    model = DonorScreening
    fields = ["kind", "outcome", "performed_at", "performed_by", "findings"]
    verbose_name_plural = "screening (21 CFR 1271.75)"
    show_change_link = False


class ScreeningRowInline(RowInline):
    model = DonorScreening
    fields = ["kind", "outcome", "performed_at", "findings"]
    verbose_name = "new screening"
    verbose_name_plural = "record a screening"

    def create(self, request: HttpRequest, parent: Donor, data: dict[str, Any]) -> DonorScreening:
        return donor_screening_record(
            actor=acting_user(request),
            donor_id=parent.pk,
            kind=data["kind"],
            outcome=data["outcome"],
            performed_at=data["performed_at"],
            findings=data.get("findings", ""),
        )


class TestLogInline(ReadOnlyInline):
    model = DonorTest
    fields = ["test", "result", "sampled_at", "recorded_by", "note"]
    verbose_name_plural = "infectious-disease tests (21 CFR 1271.85)"
    show_change_link = False


class TestRowInline(RowInline):
    model = DonorTest
    fields = ["test", "result", "sampled_at", "note"]
    verbose_name = "new test result"
    verbose_name_plural = "record a test result"

    def create(self, request: HttpRequest, parent: Donor, data: dict[str, Any]) -> DonorTest:
        return donor_test_record(
            actor=acting_user(request),
            donor_id=parent.pk,
            test=data["test"],
            result=data["result"],
            sampled_at=data["sampled_at"],
            note=data.get("note", ""),
        )


class DeterminationLogInline(ReadOnlyInline):
    model = DonorDetermination
    fields = ["determination", "determined_at", "signature"]
    verbose_name_plural = "eligibility determinations (e-signed by QA)"
    show_change_link = False


class DeterminationForm(SignatureForm):
    field_order = ["determination", "password", "meaning"]
    determination = forms.ChoiceField(label="Determination", choices=EligibilityDecision.choices)


@admin.register(Donor)
class DonorAdmin(ServiceAdmin):
    """Donors by code. They are registered on the patient side (tracker's donor page), where the person is."""

    list_display = ["donor_code", "facility", "eligibility", "created_at"]
    list_filter = ["eligibility", ("facility", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["facility"]
    search_fields = ["donor_code"]
    change_fields = ("donor_code", "facility", "eligibility", "hla_typing", "created_at")
    readonly_fields = ["hla_typing"]
    inlines = [
        ScreeningLogInline,
        ScreeningRowInline,
        TestLogInline,
        TestRowInline,
        DeterminationLogInline,
    ]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return donors_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the person is registered on the patient side, which creates the code

    def has_change_permission(self, request: HttpRequest, obj: Donor | None = None) -> bool:
        # "Changing" a donor means adding screening and test results (through their services).
        user = request.user
        return super().has_change_permission(request, obj) or user.has_perm("products.add_donortest")

    def get_inline_instances(self, request: HttpRequest, obj: Donor | None = None) -> list:
        return super().get_inline_instances(request, obj) if obj is not None else []

    @admin.display(description="HLA typing")
    def hla_typing(self, obj: Donor) -> str:
        return typing_text(obj.hla)

    def record_context(self, request: HttpRequest, obj: Donor) -> dict[str, Any]:
        if Role.QA not in user_roles(request.user):
            return {}
        url = reverse("admin:products_donor_determine", args=[obj.pk])
        return {"object_links": [("Determine eligibility (e-signed)…", url)]}

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/determine/", view(self.determine_view), name="products_donor_determine"),
            *super().get_urls(),
        ]

    def determine_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self.missing(request, object_id)
        if Role.QA not in user_roles(request.user):
            raise PermissionDenied
        form = DeterminationForm(request.POST if request.method == "POST" else None)
        back = reverse("admin:products_donor_change", args=[obj.pk])
        if form.is_valid():
            data = form.cleaned_data
            try:
                donor_determine(
                    donor_id=obj.pk,
                    signer=acting_user(request),
                    determination=data["determination"],
                    password=data["password"],
                    meaning=data["meaning"],
                )
            except REFUSALS as exc:
                show_refusal(form, exc, {"invalid_signature": "password", "signing_locked": "password"})
            else:
                self.log_change(request, obj, f"Determined {data['determination']} (e-signed)")
                messages.success(request, f"Donor {obj.donor_code} determined {data['determination']}.")
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Determine the eligibility of donor {obj.donor_code}",
            "subtitle": None,
            "opts": self.opts,
            "original": obj,
            "summary": [
                ("Donor", obj.donor_code),
                ("Eligibility now", obj.get_eligibility_display()),
                ("Screenings", ", ".join(f"{s.kind}: {s.outcome}" for s in obj.screenings.all()) or "none"),
                ("Tests", ", ".join(f"{t.test}: {t.result}" for t in obj.tests.all()) or "none"),
            ],
            "records": [],
            "intro": "21 CFR 1271.50: eligible only with every required test negative and the screening acceptable.",
            "form": form,
            "submit": "Sign the determination",
            "cancel_url": back,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/tracker/record_action.html", context)


@admin.register(InventoryUnit)
class InventoryAdmin(ServiceAdmin):
    """The allogeneic inventory: on hand (not given, not discarded), where, expiring when, allocated to which
    order. A COI, never a patient: this page is the product side's."""

    list_display = [
        "unit_id",
        "product",
        "lot",
        "donor",
        "donor_eligibility",
        "status",
        "current_facility",
        "storage_location",
        "expires_at",
        "expires_in_days",
        "allocated_to",
        "on_hold",
    ]
    list_filter = ["status", "batch__product", ("current_facility", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["unit_id", "batch__lot_number", "chain__coi", "batch__collection__donor__donor_code"]
    change_fields = ("unit_link",)
    readonly_fields = ["unit_link"]
    list_per_page = 100

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return with_open_holds(inventory_visible_to(request.user)).select_related("current_facility", "chain")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        # A proxy of Unit: the same rows, read through the inventory's selector.
        return super().get_queryset(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Unit | None = None) -> bool:
        return False

    @admin.display(description="product", ordering="batch__product__code")
    def product(self, obj: Unit) -> str:
        return obj.batch.product.code

    @admin.display(description="lot", ordering="batch__lot_number")
    def lot(self, obj: Unit) -> str:
        return obj.batch.lot_number

    @admin.display(description="donor")
    def donor(self, obj: Unit) -> str:
        collection = obj.batch.collection
        return collection.donor.donor_code if collection is not None and collection.donor else "-"

    @admin.display(description="donor eligibility")
    def donor_eligibility(self, obj: Unit) -> str:
        status = unit_donation(obj)
        return str(status.eligibility) if status is not None else "-"

    @admin.display(description="expires in (days)")
    def expires_in_days(self, obj: Unit) -> int:
        return (obj.expires_at - timezone.now()).days

    @admin.display(description="allocated to (COI)", ordering="chain__coi")
    def allocated_to(self, obj: Unit) -> str:
        return obj.chain.coi if obj.chain else "-"

    @admin.display(description="on hold", boolean=True)
    def on_hold(self, obj: Unit) -> bool:
        return bool(getattr(obj, "open_hold_ids", None))

    @admin.display(description="unit")
    def unit_link(self, obj: Unit) -> str:
        return admin_link(Unit.objects.get(pk=obj.pk))
