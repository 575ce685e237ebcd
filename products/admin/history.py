"""The audit trail of one record, as pghistory's database triggers wrote it (21 CFR 11.10(e))."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from pghistory.models import Events

# Bookkeeping columns that change with every write and say nothing a reader needs.
NOISE = frozenset({"updated_at"})
# Apps whose history may show reasons written about a patient (products.audit.audit_patient_reason). Any other
# history, above all the product side's, never shows them: a void reason is PHI, and it travels in the context
# of the product-side rows the same request changed.
PATIENT_SIDE_APPS = frozenset({"tracker"})


def _tracked_models() -> set[type[models.Model]]:
    from django.apps import apps
    from pghistory.models import Event

    tracked = (
        getattr(m, "pgh_tracked_model", None)
        for m in apps.get_models()
        if issubclass(m, Event) and hasattr(m, "pgh_obj")
    )
    return {model._meta.concrete_model for model in tracked if model is not None}


@dataclass
class EventRow:
    at: Any
    label: str
    user: str
    channel: str
    url: str
    reason: str
    changes: list[tuple[str, Any, Any]]


HIDDEN = "(hidden)"


@dataclass
class AuditTrail:
    obj: models.Model
    tracked: bool
    events: Any  # a queryset (paginated by the view)
    redacted: frozenset[str] = frozenset()  # columns shown as changed, never with their values (secrets)
    patient_side: bool = False  # may show reasons written about a patient

    def describe(self, event: Any) -> EventRow:
        context = event.pgh_context or {}
        reasons = [str(context.get("reason") or "")]
        if self.patient_side:
            reasons.append(str(context.get("patient_reason") or ""))
        if event.pgh_diff:
            changes = [(field, old, new) for field, (old, new) in event.pgh_diff.items() if field not in NOISE]
        elif event.pgh_label == "insert":
            changes = [(field, None, value) for field, value in (event.pgh_data or {}).items() if field not in NOISE]
        else:
            changes = []
        changes = [
            (field, HIDDEN if old is not None else None, HIDDEN) if field in self.redacted else (field, old, new)
            for field, old, new in changes
        ]
        return EventRow(
            at=event.pgh_created_at,
            label=event.pgh_label,
            user=self._user_name(context.get("user")),
            channel=str(context.get("channel", "")),
            url=str(context.get("url", "")),
            reason=" · ".join(r for r in reasons if r),
            changes=changes,
        )

    def _user_name(self, user_id: Any) -> str:
        if user_id in (None, ""):
            return ""
        cache = self.__dict__.setdefault("_users", {})
        if user_id not in cache:
            user = get_user_model().objects.filter(pk=user_id).first()
            cache[user_id] = (user.get_full_name() or user.get_username()) if user else f"user {user_id}"
        return cache[user_id]


def audit_trail(obj: models.Model, redacted: frozenset[str] = frozenset()) -> AuditTrail:
    tracked = obj._meta.concrete_model in _tracked_models()
    events = Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id") if tracked else Events.objects.none()
    patient_side = obj._meta.app_label in PATIENT_SIDE_APPS
    return AuditTrail(obj=obj, tracked=tracked, events=events, redacted=redacted, patient_side=patient_side)
