"""Reads on the patient side, scoped to the caller's facilities, with their joins done once."""

from datetime import date
from decimal import Decimal

from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce

from products.access import AnyUser, has_role, user_facility_ids
from products.choices import Role
from products.models import Donor
from tracker.access import may_see_patients
from tracker.models import (
    Administration,
    AdverseEvent,
    Assessment,
    BedsideCheck,
    Conditioning,
    DonorIdentity,
    FollowUpVisit,
    Intervention,
    Notification,
    Patient,
    PatientWeight,
    Reminder,
    ScheduledCheck,
    TherapyOrder,
    Webhook,
)


def patients_visible_to(user: AnyUser) -> QuerySet[Patient]:
    """Patients of the caller's facilities; none at all for a role that may not see patient data."""
    patients = Patient.objects.select_related("facility")
    if getattr(user, "is_superuser", False):
        return patients
    if not may_see_patients(user):
        return patients.none()
    return patients.filter(facility_id__in=user_facility_ids(user))


def orders_visible_to(user: AnyUser) -> QuerySet[TherapyOrder]:
    orders = TherapyOrder.objects.select_related(
        "chain__collection_facility", "patient__facility", "product", "ordered_by"
    )
    if getattr(user, "is_superuser", False):
        return orders
    if not may_see_patients(user):
        return orders.none()
    return orders.filter(patient__facility_id__in=user_facility_ids(user))


# Clinical records, monitoring and reminders ----------------------------------------------------------------
# Each list is scoped through the patient's facility (one indexed join) and joins what the API renders, so a
# page costs the same number of queries whatever its length.


def _patient_side(queryset: QuerySet, user: AnyUser, patient_path: str = "patient") -> QuerySet:
    if getattr(user, "is_superuser", False):
        return queryset
    if not may_see_patients(user):
        return queryset.none()
    return queryset.filter(**{f"{patient_path}__facility_id__in": user_facility_ids(user)})


def with_course_dose(administrations: QuerySet[Administration]) -> QuerySet[Administration]:
    """Each administration with its course's dose: every unit given (not voided) under the same order, summed.
    The dose per kg adds each bag's own dose per kg (each from the weight on its infusion day), and is null when a
    bag of the course had no weight on record: a partial sum would understate the dose."""
    course = (
        Administration.objects.filter(order_id=OuterRef("order_id"), voided_at=None)
        .order_by()
        .values("order_id")
        .annotate(
            cells=Sum("dose_cells"),
            units=Count("id"),
            unweighed=Count("id", filter=Q(dose_cells_per_kg__isnull=True)),
            summed_per_kg=Sum("dose_cells_per_kg"),
        )
        .annotate(per_kg=Case(When(unweighed=0, then="summed_per_kg"), default=None))
    )
    return administrations.annotate(
        course_dose_cells=Subquery(course.values("cells")[:1]),
        course_dose_cells_per_kg=Subquery(course.values("per_kg")[:1]),
        # A voided administration may leave its order with no unit given: a count of 0, not null.
        course_units=Coalesce(Subquery(course.values("units")[:1]), 0),
    )


def administrations_visible_to(user: AnyUser) -> QuerySet[Administration]:
    administrations = Administration.objects.select_related(
        "order__chain", "unit", "administered_by", "verification_signature__signer", "voided_by"
    )
    return _patient_side(with_course_dose(administrations), user)


def bedside_checks_visible_to(user: AnyUser) -> QuerySet[BedsideCheck]:
    return _patient_side(BedsideCheck.objects.select_related("order__chain", "unit", "checked_by"), user)


def weight_on(*, patient_id: int, day: date) -> Decimal | None:
    """The patient's weight on a day: the latest weight measured on or before it (None if none is on record)."""
    return (
        PatientWeight.objects.filter(patient_id=patient_id, measured_on__lte=day)
        .order_by("-measured_on", "-id")
        .values_list("weight_kg", flat=True)
        .first()
    )


