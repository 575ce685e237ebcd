"""Demo patients and chains at every stage of the journey (DEBUG only: the names are invented)."""

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from products.demo import CART_PASSING, demo_password
from products.models import Facility, Product
from products.rules.isbt128 import check_character
from products.services import batches as batch_services
from products.services.collections import collection_record
from products.services.units import custody_record, unit_create
from tracker.models import Patient, TherapyOrder
from tracker.services.orders import order_create, patient_create

# (mrn, given, family, birth date, sex, kg, stage)
DEMO_PATIENTS = [
    ("CH-100001", "Maria", "Santos", date(1968, 4, 12), "female", "64.5", "ordered"),
    ("CH-100002", "James", "Okafor", date(1975, 9, 3), "male", "82.0", "collected"),
    ("CH-100003", "Lena", "Fischer", date(1959, 1, 27), "female", "58.2", "manufacturing"),
    ("CH-100004", "Tomás", "Ruiz", date(1981, 11, 8), "male", "77.4", "quarantine"),
    ("CH-100005", "Aiko", "Tanaka", date(1990, 6, 19), "female", "55.0", "released"),
    ("CH-100006", "Samuel", "Berg", date(1963, 2, 2), "male", "90.1", "shipped"),
    ("CH-100007", "Priya", "Nair", date(1972, 8, 30), "female", "61.7", "stored"),
    ("CH-100008", "Oliver", "Grant", date(1955, 12, 14), "male", "73.9", "thawed"),
]
STAGES = ["ordered", "collected", "manufacturing", "quarantine", "released", "shipped", "stored", "thawed"]


class Actors:
    def __init__(self) -> None:
        users = get_user_model().objects
        self.coordinator = users.get(username="coordinator")
        self.clinician = users.get(username="clinician")
        self.qa = users.get(username="qa")
        self.manufacturing = users.get(username="manufacturing")
        self.integration = users.get(username="integration")


def seed_chains(products: dict[str, Product], facilities: dict[str, Facility]) -> int:
    actors = Actors()
    hospital = facilities["city-hospital"]
    created = 0
    for index, (mrn, given, family, born, sex, kg, stage) in enumerate(DEMO_PATIENTS, start=1):
        if Patient.objects.filter(facility=hospital, mrn=mrn).exists():
            continue
        patient = patient_create(
            actor=actors.coordinator,
            facility=hospital,
            mrn=mrn,
            given_name=given,
            family_name=family,
            birth_date=born,
            sex=sex,
            weight_kg=Decimal(kg),
        )
        order = order_create(actor=actors.clinician, patient=patient, product=products["demo-cart"])
        _advance(order, STAGES.index(stage), index, actors, facilities)
        created += 1
    return created


def _advance(order: TherapyOrder, stage: int, index: int, actors: Actors, facilities: dict[str, Facility]) -> None:
    now = timezone.now()
    # Later stages started longer ago, so the story reads forwards in time.
    start = now - timedelta(days=6 + 4 * stage)
    steps: list[Callable[[], object]] = []
    context: dict[str, object] = {}

    def collect() -> None:
        number = f"W1234{now.year % 100:02d}{100000 + index:06d}"
        collection_record(
            actor=actors.coordinator,
            chain=order.chain,
            din=number + check_character(number),
            facility=facilities["north-apheresis"],
            collected_at=start,
            method="apheresis",
            volume_ml=Decimal("260"),
            total_nucleated_cells=9_800_000_000,
            cd3_cells=4_100_000_000,
        )

    def manufacture() -> None:
        batch = batch_services.batch_create(
            actor=actors.manufacturing,
            chain=order.chain,
            lot_number=f"DEMO-{order.chain.coi}",
            facility=facilities["cellworks-mfg"],
            started_at=start + timedelta(days=1),
        )
        for offset, kind in enumerate(["selection", "activation", "transduction", "expansion"]):
            batch_services.batch_step_record(
                actor=actors.manufacturing,
                batch_id=batch.id,
                kind=kind,
                started_at=start + timedelta(days=1 + offset),
                ended_at=start + timedelta(days=1 + offset, hours=6),
                parameters={"demo": True},
            )
        context["batch"] = batch

    def finish_and_test() -> None:
        batch = context["batch"]
        for offset, kind in enumerate(["harvest", "formulation", "cryopreservation"]):
            batch_services.batch_step_record(
                actor=actors.manufacturing,
                batch_id=batch.id,
                kind=kind,
                started_at=start + timedelta(days=5, hours=offset),
                ended_at=start + timedelta(days=5, hours=offset + 1),
            )
        context["unit"] = unit_create(
            actor=actors.manufacturing,
            batch_id=batch.id,
            unit_id=f"{order.chain.coi}-01",
            dose_cells=150_000_000,
            volume_ml=Decimal("68"),
            expires_at=now + timedelta(days=200),
        )
        for test, value in CART_PASSING.items():
            batch_services.qc_result_record(
                actor=actors.manufacturing,
                batch_id=batch.id,
                test=test,
                value=value,
                tested_at=start + timedelta(days=6),
            )

    def release() -> None:
        batch_services.batch_release(
            batch_id=context["batch"].id,
            signer=actors.qa,
            password=demo_password("qa"),
            meaning="Released for infusion: QC complete and within specification",
        )

    def custody(event: str, actor_name: str, facility: str, days: float, temperature: str | None) -> Callable:
        def record() -> None:
            custody_record(
                actor=getattr(actors, actor_name),
                unit_id=context["unit"].unit_id,
                event=event,
                at=now - timedelta(days=days),
                facility=facilities[facility],
                temperature_c=Decimal(temperature) if temperature is not None else None,
            )

        return record

    steps = [
        collect,
        manufacture,
        finish_and_test,
        release,
        custody("shipped", "integration", "city-hospital", 2, "-150"),
        custody("received", "clinician", "city-hospital", 1, "-148"),
        custody("stored", "clinician", "city-hospital", 0.9, "-160"),
        custody("thawed", "clinician", "city-hospital", 0.01, None),
    ]
    # The stages map onto steps: collected=1, manufacturing=2, quarantine=3, released=4, shipped=5, stored=7, thawed=8.
    todo = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 7, 7: 8}[stage]
    for step in steps[:todo]:
        step()
