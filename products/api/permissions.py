from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from products.access import has_role
from products.choices import Role


def roles_may_write(*roles: str) -> type[BasePermission]:
    """Reads for any authenticated user (querysets scope them); writes only for these roles."""

    class RoleWritePermission(BasePermission):
        message = f"Only users with role {' or '.join(roles)} may change this."

        def has_permission(self, request: Request, view: Any) -> bool:
            return request.method in SAFE_METHODS or has_role(request.user, *roles)

    return RoleWritePermission


def roles_required(*roles: str) -> type[BasePermission]:
    """Reads and writes only for these roles (and superusers)."""

    class RolePermission(BasePermission):
        message = f"Only users with role {' or '.join(roles)} may use this."

        def has_permission(self, request: Request, view: Any) -> bool:
            return has_role(request.user, *roles)

    return RolePermission


COORDINATION = (Role.COORDINATOR, Role.INTEGRATION)