def weights_visible_to(user: AnyUser) -> QuerySet[PatientWeight]:
    return _patient_side(PatientWeight.objects.select_related("recorded_by"), user)


def assessments_visible_to(user: AnyUser) -> QuerySet[Assessment]:
    return _patient_side(Assessment.objects.select_related("assessed_by"), user)


def interventions_visible_to(user: AnyUser) -> QuerySet[Intervention]:
    return _patient_side(Intervention.objects.select_related("given_by"), user)


def conditioning_visible_to(user: AnyUser) -> QuerySet[Conditioning]:
    conditioning = Conditioning.objects.select_related("order__chain", "recorded_by")
    return _patient_side(conditioning, user, patient_path="order__patient")


def adverse_events_visible_to(user: AnyUser) -> QuerySet[AdverseEvent]:
    return _patient_side(AdverseEvent.objects.select_related("recorded_by", "order__chain"), user)


def follow_ups_visible_to(user: AnyUser) -> QuerySet[FollowUpVisit]:
    return _patient_side(FollowUpVisit.objects.select_related("recorded_by"), user)


def checks_visible_to(user: AnyUser) -> QuerySet[ScheduledCheck]:
    return _patient_side(ScheduledCheck.objects.all(), user)


def reminders_visible_to(user: AnyUser) -> QuerySet[Reminder]:
    """Who sees which reminder: the one rule, for the API, the pages and the admin alike.

    - A product-side reminder (no patient: a unit, a batch, a hold; products.alerts) is seen by every member of
      its facility, whatever their role and without any permission on tracker models.
    - A patient's reminder is seen by those who may see patients (tracker.access: not the product-side-only
      manufacturing role) and are members of the patient's facility: a reminder naming a patient is PHI.
    - Superusers see all.
    """
    reminders = Reminder.objects.select_related("facility", "acknowledged_by", "resolved_by")
    if getattr(user, "is_superuser", False):
        return reminders
    facilities = user_facility_ids(user)
    product_side = Q(patient__isnull=True, facility_id__in=facilities)
    if not may_see_patients(user):
        return reminders.filter(product_side)
    return reminders.filter(product_side | Q(patient__facility_id__in=facilities))


def webhooks_visible_to(user: AnyUser) -> QuerySet[Webhook]:
    """Coordinators see their facilities' webhooks; a webhook of every facility (none set) only superusers."""
    webhooks = Webhook.objects.select_related("facility")
    if getattr(user, "is_superuser", False):
        return webhooks
    if not has_role(user, Role.COORDINATOR):
        return webhooks.none()
    return webhooks.filter(facility_id__in=user_facility_ids(user))


# --- What else the admin lists: each scoped as the records it belongs to -------------------------------------


def notifications_visible_to(user: AnyUser) -> QuerySet[Notification]:
    """The deliveries of the reminders the user may see."""
    notifications = Notification.objects.select_related("reminder")
    if getattr(user, "is_superuser", False):
        return notifications
    return notifications.filter(reminder__in=reminders_visible_to(user).values("id"))


# Donors ------------------------------------------------------------------------------------------------------


def donor_identity_visible(user: AnyUser, donor: Donor) -> bool:
    """Who a donor is (PHI) is seen at the donor's facility only, by those who may see patient data."""
    if getattr(user, "is_superuser", False):
        return True
    return may_see_patients(user) and donor.facility_id in user_facility_ids(user)


def donor_identities_visible_to(user: AnyUser) -> QuerySet[DonorIdentity]:
    """Donors' identities of the caller's facilities; none for a role that may not see patient data."""
    identities = DonorIdentity.objects.select_related("donor__facility")
    if getattr(user, "is_superuser", False):
        return identities
    if not may_see_patients(user):
        return identities.none()
    return identities.filter(donor__facility_id__in=user_facility_ids(user))
