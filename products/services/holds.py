"""Quality holds: a unit or a whole batch held until QA signs a decision, release for use or discard.

Holds are opened by QA or a coordinator by hand (a recall, a deviation), or by the system in the
transaction that finds the problem: a custody event outside the storage temperature range, a failing QC
result after release. While a hold is open, nothing it covers is shipped, thawed, dispensed or given:
`require_not_on_hold` is the one check, called by the custody service and the administration service.
"""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from products.access import user_facility_ids
from products.choices import BatchStatus, HoldDecision, HoldKind, HoldStatus, Role, SignatureMeaning, UnitStatus
from products.errors import HoldClosed, IllegalTransition, PermissionDeniedError, UnitOnHold
from products.models import Batch, CustodyRecord, Facility, Hold, QCResult, Unit
from products.selectors import batches_visible_to, open_holds_of_unit, units_visible_to
from products.services.guards import require_member, require_role
from products.services.signatures import require_signing_role, signature_capture, signature_verify

HOLD_ROLES = (Role.QA, Role.COORDINATOR)
# Units past these states are out of reach: a hold has nothing left to keep from use.
FINISHED = (UnitStatus.ADMINISTERED, UnitStatus.DISCARDED)


# --- is it held? --------------------------------------------------------------------------------------


def _describe(hold: Hold, unit: Unit) -> str:
    on = f"on batch {unit.batch.lot_number}" if hold.batch_id else "on the unit"
    return f"hold {hold.pk} {on}: {hold.get_kind_display().lower()}, opened {hold.opened_at:%Y-%m-%d %H:%M} UTC"


def unit_hold_refusal(unit: Unit) -> UnitOnHold | None:
    """The refusal to give when the unit (or its batch) is under an open hold; None when it is not."""
    holds = list(open_holds_of_unit(unit).only("id", "unit_id", "batch_id", "kind", "opened_at"))
    if not holds:
        return None
    return UnitOnHold(
        f"Unit {unit.unit_id} is on hold ({'; '.join(_describe(h, unit) for h in holds)}). "
        "It may not be shipped, thawed, dispensed or given until QA releases the hold.",
        holds=[h.pk for h in holds],
    )


def require_not_on_hold(*, unit: Unit) -> None:
    """Raise 409 `unit_on_hold` if the unit or its batch has an open hold. Call it on a unit you have locked."""
    refusal = unit_hold_refusal(unit)
    if refusal is not None:
        raise refusal


# --- opening ------------------------------------------------------------------------------------------


def hold_open_by_system(
    *,
    kind: str,
    reason: str,
    unit: Unit | None = None,
    batch: Batch | None = None,
    custody_record: CustodyRecord | None = None,
    qc_result: QCResult | None = None,
    at: datetime | None = None,
) -> Hold:
    """A hold the system opens in the caller's transaction, the one that found the problem (`opened_by` empty)."""
    return Hold.objects.create(
        unit=unit,
        batch=batch,
        kind=kind,
        reason=reason,
        opened_at=at or timezone.now(),
        custody_record=custody_record,
        qc_result=qc_result,
    )


def _require_member_of_any(user: User, facilities: Iterable[Facility], what: str) -> None:
    codes = {f.id: f.code for f in facilities}
    if getattr(user, "is_superuser", False) or codes.keys() & user_facility_ids(user):
        return
    raise PermissionDeniedError(f"You are not a member of {' or '.join(sorted(codes.values()))}, where {what} is.")


def _unit_facilities(unit: Unit) -> list[Facility]:
    # Where the bag is, and where it was made: QA at the factory answers for its bags wherever they are.
    return [unit.current_facility, unit.batch.facility]


@transaction.atomic
def hold_open(
    *,
    actor: User,
    kind: str,
    reason: str,
    batch_id: int | None = None,
    unit_id: str | None = None,
    now: datetime | None = None,
) -> Hold:
    """QA or a coordinator holds a unit or a whole batch by hand (a recall, a deviation...)."""
    now = now or timezone.now()
    require_role(actor, *HOLD_ROLES, action="open holds")
    if (batch_id is None) == (unit_id is None):
        raise ValidationError("Hold either one batch or one unit: give exactly one of them.")
    if kind not in HoldKind.values:
        raise ValidationError({"kind": [f"Not a kind of hold: {', '.join(HoldKind.values)}."]})
    if not reason.strip():
        raise ValidationError({"reason": ["Say why it is held: QA decides on this."]})
    # Looked up among what the caller may see: another facility's unit or batch "does not exist", exactly as an
    # unknown one does (the answer tells nothing about other facilities' records).
    if unit_id is not None:
        unit = (
            units_visible_to(actor)
            .select_for_update(of=("self",))
            .select_related("batch__facility", "current_facility")
            .filter(unit_id=unit_id)
            .first()
        )
        if unit is None:
            raise ValidationError({"unit": [f"No unit {unit_id}."]})
        _require_member_of_any(actor, _unit_facilities(unit), f"unit {unit.unit_id}")
        if unit.status in FINISHED:
            raise IllegalTransition(f"Unit {unit.unit_id} is {unit.status}: there is nothing left to hold.")
        return Hold.objects.create(unit=unit, kind=kind, reason=reason.strip(), opened_at=now, opened_by=actor)
    assert batch_id is not None  # exactly one of batch_id and unit_id (checked above)
    batch = batches_visible_to(actor).select_for_update(of=("self",)).filter(id=batch_id).first()
    if batch is None:
        raise ValidationError({"batch": [f"No batch {batch_id}."]})
    require_member(actor, batch.facility)
    if batch.status == BatchStatus.REJECTED:
        raise IllegalTransition(f"Batch {batch.lot_number} is rejected: none of it may be used, nothing to hold.")
    # Custody events lock their unit: taking the batch's units here lets those in flight finish first, so
    # every event after the hold sees it.
    list(Unit.objects.select_for_update().filter(batch=batch).exclude(status__in=FINISHED).order_by("id").values("id"))
    return Hold.objects.create(batch=batch, kind=kind, reason=reason.strip(), opened_at=now, opened_by=actor)


