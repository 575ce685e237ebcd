"""Plain rendering of long lists (products.api.plain): the same JSON as DRF's own serializers, field for field, for
the values that differ in how they are written (nulls, decimals, relations, instants in another display zone)."""

import zoneinfo
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers

from products.api import plain
from tests import journey
from tracker.api.clinical_serializers import ReminderSerializer
from tracker.api.serializers import PatientSerializer
from tracker.models import Patient, Reminder
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db


def _drf(serializer_class: type[serializers.Serializer], rows: list) -> list:
    """What DRF's own list serializer writes for these rows."""
    return serializers.ListSerializer(child=serializer_class(), instance=rows).data


@pytest.fixture
def rows():
    world = journey.build_world()
    order, _ = journey.infused_patient(world, days_ago=3)  # reminders with and without a patient, escalated or not
    monitoring_scan()
    other = journey.make_patient(world, mrn="MRN-0002")
    Patient.objects.filter(id=other.id).update(weight_kg=Decimal("70.2"), hla={})
    Patient.objects.filter(id=order.patient_id).update(weight_kg=None)
    Reminder.objects.filter(patient=order.patient).update(acknowledged_by=world.clinician)
    reminders = list(Reminder.objects.select_related("facility", "acknowledged_by", "resolved_by").order_by("id"))
    patients = list(Patient.objects.select_related("facility").order_by("id"))
    return patients, reminders


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_a_plain_list_writes_what_drf_writes(rows, zone):
    patients, reminders = rows
    assert any(r.escalated_at for r in reminders) and any(r.acknowledged_by for r in reminders)
    assert any(p.weight_kg is None for p in patients) and any(p.weight_kg for p in patients)
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        assert PatientSerializer(patients, many=True).data == _drf(PatientSerializer, patients)
        assert ReminderSerializer(reminders, many=True).data == _drf(ReminderSerializer, reminders)
        # the order of the fields is the serializer's too
        assert list(PatientSerializer(patients, many=True).data[0]) == list(PatientSerializer().fields)


def test_the_lists_use_the_plain_writer():
    assert isinstance(PatientSerializer(many=True), plain.PlainListSerializer)
    assert isinstance(ReminderSerializer(many=True), plain.PlainListSerializer)


def test_an_instant_is_written_as_drf_writes_it_and_a_custom_format_keeps_drfs_writer():
    field = serializers.DateTimeField()
    now = timezone.now().replace(microsecond=123456)
    for zone in (zoneinfo.ZoneInfo("UTC"), zoneinfo.ZoneInfo("Europe/Paris")):
        with timezone.override(zone):
            assert plain.field_writer(field, zone)(now) == field.to_representation(now)
            assert plain.field_writer(field, zone)(now - timedelta(days=180)) == field.to_representation(
                now - timedelta(days=180)
            )
    formatted = serializers.DateTimeField(format="%Y-%m-%d")
    assert plain.field_writer(formatted, zoneinfo.ZoneInfo("UTC")) == formatted.to_representation
    # a choice read from the database is mapped through the field's choices, never written by a builtin
    choice = serializers.ChoiceField(choices=[("a", "A")])
    assert plain.field_writer(choice) == choice.to_representation
