"""A known data set for the coordinators' board, built through the real services at known times, with the figures
worked out by hand (EXPECTED). Times are days from T0, the moment the board is read (a whole second, near the real
time: a browser keeps the session only if the server's clock agrees with its own).

| chain | product | what happened (days from T0)                             | stage         | since    | late       |
|-------|---------|----------------------------------------------------------|---------------|----------|------------|
| c1    | A       | ordered -20                                              | ordered       | -20      | yes (14 d) |
| c2    | A       | ordered -10                                              | ordered       | -10      | no         |
| c3    | A       | ordered -12, collected -5                                | collected     | -5       | yes (3 d)  |
| c4    | A       | collected -10, batch started -4                          | manufacturing | -4       | no         |
| c5    | A       | batch started -20, complete -9, 2 of 4 QC tests -8       | quarantine    | -9       | yes (7 d)  |
| c6    | A       | batch started -20, QC passed -2 (to quarantine)          | quarantine    | -2       | no         |
| c7    | A       | released -1, bag at the factory expiring +5, held -0.5   | released      | -1       | no         |
| c8    | A       | released -6, shipped -3                                  | shipped       | -3       | yes (2 d)  |
| c8b   | B       | released -6, shipped -3 (B allows 4 days in transit)     | shipped       | -3       | no         |
| c9    | A       | shipped -3, received -2, stored -2 + 1 h                 | at site       | -2 + 1 h | no         |
| c10   | A       | delivered, thawed 2 h ago                                | thawed        | -2 h     | no         |
| c11   | A       | collected -35, infused -5                                | administered  | -5       | never      |
| c12   | A       | collected -55, infused -30 (past 14 days: off the board) | -             |          |            |
| c13   | A       | collected -80, infused -60                               | -             |          |            |
| c14   | A       | ordered -3, planned, cancelled -2                        | -             |          |            |
| c15   | B       | collected -40, infused -21.5                             | -             |          |            |
| other | A       | another hospital's chain, another factory                |               |          |            |

Vein-to-vein (collection to first infusion): A: c11 30.0, c12 25.0, c13 20.0 -> n 3, median 25.0, 20.0 to 30.0;
B: c15 18.5. From T0 - 40 days: A: c11, c12 -> n 2, median 27.5; B: c15 (infused -21.5).
Plans (next 7 days = T0's day and the six after): c9 conditioning +1 and infusion +6, c8 conditioning -2 and
infusion +3, c6 infusion +7 (outside), c11 and c14 planned within the window but infused or cancelled since.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import time_machine
from django.utils import timezone

from products.choices import Severity
from products.models import Batch, Product, Unit
from products.services.batches import batch_complete, batch_create, qc_result_record
from products.services.chains import chain_cancel
from products.services.holds import hold_open
from products.services.units import custody_record
from tests import journey
from tests.factories import UserFactory
from tracker.models import Reminder, TherapyOrder
from tracker.services.clinical import adverse_event_mark_reported, adverse_event_record
from tracker.services.planning import order_plan

EXPECTED: dict[str, Any] = {
    "stages": {
        "ordered": 2,
        "collected": 1,
        "manufacturing": 1,
        "quarantine": 2,
        "released": 1,
        "shipped": 2,
        "at_site": 1,
        "thawed": 1,
        "administered": 1,
    },
    # by due time (since + expected days), the longest overdue first; c3 and c5 are both due at -2: by COI
    "late": ["c1", "c3", "c5", "c8"],
    "awaiting_qc": 1,
    "awaiting_release": 1,
    "open_holds": 1,
    "units_in_transit": 2,
    "units_expiring": 1,
    "conditioning_next_7_days": 1,
    "infusions_next_7_days": 2,
    "reminders": {"urgent": 2, "routine": 1},
    "reports_due": 2,
    "vein_to_vein_days": {
        "cart-a": {"n": 3, "median": 25.0, "min": 20.0, "max": 30.0},
        "cart-b": {"n": 1, "median": 18.5, "min": 18.5, "max": 18.5},
    },
}
EXPECTED_FROM_40_DAYS = {
    "cart-a": {"n": 2, "median": 27.5, "min": 25.0, "max": 30.0},
    "cart-b": {"n": 1, "median": 18.5, "min": 18.5, "max": 18.5},
}


@dataclass
class BoardData:
    world: journey.World
    t0: datetime
    a: Product
    b: Product
    orders: dict[str, TherapyOrder] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    batches: dict[str, Batch] = field(default_factory=dict)
    other_coordinator: Any = None

    def at(self, days: float) -> datetime:
        return self.t0 + timedelta(days=days)

    def coi(self, name: str) -> str:
        return self.orders[name].chain.coi


def build(world: journey.World | None = None) -> BoardData:
    world = world or journey.build_world()
    t0 = timezone.now().replace(microsecond=0)
    data = BoardData(world=world, t0=t0, a=None, b=None)  # type: ignore[arg-type]
    sequence = iter(range(1, 1000))

    @contextmanager
    def on(days: float) -> Iterator[None]:
        with time_machine.travel(data.at(days), tick=False):
            yield

    with on(-200):
        data.a = journey.make_product(world, code="cart-a")
        data.b = journey.make_product(world, code="cart-b", stage_days_shipped=4)

    def order(name: str, days: float, product: Product | None = None) -> TherapyOrder:
        with on(days):
            patient = journey.make_patient(world, mrn=f"MRN-BOARD-{next(sequence):03d}")
            data.orders[name] = journey.make_order(world, product=product or data.a, patient=patient)
        return data.orders[name]

    def collect(name: str, days: float) -> None:
        with on(days):
            journey.collect(world, data.orders[name], at=data.at(days))

    def start(name: str, days: float) -> Batch:
        with on(days):
            data.batches[name] = batch_create(
                actor=world.manufacturing,
                chain=data.orders[name].chain,
                lot_number=f"LOT-{name.upper()}",
                facility=world.factory_site,
                started_at=data.at(days),
            )
        return data.batches[name]

    def qc(name: str, days: float, tests: dict | None = None) -> None:
        with on(days):
            for test, value in (tests or journey.PASSING_QC).items():
                qc_result_record(
                    actor=world.manufacturing,
                    batch_id=data.batches[name].id,
                    test=test,
                    value=value,
                    tested_at=data.at(days),
                )

    def bag(name: str, days: float, **overrides: object) -> Unit:
        with on(days):
            data.units[name] = journey.make_unit(world, data.batches[name], unit_id=f"BAG-{name.upper()}", **overrides)
        return data.units[name]

    def release(name: str, days: float) -> None:
        with on(days):
            journey.release(world, data.batches[name])

    def released(name: str, ordered: float, released_at: float, product: Product | None = None, **unit: object) -> None:
        order(name, ordered, product)
        collect(name, ordered + 1)
        start(name, ordered + 2)
        bag(name, ordered + 3, **unit)
        qc(name, released_at - 0.5)
        release(name, released_at)

    def custody(name: str, event: str, days: float, facility: Any, temperature: str | None = "-150") -> None:
        actor = world.integration if event == "shipped" else world.clinician
        with on(days):
            custody_record(
                actor=actor,
                unit_id=data.units[name].unit_id,
                event=event,
                at=data.at(days),
                facility=facility,
                temperature_c=Decimal(temperature) if temperature else None,
            )

    def plan(name: str, days: float, conditioning: int | None, infusion: int | None) -> None:
        today = timezone.localdate(data.t0)
        with on(days):
            order_plan(
                actor=world.coordinator,
                order_id=data.orders[name].id,
                planned_conditioning_on=today + timedelta(days=conditioning) if conditioning is not None else None,
                planned_infusion_on=today + timedelta(days=infusion) if infusion is not None else None,
            )

    def infused(
        name: str, collected: float, infused_at: float, product: Product | None = None, planned: bool = False
    ) -> None:
        order(name, collected - 1, product)
        collect(name, collected)
        start(name, collected + 1)
        bag(name, collected + 2)
        qc(name, infused_at - 3)
        release(name, infused_at - 2)
        if planned:  # planned within the board's next 7 days, then infused before them
            plan(name, infused_at - 1, 2, 4)
        with on(infused_at):
            journey.deliver(world, data.units[name])  # shipped 30 h, received 6 h, stored 5 h, thawed 10 min before
            journey.administer(world, data.orders[name], data.units[name], at=data.at(infused_at))

    # The pipeline.
    order("c1", -20)
    order("c2", -10)
    order("c3", -12)
    collect("c3", -5)
    order("c4", -12)
    collect("c4", -10)
    start("c4", -4)
    order("c5", -30)
    collect("c5", -28)
    start("c5", -20)
    with on(-9):  # made: to quarantine (a first QC result does the same)
        batch_complete(actor=world.manufacturing, batch_id=data.batches["c5"].id)
    qc("c5", -8, {"viability": 92, "cd3_purity": 95})
    order("c6", -30)
    collect("c6", -28)
    start("c6", -20)
    qc("c6", -2)  # the first result of the finished product puts the batch in quarantine
    released("c7", -30, -1, expires_at=data.at(5))
    with on(-0.5):
        hold_open(actor=world.qa, kind="deviation", reason="Label check", unit_id=data.units["c7"].unit_id)
    released("c8", -30, -6)
    custody("c8", "shipped", -3, world.hospital)
    released("c8b", -30, -6, product=data.b)
    custody("c8b", "shipped", -3, world.hospital)
    released("c9", -30, -6)
    custody("c9", "shipped", -3, world.hospital)
    custody("c9", "received", -2, world.hospital)
    custody("c9", "stored", -2 + 1 / 24, world.hospital, "-160")
    released("c10", -30, -6)
    with on(-2 / 24 + 10 / (24 * 60)):
        journey.deliver(world, data.units["c10"])  # thawed 10 minutes before: 2 h before T0
    infused("c11", -35, -5, planned=True)
    infused("c12", -55, -30)
    infused("c13", -80, -60)
    infused("c15", -40, -21.5, product=data.b)
    order("c14", -3)

    # The plans (set while each chain was open).
    plan("c9", -1, 1, 6)
    plan("c8", -1, -2, 3)
    plan("c6", -1, None, 7)
    plan("c14", -2.5, 1, 2)
    with on(-2):
        chain_cancel(actor=world.coordinator, chain_id=data.orders["c14"].chain_id)

    # Adverse events of c11's patient: serious and unexpected (15 days from awareness, 21 CFR 600.80(c)(1)).
    patient = data.orders["c11"].patient
    with on(-1):
        for aware, serious, reported in (
            (-13, True, False),
            (-20, True, False),
            (-5, True, False),
            (-4, False, False),
            (-20, True, True),
        ):
            event = adverse_event_record(
                actor=world.clinician,
                patient=patient,
                term="infection",
                grade=3,
                onset_at=data.at(aware - 0.5),
                aware_at=data.at(aware),
                serious=serious,
                expected=False,
            )
            if reported:
                adverse_event_mark_reported(actor=world.clinician, event_id=event.id, at=data.at(-1))

    # Reminders as the monitoring scan leaves them (the board only counts them).
    def reminder(key: str, facility: Any, severity: str, status: str = "open", patient: Any = None) -> None:
        Reminder.objects.create(
            kind="check_due",
            dedupe_key=f"board-test:{key}",
            patient=patient,
            facility=facility,
            due_at=data.at(-1),
            severity=severity,
            status=status,
            message=f"Board test {key}",
        )

    reminder("u1", world.hospital, Severity.URGENT, patient=patient)
    reminder("u2", world.hospital, Severity.URGENT, patient=patient)
    reminder("r1", world.collection_site, Severity.ROUTINE)
    reminder("acknowledged", world.hospital, Severity.URGENT, status="acknowledged", patient=patient)
    reminder("elsewhere", world.other_hospital, Severity.URGENT)

    # Another hospital's chain, and a coordinator there.
    with on(-3):
        journey.elsewhere(world, data.a)
    data.other_coordinator = UserFactory(
        username="coord-elsewhere", roles=["coordinator"], facilities=[world.other_hospital], is_staff=True
    )
    world.coordinator.is_staff = True
    world.coordinator.save()
    return data
