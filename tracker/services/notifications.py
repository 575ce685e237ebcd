"""Delivering reminders: in-app (the reminder itself), email to the responsible users, signed webhooks.

Mails and webhooks leave the system, so they carry the fewest identifiers that still let the reader act:
- a mail: what kind of reminder, how urgent, when due, which facility, and a link into the tracker (for a
  patient's reminder the link names the patient's internal id; the reader signs in to see who it is). A
  product-side reminder (unit, batch) also gives its message, which names the unit or lot and no patient.
- a webhook: the reminder's id, kind, severity, status, reason, due time, facility code and whether it was
  escalated. No patient id and no free text: the receiver asks the API (`reminders/{id}/`) with its own token,
  which is scoped like any other caller.
Never a name, MRN, birth date or clinical detail (grades, terms, notes).
"""

import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from products.choices import Role
from products.models import FacilityMembership
from tracker.choices import Channel, DeliveryStatus
from tracker.models import Notification, Reminder, Webhook
from tracker.services.webhooks import webhook_post

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
CLAIM_TIMEOUT = timedelta(minutes=5)  # a claim older than this belongs to a worker that died
WEBHOOK_TIMEOUT_SECONDS = 5


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes between tries."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


# Who owns the work of a reminder: clinicians for a patient's, the product side's roles for a unit's or batch's.
OWNING_ROLES = {True: [Role.CLINICIAN], False: [Role.QA, Role.MANUFACTURING, Role.COORDINATOR]}
# Who may be on call for its escalation: a coordinator may be the ward's on-call contact (never a role that may
# not see patients, for a patient's reminder).
ON_CALL_ROLES = {True: [Role.CLINICIAN, Role.COORDINATOR], False: OWNING_ROLES[False]}


def _members(facility_id: int, roles: Sequence[str], **membership: bool) -> QuerySet:
    """Active users with one of the roles and a membership of this facility (with these flags) that has an email.

    One Exists over one membership row: chained filters over the multi-valued memberships relation would join it
    twice, and accept a user on call at *another* facility as on call here.
    """
    here = FacilityMembership.objects.filter(user=OuterRef("pk"), facility_id=facility_id, **membership)
    return (
        get_user_model().objects.filter(is_active=True, groups__name__in=roles).filter(Exists(here)).exclude(email="")
    )


def _recipients(facility_id: int, for_patient: bool, reason: str, owners: Sequence[str] | None = None) -> list[str]:
    """The facility's members in the role that owns the work (`owners`, else OWNING_ROLES). An escalation goes to
    those on call at this facility, and when nobody is on call here, to all the owners (the facility's clinicians
    for a patient)."""
    users = _members(facility_id, list(owners) if owners else OWNING_ROLES[for_patient])
    if reason == "escalated":
        on_call = _members(facility_id, ON_CALL_ROLES[for_patient], on_call=True)
        if on_call.exists():
            users = on_call
    return sorted(set(users.values_list("email", flat=True)))


def _hooks_for(facility_id: int) -> QuerySet[Webhook]:
    return Webhook.objects.filter(Q(facility_id=facility_id) | Q(facility__isnull=True), is_active=True)


class Addressees:
    """Who hears of a facility's reminders, looked up once per facility and reason and kept for one unit of work: a
    scan writes all its batches with one of these, a few queries in all however many batches it takes."""

    def __init__(self) -> None:
        self._emails: dict[tuple[int, bool, str, tuple[str, ...] | None], list[str]] = {}
        self._hooks: dict[int, list[tuple[int, str]]] = {}

    def emails(self, facility_id: int, for_patient: bool, reason: str, owners: Sequence[str] | None) -> list[str]:
        key = (facility_id, for_patient, reason, tuple(owners) if owners else None)
        if key not in self._emails:
            self._emails[key] = _recipients(facility_id, for_patient, reason, owners)
        return self._emails[key]

    def hooks(self, facility_id: int) -> list[tuple[int, str]]:
        if facility_id not in self._hooks:
            self._hooks[facility_id] = list(_hooks_for(facility_id).values_list("id", "url"))
        return self._hooks[facility_id]


