"""Allocation: a unit of an allogeneic batch, waiting in inventory, reserved for one order (its chain); and its
release back to stock. Both on record (products.models.Allocation).

The unit is bound to the order's chain (`unit.chain`) while it is allocated: custody and the bedside check then work
as for an autologous unit, and the bedside accepts only a unit bound to that order. The order's side (the patient's
HLA typing) is given by the caller (tracker.services.allocations): this module knows no patient.

Refusals, each a 409 that writes nothing: `unit_not_available` (another product, allocated already, not in stock,
held, batch not released, expired, stocked at another hospital), `donor_ineligible` (the donation is not eligible
and no documented exception allows it), `hla_mismatch`, and `no_eligible_unit` when no unit was named and none
qualifies.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from products.choices import BatchStatus, DonorException, FacilityKind, HoldStatus, Role, SignatureMeaning, Source
from products.errors import (
    DonorIneligible,
    HlaMismatch,
    IllegalTransition,
    NoEligibleUnit,
    UnitNotAvailable,
)
from products.models import Allocation, ChainOfIdentity, Hold, Unit
from products.rules import allocations as allocation_rules
from products.rules import chains as chain_rules
from products.rules import donors as donor_rules
from products.rules import hla as hla_rules
from products.rules.chains import ChainEvent
from products.selectors import donor_code_of, unit_donation, with_donation
from products.services.chains import chain_apply
from products.services.guards import require_member, require_role
from products.services.holds import unit_hold_refusal
from products.services.signatures import require_physician_role, signature_capture, signature_verify

# Who reserves a unit for an order: the treating site's staff (and its systems).
ALLOCATION_ROLES = (Role.COORDINATOR, Role.CLINICIAN, Role.INTEGRATION)


@dataclass(frozen=True)
class Chosen:
    """A unit that passed every check for the order, with what the allocation records about it."""

    unit: Unit
    status: donor_rules.DonationStatus
    matches: int | None


def _typing(value: Mapping[str, Any] | None) -> hla_rules.Typing:
    # Stored typings were validated when recorded; an invalid one here would be a bug, not input.
    return hla_rules.parse_typing(value or {})


def _chain(chain_id: int, *, lock: bool) -> ChainOfIdentity:
    chains = ChainOfIdentity.objects.select_related("product", "treatment_facility")
    return (chains.select_for_update(of=("self",)) if lock else chains).get(id=chain_id)


def _check_order(actor: User, chain: ChainOfIdentity) -> None:
    require_member(actor, chain.treatment_facility)
    if chain.product.source != Source.ALLOGENEIC:
        raise IllegalTransition(
            f"Order {chain.coi} is for {chain.product.code}, an autologous product: its units come from its own batch."
        )
    refusal = chain_rules.transition(status=chain.status, event=ChainEvent.ALLOCATED)
    if isinstance(refusal, chain_rules.Refusal):
        raise IllegalTransition(f"Chain {chain.coi} {refusal.reason}.")


def _facts(unit: Unit, chain: ChainOfIdentity, *, on_hold: bool) -> allocation_rules.UnitFacts:
    open_allocation = next((a for a in unit.allocations.all() if a.released_at is None), None)
    return allocation_rules.UnitFacts(
        unit_id=unit.unit_id,
        product=unit.batch.product.code,
        status=unit.status,
        thawed=unit.thawed_at is not None,
        expires_at=unit.expires_at,
        use_by=unit.use_by,
        batch_released=unit.batch.status == BatchStatus.RELEASED,
        on_hold=on_hold,
        allocated_to=open_allocation.chain.coi if open_allocation is not None else None,
        at_manufacturing_site=unit.current_facility.kind == FacilityKind.MANUFACTURING,
        at_treating_site=unit.current_facility_id == chain.treatment_facility_id,
    )


def _units(*, lock: bool) -> QuerySet[Unit]:
    units = with_donation(Unit.objects.select_related("current_facility", "batch")).prefetch_related(
        "allocations__chain"
    )
    return units.select_for_update(of=("self",)) if lock else units


def _judge(
    unit: Unit,
    chain: ChainOfIdentity,
    recipient: hla_rules.Typing,
    *,
    exception: str,
    now: datetime,
) -> Chosen:
    """Every refusal about this unit for this order, in order: available, donor, HLA."""
    hold = unit_hold_refusal(unit)
    why_not = allocation_rules.availability_refusal(
        _facts(unit, chain, on_hold=hold is not None), product=chain.product.code, coi=chain.coi, now=now
    )
    if why_not is not None:
        if why_not.why == allocation_rules.ON_HOLD and hold is not None:
            raise UnitNotAvailable(hold.detail, holds=hold.extra["holds"])
        raise UnitNotAvailable(why_not.detail)
    status = unit_donation(unit) or donor_rules.unknown_donor()
    if status.eligible and exception:
        raise ValidationError({"exception": [f"The donor of unit {unit.unit_id} is eligible: no exception applies."]})
    if not status.eligible and not donor_rules.exception_allowed(status.eligibility, exception):
        allowed = donor_rules.ALLOWED_EXCEPTIONS.get(status.eligibility, frozenset())
        options = " or ".join(str(DonorException(e).label) for e in sorted(allowed))
        hint = f" Only under a documented exception ({options}), e-signed by the treating physician." if options else ""
        raise DonorIneligible(
            f"Unit {unit.unit_id}: donor {donor_code_of(unit) or 'unknown'} is {status.eligibility}: "
            f"{' '.join(status.reasons)}{hint}",
            eligibility=str(status.eligibility),
        )
    donor = unit.batch.collection.donor if unit.batch.collection is not None else None
    donor_typing = _typing(donor.hla if donor is not None else None)
    mismatch = hla_rules.match_refusal(donor=donor_typing, recipient=recipient, minimum=chain.product.hla_match_min)
    if mismatch is not None:
        raise HlaMismatch(f"Unit {unit.unit_id}: {mismatch}")
    both_typed = bool(donor_typing) and bool(recipient)
    return Chosen(unit, status, hla_rules.match_count(donor_typing, recipient) if both_typed else None)


def _named(unit_id: str, *, lock: bool) -> Unit:
    unit = _units(lock=lock).filter(unit_id=unit_id).first()
    if unit is None:
        raise ValidationError({"unit": [f"No unit {unit_id}."]})
    return unit


def _candidates(chain: ChainOfIdentity, *, now: datetime) -> QuerySet[Unit]:
    """Units of the order's product that may be available, soonest expiry first (each is judged under its lock)."""
    open_allocation = Allocation.objects.filter(unit=OuterRef("pk"), released_at__isnull=True)
    open_hold = Hold.objects.filter(Q(unit=OuterRef("pk")) | Q(batch=OuterRef("batch_id")), status=HoldStatus.OPEN)
    return (
        Unit.objects.filter(
            batch__product=chain.product,
            batch__status=BatchStatus.RELEASED,
            status__in=allocation_rules.IN_STOCK,
            thawed_at__isnull=True,
            expires_at__gt=now,
        )
        .filter(Q(current_facility__kind=FacilityKind.MANUFACTURING) | Q(current_facility=chain.treatment_facility))
        .exclude(Exists(open_allocation))
        .exclude(Exists(open_hold))
        .order_by("expires_at", "id")
    )


