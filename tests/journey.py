"""Build records by calling the real services (as the admin and the API do), one step of the journey each."""

from dataclasses import dataclass
from datetime import datetime, timedelta
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
from tracker.models import Patient, TherapyOrder
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


def make_product(world: World, code: str = "cart-x", **overrides: object) -> Product:
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
    protocol = MonitoringProtocol.objects.get(code="car_t_standard")
    return product_create(actor=world.coordinator, monitoring_protocol=protocol, release_spec=CAR_T_SPEC, **fields)


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
    )


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
    """Give a delivered unit to its patient (the bedside scans match)."""
    from tracker.services.administrations import administration_record

    return administration_record(
        actor=world.clinician,
        coi=order.coi,
        unit_id=unit.unit_id,
        administered_at=at or timezone.now() - timedelta(minutes=1),
        route="iv_infusion",
        scanned_unit=unit.unit_id,
        scanned_patient=order.patient.mrn,
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
