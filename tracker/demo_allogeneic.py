"""Demo allogeneic story (DEBUG only: the people are invented): a bone-marrow donor screened, tested and found
eligible by QA, an MSC batch of units in inventory at the manufacturer, and two patients with steroid-refractory
GVHD treated from it (each allocated a unit, shipped, thawed and given through the bedside check).

Every step goes through the real services at the moment it happened (their `now`). Idempotent: nothing is added
when the donor's demo lot exists. `seed_allogeneic` returns the two orders (GVHD follow-up builds on them).
"""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from products.demo import demo_password
from products.models import Batch, Facility, Product
from products.rules.isbt128 import check_character
from products.services import batches as batch_services
from products.services.collections import collection_record
from products.services.donors import donor_determine, donor_screening_record, donor_test_record
from products.services.units import custody_record, unit_create
from tracker.demo import Actors, at
from tracker.models import TherapyOrder
from tracker.services.administrations import administration_record
from tracker.services.allocations import order_allocate
from tracker.services.bedside_checks import bedside_check_record
from tracker.services.donors import donor_register
from tracker.services.orders import order_create, patient_create

LOT = "DEMO-MSC-0001"
UNITS = 8
MSC_PASSING = {"viability": "94", "cd73_cd90_cd105": "98.5", "sterility": "negative"}
DONOR_HLA = {"A": ["A*02:01", "A*01:01"], "B": ["B*08:01", "B*44:02"], "C": ["C*07:01"], "DRB1": ["DRB1*15:01"]}
# (mrn, given, family, birth date, sex, kg, days since infusion, HLA)
MSC_PATIENTS = [
    (
        "CH-200001",
        "Elena",
        "Petrova",
        date(1979, 2, 14),
        "female",
        "61.0",
        12,
        {"A": ["A*02:01", "A*03:01"], "B": ["B*07:02"], "C": ["C*07:02"], "DRB1": ["DRB1*15:01", "DRB1*04:01"]},
    ),
    ("CH-200002", "Marcus", "Lindqvist", date(1966, 9, 1), "male", "84.5", 4, None),
]


def seed_allogeneic(products: dict[str, Product], facilities: dict[str, Facility]) -> list[TherapyOrder]:
    """The MSC donor, lot and two treated patients; [] when the lot is already there."""
    if Batch.objects.filter(lot_number=LOT).exists():
        return []
    actors = Actors()
    product = products["demo-msc"]
    collection_site, factory, hospital = (
        facilities["north-apheresis"],
        facilities["cellworks-mfg"],
        facilities["city-hospital"],
    )
    now = timezone.now()
    recovered = now - timedelta(days=60)

    registered = at(recovered - timedelta(days=10))
    donor = donor_register(
        actor=actors.coordinator,
        facility=collection_site,
        given_name="Jonas",
        family_name="Weber",
        birth_date=date(1994, 5, 21),
        sex="male",
        phone="+49 30 555 0142",
        hla=DONOR_HLA,
        now=registered,
    ).donor
    for kind in ("history", "physical"):
        donor_screening_record(
            actor=actors.coordinator,
            donor_id=donor.pk,
            kind=kind,
            outcome="acceptable",
            performed_at=registered,
            findings="",
            now=registered,
        )
    sampled = recovered - timedelta(days=5)  # marrow: within 30 days before recovery (21 CFR 1271.80(b))
    for test in product.required_donor_tests:
        donor_test_record(
            actor=actors.integration,
            donor_id=donor.pk,
            test=test,
            result="negative",
            sampled_at=sampled,
            now=sampled + timedelta(days=2),
        )
    number = f"W1234{recovered.year % 100:02d}{900001:06d}"
    collection = collection_record(
        actor=actors.coordinator,
        donor=donor,
        product=product,
        din=number + check_character(number),
        facility=collection_site,
        collected_at=recovered,
        method="bone_marrow",
        volume_ml=Decimal("45"),
        total_nucleated_cells=1_200_000_000,
        now=recovered,
    )
    started = recovered + timedelta(days=1)
    batch = batch_services.batch_create(
        actor=actors.manufacturing,
        collection=collection,
        lot_number=LOT,
        facility=factory,
        started_at=started,
        now=started,
    )
    # QA at the manufacturer sees the donor (by code) once the cells are there, and determines eligibility.
    determined = recovered + timedelta(days=3)
    donor_determine(
        donor_id=donor.pk,
        signer=actors.qa,
        determination="eligible",
        password=demo_password("qa"),
        meaning="Donor eligible: screening acceptable, every required test negative (21 CFR 1271.50)",
        now=determined,
    )
    made = recovered + timedelta(days=24)
    for n in range(1, UNITS + 1):
        unit_create(
            actor=actors.manufacturing,
            batch_id=batch.id,
            unit_id=f"{LOT}-{n:02d}",
            dose_cells=150_000_000,
            volume_ml=Decimal("20"),
            expires_at=made + timedelta(days=300 + n),
            storage_location=f"LN2 Dewar 3 / rack B / box 2 / {n}",
            now=made,
        )
    for test, value in MSC_PASSING.items():
        batch_services.qc_result_record(
            actor=actors.manufacturing, batch_id=batch.id, test=test, value=value, tested_at=made, now=made
        )
    released = made + timedelta(days=2)
    batch_services.batch_release(
        batch_id=batch.id,
        signer=actors.qa,
        password=demo_password("qa"),
        meaning="Released to inventory: QC complete and within specification; donor eligible",
        now=released,
    )
    return [_treat(patient, product, hospital, actors) for patient in MSC_PATIENTS]


