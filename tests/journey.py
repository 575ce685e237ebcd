"""Build records by calling the real services (as the admin and the API do), one step of the journey each."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from products.choices import FacilityKind, Modality, Role, Source
from products.models import Batch, Facility, MonitoringProtocol, Product, Unit
from products.rules.isbt128 import check_character
from products.services.batches import batch_create, batch_release, qc_result_record
from products.services.catalog import product_create
from products.services.collections import collection_record
from products.services.units import custody_record, unit_create
from tests.factories import TEST_PASSWORD, FacilityFactory, UserFactory
from tracker.models import FollowUpVisit, Patient, TherapyOrder
from tracker.services.orders import order_create, patient_create

CAR_T_SPEC = [
    {"test": "viability", "unit": "%", "min": Decimal("70"), "max": None, "expected": ""},
    {"test": "cd3_purity", "unit": "%", "min": Decimal("80"), "max": Decimal("100"), "expected": ""},
    {"test": "sterility", "unit": "", "min": None, "max": None, "expected": "negative"},
    {"test": "endotoxin", "unit": "EU/mL", "min": None, "max": Decimal("5"), "expected": ""},
]
PASSING_QC = {"viability": 92, "cd3_purity": 95, "sterility": "negative", "endotoxin": "0.5"}

_din_sequence = iter(range(1, 999_999))
_mrn_sequence = iter(range(1, 999_999))


def make_din(fin: str = "W1234", year: int = 26) -> str:
    number = f"{fin}{year:02d}{next(_din_sequence):06d}"
    return number + check_character(number)


@dataclass
class World:
    """Facilities and one user per role, each a member of the facilities their work happens at."""

    collection_site: Facility
    factory_site: Facility
    hospital: Facility
    other_hospital: Facility
    coordinator: AbstractBaseUser
    clinician: AbstractBaseUser
    other_clinician: AbstractBaseUser
    qa: AbstractBaseUser
    manufacturing: AbstractBaseUser
    integration: AbstractBaseUser
    password: str = TEST_PASSWORD


def build_world() -> World:
    collection_site = FacilityFactory(
        code="apheresis", name="Apheresis Centre", kind=FacilityKind.COLLECTION, fin="W1234"
    )
    factory_site = FacilityFactory(code="factory", name="Cell Factory", kind=FacilityKind.MANUFACTURING, fin="W5678")
    hospital = FacilityFactory(code="hospital", name="City Hospital", kind=FacilityKind.TREATMENT, fin="W4321")
    other = FacilityFactory(code="elsewhere", name="Elsewhere Hospital", kind=FacilityKind.TREATMENT, fin="W8765")
    everywhere = [collection_site, factory_site, hospital]
    return World(
        collection_site=collection_site,
        factory_site=factory_site,
        hospital=hospital,
        other_hospital=other,
        coordinator=UserFactory(username="coord", roles=[Role.COORDINATOR], facilities=[collection_site, hospital]),
        clinician=UserFactory(username="doc", roles=[Role.CLINICIAN], facilities=[hospital]),
        other_clinician=UserFactory(username="otherdoc", roles=[Role.CLINICIAN], facilities=[other]),
        qa=UserFactory(username="qa", roles=[Role.QA], facilities=[factory_site]),
        manufacturing=UserFactory(username="mfg", roles=[Role.MANUFACTURING], facilities=[factory_site]),
        integration=UserFactory(username="integ", roles=[Role.INTEGRATION], facilities=everywhere),
    )


def make_product(world: World, code: str = "cart-x", protocol: str = "car_t_standard", **overrides: object) -> Product:
    fields: dict = {
        "code": code,
        "name": f"Product {code}",
        "modality": Modality.CAR_T,
        "source": Source.AUTOLOGOUS,
        "gene_modified": True,
        "cryopreserved": True,
        "shelf_life_days": 180,
        "shelf_life_after_thaw_minutes": 90,
        "storage_max_temp_c": Decimal("-120"),
    }
    fields.update(overrides)
    return product_create(
        actor=world.coordinator,
        monitoring_protocol=MonitoringProtocol.objects.get(code=protocol),
        release_spec=CAR_T_SPEC,
        **fields,
    )


def make_patient(world: World, mrn: str = "MRN-0001", facility: Facility | None = None) -> Patient:
    return patient_create(
        actor=world.integration if facility is None else world.coordinator,
        facility=facility or world.hospital,
        mrn=mrn,
        given_name="Ada",
        family_name="Lovelace",
        birth_date=timezone.now().date() - timedelta(days=365 * 40),
        sex="female",
        weight_kg=Decimal("70"),
        # Weighed at the pre-infusion visit: a dose per kg uses the weight on or before its infusion day.
        weighed_on=timezone.now().date() - timedelta(days=7),
    )


def verifier_for(world: World, actor: AbstractBaseUser) -> AbstractBaseUser:
    """The second person at the hospital's bedside: another user than the one recording (both are members)."""
    return world.clinician if actor.pk == world.coordinator.pk else world.coordinator


