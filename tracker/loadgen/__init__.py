"""The load generator (`manage.py generate_load`): a national programme's data at scale, written by COPY.

Every journey is planned first (tracker.loadgen.plan), then each family writes the rows of a few related
tables for all of them, in FAMILIES order: a family may read what an earlier one wrote on the journeys
(reserved ids, the first assessment, the visits).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from products.selectors import protocol_step_rules
from tracker.loadgen import clinical_families, monitoring_families, product_families, story_families
from tracker.loadgen.copy import bulk_session
from tracker.loadgen.load import Family, Load
from tracker.loadgen.plan import Journey, hospital_weights, plan_journey
from tracker.loadgen.world import World, build_world
from tracker.models import Administration, Patient

# A story patient was infused this long ago, so a long story spreads over months (and follow-up continues).
STORY_INFUSED_DAYS = 400


def reserve_patient_ids(load: Load) -> None:
    """Ids every later family points at: the patient's and the infusion's."""
    for j in load.everyone:
        j.patient_id = load.take(Patient)
        j.administration_id = load.take(Administration)


FAMILIES: list[Family] = [
    reserve_patient_ids,
    product_families.reserve_ids,
    # Signatures first: batches point at their release signature, administrations at their verification.
    product_families.signatures,
    clinical_families.patients,
    product_families.chains,
    product_families.collections,
    product_families.manufacturing,
    product_families.units,
    clinical_families.administrations,
    clinical_families.toxicity,
    clinical_families.adverse_events,
    clinical_families.follow_ups,
    monitoring_families.schedules,
    story_families.story_events,
]


@dataclass(frozen=True)
class Generated:
    load: Load
    rows: dict[str, int]
    seconds: float

    @property
    def story_patients(self) -> dict[int, int]:
        """Patient id of each long story, by its number of extra events."""
        return {events: j.patient_id for events, j in self.load.stories.items()}


def _story_journey(index: int, *, seed: int, now: datetime, load_world: World, weights: list[float]) -> Journey:
    """A patient of the first hospital infused STORY_INFUSED_DAYS ago and alive today (the plan draws anything)."""
    j = plan_journey(index, seed=seed, now=now, world=load_world, hospital_weights=weights)
    j.infused_at = now - timedelta(days=STORY_INFUSED_DAYS)
    j.birth_date = (j.infused_at - timedelta(days=50 * 365)).date()
    j.died_at = None
    # At the busiest hospital, all of them: one clinician reads every story.
    j.hospital, j.collection_site = load_world.hospitals[0], load_world.collection_sites[0]
    j.mrn = f"{j.hospital.fin}-{index:07d}"
    return j


def generate(
    *,
    patients: int,
    now: datetime,
    seed: int = 1,
    due: int = 10_000,
    stories: tuple[int, ...] = (5_000,),
    audit: bool = False,
) -> Generated:
    """Plan and write `patients` journeys (and one long story per entry of `stories`) in one transaction."""
    import time

    started = time.perf_counter()
    with bulk_session(audit=audit) as copier:
        world = build_world()
        weights = hospital_weights(world)
        journeys = [plan_journey(n, seed=seed, now=now, world=world, hospital_weights=weights) for n in range(patients)]
        load = Load(now=now, seed=seed, world=world, copier=copier, journeys=journeys, due=due)
        for k, events in enumerate(stories):
            load.stories[events] = _story_journey(patients + k, seed=seed, now=now, load_world=world, weights=weights)
        # Rows are generated while a COPY streams, when the connection can run no query: what the families read
        # from the database is read now.
        for product in world.products:
            protocol_id = product.product.monitoring_protocol_id
            load.cache[("rules", protocol_id)] = protocol_step_rules(protocol_id)
        for family in FAMILIES:
            family(load)
        copier.cursor.execute("ANALYZE")
    return Generated(load=load, rows=dict(copier.rows), seconds=time.perf_counter() - started)
