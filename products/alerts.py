"""What on the product side needs someone's attention, for the monitoring scan to raise as reminders.

Quarantine, hold, expiry, use-by and temperature-excursion reminders are about products, not patients: a unit
near its expiry, a thawed bag near its use-by time, an excursion QA has not assessed, a batch waiting in
quarantine too long, a hold QA has left undecided. Products finds them here and says where they belong (the
facility that holds the bag, the site that made the batch) and how urgent they are, in messages that name a unit
or a lot and never a patient.

Why behind this interface and not in a table of their own: the tracker's Reminder is the one inbox. One id space
(`reminders/{id}/` and its acknowledgement are the published API's), one deduplication, one escalation and one
delivery path (email, webhooks) serve patient and product reminders alike; a second table would duplicate all of
it. So the tracker's scan (tracker.services.scan) turns each ProductAlert into a Reminder with the alert's key,
facility, time, severity and message, and attaches a patient only when a unit sits at that patient's hospital.
Who sees a reminder without a patient is decided on the product side's terms alone: membership of its facility
(tracker.selectors.reminders_visible_to). QA and manufacturing therefore need no permission on any tracker model
to see and acknowledge their reminders through the API.

Products never imports tracker: this module returns plain values and querysets of product rows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from products.choices import AlertKind, BatchStatus, HoldKind, HoldStatus, Severity, UnitStatus
from products.models import Batch, Hold, Unit
from products.rules.alerts import AlertWindows, expiry_severity


def alert_windows() -> AlertWindows:
    """The operational windows, read from settings (config/settings.py) here and nowhere else."""
    return AlertWindows(
        unit_expiry_warning=timedelta(days=settings.UNIT_EXPIRY_WARNING_DAYS),
        quarantine_alert=timedelta(days=settings.BATCH_QUARANTINE_ALERT_DAYS),
        hold_open_alert=timedelta(hours=settings.HOLD_OPEN_ALERT_HOURS),
    )


@dataclass(frozen=True)
class ProductAlert:
    """One condition worth a reminder. `key` is stable: one reminder per alert, however often the scan runs."""

    kind: AlertKind
    key: str
    facility_id: int
    due_at: datetime
    severity: Severity
    message: str
    # A unit's chain: the tracker attaches the patient when the bag is at that patient's hospital.
    chain_id: int | None = None


class _Place(TypedDict):
    facility_id: int
    chain_id: int | None


@dataclass(frozen=True)
class Answered:
    """Alerts of a kind whose question has been answered: `keys` is a queryset of their keys (column `key`)."""

    kind: AlertKind
    keys: QuerySet
    resolution: str


def _excursion_assessed() -> Q:
    """QA has decided every excursion hold of the unit: the "quarantine and assess" alert has been answered."""
    excursion_holds = Hold.objects.filter(unit_id=OuterRef("pk"), kind=HoldKind.EXCURSION)
    return Exists(excursion_holds) & ~Exists(excursion_holds.filter(status=HoldStatus.OPEN))


def hold_key(hold_id: object) -> str:
    return f"hold:{hold_id}:open"


def unit_alerts(*, now: datetime, windows: AlertWindows) -> list[ProductAlert]:
    """Live units near expiry, near or past their use-by time after thaw, or warmed and not yet assessed."""
    live = ~Q(status__in=[UnitStatus.ADMINISTERED, UnitStatus.DISCARDED])
    horizon = now + windows.unit_expiry_warning
    units = (
        Unit.objects.filter(live)
        .filter(
            Q(expires_at__lte=horizon)
            | Q(use_by__isnull=False, use_by__lte=now + windows.use_by_warning)
            | Q(temperature_excursion=True)
        )
        .annotate(excursion_assessed=_excursion_assessed())
    )
    alerts = []
    for unit in units:
        where: _Place = {"facility_id": unit.current_facility_id, "chain_id": unit.chain_id}
        if unit.temperature_excursion and not unit.excursion_assessed:
            alerts.append(
                ProductAlert(
                    kind=AlertKind.TEMPERATURE_EXCURSION,
                    key=f"unit:{unit.id}:excursion",
                    due_at=unit.excursion_at or now,
                    severity=Severity.URGENT,
                    message=f"Unit {unit.unit_id}: temperature excursion recorded; quarantine and assess before use.",
                    **where,
                )
            )
        if unit.use_by is not None and unit.use_by <= now + windows.use_by_warning:
            alerts.append(
                ProductAlert(
                    kind=AlertKind.UNIT_USE_BY,
                    key=f"unit:{unit.id}:use_by",
                    due_at=unit.use_by,
                    severity=Severity.URGENT,
                    message=f"Unit {unit.unit_id}: thawed, use by {unit.use_by:%Y-%m-%d %H:%M} UTC.",
                    **where,
                )
            )
        if unit.expires_at <= horizon:
            alerts.append(
                ProductAlert(
                    kind=AlertKind.UNIT_EXPIRING,
                    key=f"unit:{unit.id}:expiring",
                    due_at=unit.expires_at,
                    severity=expiry_severity(expires_at=unit.expires_at, now=now),
                    message=f"Unit {unit.unit_id}: expires {unit.expires_at:%Y-%m-%d %H:%M} UTC.",
                    **where,
                )
            )
    return alerts


def batch_alerts(*, now: datetime, windows: AlertWindows) -> list[ProductAlert]:
    """Batches in quarantine for longer than the window, at the site that makes them."""
    batches = Batch.objects.filter(status=BatchStatus.QUARANTINE, status_changed_at__lte=now - windows.quarantine_alert)
    return [
        ProductAlert(
            kind=AlertKind.BATCH_QUARANTINE,
            key=f"batch:{batch.id}:quarantine",
            facility_id=batch.facility_id,
            due_at=batch.status_changed_at,
            severity=Severity.ROUTINE,
            message=f"Batch {batch.lot_number} in quarantine since {batch.status_changed_at:%Y-%m-%d}: "
            "complete QC and release or reject.",
        )
        for batch in batches
        if batch.status_changed_at is not None  # always: the query compares it
    ]


def hold_alerts(*, now: datetime, windows: AlertWindows) -> list[ProductAlert]:
    """Holds QA has left open too long, at the site that made the batch, where QA works. Reads the partial index
    of open holds by age."""
    wait = windows.hold_open_alert
    holds = Hold.objects.filter(status=HoldStatus.OPEN, opened_at__lte=now - wait).select_related(
        "batch", "unit__batch"
    )
    alerts = []
    for hold in holds:
        batch = hold.held_batch
        what = f"unit {hold.unit.unit_id}" if hold.unit is not None else f"batch {batch.lot_number}"
        alerts.append(
            ProductAlert(
                kind=AlertKind.HOLD_OPEN,
                key=hold_key(hold.id),
                facility_id=batch.facility_id,
                due_at=hold.opened_at + wait,
                severity=Severity.ROUTINE,
                message=f"Hold {hold.id} on {what} ({hold.get_kind_display().lower()}) open since "
                f"{hold.opened_at:%Y-%m-%d %H:%M} UTC: QA to decide, release for use or discard.",
            )
        )
    return alerts


def answered_alerts() -> list[Answered]:
    """Alerts whose question QA has answered: a decided hold, and a unit whose excursion holds are all decided."""
    decided_holds = (
        Hold.objects.exclude(status=HoldStatus.OPEN)
        .annotate(key=Concat(Value("hold:"), Cast("id", CharField()), Value(":open")))
        .values("key")
    )
    assessed_units = (
        Unit.objects.annotate(assessed=_excursion_assessed())
        .filter(assessed=True)
        .annotate(key=Concat(Value("unit:"), Cast("id", CharField()), Value(":excursion")))
        .values("key")
    )
    return [
        Answered(kind=AlertKind.HOLD_OPEN, keys=decided_holds, resolution="QA decided the hold"),
        Answered(kind=AlertKind.TEMPERATURE_EXCURSION, keys=assessed_units, resolution="QA decided the excursion hold"),
    ]
