"""Patients and therapy orders: the bridge from a person to a chain of identity."""

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from products.choices import FacilityKind, Role
from products.models import Facility, Product
from products.services.chains import chain_create
from products.services.guards import require_member, require_role
from tracker.models import Patient, TherapyOrder

PATIENT_ROLES = (Role.COORDINATOR, Role.CLINICIAN, Role.INTEGRATION)


@transaction.atomic
def patient_create(
    *,
    actor: AbstractBaseUser,
    facility: Facility,
    mrn: str,
    given_name: str,
    family_name: str,
    birth_date: date,
    sex: str,
    weight_kg: Decimal | None = None,
) -> Patient:
    require_role(actor, *PATIENT_ROLES, action="register patients")
    require_member(actor, facility)
    if facility.kind != FacilityKind.TREATMENT:
        raise ValidationError({"facility": ["Patients are registered at a treatment facility."]})
    if birth_date > date.today():  # noqa: DTZ011 - a birth date is a calendar date, not an instant
        raise ValidationError({"birth_date": ["Cannot be in the future."]})
    if weight_kg is not None and not Decimal("0") < Decimal(weight_kg) < Decimal("1000"):
        raise ValidationError({"weight_kg": ["Must be more than 0 and less than 1000 kg."]})
    mrn = mrn.strip()
    if not mrn:
        raise ValidationError({"mrn": ["Required."]})
    if Patient.objects.filter(facility=facility, mrn=mrn).exists():
        raise ValidationError({"mrn": [f"A patient with this MRN is already registered at {facility.code}."]})
    return Patient.objects.create(
        facility=facility,
        mrn=mrn,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        birth_date=birth_date,
        sex=sex,
        weight_kg=weight_kg,
    )


@transaction.atomic
def order_create(
    *,
    actor: AbstractBaseUser,
    patient: Patient,
    product: Product,
    collection_facility: Facility | None = None,
    note: str = "",
) -> TherapyOrder:
    """Order a product for a patient; the product side gets a new COI carrying no patient identifier."""
    require_role(actor, *PATIENT_ROLES, action="order therapies")
    require_member(actor, patient.facility)
    if not product.is_active:
        raise ValidationError({"product": [f"Product {product.code} is not active."]})
    if collection_facility is not None and collection_facility.kind == FacilityKind.MANUFACTURING:
        raise ValidationError({"collection_facility": ["Cells are collected at a collection or treatment facility."]})
    chain = chain_create(product=product, treatment_facility=patient.facility, collection_facility=collection_facility)
    return TherapyOrder.objects.create(patient=patient, product=product, chain=chain, ordered_by=actor, note=note)
