"""Long stories: patients whose timelines hold thousands of events (for the timeline and FHIR benchmarks).

A story patient has a whole journey like any other, then, from two weeks after the infusion until now, a steady
stream of assessments, treatments, answered reminders and visits: as many as the story asks for.
"""

from datetime import timedelta
from decimal import Decimal

from tracker.choices import ReminderKind, ReminderStatus
from tracker.loadgen.clinical_families import (
    ASSESSMENT_COLUMNS,
    INTERVENTION_COLUMNS,
    REMINDER_COLUMNS,
    VISIT_COLUMNS,
    assessment_row,
    visit_time,
)
from tracker.loadgen.load import Load
from tracker.models import Assessment, FollowUpVisit, Intervention, Reminder
from tracker.rules.grading import graded_with_capd

# Out of every 20 events: 12 assessments, 3 treatments, 3 reminders, 2 visits (as tests/journey.py).
MIX = 20


def story_events(load: Load) -> None:
    assessments: list[tuple] = []
    interventions: list[tuple] = []
    reminders: list[tuple] = []
    visits: list[tuple] = []
    for count, j in load.stories.items():
        rng = j.rng
        start = j.infused_at + timedelta(days=15)
        step = (load.now - timedelta(hours=1) - start) / count
        child = graded_with_capd(j.birth_date, j.infused_at.date())
        clinician = load.world.clinicians[j.hospital.id][0].id
        for n in range(count):
            at = start + n * step
            slot = n % MIX
            if slot < 12:
                # A later flare now and then: grade 1-2 CRS, a low ICE score.
                crs = 1 if n % 37 == 0 else 2 if n % 97 == 0 else 0
                icans = 1 if n % 41 == 0 else 0
                assessments.append(
                    assessment_row(
                        rng,
                        assessment_id=load.take(Assessment),
                        patient_id=j.patient_id,
                        child=child,
                        at=at,
                        crs=crs,
                        icans=icans,
                        masked=False,
                        labs=n % 4 == 0,
                        by=clinician,
                    )
                )
            elif slot < 15:
                interventions.append(
                    (
                        load.take(Intervention),
                        j.patient_id,
                        at,
                        "antipyretic",
                        "Paracetamol",
                        Decimal(1000),
                        "mg",
                        "oral",
                        "prophylaxis",
                        clinician,
                        "",
                        at,
                    )
                )
            elif slot < 18:
                reminder_id = load.take(Reminder)
                reminders.append(
                    (
                        reminder_id,
                        ReminderKind.CHECK_DUE,
                        f"story:{j.patient_id}:{n}",
                        j.patient_id,
                        j.hospital.id,
                        None,
                        at,
                        None,
                        "routine",
                        ReminderStatus.RESOLVED,
                        f"Patient {j.patient_id}: story check {n}",
                        None,
                        None,
                        None,
                        at + timedelta(minutes=5),
                        clinician,
                        "Done",
                        at,
                    )
                )
            else:
                visits.append(
                    (
                        load.take(FollowUpVisit),
                        j.patient_id,
                        at.date(),
                        "cr",
                        "alive",
                        None,
                        "",
                        False,
                        "",
                        False,
                        "not_done",
                        8,
                        "",
                        clinician,
                        "",
                        visit_time(at.date()),
                    )
                )

    load.write(Assessment, ASSESSMENT_COLUMNS, assessments)
    load.write(Intervention, INTERVENTION_COLUMNS, interventions)
    load.write(Reminder, REMINDER_COLUMNS, reminders)
    load.write(FollowUpVisit, VISIT_COLUMNS, visits)
