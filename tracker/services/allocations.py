"""Allocating a unit of an allogeneic product to a patient's order: the product side's allocation, given the
patient's HLA typing (products.services.allocations holds the rules)."""

from datetime import datetime

from django.contrib.auth.models import User

from products.models import Allocation
from products.services.allocations import allocation_create
from products.services.guards import require_member
from tracker.models import TherapyOrder


def order_allocate(
    *,
    actor: User,
    order_id: int,
    unit_id: str | None = None,
    exception: str = "",
    exception_rationale: str = "",
    password: str = "",
    meaning: str = "",
    now: datetime | None = None,
) -> Allocation:
    """Reserve a unit for the order (the named one, or the soonest-expiring eligible one), matched against the
    patient's HLA typing; see products.services.allocations.allocation_create for every refusal."""
    order = TherapyOrder.objects.select_related("patient__facility").get(id=order_id)
    require_member(actor, order.patient.facility)
    return allocation_create(
        actor=actor,
        chain_id=order.chain_id,
        recipient_hla=order.patient.hla,
        unit_id=unit_id,
        exception=exception,
        exception_rationale=exception_rationale,
        password=password,
        meaning=meaning,
        now=now,
    )
