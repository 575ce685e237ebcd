"""Monitoring: the schedule of checks (read-only: clinical records complete them), reminders (acknowledged and
resolved here, through the services, recording who and when), their deliveries, and the webhooks they go to."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from products.admin.base import ProjectAdmin, ReadOnlyInline, acting_user
from products.admin.board_filters import at_filter, board_filter
from products.admin.links import admin_link, changelist_url
from products.admin.service_pages import domain_message
from products.choices import Severity
from products.errors import DomainError
from tracker.admin.action_page import action_page
from tracker.admin.base import ClinicalAdmin
from tracker.admin.display import check_state, panel, patient_link, when
from tracker.admin.filters import facility_filter
from tracker.admin.forms import ResolveForm
from tracker.board import REMINDER_FIGURES, reminder_at
from tracker.choices import CheckStatus, ReminderStatus
from tracker.models import Notification, Reminder, ScheduledCheck
from tracker.selectors import checks_visible_to, notifications_visible_to, reminders_visible_to
from tracker.services.monitoring import reminder_acknowledge, reminder_resolve

# Never more reminders on one resolve page than this (a page of the list is 100).
RESOLVE_MAX = 500


# --- the schedule ----------------------------------------------------------------------------------------------


class CheckDueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("overdue", "Overdue (past its grace period)"),
            ("now", "Due now (within its grace period)"),
            ("upcoming", "Upcoming"),
        ]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        now = timezone.now()
        open_checks = queryset.filter(status=CheckStatus.OPEN)
        match self.value():
            case "overdue":
                return open_checks.filter(grace_until__lt=now)
            case "now":
                return open_checks.filter(due_at__lte=now, grace_until__gte=now)
            case "upcoming":
                return open_checks.filter(due_at__gt=now)
        return queryset


@admin.register(ScheduledCheck)
class ScheduledCheckAdmin(ClinicalAdmin):
    """What each patient is due after an infusion. Read-only: an assessment, a lab, a visit completes a check."""

    autocomplete_fields = ()
    list_display = [
        "due_at",
        "patient_name",
        "mrn",
        "label",
        "kind",
        "severity",
        "state",
        "grace_until",
        "completed_at",
        "completed_by",
    ]
    list_filter = [
        "status",
        "kind",
        CheckDueFilter,
        "severity",
        "source",
        "per_infusion",
        facility_filter("patient__facility"),
        "due_at",
    ]
    list_select_related = ["patient"]
    search_fields = ["patient__mrn", "patient__family_name", "patient__given_name", "label"]
    # A million rows in 15 years: no second full count, no date hierarchy (each would read the whole table).
    show_full_result_count = False
    change_fields = (
        "state",
        "patient_link",
        "administration_link",
        "label",
        "kind",
        "sequence",
        "source",
        "per_infusion",
        "due_at",
        "grace_until",
        "severity",
        "status",
        "reminded_at",
        "completed_at",
        "completed_by",
        "reminders_link",
        "created_at",
    )
    readonly_fields = ["state", "patient_link", "administration_link", "reminders_link"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return checks_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="status", ordering="status")
    def state(self, obj: ScheduledCheck) -> str:
        return check_state(obj)

    @admin.display(description="administration")
    def administration_link(self, obj: ScheduledCheck) -> str:
        return admin_link(obj.administration, f"{when(obj.administration.administered_at)}")

    @admin.display(description="reminders")
    def reminders_link(self, obj: ScheduledCheck) -> str:
        return format_html(
            '<a href="{}">reminders of this check</a>', changelist_url(Reminder, check=obj.pk, status="all")
        )


# --- reminders -------------------------------------------------------------------------------------------------


class ReminderStatusFilter(admin.SimpleListFilter):
    """By default the list is what still needs someone: open or acknowledged."""

    title = "status"
    parameter_name = "status"
    TODO = (ReminderStatus.OPEN, ReminderStatus.ACKNOWLEDGED)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*ReminderStatus.choices, ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "To do (open or acknowledged)",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if value is None:
            return queryset.filter(status__in=self.TODO)
        if value == "all":
            return queryset
        return queryset.filter(status=value)


class CheckFilter(admin.SimpleListFilter):
    """Reminders of one scheduled check (linked from the check's page; not offered in the sidebar)."""

    title = "scheduled check"
    parameter_name = "check"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        return [(value, f"Check {value}")] if value and value.isdigit() else []

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(check_item_id=int(value)) if value.isdigit() else queryset.none()


class NotificationInline(ReadOnlyInline):
    model = Notification
    fields = ["created_at", "channel", "recipient", "reason", "status", "attempts", "sent_at", "last_error"]
    verbose_name_plural = "deliveries (email and webhooks)"
    show_change_link = False


URGENT_FIRST = Case(When(severity=Severity.URGENT, then=Value(0)), default=Value(1), output_field=IntegerField())


@admin.register(Reminder)
class ReminderAdmin(ProjectAdmin):
    list_display = [
        "severity_badge",
        "kind",
        "message",
        "patient_col",
        "facility",
        "due_at",
        "status",
        "escalated",
        "acknowledged",
        "resolved",
    ]
    list_filter = [
        board_filter(REMINDER_FIGURES),
        "severity",
        ReminderStatusFilter,
        "kind",
        facility_filter("facility"),
        CheckFilter,
        "due_at",
        at_filter(reminder_at),
    ]
    list_select_related = ["patient", "facility", "acknowledged_by", "resolved_by"]
    search_fields = ["message", "patient__mrn", "patient__family_name", "patient__given_name"]
    ordering = [URGENT_FIRST.asc(), "due_at", "id"]
    show_full_result_count = False
    fields = readonly_fields = (
        "severity_badge",
        "kind",
        "message",
        "patient_link",
        "facility",
        "check_link",
        "status",
        "due_at",
        "escalate_at",
        "escalated_at",
        "acknowledged",
        "resolved",
        "resolution",
        "created_at",
    )
    inlines = [NotificationInline]
    actions = ["acknowledge", "resolve"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        # Who sees a reminder about a patient is the API's rule too (tracker.selectors).
        return reminders_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nothing is edited; acknowledging and resolving are the actions below.
        return False

    def has_acknowledge_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("tracker.change_reminder")

    # --- columns ---------------------------------------------------------------------------------------------

    @admin.display(description="severity", ordering="severity")
    def severity_badge(self, obj: Reminder) -> str:
        if obj.severity == Severity.URGENT:
            return mark_safe('<strong class="tone-alert">URGENT</strong>')
        return obj.get_severity_display()

    @admin.display(description="patient", ordering="patient__family_name")
    def patient_col(self, obj: Reminder) -> str:
        return f"{obj.patient.display_name} ({obj.patient.mrn})" if obj.patient is not None else "-"

    @admin.display(description="patient")
    def patient_link(self, obj: Reminder) -> str:
        return patient_link(obj.patient)

    @admin.display(description="scheduled check")
    def check_link(self, obj: Reminder) -> str:
        return admin_link(obj.check_item) if obj.check_item_id else "-"

    @admin.display(description="escalated", boolean=True, ordering="escalated_at")
    def escalated(self, obj: Reminder) -> bool:
        return obj.escalated_at is not None

    @admin.display(description="acknowledged", ordering="acknowledged_at")
    def acknowledged(self, obj: Reminder) -> str:
        if obj.acknowledged_at is None:
            return "-"
        return f"{when(obj.acknowledged_at)} by {obj.acknowledged_by or 'the system'}"

    @admin.display(description="resolved", ordering="resolved_at")
    def resolved(self, obj: Reminder) -> str:
        if obj.resolved_at is None:
            return "-"
        return f"{when(obj.resolved_at)} by {obj.resolved_by or 'the system'}"

    def record_context(self, request: HttpRequest, obj: Reminder) -> dict[str, Any]:
        done = f" · resolved {self.resolved(obj)}: {obj.resolution}" if obj.resolved_at else ""
        return {
            "record_panel": panel(
                format_html(
                    '<p class="fs-lg m-b6">{}<strong>{}</strong></p><p class="m-0">{} &middot; due {}{}</p>',
                    "URGENT: " if obj.severity == Severity.URGENT else "",
                    obj.message,
                    obj.get_status_display(),
                    when(obj.due_at),
                    done,
                ),
                alert=obj.severity == Severity.URGENT and obj.status != ReminderStatus.RESOLVED,
            )
        }

    # --- acknowledge and resolve -----------------------------------------------------------------------------

    @admin.action(
        description="Acknowledge (I am on it)",
        permissions=["acknowledge"],
        location=[admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM],
    )
    def acknowledge(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        done = 0
        for reminder in queryset.select_related(None).only("id", "kind", "status"):
            if reminder.status != ReminderStatus.OPEN:
                messages.info(request, f"Reminder {reminder.pk} is already {reminder.get_status_display().lower()}.")
                continue
            try:
                reminder_acknowledge(reminder_id=reminder.pk, actor=acting_user(request))
            except DomainError as exc:
                messages.error(request, f"Reminder {reminder.pk}: {domain_message(exc)}")
            else:
                done += 1
        if done:
            messages.success(request, f"Acknowledged {done} reminder{'s' if done != 1 else ''}.")

    @admin.action(
        description="Resolve…",
        permissions=["acknowledge"],
        location=[admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM],
    )
    def resolve(self, request: HttpRequest, queryset: models.QuerySet) -> HttpResponse:
        ids = list(queryset.exclude(status=ReminderStatus.RESOLVED).values_list("id", flat=True)[:RESOLVE_MAX])
        if not ids:
            messages.info(request, "The selected reminders are already resolved.")
            return HttpResponseRedirect(request.get_full_path())
        query = urlencode({"ids": ",".join(map(str, ids))})
        return HttpResponseRedirect(f"{reverse('admin:tracker_reminder_resolve')}?{query}")

    def get_urls(self) -> list:
        return [
            path("resolve/", self.admin_site.admin_view(self.resolve_view), name="tracker_reminder_resolve"),
            *super().get_urls(),
        ]

    def resolve_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_acknowledge_permission(request):
            raise PermissionDenied
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.strip().isdigit()][:RESOLVE_MAX]
        reminders = list(
            self.get_queryset(request).filter(id__in=ids).exclude(status=ReminderStatus.RESOLVED).order_by("id")
        )
        back = reverse("admin:tracker_reminder_changelist")
        if len(reminders) == 1:
            back = reverse("admin:tracker_reminder_change", args=[reminders[0].pk])
        if not reminders:
            messages.info(request, "Nothing to resolve: the reminders are resolved already, or not yours to see.")
            return HttpResponseRedirect(back)
        form = ResolveForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            done = 0
            for reminder in reminders:
                try:
                    resolved = reminder_resolve(
                        reminder_id=reminder.pk, actor=acting_user(request), resolution=form.cleaned_data["resolution"]
                    )
                except DomainError as exc:
                    messages.error(request, f"Reminder {reminder.pk}: {domain_message(exc)}")
                else:
                    done += 1
                    self.log_change(request, resolved, f"Resolved: {resolved.resolution}")
            if done:
                messages.success(request, f"Resolved {done} reminder{'s' if done != 1 else ''}.")
            return HttpResponseRedirect(back)
        return action_page(
            self,
            request,
            title=f"Resolve {len(reminders)} reminder{'s' if len(reminders) != 1 else ''}",
            intro="Resolving records you as the person who dealt with it, now. A reminder also resolves itself when "
            "the record that completes its check is entered.",
            records=[
                (r, f"{'URGENT · ' if r.severity == Severity.URGENT else ''}{r.message}", r.get_status_display())
                for r in reminders
            ],
            form=form,
            submit="Resolve",
            cancel_url=back,
        )


# --- deliveries ------------------------------------------------------------------------------------------------


@admin.register(Notification)
class NotificationAdmin(ProjectAdmin):
    """Each email or webhook delivery of a reminder: read-only (the sending task claims and records them)."""

    list_display = [
        "created_at",
        "reminder_col",
        "channel",
        "recipient",
        "reason",
        "status",
        "attempts",
        "response_status",
        "sent_at",
        "last_error",
    ]
    list_filter = ["channel", "status", "reason", "created_at"]
    list_select_related = ["reminder"]
    search_fields = ["recipient", "last_error"]
    show_full_result_count = False
    fields = readonly_fields = (
        "reminder_link",
        "channel",
        "webhook",
        "recipient",
        "reason",
        "status",
        "attempts",
        "claimed_at",
        "next_attempt_at",
        "sent_at",
        "response_status",
        "last_error",
        "created_at",
    )

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return notifications_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="reminder", ordering="reminder__kind")
    def reminder_col(self, obj: Notification) -> str:
        return f"{obj.reminder.get_kind_display()} ({obj.reminder_id})"

    @admin.display(description="reminder")
    def reminder_link(self, obj: Notification) -> str:
        return admin_link(obj.reminder, obj.reminder.message)
