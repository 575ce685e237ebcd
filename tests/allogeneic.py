"""Build the allogeneic journey through the real services: a donor screened and tested, QA's determination, a
donor's collection, a batch of many units released into inventory, an order and its allocation."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from products.choices import DiseaseTest, Modality, Role, Source
from products.models import Batch, Collection, Donor, MonitoringProtocol, Product, Unit
from products.services.batches import batch_create, batch_release, qc_result_record
from products.services.catalog import product_create
from products.services.collections import collection_record
from products.services.donors import donor_determine, donor_screening_record, donor_test_record
from products.services.units import unit_create
from tests.factories import UserFactory
from tests.journey import World, make_din, make_patient
from tracker.models import DonorIdentity, TherapyOrder
from tracker.services.allocations import order_allocate
from tracker.services.donors import donor_register
from tracker.services.orders import order_create

MSC_SPEC = [
    {"test": "viability", "unit": "%", "min": Decimal("80"), "max": None, "expected": ""},
    {"test": "sterility", "unit": "", "min": None, "max": None, "expected": "negative"},
]
MSC_PASSING = {"viability": 93, "sterility": "negative"}
ALL_TESTS = list(DiseaseTest.values)

DONOR_HLA = {"A": ["A*02:01", "A*01:01"], "B": ["B*08:01", "B*44:02"], "C": ["C*07:01"], "DRB1": ["DRB1*15:01"]}
# Shares A*02:01, B*08:01, both C*07:01 copies and one DRB1*15:01 with DONOR_HLA: 5 of 8.
PATIENT_HLA = {
    "A": ["A*02:01", "A*03:01"],
    "B": ["B*08:01", "B*07:02"],
    "C": ["C*07:01"],
    "DRB1": ["DRB1*15:01", "DRB1*04:01"],
}


def msc_product(world: World, code: str = "msc-x", **overrides: object) -> Product:
    fields: dict = {
        "code": code,
        "name": f"MSC {code}",
        "modality": Modality.MSC,
        "source": Source.ALLOGENEIC,
        "gene_modified": False,
        "cryopreserved": True,
        "shelf_life_days": 365,
        "shelf_life_after_thaw_minutes": 180,
        "storage_max_temp_c": Decimal("-135"),
        "required_donor_tests": ALL_TESTS,
        "manufacturing_facility": world.factory_site,
    }
    fields.update(overrides)
    protocol = MonitoringProtocol.objects.get(code="msc_standard")
    return product_create(actor=world.coordinator, monitoring_protocol=protocol, release_spec=MSC_SPEC, **fields)


def register_donor(world: World, *, hla: dict | None = None, family_name: str = "Donovan") -> DonorIdentity:
    return donor_register(
        actor=world.coordinator,
        facility=world.collection_site,
        given_name="Dana",
        family_name=family_name,
        birth_date=timezone.now().date() - timedelta(days=365 * 30),
        sex="female",
        phone="+1 555 0100",
        hla=DONOR_HLA if hla is None else hla,
    )


def screen(world: World, donor: Donor, *, at: datetime | None = None) -> None:
    for kind in ("history", "physical"):
        donor_screening_record(
            actor=world.coordinator,
            donor_id=donor.pk,
            kind=kind,
            outcome="acceptable",
            performed_at=at or timezone.now() - timedelta(days=3),
        )


def record_tests(
    world: World,
    donor: Donor,
    *,
    tests: list[str] | None = None,
    result: str = "negative",
    sampled_at: datetime | None = None,
) -> None:
    for test in ALL_TESTS if tests is None else tests:
        donor_test_record(
            actor=world.integration,
            donor_id=donor.pk,
            test=test,
            result=result,
            sampled_at=sampled_at or timezone.now() - timedelta(days=2),
        )


def donor_qa(world: World):
    """QA of the collection site (and the factory): holds the donor's records before any cells move."""
    return UserFactory(username="qa-donors", roles=[Role.QA], facilities=[world.collection_site, world.factory_site])


def determine(world: World, donor: Donor, determination: str = "eligible", signer=None) -> None:
    donor_determine(
        donor_id=donor.pk,
        signer=signer or donor_qa(world),
        determination=determination,
        password=world.password,
        meaning=f"Donor {determination}: screening and testing reviewed",
    )


def eligible_donor(world: World, **kwargs: object) -> Donor:
    """A donor screened, tested negative for everything and determined eligible by QA."""
    donor = register_donor(world, **kwargs).donor  # type: ignore[arg-type]
    screen(world, donor)
    record_tests(world, donor)
    determine(world, donor)
    donor.refresh_from_db()
    return donor


def donor_collection(
    world: World, donor: Donor, product: Product, *, at: datetime | None = None, method: str = "bone_marrow"
) -> Collection:
    return collection_record(
        actor=world.coordinator,
        donor=donor,
        product=product,
        din=make_din(),
        facility=world.collection_site,
        collected_at=at or timezone.now() - timedelta(days=1),
        method=method,
        volume_ml=Decimal("50"),
    )


_lots = iter(range(1, 1_000_000))


def donor_batch(
    world: World,
    collection: Collection,
    *,
    units: int = 3,
    release: bool = True,
    expiries: list[datetime] | None = None,
) -> tuple[Batch, list[Unit]]:
    """A batch of `units` units from the collection, QC passed and (by default) released by QA."""
    n = next(_lots)
    batch = batch_create(
        actor=world.manufacturing,
        collection=collection,
        lot_number=f"MSC-LOT-{n:04d}",
        facility=world.factory_site,
        started_at=min(collection.collected_at + timedelta(hours=2), timezone.now()),
    )
    made = [
        unit_create(
            actor=world.manufacturing,
            batch_id=batch.id,
            unit_id=f"MSC-{n:04d}-{i:02d}",
            dose_cells=100_000_000,
            volume_ml=Decimal("20"),
            expires_at=(expiries[i - 1] if expiries else timezone.now() + timedelta(days=300 - i)),
            storage_location=f"Dewar 1 / rack A / {i}",
        )
        for i in range(1, units + 1)
    ]
    for test, value in MSC_PASSING.items():
        qc_result_record(actor=world.manufacturing, batch_id=batch.id, test=test, value=value, tested_at=timezone.now())
    if release:
        batch_release(batch_id=batch.id, signer=world.qa, password=world.password, meaning="Released")
    batch.refresh_from_db()
    return batch, [Unit.objects.get(pk=u.pk) for u in made]


def inventory(world: World, product: Product | None = None, **kwargs: object) -> tuple[Product, Donor, list[Unit]]:
    """An MSC product, an eligible donor and a released batch of its units in inventory at the factory."""
    product = product or Product.objects.filter(code="msc-x").first() or msc_product(world)
    donor = eligible_donor(world)
    _, units = donor_batch(world, donor_collection(world, donor, product), **kwargs)  # type: ignore[arg-type]
    return product, donor, units


_patients = iter(range(1, 1_000_000))


def msc_order(world: World, product: Product, *, hla: dict | None = None) -> TherapyOrder:
    patient = make_patient(world, mrn=f"MRN-A{next(_patients):05d}")
    if hla is not None:
        patient.hla = hla
        patient.save(update_fields=["hla"])
    return order_create(actor=world.clinician, patient=patient, product=product)


def allocate(world: World, order: TherapyOrder, unit: Unit | None = None):
    return order_allocate(actor=world.clinician, order_id=order.pk, unit_id=unit.unit_id if unit else None)
