"""Users, their roles (Django groups) and their facilities."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction

from products.choices import STAFF_ROLES, Role
from products.errors import DomainError
from products.models import Facility, FacilityMembership


class UnknownRole(DomainError):
    code = "unknown_role"


class UnknownFacility(DomainError):
    code = "unknown_facility"


@transaction.atomic
def user_create(
    *,
    username: str,
    roles: Iterable[str],
    facility_codes: Iterable[str] = (),
    password: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> AbstractUser:
    """Create (or update, keeping the username) a user with the given roles and facilities."""
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise UnknownRole(f"Unknown role(s): {', '.join(unknown)}. Roles: {', '.join(Role.values)}.")
    codes = list(dict.fromkeys(facility_codes))
    facilities = list(Facility.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {f.code for f in facilities})
    if missing:
        raise UnknownFacility(f"Unknown facility code(s): {', '.join(missing)}.")

    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username)
    user.email = email or user.email
    user.first_name = first_name or user.first_name
    user.last_name = last_name or user.last_name
    user.is_staff = bool(STAFF_ROLES & set(roles)) or user.is_superuser
    user.set_password(password)
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    for facility in facilities:
        FacilityMembership.objects.get_or_create(user=user, facility=facility)
    return user
