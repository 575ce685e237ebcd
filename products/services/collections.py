"""Collections: cells taken from the patient or donor, identified by an ISBT 128 DIN."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from products.choices import FacilityKind, Role, Source
from products.models import ChainOfIdentity, Collection, Donor, Facility, Product
from products.rules.chains import ChainEvent
from products.rules.isbt128 import InvalidIdentifier, parse_din
from products.services.chains import chain_apply
from products.services.guards import require_member, require_role

# Clocks of scanners and workstations drift a little; more than this in the future is a typing error.
CLOCK_SKEW = timedelta(minutes=5)


def not_in_future(value: datetime, field: str, *, now: datetime | None = None) -> None:
    if value > (now or timezone.now()) + CLOCK_SKEW:
        raise ValidationError({field: ["Cannot be in the future."]})


@transaction.atomic
def collection_record(
    *,
    actor: User,
    chain: ChainOfIdentity | None = None,
    donor: Donor | None = None,
    product: Product | None = None,
    din: str,
    facility: Facility,
    collected_at: datetime,
    method: str,
    volume_ml: Decimal | None,  # None is refused (400), as from a form left blank
    total_nucleated_cells: int | None = None,
    cd3_cells: int | None = None,
    cd34_cells: int | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Collection:
    """Cells collected for a chain (a patient's order), or from an allogeneic donor for a product: exactly one.
    A donor's cells wait in quarantine until QA's eligibility determination (21 CFR 1271.60(a)): collecting them
    needs none."""
    require_role(actor, Role.COORDINATOR, Role.INTEGRATION, action="record collections")
    require_member(actor, facility)
    _check_source(chain=chain, donor=donor, product=product)
    try:
        parsed = parse_din(din)
    except InvalidIdentifier as exc:
        raise ValidationError({"din": [str(exc)]}) from exc
    if facility.kind == FacilityKind.MANUFACTURING:
        raise ValidationError({"facility": ["Cells are collected at a collection or treatment facility."]})
    not_in_future(collected_at, "collected_at", now=now)
    if volume_ml is None or Decimal(volume_ml) <= 0:
        raise ValidationError({"volume_ml": ["Must be more than 0."]})
    if Collection.objects.filter(din=parsed.number).exists():
        raise ValidationError({"din": [f"DIN {parsed.number} is already recorded."]})
    if chain is not None:
        chain = ChainOfIdentity.objects.select_for_update().get(id=chain.id)
    elif donor is not None:  # _check_source: a chain, or a donor and a product
        donor = Donor.objects.select_for_update().get(id=donor.id)
    collection = Collection.objects.create(
        chain=chain,
        donor=donor,
        product=product,
        din=parsed.number,
        din_flags=parsed.flags,
        din_check=parsed.check,
        facility=facility,
        collected_at=collected_at,
        method=method,
        volume_ml=volume_ml,
        total_nucleated_cells=total_nucleated_cells,
        cd3_cells=cd3_cells,
        cd34_cells=cd34_cells,
        collected_by=actor,
        note=note,
    )
    if chain is not None:
        chain_apply(chain=chain, event=ChainEvent.COLLECTED)
    return collection


def _check_source(*, chain: ChainOfIdentity | None, donor: Donor | None, product: Product | None) -> None:
    if chain is not None:
        if donor is not None or product is not None:
            raise ValidationError({"coi": ["Give the COI of an order, or a donor and a product: not both."]})
        return
    if donor is None or product is None:
        raise ValidationError(
            {"coi": ["Give the COI of the order the cells are for (or, for an allogeneic product, donor and product)."]}
        )
    if product.source != Source.ALLOGENEIC:
        raise ValidationError(
            {"product": [f"{product.code} is autologous: its cells are collected for an order's COI, not a donor."]}
        )
    if not product.is_active:
        raise ValidationError({"product": [f"Product {product.code} is not active."]})
