"""The bedside check: scan the bag and the wristband against an order, and keep every answer.

The comparison is the administration's own (tracker.services.administrations: `identity_mismatches` and
`unit_problems`), so a check that matches is one the administration will accept a moment later, and one that does
not is refused there with the same reason.

What an answer reveals: the caller is already a clinician, coordinator or integration user of the patient's
facility (the order is looked up among theirs), so `expected` may show the order's own identifiers: its patient's
MRN and birth date and its bags' unit ids. It never says what a scanned identifier belongs to when it is not this
order's (another patient, another order's bag): `scanned` only echoes the scan, and a bag that is not this order's
has no `unit_problems` (its state is not this caller's business).
"""

from collections.abc import Callable
from datetime import date, datetime
from functools import cache

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.choices import UnitStatus
from products.models import Unit
from products.rules.isbt128 import clean_scan
from products.selectors import coi_lookup, unit_dins
from products.services.guards import require_member, require_role
from tracker.models import BedsideCheck, TherapyOrder
from tracker.rules.bedside import Mismatch, bag_refusal, wristband_mismatches
from tracker.services.administrations import bag_of, identity_mismatches, unit_problems
from tracker.services.orders import PATIENT_ROLES

SPENT = {UnitStatus.ADMINISTERED, UnitStatus.DISCARDED}


def bedside_check_record(
    *,
    actor: User,
    coi: str,
    scanned_unit: str,
    scanned_patient: str,
    scanned_birth_date: date,
    unit_id: str | None = None,
    now: datetime | None = None,
) -> BedsideCheck:
    """Compare the scans with the order named by `coi` (as typed or scanned) and record the check, match or not.

    The bag is `unit_id` when given; otherwise the one of the order's bags that the scan names (its unit id, its
    label's 2-D code, or a DIN that only one bag still to be given carries). `match` is true only when nothing
    mismatches and the bag may be given now (`unit_problems` empty).
    """
    require_role(actor, *PATIENT_ROLES, action="check bags at the bedside")
    order = TherapyOrder.objects.select_related("patient__facility", "chain").filter(coi_lookup("chain", coi)).first()
    if order is None:
        raise ValidationError({"coi": [f"No order with COI {clean_scan(coi)}."]})
    patient = order.patient
    require_member(actor, patient.facility)
    now = now or timezone.now()
    if unit_id:
        unit = Unit.objects.select_related("batch__product", "current_facility").filter(unit_id=unit_id).first()
        if unit is None:
            raise ValidationError({"unit": [f"No unit {unit_id}."]})
        mismatches = identity_mismatches(
            order=order,
            patient=patient,
            unit=unit,
            scanned_unit=scanned_unit,
            scanned_patient=scanned_patient,
            scanned_birth_date=scanned_birth_date,
        )
    else:
        found, not_found = _bag_scanned(order, scanned_unit)
        unit = found
        if found is not None:
            mismatches = identity_mismatches(
                order=order,
                patient=patient,
                unit=found,
                scanned_unit=scanned_unit,
                scanned_patient=scanned_patient,
                scanned_birth_date=scanned_birth_date,
            )
        else:
            mismatches = [not_found] if not_found else []
            mismatches += wristband_mismatches(
                scanned_patient=scanned_patient,
                scanned_birth_date=scanned_birth_date,
                mrn=patient.mrn,
                birth_date=patient.birth_date,
            )
    bag_matches = unit is not None and not any(m.field == "scanned_unit" for m in mismatches)
    problems = unit_problems(unit=unit, patient=patient, at=now) if bag_matches and unit is not None else []
    return BedsideCheck.objects.create(
        order=order,
        patient=patient,
        unit=unit if bag_matches else None,
        checked_by=actor,
        checked_at=now,
        scanned_unit=scanned_unit,
        scanned_patient=scanned_patient,
        scanned_birth_date=scanned_birth_date,
        match=bag_matches and not mismatches and not problems,
        mismatches=[m.as_dict() for m in mismatches],
        unit_problems=[{"code": p.code, "detail": p.detail} for p in problems],
    )


def _bag_scanned(order: TherapyOrder, scanned: str) -> tuple[Unit | None, Mismatch | None]:
    """The order's bag the scan names, or why none: no bag yet, none named, or a DIN that several bags carry."""
    bags = list(
        Unit.objects.select_related("batch__product", "current_facility")
        .filter(chain_id=order.chain_id)
        .order_by("unit_id")
    )
    standing = [bag for bag in bags if bag.status not in SPENT]
    expected = ", ".join(bag.unit_id for bag in standing or bags)
    scan = clean_scan(scanned)
    if not bags:
        return None, Mismatch("scanned_unit", "", scan, "This order has no bag yet.")
    # The bags of one batch come from the same donations (an autologous order's all do; an allogeneic order's units
    # may come from several donors' batches): their DINs are read once per batch, and only if a DIN was scanned.
    dins: dict[int, Callable[[], list[str]]] = {}
    for bag in bags:
        dins.setdefault(bag.batch_id, cache(lambda bag=bag: unit_dins(bag)))
    refusals = {
        bag.unit_id: bag_refusal(scanned, bag_of(bag, coi=order.chain.coi, dins=dins[bag.batch_id])) for bag in bags
    }
    named = [bag for bag in bags if refusals[bag.unit_id] is None]
    if len(named) == 1:
        return named[0], None
    if named:  # a DIN: every bag of the donation carries it
        still = [bag for bag in named if bag.status not in SPENT]
        if len(still) == 1:
            return still[0], None
        reason = (
            f"This DIN is on {len(still)} bags of this order: scan the bag's unit id (or its 2-D code) to say which."
            if still
            else "Every bag of this order with this DIN has been given or discarded."
        )
        return None, Mismatch("scanned_unit", expected, scan, reason)
    why = refusals[bags[0].unit_id] if len(bags) == 1 else None
    return None, Mismatch("scanned_unit", expected, scan, why or "The scanned bag is not one of this order's bags.")
