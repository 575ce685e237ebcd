"""Demo patients and chains at every stage of the journey (DEBUG only: the people are invented).

Each step is recorded through the real services at the moment it happened in the story: every service takes
that moment as its `now` (and as the event's own time), so signatures, custody, grades and schedules carry
consistent times. Row insertion times (`created_at`) and the audit trail keep the real time of seeding.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone

from products.demo import CART_PASSING, demo_password
from products.models import Batch, Facility, Product, Unit
from products.rules.isbt128 import check_character
from products.services import batches as batch_services
from products.services.collections import collection_record
from products.services.holds import hold_decide
from products.services.units import custody_record, unit_create
from tracker.models import Administration, FollowUpVisit, Patient, Reminder, TherapyOrder
from tracker.services.administrations import administration_record
from tracker.services.bedside_checks import bedside_check_record
from tracker.services.clinical import (
    adverse_event_mark_reported,
    adverse_event_record,
    assessment_record,
    conditioning_record,
    follow_up_record,
    intervention_record,
)
from tracker.services.monitoring import reminder_resolve
from tracker.services.orders import order_create, patient_create
from tracker.services.planning import order_plan

STAGES = ["ordered", "collected", "manufacturing", "quarantine", "released", "shipped", "stored", "thawed", "infused"]

# (mrn, given, family, birth date, sex, kg, stage, days since infusion for infused patients)
DEMO_PATIENTS = [
    ("CH-100001", "Maria", "Santos", date(1968, 4, 12), "female", "64.5", "ordered", None),
    ("CH-100002", "James", "Okafor", date(1975, 9, 3), "male", "82.0", "collected", None),
    ("CH-100003", "Lena", "Fischer", date(1959, 1, 27), "female", "58.2", "manufacturing", None),
    ("CH-100004", "Tomás", "Ruiz", date(1981, 11, 8), "male", "77.4", "quarantine", None),
    ("CH-100005", "Aiko", "Tanaka", date(1990, 6, 19), "female", "55.0", "released", None),
    ("CH-100006", "Samuel", "Berg", date(1963, 2, 2), "male", "90.1", "shipped", None),
    ("CH-100007", "Priya", "Nair", date(1972, 8, 30), "female", "61.7", "stored", None),
    ("CH-100008", "Oliver", "Grant", date(1955, 12, 14), "male", "73.9", "thawed", None),
    ("CH-100009", "Hannah", "Kowalski", date(1961, 5, 22), "female", "68.3", "infused", 6),
    ("CH-100010", "David", "Mensah", date(1970, 3, 15), "male", "85.6", "infused", 1),
    ("CH-100011", "Sofia", "Rossi", date(1984, 10, 2), "female", "59.8", "infused", 40),
    ("CH-100012", "Arjun", "Patel", date(1958, 7, 7), "male", "79.2", "infused", 730),
]


# The plans the coordinators' board counts: (first day of conditioning, infusion day) in days from today.
DEMO_PLANS = {"CH-100006": (3, 8), "CH-100007": (1, 6), "CH-100008": (-5, 0)}

# The hard stops at work: a sterility result QA set aside after an investigation (then retested), and a bag that
# arrived warm, was held by the system and released by QA with its rationale.
INVALIDATED_QC_MRN = "CH-100005"
EXCURSION_MRN = "CH-100007"


class Actors:
    def __init__(self) -> None:
        users = get_user_model().objects
        self.coordinator = users.get(username="coordinator")
        self.clinician = users.get(username="clinician")
        self.qa = users.get(username="qa")
        self.manufacturing = users.get(username="manufacturing")
        self.integration = users.get(username="integration")


def at(moment: datetime) -> datetime:
    """The time to record a step of the story at: its moment (usually a little in the past), or now if later."""
    return min(moment, timezone.now())


@dataclass
class Story:
    """One chain's steps, each with its moment; run in order up to a stage. Each step records as of its moment."""

    steps: list[tuple[str, datetime, Callable[[datetime], None]]] = field(default_factory=list)

    def add(self, name: str, moment: datetime, action: Callable[[datetime], None]) -> None:
        self.steps.append((name, moment, action))

    def run(self, upto: str) -> None:
        if upto not in {name for name, _, _ in self.steps}:
            return  # "ordered": nothing has happened yet
        for name, moment, action in self.steps:
            action(at(moment))
            if name == upto:
                return


