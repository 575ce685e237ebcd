"""Chains of identity: the server-generated COI that follows a product from vein to vein."""

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from products.choices import Role
from products.errors import ChainClosed, IllegalTransition
from products.models import ChainOfIdentity, CoiSequence, Facility, Product
from products.rules import chains as chain_rules
from products.rules.chains import ChainEvent
from products.rules.isbt128 import format_coi, is_valid_fin
from products.services.guards import require_member, require_role

# The chain's lifecycle is products.rules.chains' table; CLOSED is re-exported for the pages that ask.
CLOSED = chain_rules.CLOSED
_REFUSED = {chain_rules.CHAIN_CLOSED: ChainClosed, chain_rules.ILLEGAL: IllegalTransition}


def facility_prefix(facility: Facility) -> str:
    """The facility's ISBT 128 FIN, or a stable stand-in for facilities without one (X + 4 digits of the id)."""
    if is_valid_fin(facility.fin):
        return facility.fin
    return f"X{facility.id % 10000:04d}"


@transaction.atomic
def chain_create(
    *,
    product: Product,
    treatment_facility: Facility,
    collection_facility: Facility | None = None,
    now: datetime | None = None,
) -> ChainOfIdentity:
    """Allocate the next COI for the treating facility and year (see products.rules.isbt128: never a DIN, no
    patient data)."""
    year = (now or timezone.now()).year
    CoiSequence.objects.get_or_create(facility=treatment_facility, year=year)
    # UPDATE ... RETURNING under the row lock: two orders at once never get the same number.
    sequence = CoiSequence.objects.filter(facility=treatment_facility, year=year).select_for_update().get()
    CoiSequence.objects.filter(id=sequence.id).update(last=F("last") + 1)
    sequence.refresh_from_db(fields=["last"])
    coi = format_coi(fin=facility_prefix(treatment_facility), year=year, sequence=sequence.last)
    return ChainOfIdentity.objects.create(
        coi=coi, product=product, treatment_facility=treatment_facility, collection_facility=collection_facility
    )


def chain_apply(*, chain: ChainOfIdentity, event: ChainEvent) -> None:
    """Move a chain the caller has locked as the event says (products.rules.chains), or refuse (409)."""
    to = chain_rules.transition(status=chain.status, event=event)
    if isinstance(to, chain_rules.Refusal):
        raise _REFUSED[to.code](f"Chain {chain.coi} {to.reason}.")
    if to != chain.status:
        chain.status = to
        chain.save(update_fields=["status", "updated_at"])


def chain_lock(*, coi: str) -> ChainOfIdentity:
    return ChainOfIdentity.objects.select_for_update(of=("self",)).select_related("product").get(coi=coi)


@transaction.atomic
def chain_cancel(*, actor: User, chain_id: int) -> ChainOfIdentity:
    """Cancel an order's chain (before administration); the treating site's coordinators and clinicians may."""
    require_role(actor, Role.COORDINATOR, Role.CLINICIAN, Role.INTEGRATION, action="cancel orders")
    chain = (
        ChainOfIdentity.objects.select_for_update(of=("self",)).select_related("treatment_facility").get(id=chain_id)
    )
    require_member(actor, chain.treatment_facility)
    chain_apply(chain=chain, event=ChainEvent.CANCELLED)
    return chain
