"""Families of the patient side: patients, infusions, the toxicity course (assessments every few hours for two
weeks, with the treatments and urgent reminders it calls for), adverse events and follow-up visits.

Grades are never drawn: the raw measurements are, and tracker.rules.grading grades them (ASTCT 2019), as the
assessment service does. Report clocks come from tracker.rules.reporting, seriousness from
tracker.rules.adverse_events.
"""

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from psycopg.types.json import Jsonb

from products.choices import CheckKind, RegulatoryStatus, Severity
from tracker.choices import ReminderKind, ReminderStatus
from tracker.loadgen.load import Load
from tracker.loadgen.plan import Journey
from tracker.loadgen.schedule import occurrences
from tracker.models import (
    Administration,
    AdverseEvent,
    Assessment,
    FollowUpVisit,
    Intervention,
    Patient,
    PatientWeight,
    Reminder,
)
from tracker.rules import adverse_events as ae_rules
from tracker.rules.grading import URGENT_GRADE, CrsInput, IcansInput, crs_grade, graded_with_capd, icans_grade
from tracker.rules.reporting import report_clock

# Assessments every 6 hours for two weeks after the infusion (the labels' daily minimum, and more on the ward).
ASSESSMENT_EVERY = timedelta(hours=6)
ASSESSMENT_DAYS = 14
ASSESSMENTS_PER_COURSE = ASSESSMENT_DAYS * 24 // 6
LABS_EVERY = 4  # one assessment a day carries the day's labs

ASSESSMENT_COLUMNS = [
    "id",
    "patient_id",
    "assessed_at",
    "temperature_c",
    "hypotension",
    "hypoxia",
    "fever_masked",
    "ice_score",
    "capd_score",
    "capd_unable",
    "consciousness",
    "seizure",
    "motor_weakness",
    "cerebral_edema",
    "heart_rate",
    "systolic_bp",
    "diastolic_bp",
    "respiratory_rate",
    "spo2",
    "oxygen_l_min",
    "crp_mg_l",
    "ferritin_ng_ml",
    "il6_pg_ml",
    "crs_grade",
    "icans_grade",
    "assessed_by_id",
    "note",
    "created_at",
]
REMINDER_COLUMNS = [
    "id",
    "kind",
    "dedupe_key",
    "patient_id",
    "facility_id",
    "check_id",
    "due_at",
    "escalate_at",
    "severity",
    "status",
    "message",
    "escalated_at",
    "acknowledged_at",
    "acknowledged_by_id",
    "resolved_at",
    "resolved_by_id",
    "resolution",
    "created_at",
]
VISIT_COLUMNS = [
    "id",
    "patient_id",
    "visit_date",
    "disease_response",
    "survival_status",
    "death_date",
    "cause_of_death",
    "new_malignancy",
    "malignancy_description",
    "car_testing_requested",
    "rcv_result",
    "wellbeing_score",
    "patient_reported",
    "recorded_by_id",
    "note",
    "created_at",
]

# ASTCT 2019 Table 3: what a patient needs at each CRS grade (hypotension, hypoxia); one of the two drives it.
CRS_SUPPORT = {
    2: [("fluids", "none"), ("none", "low_flow")],
    3: [("one_vasopressor", "none"), ("none", "high_flow")],
    4: [("multiple_vasopressors", "none"), ("none", "positive_pressure")],
}
OXYGEN_L_MIN = {"low_flow": (2, 6), "high_flow": (10, 40)}

NO_HLA = Jsonb({})


def _clinician(load: Load, j: Journey, n: int = 0) -> int:
    staff = load.world.clinicians[j.hospital.id]
    return staff[n % len(staff)].id


