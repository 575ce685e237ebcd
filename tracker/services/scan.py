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
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from products.alerts import ProductAlert, alert_windows, answered_alerts, batch_alerts, hold_alerts, unit_alerts
from products.choices import Severity
from tracker.choices import DeliveryStatus, ReminderKind, ReminderStatus
from tracker.models import AdverseEvent, Notification, Reminder, TherapyOrder
from tracker.rules.monitoring import REPORT_WARNING
from tracker.services.notifications import (
    CLAIM_TIMEOUT,
    Addressees,
    ReminderRef,
    enqueue,
    notifications_for_many,
)
from tracker.services.registry import registry_remind_due

# Rows per transaction: short transactions keep row locks brief (well under a second) and memory flat however much
# is due; 1,000 spent a third of a 10,000-check catch-up on per-batch overhead (make bench).
BATCH_SIZE = 5000


@dataclass
class ScanResult:
    counts: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items())) or "nothing to do"


def monitoring_scan(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> ScanResult:
    now = now or timezone.now()
    result = ScanResult()
    addressees = Addressees()  # each facility's recipients, looked up once for every batch of this scan
    while (reminded := _remind_due_checks(now, batch_size, addressees))[0] > 0:
        result.counts["checks_reminded"] += reminded[0]
        result.counts["escalated"] += reminded[1]
    while (n := _escalate_overdue(now, batch_size, addressees)) > 0:
        result.counts["escalated"] += n
    while (n := registry_remind_due(now=now, batch_size=batch_size)) > 0:
        result.counts["registry_reminded"] += n
    result.counts["report_reminders"] += _report_deadlines(now)
    windows = alert_windows()
    result.counts["unit_reminders"] += _raise_alerts(unit_alerts(now=now, windows=windows))
    result.counts["batch_reminders"] += _raise_alerts(batch_alerts(now=now, windows=windows))
    result.counts["hold_reminders"] += _raise_alerts(hold_alerts(now=now, windows=windows))
    result.counts["hold_reminders_resolved"] += _answered_alerts(now)
    result.counts["notifications_requeued"] += _requeue_notifications(now, batch_size)
    result.counts = +result.counts  # drop zeros
    return result


# One statement claims a batch of due checks (FOR UPDATE SKIP LOCKED: a concurrent scan takes the next rows),
# marks them reminded and inserts their reminders; ON CONFLICT keeps a check to one reminder whatever happens.
# A check already past its grace period is raised escalated (urgent, escalated now), as the escalation step would
# have made it a moment later: one write per reminder instead of two.
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
                              escalated_at, status, message, resolution, created_at)
SELECT 'check_due', 'check:' || claimed.id, claimed.patient_id, p.facility_id, claimed.id, claimed.due_at,
       claimed.grace_until,
       CASE WHEN claimed.grace_until <= %(now)s THEN %(urgent)s ELSE claimed.severity END,
       CASE WHEN claimed.grace_until <= %(now)s THEN %(now)s END,
       'open',
       left('Patient ' || claimed.patient_id || ': ' || claimed.label
            || CASE WHEN claimed.grace_until <= %(now)s THEN ' overdue' ELSE ' due' END
            || ' since ' || to_char(claimed.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC.', 300),
       '', %(now)s
FROM claimed JOIN tracker_patient p ON p.id = claimed.patient_id
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id, facility_id, patient_id, escalated_at IS NOT NULL
"""


@transaction.atomic
def _remind_due_checks(now: datetime, batch_size: int, addressees: Addressees) -> tuple[int, int]:
    """(checks claimed, reminders raised already escalated) for one batch."""
    with connection.cursor() as cursor:
        cursor.execute(REMIND_DUE_CHECKS_SQL, {"now": now, "limit": batch_size, "urgent": Severity.URGENT})
        rows = cursor.fetchall()
        claimed = cursor.rowcount
    created = [ReminderRef(*row[:3]) for row in rows]
    escalated = [ReminderRef(*row[:3]) for row in rows if row[3]]
    notifications_for_many(reminders=created, reason="raised", addressees=addressees)
    notifications_for_many(reminders=escalated, reason="escalated", addressees=addressees)
    return max(claimed, len(created)), len(escalated)


# One statement claims a batch of overdue reminders and escalates them. Raw SQL for the same reason as above:
# bulk_update's CASE WHEN over 1,000 rows took most of a 10,000-reminder scan (make bench, pyinstrument).
ESCALATE_OVERDUE_SQL = """
UPDATE tracker_reminder r
SET severity = %(urgent)s, escalated_at = %(now)s, message = replace(r.message, ' due since ', ' overdue since ')
WHERE r.id IN (
    SELECT id FROM tracker_reminder
    WHERE status = 'open' AND escalated_at IS NULL AND escalate_at <= %(now)s
    ORDER BY escalate_at LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING r.id, r.facility_id, r.patient_id
"""


@transaction.atomic
def _escalate_overdue(now: datetime, batch_size: int, addressees: Addressees) -> int:
    """A reminder still open after its grace period turns urgent and goes to the on-call clinicians."""
    with connection.cursor() as cursor:
        cursor.execute(ESCALATE_OVERDUE_SQL, {"now": now, "limit": batch_size, "urgent": Severity.URGENT})
        escalated = [ReminderRef(*row) for row in cursor.fetchall()]
    notifications_for_many(reminders=escalated, reason="escalated", addressees=addressees)
    return len(escalated)


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
        assert event.report_due_at is not None  # the query reads only events with a deadline
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


def _patient_at_site(alert: ProductAlert, orders: dict[int, TherapyOrder]) -> int | None:
    """The patient, when the alert's unit is at the patient's hospital; elsewhere the reminder is product-side
    only, so the site that holds the bag (a factory, a depot) sees it and no patient data travels with it."""
    order = orders.get(alert.chain_id) if alert.chain_id else None
    if order is None or order.patient.facility_id != alert.facility_id:
        return None
    return order.patient_id


def _raise_alerts(alerts: list[ProductAlert]) -> int:
    """Product-side alerts (products.alerts) become reminders, with a patient only where the bag is theirs."""
    chain_ids = {a.chain_id for a in alerts if a.chain_id}
    orders = {o.chain_id: o for o in TherapyOrder.objects.select_related("patient").filter(chain_id__in=chain_ids)}
    return _raise(
        [
            Reminder(
                kind=alert.kind,
                dedupe_key=alert.key,
                patient_id=_patient_at_site(alert, orders),
                facility_id=alert.facility_id,
                due_at=alert.due_at,
                severity=alert.severity,
                message=alert.message,
            )
            for alert in alerts
        ]
    )


def _answered_alerts(now: datetime) -> int:
    """A product-side reminder whose question QA has answered (a hold decided, an excursion assessed) is resolved
    (one UPDATE per kind, idempotent)."""
    resolved = 0
    for answered in answered_alerts():
        resolved += (
            Reminder.objects.filter(kind=answered.kind)
            .exclude(status=ReminderStatus.RESOLVED)
            .filter(Exists(answered.keys.filter(key=OuterRef("dedupe_key"))))
            .update(status=ReminderStatus.RESOLVED, resolved_at=now, resolution=answered.resolution)
        )
    return resolved


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
