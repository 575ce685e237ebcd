"""Whether a unit in inventory may be reserved for an order, and released back to stock. Pure: no database.

The allocation service (products.services.allocations) reads the unit's facts under its row lock and asks here;
the order of the questions is the order of the answer a person needs (is it still in stock at all, then may it
be used, then may it be used here).
"""

from dataclasses import dataclass
from datetime import datetime

from products.choices import UnitStatus

# In inventory: made and not yet moving towards a bedside, or received and stored at a site (21 CFR 1271.260).
IN_STOCK = frozenset({UnitStatus.MANUFACTURED, UnitStatus.RECEIVED, UnitStatus.STORED})


@dataclass(frozen=True)
class UnitFacts:
    """What decides whether a unit may be allocated, as read from the database."""

    unit_id: str
    product: str  # the unit's product code
    status: str
    thawed: bool
    expires_at: datetime
    use_by: datetime | None
    batch_released: bool
    on_hold: bool
    allocated_to: str | None  # the COI of its open allocation, if any
    at_manufacturing_site: bool
    at_treating_site: bool  # at the order's treatment facility


@dataclass(frozen=True)
class Unavailable:
    why: str  # one of the reasons below
    detail: str  # one sentence for a person


OTHER_PRODUCT = "other_product"
ALLOCATED = "allocated"
NOT_IN_STOCK = "not_in_stock"
ON_HOLD = "on_hold"
NOT_RELEASED = "not_released"
EXPIRED = "expired"
ELSEWHERE = "elsewhere"


def availability_refusal(facts: UnitFacts, *, product: str, coi: str, now: datetime) -> Unavailable | None:
    """Why the unit is not available to the order `coi` for `product` now, or None."""
    unit = f"Unit {facts.unit_id}"
    if facts.product != product:
        return Unavailable(OTHER_PRODUCT, f"{unit} is a unit of {facts.product}; the order is for {product}.")
    if facts.allocated_to is not None:
        where = "this order" if facts.allocated_to == coi else f"order {facts.allocated_to}"
        return Unavailable(ALLOCATED, f"{unit} is already allocated to {where}.")
    if facts.status not in IN_STOCK or facts.thawed:
        return Unavailable(NOT_IN_STOCK, f"{unit} is {facts.status}: only a unit in stock may be allocated.")
    if facts.on_hold:
        return Unavailable(ON_HOLD, f"{unit} is on hold: QA decides the hold before it may be used.")
    if not facts.batch_released:
        return Unavailable(NOT_RELEASED, f"{unit}'s batch is not released.")
    if facts.expires_at <= now or (facts.use_by is not None and facts.use_by <= now):
        return Unavailable(EXPIRED, f"{unit} expired at {facts.expires_at:%Y-%m-%d %H:%M} UTC.")
    if not (facts.at_manufacturing_site or facts.at_treating_site):
        # A bag stocked at another hospital is that hospital's: it goes back to the manufacturer first.
        return Unavailable(
            ELSEWHERE, f"{unit} is stocked at another treatment centre, not at the manufacturer or here."
        )
    return None


def releasable_refusal(*, status: str, thawed: bool) -> str | None:
    """Why an allocation may not be released now (its unit cannot go back to stock), or None."""
    if status == UnitStatus.ADMINISTERED:
        return "The unit was administered: its allocation stays on record."
    if status not in IN_STOCK or thawed:
        return f"The unit is {status}: only a unit in stock (not in transit, not thawed) returns to stock."
    return None