def bedside_check(world: World, order: TherapyOrder, actor: AbstractBaseUser) -> dict:
    """What the bedside check adds to a matching scan: the wristband's birth date and a second person."""
    return {
        "scanned_birth_date": order.patient.birth_date,
        "verifier_username": verifier_for(world, actor).username,
        "verifier_password": world.password,
    }


def make_order(world: World, product: Product | None = None, patient: Patient | None = None) -> TherapyOrder:
    return order_create(
        actor=world.clinician, patient=patient or make_patient(world), product=product or make_product(world)
    )


def collect(world: World, order: TherapyOrder, at: datetime | None = None) -> None:
    collection_record(
        actor=world.coordinator,
        chain=order.chain,
        din=make_din(),
        facility=world.collection_site,
        collected_at=at or timezone.now() - timedelta(days=20),
        method="apheresis",
        volume_ml=Decimal("250"),
    )


def start_batch(world: World, order: TherapyOrder, lot: str = "LOT-1") -> Batch:
    return batch_create(
        actor=world.manufacturing,
        chain=order.chain,
        lot_number=lot,
        facility=world.factory_site,
        started_at=timezone.now() - timedelta(days=15),
    )


def record_qc(world: World, batch: Batch, results: dict | None = None) -> None:
    for test, value in (results or PASSING_QC).items():
        qc_result_record(
            actor=world.manufacturing,
            batch_id=batch.id,
            test=test,
            value=value,
            tested_at=timezone.now() - timedelta(days=3),
        )


def make_unit(world: World, batch: Batch, unit_id: str = "UNIT-1", **overrides: object) -> Unit:
    fields: dict = {
        "dose_cells": 100_000_000,
        "volume_ml": Decimal("68"),
        "expires_at": timezone.now() + timedelta(days=90),
    }
    fields.update(overrides)
    return unit_create(actor=world.manufacturing, batch_id=batch.id, unit_id=unit_id, **fields)


def release(world: World, batch: Batch) -> Batch:
    return batch_release(batch_id=batch.id, signer=world.qa, password=world.password, meaning="Released for infusion")


def released_unit(world: World, order: TherapyOrder | None = None, unit_id: str = "UNIT-1") -> Unit:
    """A unit of a released batch, still at the manufacturing site."""
    order = order or make_order(world)
    collect(world, order)
    batch = start_batch(world, order, lot=f"LOT-{unit_id}")
    unit = make_unit(world, batch, unit_id=unit_id)
    record_qc(world, batch)
    release(world, batch)
    unit.refresh_from_db()
    return unit


def deliver(world: World, unit: Unit, *, thaw: bool = True) -> Unit:
    """Ship a released unit to the hospital, receive and store it, and (by default) thaw it."""
    now = timezone.now()
    steps = [
        ("shipped", world.integration, world.hospital, now - timedelta(hours=30), Decimal("-150")),
        ("received", world.clinician, world.hospital, now - timedelta(hours=6), Decimal("-150")),
        ("stored", world.clinician, world.hospital, now - timedelta(hours=5), Decimal("-160")),
    ]
    if thaw:
        steps.append(("thawed", world.clinician, world.hospital, now - timedelta(minutes=10), None))
    for event, actor, facility, at, temperature in steps:
        custody_record(
            actor=actor, unit_id=unit.unit_id, event=event, at=at, facility=facility, temperature_c=temperature
        )
    unit.refresh_from_db()
    return unit


