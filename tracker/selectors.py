"""Reads on the patient side, scoped to the caller's facilities, with their joins done once."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from products.access import may_see_patients, user_facility_ids
from tracker.models import Patient, TherapyOrder

AnyUser = AbstractBaseUser | AnonymousUser


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