def seed_chains(products: dict[str, Product], facilities: dict[str, Facility]) -> int:
    actors = Actors()
    hospital = facilities["city-hospital"]
    created = 0
    for index, (mrn, given, family, born, sex, kg, stage, infused_days) in enumerate(DEMO_PATIENTS, start=1):
        if Patient.objects.filter(facility=hospital, mrn=mrn).exists():
            continue
        now = timezone.now()
        # Infused patients' stories end at their infusion; the others' stages are spread over recent weeks.
        infusion = now - timedelta(days=infused_days) if infused_days is not None else now
        start = infusion - timedelta(days=16) if infused_days is not None else now - timedelta(days=8 + index)
        registered = at(start - timedelta(days=7))
        patient = patient_create(
            actor=actors.coordinator,
            facility=hospital,
            mrn=mrn,
            given_name=given,
            family_name=family,
            birth_date=born,
            sex=sex,
            weight_kg=Decimal(kg),
            now=registered,
        )
        order = order_create(
            actor=actors.clinician,
            patient=patient,
            product=products["demo-cart"],
            collection_facility=facilities["north-apheresis"],
            now=registered,
        )
        story = _chain_story(order, index, start, infusion, actors, facilities)
        story.run(upto=stage)
        if mrn in DEMO_PLANS:
            today = timezone.localdate(now)
            conditioning, infusion_day = DEMO_PLANS[mrn]
            order_plan(
                actor=actors.coordinator,
                order_id=order.id,
                planned_conditioning_on=today + timedelta(days=conditioning),
                planned_infusion_on=today + timedelta(days=infusion_day),
            )
        if infused_days is not None:
            _clinical_course(order, infusion, infused_days, actors)
        created += 1
    return created


