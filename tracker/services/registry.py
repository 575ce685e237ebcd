"""Registry documents' due dates, kept with the course's schedule, and the scan's reminders as each falls due.

A course gets one RegistryForm per time point (tracker.rules.registry) when its first infusion is recorded; the due
dates follow that infusion when it is voided or its time corrected (course_schedule_sync calls registry_forms_sync),
and death closes the documents after the one that will report it. The monitoring scan claims the open forms that
have fallen due and raises one `registry_due` reminder each, for the patient's coordinators (the dedupe key holds the
form and its due date: running twice raises nothing more, and a moved due date is reminded afresh).
"""

import operator
from datetime import date, datetime
from functools import reduce

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from products.choices import Role
from tracker.choices import RegistryFormStatus, ReminderStatus
from tracker.models import Administration, RegistryForm, Reminder
from tracker.rules import registry as rules
from tracker.services.notifications import ReminderRef, notifications_for_many

# Registry documents are the coordinators' work (they gather the data and submit the forms).
REGISTRY_OWNERS = [Role.COORDINATOR]


def _retire_reminders(form_ids: list[int], *, resolution: str, at: datetime) -> None:
    """Resolve the reminders of these forms (a moved due date, a course without infusion)."""
    if not form_ids:
        return
    keys = reduce(operator.or_, (Q(dedupe_key__startswith=f"registry:{form_id}:") for form_id in form_ids))
    Reminder.objects.filter(keys).exclude(status=ReminderStatus.RESOLVED).update(
        status=ReminderStatus.RESOLVED,
        resolved_at=at,
        resolution=resolution[:200],
        dedupe_key=Concat(F("dedupe_key"), Value("~"), Cast("id", output_field=CharField())),
    )


def registry_forms_sync(*, order_id: int, first: Administration | None, now: datetime) -> None:
    """The course's registry documents, due from its first standing infusion; runs in the caller's transaction
    (the order's chain row lock is held, so two infusions of one course never create them twice)."""
    forms = {f.timepoint: f for f in RegistryForm.objects.filter(order_id=order_id)}
    if first is None:
        cancelled = [f.id for f in forms.values() if f.status == RegistryFormStatus.OPEN]
        RegistryForm.objects.filter(id__in=cancelled).update(status=RegistryFormStatus.CANCELLED)
        _retire_reminders(cancelled, resolution="Administration voided", at=now)
        return
    infused_on = timezone.localtime(first.administered_at).date()
    today = timezone.localdate(now)
    new, moved = [], []
    for timepoint in rules.TIMEPOINTS:
        due = rules.due_on(timepoint, infused_on)
        form = forms.get(timepoint.code)
        if form is None:
            new.append(
                RegistryForm(order_id=order_id, patient_id=first.patient_id, timepoint=timepoint.code, due_on=due)
            )
        elif form.status != RegistryFormStatus.DECEASED and (
            form.due_on != due or form.status == RegistryFormStatus.CANCELLED
        ):
            form.due_on, form.status = due, RegistryFormStatus.OPEN
            if due > today:
                form.reminded_at = None  # not due any more: reminded again when it falls due
            moved.append(form)
    RegistryForm.objects.bulk_create(new)
    RegistryForm.objects.bulk_update(moved, ["due_on", "status", "reminded_at"])
    _retire_reminders(
        [f.id for f in moved if f.reminded_at is None], resolution="Rescheduled: the course's infusion moved", at=now
    )


def registry_forms_end_for_death(*, patient_id: int, on: date) -> int:
    """After a death, the first document of each course due on or after the death still reports it; the later ones
    are closed (nothing more will happen to report). Returns how many were closed."""
    open_forms = RegistryForm.objects.filter(
        patient_id=patient_id, status=RegistryFormStatus.OPEN, reminded_at=None, due_on__gte=on
    ).order_by("order_id", "due_on", "id")
    reporting: dict[int, date] = {}
    closing = []
    for form_id, order_id, due in open_forms.values_list("id", "order_id", "due_on"):
        if order_id not in reporting:
            reporting[order_id] = due
        elif due > reporting[order_id]:
            closing.append(form_id)
    return RegistryForm.objects.filter(id__in=closing).update(status=RegistryFormStatus.DECEASED)


# One statement claims a batch of fallen-due forms (FOR UPDATE SKIP LOCKED: a concurrent scan takes the next ones),
# marks them reminded and inserts their reminders; ON CONFLICT keeps one reminder per form and due date.
REMIND_DUE_FORMS_SQL = """
WITH claimed AS (
    UPDATE tracker_registryform f SET reminded_at = %(now)s
    WHERE f.id IN (
        SELECT id FROM tracker_registryform
        WHERE status = 'open' AND reminded_at IS NULL AND due_on <= %(today)s
        ORDER BY due_on LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    RETURNING f.id, f.patient_id, f.timepoint, f.due_on
)
INSERT INTO tracker_reminder (kind, dedupe_key, patient_id, facility_id, check_id, due_at, escalate_at, severity,
                              status, message, resolution, created_at)
SELECT 'registry_due', 'registry:' || claimed.id || ':' || to_char(claimed.due_on, 'YYYY-MM-DD'), claimed.patient_id,
       p.facility_id, NULL, (claimed.due_on::timestamp AT TIME ZONE %(tz)s), NULL, 'routine', 'open',
       left('Patient ' || claimed.patient_id || ': registry document ' || claimed.timepoint || ' due '
            || to_char(claimed.due_on, 'YYYY-MM-DD') || '; its missing fields: /api/v1/patients/'
            || claimed.patient_id || '/registry/?timepoint=' || claimed.timepoint, 300),
       '', %(now)s
FROM claimed JOIN tracker_patient p ON p.id = claimed.patient_id
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id, facility_id, patient_id
"""


@transaction.atomic
def registry_remind_due(*, now: datetime, batch_size: int) -> int:
    """One batch of the scan: the forms fallen due become reminders; returns how many forms were claimed."""
    with connection.cursor() as cursor:
        cursor.execute(
            REMIND_DUE_FORMS_SQL,
            {"now": now, "today": timezone.localdate(now), "limit": batch_size, "tz": settings.TIME_ZONE},
        )
        created = [ReminderRef(*row) for row in cursor.fetchall()]
        claimed = cursor.rowcount
    notifications_for_many(reminders=created, reason="raised", owners=REGISTRY_OWNERS, now=now)
    return max(claimed, len(created))
