"""Where a chain stands on the vein-to-vein pipeline, derived from what is on record. Pure: no database.

The chain's own status says how far the order went (ordered, collected, manufacturing, released, administered);
within manufacturing the batch's status tells making from quarantine, and after release the bags tell where the
product is: still at the factory, on the road, at the treating hospital, thawed. The tables below are the whole
rule: `chain_stage` reads them, and the board's SQL (products.pipeline) is generated from them, so the page, the
API and the admin's list filters cannot disagree with this function.

| chain status  | latest batch                      | bags (the most advanced one decides)          | stage            |
|---------------|-----------------------------------|------------------------------------------------|------------------|
| ordered       | -                                 | -                                             | ordered          |
| collected     | -                                 | -                                             | collected        |
| manufacturing | none yet, in process, or rejected | -                                             | in manufacturing |
| manufacturing | quarantine                        | -                                             | in quarantine    |
| released      | -                                 | none; manufactured, returned; received or     | released         |
|               |                                   | stored anywhere but the treating facility     |                  |
| released      | -                                 | shipped                                       | shipped          |
| released      | -                                 | received or stored at the treating facility   | at site          |
| released      | -                                 | thawed or dispensed                           | thawed           |
| administered  | -                                 | -                                             | administered     |
| cancelled     | -                                 | -                                             | not on the board |

A discarded bag says nothing about where the chain stands and is left out. A rejected batch leaves the chain in
manufacturing: what it waits for is a new batch (or a decision to cancel).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import models

from products.choices import BatchStatus, CoiStatus, UnitStatus


class Stage(models.TextChoices):
    """The pipeline's stages in the order a chain passes them (the order is the rank)."""

    ORDERED = "ordered", "Ordered"
    COLLECTED = "collected", "Collected"
    MANUFACTURING = "manufacturing", "In manufacturing"
    QUARANTINE = "quarantine", "In quarantine"
    RELEASED = "released", "Released"
    SHIPPED = "shipped", "Shipped"
    AT_SITE = "at_site", "At site"
    THAWED = "thawed", "Thawed"
    ADMINISTERED = "administered", "Administered"


STAGES: tuple[Stage, ...] = tuple(Stage)
RANK: dict[str, int] = {stage.value: rank for rank, stage in enumerate(STAGES)}

# The chain's status alone decides these.
CHAIN_STAGE: dict[str, Stage | None] = {
    CoiStatus.ORDERED: Stage.ORDERED,
    CoiStatus.COLLECTED: Stage.COLLECTED,
    CoiStatus.ADMINISTERED: Stage.ADMINISTERED,
    CoiStatus.CANCELLED: None,
}

# A chain in manufacturing: its latest batch's status (None: no batch yet).
BATCH_STAGE: dict[str | None, Stage] = {
    None: Stage.MANUFACTURING,
    BatchStatus.IN_PROCESS: Stage.MANUFACTURING,
    BatchStatus.QUARANTINE: Stage.QUARANTINE,
    BatchStatus.REJECTED: Stage.MANUFACTURING,
    BatchStatus.RELEASED: Stage.RELEASED,
}

# A released chain: each bag's status (None: the bag says nothing, e.g. discarded).
UNIT_STAGE: dict[str, Stage | None] = {
    UnitStatus.MANUFACTURED: Stage.RELEASED,
    UnitStatus.RETURNED: Stage.RELEASED,
    UnitStatus.SHIPPED: Stage.SHIPPED,
    UnitStatus.RECEIVED: Stage.AT_SITE,
    UnitStatus.STORED: Stage.AT_SITE,
    UnitStatus.THAWED: Stage.THAWED,
    UnitStatus.DISPENSED: Stage.THAWED,
    UnitStatus.ADMINISTERED: Stage.ADMINISTERED,
    UnitStatus.DISCARDED: None,
}
# Received or stored anywhere but the treating facility (the factory's own store, a depot): not yet at the
# patient's hospital, so still waiting to be shipped there.
AWAY_FROM_SITE: dict[Stage, Stage] = {Stage.AT_SITE: Stage.RELEASED}

