"""Pages of post-market surveillance and long-term follow-up: the safety figures (for the safety role, coordinators
and superusers), the patients lost to follow-up and a patient's transfer (coordinators), a patient's registry
documents. They read through selectors and write through services, like the clinicians' pages."""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from products.access import has_role
from products.choices import FacilityKind, Role
from products.errors import PermissionDeniedError
from products.models import Facility
from tracker.access import may_see_patients
from tracker.follow_up import lost_to_follow_up, may_see_lost_to_follow_up
from tracker.registry import registry_course, registry_documents
from tracker.selectors import orders_visible_to, patients_visible_to
from tracker.services.transfers import TRANSFER_ROLES, patient_transfer
from tracker.surveillance import may_see_surveillance, surveillance_summary
from tracker.surveillance_charts import SERIOUS_STATUSES, summary_charts
from tracker.surveillance_forms import SurveillanceFilterForm

FILTER_NAMES = ("product", "facility", "since", "until")
PATIENTS_PER_PAGE = 50


@login_required
def surveillance_page(request: HttpRequest) -> HttpResponse:
    """The safety figures of the caller's facilities, filtered by product, facility and infusion period."""
    if not may_see_surveillance(request.user):
        raise PermissionDenied("Only the safety and coordinator roles see the surveillance figures.")
    form = SurveillanceFilterForm(request.GET or None, user=request.user)
    valid = not form.is_bound or form.is_valid()
    summary = surveillance_summary(user=request.user, **(form.summary_arguments() if form.is_bound and valid else {}))
    query = urlencode([(name, request.GET[name]) for name in FILTER_NAMES if request.GET.get(name)]) if valid else ""
    user = request.user
    links = []
    if may_see_patients(user):
        links.append(("Clinicians' worklist", reverse("home")))
    if may_see_lost_to_follow_up(user):
        links.append(("Patients lost to follow-up", reverse("lost-to-follow-up-page")))
    if user.is_staff and user.has_perm("tracker.view_adverseevent"):
        admin_events = reverse("admin:tracker_adverseevent_changelist") + "?serious__exact=1"
        links.append(("Serious adverse events (admin)", admin_events))
    if user.is_staff and user.has_perm("products.view_monitoringprotocol"):
        links.append(("Monitoring protocols (admin)", reverse("admin:products_monitoringprotocol_changelist")))
    return render(
        request,
        "tracker/surveillance.html",
        {
            "form": form,
            "valid": valid,
            "summary": summary,
            "figures": summary.total,
            "charts": summary_charts(summary),
            "serious_statuses": SERIOUS_STATUSES,
            "csv_url": reverse("surveillance-summary-csv") + (f"?{query}" if query else ""),
            "api_url": reverse("surveillance-summary") + (f"?{query}" if query else ""),
            "links": links,
        },
    )


@login_required
def lost_to_follow_up_page(request: HttpRequest) -> HttpResponse:
    """Coordinators' list of their patients lost to follow-up, longest without contact first."""
    if not (may_see_patients(request.user) and may_see_lost_to_follow_up(request.user)):
        raise PermissionDenied("Coordinators see the patients lost to follow-up.")
    now = timezone.now()
    patients = lost_to_follow_up(user=request.user, now=now)
    page = Paginator(patients, PATIENTS_PER_PAGE).get_page(request.GET.get("page"))
    for patient in page.object_list:
        patient.days_without_contact = (now - patient.last_contact_at).days  # type: ignore[attr-defined]
    return render(
        request,
        "tracker/lost_to_follow_up.html",
        {
            "page_obj": page,
            "patients": page.object_list,
            "may_transfer": has_role(request.user, *TRANSFER_ROLES),
            "api_url": reverse("lost-to-follow-up"),
        },
    )


class TransferForm(forms.Form):
    facility = forms.ModelChoiceField(
        queryset=Facility.objects.filter(kind=FacilityKind.TREATMENT, is_active=True).order_by("name"),
        to_field_name="code",
        label="Move the follow-up to",
    )
    mrn = forms.CharField(
        max_length=40,
        required=False,
        label="MRN there",
        help_text="The patient's MRN at that facility; the same if empty.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, label="Why")


@login_required
def patient_transfer_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A coordinator hands a patient's follow-up over to another facility (the transfer service decides)."""
    if not may_see_patients(request.user):
        raise PermissionDenied("Your role has no access to patient data.")
    patient = get_object_or_404(patients_visible_to(request.user), id=patient_id)
    if not has_role(request.user, Role.COORDINATOR):
        raise PermissionDenied("Coordinators transfer a patient's follow-up.")
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            transfer = patient_transfer(
                actor=request.user,  # type: ignore[arg-type]
                patient_id=patient.id,
                facility=form.cleaned_data["facility"],
                reason=form.cleaned_data["reason"],
                mrn=form.cleaned_data["mrn"],
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.detail) from exc
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Patient {patient.id}'s follow-up moved to {transfer.to_facility.name}.")
            # The old facility no longer sees the patient: back to the list, unless the caller is at the new one too.
            if patients_visible_to(request.user).filter(id=patient.id).exists():
                return HttpResponseRedirect(reverse("patient-page", args=[patient.id]))
            return HttpResponseRedirect(reverse("lost-to-follow-up-page"))
    return render(request, "tracker/transfer.html", {"patient": patient, "form": form})


@login_required
def patient_registry_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's registry documents by time point, each with what is still missing."""
    if not may_see_patients(request.user):
        raise PermissionDenied("Your role has no access to patient data.")
    patient = get_object_or_404(patients_visible_to(request.user), id=patient_id)
    order = registry_course(orders_visible_to(request.user).filter(patient=patient), coi=request.GET.get("coi") or None)
    documents = registry_documents(order=order) if order is not None else []
    return render(
        request,
        "tracker/registry.html",
        {
            "patient": patient,
            "order": order,
            "documents": documents,
            "today": timezone.localdate(),
            "api_url": reverse("patient-registry", args=[patient.id]),
        },
    )
