"""The bases of the patient-side admins: patient data only for those who may see it, scoped by the selectors the
API uses, and a clinical record added through its service and read-only afterwards."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from products.admin.service_pages import ServiceAdmin
from tracker.access import may_see_patients
from tracker.admin.display import patient_link
from tracker.selectors import patients_visible_to


class PatientDataAdmin(ServiceAdmin):
    """Patient data: not even listed for a role that may not see it (manufacturing); scoped by `visible`."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_see_patients(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_see_patients(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may_see_patients(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Recorded through a service; there is no service to edit them (yet), so the page is read-only.
        return obj is None and may_see_patients(request.user) and super().has_change_permission(request, obj)


class ClinicalAdmin(PatientDataAdmin):
    """A clinical record of one patient: added through its service, then shown with what the service computed."""

    autocomplete_fields: ClassVar[list[str] | tuple[str, ...]] = ("patient",)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "patient":
            kwargs["queryset"] = patients_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {key: request.GET[key] for key in ("patient", "coi", "unit_ref") if request.GET.get(key)}

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: str | None = None) -> Any:
        # Straight to the record's page: it shows what the service computed (grades, dose, report deadline).
        if "_addanother" not in request.POST and "_popup" not in request.POST:
            messages.success(request, f"{obj._meta.verbose_name.capitalize()} recorded.")
            return HttpResponseRedirect(reverse(f"admin:tracker_{obj._meta.model_name}_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def record_panel(self, request: HttpRequest, obj: Any) -> dict[str, Any] | None:
        return None

    def object_links(self, request: HttpRequest, obj: Any) -> list[tuple[str, str]]:
        return []

    def record_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {"record_panel": self.record_panel(request, obj), "object_links": self.object_links(request, obj)}

    @admin.display(description="patient", ordering="patient__family_name")
    def patient_name(self, obj: Any) -> str:
        return obj.patient.display_name

    @admin.display(description="MRN", ordering="patient__mrn")
    def mrn(self, obj: Any) -> str:
        return obj.patient.mrn

    @admin.display(description="patient")
    def patient_link(self, obj: Any) -> str:
        return patient_link(obj.patient)