# When a released chain has no bag that says anything.
RELEASED_DEFAULT = Stage.RELEASED

# Expected days in each stage, the defaults of a new product (coordinators edit them per product in the admin).
# Rough figures for an autologous, cryopreserved CAR-T, whose vein-to-vein time is about four to five weeks:
# administered is the acute period after the first infusion during which the chain stays on the board (CAR-T
# labels: the patient stays near the treatment centre for 2 weeks), never "late".
DEFAULT_STAGE_DAYS: dict[Stage, int] = {
    Stage.ORDERED: 14,
    Stage.COLLECTED: 3,
    Stage.MANUFACTURING: 14,
    Stage.QUARANTINE: 7,
    Stage.RELEASED: 3,
    Stage.SHIPPED: 2,
    Stage.AT_SITE: 7,
    Stage.THAWED: 1,
    Stage.ADMINISTERED: 14,
}
# The stage a chain is never late in: it leaves the board when its days are over.
TERMINAL = Stage.ADMINISTERED


def stage_days_field(stage: str) -> str:
    """The product's field holding the expected days in a stage."""
    return f"stage_days_{stage}"


STAGE_DAYS_FIELDS: tuple[str, ...] = tuple(stage_days_field(stage) for stage in STAGES)


@dataclass(frozen=True)
class Bag:
    """What the stage needs of one unit: its status, whether it is at the chain's treating facility, and when its
    last custody event (or its infusion) happened."""

    status: str
    at_treating_facility: bool = False
    last_event_at: datetime | None = None


def unit_stage(bag: Bag) -> Stage | None:
    stage = UNIT_STAGE[bag.status]
    if stage is not None and not bag.at_treating_facility:
        return AWAY_FROM_SITE.get(stage, stage)
    return stage


def chain_stage(*, chain_status: str, batch_status: str | None = None, bags: Iterable[Bag] = ()) -> Stage | None:
    """The chain's stage on the pipeline (None: cancelled, not on the board). See the table above."""
    if chain_status in CHAIN_STAGE:
        return CHAIN_STAGE[chain_status]
    if chain_status == CoiStatus.MANUFACTURING:
        return BATCH_STAGE[batch_status]
    if chain_status == CoiStatus.RELEASED:
        reached = [stage for stage in map(unit_stage, bags) if stage is not None]
        return max(reached, key=lambda stage: RANK[stage], default=RELEASED_DEFAULT)
    raise ValueError(f"Unknown chain status {chain_status!r}")


# The stages whose clock the batch starts (the bags start the later ones).
BATCH_DATED = frozenset({Stage.QUARANTINE, Stage.RELEASED})


@dataclass(frozen=True)
class Dates:
    """The dates of the chain's records that start a stage's clock."""

    ordered_at: datetime
    first_collected_at: datetime | None = None
    batch_status: str | None = None  # the latest batch's
    batch_started_at: datetime | None = None
    batch_changed_at: datetime | None = None  # its last status change (completion, release, rejection)


def stage_since(stage: Stage, dates: Dates, bags: Iterable[Bag] = ()) -> datetime:
    """When the chain entered its stage.

    - ordered: the order; collected: the first collection;
    - in manufacturing: the batch's start (after a rejection: the rejection, when the wait for a new batch began);
    - in quarantine and released: the batch's last status change (completion, release);
    - shipped, at site, thawed, administered: the earliest last event of the bags that put the chain there (the
      shipment, the receipt or storage, the thaw, the infusion as recorded).

    A date the records lack falls back to the one before it, so a clock always runs.
    """
    collected = dates.first_collected_at or dates.ordered_at
    started = dates.batch_started_at or collected
    changed = dates.batch_changed_at or started
    if stage == Stage.ORDERED:
        return dates.ordered_at
    if stage == Stage.COLLECTED:
        return collected
    if stage == Stage.MANUFACTURING:
        return changed if dates.batch_status == BatchStatus.REJECTED else started
    if stage in BATCH_DATED:
        return changed
    times = [bag.last_event_at for bag in bags if bag.last_event_at is not None and unit_stage(bag) == stage]
    return min(times, default=changed)