def patients(load: Load) -> None:
    """Patients (registered two days before their order) and the weight measured then."""
    load.write(
        Patient,
        [
            "id",
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "sex",
            "weight_kg",
            "facility_id",
            "hla",
            "created_at",
            "updated_at",
        ],
        (
            (
                j.patient_id,
                j.mrn,
                j.given_name,
                j.family_name,
                j.birth_date,
                j.sex,
                j.weight_kg,
                j.hospital.id,
                NO_HLA,  # autologous CAR-T: untyped
                j.ordered_at - timedelta(days=2),
                j.ordered_at - timedelta(days=2),
            )
            for j in load.everyone
        ),
    )
    load.write(
        PatientWeight,
        ["id", "patient_id", "weight_kg", "measured_on", "recorded_by_id", "note", "created_at"],
        (
            (
                load.take(PatientWeight),
                j.patient_id,
                j.weight_kg,
                (j.ordered_at - timedelta(days=2)).date(),
                load.world.coordinators[j.hospital.id].id,
                "",
                j.ordered_at - timedelta(days=2),
            )
            for j in load.everyone
        ),
    )


def administrations(load: Load) -> None:
    """The infusion of each released bag, verified at the bedside by a second person (the signature family's)."""
    from tracker.loadgen.product_families import DOSE_CELLS

    def rows() -> Iterator[tuple]:
        for j in load.everyone:
            if not load.happened(j.infused_at):
                continue
            yield (
                j.administration_id,
                j.order_id,
                j.patient_id,
                j.unit_pk,
                j.infused_at,
                "iv_infusion",
                f"LOAD-U{j.index:07d}",
                j.mrn,
                j.birth_date,
                DOSE_CELLS,
                j.weight_kg,
                round(DOSE_CELLS / j.weight_kg),
                _clinician(load, j),
                j.verification_signature_id,
                "Paracetamol and diphenhydramine",
                "",
                "",
                "dispensed",
                None,
                None,
                "",
                j.infused_at,
                j.infused_at,
            )

    load.write(
        Administration,
        [
            "id",
            "order_id",
            "patient_id",
            "unit_id",
            "administered_at",
            "route",
            "scanned_unit",
            "scanned_patient",
            "scanned_birth_date",
            "dose_cells",
            "weight_kg",
            "dose_cells_per_kg",
            "administered_by_id",
            "verification_signature_id",
            "premedication",
            "infusion_reaction",
            "note",
            "unit_status_before",
            "voided_at",
            "voided_by_id",
            "void_reason",
            "created_at",
            "updated_at",
        ],
        rows(),
    )


def assessment_row(
    rng: random.Random,
    *,
    assessment_id: int,
    patient_id: int,
    child: bool,
    at: datetime,
    crs: int,
    icans: int,
    masked: bool,
    labs: bool,
    by: int,
) -> tuple:
    """One assessment whose raw measurements fit the wanted grades; the grades stored are the rules' own."""
    hypotension, hypoxia = rng.choice(CRS_SUPPORT[crs]) if crs >= 2 else ("none", "none")
    if crs == 0 or masked:
        temperature = Decimal(rng.randrange(364, 378)) / 10
    else:
        temperature = Decimal(rng.randrange(381, 398)) / 10
    masked = masked and crs > 0
    ice = capd = None
    capd_unable = False
    consciousness = "alert"
    if child:
        capd = {0: 0, 1: rng.randrange(1, 9), 2: rng.randrange(1, 9), 3: rng.randrange(9, 21), 4: None}[icans]
        capd_unable = icans == 4
        consciousness = {2: "voice", 4: "tactile"}.get(icans, "alert")
    else:
        ice = {0: 10, 1: rng.randrange(7, 10), 2: rng.randrange(3, 7), 3: rng.randrange(0, 3), 4: None}[icans]
        consciousness = "unarousable" if icans == 4 else "alert"
    crs_graded = crs_grade(CrsInput(temperature, hypotension, hypoxia, masked))
    icans_graded = icans_grade(IcansInput(ice, consciousness, "none", False, "none", capd, capd_unable))
    flow = OXYGEN_L_MIN.get(hypoxia)
    return (
        assessment_id,
        patient_id,
        at,
        temperature,
        hypotension,
        hypoxia,
        masked,
        ice,
        capd,
        capd_unable,
        consciousness,
        "none",
        False,
        "none",
        rng.randrange(65, 95) + 10 * crs,
        rng.randrange(95, 135) - 8 * crs,
        rng.randrange(55, 85),
        rng.randrange(14, 20) + 2 * crs,
        rng.randrange(93, 100) - crs,
        Decimal(rng.randrange(*flow)) if flow else None,
        Decimal(rng.randrange(5, 40) + 40 * crs) if labs else None,
        Decimal(rng.randrange(200, 900) + 800 * crs) if labs else None,
        Decimal(rng.randrange(5, 30) + 200 * crs) if labs and crs else None,
        crs_graded,
        icans_graded,
        by,
        "",
        at + timedelta(minutes=10),
    )


