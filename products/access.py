"""Who may see and do what: roles are Django groups, visibility follows facility membership."""

from django.contrib.auth.models import AnonymousUser, User

from products.choices import Role

# What `request.user` is: the project's user model (Django's own) or nobody.
AnyUser = User | AnonymousUser


def user_roles(user: AnyUser) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_roles_cache", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._roles_cache = cached  # type: ignore[attr-defined]  # a cache on the instance, not a model field
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

        if user.is_superuser:
            cached = frozenset(Facility.objects.values_list("id", flat=True))
        else:
            cached = frozenset(FacilityMembership.objects.filter(user=user).values_list("facility_id", flat=True))
        user._facility_ids_cache = cached  # type: ignore[attr-defined]  # a cache on the instance
    return cached


# Roles whose work is on the product side only (docs/architecture.md: a manufacturing facility may be given access
# without seeing PHI). Which roles see patient data is the tracker's decision (tracker.access.may_see_patients);
# products only says which roles are confined to its side.
PRODUCT_SIDE_ONLY_ROLES = frozenset({Role.MANUFACTURING})


def product_side_only(user: AnyUser) -> bool:
    """The user holds no role beyond the product side (or no role at all); superusers are never confined."""
    if getattr(user, "is_superuser", False):
        return False
    return not (user_roles(user) - PRODUCT_SIDE_ONLY_ROLES)
