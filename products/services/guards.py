"""Checks every service makes about the acting user, so admin, API and tasks agree."""

from django.contrib.auth.models import User

from products.access import has_role, user_facility_ids
from products.errors import PermissionDeniedError
from products.models import Facility


def require_role(user: User, *roles: str, action: str) -> None:
    if not has_role(user, *roles):
        raise PermissionDeniedError(f"Only {' or '.join(roles)} users may {action}.")


def require_member(user: User, facility: Facility) -> None:
    if not getattr(user, "is_superuser", False) and facility.id not in user_facility_ids(user):
        raise PermissionDeniedError(f"You are not a member of {facility.code}.")
