"""Adverse events: recorded with the expedited-report clock the service computes, their clinical fields changed
through adverse_event_update (the clock follows), and the report marked submitted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.forms import BaseFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from products.admin.base import acting_user
from products.admin.board_filters import at_filter, board_filter
from products.admin.service_pages import REFUSALS, domain_message, show_refusal
from products.choices import RegulatoryStatus
from products.errors import DomainError
from tracker.access import may_see_patients
from tracker.admin.action_page import action_page
from tracker.admin.base import ClinicalAdmin
from tracker.admin.display import panel, when
from tracker.admin.filters import facility_filter, grade_filter
from tracker.admin.forms import (
    AdverseEventAddForm,
    AdverseEventChangeForm,
    ReportSubmittedForm,
    SponsorNotifiedForm,
)
from tracker.board import ADVERSE_EVENT_FIGURES, adverse_event_at
from tracker.models import AdverseEvent
from tracker.rules import adverse_events as ae_rules
from tracker.selectors import adverse_events_visible_to
from tracker.services.clinical import (
    adverse_event_mark_reported,
    adverse_event_record,
    adverse_event_sponsor_notified,
    adverse_event_update,
)


class ReportFilter(admin.SimpleListFilter):
    """The expedited report (21 CFR 600.80): overdue, due, submitted, or none required."""

    title = "expedited report"
    parameter_name = "report"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("overdue", "Overdue"),
            ("due", "Due, not yet submitted"),
            ("submitted", "Submitted"),
            ("none", "No expedited report"),
        ]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        now = timezone.now()
        pending = queryset.filter(report_due_at__isnull=False, report_submitted_at__isnull=True)
        match self.value():
            case "overdue":
                return pending.filter(report_due_at__lte=now)
            case "due":
                return pending.filter(report_due_at__gt=now)
            case "submitted":
                return queryset.filter(report_submitted_at__isnull=False)
            case "none":
                return queryset.filter(report_due_at__isnull=True, report_submitted_at__isnull=True)
        return queryset


def report_state(event: AdverseEvent) -> str:
    if event.report_submitted_at is not None:
        return format_html('<span class="tone-ok">submitted {}</span>', when(event.report_submitted_at))
    if event.report_due_at is None:
        return "-"
    if event.report_due_at <= timezone.now():
        return format_html('<strong class="tone-alert">OVERDUE since {}</strong>', when(event.report_due_at))
    return format_html("<strong>due {}</strong>", when(event.report_due_at))


# What may change after recording: the rule's list (adverse_event_update recomputes the report clock from it),
# and why the awareness time moves when it does.
AE_CHANGEABLE = (*ae_rules.EDITABLE, "aware_at_reason")


@admin.register(AdverseEvent)
class AdverseEventAdmin(ClinicalAdmin):
    list_display = [
        "onset_at",
        "patient_name",
        "mrn",
        "term_display",
        "grade",
        "serious",
        "expected",
        "suspected",
        "regulatory_status",
        "report",
        "outcome",
    ]
    list_filter = [
        board_filter(ADVERSE_EVENT_FIGURES),
        "term",
        grade_filter("grade", "grade", (1, 2, 3, 4, 5)),
        "serious",
        "expected",
        "suspected",
        "regulatory_status",
        ReportFilter,
        facility_filter("patient__facility"),
        "onset_at",
        at_filter(adverse_event_at),
    ]
    search_fields = ["patient__mrn", "patient__family_name", "patient__given_name", "term_text", "meddra_code"]
    date_hierarchy = "onset_at"
    add_form = AdverseEventAddForm
    form = AdverseEventChangeForm
    add_fieldsets = [
        (None, {"fields": ["patient", "term", "term_text", "meddra_code", "grade", "grading_system"]}),
        ("When", {"fields": ["onset_at", "aware_at", "resolved_at", "outcome"]}),
        (
            "Seriousness, expectedness and causality",
            {
                "fields": ["serious", "expected", "relatedness", "suspected", "coi"],
                "description": "These, with the status of the course the event is reported under (licensed, or in a "
                "clinical investigation), decide the expedited report deadline, which is computed once saved.",
            },
        ),
        (None, {"fields": ["description"]}),
    ]
    change_fields = (
        "report",
        "report_due_at",
        "report_rule",
        "report_submitted_at",
        "reported_under",
        "sponsor",
        "patient_link",
        "term",
        "term_text",
        "meddra_code",
        "grading_system",
        "grade",
        "serious",
        "expected",
        "relatedness",
        "suspected",
        "onset_at",
        "aware_at",
        "aware_at_reason",
        "aware_at_changed",
        "resolved_at",
        "outcome",
        "description",
        "recorded_by",
        "created_at",
        "updated_at",
    )
    service_change_fields = AE_CHANGEABLE
    readonly_fields = ["report", "reported_under", "sponsor", "patient_link", "aware_at_changed"]
    actions = ["mark_reported", "mark_sponsor_notified"]
    list_select_related = ["patient", "recorded_by", "order__chain"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return adverse_events_visible_to(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The clinical fields change through adverse_event_update (the report clock follows).
        return may_see_patients(request.user) and admin.ModelAdmin.has_change_permission(self, request, obj)

    @admin.display(description="term", ordering="term")
    def term_display(self, obj: AdverseEvent) -> str:
        text = obj.get_term_display()
        return f"{text}: {obj.term_text}" if obj.term_text else text

    @admin.display(description="expedited report", ordering="report_due_at")
    def report(self, obj: AdverseEvent) -> str:
        return report_state(obj)

    @admin.display(description="reported under")
    def reported_under(self, obj: AdverseEvent) -> str:
        order = f"order {obj.order.chain.coi}: " if obj.order is not None else "no order: "
        if obj.regulatory_status == RegulatoryStatus.LICENSED:
            return f"{order}licensed product (21 CFR 600.80)"
        protocol = f", protocol {obj.trial_protocol}" if obj.trial_protocol else ""
        return f"{order}clinical investigation, IND/CTA {obj.ind_number}{protocol} (21 CFR 312.32)"

    @admin.display(description="sponsor told (21 CFR 312.64(b))")
    def sponsor(self, obj: AdverseEvent) -> str:
        if obj.regulatory_status != RegulatoryStatus.INVESTIGATIONAL:
            return "-"
        if obj.sponsor_notified_at is not None:
            return format_html('<span class="tone-ok">told {}</span>', when(obj.sponsor_notified_at))
        if obj.serious:
            return mark_safe('<strong class="tone-alert">NOT YET: tell the sponsor at once</strong>')
        return "not yet (not serious)"

    @admin.display(description="awareness time last moved")
    def aware_at_changed(self, obj: AdverseEvent) -> str:
        if obj.aware_at_changed_at is None:
            return "-"
        return format_html(
            "{} by {}: “{}”", when(obj.aware_at_changed_at), obj.aware_at_changed_by, obj.aware_at_change_reason
        )

    def record_panel(self, request: HttpRequest, obj: AdverseEvent) -> dict[str, Any]:
        overdue = (
            obj.report_submitted_at is None and obj.report_due_at is not None and obj.report_due_at <= timezone.now()
        )
        if obj.report_submitted_at is not None:
            headline = f"Report submitted {when(obj.report_submitted_at)}"
        elif obj.report_due_at is None:
            headline = "No expedited report"
        else:
            left = obj.report_due_at - timezone.now()
            headline = (
                f"Expedited report OVERDUE since {when(obj.report_due_at)}"
                if overdue
                else f"Expedited report due {when(obj.report_due_at)} ({max(left.days, 0)} days left)"
            )
        return panel(
            format_html(
                '<p class="fs-lg m-b6"><strong>{}</strong></p><p class="m-0">{}: grade {}, {}, {}. Rule: {}</p>',
                headline,
                obj.get_term_display(),
                obj.grade,
                "serious" if obj.serious else "not serious",
                "expected" if obj.expected else "unexpected",
                obj.report_rule or "-",
            ),
            alert=overdue,
        )

    def object_links(self, request: HttpRequest, obj: AdverseEvent) -> list[tuple[str, str]]:
        if not self.has_change_permission(request, obj):
            return []
        links = []
        if obj.report_submitted_at is None:
            links.append(
                ("Mark report submitted…", reverse("admin:tracker_adverseevent_report_submitted", args=[obj.pk]))
            )
        if obj.regulatory_status == RegulatoryStatus.INVESTIGATIONAL and obj.sponsor_notified_at is None:
            links.append(
                ("Record the sponsor told…", reverse("admin:tracker_adverseevent_sponsor_notified", args=[obj.pk]))
            )
        return links

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> AdverseEvent:
        return adverse_event_record(
            actor=acting_user(request),
            patient=data["patient"],
            term=data["term"],
            grade=data["grade"],
            onset_at=data["onset_at"],
            aware_at=data["aware_at"],
            serious=data.get("serious", False),
            expected=data["expected"],
            resolved_at=data.get("resolved_at"),
            term_text=data.get("term_text", ""),
            meddra_code=data.get("meddra_code", ""),
            grading_system=data["grading_system"],
            outcome=data["outcome"],
            relatedness=data["relatedness"],
            suspected=data.get("suspected"),
            order=data.get("coi"),
            description=data.get("description", ""),
        )

    def created_message(self, obj: AdverseEvent) -> str | None:
        if obj.serious and obj.grade >= ae_rules.LIFE_THREATENING_GRADE:
            serious = f"Grade {obj.grade} is serious by definition (ICH E2A). "
        elif obj.serious and obj.outcome == ae_rules.FATAL_OUTCOME:
            serious = "A fatal event is serious by definition (ICH E2A). "
        else:
            serious = ""
        if obj.outcome == ae_rules.FATAL_OUTCOME:
            serious += "The patient's monitoring schedule has ended. "
        if obj.regulatory_status == RegulatoryStatus.INVESTIGATIONAL and obj.serious:
            serious += "In a clinical investigation: tell the sponsor at once (21 CFR 312.64(b)); a reminder is open. "
        if obj.report_due_at is not None:
            return f"{serious}Expedited report due {when(obj.report_due_at)}: {obj.report_rule}."
        return f"{serious}{obj.report_rule}".strip() or None

    def update(self, request: HttpRequest, obj: AdverseEvent, changes: dict[str, Any], data: dict[str, Any]) -> None:
        clinical = {name: value for name, value in changes.items() if name in ae_rules.EDITABLE}
        if clinical:
            adverse_event_update(
                actor=acting_user(request), event_id=obj.pk, aware_at_reason=data.get("aware_at_reason", ""), **clinical
            )

    # --- the report submitted ---------------------------------------------------------------------------------

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/report-submitted/",
                view(self.report_submitted_view),
                name="tracker_adverseevent_report_submitted",
            ),
            path(
                "<path:object_id>/sponsor-notified/",
                view(self.sponsor_notified_view),
                name="tracker_adverseevent_sponsor_notified",
            ),
            *super().get_urls(),
        ]

    def report_submitted_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        event = self.changeable(request, object_id)
        if isinstance(event, HttpResponse):
            return event
        change_url = reverse("admin:tracker_adverseevent_change", args=[event.pk])
        if event.report_submitted_at is not None:
            messages.info(request, f"The report was already submitted on {when(event.report_submitted_at)}.")
            return HttpResponseRedirect(change_url)
        form = ReportSubmittedForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                event = adverse_event_mark_reported(
                    actor=acting_user(request), event_id=event.pk, at=form.cleaned_data.get("submitted_at")
                )
            except REFUSALS as exc:
                show_refusal(form, exc)
            else:
                self.log_change(request, event, f"Report submitted {when(event.report_submitted_at)}")
                messages.success(request, f"Report recorded as submitted {when(event.report_submitted_at)}.")
                return HttpResponseRedirect(change_url)
        return action_page(
            self,
            request,
            title=f"Report submitted: {event}",
            summary=[
                ("Patient", f"{event.patient.display_name} (MRN {event.patient.mrn})"),
                ("Event", f"{event.get_term_display()}, grade {event.grade}"),
                ("Report due", when(event.report_due_at)),
                ("Rule", event.report_rule or "-"),
            ],
            form=form,
            submit="Record the report as submitted",
            cancel_url=change_url,
            obj=event,
        )

    def sponsor_notified_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        event = self.changeable(request, object_id)
        if isinstance(event, HttpResponse):
            return event
        change_url = reverse("admin:tracker_adverseevent_change", args=[event.pk])
        if event.sponsor_notified_at is not None:
            messages.info(request, f"The sponsor was already told on {when(event.sponsor_notified_at)}.")
            return HttpResponseRedirect(change_url)
        form = SponsorNotifiedForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                event = adverse_event_sponsor_notified(
                    actor=acting_user(request), event_id=event.pk, at=form.cleaned_data.get("notified_at")
                )
            except REFUSALS as exc:
                show_refusal(form, exc, {"sponsor_notified_at": "notified_at"})
            else:
                self.log_change(request, event, f"Sponsor told {when(event.sponsor_notified_at)}")
                messages.success(request, f"Sponsor notification recorded: {when(event.sponsor_notified_at)}.")
                return HttpResponseRedirect(change_url)
        return action_page(
            self,
            request,
            title=f"Sponsor told: {event}",
            summary=[
                ("Patient", f"{event.patient.display_name} (MRN {event.patient.mrn})"),
                (
                    "Event",
                    f"{event.get_term_display()}, grade {event.grade}, {'serious' if event.serious else 'not serious'}",
                ),
                ("Reported under", self.reported_under(event)),
                ("Site aware", when(event.aware_at)),
            ],
            form=form,
            submit="Record the sponsor as told",
            cancel_url=change_url,
            obj=event,
        )

    @admin.action(description="Record the sponsor told of the event (now)", permissions=["change"])
    def mark_sponsor_notified(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        for event in queryset.select_related(None).only("id", "term", "grade", "sponsor_notified_at"):
            if event.sponsor_notified_at is not None:
                messages.info(request, f"{event}: the sponsor was already told on {when(event.sponsor_notified_at)}.")
                continue
            try:
                adverse_event_sponsor_notified(actor=acting_user(request), event_id=event.pk)
            except DomainError as exc:
                messages.error(request, f"{event}: {domain_message(exc)}")
            else:
                messages.success(request, f"{event}: sponsor notification recorded.")

    @admin.action(description="Mark the expedited report submitted (now)", permissions=["change"])
    def mark_reported(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        for event in queryset.select_related(None).only("id", "term", "grade", "report_submitted_at"):
            if event.report_submitted_at is not None:
                messages.info(request, f"{event}: already submitted on {when(event.report_submitted_at)}.")
                continue
            try:
                adverse_event_mark_reported(actor=acting_user(request), event_id=event.pk)
            except DomainError as exc:
                messages.error(request, f"{event}: {domain_message(exc)}")
            else:
                messages.success(request, f"{event}: report recorded as submitted.")