# Appended for the API tests: many chains in one test, each with its own patient and lot.
_chain_counter = iter(range(1, 1_000_000))


def started_batch(world: World, product: Product | None = None) -> Batch:
    """A new patient's order for `product` (default: a fresh `cart-x`), collected, with a batch in process."""
    n = next(_chain_counter)
    product = product or Product.objects.filter(code="cart-x").first() or make_product(world)
    order = make_order(world, product=product, patient=make_patient(world, mrn=f"MRN-B{n:05d}"))
    collect(world, order)
    return start_batch(world, order, lot=f"LOT-B{n:05d}")


def ship(
    world: World,
    unit: Unit,
    *,
    to: Facility | None = None,
    at: datetime | None = None,
    temperature_c: Decimal | None = Decimal("-150"),
) -> Unit:
    """Ship a released unit from where it is (by the integration user) to the hospital, or `to`."""
    custody_record(
        actor=world.integration,
        unit_id=unit.unit_id,
        event="shipped",
        at=at or timezone.now() - timedelta(hours=30),
        facility=to or world.hospital,
        temperature_c=temperature_c,
    )
    unit.refresh_from_db()
    return unit


@dataclass
class Elsewhere:
    """Another hospital's patient, order, batch and unit, made at another factory: none of `World`'s users'
    facilities are involved, so only `user` (a member of those two sites) and superusers may see them."""

    user: AbstractBaseUser
    factory_site: Facility
    patient: Patient
    order: TherapyOrder
    batch: Batch
    unit: Unit


def elsewhere(world: World, product: Product) -> Elsewhere:
    factory_site = FacilityFactory(code="factory-2", name="Other Factory", kind=FacilityKind.MANUFACTURING, fin="W9999")
    user = UserFactory(username="int2", roles=[Role.INTEGRATION], facilities=[world.other_hospital, factory_site])
    patient = patient_create(
        actor=user,
        facility=world.other_hospital,
        mrn="ELSE-0001",
        given_name="Emmy",
        family_name="Noether",
        birth_date=timezone.now().date() - timedelta(days=365 * 50),
        sex="female",
    )
    order = order_create(actor=user, patient=patient, product=product)
    collection_record(
        actor=user,
        chain=order.chain,
        din=make_din(fin="W8765"),
        facility=world.other_hospital,
        collected_at=timezone.now() - timedelta(days=12),
        method="apheresis",
        volume_ml=Decimal("200"),
    )
    batch = batch_create(
        actor=user,
        chain=order.chain,
        lot_number="LOT-ELSE-1",
        facility=factory_site,
        started_at=timezone.now() - timedelta(days=10),
    )
    unit = unit_create(
        actor=user,
        batch_id=batch.id,
        unit_id="UNIT-ELSE-1",
        dose_cells=100_000_000,
        volume_ml=Decimal("50"),
        expires_at=timezone.now() + timedelta(days=90),
    )
    return Elsewhere(user=user, factory_site=factory_site, patient=patient, order=order, batch=batch, unit=unit)


def administer(world: World, order: TherapyOrder, unit: Unit, at: datetime | None = None):
    """Give a delivered unit to its patient (the bedside scans match; the coordinator verifies)."""
    from tracker.services.administrations import administration_record

    return administration_record(
        actor=world.clinician,
        coi=order.coi,
        unit_id=unit.unit_id,
        administered_at=at or timezone.now() - timedelta(minutes=1),
        route="iv_infusion",
        scanned_unit=unit.unit_id,
        scanned_patient=order.patient.mrn,
        **bedside_check(world, order, world.clinician),
    )


def scan_at_bedside(world: World, order: TherapyOrder, unit: Unit):
    """The nurse's bedside check before the infusion (kept, and on the timeline)."""
    from tracker.services.bedside_checks import bedside_check_record

    return bedside_check_record(
        actor=world.clinician,
        coi=order.coi,
        scanned_unit=unit.unit_id,
        scanned_patient=order.patient.mrn,
        scanned_birth_date=order.patient.birth_date,
    )


