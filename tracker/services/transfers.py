"""Moving a patient's follow-up to another facility, with its whole history.

Every record of the patient (orders, infusions, assessments, events, visits, schedule, registry documents) points at
the patient, not at a facility, so moving the patient moves their history intact: the new facility's staff see all
of it from the moment of the transfer. The old facility keeps:
- nothing of the patient side: the patient, their records and their reminders are scoped by the patient's facility,
  so the old facility's staff no longer see them (404, like any patient not theirs);
- the product side it always saw (the chain, its units and custody), which names no patient;
- the course in its surveillance figures: a course is counted where it was infused (aggregates, no patient).
The transfer itself (from, to, the MRNs, who, when, why) is kept, append-only, and audited.
"""

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from products.audit import audit_patient_reason
from products.choices import FacilityKind, Role
from products.models import Facility
from products.services.guards import require_member, require_role
from tracker.choices import ReminderStatus
from tracker.models import Patient, PatientTransfer, Reminder

TRANSFER_ROLES = (Role.COORDINATOR,)


@transaction.atomic
def patient_transfer(
    *,
    actor: User,
    patient_id: int,
    facility: Facility,
    reason: str,
    mrn: str = "",
    now: datetime | None = None,
) -> PatientTransfer:
    """Move the patient's follow-up to `facility` (a treatment facility), under `mrn` there (default: the same).

    Only a coordinator of the patient's current facility may hand the patient over (they need not belong to the
    new one). The patient's open reminders move with them, so escalations reach the new facility's staff.
    """
    require_role(actor, *TRANSFER_ROLES, action="transfer patients")
    patient = Patient.objects.select_for_update(of=("self",)).select_related("facility").get(id=patient_id)
    require_member(actor, patient.facility)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the patient's follow-up moves (21 CFR 11.10(e))."]})
    if facility.id == patient.facility_id:
        raise ValidationError({"facility": [f"The patient is already followed at {facility.code}."]})
    if facility.kind != FacilityKind.TREATMENT or not facility.is_active:
        raise ValidationError({"facility": ["Patients are followed at an active treatment facility."]})
    new_mrn = mrn.strip() or patient.mrn
    if Patient.objects.filter(facility=facility, mrn=new_mrn).exists():
        raise ValidationError({"mrn": [f"A patient with this MRN is already registered at {facility.code}."]})
    audit_patient_reason(f"Follow-up transferred to {facility.code}: {reason}")
    transfer = PatientTransfer.objects.create(
        patient=patient,
        from_facility=patient.facility,
        to_facility=facility,
        previous_mrn=patient.mrn,
        mrn=new_mrn,
        reason=reason,
        transferred_by=actor,
        transferred_at=now or timezone.now(),
    )
    patient.facility, patient.mrn = facility, new_mrn
    patient.save(update_fields=["facility", "mrn", "updated_at"])
    # Reminders still to act on go to the new facility (its on-call staff are escalated to); resolved ones stay as
    # they were, as history.
    Reminder.objects.filter(patient=patient).exclude(status=ReminderStatus.RESOLVED).update(facility=facility)
    return transfer
