"""Delivering reminders: in-app (the reminder itself), email to the responsible users, signed webhooks.

Messages carry the patient's id and facility, never a name, MRN or birth date: they leave the system.
"""

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from products.choices import Role
from tracker.choices import Channel, DeliveryStatus
from tracker.models import Notification, Reminder, Webhook

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
CLAIM_TIMEOUT = timedelta(minutes=5)  # a claim older than this belongs to a worker that died
WEBHOOK_TIMEOUT_SECONDS = 5


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes between tries."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


def _recipients(facility_id: int, for_patient: bool, reason: str) -> list[str]:
    users = get_user_model().objects.filter(is_active=True, memberships__facility_id=facility_id).exclude(email="")
    # Escalations go to the facility's on-call clinicians; the rest to the role that owns the work.
    if reason == "escalated" and users.filter(memberships__on_call=True).exists():
        users = users.filter(memberships__on_call=True, memberships__facility_id=facility_id)
    elif for_patient:
        users = users.filter(groups__name=Role.CLINICIAN)
    else:
        users = users.filter(groups__name__in=[Role.QA, Role.MANUFACTURING, Role.COORDINATOR])
    return sorted(set(users.values_list("email", flat=True)))


class ReminderRef(NamedTuple):
    """What notifying needs of a reminder, without loading the row."""

    id: int
    facility_id: int
    patient_id: int | None


def notifications_for(*, reminder: Reminder, reason: str) -> None:
    notifications_for_many(reminders=[reminder], reason=reason)


def notifications_for_many(*, reminders: Sequence[Reminder | ReminderRef], reason: str) -> None:
    """Record who must hear of these reminders (in the caller's transaction) and send after commit.

    Recipients are looked up once per facility, so a scan raising thousands of reminders stays a few queries.
    """
    if not reminders:
        return
    recipients: dict[tuple[int, bool], list[str]] = {}
    hooks: dict[int, list[str]] = {}
    rows = []
    for reminder in reminders:
        group = (reminder.facility_id, reminder.patient_id is not None)
        if group not in recipients:
            recipients[group] = _recipients(reminder.facility_id, group[1], reason)
        if reminder.facility_id not in hooks:
            hooks[reminder.facility_id] = list(
                Webhook.objects.filter(
                    Q(facility_id=reminder.facility_id) | Q(facility__isnull=True), is_active=True
                ).values_list("url", flat=True)
            )
        rows += [
            Notification(reminder_id=reminder.id, channel=Channel.EMAIL, recipient=email, reason=reason)
            for email in recipients[group]
        ]
        rows += [
            Notification(reminder_id=reminder.id, channel=Channel.WEBHOOK, recipient=url, reason=reason)
            for url in hooks[reminder.facility_id]
        ]
    if not rows:
        return
    now = timezone.now()
    for row in rows:
        row.next_attempt_at = now
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(
        Notification.objects.filter(
            reminder__in=[r.id for r in reminders], reason=reason, status=DeliveryStatus.PENDING
        ).values_list("id", flat=True)
    )
    transaction.on_commit(lambda: enqueue(ids))


def enqueue(ids: list[int]) -> None:
    """Tell a worker to send; if the broker is down the rows stay pending and the next scan retries."""
    from tracker.tasks import notification_send_task

    for notification_id in ids:
        try:
            notification_send_task.delay(notification_id)
        except Exception:  # noqa: BLE001 - a broker outage must not fail the request that raised the reminder
            logger.warning("broker unavailable: notification %s left for the next scan", notification_id)
            return


def payload(reminder: Reminder) -> dict:
    return {
        "reminder": reminder.id,
        "kind": reminder.kind,
        "severity": reminder.severity,
        "status": reminder.status,
        "due_at": reminder.due_at.isoformat(),
        "patient": reminder.patient_id,
        "facility": reminder.facility.code,
        "message": reminder.message,
        "escalated": reminder.escalated_at is not None,
    }


def sign(secret: str, body: bytes, timestamp: str) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", as in the X-Tracker-Signature header."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _claim(notification_id: int) -> Notification | None:
    """Conditional update: of two workers given the same notification, only one sends it."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT),
        id=notification_id,
        status=DeliveryStatus.PENDING,
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if claimed == 0:
        return None
    return Notification.objects.select_related("reminder__facility").get(id=notification_id)


def notification_send(*, notification_id: int) -> str:
    """Send one notification if nobody else is; returns what happened (sent, retry, failed, skipped)."""
    notification = _claim(notification_id)
    if notification is None:
        return "skipped"
    reminder = notification.reminder
    try:
        if notification.channel == Channel.EMAIL:
            _send_email(notification, reminder)
        else:
            notification.response_status = _send_webhook(notification, reminder)
    except Exception as exc:  # noqa: BLE001 - any failure is retried with backoff
        failed = notification.attempts >= MAX_ATTEMPTS
        Notification.objects.filter(id=notification.id).update(
            status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
            claimed_at=None,
            next_attempt_at=None if failed else timezone.now() + backoff(notification.attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:300],
        )
        logger.warning(
            "notification %s attempt %s failed: %s", notification.id, notification.attempts, type(exc).__name__
        )
        return "failed" if failed else "retry"
    Notification.objects.filter(id=notification.id).update(
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
        response_status=notification.response_status,
        last_error="",
    )
    return "sent"


def _send_email(notification: Notification, reminder: Reminder) -> None:
    prefix = "URGENT: " if reminder.severity == "urgent" else ""
    subject = f"{prefix}{reminder.get_kind_display()} at {reminder.facility.name}"
    link = f"/patients/{reminder.patient_id}/" if reminder.patient_id else "/admin/"
    body = f"{reminder.message}\n\nDue: {reminder.due_at:%Y-%m-%d %H:%M} UTC\nOpen the tracker: {link}\n"
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notification.recipient])


def _send_webhook(notification: Notification, reminder: Reminder) -> int:
    hook = Webhook.objects.filter(url=notification.recipient, is_active=True).first()
    if hook is None:
        raise RuntimeError("webhook no longer configured")
    body = json.dumps(payload(reminder), sort_keys=True).encode()
    timestamp = str(int(timezone.now().timestamp()))
    request = urllib.request.Request(  # noqa: S310 - the URL is an admin-configured http(s) webhook
        hook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Tracker-Timestamp": timestamp,
            "X-Tracker-Signature": f"sha256={sign(hook.secret, body, timestamp)}",
            "X-Tracker-Delivery": str(notification.id),
        },
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
        return response.status