def infused_patient(world: World, days_ago: float = 0, product: Product | None = None):
    """A patient whose unit was infused `days_ago` days ago (the whole journey is travelled back in time)."""
    import time_machine

    with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=True):
        product = product or Product.objects.filter(code="cart-x").first() or make_product(world)
        order = make_order(world, product=product, patient=make_patient(world, mrn=f"MRN-I{next(_mrn_sequence)}"))
        unit = deliver(world, released_unit(world, order, unit_id=f"UNIT-{order.coi}"))
        administration = administer(world, order, unit)
    return order, administration


# Appended for the clinical API tests: many bedsides in one test, each with its own patient, lot and bag.


def product_of(world: World) -> Product:
    """The test product `cart-x`, made once per test."""
    return Product.objects.filter(code="cart-x").first() or make_product(world)


def bedside(world: World, *, thaw: bool = True, product: Product | None = None) -> tuple[TherapyOrder, Unit]:
    """A new patient at the hospital whose released unit has been delivered (and, by default, thawed)."""
    n = next(_chain_counter)
    order = make_order(world, product=product or product_of(world), patient=make_patient(world, mrn=f"MRN-S{n:05d}"))
    return order, deliver(world, released_unit(world, order, unit_id=f"BAG-S{n:05d}"), thaw=thaw)


# Appended for the timeline, the patient page and the FHIR export.


def toxicity_course(world: World, order: TherapyOrder, administration) -> dict:
    """A CAR-T course after `administration`, through the services: conditioning, fever then CRS grade 2
    (urgent reminder), tocilizumab, ICANS grade 2, dexamethasone, recovery, an adverse event and a visit.
    Every time is relative to the infusion and in the past."""
    from tracker.services.clinical import (
        adverse_event_record,
        assessment_record,
        conditioning_record,
        follow_up_record,
        intervention_record,
    )

    day0 = administration.administered_at
    patient = order.patient

    def at(days: float) -> datetime:
        moment = day0 + timedelta(days=days)
        assert moment < timezone.now(), "the course must be in the past: infuse earlier"
        return moment

    for day in (-5, -4, -3):
        conditioning_record(
            actor=world.clinician,
            order=order,
            regimen="Flu/Cy",
            drug="fludarabine",
            dose=Decimal("30"),
            given_on=(day0 + timedelta(days=day)).date(),
            day_relative=day,
        )
    assessments = [
        assessment_record(actor=world.clinician, patient=patient, assessed_at=at(0.25), temperature_c=Decimal("37.2")),
        assessment_record(actor=world.clinician, patient=patient, assessed_at=at(1.2), temperature_c=Decimal("38.4")),
        assessment_record(
            actor=world.clinician,
            patient=patient,
            assessed_at=at(2.1),
            temperature_c=Decimal("39.3"),
            hypotension="fluids",
            heart_rate=118,
            systolic_bp=88,
            crp_mg_l=Decimal("182"),
        ),
    ]
    tocilizumab = intervention_record(
        actor=world.clinician,
        patient=patient,
        given_at=at(2.2),
        kind="tocilizumab",
        drug="tocilizumab",
        dose=Decimal("8"),
        dose_unit="mg/kg",
        route="IV",
        indication="crs",
    )
    assessments.append(
        assessment_record(
            actor=world.clinician,
            patient=patient,
            assessed_at=at(3.0),
            temperature_c=Decimal("37.6"),
            fever_masked=True,
            ice_score=6,
        )
    )
    dexamethasone = intervention_record(
        actor=world.clinician,
        patient=patient,
        given_at=at(3.1),
        kind="corticosteroid",
        drug="dexamethasone",
        dose=Decimal("10"),
        dose_unit="mg",
        route="IV",
        indication="icans",
    )
    assessments.append(
        assessment_record(
            actor=world.clinician, patient=patient, assessed_at=at(3.6), temperature_c=Decimal("37.0"), ice_score=10
        )
    )
    assessments.append(
        assessment_record(
            actor=world.clinician, patient=patient, assessed_at=at(3.8), temperature_c=Decimal("36.8"), ice_score=10
        )
    )
    adverse_event = adverse_event_record(
        actor=world.clinician,
        patient=patient,
        term="crs",
        grade=2,
        onset_at=at(1.2),
        aware_at=at(1.25),
        serious=True,
        expected=True,
        meddra_code="10052015",
        description="Fever and hypotension responding to fluids",
    )
    visit = follow_up_record(actor=world.clinician, patient=patient, visit_date=at(3.9).date(), wellbeing_score=7)
    return {
        "assessments": assessments,
        "interventions": [tocilizumab, dexamethasone],
        "adverse_event": adverse_event,
        "follow_up": visit,
    }


