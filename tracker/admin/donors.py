"""Allogeneic donors on the patient side: who the donor is (PHI), registered here; the product side's page (by
code: screening, tests, QA's determination) is linked from it. And the allocation of inventory units to an order,
from the order's page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.forms import BaseFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from products.admin.base import acting_user
from products.admin.links import admin_link
from products.admin.service_pages import REFUSALS, show_refusal
from products.admin_forms import ServiceForm
from products.choices import DonorException, Source
from products.models import Allocation
from products.rules.hla import typing_text
from products.selectors import active_facilities
from products.services.allocations import allocation_release
from tracker.admin.action_page import action_page
from tracker.admin.base import PatientDataAdmin
from tracker.models import DonorIdentity, TherapyOrder
from tracker.selectors import donor_identities_visible_to
from tracker.services.allocations import order_allocate
from tracker.services.donors import donor_register


class DonorAddForm(ServiceForm):
    facility = forms.ModelChoiceField(
        queryset=active_facilities(), help_text="Where the donor is screened (one of your facilities)."
    )
    hla = forms.JSONField(
        label="HLA typing",
        required=False,
        help_text='Optional, in allele notation: {"A": ["A*02:01", "A*01:01"], "B": [...], "C": [...], "DRB1": [...]}.',
    )

    class Meta:
        model = DonorIdentity
        fields = ["facility", "given_name", "family_name", "birth_date", "sex", "phone", "email", "address", "hla"]


@admin.register(DonorIdentity)
class DonorIdentityAdmin(PatientDataAdmin):
    list_display = ["donor_code", "display_name", "birth_date", "facility", "eligibility"]
    list_select_related = ["donor__facility"]
    search_fields = ["donor__donor_code", "family_name", "given_name"]
    add_form = DonorAddForm
    add_fieldsets = [
        (
            None,
            {
                "fields": [
                    "facility",
                    "given_name",
                    "family_name",
                    "birth_date",
                    "sex",
                    "phone",
                    "email",
                    "address",
                    "hla",
                ]
            },
        )
    ]
    change_fields = (
        "donor_link",
        "family_name",
        "given_name",
        "birth_date",
        "sex",
        "phone",
        "email",
        "address",
        "eligibility",
        "hla_typing",
    )
    readonly_fields = ["donor_link", "eligibility", "hla_typing"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return donor_identities_visible_to(request.user)

    @admin.display(description="donor code", ordering="donor__donor_code")
    def donor_code(self, obj: DonorIdentity) -> str:
        return obj.donor.donor_code

    @admin.display(description="name", ordering="family_name")
    def display_name(self, obj: DonorIdentity) -> str:
        return obj.display_name

    @admin.display(description="facility")
    def facility(self, obj: DonorIdentity) -> str:
        return obj.donor.facility.code

    @admin.display(description="eligibility")
    def eligibility(self, obj: DonorIdentity) -> str:
        return obj.donor.get_eligibility_display()

    @admin.display(description="HLA typing")
    def hla_typing(self, obj: DonorIdentity) -> str:
        return typing_text(obj.donor.hla)

    @admin.display(description="donor (screening, tests, determination)")
    def donor_link(self, obj: DonorIdentity) -> str:
        return admin_link(obj.donor, obj.donor.donor_code)

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> DonorIdentity:
        return donor_register(
            actor=acting_user(request),
            facility=data["facility"],
            given_name=data["given_name"],
            family_name=data["family_name"],
            birth_date=data["birth_date"],
            sex=data["sex"],
            phone=data.get("phone", ""),
            email=data.get("email", ""),
            address=data.get("address", ""),
            hla=data.get("hla") or None,
        )

    def created_message(self, obj: DonorIdentity) -> str | None:
        return f"Donor code {obj.donor.donor_code} issued: label the donor's samples and cells with it, never the name."


# --- allocation from the order's page ------------------------------------------------------------------------


class AllocateForm(forms.Form):
    unit = forms.CharField(
        label="Unit id",
        required=False,
        max_length=40,
        help_text="Leave empty for the soonest-expiring eligible unit of the product.",
    )
    exception = forms.ChoiceField(
        label="Exception (a donor not eligible)",
        required=False,
        choices=[("", "none"), *DonorException.choices],
        help_text="Only for a named unit whose donor is not eligible (21 CFR 1271.60(d), 1271.65(b)); the treating "
        "physician signs it.",
    )
    exception_rationale = forms.CharField(
        label="Documented need or relation", required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )
    password = forms.CharField(
        label="Your password (with an exception)",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ReleaseAllocationForm(forms.Form):
    reason = forms.CharField(
        label="Why the unit returns to stock", widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )


def allocation_rows(order: TherapyOrder) -> list[tuple[str, Any]]:
    """The order's allocations as the order's page lists them."""
    rows = []
    for a in Allocation.objects.filter(chain_id=order.chain_id).select_related("unit").order_by("allocated_at", "id"):
        state = "open" if a.released_at is None else f"released {a.released_at:%Y-%m-%d %H:%M}: {a.release_reason}"
        match = f"HLA {a.hla_matches}/8" if a.hla_matches is not None else "HLA not compared"
        rows.append((f"Unit {a.unit.unit_id}", f"{state}; {match}; donor {a.donor_eligibility}"))
    return rows


class OrderAllocationViews(PatientDataAdmin):
    """Mixed into the order's admin: allocate a unit (`allocate/`) and release an allocation (`release/<id>/`)."""

    def allocate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self.missing(request, object_id)
        if not request.user.has_perm("products.add_allocation"):
            raise PermissionDenied
        back = reverse("admin:tracker_therapyorder_change", args=[order.pk])
        form = AllocateForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                allocation = order_allocate(
                    actor=acting_user(request),
                    order_id=order.pk,
                    unit_id=data["unit"].strip() or None,
                    exception=data["exception"],
                    exception_rationale=data["exception_rationale"],
                    password=data["password"],
                )
            except REFUSALS as exc:
                show_refusal(form, exc, {"invalid_signature": "password", "signing_locked": "password"})
            else:
                self.log_change(request, order, f"Allocated unit {allocation.unit.unit_id}")
                messages.success(request, f"Unit {allocation.unit.unit_id} allocated to {order.chain.coi}.")
                return HttpResponseRedirect(back)
        return action_page(
            self,
            request,
            title=f"Allocate a unit to {order.chain.coi}",
            intro="Reserve a unit of the order's allogeneic product from inventory. The bedside then accepts it for "
            "this order only.",
            summary=[("Product", order.product.code), *allocation_rows(order)],
            form=form,
            submit="Allocate",
            cancel_url=back,
            obj=order,
        )

    def release_allocation_view(self, request: HttpRequest, object_id: str, allocation_id: int) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self.missing(request, object_id)
        if not request.user.has_perm("products.change_allocation"):
            raise PermissionDenied
        allocation = Allocation.objects.filter(pk=allocation_id, chain_id=order.chain_id).select_related("unit").first()
        if allocation is None:
            return self.missing(request, str(allocation_id), "allocation")
        back = reverse("admin:tracker_therapyorder_change", args=[order.pk])
        form = ReleaseAllocationForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                allocation_release(
                    actor=acting_user(request), allocation_id=allocation.pk, reason=form.cleaned_data["reason"]
                )
            except REFUSALS as exc:
                show_refusal(form, exc)
            else:
                self.log_change(request, order, f"Released unit {allocation.unit.unit_id} to stock")
                messages.success(request, f"Unit {allocation.unit.unit_id} returned to stock.")
                return HttpResponseRedirect(back)
        return action_page(
            self,
            request,
            title=f"Return unit {allocation.unit.unit_id} to stock",
            summary=[("Order", order.chain.coi), ("Unit", allocation.unit.unit_id)],
            form=form,
            submit="Return to stock",
            cancel_url=back,
            obj=order,
        )


def allocation_links(request: HttpRequest, order: TherapyOrder) -> list[tuple[str, str]]:
    """The order page's links: allocate a unit, and return each open allocation to stock."""
    if order.product.source != Source.ALLOGENEIC:
        return []
    links = []
    if request.user.has_perm("products.add_allocation"):
        url = reverse("admin:tracker_therapyorder_allocate", args=[order.pk])
        links.append(("Allocate a unit from inventory…", url))
    if request.user.has_perm("products.change_allocation"):
        for a in Allocation.objects.filter(chain_id=order.chain_id, released_at=None).select_related("unit"):
            url = reverse("admin:tracker_therapyorder_release_allocation", args=[order.pk, a.pk])
            links.append((f"Return unit {a.unit.unit_id} to stock…", url))
    return links
