"""API permissions of the patient side."""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tracker.access import may_see_patients


class MaySeePatients(BasePermission):
    """Patient data is closed to the product-side-only `manufacturing` role (tracker.access)."""

    message = "Your role has no access to patient data."

    def has_permission(self, request: Request, view: Any) -> bool:
        return may_see_patients(request.user)
