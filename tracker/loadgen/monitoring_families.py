"""The monitoring schedule of every infusion (15 years of checks) and the reminders the scan raised for it.

A check due before `now` was done by the record that answers it (the nearest assessment or follow-up visit), or
was missed (open, reminded, escalated once its grace ran out), or the patient had died (closed `deceased`). The
`due` checks most recently due are left open and not yet reminded, as if the scan had not run for a while: they
are the next scan's work.
"""

import heapq
from collections.abc import Iterator
from datetime import datetime

from products.choices import CheckKind, Severity
from tracker.choices import CheckSource, CheckStatus, ReminderKind, ReminderStatus
from tracker.loadgen.clinical_families import ASSESSMENT_EVERY, REMINDER_COLUMNS, visit_time
from tracker.loadgen.load import Load
from tracker.loadgen.plan import Journey
from tracker.loadgen.schedule import Due, occurrences
from tracker.models import Reminder, ScheduledCheck

# Share of checks due in the past that were never answered: still open, with their (escalated) reminder.
MISSED_SHARE = 0.03
# Which record answers which kind of check (tracker.services.monitoring: assessments, then follow-up visits).
ANSWERED_BY_ASSESSMENT = frozenset(
    {CheckKind.TOXICITY, CheckKind.LABS, CheckKind.INFUSION_REACTION, CheckKind.INFECTION}
)

CHECK_COLUMNS = [
    "id",
    "patient_id",
    "administration_id",
    "kind",
    "label",
    "sequence",
    "source",
    "protocol_step_id",
    "due_at",
    "grace_until",
    "severity",
    "status",
    "reminded_at",
    "completed_at",
    "completed_by",
    "created_at",
]


def _infused(load: Load) -> list[Journey]:
    return [j for j in load.everyone if load.happened(j.infused_at)]


def _still_due(load: Load, journeys: list[Journey]) -> set[tuple[int, int]]:
    """(journey, position) of the `due` checks due most recently before now among living patients."""
    now = load.now

    def past() -> Iterator[tuple[datetime, int, int]]:
        for j in journeys:
            for position, due in enumerate(occurrences(load, j)):
                if due.due_at <= now and (j.died_at is None or due.due_at < j.died_at):
                    yield due.due_at, j.index, position

    return {(index, position) for _, index, position in heapq.nlargest(load.due, past())}


def _answer(load: Load, j: Journey, due: Due) -> tuple[str, datetime] | None:
    """The record that completed the check and when: the nearest assessment of the course, or visit."""
    if due.kind in ANSWERED_BY_ASSESSMENT:
        if not j.assessments:
            return None
        k = round((due.due_at - j.infused_at) / ASSESSMENT_EVERY)
        k = min(max(k, 1), j.assessments)
        return f"assessment:{j.first_assessment_id + k - 1}", j.infused_at + k * ASSESSMENT_EVERY
    if not j.visits:
        return None
    day, visit_id = min(j.visits, key=lambda visit: abs(visit[0] - due.due_at.date()))
    if abs(day - due.due_at.date()).days > 60:
        return None
    return f"follow_up:{visit_id}", visit_time(day)


def _message(j: Journey, due: Due, *, overdue: bool) -> str:
    """As the scan words it (tracker.services.scan)."""
    return (
        f"Patient {j.patient_id}: {due.occurrence.label} {'overdue' if overdue else 'due'} since "
        f"{due.due_at:%Y-%m-%d %H:%M} UTC."
    )[:300]


def schedules(load: Load) -> None:
    """Scheduled checks for every infusion, and the reminders the scan raised and the care team answered."""
    journeys = _infused(load)
    still_due = _still_due(load, journeys)
    reminders: list[tuple] = []
    now = load.now

    def checks() -> Iterator[tuple]:
        for j in journeys:
            rng, administration = j.rng, j.administration_id
            for position, due in enumerate(occurrences(load, j)):
                check_id = load.take(ScheduledCheck)
                o, due_at, grace = due.occurrence, due.due_at, due.grace_until
                status, reminded, completed, record = CheckStatus.OPEN, None, None, ""
                if j.died_at is not None and due_at >= j.died_at:
                    status, completed = CheckStatus.DECEASED, visit_time(j.died_at.date())
                    record = f"follow_up:{j.death_visit_id}"
                elif due_at <= now and (j.index, position) not in still_due:
                    answer = None if rng.random() < MISSED_SHARE else _answer(load, j, due)
                    if answer is not None and load.happened(answer[1]):
                        record, completed = answer
                        status = CheckStatus.COMPLETED
                        if completed > due_at:  # reminded when due, resolved by the record
                            reminders.append(_reminder(load, j, check_id, due, resolved=(completed, record)))
                    else:
                        reminded = due_at
                        reminders.append(_reminder(load, j, check_id, due, resolved=None))
                yield (
                    check_id,
                    j.patient_id,
                    administration,
                    o.kind,
                    o.label,
                    o.sequence,
                    CheckSource.PROTOCOL,
                    o.step_id,
                    due_at,
                    grace,
                    o.severity,
                    status,
                    reminded,
                    completed,
                    record,
                    j.infused_at,
                )

    load.write(ScheduledCheck, CHECK_COLUMNS, checks())
    load.write(Reminder, REMINDER_COLUMNS, reminders)


def _reminder(load: Load, j: Journey, check_id: int, due: Due, *, resolved: tuple[datetime, str] | None) -> tuple:
    reminder_id = load.take(Reminder)
    escalated = (
        due.grace_until
        if load.happened(due.grace_until) and (resolved is None or resolved[0] > due.grace_until)
        else None
    )
    severity = Severity.URGENT if escalated else due.occurrence.severity
    message = _message(j, due, overdue=escalated is not None)
    if resolved is None:
        return (
            reminder_id,
            ReminderKind.CHECK_DUE,
            f"check:{check_id}",
            j.patient_id,
            j.hospital.id,
            check_id,
            due.due_at,
            due.grace_until,
            severity,
            ReminderStatus.OPEN,
            message,
            escalated,
            None,
            None,
            None,
            None,
            "",
            due.due_at,
        )
    at, record = resolved
    # A resolved check reminder retires its dedupe key (tracker.services.monitoring.reminders_resolve).
    return (
        reminder_id,
        ReminderKind.CHECK_DUE,
        f"check:{check_id}~{reminder_id}",
        j.patient_id,
        j.hospital.id,
        check_id,
        due.due_at,
        due.grace_until,
        severity,
        ReminderStatus.RESOLVED,
        message,
        escalated,
        None,
        None,
        at,
        None,
        f"Completed by {record}",
        due.due_at,
    )
