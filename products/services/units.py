"""Product units (bags) and their custody log."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from products.choices import BatchStatus, CustodyEvent, HoldKind, Role, Source, UnitStatus
from products.errors import BatchClosed, IllegalTransition, OutOfSequence, UnitExpired, UnitNotReleased, WrongFacility
from products.models import Batch, CustodyRecord, Facility, Product, Unit
from products.rules import batches as batch_rules
from products.rules import custody
from products.rules.hashchain import GENESIS
from products.selectors import units_visible_to
from products.services.collections import not_in_future
from products.services.guards import require_member, require_role
from products.services.holds import hold_open_by_system, require_not_on_hold
from products.tamper import as_stored, custody_hash

CUSTODY_ROLES = (Role.COORDINATOR, Role.MANUFACTURING, Role.CLINICIAN, Role.INTEGRATION)


@transaction.atomic
def unit_create(
    *,
    actor: User,
    batch_id: int,
    unit_id: str,
    dose_cells: int | None,  # None is refused (400), as from a form left blank
    volume_ml: Decimal | None,
    expires_at: datetime | None = None,
    storage_location: str = "",
    now: datetime | None = None,
) -> Unit:
    require_role(actor, Role.MANUFACTURING, Role.COORDINATOR, Role.INTEGRATION, action="create units")
    batch = Batch.objects.select_for_update(of=("self",)).select_related("product", "facility").get(id=batch_id)
    require_member(actor, batch.facility)
    if not batch_rules.records_open(batch.status):
        raise BatchClosed(f"Batch {batch.lot_number} is {batch.status}: its units are fixed.")
    if dose_cells is None or dose_cells <= 0:
        raise ValidationError({"dose_cells": ["Must be more than 0."]})
    if volume_ml is None or Decimal(volume_ml) <= 0:
        raise ValidationError({"volume_ml": ["Must be more than 0."]})
    if expires_at is None:
        if batch.product.shelf_life_days is None:
            raise ValidationError({"expires_at": ["Required: the product has no default shelf life."]})
        expires_at = (now or timezone.now()) + timedelta(days=batch.product.shelf_life_days)
    if expires_at <= batch.started_at:
        raise ValidationError({"expires_at": ["A unit cannot expire before its batch started."]})
    if Unit.objects.filter(unit_id=unit_id).exists():
        raise ValidationError({"unit_id": [f"Unit {unit_id} already exists."]})
    return Unit.objects.create(
        unit_id=unit_id,
        batch=batch,
        # Autologous: the bag belongs to the batch's patient from the start; allogeneic: at allocation.
        chain=batch.chain if batch.product.source == Source.AUTOLOGOUS else None,
        dose_cells=dose_cells,
        volume_ml=volume_ml,
        expires_at=expires_at,
        current_facility=batch.facility,
        storage_location=storage_location.strip(),
    )


def is_excursion(unit: Unit, temperature_c: Decimal | None) -> bool:
    product = unit.batch.product
    if temperature_c is None:
        return False
    if product.storage_max_temp_c is not None and temperature_c > product.storage_max_temp_c:
        return True
    return product.storage_min_temp_c is not None and temperature_c < product.storage_min_temp_c


def _degrees(value: Decimal) -> str:
    return f"{value.normalize():f}"  # -120, not -120.0


def storage_range(product: Product) -> str:
    low, high = product.storage_min_temp_c, product.storage_max_temp_c
    if low is not None and high is not None:
        return f"{_degrees(low)} to {_degrees(high)} °C"
    if high is not None:
        return f"at or below {_degrees(high)} °C"
    return f"at or above {_degrees(low)} °C" if low is not None else "not set"


@transaction.atomic
def custody_record(
    *,
    actor: User,
    unit_id: str,
    event: str,
    at: datetime,
    facility: Facility,
    temperature_c: Decimal | None = None,
    note: str = "",
    storage_location: str = "",
    now: datetime | None = None,
) -> CustodyRecord:
    """Append one custody event; the unit row lock makes concurrent events on one bag take turns.

    An event outside the storage temperature range opens an excursion hold on the bag in the same
    transaction; while a hold is open the bag is not shipped, thawed or dispensed. `storage_location` says where
    a bag received or stored is kept (inventory); a shipment leaves its place empty.
    """
    require_role(actor, *CUSTODY_ROLES, action="record custody events")
    # Among the units the caller may see: another facility's bag "does not exist", exactly as an unknown one does.
    unit = units_visible_to(actor).select_for_update(of=("self",)).filter(unit_id=unit_id).first()
    if unit is None:
        raise ValidationError({"unit": [f"No unit {unit_id}."]})
    now = now or timezone.now()
    not_in_future(at, "at", now=now)
    # Whoever ships answers for the place the bag leaves; every other event happens where it is recorded.
    require_member(actor, unit.current_facility if event == CustodyEvent.SHIPPED else facility)
    product = unit.batch.product
    why_not = custody.refusal(
        event=event,
        status=unit.status,
        cryopreserved=product.cryopreserved,
        thawed=unit.thawed_at is not None,
        released=unit.batch.status == BatchStatus.RELEASED,
    )
    if why_not is not None:
        code, reason = why_not
        if code == custody.NOT_RELEASED:
            raise UnitNotReleased(reason)
        raise IllegalTransition(reason, unit_status=unit.status)
    if event in custody.BLOCKED_BY_HOLD:
        require_not_on_hold(unit=unit)
    if unit.last_event_at is not None and at < unit.last_event_at:
        raise OutOfSequence(f"The unit's last event was at {unit.last_event_at.isoformat()}.")
    if event == CustodyEvent.SHIPPED:
        if facility.id == unit.current_facility_id:
            raise ValidationError({"facility": ["A shipment goes to another facility (the destination)."]})
        if unit.is_expired(at):
            raise UnitExpired(f"Unit {unit.unit_id} expired at {unit.expires_at.isoformat()}.")
    elif event == CustodyEvent.RECEIVED:
        if facility.id != unit.destination_id:
            raise WrongFacility(f"Unit {unit.unit_id} was shipped to another facility.")
    elif facility.id != unit.current_facility_id:
        raise WrongFacility(f"Unit {unit.unit_id} is at {unit.current_facility.code}, not {facility.code}.")
    if event == CustodyEvent.THAWED and unit.is_expired(at):
        # A thawed bag cannot be frozen again: thawing an expired one only wastes it at the bedside.
        raise UnitExpired(f"Unit {unit.unit_id} expired at {unit.expires_at.isoformat()}: it may not be thawed.")
    location = storage_location.strip()
    if location and event not in custody.LOCATED:
        raise ValidationError({"storage_location": ["A place is given when a unit is received or stored."]})
    if event in custody.LOCATED or event == CustodyEvent.SHIPPED:
        unit.storage_location = location

    record = _append(
        unit, event=event, at=at, facility=facility, actor=actor, temperature_c=temperature_c, note=note, now=now
    )
    if record.excursion:
        assert temperature_c is not None  # only a measured temperature is an excursion
        hold_open_by_system(
            unit=unit,
            kind=HoldKind.EXCURSION,
            reason=f"{record.get_event_display()} at {_degrees(Decimal(temperature_c))} °C, outside the storage "
            f"range of {product.name} ({storage_range(product)}).",
            custody_record=record,
            at=now,
        )
    return record


def custody_discard_on_decision(*, unit: Unit, actor: User, note: str, now: datetime | None = None) -> CustodyRecord:
    """QA's signed decision to discard a held unit, on a unit the caller has locked. The custody rules apply
    (nothing follows an administration); the bag is discarded where it is, by the signer."""
    why_not = custody.refusal(
        event=CustodyEvent.DISCARDED,
        status=unit.status,
        cryopreserved=unit.batch.product.cryopreserved,
        thawed=unit.thawed_at is not None,
        released=unit.batch.status == BatchStatus.RELEASED,
    )
    if why_not is not None:
        raise IllegalTransition(why_not[1], unit_status=unit.status)
    now = now or timezone.now()
    at = max(now, unit.last_event_at or now)  # never dated before the bag's last event
    return _append(
        unit,
        event=CustodyEvent.DISCARDED,
        at=at,
        facility=unit.current_facility,
        actor=actor,
        temperature_c=None,
        note=note,
        now=now,
    )


def _append(
    unit: Unit,
    *,
    event: str,
    at: datetime,
    facility: Facility,
    actor: User,
    temperature_c: Decimal | None,
    note: str,
    now: datetime,
) -> CustodyRecord:
    # Judged and hashed as the column will keep it (one decimal place).
    temperature_c = as_stored(CustodyRecord, "temperature_c", temperature_c)
    record = CustodyRecord(
        unit=unit,
        seq=unit.custody_seq + 1,
        event=event,
        at=at,
        facility=facility,
        from_facility=unit.current_facility,
        temperature_c=temperature_c,
        excursion=event in custody.TEMPERATURE_CHECKED and is_excursion(unit, temperature_c),
        note=note,
        recorded_by=actor,
        recorded_at=now,
    )
    # The caller's row lock on the unit keeps its chain linear: the previous record is at custody_seq.
    record.prev_hash = _custody_head(unit)
    record.hash = custody_hash(vars(record), record.prev_hash)
    record.save(force_insert=True)
    _apply(unit, record, unit.batch.product.shelf_life_after_thaw_minutes)
    return record


def _custody_head(unit: Unit) -> str:
    if unit.custody_seq == 0:
        return GENESIS
    head = CustodyRecord.objects.filter(unit=unit, seq=unit.custody_seq).values_list("hash", flat=True).first()
    # A unit whose last record is gone cannot be chained onto; verify_chain names it.
    if head is None:
        raise IllegalTransition(f"Unit {unit.unit_id}'s custody log is broken: record {unit.custody_seq} is missing.")
    return head


def _apply(unit: Unit, record: CustodyRecord, thaw_minutes: int | None) -> None:
    unit.custody_seq = record.seq
    unit.last_event_at = record.at
    unit.status = custody.STATUS_AFTER[record.event]
    if record.event == CustodyEvent.SHIPPED:
        unit.destination = record.facility
    elif record.event == CustodyEvent.RECEIVED:
        unit.current_facility = record.facility
        unit.destination = None
    elif record.event == CustodyEvent.THAWED:
        unit.thawed_at = record.at
        if thaw_minutes is not None:
            unit.use_by = record.at + timedelta(minutes=thaw_minutes)
    if record.excursion and not unit.temperature_excursion:
        unit.temperature_excursion = True
        unit.excursion_at = record.at
    unit.save()


def unit_mark_administered(*, unit: Unit, at: datetime) -> None:
    """Called by the administration service on a unit it has locked."""
    if unit.status == UnitStatus.ADMINISTERED:
        raise IllegalTransition("The unit is already administered.")
    # A backstop in the administration's transaction; the bedside check calls require_not_on_hold earlier.
    require_not_on_hold(unit=unit)
    unit.status = UnitStatus.ADMINISTERED
    unit.last_event_at = max(at, unit.last_event_at or at)
    unit.save(update_fields=["status", "last_event_at", "updated_at"])
