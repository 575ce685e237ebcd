"""Chains of identity: the server-generated COI that follows a product from vein to vein."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from products.choices import CoiStatus, Role
from products.errors import ChainClosed
from products.models import ChainOfIdentity, CoiSequence, Facility, Product
from products.rules.isbt128 import format_coi, is_valid_fin
from products.services.guards import require_member, require_role

# Order of the lifecycle: a chain never moves backwards (a second collection does not undo manufacturing).
_PROGRESS = [
    CoiStatus.ORDERED,
    CoiStatus.COLLECTED,
    CoiStatus.MANUFACTURING,
    CoiStatus.RELEASED,
    CoiStatus.ADMINISTERED,
]
CLOSED = {CoiStatus.CANCELLED, CoiStatus.ADMINISTERED}


def facility_prefix(facility: Facility) -> str:
    """The facility's ISBT 128 FIN, or a stable stand-in for facilities without one (X + 4 digits of the id)."""
    if is_valid_fin(facility.fin):
        return facility.fin
    return f"X{facility.id % 10000:04d}"


@transaction.atomic
def chain_create(
    *, product: Product, treatment_facility: Facility, collection_facility: Facility | None = None
) -> ChainOfIdentity:
    """Allocate the next COI for the treating facility and year (see products.rules.isbt128: never a DIN, no
    patient data)."""
    year = timezone.now().year
    CoiSequence.objects.get_or_create(facility=treatment_facility, year=year)
    # UPDATE ... RETURNING under the row lock: two orders at once never get the same number.
    sequence = CoiSequence.objects.filter(facility=treatment_facility, year=year).select_for_update().get()
    CoiSequence.objects.filter(id=sequence.id).update(last=F("last") + 1)
    sequence.refresh_from_db(fields=["last"])
    coi = format_coi(fin=facility_prefix(treatment_facility), year=year, sequence=sequence.last)
    return ChainOfIdentity.objects.create(
        coi=coi, product=product, treatment_facility=treatment_facility, collection_facility=collection_facility
    )


def chain_advance(*, chain: ChainOfIdentity, to: str) -> None:
    """Move a (locked) chain forward in its lifecycle; never backwards."""
    if chain.status in CLOSED:
        raise ChainClosed(f"Chain {chain.coi} is {chain.status}.")
    if _PROGRESS.index(CoiStatus(to)) > _PROGRESS.index(CoiStatus(chain.status)):
        chain.status = to
        chain.save(update_fields=["status", "updated_at"])


def chain_lock(*, coi: str) -> ChainOfIdentity:
    return ChainOfIdentity.objects.select_for_update(of=("self",)).select_related("product").get(coi=coi)


@transaction.atomic
def chain_cancel(*, actor: AbstractBaseUser, chain_id: int) -> ChainOfIdentity:
    """Cancel an order's chain (before administration); the treating site's coordinators and clinicians may."""
    require_role(actor, Role.COORDINATOR, Role.CLINICIAN, Role.INTEGRATION, action="cancel orders")
    chain = (
        ChainOfIdentity.objects.select_for_update(of=("self",)).select_related("treatment_facility").get(id=chain_id)
    )
    require_member(actor, chain.treatment_facility)
    if chain.status in CLOSED:
        raise ChainClosed(f"Chain {chain.coi} is already {chain.status}.")
    chain.status = CoiStatus.CANCELLED
    chain.save(update_fields=["status", "updated_at"])
    return chain
