"""What the patient page shows beside the story, whatever its filters: what is open and what is due next."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from tracker.choices import CheckStatus, ReminderStatus
from tracker.models import Patient, Reminder, ScheduledCheck


def patient_open_reminders(patient: Patient) -> list[Reminder]:
    """Open reminders, urgent first, then by due time."""
    return list(
        Reminder.objects.filter(patient=patient, status=ReminderStatus.OPEN).order_by("-severity", "due_at", "id")
    )


@dataclass(frozen=True)
class DueCheck:
    """An open check and where it stands now."""

    check: ScheduledCheck
    is_due: bool
    is_overdue: bool  # past its grace period


def patient_due_checks(patient: Patient, *, limit: int = 6, now: datetime | None = None) -> list[DueCheck]:
    """The next open checks (overdue ones first, as they come first by due time)."""
    now = now or timezone.now()
    checks = patient.checks.filter(status=CheckStatus.OPEN).order_by("due_at", "id")[:limit]
    return [DueCheck(check=c, is_due=c.due_at <= now, is_overdue=c.grace_until < now) for c in checks]
