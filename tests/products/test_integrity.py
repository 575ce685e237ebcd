"""What the database refuses, explained in the models' terms (products.integrity) and answered by the one
exception handler: a natural key taken is a 409 `duplicate` naming the fields, never their values (an MRN is
PHI); a broken check constraint a 400 with its message; anything else a 409 `conflict`."""

import pytest
from django.db import IntegrityError, transaction

from products import integrity
from products.api.exceptions import exception_handler
from products.models import Facility, MonitoringProtocol, ProtocolStep
from tests import journey
from tracker.models import Patient

pytestmark = pytest.mark.django_db


def refused(write) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    return caught.value


def test_a_taken_facility_code_is_a_duplicate_naming_the_field():
    Facility.objects.create(code="north", name="North", kind="collection")

    problem = integrity.describe(
        refused(lambda: Facility.objects.create(code="north", name="Again", kind="collection"))
    )

    assert problem == integrity.IntegrityProblem(
        integrity.DUPLICATE, ("code",), "A facility with this code already exists."
    )


def test_a_taken_mrn_names_both_fields_of_the_key_and_never_the_mrn():
    patient = journey.make_patient(journey.build_world(), mrn="MRN-SECRET-77")
    again = Patient(
        facility=patient.facility, mrn=patient.mrn, given_name="A", family_name="B", birth_date=patient.birth_date
    )

    exc = refused(again.save)
    response = exception_handler(exc, {})

    assert response.status_code == 409
    assert response.data == {
        "code": "duplicate",
        "detail": "A patient with this facility and MRN already exists.",
        "fields": ["facility", "mrn"],
    }
    assert "MRN-SECRET-77" not in str(response.data)


def test_a_broken_check_constraint_is_a_400_with_its_message_on_its_field():
    protocol = MonitoringProtocol.objects.get(code="msc_standard")
    step = ProtocolStep(protocol=protocol, kind="labs", label="L", first_due_value=1, grace_hours=10**6)

    response = exception_handler(refused(step.save), {})

    assert response.status_code == 400
    assert response.data == {"grace_hours": ["At most 8784 hours (a year)."]}


def test_a_check_constraint_over_several_fields_is_a_400_on_the_whole_input():
    protocol = MonitoringProtocol.objects.get(code="msc_standard")
    step = ProtocolStep(protocol=protocol, kind="labs", label="L", first_due_value=1, repeat_every_value=2)

    response = exception_handler(refused(step.save), {})

    assert response.status_code == 400
    assert list(response.data) == ["non_field_errors"]
