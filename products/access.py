"""Who may see and do what: roles are Django groups, visibility follows facility membership."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from products.choices import Role

AnyUser = AbstractBaseUser | AnonymousUser


def user_roles(user: AnyUser) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_roles_cache", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        user._roles_cache = cached  # type: ignore[union-attr]
    return cached


def has_role(user: AnyUser, *roles: str) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return bool(user_roles(user) & set(roles))


def user_facility_ids(user: AnyUser) -> frozenset[int]:
    """The facilities whose records the user may see (superusers: all, as None is never returned)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_facility_ids_cache", None)
    if cached is None:
        from products.models import Facility, FacilityMembership

        if user.is_superuser:  # type: ignore[union-attr]
            cached = frozenset(Facility.objects.values_list("id", flat=True))
        else:
            cached = frozenset(FacilityMembership.objects.filter(user=user).values_list("facility_id", flat=True))
        user._facility_ids_cache = cached  # type: ignore[union-attr]
    return cached


# Roles that never see patient data: manufacturing works on the product side; safety (issue #12) sees only the
# aggregated surveillance figures of its facilities, never a patient list or record. A user who also holds another
# role sees patients through that role.
NO_PATIENT_ROLES = frozenset({Role.MANUFACTURING, Role.SAFETY})


def may_see_patients(user: AnyUser) -> bool:
    """Manufacturing and safety never see patient data (NO_PATIENT_ROLES)."""
    if getattr(user, "is_superuser", False):
        return True
    roles = user_roles(user)
    return bool(roles - NO_PATIENT_ROLES)
