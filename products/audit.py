"""Audit context (21 CFR 11.10(e)): who did it, from where, and why, attached to every history row.

pghistory's triggers write the history rows; this module only decides what context they carry.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pghistory
from django.http import HttpRequest
from pghistory.middleware import HistoryMiddleware


class AuditContextMiddleware(HistoryMiddleware):
    """Adds the HTTP method to pghistory's user and URL; the user is re-attached once DRF authenticates."""

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().get_context(request)
        context["method"] = request.method
        context["channel"] = (
            "admin" if request.path.startswith("/admin/") else "api" if "/api/" in request.path else "web"
        )
        return context


@contextmanager
def audit_context(*, actor: str, user_id: int | None = None, reason: str | None = None) -> Iterator[None]:
    """Context for work outside a request: Celery tasks, management commands, migrations."""
    values: dict[str, Any] = {"channel": actor}
    if user_id is not None:
        values["user"] = user_id
    if reason:
        values["reason"] = reason
    with pghistory.context(**values):
        yield


def audit_reason(reason: str) -> None:
    """Record why a product-side change was made (required when a released or signed record changes).

    Shown in every history of the request's changes. A reason written about a patient goes through
    `audit_patient_reason` instead.
    """
    pghistory.context(reason=reason)


def audit_patient_reason(reason: str) -> None:
    """Record why a patient-side change was made (e.g. why an administration was voided).

    Free text about a patient is PHI. The same request also changes product-side rows (the unit goes back to
    stock), whose history product-side users read: so this reason is kept under its own key, which only the
    patient side's history shows (products.admin.history).
    """
    pghistory.context(patient_reason=reason)
