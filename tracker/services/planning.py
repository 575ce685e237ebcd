"""The plan of a therapy order: the days conditioning starts and the product is infused.

The plan lives on the order, not in the conditioning records: those say what was given (drug, dose, day), so they
exist only once conditioning has begun, while the coordinators book the conditioning, the bed and the thaw days
ahead. The board counts orders whose plan falls in the next 7 days (tracker.board).
"""

from datetime import date

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from products.choices import CoiStatus
from products.errors import ChainClosed
from products.services.guards import require_member, require_role
from tracker.models import TherapyOrder
from tracker.services.orders import PATIENT_ROLES

# An infused or cancelled chain has nothing left to plan.
UNPLANNABLE = (CoiStatus.ADMINISTERED, CoiStatus.CANCELLED)


@transaction.atomic
def order_plan(
    *,
    actor: User,
    order_id: int,
    planned_conditioning_on: date | None,
    planned_infusion_on: date | None,
) -> TherapyOrder:
    """Set (or clear, with None) the planned first day of conditioning and the planned infusion day."""
    order = (
        TherapyOrder.objects.select_for_update(of=("self",))
        .select_related("patient__facility", "chain")
        .get(id=order_id)
    )
    require_role(actor, *PATIENT_ROLES, action="plan therapies")
    require_member(actor, order.patient.facility)
    if order.chain.status in UNPLANNABLE:
        raise ChainClosed(f"Chain {order.chain.coi} is {order.chain.status}: there is nothing left to plan.")
    if planned_conditioning_on and planned_infusion_on and planned_conditioning_on > planned_infusion_on:
        raise ValidationError({"planned_conditioning_on": ["Conditioning is planned before the infusion, not after."]})
    order.planned_conditioning_on = planned_conditioning_on
    order.planned_infusion_on = planned_infusion_on
    order.save(update_fields=["planned_conditioning_on", "planned_infusion_on"])
    return order
