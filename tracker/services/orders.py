"""Patients and therapy orders: the bridge from a person to a chain of identity."""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from products.choices import FacilityKind, Role
from products.models import Facility, Product
from products.services.chains import chain_create
from products.services.donors import hla_clean
from products.services.guards import require_member, require_role
from tracker.models import Patient, PatientWeight, TherapyOrder
from tracker.rules.ranges import WEIGHT_KG
from tracker.rules.reporting import order_trial_errors

PATIENT_ROLES = (Role.COORDINATOR, Role.CLINICIAN, Role.INTEGRATION)


@transaction.atomic
def patient_create(
    *,
    actor: User,
    facility: Facility,
    mrn: str,
    given_name: str,
    family_name: str,
    birth_date: date,
    sex: str,
    weight_kg: Decimal | None = None,
    weighed_on: date | None = None,
    hla: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Patient:
    """Register a patient; a weight given is the first of the patient's dated weights (default: weighed today).
    `hla`: the typing for allogeneic products, in allele notation (400 otherwise)."""
    today = timezone.localdate(now)
    require_role(actor, *PATIENT_ROLES, action="register patients")
    require_member(actor, facility)
    if facility.kind != FacilityKind.TREATMENT:
        raise ValidationError({"facility": ["Patients are registered at a treatment facility."]})
    if birth_date > today:
        raise ValidationError({"birth_date": ["Cannot be in the future."]})
    if weight_kg is not None:
        _check_weight(weight_kg, weighed_on, birth_date, today=today)
    typing = hla_clean(hla)
    mrn = mrn.strip()
    if not mrn:
        raise ValidationError({"mrn": ["Required."]})
    if Patient.objects.filter(facility=facility, mrn=mrn).exists():
        raise ValidationError({"mrn": [f"A patient with this MRN is already registered at {facility.code}."]})
    patient = Patient.objects.create(
        facility=facility,
        mrn=mrn,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        birth_date=birth_date,
        sex=sex,
        weight_kg=weight_kg,
        hla=typing,
    )
    if weight_kg is not None:
        PatientWeight.objects.create(
            patient=patient,
            weight_kg=weight_kg,
            measured_on=weighed_on or today,
            recorded_by=actor,
            note="At registration",
        )
    return patient


def _check_weight(weight_kg: Decimal, measured_on: date | None, birth_date: date, *, today: date) -> None:
    if Decimal(weight_kg) not in WEIGHT_KG:
        raise ValidationError({"weight_kg": [WEIGHT_KG.message]})
    if measured_on is not None and measured_on > today:
        raise ValidationError({"measured_on": ["A weight cannot be dated in the future."]})
    if measured_on is not None and measured_on < birth_date:
        raise ValidationError({"measured_on": ["A weight cannot be dated before the patient's birth."]})


@transaction.atomic
def patient_weight_record(
    *,
    actor: User,
    patient_id: int,
    weight_kg: Decimal,
    measured_on: date,
    note: str = "",
    now: datetime | None = None,
) -> PatientWeight:
    """Record a dated weight. Doses per kg use the latest weight on or before the infusion day, so a weight
    recorded later never changes the dose of an infusion already given; the patient record shows the latest."""
    patient = Patient.objects.select_for_update(of=("self",)).select_related("facility").get(id=patient_id)
    require_role(actor, *PATIENT_ROLES, action="record weights")
    require_member(actor, patient.facility)
    _check_weight(weight_kg, measured_on, patient.birth_date, today=timezone.localdate(now))
    weight = PatientWeight.objects.create(
        patient=patient, weight_kg=weight_kg, measured_on=measured_on, recorded_by=actor, note=note.strip()
    )
    latest = PatientWeight.objects.filter(patient=patient).order_by("-measured_on", "-id").first()
    if latest is not None and patient.weight_kg != latest.weight_kg:
        patient.weight_kg = latest.weight_kg
        patient.save(update_fields=["weight_kg", "updated_at"])
    return weight


@transaction.atomic
def patient_hla_update(*, actor: User, patient_id: int, hla: Mapping[str, Any] | None) -> Patient:
    """Record (or correct) the patient's HLA typing; every change is in the audit trail."""
    patient = Patient.objects.select_for_update(of=("self",)).select_related("facility").get(id=patient_id)
    require_role(actor, *PATIENT_ROLES, action="record HLA typing")
    require_member(actor, patient.facility)
    typing = hla_clean(hla)
    if typing != patient.hla:
        patient.hla = typing
        patient.save(update_fields=["hla", "updated_at"])
    return patient


@transaction.atomic
def order_create(
    *,
    actor: User,
    patient: Patient,
    product: Product,
    collection_facility: Facility | None = None,
    note: str = "",
    trial_protocol: str = "",
    ind_number: str = "",
    now: datetime | None = None,
) -> TherapyOrder:
    """Order a product for a patient; the product side gets a new COI carrying no patient identifier.

    An order given in a clinical trial names the trial's protocol (and its IND or CTA number, which a licensed
    product has none of its own to lend): the order's trial then decides the reporting rules of the course's
    adverse events over the product's status (tracker.rules.reporting.trial_context)."""
    require_role(actor, *PATIENT_ROLES, action="order therapies")
    require_member(actor, patient.facility)
    if not product.is_active:
        raise ValidationError({"product": [f"Product {product.code} is not active."]})
    if collection_facility is not None and collection_facility.kind == FacilityKind.MANUFACTURING:
        raise ValidationError({"collection_facility": ["Cells are collected at a collection or treatment facility."]})
    trial_protocol, ind_number = trial_protocol.strip(), ind_number.strip()
    errors = order_trial_errors(
        product_status=product.regulatory_status,
        product_ind_number=product.ind_number,
        order_trial_protocol=trial_protocol,
        order_ind_number=ind_number,
    )
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    chain = chain_create(
        product=product, treatment_facility=patient.facility, collection_facility=collection_facility, now=now
    )
    return TherapyOrder.objects.create(
        patient=patient,
        product=product,
        chain=chain,
        ordered_by=actor,
        ordered_at=now,
        note=note,
        trial_protocol=trial_protocol,
        ind_number=ind_number,
    )
