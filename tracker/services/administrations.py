"""Administration with bedside verification: the right product into the right patient, once, checked by two people.

The order of the checks is the rule (README, hard stops): the caller's own rights, the order, the identity
(bag, wristband MRN and birth date), the unit's state and who the verifier is are all checked first, and only then
is the verifier's password tried. So a caller who may not record this administration (wrong role, another
facility, the wrong patient, a unit that may not be given...) learns nothing about anyone's password and adds no
signature failure to anyone's record: the §11.300(d) lockout cannot be used to lock a colleague out of signing.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from products.access import user_roles
from products.choices import BatchStatus, Role, SignatureMeaning, UnitStatus
from products.errors import DomainError, OutOfSequence, UnitExpired, UnitNotReleased
from products.models import ChainOfIdentity, FacilityMembership, Unit
from products.rules.chains import ChainEvent
from products.rules.isbt128 import clean_scan
from products.selectors import unit_dins, units_visible_to
from products.services.chains import chain_apply
from products.services.collections import not_in_future
from products.services.guards import require_role
from products.services.holds import unit_hold_refusal
from products.services.signatures import signature_capture, signature_verify
from products.services.units import unit_mark_administered
from tracker.errors import AlreadyAdministered, IdentityMismatch, UnitNotAtSite, UnitNotThawed
from tracker.models import Administration, Patient, TherapyOrder
from tracker.rules.bedside import Bag, Mismatch, bag_refusal, wristband_mismatches
from tracker.selectors import orders_visible_to, weight_on
from tracker.services.monitoring import course_schedule_sync
from tracker.services.orders import PATIENT_ROLES

AT_SITE = {UnitStatus.RECEIVED, UnitStatus.STORED, UnitStatus.THAWED, UnitStatus.DISPENSED}
# The second person at the bedside: a nurse or doctor of the patient's facility (a role itself, not superuser).
VERIFIER_ROLES = frozenset({Role.CLINICIAN, Role.COORDINATOR})


@dataclass(frozen=True)
class BedsideScan:
    """What the bedside check compares: the order, the bag, the wristband's two identifiers, the second person."""

    coi: str
    unit_id: str
    administered_at: datetime
    scanned_unit: str
    scanned_patient: str
    scanned_birth_date: date | None
    verifier_username: str


@dataclass(frozen=True)
class Checked:
    order: TherapyOrder
    patient: Patient
    unit: Unit
    verifier: User