def _chain_story(
    order: TherapyOrder, index: int, start: datetime, infusion: datetime, actors: Actors, facilities: dict
) -> Story:
    story = Story()
    batch_holder: dict[str, Batch] = {}
    unit_id = f"{order.chain.coi}-01"
    day = timedelta(days=1)

    def collect(now: datetime) -> None:
        number = f"W1234{start.year % 100:02d}{100000 + index:06d}"
        collection_record(
            actor=actors.coordinator,
            chain=order.chain,
            din=number + check_character(number),
            facility=facilities["north-apheresis"],
            collected_at=now,
            method="apheresis",
            volume_ml=Decimal("260"),
            total_nucleated_cells=9_800_000_000,
            cd3_cells=4_100_000_000,
            now=now,
        )

    def start_batch(now: datetime) -> None:
        batch = batch_services.batch_create(
            actor=actors.manufacturing,
            chain=order.chain,
            lot_number=f"DEMO-{order.chain.coi}",
            facility=facilities["cellworks-mfg"],
            started_at=now,
            now=now,
        )
        batch_holder["batch"] = batch
        for offset, kind in enumerate(["selection", "activation", "transduction"]):
            batch_services.batch_step_record(
                actor=actors.manufacturing,
                batch_id=batch.id,
                kind=kind,
                started_at=now - timedelta(hours=12 - 4 * offset),
                ended_at=now - timedelta(hours=9 - 4 * offset),
                parameters={"demo": True},
                now=now,
            )

    def finish(now: datetime) -> None:
        batch = batch_holder["batch"]
        if order.patient.mrn == INVALIDATED_QC_MRN:
            _invalidated_sterility(batch.id, actors, now)
        for offset, kind in enumerate(["expansion", "harvest", "formulation", "cryopreservation"]):
            batch_services.batch_step_record(
                actor=actors.manufacturing,
                batch_id=batch.id,
                kind=kind,
                started_at=now - timedelta(hours=8 - 2 * offset),
                ended_at=now - timedelta(hours=7 - 2 * offset),
                now=now,
            )
        unit_create(
            actor=actors.manufacturing,
            batch_id=batch.id,
            unit_id=unit_id,
            dose_cells=150_000_000,
            volume_ml=Decimal("68"),
            expires_at=now + timedelta(days=270),
            now=now,
        )
        for test, value in CART_PASSING.items():
            batch_services.qc_result_record(
                actor=actors.manufacturing, batch_id=batch.id, test=test, value=value, tested_at=now, now=now
            )

    def release(now: datetime) -> None:
        batch_services.batch_release(
            batch_id=batch_holder["batch"].id,
            signer=actors.qa,
            password=demo_password("qa"),
            meaning="Released for infusion: QC complete and within specification",
            now=now,
        )

    def custody(event: str, actor: str, facility: str, temperature: str | None) -> Callable[[datetime], None]:
        def record(now: datetime) -> None:
            custody_record(
                actor=getattr(actors, actor),
                unit_id=unit_id,
                event=event,
                at=now,
                facility=facilities[facility],
                temperature_c=Decimal(temperature) if temperature is not None else None,
                now=now,
            )

        return record

    def infuse(now: datetime) -> None:
        patient = order.patient
        # At the bedside first: the bag's DIN as the scanner sends it (`=`, DIN, flags), the wristband's MRN.
        din = order.chain.collections.values_list("din", flat=True).first()
        bedside_check_record(
            actor=actors.clinician,
            coi=order.chain.coi,
            scanned_unit=f"={din}00",
            scanned_patient=patient.mrn,
            scanned_birth_date=patient.birth_date,
            now=now,
        )
        administration_record(
            actor=actors.clinician,
            coi=order.chain.coi,
            unit_id=unit_id,
            administered_at=now,
            route="iv_infusion",
            scanned_unit=unit_id,
            scanned_patient=patient.mrn,
            scanned_birth_date=patient.birth_date,
            verifier_username="coordinator",
            verifier_password=demo_password("coordinator"),
            premedication="Paracetamol 1 g PO, chlorphenamine 10 mg IV",
            now=now,
        )

    def lymphodeplete(_now: datetime) -> None:
        for offset in (5, 4, 3):
            given = at(infusion - timedelta(days=offset) + timedelta(hours=1))
            for drug, dose in (("fludarabine", "30"), ("cyclophosphamide", "500")):
                conditioning_record(
                    actor=actors.clinician,
                    order=order,
                    regimen="Flu/Cy",
                    drug=drug,
                    dose=Decimal(dose),
                    dose_unit="mg/m2",
                    given_on=timezone.localdate(given),
                    day_relative=-offset,
                    now=given,
                )

    # A story told backwards from the infusion when there is one, forwards from the collection otherwise.
    ends_in_infusion = infusion < timezone.now() - timedelta(hours=1)
    moments = {
        "collected": start,
        "manufacturing": start + 1 * day,
        "quarantine": start + 3 * day,
        "released": start + 4 * day,
        "shipped": start + 5 * day,
        "received": start + 6 * day,
        "stored": start + 6 * day + timedelta(hours=1),
        "conditioning": infusion - timedelta(days=5, hours=2),
        "thawed": infusion - timedelta(minutes=40),
        "infused": infusion,
    }
    story.add("collected", moments["collected"], collect)
    story.add("manufacturing", moments["manufacturing"], start_batch)
    story.add("quarantine", moments["quarantine"], finish)
    story.add("released", moments["released"], release)
    story.add("shipped", moments["shipped"], custody("shipped", "integration", "city-hospital", "-152"))
    warm = order.patient.mrn == EXCURSION_MRN
    story.add(
        "received", moments["received"], custody("received", "clinician", "city-hospital", "-104" if warm else "-149")
    )
    if warm:
        story.add(
            "excursion assessed",
            moments["received"] + timedelta(minutes=40),
            lambda now: _release_hold(unit_id, actors, now),
        )
    story.add("stored", moments["stored"], custody("stored", "clinician", "city-hospital", "-161"))
    if ends_in_infusion:
        story.add("conditioning", moments["conditioning"], lymphodeplete)
    story.add(
        "thawed",
        min(moments["thawed"], timezone.now() - timedelta(minutes=20)),
        custody("thawed", "clinician", "city-hospital", None),
    )
    story.add("infused", moments["infused"], infuse)
    return story


def _invalidated_sterility(batch_id: int, actors: Actors, now: datetime) -> None:
    """A positive sterility result, set aside by QA (signed) when the investigation found the lab at fault."""
    failure = batch_services.qc_result_record(
        actor=actors.manufacturing,
        batch_id=batch_id,
        test="sterility",
        value="positive",
        tested_at=now - timedelta(hours=3),
        now=now,
    )
    batch_services.qc_result_invalidate(
        batch_id=batch_id,
        result_id=failure.id,
        signer=actors.qa,
        password=demo_password("qa"),
        meaning="Result invalid: laboratory error, not the product",
        reason="Investigation LI-2041: the negative control of the same run grew Staphylococcus epidermidis "
        "(skin flora); the test is invalid. Retested from the retained sample.",
        now=now,
    )


def _release_hold(unit_id: str, actors: Actors, now: datetime) -> None:
    """QA reviews the data logger of the warm arrival and releases the bag for use."""
    hold = Unit.objects.get(unit_id=unit_id).holds.get(status="open")
    hold_decide(
        hold_id=hold.id,
        signer=actors.qa,
        decision="release",
        rationale="Data logger: the shipper read -104 °C at the dock for 6 minutes, never above -90 °C; within the "
        "product's excursion stability data. Released for use.",
        password=demo_password("qa"),
        meaning="Released for use after excursion assessment",
        now=now,
    )


