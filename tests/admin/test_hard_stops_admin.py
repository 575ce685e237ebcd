"""The hard stops in the coordinators' admin: the same rules as the API (the services decide), shown on the field
they belong to, with nothing written."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from products.choices import Role
from products.models import ChainOfIdentity, FacilityMembership, SignatureFailure
from tests import journey
from tests.admin.conftest import form_data, messages_of, page_errors
from tests.admin.helpers import split_dt, url
from tests.admin.test_bedside_admin import administration_post, assert_nothing_written
from tests.factories import UserFactory
from tracker.models import (
    Administration,
    AdverseEvent,
    Assessment,
    Patient,
    PatientWeight,
    ScheduledCheck,
    TherapyOrder,
)
from tracker.services.clinical import adverse_event_mark_reported, adverse_event_record
from tracker.services.orders import patient_create

pytestmark = pytest.mark.django_db


# The bedside -----------------------------------------------------------------------------------------------------


def test_a_wristband_birth_date_that_is_not_the_patients_is_refused(client_for, world):
    order, unit = journey.bedside(world)
    wrong = (order.patient.birth_date - timedelta(days=1)).isoformat()

    response = administration_post(client_for(world.coordinator), order, unit, scanned_birth_date=wrong)

    assert "identity_mismatch" in page_errors(response) and "birth date" in page_errors(response)
    assert_nothing_written(order, unit)
    assert not SignatureFailure.objects.exists()


@pytest.mark.parametrize("field", ["scanned_birth_date", "verifier_username", "verifier_password"])
def test_the_birth_date_and_the_second_person_are_required(client_for, world, field):
    order, unit = journey.bedside(world)

    response = administration_post(client_for(world.coordinator), order, unit, **{field: ""})

    assert field in response.context["adminform"].form.errors
    assert_nothing_written(order, unit)


def test_a_qa_verifier_is_refused_on_the_name_and_no_password_is_tried(client_for, world):
    order, unit = journey.bedside(world)
    FacilityMembership.objects.create(user=world.qa, facility=world.hospital)
    client = client_for(world.coordinator)

    answers = set()
    for password in ("guess-1", "guess-2", journey.TEST_PASSWORD):
        response = administration_post(client, order, unit, verifier_username="qa", verifier_password=password)
        answers.add(str(response.context["adminform"].form.errors["verifier_username"]))

    assert len(answers) == 1 and "another active clinician or coordinator" in answers.pop()
    assert not SignatureFailure.objects.exists()
    assert_nothing_written(order, unit)


def test_a_role_that_may_not_record_administrations_cannot_try_a_password_in_the_admin(client_for, world):
    order, unit = journey.bedside(world)
    qa_at_the_ward = UserFactory(username="qa-ward", roles=[Role.QA], facilities=[world.hospital])
    FacilityMembership.objects.create(user=world.qa, facility=world.hospital)
    client = client_for(qa_at_the_ward)

    response = client.post(
        url(Administration, "add"),
        {
            "coi": order.coi,
            "unit_ref": unit.unit_id,
            "scanned_unit": unit.unit_id,
            "scanned_patient": order.patient.mrn,
            "scanned_birth_date": order.patient.birth_date.isoformat(),
            "verifier_username": "qa",
            "verifier_password": "guess",
        },
    )

    assert response.status_code in (302, 403)
    assert not SignatureFailure.objects.exists()
    assert_nothing_written(order, unit)


def test_the_second_unit_of_a_course_joins_the_schedule_and_the_page_says_so(client_for, world):
    order, (cd4, cd8) = journey.course_at_bedside(world)
    client = client_for(world.coordinator)
    administration_post(client, order, cd4, **split_dt("administered_at", timezone.now() - timedelta(minutes=4)))
    checks = ScheduledCheck.objects.count()

    response = administration_post(client, order, cd8)

    assert ScheduledCheck.objects.count() == checks
    assert any("joins its order's course" in m for m in messages_of(response))
    page = response.content.decode()
    assert "2 units given" in page


def test_a_legacy_coi_typed_at_the_bedside_finds_its_order(client_for, world):
    order, unit = journey.bedside(world)
    ChainOfIdentity.objects.filter(id=order.chain_id).update(legacy_coi="W432126000099K")

    response = administration_post(client_for(world.coordinator), order, unit, coi="w4321 26 000099 k")

    assert Administration.objects.get().order == order, page_errors(response)


def test_the_admin_lists_find_a_chain_by_its_legacy_coi(client_for, world):
    order, unit = journey.bedside(world)
    journey.administer(world, order, unit)
    ChainOfIdentity.objects.filter(id=order.chain_id).update(legacy_coi="W432126000099K")
    client = client_for(world.coordinator)

    for model in (TherapyOrder, Administration, Patient):
        listed = client.get(url(model, "changelist"), {"q": "W432126000099K"})
        assert listed.context["cl"].result_count == 1, model


# Assessments ----------------------------------------------------------------------------------------------------


def assessment_post(client, patient, **fields):
    data = form_data(client.get(url(Assessment, "add")), "assessment_form")
    data.update(patient=str(patient.pk), **split_dt("assessed_at", timezone.now() - timedelta(minutes=10)))
    data.update(fields)
    return client.post(url(Assessment, "add"), data, follow=True)


@pytest.fixture
def child(world):
    today = timezone.localdate()
    return patient_create(
        actor=world.coordinator,
        facility=world.hospital,
        mrn="MRN-KID",
        given_name="Pip",
        family_name="Pirrip",
        birth_date=date(today.year - 5, 3, 1),
        sex="male",
    )


def test_a_child_is_graded_with_the_capd_in_the_admin(client_for, world, child):
    assessment_post(client_for(world.coordinator), child, capd_score="12")
    assessment = Assessment.objects.get()
    assert (assessment.capd_score, assessment.icans_grade) == (12, 3)


@pytest.mark.parametrize(
    ("patient_kind", "fields", "field"),
    [
        ("child", {"ice_score": "8"}, "ice_score"),
        ("child", {"capd_score": "33"}, "capd_score"),
        ("adult", {"capd_score": "3"}, "capd_score"),
        ("adult", {"fever_masked": "on", "temperature_c": "37.0"}, "fever_masked"),
        ("adult", {"heart_rate": "301"}, "heart_rate"),
    ],
)
def test_what_an_assessment_may_not_claim_is_refused_on_its_field(
    client_for, world, child, patient_kind, fields, field
):
    patient = child if patient_kind == "child" else journey.make_patient(world)

    response = assessment_post(client_for(world.coordinator), patient, **fields)

    assert field in response.context["adminform"].form.errors, page_errors(response)
    assert not Assessment.objects.exists()


def test_a_partial_set_of_ice_items_is_refused_with_the_services_words(client_for, world):
    response = assessment_post(
        client_for(world.coordinator), journey.make_patient(world), ice_orientation="4", ice_naming="3"
    )
    assert "all five ICE items" in page_errors(response)
    assert not Assessment.objects.exists()


# Adverse events --------------------------------------------------------------------------------------------------


def adverse_event_post(client, patient, **fields):
    data = form_data(client.get(url(AdverseEvent, "add")), "adverseevent_form")
    aware = timezone.now() - timedelta(days=1)
    data.update(
        patient=str(patient.pk),
        term="infection",
        grade="3",
        **split_dt("onset_at", aware - timedelta(hours=6)),
        **split_dt("aware_at", aware),
        expected="no",
    )
    data.update(fields)
    return client.post(url(AdverseEvent, "add"), {k: v for k, v in data.items() if v is not None}, follow=True)


def test_expected_has_no_default_in_the_admin(client_for, world):
    client = client_for(world.coordinator)
    page = form_data(client.get(url(AdverseEvent, "add")), "adverseevent_form")
    assert "expected" not in page  # neither radio is ticked

    response = adverse_event_post(client, journey.make_patient(world), expected=None)

    assert "expected" in response.context["adminform"].form.errors
    assert not AdverseEvent.objects.exists()


def test_a_grade_4_event_is_recorded_serious_and_the_page_says_why(client_for, world):
    response = adverse_event_post(client_for(world.coordinator), journey.make_patient(world), grade="4")

    event = AdverseEvent.objects.get()
    assert event.serious is True and event.report_due_at is not None
    assert any("serious by definition" in m for m in messages_of(response))


def serious_event(world) -> AdverseEvent:
    aware = timezone.now() - timedelta(days=1)
    return adverse_event_record(
        actor=world.clinician,
        patient=journey.make_patient(world),
        term="infection",
        grade=3,
        onset_at=aware - timedelta(hours=1),
        aware_at=aware,
        serious=True,
        expected=False,
    )


def test_moving_the_awareness_time_in_the_admin_needs_a_reason_like_in_the_api(client_for, world):
    event = serious_event(world)
    client = client_for(world.coordinator)
    change = url(AdverseEvent, "change", event.pk)
    data = form_data(client.get(change), "adverseevent_form")
    data.update(split_dt("aware_at", event.aware_at + timedelta(hours=3)))

    without = client.post(change, data)
    assert "aware_at_reason" in without.context["adminform"].form.errors
    event.refresh_from_db()
    assert event.aware_at_changed_at is None

    response = client.post(change, {**data, "aware_at_reason": "Heard at the ward round"}, follow=True)

    event.refresh_from_db()
    assert response.status_code == 200
    assert (event.aware_at_changed_by, event.aware_at_change_reason) == (world.coordinator, "Heard at the ward round")
    assert abs(event.report_due_at - (event.aware_at + timedelta(days=15))) < timedelta(seconds=1)
    assert "Heard at the ward round" in client.get(change).content.decode()


def test_after_submission_the_awareness_time_does_not_move_in_the_admin_either(client_for, world):
    event = serious_event(world)
    adverse_event_mark_reported(actor=world.clinician, event_id=event.id)
    client = client_for(world.coordinator)
    change = url(AdverseEvent, "change", event.pk)
    data = form_data(client.get(change), "adverseevent_form")
    data.update(split_dt("aware_at", event.aware_at - timedelta(minutes=30)), aware_at_reason="Typo")

    response = client.post(change, data)

    assert "illegal_transition" in page_errors(response)
    assert AdverseEvent.objects.get(id=event.id).aware_at == event.aware_at


# Dated weights ---------------------------------------------------------------------------------------------------


def test_a_weight_is_recorded_from_the_patients_page_and_listed_there(client_for, world):
    patient = journey.make_patient(world)
    client = client_for(world.coordinator)
    page = client.get(url(Patient, "change", patient.pk))
    assert dict(page.context["object_links"])["Record a weight"].endswith(f"?patient={patient.pk}")
    data = form_data(client.get(f"{url(PatientWeight, 'add')}?patient={patient.pk}"), "patientweight_form")
    data.update(weight_kg="68.4", measured_on=timezone.localdate().isoformat(), note="Before conditioning")

    client.post(url(PatientWeight, "add"), data, follow=True)

    weight = patient.weights.order_by("-id").first()
    assert (str(weight.weight_kg), weight.measured_on) == ("68.4", timezone.localdate())
    assert weight.recorded_by == world.coordinator
    patient.refresh_from_db()
    assert str(patient.weight_kg) == "68.4"
    assert "68.4" in client.get(url(Patient, "change", patient.pk)).content.decode()


def test_an_impossible_weight_is_refused_on_its_field(client_for, world):
    patient = journey.make_patient(world)
    client = client_for(world.coordinator)
    data = form_data(client.get(f"{url(PatientWeight, 'add')}?patient={patient.pk}"), "patientweight_form")
    data.update(weight_kg="1200", measured_on=timezone.localdate().isoformat())

    response = client.post(url(PatientWeight, "add"), data)

    assert "weight_kg" in response.context["adminform"].form.errors
    assert patient.weights.count() == 1