def administration_record(
    *,
    actor: User,
    coi: str,
    unit_id: str,
    administered_at: datetime,
    route: str,
    scanned_unit: str,
    scanned_patient: str,
    scanned_birth_date: date | None,
    verifier_username: str,
    verifier_password: str,
    premedication: str = "",
    infusion_reaction: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Administration:
    """Record an administration after the bedside check; refuse (and write nothing) if any check fails.

    Every check runs first without writing (`_bedside_check`); then the verifier's password is verified outside
    the transaction, so that a wrong one stays on record (21 CFR 11.300(d)) although the administration is
    refused; then, in one transaction under the unit's row lock, everything is checked again and written.
    """
    scan = BedsideScan(
        coi=coi,
        unit_id=unit_id,
        administered_at=administered_at,
        scanned_unit=scanned_unit,
        scanned_patient=scanned_patient,
        scanned_birth_date=scanned_birth_date,
        verifier_username=(verifier_username or "").strip(),
    )
    now = now or timezone.now()
    _require_input(scan, verifier_password)
    checked = _bedside_check(actor, scan, lock=False, now=now)
    # Only now, with every other check passed, is anyone's password tried.
    signature_verify(
        signer=checked.verifier, password=verifier_password, record=f"unit:{checked.unit.unit_id}", now=now
    )
    return _administration_write(
        actor,
        scan,
        verifier_password=verifier_password,
        route=route,
        premedication=premedication,
        infusion_reaction=infusion_reaction,
        note=note,
        now=now,
    )


def _require_input(scan: BedsideScan, verifier_password: str) -> None:
    errors = {}
    if not scan.verifier_username:
        errors["verifier_username"] = ["A second person checks every administration: give their username."]
    elif not verifier_password:
        errors["verifier_password"] = ["The second person signs with their own password."]
    if scan.scanned_birth_date is None:
        errors["scanned_birth_date"] = ["Scan or type the birth date on the wristband (the second identifier)."]
    if errors:
        raise ValidationError(errors)


def _bedside_check(actor: User, scan: BedsideScan, *, lock: bool, now: datetime) -> Checked:
    """Every refusal but the password's, in the order of the README's hard stops. Reads only (`lock` takes the
    unit's row lock)."""
    # 1. The caller's own rights.
    require_role(actor, *PATIENT_ROLES, action="record administrations")
    # 2. The order, among those of the caller's facilities: another facility's order "does not exist", exactly as
    # an unknown COI does (the answer tells nothing about other facilities' orders).
    order = orders_visible_to(actor).filter(chain__coi=scan.coi).first()
    if order is None:
        raise ValidationError({"coi": [f"No order with COI {scan.coi}."]})
    patient = order.patient
    not_in_future(scan.administered_at, "administered_at", now=now)
    units = units_visible_to(actor)
    if lock:
        # The unit row lock makes a concurrent second administration of this bag wait, then fail below.
        units = units.select_for_update(of=("self",))
    unit = units.filter(unit_id=scan.unit_id).first()
    if unit is None:
        raise ValidationError({"unit": [f"No unit {scan.unit_id}."]})
    # 3. Chain of identity: the wrong bag or the wrong patient is the fatal error.
    _check_identity(order=order, patient=patient, unit=unit, scan=scan)
    # 4. The unit's own state.
    check_unit_usable(unit=unit, patient=patient, administered_at=scan.administered_at)
    # 5. Who the second person is (never their password: that comes after every check).
    verifier = _verifier(actor=actor, patient=patient, username=scan.verifier_username)
    return Checked(order=order, patient=patient, unit=unit, verifier=verifier)


def _check_identity(*, order: TherapyOrder, patient: Patient, unit: Unit, scan: BedsideScan) -> None:
    mismatches = identity_mismatches(
        order=order,
        patient=patient,
        unit=unit,
        scanned_unit=scan.scanned_unit,
        scanned_patient=scan.scanned_patient,
        scanned_birth_date=scan.scanned_birth_date,
    )
    if mismatches:
        raise IdentityMismatch(mismatches[0].reason)


def bag_of(unit: Unit, *, coi: str, dins: Callable[[], list[str]] | None = None) -> Bag:
    """What names `unit` at the bedside (tracker.rules.bedside); its DINs are read only if a DIN was scanned."""
    return Bag(unit_id=unit.unit_id, coi=coi, expires_at=unit.expires_at, dins=dins or (lambda: unit_dins(unit)))


def identity_mismatches(
    *,
    order: TherapyOrder,
    patient: Patient,
    unit: Unit,
    scanned_unit: str,
    scanned_patient: str,
    scanned_birth_date: date | None,
) -> list[Mismatch]:
    """The chain of identity at the bedside, for the administration and the bedside check alike: the scanned bag
    must be `unit` and `unit` this order's; the wristband's MRN and birth date the order's patient's."""
    mismatches = []
    if unit.chain_id != order.chain_id:
        mismatches.append(
            Mismatch("scanned_unit", unit.unit_id, clean_scan(scanned_unit), "The bag is not this order's unit.")
        )
    elif refusal := bag_refusal(scanned_unit, bag_of(unit, coi=order.chain.coi)):
        mismatches.append(Mismatch("scanned_unit", unit.unit_id, clean_scan(scanned_unit), refusal))
    # Two patient identifiers (Joint Commission NPSG.01.01.01): the MRN and the birth date on the wristband.
    mismatches += wristband_mismatches(
        scanned_patient=scanned_patient,
        scanned_birth_date=scanned_birth_date,
        mrn=patient.mrn,
        birth_date=patient.birth_date,
    )
    return mismatches


def check_unit_usable(*, unit: Unit, patient: Patient, administered_at: datetime) -> None:
    """Refuse a unit that may not be given (the first reason of `unit_problems`). Checked before any password."""
    for problem in _unit_refusals(unit=unit, patient=patient, at=administered_at):
        raise problem


def unit_problems(*, unit: Unit, patient: Patient, at: datetime) -> list[DomainError]:
    """Every reason `unit` may not be given to `patient` at `at`, in the order check_unit_usable refuses them."""
    return list(_unit_refusals(unit=unit, patient=patient, at=at))


def _unit_refusals(*, unit: Unit, patient: Patient, at: datetime) -> Iterator[DomainError]:
    """Every refusal about the unit's own state, and the only place they are made: given already, on hold, not
    released, not here, expired, not thawed, or given before its last custody event."""
    if unit.status == UnitStatus.ADMINISTERED or Administration.objects.filter(unit=unit, voided_at=None).exists():
        yield AlreadyAdministered(f"Unit {unit.unit_id} has already been administered.")
    # An open hold on the bag or its batch (an excursion, an OOS result, a recall) stops it at the bedside.
    if (on_hold := unit_hold_refusal(unit)) is not None:
        yield on_hold
    if unit.batch.status != BatchStatus.RELEASED:
        yield UnitNotReleased(f"Unit {unit.unit_id}'s batch is {unit.batch.status}.")
    if unit.current_facility_id != patient.facility_id or unit.status not in AT_SITE:
        yield UnitNotAtSite(f"Unit {unit.unit_id} is {unit.status} at {unit.current_facility.code}.")
    if unit.is_expired(at):
        yield UnitExpired(f"Unit {unit.unit_id} is past its expiry or use-by time.")
    if unit.batch.product.cryopreserved and unit.thawed_at is None:
        yield UnitNotThawed(f"Unit {unit.unit_id} has not been thawed.")
    if unit.last_event_at is not None and at < unit.last_event_at:
        yield OutOfSequence(f"Unit {unit.unit_id}'s last custody event was at {unit.last_event_at.isoformat()}.")


def _verifier(*, actor: User, patient: Patient, username: str) -> User:
    """The second person: another active clinician or coordinator who is a member of the patient's facility.
    One message for every way a name fails, so the answer tells nobody which usernames exist elsewhere."""
    if username.casefold() == actor.get_username().casefold():
        raise ValidationError({"verifier_username": ["You cannot verify your own check: a second person does."]})
    verifier = get_user_model().objects.filter(username=username, is_active=True).first()
    eligible = (
        verifier is not None
        and verifier.pk != actor.pk
        and bool(user_roles(verifier) & VERIFIER_ROLES)
        and FacilityMembership.objects.filter(user=verifier, facility_id=patient.facility_id).exists()
    )
    if verifier is None or not eligible:
        raise ValidationError(
            {
                "verifier_username": [
                    f"{username} cannot verify this check: the second person is another active clinician or "
                    f"coordinator of {patient.facility.name}."
                ]
            }
        )
    return verifier


@transaction.atomic
def _administration_write(
    actor: User,
    scan: BedsideScan,
    *,
    verifier_password: str,
    route: str,
    premedication: str,
    infusion_reaction: str,
    note: str,
    now: datetime,
) -> Administration:
    # Everything again under the unit's row lock: the state may have changed since the first pass.
    checked = _bedside_check(actor, scan, lock=True, now=now)
    order, patient, unit = checked.order, checked.patient, checked.unit
    signature = signature_capture(
        signer=checked.verifier,
        password=verifier_password,
        meaning=SignatureMeaning.VERIFICATION,
        statement="Bedside identity check verified",
        record=f"unit:{unit.unit_id}",
        now=now,
    )
    # The weight of the infusion day, not whatever the patient record says later.
    weight = weight_on(patient_id=patient.id, day=timezone.localdate(scan.administered_at))
    try:
        with transaction.atomic():
            administration = Administration.objects.create(
                order=order,
                patient=patient,
                unit=unit,
                administered_at=scan.administered_at,
                route=route,
                scanned_unit=scan.scanned_unit,
                scanned_patient=scan.scanned_patient,
                scanned_birth_date=scan.scanned_birth_date,
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
    unit_mark_administered(unit=unit, at=scan.administered_at)
    chain = ChainOfIdentity.objects.select_for_update().get(id=order.chain_id)
    chain_apply(chain=chain, event=ChainEvent.ADMINISTERED)
    # In the same transaction: an administration never exists without its monitoring schedule (one per course).
    course_schedule_sync(
        order_id=order.id, resolution="Rescheduled: an earlier infusion of the course was recorded", now=now
    )
    return administration