def _urgent_reminder(load: Load, j: Journey, assessment_id: int, at: datetime, crs: int, icans: int) -> tuple:
    """The urgent reminder an assessment graded >= 2 raises (tracker.services.monitoring.assessment_followups),
    answered within hours unless it is recent."""
    answered = at + timedelta(hours=4)
    done = load.happened(answered)
    return (
        load.take(Reminder),
        ReminderKind.TOXICITY_GRADE,
        f"assessment:{assessment_id}",
        j.patient_id,
        j.hospital.id,
        None,
        at,
        None,
        Severity.URGENT,
        ReminderStatus.RESOLVED if done else ReminderStatus.OPEN,
        f"Patient {j.patient_id}: CRS grade {crs}, ICANS grade {icans} at {at:%Y-%m-%d %H:%M} UTC. Assess every 4 h.",
        None,
        None,
        None,
        answered if done else None,
        _clinician(load, j, 1) if done else None,
        "Assessed and treated" if done else "",
        at,
    )


def toxicity(load: Load) -> None:
    """Assessments every 6 hours for two weeks after each infusion, the treatments grade 2 calls for
    (tocilizumab for CRS, a corticosteroid for ICANS) and the urgent reminders graded assessments raise."""
    interventions: list[tuple] = []
    reminders: list[tuple] = []

    def rows() -> Iterator[tuple]:
        for j in load.everyone:
            if not load.happened(j.infused_at):
                continue
            child = graded_with_capd(j.birth_date, j.infused_at.date())
            tocilizumab_at = steroid_at = None
            for k in range(1, ASSESSMENTS_PER_COURSE + 1):
                at = j.infused_at + k * ASSESSMENT_EVERY
                if not load.happened(at):
                    break
                hours = k * ASSESSMENT_EVERY.total_seconds() / 3600
                crs, icans = j.crs.grade_at(hours), j.icans.grade_at(hours)
                assessment_id = load.take(Assessment)
                if k == 1:
                    j.first_assessment_id = assessment_id
                j.assessments = k
                row = assessment_row(
                    j.rng,
                    assessment_id=assessment_id,
                    patient_id=j.patient_id,
                    child=child,
                    at=at,
                    crs=crs,
                    icans=icans,
                    masked=tocilizumab_at is not None,
                    labs=k % LABS_EVERY == 0,
                    by=_clinician(load, j, k),
                )
                crs_graded, icans_graded = row[-5], row[-4]
                if max(crs_graded, icans_graded) >= URGENT_GRADE:
                    reminders.append(_urgent_reminder(load, j, assessment_id, at, crs_graded, icans_graded))
                if crs_graded >= URGENT_GRADE and tocilizumab_at is None:
                    tocilizumab_at = at + timedelta(minutes=30)
                    interventions.append(
                        _treatment(load, j, tocilizumab_at, "tocilizumab", "Tocilizumab", 8, "mg/kg", "crs")
                    )
                if icans_graded >= URGENT_GRADE and steroid_at is None:
                    steroid_at = at + timedelta(minutes=30)
                    interventions.append(
                        _treatment(load, j, steroid_at, "corticosteroid", "Dexamethasone", 10, "mg", "icans")
                    )
                yield row

    load.write(Assessment, ASSESSMENT_COLUMNS, rows())
    load.write(Intervention, INTERVENTION_COLUMNS, (row for row in interventions if load.happened(row[2])))
    load.write(Reminder, REMINDER_COLUMNS, reminders)


