"""Administration with bedside verification: the right product into the right patient, once."""

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from products.choices import BatchStatus, CoiStatus, SignatureMeaning, UnitStatus
from products.errors import OutOfSequence, UnitExpired, UnitNotReleased
from products.models import ChainOfIdentity, Unit
from products.rules.isbt128 import normalize
from products.services.chains import chain_advance
from products.services.collections import not_in_future
from products.services.guards import require_member, require_role
from products.services.signatures import signature_capture, signature_verify
from products.services.units import unit_mark_administered
from tracker.errors import AlreadyAdministered, IdentityMismatch, UnitNotAtSite, UnitNotThawed
from tracker.models import Administration, TherapyOrder
from tracker.services.monitoring import schedule_instantiate
from tracker.services.orders import PATIENT_ROLES

AT_SITE = {UnitStatus.RECEIVED, UnitStatus.STORED, UnitStatus.THAWED, UnitStatus.DISPENSED}


def _same(scanned: str, expected: str) -> bool:
    return normalize(scanned) == normalize(expected)


def administration_record(**kwargs: Any) -> Administration:
    """Record an administration after the bedside check; refuse (and write nothing) if any check fails.

    A second person's signature password is verified first, outside the transaction, so that a wrong
    password stays on record (21 CFR 11.300(d)) although the administration is refused.
    """
    verifier_username = kwargs.get("verifier_username") or ""
    if verifier_username:
        verifier = get_user_model().objects.filter(username=verifier_username, is_active=True).first()
        if verifier is not None and verifier.pk != kwargs["actor"].pk:
            signature_verify(
                signer=verifier, password=kwargs.get("verifier_password") or "", record=f"unit:{kwargs['unit_id']}"
            )
    return _administration_record(**kwargs)


@transaction.atomic
def _administration_record(
    *,
    actor: AbstractBaseUser,
    coi: str,
    unit_id: str,
    administered_at: datetime,
    route: str,
    scanned_unit: str,
    scanned_patient: str,
    verifier_username: str = "",
    verifier_password: str = "",
    premedication: str = "",
    infusion_reaction: str = "",
    note: str = "",
) -> Administration:
    require_role(actor, *PATIENT_ROLES, action="record administrations")
    order = TherapyOrder.objects.select_related("patient__facility", "chain").filter(chain__coi=coi).first()
    if order is None:
        raise ValidationError({"coi": [f"No order with COI {coi}."]})
    patient = order.patient
    require_member(actor, patient.facility)
    not_in_future(administered_at, "administered_at")
    # The unit row lock makes a concurrent second administration of this bag wait, then fail below.
    unit = (
        Unit.objects.select_for_update(of=("self",))
        .select_related("batch__product", "current_facility")
        .filter(unit_id=unit_id)
        .first()
    )
    if unit is None:
        raise ValidationError({"unit": [f"No unit {unit_id}."]})

    # Chain of identity first: the wrong bag or the wrong patient is the fatal error.
    if not (_same(scanned_unit, unit.unit_id) and unit.chain_id == order.chain_id):
        raise IdentityMismatch("The scanned bag is not this order's unit.")
    if not _same(scanned_patient, patient.mrn):
        raise IdentityMismatch("The scanned wristband is not this order's patient.")
    if unit.status == UnitStatus.ADMINISTERED or Administration.objects.filter(unit=unit, voided_at=None).exists():
        raise AlreadyAdministered(f"Unit {unit.unit_id} has already been administered.")
    if unit.batch.status != BatchStatus.RELEASED:
        raise UnitNotReleased(f"Unit {unit.unit_id}'s batch is {unit.batch.status}.")
    if unit.current_facility_id != patient.facility_id or unit.status not in AT_SITE:
        raise UnitNotAtSite(f"Unit {unit.unit_id} is {unit.status} at {unit.current_facility.code}.")
    if unit.is_expired(administered_at):
        raise UnitExpired(f"Unit {unit.unit_id} is past its expiry or use-by time.")
    if unit.batch.product.cryopreserved and unit.thawed_at is None:
        raise UnitNotThawed(f"Unit {unit.unit_id} has not been thawed.")
    if unit.last_event_at is not None and administered_at < unit.last_event_at:
        raise OutOfSequence(f"Unit {unit.unit_id}'s last custody event was at {unit.last_event_at.isoformat()}.")

    signature = None
    if verifier_username:
        verifier = get_user_model().objects.filter(username=verifier_username, is_active=True).first()
        if verifier is None or verifier.pk == actor.pk:
            raise ValidationError({"verifier_username": ["A second, different user verifies the bedside check."]})
        require_member(verifier, patient.facility)
        signature = signature_capture(
            signer=verifier,
            password=verifier_password,
            meaning=SignatureMeaning.VERIFICATION,
            statement="Bedside identity check verified",
            record=f"unit:{unit.unit_id}",
        )

    weight = patient.weight_kg
    try:
        with transaction.atomic():
            administration = Administration.objects.create(
                order=order,
                patient=patient,
                unit=unit,
                administered_at=administered_at,
                route=route,
                scanned_unit=scanned_unit,
                scanned_patient=scanned_patient,
                dose_cells=unit.dose_cells,
                weight_kg=weight,
                dose_cells_per_kg=round(unit.dose_cells / weight) if weight else None,
                administered_by=actor,
                verification_signature=signature,
                premedication=premedication,
                infusion_reaction=infusion_reaction,
                note=note,
                unit_status_before=unit.status,
            )
    except IntegrityError as exc:  # the unique constraint on unit: a backstop should the lock ever be bypassed
        raise AlreadyAdministered() from exc
    unit_mark_administered(unit=unit, at=administered_at)
    chain = ChainOfIdentity.objects.select_for_update().get(id=order.chain_id)
    if chain.status != CoiStatus.ADMINISTERED:
        chain_advance(chain=chain, to=CoiStatus.ADMINISTERED)
    # In the same transaction: an administration never exists without its monitoring schedule.
    schedule_instantiate(administration=administration)
    return administration
