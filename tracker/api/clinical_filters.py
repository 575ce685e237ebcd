"""Query filters of the clinical lists, the monitoring checks and the reminders.

Every patient-side list filters by `?patient=` (id) and `?coi=` (the records of that order's patient).
"""

import django_filters
from django.db.models import Q, QuerySet

from products.api.filters import CoiFilter, UtcDateTimeFilter
from products.choices import CheckKind, RegulatoryStatus, Severity
from tracker.choices import (
    AdverseEventTerm,
    CheckSource,
    CheckStatus,
    GvhdResponse,
    Indication,
    InterventionKind,
    ReminderKind,
    ReminderStatus,
    Route,
    SurvivalStatus,
)
from tracker.models import (
    Administration,
    AdverseEvent,
    Assessment,
    Conditioning,
    FollowUpVisit,
    Intervention,
    Reminder,
    ScheduledCheck,
)


class PatientRecordFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id", help_text="The patient's id.")
    # One order per chain of identity: the join cannot repeat a record.
    coi = CoiFilter(
        "patient__orders__chain", help_text="The records of this order's patient (its COI, or its legacy COI)."
    )


class AdministrationFilter(PatientRecordFilter):
    coi = CoiFilter("order__chain")
    unit = django_filters.CharFilter(field_name="unit__unit_id", help_text="The unit id of the bag given.")
    route = django_filters.ChoiceFilter(choices=Route.choices)
    voided = django_filters.BooleanFilter(
        field_name="voided_at", lookup_expr="isnull", exclude=True, help_text="Voided (true) or standing (false)."
    )

    class Meta:
        model = Administration
        fields = ["patient", "coi", "unit", "route", "voided"]


class AssessmentFilter(PatientRecordFilter):
    assessed_after = UtcDateTimeFilter(field_name="assessed_at", lookup_expr="gte")
    assessed_before = UtcDateTimeFilter(field_name="assessed_at", lookup_expr="lte")
    min_crs_grade = django_filters.NumberFilter(field_name="crs_grade", lookup_expr="gte")
    min_icans_grade = django_filters.NumberFilter(field_name="icans_grade", lookup_expr="gte")

    class Meta:
        model = Assessment
        fields = ["patient", "coi", "assessed_after", "assessed_before", "min_crs_grade", "min_icans_grade"]


class InterventionFilter(PatientRecordFilter):
    kind = django_filters.ChoiceFilter(choices=InterventionKind.choices)
    indication = django_filters.ChoiceFilter(choices=Indication.choices)

    class Meta:
        model = Intervention
        fields = ["patient", "coi", "kind", "indication"]


class ConditioningFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="order__patient_id", help_text="The patient's id.")
    coi = CoiFilter("order__chain")

    class Meta:
        model = Conditioning
        fields = ["patient", "coi"]


class AdverseEventFilter(PatientRecordFilter):
    term = django_filters.ChoiceFilter(choices=AdverseEventTerm.choices)
    report_pending = django_filters.BooleanFilter(
        method="filter_report_pending", help_text="An expedited report is due and not yet submitted."
    )
    regulatory_status = django_filters.ChoiceFilter(
        choices=RegulatoryStatus.choices, help_text="The status the event's report clock followed."
    )
    sponsor_pending = django_filters.BooleanFilter(
        method="filter_sponsor_pending",
        help_text="A serious event of a clinical investigation whose sponsor notification is not recorded yet "
        "(21 CFR 312.64(b)).",
    )

    class Meta:
        model = AdverseEvent
        fields = [
            "patient",
            "coi",
            "term",
            "serious",
            "expected",
            "suspected",
            "regulatory_status",
            "grade",
            "report_pending",
            "sponsor_pending",
        ]

    def filter_report_pending(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        pending = {"report_due_at__isnull": False, "report_submitted_at__isnull": True}
        return queryset.filter(**pending) if value else queryset.exclude(**pending)

    def filter_sponsor_pending(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        pending = Q(regulatory_status=RegulatoryStatus.INVESTIGATIONAL, serious=True, sponsor_notified_at__isnull=True)
        return queryset.filter(pending) if value else queryset.exclude(pending)


class FollowUpVisitFilter(PatientRecordFilter):
    survival_status = django_filters.ChoiceFilter(choices=SurvivalStatus.choices)
    gvhd_staged = django_filters.BooleanFilter(
        field_name="gvhd_grade", lookup_expr="isnull", exclude=True, help_text="Visits that staged acute GVHD."
    )
    min_gvhd_grade = django_filters.NumberFilter(
        field_name="gvhd_grade", lookup_expr="gte", help_text="Acute GVHD grade (MAGIC, 0-4) at least this."
    )
    gvhd_response = django_filters.ChoiceFilter(choices=GvhdResponse.choices)

    class Meta:
        model = FollowUpVisit
        fields = [
            "patient",
            "coi",
            "survival_status",
            "new_malignancy",
            "gvhd_staged",
            "min_gvhd_grade",
            "gvhd_response",
        ]


class ScheduledCheckFilter(PatientRecordFilter):
    status = django_filters.ChoiceFilter(choices=CheckStatus.choices)
    kind = django_filters.ChoiceFilter(choices=CheckKind.choices)
    source = django_filters.ChoiceFilter(choices=CheckSource.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    due_before = UtcDateTimeFilter(field_name="due_at", lookup_expr="lte")
    due_after = UtcDateTimeFilter(field_name="due_at", lookup_expr="gte")

    class Meta:
        model = ScheduledCheck
        fields = [
            "patient",
            "coi",
            "administration",
            "status",
            "kind",
            "source",
            "per_infusion",
            "severity",
            "due_before",
            "due_after",
        ]


class ReminderFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id", help_text="The patient's id.")
    status = django_filters.ChoiceFilter(choices=ReminderStatus.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    kind = django_filters.ChoiceFilter(choices=ReminderKind.choices)
    facility = django_filters.CharFilter(field_name="facility__code")
    product_side = django_filters.BooleanFilter(
        field_name="patient", lookup_expr="isnull", help_text="Reminders about no patient (batches, units)."
    )

    class Meta:
        model = Reminder
        fields = ["patient", "status", "severity", "kind", "facility", "product_side"]