def _choose(chain: ChainOfIdentity, recipient: hla_rules.Typing, *, now: datetime) -> Chosen:
    """The soonest-expiring unit that passes every check; each candidate is locked and judged again, so a unit a
    concurrent allocation took meanwhile is passed over (candidates are locked in one order: no deadlock)."""
    passed_over: list[str] = []
    for unit_id in _candidates(chain, now=now).values_list("unit_id", flat=True):
        unit = _named(unit_id, lock=True)
        try:
            return _judge(unit, chain, recipient, exception="", now=now)
        except (UnitNotAvailable, DonorIneligible, HlaMismatch) as exc:
            passed_over.append(f"{exc.detail} ({exc.code})")
    why = (
        f" Passed over: {' '.join(passed_over)}"
        if passed_over
        else " None is in stock, released, unheld and unexpired."
    )
    raise NoEligibleUnit(f"No unit of {chain.product.code} may be allocated to order {chain.coi}.{why}")


def _require_exception_input(*, unit_id: str | None, exception: str, rationale: str, password: str) -> None:
    if not exception:
        return
    errors = {}
    if exception not in DonorException.values:
        errors["exception"] = [f"One of {', '.join(DonorException.values)}."]
    elif unit_id is None:
        errors["unit"] = ["An exception applies to one unit: name it."]
    if not rationale.strip():
        errors["exception_rationale"] = ["Document the urgent medical need or the donor's relationship."]
    if not password:
        errors["password"] = ["The treating physician signs the exception with their own password."]
    if errors:
        raise ValidationError(errors)