def _assess(actors: Actors, patient: Patient, moment: datetime, **measurements: Any) -> None:
    when = at(moment)
    assessment_record(actor=actors.clinician, patient=patient, assessed_at=when, now=when, **measurements)


def _clinical_course(order: TherapyOrder, infusion: datetime, days: int, actors: Actors) -> None:
    """A plausible course after the infusion for each demo scenario (by days since infusion)."""
    patient = order.patient
    now = timezone.now()

    def moment(day: float, hour: int = 9) -> datetime:
        return infusion + timedelta(days=day) + timedelta(hours=hour - infusion.hour)

    calm = {"temperature_c": Decimal("36.8"), "ice_score": 10}
    if days == 1:
        # Day 1: fever and a falling ICE score tonight: ICANS grade 3 is on the ward now.
        _assess(actors, patient, now - timedelta(hours=10), temperature_c=Decimal("38.4"), ice_score=9)
        _assess(
            actors,
            patient,
            now - timedelta(hours=1),
            temperature_c=Decimal("38.9"),
            ice_score=2,
            consciousness="voice",
            crp_mg_l=Decimal("96"),
            ferritin_ng_ml=Decimal("1850"),
        )
        return
    if days == 6:
        # CRS grade 1 on day 2, grade 2 on day 3 (tocilizumab), ICANS grade 1 on day 4 (dexamethasone).
        course = [
            (1, {"temperature_c": Decimal("37.4"), "ice_score": 10, "crp_mg_l": Decimal("18")}),
            (2, {"temperature_c": Decimal("38.6"), "ice_score": 10}),
            (
                3,
                {
                    "temperature_c": Decimal("39.3"),
                    "hypotension": "fluids",
                    "hypoxia": "low_flow",
                    "ice_score": 10,
                    "crp_mg_l": Decimal("142"),
                    "ferritin_ng_ml": Decimal("2400"),
                    "il6_pg_ml": Decimal("310"),
                },
            ),
            (3.4, {"temperature_c": Decimal("37.9"), "fever_masked": True, "hypotension": "fluids", "ice_score": 10}),
            (4, {"temperature_c": Decimal("37.2"), "fever_masked": True, "ice_score": 8}),
            (4.2, {"temperature_c": Decimal("37.0"), "fever_masked": True, "ice_score": 9}),
            (5, {"temperature_c": Decimal("36.9"), "ice_score": 10}),
        ]
        for day, measurements in course:
            _assess(actors, patient, moment(day), **measurements)
        for when, drug, kind, dose, unit, indication in (
            (at(moment(3, 11)), "tocilizumab", "tocilizumab", "8", "mg/kg", "crs"),
            (at(moment(4, 11)), "dexamethasone", "corticosteroid", "10", "mg", "icans"),
        ):
            intervention_record(
                actor=actors.clinician,
                patient=patient,
                given_at=when,
                kind=kind,
                drug=drug,
                dose=Decimal(dose),
                dose_unit=unit,
                route="IV",
                indication=indication,
                now=when,
            )
        aware = at(moment(3, 12))
        adverse_event_record(
            actor=actors.clinician,
            patient=patient,
            term="crs",
            grade=2,
            grading_system="astct",
            onset_at=moment(2),
            aware_at=aware,
            serious=True,
            expected=True,
            relatedness="definite",
            description="CRS with fever, fluid-responsive hypotension and low-flow oxygen.",
            now=aware,
        )
        _resolve_old_urgent(patient, actors, before=now - timedelta(days=1))
        return
    if days == 40:
        for day in (1, 2, 3, 4, 5, 6, 7, 10, 14):
            _assess(actors, patient, moment(day), **calm)
        visit = at(moment(28, 10))
        follow_up_record(
            actor=actors.clinician,
            patient=patient,
            visit_date=timezone.localdate(visit),
            disease_response="cr",
            wellbeing_score=7,
            patient_reported="Tired in the afternoons.",
            now=visit,
        )
        aware = at(now - timedelta(days=5))
        adverse_event_record(
            actor=actors.clinician,
            patient=patient,
            term="infection",
            grade=3,
            onset_at=aware - timedelta(hours=20),
            aware_at=aware,
            serious=True,
            expected=False,
            relatedness="possible",
            meddra_code="10035664",
            term_text="Pneumonia",
            description="Admitted with pneumonia; IV antibiotics.",
            now=aware,
        )
        return
    if days == 730:
        for day in (1, 2, 3, 7, 14):
            _assess(actors, patient, moment(day), **calm)
        visits = [(28, "cr"), (100, "cr"), (182, "cr"), (365, "cr")]
        for day, response in visits:
            visit = at(moment(day, 10))
            follow_up_record(
                actor=actors.clinician,
                patient=patient,
                visit_date=timezone.localdate(visit),
                disease_response=response,
                rcv_result="negative",
                wellbeing_score=8,
                now=visit,
            )
        visit = at(moment(700, 10))
        follow_up_record(
            actor=actors.clinician,
            patient=patient,
            visit_date=timezone.localdate(visit),
            disease_response="cr",
            new_malignancy=True,
            car_testing_requested=True,
            malignancy_description="Cutaneous T-cell lymphoma; biopsy sent for CAR transgene.",
            rcv_result="pending",
            wellbeing_score=6,
            now=visit,
        )
        event = adverse_event_record(
            actor=actors.clinician,
            patient=patient,
            term="secondary_malignancy",
            grade=3,
            onset_at=visit - timedelta(days=10),
            aware_at=visit,
            serious=True,
            expected=False,
            relatedness="possible",
            term_text="T-cell lymphoma",
            now=visit,
        )
        adverse_event_mark_reported(actor=actors.clinician, event_id=event.id, now=at(moment(709, 10)))