INTERVENTION_COLUMNS = [
    "id",
    "patient_id",
    "given_at",
    "kind",
    "drug",
    "dose",
    "dose_unit",
    "route",
    "indication",
    "given_by_id",
    "note",
    "created_at",
]


def _treatment(
    load: Load, j: Journey, at: datetime, kind: str, drug: str, dose: int, unit: str, indication: str
) -> tuple:
    return (
        load.take(Intervention),
        j.patient_id,
        at,
        kind,
        drug,
        Decimal(dose),
        unit,
        "IV",
        indication,
        _clinician(load, j),
        "",
        at,
    )


def _event(
    load: Load,
    j: Journey,
    *,
    term: str,
    grade: int,
    onset: datetime,
    resolved: datetime | None,
    expected: bool,
    system: str = "ctcae",
    description: str = "",
) -> tuple | None:
    if not load.happened(onset):
        return None
    aware = onset + timedelta(hours=2)
    outcome = ae_rules.outcome_of(grade=grade, outcome="resolved" if load.happened(resolved) else "ongoing")
    # Grade 3 needs a hospital stay (or a longer one): serious by ICH E2A; grades 4 and 5 are by definition.
    serious = ae_rules.is_serious(grade=grade, outcome=outcome, serious=grade >= 3)
    # Licensed products, relatedness "probable" (suspected; the columns' database defaults say the same).
    clock = report_clock(
        regulatory_status=RegulatoryStatus.LICENSED,
        serious=serious,
        expected=expected,
        suspected=True,
        grade=grade,
        outcome=outcome,
        aware_at=aware,
    )
    submitted = None
    if clock.due_at is not None:
        submitted = aware + timedelta(days=j.rng.randrange(3, 18))  # now and then later than the 15 days
        submitted = submitted if load.happened(submitted) else None
    recorded = aware + timedelta(minutes=30)
    return (
        load.take(AdverseEvent),
        j.patient_id,
        term,
        "",
        "",
        grade,
        system,
        onset,
        aware,
        resolved if load.happened(resolved) else None,
        outcome,
        serious,
        expected,
        "probable",
        description,
        clock.due_at,
        clock.rule,
        submitted,
        None,
        None,
        "",
        _clinician(load, j),
        recorded,
        submitted or recorded,
    )


