"""Each generated patient's journey, planned before anything is written: who, where, and the moment of every
step from the order to the infusion, the toxicity course, and a death if one comes.

A journey is planned whole, some of it in the future: what happened by `now` is written, the rest is not yet.
So a patient whose infusion is planned next week stands today at the stage the calendar says (collected, in
manufacturing, released, shipped...). Every draw comes from the patient's own random generator, seeded from
the load's seed and the patient's number: the same seed gives the same programme, row for row.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from products.models import Facility
from tracker.loadgen.world import LoadProduct, World

# The programme's span: the earliest infusion is this long before now (15 years of follow-up).
PROGRAMME_DAYS = 15 * 365
# Infusions per year grow as a programme matures: days_ago = span * u ** GROWTH puts more of them near now.
GROWTH = 1.5
# Share of patients still on their way to the infusion (planned up to PIPELINE_DAYS ahead).
PIPELINE_SHARE = 0.06
PIPELINE_DAYS = 34  # every one of them is ordered already (ORDER_DAYS before the infusion)
# Share of infused patients who die during follow-up, and the mean time to death (days).
DEATH_SHARE = 0.08
DEATH_MEAN_DAYS = 600
# Share of patients under 12 (paediatric ALL): ICANS is graded with the CAPD for them (ASTCT 2019).
CHILD_SHARE = 0.05

# The journey's steps, in days before the infusion (a typical autologous CAR-T vein-to-vein time of ~5 weeks).
ORDER_DAYS = 35
COLLECTION_DAYS = 28
BATCH_DAYS = 26
STEP_EVERY_DAYS = 3
QC_DAYS = 12
RELEASE_DAYS = 10
SHIP_DAYS = 5

GIVEN = [
    "Ada",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elif",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Lars",
    "Maya",
    "Nikhil",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Ugo",
    "Vera",
    "Wen",
    "Yusuf",
    "Zoë",
]
FAMILY = [
    "Andersen",
    "Baptiste",
    "Castro",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zimmermann",
]


@dataclass
class Episode:
    """A toxicity episode (CRS or ICANS): its worst grade, when it starts and ends after the infusion (hours)."""

    grade: int
    onset_h: float
    end_h: float

    def grade_at(self, hours: float) -> int:
        """The grade at a time after the infusion: rising to the peak, then easing off before it ends."""
        if self.grade == 0 or not self.onset_h <= hours < self.end_h:
            return 0
        third = (self.end_h - self.onset_h) / 3
        return self.grade if self.onset_h + third <= hours < self.end_h - third else max(1, self.grade - 1)


@dataclass
class Journey:
    index: int
    rng: random.Random
    hospital: Facility
    collection_site: Facility
    factory: Facility
    product: LoadProduct
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    weight_kg: Decimal
    infused_at: datetime
    crs: Episode
    icans: Episode
    died_at: datetime | None
    # Ids of the rows other families point at, reserved when the plan is made.
    patient_id: int = 0
    chain_id: int = 0
    order_id: int = 0
    batch_id: int = 0
    unit_pk: int = 0
    administration_id: int = 0
    qc_ids: list[int] = field(default_factory=list)
    release_signature_id: int | None = None
    verification_signature_id: int | None = None
    coi: str = ""
    # Written by the families for the ones after them.
    first_assessment_id: int = 0
    assessments: int = 0
    visits: list[tuple[date, int]] = field(default_factory=list)
    death_visit_id: int | None = None

    # The moments of the journey (see the module's docstring: some may be after now).
    @property
    def ordered_at(self) -> datetime:
        return self.infused_at - timedelta(days=ORDER_DAYS)

    @property
    def collected_at(self) -> datetime:
        return self.infused_at - timedelta(days=COLLECTION_DAYS)

    @property
    def batch_started_at(self) -> datetime:
        return self.infused_at - timedelta(days=BATCH_DAYS)

    @property
    def qc_at(self) -> datetime:
        return self.infused_at - timedelta(days=QC_DAYS)

    @property
    def released_at(self) -> datetime:
        return self.infused_at - timedelta(days=RELEASE_DAYS)

    @property
    def shipped_at(self) -> datetime:
        return self.infused_at - timedelta(days=SHIP_DAYS)

    @property
    def dead_on_record(self) -> bool:
        return self.died_at is not None


def _episode(rng: random.Random, grades: list[float], onset_mean_h: float, days: tuple[int, int]) -> Episode:
    grade = rng.choices(range(len(grades)), weights=grades)[0]
    onset = min(max(rng.gauss(onset_mean_h, 48), 6), 13 * 24)
    return Episode(grade=grade, onset_h=onset, end_h=onset + rng.uniform(*days) * 24)


# Worst grades after CAR-T (pivotal trials and real-world series, ASTCT grading): CRS in most patients, mostly
# grade 1-2; ICANS in about a third. Median onset day 5 for CRS and day 7 for ICANS. (tracker.rules.monitoring)
CRS_GRADES = {True: [0.25, 0.45, 0.20, 0.08, 0.02], False: [0.70, 0.25, 0.05, 0.0, 0.0]}
ICANS_GRADES = {True: [0.65, 0.12, 0.12, 0.09, 0.02], False: [0.95, 0.05, 0.0, 0.0, 0.0]}


def plan_journey(index: int, *, seed: int, now: datetime, world: World, hospital_weights: list[float]) -> Journey:
    rng = random.Random(f"{seed}:{index}")  # noqa: S311 (synthetic data, not secrets)
    hospital_at = rng.choices(range(len(world.hospitals)), weights=hospital_weights)[0]
    hospital = world.hospitals[hospital_at]
    product = rng.choices(world.products, weights=[p.share for p in world.products])[0]
    if rng.random() < PIPELINE_SHARE:
        infused_at = now + timedelta(seconds=rng.randrange(3600, PIPELINE_DAYS * 86400))
    else:
        infused_at = now - timedelta(seconds=int(PROGRAMME_DAYS * 86400 * rng.random() ** GROWTH) + 3600)
    child = rng.random() < CHILD_SHARE
    age_days = rng.randrange(3 * 365, 11 * 365) if child else rng.randrange(18 * 365, 80 * 365)
    died_at = None
    if infused_at < now and rng.random() < DEATH_SHARE:
        died_at = infused_at + timedelta(days=20 + rng.expovariate(1 / DEATH_MEAN_DAYS))
        died_at = died_at if died_at < now else None
    car_t = product.product.modality == "car_t"
    return Journey(
        index=index,
        rng=rng,
        hospital=hospital,
        collection_site=world.collection_sites[hospital_at % len(world.collection_sites)],
        factory=world.factories[index % len(world.factories)],
        product=product,
        mrn=f"{hospital.fin}-{index:07d}",
        given_name=rng.choice(GIVEN),
        family_name=rng.choice(FAMILY),
        birth_date=(infused_at - timedelta(days=age_days)).date(),
        sex=rng.choice(["female", "male"]),
        weight_kg=Decimal(rng.randrange(180, 1100) if child else rng.randrange(450, 1200)) / 10,
        infused_at=infused_at,
        crs=_episode(rng, CRS_GRADES[car_t], 4.5 * 24, (2, 8)),
        icans=_episode(rng, ICANS_GRADES[car_t], 7 * 24, (2, 6)),
        died_at=died_at,
    )


def hospital_weights(world: World) -> list[float]:
    """Zipf's law: the busiest referral centre treats twice as many as the second, three times the third..."""
    return [1 / rank for rank in range(1, len(world.hospitals) + 1)]