def allocation_create(
    *,
    actor: User,
    chain_id: int,
    recipient_hla: Mapping[str, Sequence[str]] | None,
    unit_id: str | None = None,
    exception: str = "",
    exception_rationale: str = "",
    password: str = "",
    meaning: str = "",
    now: datetime | None = None,
) -> Allocation:
    """Reserve a unit of the order's allogeneic product: `unit_id`, or the soonest-expiring eligible one.

    A unit of an ineligible donor (or one not yet determined) is allocated only under a documented exception of
    21 CFR 1271.60(d) / 1271.65(b) (`exception`, `exception_rationale`), e-signed by the caller, who must hold the
    clinician role (the treating physician's decision); the unit's label then carries the warnings of
    products.rules.donors.label_warnings, kept on the allocation too. Every check is made before the password is
    tried, and again under the row locks of the chain and the unit."""
    now = now or timezone.now()
    require_role(actor, *ALLOCATION_ROLES, action="allocate units to orders")
    _require_exception_input(unit_id=unit_id, exception=exception, rationale=exception_rationale, password=password)
    recipient = _typing(recipient_hla)
    if exception:
        require_physician_role(actor, action="sign an exception for a donor who is not eligible")
        assert unit_id is not None
        chain = _chain(chain_id, lock=False)
        _check_order(actor, chain)
        _judge(_named(unit_id, lock=False), chain, recipient, exception=exception, now=now)
        signature_verify(signer=actor, password=password, record=f"unit:{unit_id}", now=now)
    return _allocate(
        actor=actor,
        chain_id=chain_id,
        recipient=recipient,
        unit_id=unit_id,
        exception=exception,
        rationale=exception_rationale.strip(),
        password=password,
        meaning=meaning,
        now=now,
    )


@transaction.atomic
def _allocate(
    *,
    actor: User,
    chain_id: int,
    recipient: hla_rules.Typing,
    unit_id: str | None,
    exception: str,
    rationale: str,
    password: str,
    meaning: str,
    now: datetime,
) -> Allocation:
    # The chain first, then the unit: two allocations for one order take turns, and two orders racing for one
    # unit wait on the unit's row, the second then finding it allocated.
    chain = _chain(chain_id, lock=True)
    _check_order(actor, chain)
    if unit_id is not None:
        chosen = _judge(_named(unit_id, lock=True), chain, recipient, exception=exception, now=now)
    else:
        chosen = _choose(chain, recipient, now=now)
    unit, warnings = chosen.unit, list(donor_rules.label_warnings(chosen.status))
    signature = None
    if exception:
        signature = signature_capture(
            signer=actor,
            password=password,
            meaning=SignatureMeaning.DONOR_EXCEPTION,
            statement=meaning or f"{DonorException(exception).label}: {rationale}",
            record=f"allocation:{unit.unit_id}:{chain.coi}",
            reviewed={
                "unit": unit.unit_id,
                "donor": donor_code_of(unit),
                "eligibility": str(chosen.status.eligibility),
                "reasons": list(chosen.status.reasons),
                "exception": exception,
                "rationale": rationale,
                "label_warnings": warnings,
            },
            now=now,
        )
    try:
        with transaction.atomic():
            allocation = Allocation.objects.create(
                unit=unit,
                chain=chain,
                allocated_at=now,
                allocated_by=actor,
                hla_matches=chosen.matches,
                hla_match_min=chain.product.hla_match_min,
                donor_eligibility=chosen.status.eligibility,
                exception=exception,
                exception_rationale=rationale if exception else "",
                exception_signature=signature,
                label_warnings=warnings,
            )
    except IntegrityError as exc:  # the one-open-allocation constraint: a backstop should the lock be bypassed
        raise UnitNotAvailable(f"Unit {unit.unit_id} is already allocated.") from exc
    unit.chain = chain
    unit.save(update_fields=["chain", "updated_at"])
    chain_apply(chain=chain, event=ChainEvent.ALLOCATED)
    return allocation


@transaction.atomic
def allocation_release(*, actor: User, allocation_id: int, reason: str, now: datetime | None = None) -> Allocation:
    """Return an allocated unit to stock, on record (who, when, why): it is no longer the order's, and the bedside
    refuses it for that order. A unit given, thawed or in transit is not returned."""
    require_role(actor, *ALLOCATION_ROLES, action="release allocations")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the unit returns to stock."]})
    allocation = (
        Allocation.objects.select_for_update(of=("self",))
        .select_related("chain__treatment_facility")
        .get(id=allocation_id)
    )
    chain = ChainOfIdentity.objects.select_for_update(of=("self",)).get(id=allocation.chain_id)
    require_member(actor, allocation.chain.treatment_facility)
    if allocation.released_at is not None:
        raise IllegalTransition(f"Allocation {allocation.pk} was released at {allocation.released_at:%Y-%m-%d %H:%M}.")
    unit = Unit.objects.select_for_update(of=("self",)).get(id=allocation.unit_id)
    why_not = allocation_rules.releasable_refusal(status=unit.status, thawed=unit.thawed_at is not None)
    if why_not is not None:
        raise IllegalTransition(f"Unit {unit.unit_id}: {why_not}")
    allocation.released_at = now or timezone.now()
    allocation.released_by = actor
    allocation.release_reason = reason.strip()
    allocation.save(update_fields=["released_at", "released_by", "release_reason"])
    unit.chain = None
    unit.save(update_fields=["chain", "updated_at"])
    if not Unit.objects.filter(chain=chain).exists():
        # Nothing reserved or given any more: the order waits for a unit again.
        chain_apply(chain=chain, event=ChainEvent.ALLOCATIONS_RELEASED)
    return allocation
