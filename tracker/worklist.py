"""The clinicians' worklist: their facilities' patients, the ones that need attention first.

One query for the page of patients (every figure is a correlated subquery on an indexed column), one for
the count: the cost does not grow with the number of reminders, checks or assessments.
"""

from datetime import datetime

from django.db.models import (
    Count,
    DateTimeField,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest

from products.choices import Severity
from tracker.choices import CheckStatus, ReminderStatus
from tracker.models import Administration, Assessment, Patient, Reminder, ScheduledCheck, TherapyOrder
from tracker.rules.monitoring import RECENT_GRADE
from tracker.selectors import AnyUser, patients_visible_to

SORT_EXPLANATION = "open urgent reminders, then overdue checks, then a recent CRS/ICANS grade, then the latest infusion"


def _count(queryset: QuerySet) -> Coalesce:
    counted = queryset.order_by().values("patient_id").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def patient_worklist(*, user: AnyUser, query: str = "", now: datetime) -> QuerySet[Patient]:
    """Visible patients matching `query` (name or MRN words), most in need of attention first."""
    patients = patients_visible_to(user)
    for word in query.replace(",", " ").split():
        patients = patients.filter(
            Q(family_name__icontains=word) | Q(given_name__icontains=word) | Q(mrn__icontains=word)
        )
    open_reminders = Reminder.objects.filter(patient=OuterRef("pk"), status=ReminderStatus.OPEN)
    open_checks = ScheduledCheck.objects.filter(patient=OuterRef("pk"), status=CheckStatus.OPEN)
    latest = Assessment.objects.filter(patient=OuterRef("pk")).order_by("-assessed_at", "-id")
    latest_order = TherapyOrder.objects.filter(patient=OuterRef("pk")).order_by("-ordered_at", "-id")
    infusions = (
        Administration.objects.filter(patient=OuterRef("pk"), voided_at=None)
        .order_by()
        .values("patient_id")
        .annotate(first=Min("administered_at"))
        .values("first")
    )
    next_due = open_checks.order_by().values("patient_id").annotate(due=Min("due_at")).values("due")
    return patients.annotate(
        urgent_reminders=_count(open_reminders.filter(severity=Severity.URGENT)),
        open_reminder_count=_count(open_reminders),
        overdue_checks=_count(open_checks.filter(grace_until__lt=now)),
        next_check_due=Subquery(next_due, output_field=DateTimeField()),
        infused_at=Subquery(infusions, output_field=DateTimeField()),
        latest_crs=Subquery(latest.values("crs_grade")[:1]),
        latest_icans=Subquery(latest.values("icans_grade")[:1]),
        latest_assessed_at=Subquery(latest.values("assessed_at")[:1]),
        recent_grade=Subquery(
            latest.filter(assessed_at__gte=now - RECENT_GRADE)
            .annotate(worst=Greatest("crs_grade", "icans_grade"))
            .values("worst")[:1]
        ),
        product_name=Subquery(latest_order.values("product__name")[:1]),
        coi=Subquery(latest_order.values("chain__coi")[:1]),
        chain_status=Subquery(latest_order.values("chain__status")[:1]),
    ).order_by(
        F("urgent_reminders").desc(),
        F("overdue_checks").desc(),
        F("recent_grade").desc(nulls_last=True),
        F("infused_at").desc(nulls_last=True),
        "family_name",
        "given_name",
        "id",
    )


def worklist_totals(patients: QuerySet[Patient]) -> dict[str, int]:
    """Figures for the list's header (one query)."""
    return patients.order_by().aggregate(
        patients=Count("id"),
        urgent=Count("id", filter=Q(urgent_reminders__gt=0)),
        overdue=Count("id", filter=Q(overdue_checks__gt=0)),
    )