def many_timeline_events(world: World, patient: Patient, start: datetime, count: int) -> int:
    """`count` assessments, interventions, reminders and visits from `start` on, every 10 minutes.

    Bulk-inserted, because a read test needs volume, not the services' side effects: grades still come from
    the ASTCT rules (tracker.rules.grading), and each row is one the services could have written."""
    from tracker.models import Assessment, FollowUpVisit, Intervention, Reminder
    from tracker.rules.grading import CrsInput, IcansInput, crs_grade, icans_grade

    assessments, interventions, reminders, visits = [], [], [], []
    for n in range(count):
        at = start + timedelta(minutes=10 * n)
        slot = n % 20
        if slot < 12:
            temperature = Decimal("36.5") + Decimal(n % 30) / 10
            hypotension = "fluids" if n % 37 == 0 else "none"
            ice = 10 - (n % 5)
            assessments.append(
                Assessment(
                    patient=patient,
                    assessed_at=at,
                    temperature_c=temperature,
                    hypotension=hypotension,
                    ice_score=ice,
                    crs_grade=crs_grade(CrsInput(temperature, hypotension, "none", False)),
                    icans_grade=icans_grade(IcansInput(ice, "alert", "none", False, "none")),
                    assessed_by=world.clinician,
                )
            )
        elif slot < 15:
            interventions.append(
                Intervention(
                    patient=patient, given_at=at, kind="tocilizumab", drug="tocilizumab", given_by=world.clinician
                )
            )
        elif slot < 18:
            reminders.append(
                Reminder(
                    kind="check_due",
                    dedupe_key=f"bulk:{patient.id}:{n}",
                    patient=patient,
                    facility_id=patient.facility_id,
                    due_at=at,
                    status="resolved",
                    resolved_at=at + timedelta(minutes=5),
                    message=f"Bulk check {n}",
                )
            )
        else:
            visits.append(FollowUpVisit(patient=patient, visit_date=at.date(), recorded_by=world.clinician))
    Assessment.objects.bulk_create(assessments, batch_size=1000)
    Intervention.objects.bulk_create(interventions, batch_size=1000)
    Reminder.objects.bulk_create(reminders, batch_size=1000)
    FollowUpVisit.objects.bulk_create(visits, batch_size=1000)
    return count


def storied_patient(
    world: World,
    *,
    days_ago: float = 5,
    mrn: str | None = None,
    given_name: str = "Ada",
    family_name: str = "Lovelace",
    course: bool = True,
) -> tuple[TherapyOrder, object, dict]:
    """A patient whose whole journey is on record, through the services and in the order it happens: the
    order (30 days before the infusion), collection, a batch with its processing steps, QC, release, shipment
    and custody, the infusion `days_ago` days ago, then (`course`) a toxicity course (see toxicity_course)."""
    import time_machine

    from products.services.batches import batch_step_record

    n = next(_chain_counter)
    infusion = timezone.now() - timedelta(days=days_ago)
    with time_machine.travel(infusion - timedelta(days=30), tick=True):
        product = Product.objects.filter(code="cart-x").first() or make_product(world)
        patient = patient_create(
            actor=world.integration,
            facility=world.hospital,
            mrn=mrn or f"MRN-S{n:05d}",
            given_name=given_name,
            family_name=family_name,
            birth_date=timezone.now().date() - timedelta(days=365 * 52),
            sex="female",
            weight_kg=Decimal("64"),
            weighed_on=timezone.now().date() - timedelta(days=1),
        )
        order = make_order(world, product=product, patient=patient)
    with time_machine.travel(infusion - timedelta(days=2), tick=True):
        collect(world, order, at=infusion - timedelta(days=28))
        batch = batch_create(
            actor=world.manufacturing,
            chain=order.chain,
            lot_number=f"LOT-S{n:05d}",
            facility=world.factory_site,
            started_at=infusion - timedelta(days=26),
        )
        for step, kind in enumerate(["selection", "activation", "transduction", "expansion", "cryopreservation"]):
            batch_step_record(
                actor=world.manufacturing,
                batch_id=batch.id,
                kind=kind,
                started_at=batch.started_at + timedelta(days=step * 3),
                ended_at=batch.started_at + timedelta(days=step * 3, hours=6),
            )
        unit = make_unit(world, batch, unit_id=f"UNIT-S{n:05d}")
        record_qc(world, batch)
        release(world, batch)
    with time_machine.travel(infusion, tick=True):
        unit = deliver(world, unit)
        scan_at_bedside(world, order, unit)
        administration = administer(world, order, unit)
    records = toxicity_course(world, order, administration) if course else {}
    return order, administration, records