def _resolve_old_urgent(patient: Patient, actors: Actors, before: datetime) -> None:
    for reminder in Reminder.objects.filter(patient=patient, status="open", due_at__lt=before, kind="toxicity_grade"):
        reminder_resolve(reminder_id=reminder.id, actor=actors.clinician, resolution="Managed on the ward")


def unit_of(order: TherapyOrder) -> Unit | None:
    return Unit.objects.filter(chain=order.chain).first()


# A steroid-refractory acute GVHD course treated with MSC (the MAGIC findings at each staging, by day since the
# course's first infusion): grade III at baseline (skin 2, liver 1, upper GI 1, lower GI 2), better every week, and
# at day 28 skin stage 1 with liver and gut clear: a very good partial response against the baseline.
GVHD_COURSE: list[tuple[int, dict[str, object]]] = [
    (
        -1,
        {
            "gvhd_skin_bsa_pct": 40,
            "gvhd_bilirubin_mg_dl": Decimal("2.4"),
            "gvhd_upper_gi_persistent": True,
            "gvhd_stool_ml_per_day": 1200,
        },
    ),
    (7, {"gvhd_skin_bsa_pct": 30, "gvhd_bilirubin_mg_dl": Decimal("2.1"), "gvhd_stool_ml_per_day": 800}),
    (14, {"gvhd_skin_bsa_pct": 15, "gvhd_bilirubin_mg_dl": Decimal("1.6"), "gvhd_stool_ml_per_day": 600}),
    (21, {"gvhd_skin_bsa_pct": 10, "gvhd_bilirubin_mg_dl": Decimal("1.2"), "gvhd_stool_ml_per_day": 350}),
    (28, {"gvhd_skin_bsa_pct": 5, "gvhd_bilirubin_mg_dl": Decimal("1.0"), "gvhd_stool_ml_per_day": 300}),
]


def gvhd_response_course(*, patient: Patient, clinician: User) -> int:
    """Give a patient whose course has begun (a first infusion that stands) a GVHD response course: the staging at
    baseline (the day before the first infusion), weekly stagings, and the day-28 staging, which under a protocol
    naming that day (msc_standard's `gvhd_response` check) gets the response (tracker.rules.gvhd). Each visit is
    recorded through the service as of its day; days still to come are left out. Idempotent: a patient with GVHD
    staged already is left as is. Returns the number of visits recorded."""
    if FollowUpVisit.objects.filter(patient=patient, gvhd_grade__isnull=False).exists():
        return 0
    first = (
        Administration.objects.filter(patient=patient, voided_at=None)
        .order_by("administered_at", "id")
        .values_list("administered_at", flat=True)
        .first()
    )
    if first is None:
        raise ValueError(f"Patient {patient.id} has had no infusion: the GVHD course counts from the first one.")
    recorded = 0
    day_zero = timezone.localdate(first)
    for day, findings in GVHD_COURSE:
        visit_date = day_zero + timedelta(days=day)
        moment = timezone.make_aware(datetime.combine(visit_date, time(10)))
        if moment > timezone.now():
            break
        follow_up_record(
            actor=clinician,
            patient=patient,
            visit_date=visit_date,
            wellbeing_score=4 if day < 14 else 7,
            note="Acute GVHD staging" if day >= 0 else "Acute GVHD staging before the course (baseline)",
            now=moment,
            **findings,  # type: ignore[arg-type]
        )
        recorded += 1
    return recorded