class ReminderRef(NamedTuple):
    """What notifying needs of a reminder, without loading the row."""

    id: int
    facility_id: int
    patient_id: int | None


def notifications_for(*, reminder: Reminder, reason: str, now: datetime | None = None) -> None:
    notifications_for_many(reminders=[reminder], reason=reason, now=now)


# Every delivery of a batch of reminders in one statement: one row per (reminder, recipient) from parallel arrays.
# Set-based because a scan raising 10,000 reminders writes ~40,000 deliveries: built as model instances and
# bulk-created they took most of the scan (make bench, pyinstrument). ON CONFLICT: a delivery exists once.
INSERT_NOTIFICATIONS_SQL = """
INSERT INTO tracker_notification (reminder_id, channel, recipient, webhook_id, reason, status, attempts,
                                  next_attempt_at, last_error, created_at)
SELECT d.reminder_id, d.channel, d.recipient, d.webhook_id, %(reason)s, %(pending)s, 0, %(now)s, '', %(created)s
FROM unnest(%(reminder_ids)s::bigint[], %(channels)s::varchar[], %(recipients)s::varchar[], %(webhook_ids)s::bigint[])
     AS d(reminder_id, channel, recipient, webhook_id)
ON CONFLICT DO NOTHING
RETURNING id
"""


def notifications_for_many(
    *,
    reminders: Sequence[Reminder | ReminderRef],
    reason: str,
    owners: Sequence[str] | None = None,
    now: datetime | None = None,
    addressees: Addressees | None = None,
) -> None:
    """Record who must hear of these reminders (in the caller's transaction) and send after commit. `owners`: the
    roles whose work these reminders are, when not the usual ones (a registry document is the coordinators').
    `addressees`: recipients already looked up in this unit of work (a scan's earlier batches).

    Recipients are looked up once per facility and the deliveries written in one statement, so a scan raising
    thousands of reminders stays a few queries.
    """
    if not reminders:
        return
    addressees = addressees or Addressees()
    reminder_ids: list[int] = []
    channels: list[str] = []
    addresses: list[str] = []
    webhook_ids: list[int | None] = []
    for reminder in reminders:
        for email in addressees.emails(reminder.facility_id, reminder.patient_id is not None, reason, owners):
            reminder_ids.append(reminder.id)
            channels.append(Channel.EMAIL.value)
            addresses.append(email)
            webhook_ids.append(None)
        for hook_id, url in addressees.hooks(reminder.facility_id):
            reminder_ids.append(reminder.id)
            channels.append(Channel.WEBHOOK.value)
            addresses.append(url)
            webhook_ids.append(hook_id)
    if not reminder_ids:
        return
    created = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_NOTIFICATIONS_SQL,
            {
                "reason": reason,
                "pending": DeliveryStatus.PENDING.value,
                "now": now or created,
                "created": created,
                "reminder_ids": reminder_ids,
                "channels": channels,
                "recipients": addresses,
                "webhook_ids": webhook_ids,
            },
        )
        ids = [row[0] for row in cursor.fetchall()]
    transaction.on_commit(lambda: enqueue(ids))


# Deliveries per message to the workers: one message per delivery made the broker round trips most of a scan's
# time (1,000 requeued deliveries: 1.5 s, make bench, pyinstrument); small enough to spread over the workers.
ENQUEUE_BATCH = 50


def enqueue(ids: list[int]) -> None:
    """Tell the workers to send; if the broker is down the rows stay pending and the next scan retries."""
    from tracker.tasks import notification_send_batch_task

    for start in range(0, len(ids), ENQUEUE_BATCH):
        try:
            notification_send_batch_task.delay(ids[start : start + ENQUEUE_BATCH])
        except Exception:  # noqa: BLE001 - a broker outage must not fail the request that raised the reminder
            logger.warning("broker unavailable: %s notifications left for the next scan", len(ids) - start)
            return