# Appended for the hard stops: a course of several units under one order (a multi-bag dose; CD4 and CD8 parts).


def course_at_bedside(
    world: World, units: int = 2, dose_cells: int = 50_000_000, product: Product | None = None
) -> tuple[TherapyOrder, list[Unit]]:
    """A new patient whose one batch made `units` bags, all released, delivered and thawed at the hospital."""
    n = next(_chain_counter)
    order = make_order(world, product=product or product_of(world), patient=make_patient(world, mrn=f"MRN-C{n:05d}"))
    collect(world, order)
    batch = start_batch(world, order, lot=f"LOT-C{n:05d}")
    bags = [make_unit(world, batch, unit_id=f"BAG-C{n:05d}-{i}", dose_cells=dose_cells) for i in range(1, units + 1)]
    record_qc(world, batch)
    release(world, batch)
    return order, [deliver(world, bag) for bag in bags]


# Appended for repeated doses: a course of several infusions on different days.


def msc_product(world: World, code: str = "msc-x", **overrides: object) -> Product:
    """An MSC product on `msc_standard` (scheduled from each infusion; the day-28 GVHD response once per course).
    Autologous here, so that its bags carry the order's chain as every test journey's do."""
    fields: dict = {"modality": Modality.MSC, "gene_modified": False, "shelf_life_after_thaw_minutes": 180}
    fields.update(overrides)
    return Product.objects.filter(code=code).first() or make_product(world, code, protocol="msc_standard", **fields)


def course_given(
    world: World,
    days_ago: tuple[float, ...],
    product: Product | None = None,
    patient: Patient | None = None,
    before_each: Callable[[int], None] | None = None,
) -> tuple[TherapyOrder, list]:
    """A course of `len(days_ago)` infusions of one order, each given `days_ago` days ago (travelled back in time:
    the bags are made before the first, each delivered, thawed and given on its own day). `before_each(i)` runs
    before the i-th infusion (from 0)."""
    import time_machine

    now = timezone.now()
    n = next(_chain_counter)
    with time_machine.travel(now - timedelta(days=max(days_ago) + 3), tick=True):
        order = make_order(
            world,
            product=product or msc_product(world),
            patient=patient or make_patient(world, mrn=f"MRN-M{n:05d}"),
        )
        collect(world, order)
        batch = start_batch(world, order, lot=f"LOT-M{n:05d}")
        bags = [make_unit(world, batch, unit_id=f"BAG-M{n:05d}-{i}") for i in range(1, len(days_ago) + 1)]
        record_qc(world, batch)
        release(world, batch)
    administrations = []
    for i, (bag, days) in enumerate(zip(bags, days_ago, strict=True)):
        if before_each is not None:
            before_each(i)
        with time_machine.travel(now - timedelta(days=days), tick=True):
            administrations.append(administer(world, order, deliver(world, bag)))
    return order, administrations


def gvhd_staging(world: World, patient: Patient, on: date | None = None) -> FollowUpVisit:
    """A follow-up visit that stages acute GVHD (grade I: skin stage 1 only), today unless told."""
    from tracker.services.clinical import follow_up_record

    return follow_up_record(
        actor=world.clinician,
        patient=patient,
        visit_date=on or timezone.localdate(),
        gvhd_skin_bsa_pct=10,
        gvhd_bilirubin_mg_dl=Decimal("1.0"),
        gvhd_stool_ml_per_day=200,
    )