# --- QA's decision ------------------------------------------------------------------------------------


def _hold_for_decision(hold_id: int, *, lock: bool) -> Hold:
    holds = Hold.objects.select_related(
        "batch__facility", "unit__batch__facility", "unit__current_facility", "decision_signature"
    )
    if lock:
        holds = holds.select_for_update(of=("self",))
    return holds.get(id=hold_id)


def _check_decidable(hold: Hold, signer: User) -> None:
    if hold.batch is not None:
        require_member(signer, hold.batch.facility)
    else:
        assert hold.unit is not None
        _require_member_of_any(signer, _unit_facilities(hold.unit), f"unit {hold.unit.unit_id}")
    if hold.status != HoldStatus.OPEN:
        signature = hold.decision_signature
        by = f" by {signature.printed_name} at {signature.signed_at:%Y-%m-%d %H:%M} UTC" if signature else ""
        raise HoldClosed(f"Hold {hold.pk} was already decided ({hold.status}{by}); a decision is final.")


def hold_decide(
    *,
    hold_id: int,
    signer: User,
    decision: str,
    rationale: str,
    password: str,
    meaning: str,
    now: datetime | None = None,
) -> Hold:
    """QA decides an open hold with an electronic signature (21 CFR 11.50): `release` for use, or `discard`,
    which discards every unit the hold covers that is not already administered or discarded."""
    require_signing_role(signer, action="decide holds")
    if decision not in HoldDecision.values:
        raise ValidationError({"decision": [f"Decide {' or '.join(HoldDecision.values)}."]})
    if not rationale.strip():
        raise ValidationError({"rationale": ["Give the grounds for the decision (the investigation, its outcome)."]})
    # Rights and state before the password: a refused caller learns nothing about it and locks nobody.
    _check_decidable(_hold_for_decision(hold_id, lock=False), signer)
    signature_verify(signer=signer, password=password, record=f"hold:{hold_id}", now=now)
    return _hold_decide(
        hold_id=hold_id,
        signer=signer,
        decision=decision,
        rationale=rationale.strip(),
        password=password,
        meaning=meaning,
        now=now,
    )


@transaction.atomic
def _hold_decide(
    *,
    hold_id: int,
    signer: User,
    decision: str,
    rationale: str,
    password: str,
    meaning: str,
    now: datetime | None,
) -> Hold:
    # The row lock makes a second QA officer deciding at the same time wait, then find the hold closed.
    hold = _hold_for_decision(hold_id, lock=True)
    _check_decidable(hold, signer)
    discard = decision == HoldDecision.DISCARD
    signature = signature_capture(
        signer=signer,
        password=password,
        meaning=SignatureMeaning.HOLD_DISCARD if discard else SignatureMeaning.HOLD_RELEASE,
        statement=meaning,
        record=f"hold:{hold.pk}",
        now=now,
    )
    hold.status = HoldStatus.DISCARDED if discard else HoldStatus.RELEASED
    hold.rationale = rationale
    hold.decision_signature = signature
    hold.decided_at = signature.signed_at
    hold.save(update_fields=["status", "rationale", "decision_signature", "decided_at", "updated_at"])
    if discard:
        _discard_covered_units(hold, signer, now=signature.signed_at)
    return hold


def _discard_covered_units(hold: Hold, signer: User, *, now: datetime) -> None:
    # units.py imports this module (custody events check holds), so its writer is imported here.
    from products.services.units import custody_discard_on_decision

    covered = Unit.objects.filter(id=hold.unit_id) if hold.unit_id else Unit.objects.filter(batch=hold.batch_id)
    # Locked in id order (as every batch-wide lock here is), and read after the lock: a unit administered
    # meanwhile is left alone.
    units = covered.select_for_update(of=("self",)).select_related("batch__product", "current_facility")
    for unit in units.exclude(status__in=FINISHED).order_by("id"):
        custody_discard_on_decision(
            unit=unit, actor=signer, note=f"Discarded by QA decision on hold {hold.pk}: {hold.rationale}", now=now
        )