def payload(reminder: Reminder, reason: str) -> dict:
    """A webhook's body: enough to find the reminder through the API, nothing about the patient."""
    return {
        "reminder": reminder.id,
        "kind": reminder.kind,
        "severity": reminder.severity,
        "status": reminder.status,
        "reason": reason,
        "due_at": reminder.due_at.isoformat(),
        "facility": reminder.facility.code,
        "escalated": reminder.escalated_at is not None,
        "api": reverse("reminder-detail", args=[reminder.id]),
    }


def sign(secret: str, body: bytes, timestamp: str) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", as in the X-Tracker-Signature header."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _claim(notification_id: int, now: datetime | None = None) -> Notification | None:
    """Conditional update: of two workers given the same notification, only one sends it."""
    now = now or timezone.now()
    claimed = Notification.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT),
        id=notification_id,
        status=DeliveryStatus.PENDING,
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if claimed == 0:
        return None
    return Notification.objects.select_related("reminder__facility", "webhook").get(id=notification_id)


def notification_send(*, notification_id: int, now: datetime | None = None) -> str:
    """Send one notification if nobody else is; returns what happened (sent, retry, failed, skipped)."""
    now = now or timezone.now()
    notification = _claim(notification_id, now)
    if notification is None:
        return "skipped"
    reminder = notification.reminder
    try:
        if notification.channel == Channel.EMAIL:
            _send_email(notification, reminder)
        else:
            notification.response_status = _send_webhook(notification, reminder, now)
    except Exception as exc:  # noqa: BLE001 - any failure is retried with backoff
        failed = isinstance(exc, PermanentFailure) or notification.attempts >= MAX_ATTEMPTS
        Notification.objects.filter(id=notification.id).update(
            status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
            claimed_at=None,
            next_attempt_at=None if failed else now + backoff(notification.attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:300],
        )
        logger.warning(
            "notification %s attempt %s failed: %s", notification.id, notification.attempts, type(exc).__name__
        )
        return "failed" if failed else "retry"
    Notification.objects.filter(id=notification.id).update(
        status=DeliveryStatus.SENT,
        sent_at=now,
        response_status=notification.response_status,
        last_error="",
    )
    return "sent"


def _send_email(notification: Notification, reminder: Reminder) -> None:
    urgent = reminder.severity == "urgent"
    subject = f"{'URGENT: ' if urgent else ''}{reminder.get_kind_display()} at {reminder.facility.name}"
    if reminder.patient_id is not None:
        # A patient's reminder: which kind and when, never what (the message names checks, grades, events).
        what = f"A patient's reminder ({reminder.get_kind_display().lower()}) needs attention."
        link = reverse("patient-page", args=[reminder.patient_id]) + "#reminders"
    else:
        what = reminder.message
        link = reverse("admin:tracker_reminder_change", args=[reminder.id])
    escalated = "\nEscalated: nobody acknowledged it in time.\n" if notification.reason == "escalated" else ""
    body = (
        f"{what}\n\nReminder {reminder.id} · {reminder.get_severity_display()}\n"
        f"Due: {reminder.due_at:%Y-%m-%d %H:%M} UTC\n{escalated}Open the tracker (sign in): {link}\n"
    )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notification.recipient])


class PermanentFailure(Exception):
    """A delivery that no retry can make succeed (its webhook was deactivated or removed)."""


def _send_webhook(notification: Notification, reminder: Reminder, now: datetime) -> int:
    hook = notification.webhook
    if hook is None or not hook.is_active:
        raise PermanentFailure("webhook deactivated or removed")
    body = json.dumps(payload(reminder, notification.reason), sort_keys=True).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "vein-to-vein-tracker",
        "X-Tracker-Timestamp": timestamp,
        "X-Tracker-Signature": f"sha256={sign(hook.secret, body, timestamp)}",
        "X-Tracker-Delivery": str(notification.id),
    }
    # Checked again now (DNS may have changed since the hook was saved) and sent to the checked address only.
    return webhook_post(url=hook.url, body=body, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS)
