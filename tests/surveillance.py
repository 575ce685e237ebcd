"""A known data set for post-market surveillance, built through the real services, whose figures the tests compute
by hand (see each test). Everything happens relative to AS_OF, a fixed moment the tests travel to, so that "this
year" and every deadline mean the same on any day the suite runs.

Product A (`cart-x`) and product B (`cart-y`), both on car_t_standard. Infusions at about 11:59 UTC of their day;
"dN" below is the calendar day after the infusion (day 0), events at 13:59 of that day.

City Hospital (`hospital`):
- P1, A, infused 60 days before AS_OF (2031-09-16): CRS 1 on d1, CRS 3 on d3 (one vasopressor); ICANS 2 on d4 (ICE 5);
  tocilizumab d3, dexamethasone d4; adverse event CRS grade 3, serious and expected (no expedited deadline), report
  submitted d5: reported on time. Follow-up visit on d29: the day-28 visit done on time.
- P2, A, 40 days before (2031-10-06): CRS 2 on d2 (fluids); tocilizumab d2; infection grade 3, serious and
  unexpected, aware d10 (due d25), submitted d27: reported late. No visit: the day-28 visit missed.
- P3, A, 20 days before (2031-10-26): no CRS; ICANS 1 on d6 (ICE 8); cytopenia grade 4 (serious by definition),
  unexpected, aware d1 (due d16, 4 days before AS_OF), not submitted: overdue. Day-28 visit not due yet.
- P4, A, 10 days before (2031-11-05): CRS 4 and ICANS 3 on d5 (multiple vasopressors, ICE 1); tocilizumab and
  methylprednisolone d5; infusion reaction grade 2, serious and unexpected, aware d0 (due d15, after AS_OF): pending;
  CRS grade 5 (fatal) on d5, aware d6, expected: pending, no deadline. Dead: worst CRS 5.
- P5, A, 400 days before (2030-10-11, last year): CRS 3 on d2 (high-flow oxygen). Visits: d40 (day-28 visit done
  late), d100 (day-100 visit on time; RCV negative), d366 (month-12 visit on time; new malignancy; RCV positive).
  The month-6 visit missed.
- P6, B, 30 days before (2031-10-16): CRS 1 on d3. Visit on d28: done on time.

Elsewhere Hospital (`elsewhere`):
- P7, A, 50 days before: CRS 3 on d2 (one vasopressor).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import time_machine
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from products.choices import Role
from products.models import FacilityMembership, Product
from products.services.units import custody_record
from tests import journey
from tests.factories import UserFactory
from tracker.models import Administration, TherapyOrder
from tracker.services.administrations import administration_record
from tracker.services.clinical import (
    adverse_event_mark_reported,
    adverse_event_record,
    assessment_record,
    follow_up_record,
    intervention_record,
)
from tracker.services.orders import order_create, patient_create

AS_OF = datetime(2031, 11, 15, 12, 0, tzinfo=UTC)
THIS_YEAR = {"since": "2031-01-01", "until": "2031-12-31"}


@dataclass
class DataSet:
    world: journey.World
    product_a: Product
    product_b: Product
    courses: dict[str, tuple[TherapyOrder, Administration]]
    safety: AbstractBaseUser  # safety officer of City Hospital
    safety_elsewhere: AbstractBaseUser  # safety officer of Elsewhere Hospital
    root: AbstractBaseUser  # a superuser


class Course:
    """Records for one infused patient, at day offsets from its infusion (all in the past at AS_OF)."""

    def __init__(self, world: journey.World, order: TherapyOrder, administration: Administration, actor=None):
        self.world, self.order, self.administration = world, order, administration
        self.patient = order.patient
        self.actor = actor or world.clinician

    def at(self, day: int, hours: float = 2) -> datetime:
        moment = self.administration.administered_at + timedelta(days=day, hours=hours)
        assert moment < timezone.now(), "a record must be in the past"
        return moment

    def assess(self, day: int, **measurements: object) -> None:
        assessment_record(actor=self.actor, patient=self.patient, assessed_at=self.at(day), **measurements)

    def treat(self, day: int, kind: str, drug: str) -> None:
        intervention_record(
            actor=self.actor, patient=self.patient, given_at=self.at(day), kind=kind, drug=drug, indication="crs"
        )

    def event(self, *, term: str, grade: int, onset: int, aware: int, serious: bool, expected: bool, **more):
        submitted = more.pop("submitted", None)
        event = adverse_event_record(
            actor=self.actor,
            patient=self.patient,
            term=term,
            grade=grade,
            onset_at=self.at(onset, more.pop("onset_hours", 2)),
            aware_at=self.at(aware, more.pop("aware_hours", 3)),
            serious=serious,
            expected=expected,
            **more,
        )
        if submitted is not None:
            adverse_event_mark_reported(actor=self.actor, event_id=event.id, at=self.at(submitted))
        return event

    def visit(self, day: int, **fields: object) -> None:
        follow_up_record(actor=self.actor, patient=self.patient, visit_date=self.at(day).date(), **fields)


def infused(world: journey.World, days_ago: int, product: Product) -> Course:
    """A City Hospital patient infused `days_ago` days before now (the journey through the real services)."""
    order, administration = journey.infused_patient(world, days_ago=days_ago, product=product)
    return Course(world, order, administration)


def infused_elsewhere(world: journey.World, days_ago: int, product: Product) -> Course:
    """An Elsewhere Hospital patient: its own coordinator and clinician, the integration user to move the bag."""
    integration = world.integration
    FacilityMembership.objects.get_or_create(user=integration, facility=world.other_hospital)
    integration.__dict__.pop("_facility_ids_cache", None)
    verifier = UserFactory(username="coord-else", roles=[Role.COORDINATOR], facilities=[world.other_hospital])
    hospital = world.other_hospital
    with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=True):
        patient = patient_create(
            actor=integration,
            facility=hospital,
            mrn="ELSE-P7",
            given_name="Emmy",
            family_name="Noether",
            birth_date=timezone.now().date() - timedelta(days=365 * 50),
            sex="female",
            weight_kg=Decimal("60"),
            weighed_on=timezone.now().date() - timedelta(days=3),
        )
        order = order_create(actor=integration, patient=patient, product=product)
        unit = journey.released_unit(world, order, unit_id="UNIT-ELSE-P7")
        now = timezone.now()
        for event, at, temperature in (
            ("shipped", now - timedelta(hours=30), Decimal("-150")),
            ("received", now - timedelta(hours=6), Decimal("-150")),
            ("stored", now - timedelta(hours=5), Decimal("-160")),
            ("thawed", now - timedelta(minutes=10), None),
        ):
            custody_record(
                actor=integration,
                unit_id=unit.unit_id,
                event=event,
                at=at,
                facility=hospital,
                temperature_c=temperature,
            )
        administration = administration_record(
            actor=world.other_clinician,
            coi=order.coi,
            unit_id=unit.unit_id,
            administered_at=timezone.now() - timedelta(minutes=1),
            route="iv_infusion",
            scanned_unit=unit.unit_id,
            scanned_patient=patient.mrn,
            scanned_birth_date=patient.birth_date,
            verifier_username=verifier.username,
            verifier_password=world.password,
        )
    return Course(world, order, administration, actor=world.other_clinician)


FEVER = {"temperature_c": Decimal("38.6")}


def build() -> DataSet:
    """The data set above (call it with the clock at AS_OF)."""
    world = journey.build_world()
    product_a = journey.make_product(world, code="cart-x")
    product_b = journey.make_product(world, code="cart-y")

    p1 = infused(world, 60, product_a)
    p1.assess(1, **FEVER)
    p1.assess(3, temperature_c=Decimal("39.0"), hypotension="one_vasopressor")
    p1.assess(4, temperature_c=Decimal("37.0"), ice_score=5)
    p1.treat(3, "tocilizumab", "tocilizumab")
    p1.treat(4, "corticosteroid", "dexamethasone")
    p1.event(term="crs", grade=3, onset=1, aware=1, serious=True, expected=True, submitted=5)
    p1.visit(29)

    p2 = infused(world, 40, product_a)
    p2.assess(2, temperature_c=Decimal("38.8"), hypotension="fluids")
    p2.assess(3, temperature_c=Decimal("37.0"), ice_score=10)
    p2.treat(2, "tocilizumab", "tocilizumab")
    p2.event(term="infection", grade=3, onset=10, aware=10, serious=True, expected=False, submitted=27)

    p3 = infused(world, 20, product_a)
    p3.assess(1, temperature_c=Decimal("37.2"), ice_score=10)
    p3.assess(6, temperature_c=Decimal("37.1"), ice_score=8)
    p3.event(term="cytopenia", grade=4, onset=1, aware=1, serious=False, expected=False)

    p4 = infused(world, 10, product_a)
    p4.assess(5, temperature_c=Decimal("39.5"), hypotension="multiple_vasopressors", ice_score=1)
    p4.treat(5, "tocilizumab", "tocilizumab")
    p4.treat(5, "corticosteroid", "methylprednisolone")
    p4.event(
        term="infusion_reaction", grade=2, onset=0, aware=0, serious=True, expected=False, onset_hours=1, aware_hours=2
    )
    p4.event(term="crs", grade=5, onset=5, aware=6, serious=True, expected=True)

    p5 = infused(world, 400, product_a)
    p5.assess(2, temperature_c=Decimal("38.5"), hypoxia="high_flow")
    p5.visit(40)
    p5.visit(100, rcv_result="negative", disease_response="cr")
    p5.visit(366, rcv_result="positive", new_malignancy=True, malignancy_description="T-cell lymphoma")

    p6 = infused(world, 30, product_b)
    p6.assess(3, temperature_c=Decimal("38.2"))
    p6.visit(28)

    p7 = infused_elsewhere(world, 50, product_a)
    p7.assess(2, temperature_c=Decimal("39.0"), hypotension="one_vasopressor")

    return DataSet(
        world=world,
        product_a=product_a,
        product_b=product_b,
        courses={
            name: (c.order, c.administration) for name, c in zip("1234567", (p1, p2, p3, p4, p5, p6, p7), strict=True)
        },
        safety=UserFactory(username="safety", roles=[Role.SAFETY], facilities=[world.hospital]),
        safety_elsewhere=UserFactory(username="safety-else", roles=[Role.SAFETY], facilities=[world.other_hospital]),
        root=UserFactory(username="root", is_superuser=True, is_staff=True),
    )


class _PageReader(HTMLParser):
    """The figures the surveillance page marks with `data-figure`, and the rows of its tables (`data-chart` or
    `data-table`), as text."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self._open: list[tuple[str, str | None]] = []  # (tag, figure name)
        self._texts: dict[int, list[str]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._table = found.get("data-chart") or found.get("data-table")
            if self._table:
                self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        if tag in ("br", "img", "input", "rect", "line"):
            return
        self._open.append((tag, found.get("data-figure")))
        if found.get("data-figure"):
            self._texts[len(self._open)] = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        while self._open:
            depth = len(self._open)
            open_tag, figure = self._open.pop()
            if figure:
                self.figures[figure] = " ".join("".join(self._texts.pop(depth)).split())
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for texts in self._texts.values():
            texts.append(data)
        if self._cell is not None:
            self._cell.append(data)


def read_page(html: str) -> _PageReader:
    reader = _PageReader()
    reader.feed(html)
    return reader
