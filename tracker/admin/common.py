"""What the patient-side admins share: cheap filters, the record panel, refusals named after the form's fields,
and the small pages an action asks its reason on."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from products.access import user_facility_ids
from products.admin.base import Refusal, refusal_errors
from products.admin.chain import admin_link
from products.errors import DomainError
from products.models import Facility
from tracker.admin.patients import PatientDataAdmin, patients_visible_to
from tracker.choices import CheckStatus
from tracker.rules.grading import URGENT_GRADE


@contextmanager
def refused_on(fields: dict[str, str]) -> Iterator[None]:
    """Like products.admin.base.refused, with the service's field names (or a domain error's code) mapped to
    the form field the message belongs on, e.g. {"invalid_signature": "verifier_password"}."""
    try:
        yield
    except (DomainError, ValidationError, IntegrityError) as exc:
        errors = refusal_errors(exc)
        if isinstance(exc, DomainError) and exc.code in fields:
            errors = {fields[exc.code]: errors[None]}
        else:
            errors = {(fields.get(k, k) if k else k): v for k, v in errors.items()}
        raise Refusal(errors) from exc


def form_refusal(form: BaseForm, exc: DomainError | ValidationError) -> None:
    """A service's refusal on a plain (non-admin) form: on the field it names, else at the top."""
    for field, msgs in refusal_errors(exc).items():
        form.add_error(field if field in form.fields else None, msgs)


# --- filters that never scan the table (a facility list from the user's memberships, fixed grades) ----------


def facility_filter(path: str, title: str = "facility") -> type[admin.SimpleListFilter]:
    """Filter by facility, offering the user's own facilities (all for superusers): one small query, where
    RelatedOnlyFieldListFilter would read every row of a million-row schedule to find the facilities used."""

    class FacilityFilter(admin.SimpleListFilter):
        parameter_name = path.replace("__", "_") + "_id"

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[int, str]]:
            facilities = Facility.objects.order_by("name")
            if not request.user.is_superuser:
                facilities = facilities.filter(id__in=user_facility_ids(request.user))
            return list(facilities.values_list("id", "name"))

        def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
            if self.value() is None:
                return queryset
            try:
                facility_id = int(self.value())
            except ValueError:
                return queryset.none()
            return queryset.filter(**{f"{path}_id": facility_id})

    FacilityFilter.title = title
    return FacilityFilter


def grade_filter(field: str, title: str, grades: Sequence[int] = (0, 1, 2, 3, 4)) -> type[admin.SimpleListFilter]:
    """Filter by a computed grade: each grade, and "2 or more" (the grades that raise an urgent reminder)."""

    class GradeFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            return [(str(g), f"Grade {g}") for g in grades] + [(f"{URGENT_GRADE}+", f"Grade {URGENT_GRADE} or more")]

        def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
            value = self.value()
            if value is None:
                return queryset
            if value.endswith("+") and value[:-1].isdigit():
                return queryset.filter(**{f"{field}__gte": int(value[:-1])})
            if value.isdigit():
                return queryset.filter(**{field: int(value)})
            return queryset.none()

    GradeFilter.title = title
    return GradeFilter


# --- display --------------------------------------------------------------------------------------------------


def grade_badge(grade: int | None) -> str:
    """A computed grade, red from the grade that raises an urgent reminder."""
    if grade is None:
        return "-"
    tone = "tone-alert" if grade >= URGENT_GRADE else "tone-warn" if grade > 0 else "tone-ok"
    return format_html('<strong class="{}">{}</strong>', tone, grade)


def cells(count: int | None, unit: str = "cells") -> str:
    """100000000 -> "1.00 x 10^8 cells (100,000,000)": the dose as written on a label, and exactly."""
    if count is None:
        return "-"
    mantissa, exponent = f"{count:.2e}".split("e")
    return format_html("{} \u00d7 10<sup>{}</sup> {} ({})", mantissa, int(exponent), unit, f"{count:,}")


def check_state(check: Any) -> str:
    if check.status == CheckStatus.OPEN and check.grace_until < timezone.now():
        return mark_safe('<strong class="tone-alert">OVERDUE</strong>')
    if check.status == CheckStatus.OPEN and check.due_at <= timezone.now():
        return mark_safe("<strong>due now</strong>")
    return check.get_status_display()


def when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


def panel(html: SafeString | str, *, alert: bool = False) -> dict[str, Any]:
    """What a record's change page shows above its fields (templates/admin/tracker/change_form.html)."""
    return {"html": html, "alert": alert}


def changelist_url(model: type[models.Model], **params: Any) -> str:
    from django.utils.http import urlencode

    base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{base}?{urlencode(params)}" if params else base


def add_url(model: type[models.Model], **params: Any) -> str:
    from django.utils.http import urlencode

    base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    return f"{base}?{urlencode(params)}" if params else base


# --- a small page asking what an action needs (a reason, a time) ------------------------------------------


def action_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    title: str,
    form: BaseForm,
    submit: str,
    cancel_url: str,
    summary: Sequence[tuple[str, Any]] = (),
    records: Sequence[Any] = (),
    intro: str = "",
    obj: models.Model | None = None,
) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": model_admin.opts,
        "original": obj,
        "summary": summary,
        "records": records,
        "intro": intro,
        "form": form,
        "submit": submit,
        "cancel_url": cancel_url,
        "media": model_admin.media + form.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/tracker/record_action.html", context)


# --- the base of every clinical record's admin ---------------------------------------------------------------


class ClinicalAdmin(PatientDataAdmin):
    """A clinical record of one patient: added through its service, read-only afterwards, scoped to the user's
    facilities' patients and invisible to the manufacturing role (PatientDataAdmin)."""

    facility_path = "patient__facility"
    autocomplete_fields = ["patient"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request_user": request.user})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "patient":
            kwargs["queryset"] = patients_visible_to(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {key: request.GET[key] for key in ("patient", "coi", "unit_ref") if request.GET.get(key)}

    def response_add(self, request: HttpRequest, obj: models.Model, post_url_continue: str | None = None) -> Any:
        # Straight to the record's page: it shows what the service computed (grades, dose, report deadline).
        if "_addanother" not in request.POST and "_popup" not in request.POST:
            messages.success(request, f"{obj._meta.verbose_name.capitalize()} recorded.")
            return HttpResponseRedirect(reverse(f"admin:tracker_{obj._meta.model_name}_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def record_panel(self, request: HttpRequest, obj: Any) -> dict[str, Any] | None:
        return None

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_view_or_change_permission(request, obj):
            extra_context["record_panel"] = self.record_panel(request, obj)
            extra_context.setdefault("object_links", self.object_links(request, obj))
        return super().change_view(request, object_id, form_url, extra_context)

    def object_links(self, request: HttpRequest, obj: Any) -> list[tuple[str, str]]:
        return []

    @admin.display(description="patient", ordering="patient__family_name")
    def patient_name(self, obj: Any) -> str:
        return obj.patient.display_name

    @admin.display(description="MRN", ordering="patient__mrn")
    def mrn(self, obj: Any) -> str:
        return obj.patient.mrn

    @admin.display(description="patient")
    def patient_link(self, obj: Any) -> str:
        return patient_link(obj.patient)


def patient_link(patient: Any) -> str:
    if patient is None:
        return "-"
    return admin_link(patient, f"{patient.display_name} (MRN {patient.mrn})")