def _treat(patient_row: tuple, product: Product, hospital: Facility, actors: Actors) -> TherapyOrder:
    mrn, given, family, born, sex, kg, days, hla = patient_row
    infusion = timezone.now() - timedelta(days=days)
    ordered = infusion - timedelta(days=4)
    patient = patient_create(
        actor=actors.coordinator,
        facility=hospital,
        mrn=mrn,
        given_name=given,
        family_name=family,
        birth_date=born,
        sex=sex,
        weight_kg=Decimal(kg),
        hla=hla,
        now=ordered,
    )
    order = order_create(
        actor=actors.clinician,
        patient=patient,
        product=product,
        note="Steroid-refractory acute GVHD: MSC course",
        now=ordered,
    )
    allocation = order_allocate(actor=actors.clinician, order_id=order.pk, now=ordered + timedelta(hours=1))
    unit_id = allocation.unit.unit_id
    for event, actor, moment, temperature in (
        ("shipped", actors.integration, infusion - timedelta(days=2), "-152"),
        ("received", actors.clinician, infusion - timedelta(days=1), "-150"),
        ("stored", actors.clinician, infusion - timedelta(days=1) + timedelta(hours=1), "-160"),
        ("thawed", actors.clinician, infusion - timedelta(minutes=30), None),
    ):
        custody_record(
            actor=actor,
            unit_id=unit_id,
            event=event,
            at=moment,
            facility=hospital,
            temperature_c=Decimal(temperature) if temperature is not None else None,
            storage_location="Cryo room, tank 1" if event == "stored" else "",
            now=moment,
        )
    # At the bedside first: the bag's DIN (the donor's collection) as the scanner sends it, the wristband's MRN.
    donation = allocation.unit.batch.collection
    if donation is None:  # every unit allocated here is of the demo donor's batch
        raise ValueError(f"Unit {unit_id} comes from no donor's collection.")
    bedside_check_record(
        actor=actors.clinician,
        coi=order.chain.coi,
        scanned_unit=f"={donation.din}00",
        scanned_patient=patient.mrn,
        scanned_birth_date=patient.birth_date,
        now=infusion,
    )
    administration_record(
        actor=actors.clinician,
        coi=order.chain.coi,
        unit_id=unit_id,
        administered_at=infusion,
        route="iv_infusion",
        scanned_unit=unit_id,
        scanned_patient=patient.mrn,
        scanned_birth_date=patient.birth_date,
        verifier_username="coordinator",
        verifier_password=demo_password("coordinator"),
        now=infusion,
    )
    return order
