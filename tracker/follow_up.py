"""Lost to follow-up: patients still in follow-up with whom no one has had contact for longer than their product's
monitoring protocol allows (`MonitoringProtocol.lost_to_follow_up_days`).

A contact is anything on record that needs the patient or news of them: an infusion, an assessment, a treatment, a
follow-up visit (one recording the patient as lost is no contact), an adverse event the site became aware of, a
weight. A patient is in follow-up while their schedule still has an open check (death, and the end of the
protocol's schedule, close them all). Computed in one query, a correlated subquery per kind of contact, each on an
index by patient and time.
"""

from datetime import datetime, timedelta

from django.db.models import (
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Greatest

from products.access import has_role
from products.choices import Role
from tracker.choices import CheckStatus, SurvivalStatus
from tracker.models import (
    Administration,
    AdverseEvent,
    Assessment,
    FollowUpVisit,
    Intervention,
    Patient,
    PatientWeight,
    ScheduledCheck,
)
from tracker.rules import adverse_events as ae_rules
from tracker.selectors import AnyUser, patients_visible_to

# Coordinators chase patients lost to follow-up (and may transfer their follow-up to another facility).
LOST_TO_FOLLOW_UP_ROLES = (Role.COORDINATOR,)


def may_see_lost_to_follow_up(user: AnyUser) -> bool:
    return has_role(user, *LOST_TO_FOLLOW_UP_ROLES)


def _latest(queryset: QuerySet, field: str, *, date: bool = False) -> Subquery | Cast:
    latest = queryset.filter(patient=OuterRef("pk")).order_by().values("patient").annotate(at=Max(field)).values("at")
    if date:
        # A dated record (a visit, a weight) counts from the start of its day.
        return Cast(Subquery(latest), DateTimeField())
    return Subquery(latest, output_field=DateTimeField())


def with_last_contact(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Each patient with `last_contact_at` (null for a patient with no infusion and nothing else on record)."""
    visits = FollowUpVisit.objects.exclude(survival_status=SurvivalStatus.LOST)
    return patients.annotate(
        last_contact_at=Greatest(
            _latest(Administration.objects.filter(voided_at=None), "administered_at"),
            _latest(Assessment.objects.all(), "assessed_at"),
            _latest(Intervention.objects.all(), "given_at"),
            _latest(AdverseEvent.objects.all(), "aware_at"),
            _latest(visits, "visit_date", date=True),
            _latest(PatientWeight.objects.all(), "measured_on", date=True),
        )
    )


def lost_to_follow_up(*, user: AnyUser, now: datetime) -> QuerySet[Patient]:
    """The caller's patients lost to follow-up, longest without contact first; nobody's for other roles."""
    if not may_see_lost_to_follow_up(user):
        return Patient.objects.none()
    return _lost(patients_visible_to(user), now=now)


def patient_lost_to_follow_up(*, patient: Patient, now: datetime) -> Patient | None:
    """The patient's flag, for whoever may see the patient (their page): the patient annotated as in the list
    (`last_contact_at`, `allowed_days`, `lost_since`), or None while in contact or out of follow-up. One query."""
    return _lost(Patient.objects.filter(pk=patient.pk), now=now).first()


def _lost(patients: QuerySet[Patient], *, now: datetime) -> QuerySet[Patient]:
    latest_course = Administration.objects.filter(patient=OuterRef("pk"), voided_at=None).order_by(
        "-administered_at", "-id"
    )
    died = Exists(FollowUpVisit.objects.filter(patient=OuterRef("pk"), survival_status=SurvivalStatus.DEAD)) | Exists(
        AdverseEvent.objects.filter(
            Q(outcome=ae_rules.FATAL_OUTCOME) | Q(grade=ae_rules.FATAL_GRADE), patient=OuterRef("pk")
        )
    )
    patients = (
        with_last_contact(patients)
        .filter(Exists(ScheduledCheck.objects.filter(patient=OuterRef("pk"), status=CheckStatus.OPEN)))
        .exclude(died)
        .annotate(
            allowed_days=Subquery(
                latest_course.values("order__product__monitoring_protocol__lost_to_follow_up_days")[:1],
                output_field=IntegerField(),
            ),
            product_name=Subquery(latest_course.values("order__product__name")[:1]),
            coi=Subquery(latest_course.values("order__chain__coi")[:1]),
            infused_at=Subquery(latest_course.values("administered_at")[:1]),
        )
        .annotate(
            lost_since=ExpressionWrapper(
                F("last_contact_at") + F("allowed_days") * Value(timedelta(days=1)), output_field=DateTimeField()
            )
        )
        .filter(lost_since__lt=now)
    )
    return patients.order_by(F("last_contact_at"), "id")
