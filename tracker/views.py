"""Clinicians' pages: the worklist and a patient's timeline. They read through selectors and write through services."""

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from products.access import has_role, user_facility_ids
from products.choices import CoiStatus
from products.errors import DomainError, PermissionDeniedError
from products.models import Facility
from tracker.access import may_see_patients
from tracker.chart import timeline_chart
from tracker.follow_up import patient_lost_to_follow_up
from tracker.forms import TimelineFilterForm
from tracker.models import Patient, Reminder, TherapyOrder
from tracker.selectors import patients_visible_to
from tracker.services.monitoring import reminder_acknowledge
from tracker.services.transfers import TRANSFER_ROLES
from tracker.surveillance import may_see_surveillance
from tracker.timeline.attention import patient_due_checks, patient_open_reminders
from tracker.timeline.events import Timeline, TimelineEvent
from tracker.timeline.kinds import KIND_GROUPS, TimelineKind
from tracker.timeline.query import patient_timeline
from tracker.worklist import SORT_EXPLANATION, patient_worklist, worklist_totals

PATIENTS_PER_PAGE = 50
CHART_KINDS = (TimelineKind.ASSESSMENT, TimelineKind.INTERVENTION)


def _require_patient_access(request: HttpRequest) -> None:
    """Manufacturing (the product side) and safety (the surveillance figures) see no patient page at all (403)."""
    if not may_see_patients(request.user):
        raise PermissionDenied("Your role has no access to patient data.")


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The worklist: the caller's patients, the ones that need attention first, searchable by name or MRN."""
    if not may_see_patients(request.user) and may_see_surveillance(request.user):
        return HttpResponseRedirect(reverse("surveillance"))  # the safety role's home: the figures, no patient
    _require_patient_access(request)
    now = timezone.now()
    today = timezone.localdate()
    query = request.GET.get("q", "").strip()[:100]
    patients = patient_worklist(user=request.user, query=query, now=now)
    page = Paginator(patients, PATIENTS_PER_PAGE).get_page(request.GET.get("page"))
    # The worklist's annotations and each row's display values ride on the Patient instances, as attributes the
    # model does not declare (hence the ignores).
    for patient in page.object_list:
        infused = patient.infused_at  # type: ignore[attr-defined]
        patient.day_today = (today - timezone.localtime(infused).date()).days if infused else None  # type: ignore[attr-defined]
        patient.age = _age(patient.birth_date, today)  # type: ignore[attr-defined]
        next_due = patient.next_check_due  # type: ignore[attr-defined]
        patient.next_due_late = next_due is not None and next_due <= now  # type: ignore[attr-defined]
        status = patient.chain_status  # type: ignore[attr-defined]
        patient.stage = CoiStatus(status).label if status else ""  # type: ignore[attr-defined]
    facilities = Facility.objects.filter(id__in=user_facility_ids(request.user))
    return render(
        request,
        "tracker/home.html",
        {
            "page_obj": page,
            "patients": page.object_list,
            "query": query,
            "totals": worklist_totals(patients),
            "facilities": facilities.order_by("name"),
            "sort_explanation": SORT_EXPLANATION,
            "now": now,
        },
    )


@dataclass
class DayGroup:
    day: int | None
    on: date
    events: list[TimelineEvent] = field(default_factory=list)


def _group_by_day(timeline: Timeline) -> list[DayGroup]:
    groups: list[DayGroup] = []
    for event in timeline.events:
        on = event.on
        if not groups or groups[-1].on != on:
            groups.append(DayGroup(day=event.day, on=on))
        groups[-1].events.append(event)
    return groups


def _quick_ranges(request: HttpRequest, timeline: Timeline) -> list[dict]:
    """Common windows of the story: before the infusion, the acute weeks, later follow-up."""
    if timeline.day_zero is None:
        return []
    kinds = request.GET.getlist("kind")
    current = (request.GET.get("first_day", ""), request.GET.get("last_day", ""))
    has_dates = bool(request.GET.get("since") or request.GET.get("until"))
    ranges = []
    for label, first, last in (
        ("Before infusion", "", "-1"),
        ("Days 0 to 14", "0", "14"),
        ("Days 0 to 30", "0", "30"),
        ("After day 30", "31", ""),
        ("Whole story", "", ""),
    ):
        params = [("kind", k) for k in kinds]
        params += [(name, value) for name, value in (("first_day", first), ("last_day", last)) if value]
        ranges.append(
            {
                "label": label,
                "url": "?" + urlencode(params) if params else "?",
                "current": not has_dates and current == (first, last),
            }
        )
    return ranges


@login_required
def patient_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's timeline: what needs attention, the toxicity chart, and the whole story, filterable."""
    _require_patient_access(request)
    patient = get_object_or_404(patients_visible_to(request.user), id=patient_id)
    form = TimelineFilterForm(request.GET or None)
    arguments = form.timeline_arguments() if form.is_valid() else {}
    timeline = patient_timeline(patient=patient, **arguments)
    # The chart shows the toxicity course of the chosen time range, whichever kinds the list shows.
    if set(CHART_KINDS) <= set(timeline.kinds):
        chart_source = timeline
    else:
        chart_source = patient_timeline(patient=patient, **{**arguments, "kinds": CHART_KINDS})
    chart = timeline_chart(chart_source)
    today = timezone.localdate()
    selected = set(timeline.kinds)
    orders = list(TherapyOrder.objects.filter(patient=patient).select_related("product", "chain"))
    lost = patient_lost_to_follow_up(patient=patient, now=timezone.now()) if orders else None
    return render(
        request,
        "tracker/patient.html",
        {
            "patient": patient,
            "age": _age(patient.birth_date, today),
            "orders": orders,
            "timeline": timeline,
            "groups": _group_by_day(timeline),
            "chart": chart,
            "form": form,
            "kind_groups": [
                (name, [(kind.value, kind.label, kind.value in selected) for kind in kinds])
                for name, kinds in KIND_GROUPS
            ],
            "quick_ranges": _quick_ranges(request, timeline),
            "day_today": (today - timeline.day_zero).days if timeline.day_zero else None,
            "open_reminders": patient_open_reminders(patient),
            "due_checks": patient_due_checks(patient),
            "api_url": reverse("patient-timeline", args=[patient.id]),
            "fhir_url": reverse("patient-fhir", args=[patient.id]),
            "lost": lost,
            "may_transfer": has_role(request.user, *TRANSFER_ROLES),
        },
    )


@login_required
@require_POST
def reminder_acknowledge_page(request: HttpRequest, patient_id: int, reminder_id: int) -> HttpResponse:
    """Acknowledge an open reminder from the patient page (the monitoring service decides whether one may)."""
    _require_patient_access(request)
    patient: Patient = get_object_or_404(patients_visible_to(request.user), id=patient_id)
    reminder = get_object_or_404(Reminder, id=reminder_id, patient=patient)
    try:
        actor = request.user
        assert actor.is_authenticated  # login_required
        reminder_acknowledge(reminder_id=reminder.id, actor=actor)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.detail) from exc
    except DomainError as exc:
        messages.warning(request, exc.detail)
    else:
        messages.success(request, f"Acknowledged: {reminder.message}")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = reverse("patient-page", args=[patient.id])
    return HttpResponseRedirect(target.split("#")[0] + "#reminders")
