"""Lost to follow-up (no contact for longer than the product's protocol allows) and moving a patient's follow-up to
another facility (history intact, seen by the new facility, no longer by the old one), through the services."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import ProgrammingError, transaction
from django.utils import timezone

from products.audit import audit_context
from products.choices import Role
from products.errors import PermissionDeniedError
from products.models import MonitoringProtocol
from tests import journey
from tests.factories import UserFactory
from tracker.follow_up import lost_to_follow_up, patient_lost_to_follow_up
from tracker.models import Patient, PatientEvent, PatientTransfer, Reminder
from tracker.selectors import assessments_visible_to, patients_visible_to
from tracker.services.clinical import adverse_event_record, assessment_record, follow_up_record
from tracker.services.orders import patient_create
from tracker.services.scan import monitoring_scan
from tracker.services.transfers import patient_transfer
from tracker.surveillance import surveillance_summary

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


def lost(world) -> list[int]:
    return list(lost_to_follow_up(user=world.coordinator, now=timezone.now()).values_list("id", flat=True))


def test_a_patient_without_contact_for_longer_than_the_protocol_allows_is_lost(world):
    # car_t_standard allows 450 days (the migration's default); the infusion itself was the last contact
    silent, _ = journey.infused_patient(world, days_ago=460)
    seen, _ = journey.infused_patient(world, days_ago=460)
    follow_up_record(
        actor=world.clinician, patient=seen.patient, visit_date=(timezone.now() - timedelta(days=30)).date()
    )
    journey.infused_patient(world, days_ago=400)  # within the limit

    assert lost(world) == [silent.patient_id]
    patient = lost_to_follow_up(user=world.coordinator, now=timezone.now()).get()
    assert patient.allowed_days == 450
    assert (timezone.now() - patient.last_contact_at).days == 460


def test_each_patient_carries_the_same_flag_as_the_list(world):
    silent, _ = journey.infused_patient(world, days_ago=460)
    recent, _ = journey.infused_patient(world, days_ago=449)
    now = timezone.now()

    flag = patient_lost_to_follow_up(patient=silent.patient, now=now)
    assert flag is not None and flag.allowed_days == 450
    assert flag.lost_since == flag.last_contact_at + timedelta(days=450) < now
    assert patient_lost_to_follow_up(patient=recent.patient, now=now) is None
    # the day the limit passes, the flag comes
    assert patient_lost_to_follow_up(patient=recent.patient, now=now + timedelta(days=2)) is not None


def test_the_limit_is_the_protocols_data(world):
    silent, _ = journey.infused_patient(world, days_ago=460)
    MonitoringProtocol.objects.filter(code="car_t_standard").update(lost_to_follow_up_days=500)
    assert lost(world) == []
    MonitoringProtocol.objects.filter(code="car_t_standard").update(lost_to_follow_up_days=300)
    assert lost(world) == [silent.patient_id]


def test_every_kind_of_contact_counts_and_the_dead_are_not_lost(world):
    assessed, _ = journey.infused_patient(world, days_ago=460)
    assessment_record(actor=world.clinician, patient=assessed.patient, assessed_at=timezone.now() - timedelta(days=100))
    declared, _ = journey.infused_patient(world, days_ago=460)
    # a visit that records the patient as lost is no contact
    follow_up_record(
        actor=world.clinician,
        patient=declared.patient,
        visit_date=(timezone.now() - timedelta(days=10)).date(),
        survival_status="lost_to_follow_up",
    )
    dead, dead_administration = journey.infused_patient(world, days_ago=460)
    adverse_event_record(
        actor=world.clinician,
        patient=dead.patient,
        term="infection",
        grade=5,
        onset_at=dead_administration.administered_at + timedelta(days=20),
        aware_at=dead_administration.administered_at + timedelta(days=21),
        serious=True,
        expected=False,
    )

    assert lost(world) == [declared.patient_id]


def test_only_coordinators_see_who_is_lost_and_only_their_facilities(world):
    silent, _ = journey.infused_patient(world, days_ago=460)
    assert lost_to_follow_up(user=world.clinician, now=timezone.now()).count() == 0
    other = UserFactory(username="coord-other", roles=[Role.COORDINATOR], facilities=[world.other_hospital])
    assert lost_to_follow_up(user=other, now=timezone.now()).count() == 0
    assert lost(world) == [silent.patient_id]


def test_a_transfer_moves_the_follow_up_with_its_whole_history(world):
    order, administration = journey.infused_patient(world, days_ago=2)
    patient = order.patient
    mrn = patient.mrn
    assessment_record(actor=world.clinician, patient=patient, assessed_at=timezone.now() - timedelta(hours=1))
    monitoring_scan()
    open_reminders = set(
        Reminder.objects.filter(patient=patient).exclude(status="resolved").values_list("id", flat=True)
    )
    assert open_reminders
    new_nurse = world.other_clinician

    transfer = patient_transfer(
        actor=world.coordinator,
        patient_id=patient.id,
        facility=world.other_hospital,
        reason="Moved to be near family",
        mrn="ELSE-777",
    )

    patient.refresh_from_db()
    assert (patient.facility_id, patient.mrn) == (world.other_hospital.id, "ELSE-777")
    assert (transfer.from_facility_id, transfer.to_facility_id, transfer.previous_mrn) == (
        world.hospital.id,
        world.other_hospital.id,
        mrn,
    )
    # the new facility sees the patient and every record; the old one no longer sees the patient
    assert patients_visible_to(new_nurse).filter(id=patient.id).exists()
    assert assessments_visible_to(new_nurse).filter(patient=patient).count() == 1
    assert not patients_visible_to(world.clinician).filter(id=patient.id).exists()
    # reminders still to act on went with the patient
    assert set(Reminder.objects.filter(id__in=open_reminders).values_list("facility_id", flat=True)) == {
        world.other_hospital.id
    }
    # the course stays in the infusing facility's figures
    assert surveillance_summary(user=world.coordinator).total.patients_infused == 1
    assert administration.patient_id == patient.id


def test_a_transfer_is_kept_as_it_was_written_with_its_reason_in_the_audit_trail(world):
    order, _ = journey.infused_patient(world, days_ago=2)
    with audit_context(actor="test", user_id=world.coordinator.pk):
        transfer = patient_transfer(
            actor=world.coordinator, patient_id=order.patient_id, facility=world.other_hospital, reason="Moved"
        )

    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        PatientTransfer.objects.filter(id=transfer.id).update(reason="Edited")
    history = PatientEvent.objects.filter(pgh_obj_id=order.patient_id, pgh_label="update").select_related("pgh_context")
    # a reason about a patient: under the key only patient-side history shows
    assert history.get().pgh_context.metadata["patient_reason"] == "Follow-up transferred to elsewhere: Moved"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"facility": "hospital"}, "facility"),
        ({"facility": "factory"}, "facility"),
        ({"mrn": "TAKEN-1"}, "mrn"),
    ],
)
def test_a_transfer_needs_a_reason_another_treatment_facility_and_a_free_mrn(world, change, field):
    order, _ = journey.infused_patient(world, days_ago=2)
    registrar = UserFactory(username="int-else", roles=[Role.INTEGRATION], facilities=[world.other_hospital])
    patient_create(
        actor=registrar,
        facility=world.other_hospital,
        mrn="TAKEN-1",
        given_name="Grace",
        family_name="Hopper",
        birth_date=timezone.now().date() - timedelta(days=9000),
        sex="female",
    )
    facilities = {"hospital": world.hospital, "factory": world.factory_site}
    arguments = {"reason": "Moved", "facility": world.other_hospital, "mrn": ""}
    arguments.update({k: facilities.get(v, v) if k == "facility" else v for k, v in change.items()})

    with pytest.raises(ValidationError) as refused:
        patient_transfer(actor=world.coordinator, patient_id=order.patient_id, **arguments)

    assert field in refused.value.message_dict
    assert not PatientTransfer.objects.exists()
    assert Patient.objects.get(id=order.patient_id).facility_id == world.hospital.id


def test_only_a_coordinator_of_the_patients_facility_transfers(world):
    order, _ = journey.infused_patient(world, days_ago=2)
    stranger = UserFactory(username="coord-other", roles=[Role.COORDINATOR], facilities=[world.other_hospital])
    for actor in (world.clinician, stranger):
        with pytest.raises(PermissionDeniedError):
            patient_transfer(actor=actor, patient_id=order.patient_id, facility=world.other_hospital, reason="Moved")
    assert not PatientTransfer.objects.exists()
