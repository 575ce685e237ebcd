"""The periodic monitoring scan: due checks, escalations, report clocks and product risks become reminders.

Safe to run late, twice or on several workers at once: rows are claimed with SELECT ... FOR UPDATE
SKIP LOCKED, reminders are inserted with ON CONFLICT DO NOTHING on their dedupe key, and every query
reads an index of what is due, so the cost follows the due rows rather than the size of the tables.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from products.choices import BatchStatus, HoldKind, HoldStatus, Severity, UnitStatus
from products.models import Batch, Hold, Unit
from tracker.choices import DeliveryStatus, ReminderKind, ReminderStatus
from tracker.models import AdverseEvent, Notification, Reminder, TherapyOrder
from tracker.services.notifications import CLAIM_TIMEOUT, ReminderRef, enqueue, notifications_for_many
from tracker.services.registry import registry_remind_due

# Rows per transaction: short transactions keep row locks brief and memory flat however much is due.
BATCH_SIZE = 1000
REPORT_WARNING = timedelta(days=3)  # "a serious adverse event's report deadline approaching (3 days before)"
USE_BY_WARNING = timedelta(minutes=30)


@dataclass
class ScanResult:
    counts: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items())) or "nothing to do"


def monitoring_scan(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> ScanResult:
    now = now or timezone.now()
    result = ScanResult()
    while (n := _remind_due_checks(now, batch_size)) > 0:
        result.counts["checks_reminded"] += n
    while (n := _escalate_overdue(now, batch_size)) > 0:
        result.counts["escalated"] += n
    while (n := registry_remind_due(now=now, batch_size=batch_size)) > 0:
        result.counts["registry_reminded"] += n
    result.counts["report_reminders"] += _report_deadlines(now)
    result.counts["unit_reminders"] += _unit_risks(now)
    result.counts["batch_reminders"] += _quarantined_batches(now)
    result.counts["hold_reminders"] += _open_holds(now)
    result.counts["hold_reminders_resolved"] += _decided_holds(now)
    result.counts["notifications_requeued"] += _requeue_notifications(now, batch_size)
    result.counts = +result.counts  # drop zeros
    return result


# One statement claims a batch of due checks (FOR UPDATE SKIP LOCKED: a concurrent scan takes the next rows),
# marks them reminded and inserts their reminders; ON CONFLICT keeps a check to one reminder whatever happens.
# Raw SQL because this is the hot path: the ORM spent ~0.5 ms per row building and inserting models.
REMIND_DUE_CHECKS_SQL = """
WITH claimed AS (
    UPDATE tracker_scheduledcheck c SET reminded_at = %(now)s
    WHERE c.id IN (
        SELECT id FROM tracker_scheduledcheck
        WHERE status = 'open' AND reminded_at IS NULL AND due_at <= %(now)s
        ORDER BY due_at LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    RETURNING c.id, c.patient_id, c.label, c.due_at, c.grace_until, c.severity
)
INSERT INTO tracker_reminder (kind, dedupe_key, patient_id, facility_id, check_id, due_at, escalate_at, severity,
                              status, message, resolution, created_at)
SELECT 'check_due', 'check:' || claimed.id, claimed.patient_id, p.facility_id, claimed.id, claimed.due_at,
       claimed.grace_until, claimed.severity, 'open',
       left('Patient ' || claimed.patient_id || ': ' || claimed.label
            || CASE WHEN claimed.grace_until <= %(now)s THEN ' overdue' ELSE ' due' END
            || ' since ' || to_char(claimed.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC.', 300),
       '', %(now)s
FROM claimed JOIN tracker_patient p ON p.id = claimed.patient_id
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id, facility_id, patient_id
"""


@transaction.atomic
def _remind_due_checks(now: datetime, batch_size: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(REMIND_DUE_CHECKS_SQL, {"now": now, "limit": batch_size})
        created = [ReminderRef(*row) for row in cursor.fetchall()]
        claimed = cursor.rowcount
    notifications_for_many(reminders=created, reason="raised")
    return max(claimed, len(created))


@transaction.atomic
def _escalate_overdue(now: datetime, batch_size: int) -> int:
    """A reminder still open after its grace period turns urgent and goes to the on-call clinicians."""
    reminders = list(
        Reminder.objects.select_for_update(skip_locked=True)
        .filter(status=ReminderStatus.OPEN, escalated_at__isnull=True, escalate_at__lte=now)
        .order_by("escalate_at")[:batch_size]
    )
    for reminder in reminders:
        reminder.severity, reminder.escalated_at = Severity.URGENT, now
        reminder.message = reminder.message.replace(" due since ", " overdue since ")
    Reminder.objects.bulk_update(reminders, ["severity", "escalated_at", "message"])
    notifications_for_many(reminders=reminders, reason="escalated")
    return len(reminders)


def _raise(reminders: list[Reminder]) -> int:
    """Insert the reminders not raised before and notify for those; returns how many were new."""
    if not reminders:
        return 0
    keys = [r.dedupe_key for r in reminders]
    existing = set(Reminder.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    fresh = [r for r in reminders if r.dedupe_key not in existing]
    with transaction.atomic():
        Reminder.objects.bulk_create(fresh, ignore_conflicts=True)
        created = Reminder.objects.filter(dedupe_key__in=[r.dedupe_key for r in fresh], notifications__isnull=True)
        notifications_for_many(reminders=list(created), reason="raised")
    return len(fresh)


def _report_deadlines(now: datetime) -> int:
    # Partial index ae_report_open: only events with a deadline and no submission are read.
    events = AdverseEvent.objects.filter(
        report_submitted_at__isnull=True, report_due_at__isnull=False, report_due_at__lte=now + REPORT_WARNING
    ).select_related("patient")
    reminders = []
    for event in events:
        overdue = event.report_due_at <= now
        reminders.append(
            Reminder(
                kind=ReminderKind.REPORT_OVERDUE if overdue else ReminderKind.REPORT_DUE,
                dedupe_key=f"ae:{event.id}:{'overdue' if overdue else 'due'}",
                patient=event.patient,
                facility_id=event.patient.facility_id,
                due_at=event.report_due_at,
                severity=Severity.URGENT if overdue else Severity.ROUTINE,
                message=f"Patient {event.patient_id}: expedited report for adverse event {event.id} "
                f"({event.get_term_display()}, grade {event.grade}) {'overdue since' if overdue else 'due'} "
                f"{event.report_due_at:%Y-%m-%d %H:%M} UTC ({event.report_rule.split(':')[0]}).",
            )
        )
    return _raise(reminders)


def _excursion_assessed() -> Exists:
    """QA has decided every excursion hold of the unit: the "quarantine and assess" reminder has been answered."""
    excursion_holds = Hold.objects.filter(unit_id=OuterRef("pk"), kind=HoldKind.EXCURSION)
    return Exists(excursion_holds) & ~Exists(excursion_holds.filter(status=HoldStatus.OPEN))


def _unit_patient(unit: Unit, orders: dict[int, TherapyOrder]) -> int | None:
    """The patient, when the unit is at the patient's hospital; elsewhere the reminder is product-side only,
    so the site that holds the bag (a factory, a depot) sees it and no patient data travels with it."""
    order = orders.get(unit.chain_id) if unit.chain_id else None
    if order is None or order.patient.facility_id != unit.current_facility_id:
        return None
    return order.patient_id


def _unit_risks(now: datetime) -> int:
    live = ~Q(status__in=[UnitStatus.ADMINISTERED, UnitStatus.DISCARDED])
    horizon = now + timedelta(days=settings.UNIT_EXPIRY_WARNING_DAYS)
    units = list(
        Unit.objects.filter(live)
        .filter(
            Q(expires_at__lte=horizon)
            | Q(use_by__isnull=False, use_by__lte=now + USE_BY_WARNING)
            | Q(temperature_excursion=True)
        )
        .annotate(excursion_assessed=_excursion_assessed())
        .select_related("current_facility")
    )
    chain_ids = [u.chain_id for u in units if u.chain_id]
    orders = {o.chain_id: o for o in TherapyOrder.objects.select_related("patient").filter(chain_id__in=chain_ids)}
    reminders = []
    for unit in units:
        base = {"patient_id": _unit_patient(unit, orders), "facility_id": unit.current_facility_id}
        if unit.temperature_excursion and not unit.excursion_assessed:
            reminders.append(
                Reminder(
                    kind=ReminderKind.TEMPERATURE_EXCURSION,
                    dedupe_key=f"unit:{unit.id}:excursion",
                    due_at=unit.excursion_at or now,
                    severity=Severity.URGENT,
                    message=f"Unit {unit.unit_id}: temperature excursion recorded; quarantine and assess before use.",
                    **base,
                )
            )
        if unit.use_by is not None and unit.use_by <= now + USE_BY_WARNING:
            reminders.append(
                Reminder(
                    kind=ReminderKind.UNIT_USE_BY,
                    dedupe_key=f"unit:{unit.id}:use_by",
                    due_at=unit.use_by,
                    severity=Severity.URGENT,
                    message=f"Unit {unit.unit_id}: thawed, use by {unit.use_by:%Y-%m-%d %H:%M} UTC.",
                    **base,
                )
            )
        if unit.expires_at <= horizon:
            reminders.append(
                Reminder(
                    kind=ReminderKind.UNIT_EXPIRING,
                    dedupe_key=f"unit:{unit.id}:expiring",
                    due_at=unit.expires_at,
                    severity=Severity.URGENT if unit.expires_at <= now else Severity.ROUTINE,
                    message=f"Unit {unit.unit_id}: expires {unit.expires_at:%Y-%m-%d %H:%M} UTC.",
                    **base,
                )
            )
    return _raise(reminders)


def _quarantined_batches(now: datetime) -> int:
    limit = now - timedelta(days=settings.BATCH_QUARANTINE_ALERT_DAYS)
    batches = Batch.objects.filter(status=BatchStatus.QUARANTINE, status_changed_at__lte=limit)
    return _raise(
        [
            Reminder(
                kind=ReminderKind.BATCH_QUARANTINE,
                dedupe_key=f"batch:{batch.id}:quarantine",
                facility_id=batch.facility_id,
                due_at=batch.status_changed_at,
                severity=Severity.ROUTINE,
                message=f"Batch {batch.lot_number} in quarantine since {batch.status_changed_at:%Y-%m-%d}: "
                "complete QC and release or reject.",
            )
            for batch in batches
        ]
    )


def _hold_key(hold_id: object) -> str:
    return f"hold:{hold_id}:open"


def _open_holds(now: datetime) -> int:
    """Holds QA has left open too long: a product-side reminder (no patient) at the site that made the batch,
    where QA works. Reads the partial index of open holds by age."""
    wait = timedelta(hours=settings.HOLD_OPEN_ALERT_HOURS)
    holds = Hold.objects.filter(status=HoldStatus.OPEN, opened_at__lte=now - wait).select_related(
        "batch", "unit__batch"
    )
    reminders = []
    for hold in holds:
        batch = hold.batch if hold.batch is not None else hold.unit.batch  # type: ignore[union-attr]
        what = f"batch {batch.lot_number}" if hold.batch_id else f"unit {hold.unit.unit_id}"  # type: ignore[union-attr]
        reminders.append(
            Reminder(
                kind=ReminderKind.HOLD_OPEN,
                dedupe_key=_hold_key(hold.id),
                facility_id=batch.facility_id,
                due_at=hold.opened_at + wait,
                severity=Severity.ROUTINE,
                message=f"Hold {hold.id} on {what} ({hold.get_kind_display().lower()}) open since "
                f"{hold.opened_at:%Y-%m-%d %H:%M} UTC: QA to decide, release for use or discard.",
            )
        )
    return _raise(reminders)


def _decided_holds(now: datetime) -> int:
    """A hold QA has decided needs no reminder any more: its reminder is resolved, and so is the excursion
    reminder of a unit whose excursion holds are all decided (one UPDATE each, idempotent)."""
    decided = Hold.objects.exclude(status=HoldStatus.OPEN).annotate(
        key=Concat(Value("hold:"), Cast("id", CharField()), Value(":open"))
    )
    resolved = (
        Reminder.objects.filter(kind=ReminderKind.HOLD_OPEN)
        .exclude(status=ReminderStatus.RESOLVED)
        .filter(Exists(decided.filter(key=OuterRef("dedupe_key"))))
        .update(status=ReminderStatus.RESOLVED, resolved_at=now, resolution="QA decided the hold")
    )
    assessed = (
        Unit.objects.annotate(assessed=_excursion_assessed())
        .filter(assessed=True)
        .annotate(key=Concat(Value("unit:"), Cast("id", CharField()), Value(":excursion")))
    )
    return resolved + (
        Reminder.objects.filter(kind=ReminderKind.TEMPERATURE_EXCURSION)
        .exclude(status=ReminderStatus.RESOLVED)
        .filter(Exists(assessed.filter(key=OuterRef("dedupe_key"))))
        .update(status=ReminderStatus.RESOLVED, resolved_at=now, resolution="QA decided the excursion hold")
    )


def _requeue_notifications(now: datetime, batch_size: int) -> int:
    """Pending deliveries whose time has come: a retry, a broker outage when they were raised, or a claim by a
    worker that died while sending (claimed longer ago than the claim timeout and still pending; the send
    task's conditional claim accepts such a stale claim, so exactly one worker takes it over)."""
    ids = list(
        Notification.objects.filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT),
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now - timedelta(seconds=settings.NOTIFICATION_REQUEUE_SECONDS),
        ).values_list("id", flat=True)[:batch_size]
    )
    enqueue(ids)
    return len(ids)
