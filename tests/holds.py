"""Holds and QA decisions built through the real services, for tests that need one on record."""

from products.models import Batch, Hold, Unit
from products.services.holds import hold_decide, hold_open
from tests.journey import World


def hold(
    world: World,
    *,
    unit: Unit | None = None,
    batch: Batch | None = None,
    kind: str = "deviation",
    reason: str = "Batch record review found an undocumented step",
    actor: object = None,
) -> Hold:
    """QA (by default) holds a unit or a whole batch."""
    return hold_open(
        actor=actor or world.qa,
        kind=kind,
        reason=reason,
        unit_id=unit.unit_id if unit is not None else None,
        batch_id=batch.id if batch is not None else None,
    )


def decide(
    world: World,
    held: Hold,
    decision: str = "release",
    rationale: str = "Investigated: no impact on the product",
    signer: object = None,
) -> Hold:
    """QA signs a decision on the hold."""
    return hold_decide(
        hold_id=held.id,
        signer=signer or world.qa,
        decision=decision,
        rationale=rationale,
        password=world.password,
        meaning="Hold decided after investigation",
    )


def decided_batch_hold(world: World, batch: Batch) -> Hold:
    """A deviation hold on the batch, released by QA."""
    return decide(world, hold(world, batch=batch))