def adverse_events(load: Load) -> None:
    """CRS and ICANS as the course graded them; infections, prolonged cytopenias and (rarely) a secondary
    malignancy, whose report to the regulator is due 15 days after awareness (21 CFR 600.80(c))."""

    def rows() -> Iterator[tuple]:
        for j in load.everyone:
            if not load.happened(j.infused_at):
                continue
            events = []
            for term, episode in (("crs", j.crs), ("icans", j.icans)):
                if episode.grade:
                    onset = j.infused_at + timedelta(hours=episode.onset_h)
                    resolved = j.infused_at + timedelta(hours=episode.end_h)
                    events.append(
                        _event(
                            load,
                            j,
                            term=term,
                            grade=episode.grade,
                            onset=onset,
                            resolved=resolved,
                            expected=True,
                            system="astct",
                        )
                    )
            rng = j.rng
            if rng.random() < 0.15:
                onset = j.infused_at + timedelta(days=rng.uniform(10, 90))
                events.append(
                    _event(
                        load,
                        j,
                        term="infection",
                        grade=rng.choice([2, 2, 3]),
                        onset=onset,
                        resolved=onset + timedelta(days=rng.uniform(5, 20)),
                        expected=True,
                    )
                )
            if rng.random() < 0.10:
                onset = j.infused_at + timedelta(days=rng.uniform(20, 60))
                events.append(
                    _event(
                        load,
                        j,
                        term="cytopenia",
                        grade=3,
                        onset=onset,
                        resolved=onset + timedelta(days=rng.uniform(20, 90)),
                        expected=True,
                    )
                )
            if rng.random() < 0.004:
                onset = j.infused_at + timedelta(days=rng.uniform(365, 8 * 365))
                events.append(
                    _event(
                        load,
                        j,
                        term="secondary_malignancy",
                        grade=3,
                        onset=onset,
                        resolved=None,
                        expected=False,
                        description="T-cell lymphoma; CAR transgene testing requested",
                    )
                )
            yield from (event for event in events if event is not None and _alive_at(j, event[7]))

    load.write(
        AdverseEvent,
        [
            "id",
            "patient_id",
            "term",
            "term_text",
            "meddra_code",
            "grade",
            "grading_system",
            "onset_at",
            "aware_at",
            "resolved_at",
            "outcome",
            "serious",
            "expected",
            "relatedness",
            "description",
            "report_due_at",
            "report_rule",
            "report_submitted_at",
            "aware_at_changed_at",
            "aware_at_changed_by_id",
            "aware_at_change_reason",
            "recorded_by_id",
            "created_at",
            "updated_at",
        ],
        rows(),
    )


def _alive_at(j: Journey, moment: datetime) -> bool:
    return j.died_at is None or moment < j.died_at


VISIT_KINDS = (CheckKind.FOLLOW_UP, CheckKind.RCV_TEST)
RESPONSES = ["cr", "cr", "cr", "pr", "pr", "sd", "pd", "relapse"]


def visit_time(day: date) -> datetime:
    """A visit is dated, not timed: it counts at noon UTC of its day (tracker.services.clinical)."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def follow_ups(load: Load) -> None:
    """A visit for each follow-up the protocol asks for (and the first RCV test), a few days either side of its
    due date; a death is recorded by a visit on its day."""
    today = load.now.date()

    def rows() -> Iterator[tuple]:
        for j in load.everyone:
            if not load.happened(j.infused_at):
                continue
            rng, gene_modified = j.rng, j.product.product.gene_modified
            end = j.died_at.date() if j.died_at is not None else today
            seen: set[date] = set()
            for o in occurrences(load, j):
                if o.kind not in VISIT_KINDS or (o.kind == CheckKind.RCV_TEST and o.sequence > 1):
                    continue
                day = o.due_at.date() + timedelta(days=rng.randrange(-3, 8))
                if day >= end or day in seen or (o.kind == CheckKind.RCV_TEST and not gene_modified):
                    continue
                seen.add(day)
                visit_id = load.take(FollowUpVisit)
                j.visits.append((day, visit_id))
                rcv = "negative" if gene_modified else "not_done"
                yield (
                    visit_id,
                    j.patient_id,
                    day,
                    rng.choice(RESPONSES),
                    "alive",
                    None,
                    "",
                    False,
                    "",
                    False,
                    rcv,
                    rng.randrange(4, 11),
                    "",
                    _clinician(load, j),
                    "",
                    visit_time(day),
                )
            if j.died_at is not None:
                j.death_visit_id = visit_id = load.take(FollowUpVisit)
                day = j.died_at.date()
                j.visits.append((day, visit_id))
                yield (
                    visit_id,
                    j.patient_id,
                    day,
                    "pd",
                    "dead",
                    day,
                    "Disease progression",
                    False,
                    "",
                    False,
                    "not_done",
                    None,
                    "",
                    _clinician(load, j),
                    "",
                    visit_time(day),
                )
            j.visits.sort()

    load.write(FollowUpVisit, VISIT_COLUMNS, rows())
