"""Assessments, adverse events, interventions and follow-up visits in the admin: entered as raw facts, computed
by the services (grades, report deadline), shown prominently, read-only afterwards, and scoped."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from products.choices import Role
from tests import journey
from tests.admin.clinic import clinic
from tests.admin.conftest import form_data, messages_of, page_errors
from tests.admin.helpers import split_dt, url
from tests.factories import UserFactory
from tracker.models import AdverseEvent, Assessment, FollowUpVisit, Intervention, Reminder
from tracker.services.clinical import adverse_event_record, assessment_record

pytestmark = pytest.mark.django_db


def assessment_post(client, patient, **fields):
    data = form_data(client.get(url(Assessment, "add")), "assessment_form")
    data.update(patient=str(patient.pk), **split_dt("assessed_at", timezone.now() - timedelta(minutes=10)))
    data.update(fields)
    return client.post(url(Assessment, "add"), data, follow=True)


def test_an_assessment_is_graded_by_the_service_and_the_grades_are_shown(client_for, world):
    patient = journey.make_patient(world)

    response = assessment_post(client_for(world.coordinator), patient, temperature_c="39.0", hypotension="fluids")

    assessment = Assessment.objects.get()
    assert (assessment.crs_grade, assessment.icans_grade) == (2, 0)
    assert assessment.assessed_by == world.coordinator
    assert response.redirect_chain[-1][0] == url(Assessment, "change", assessment.pk)
    assert any("CRS grade 2, ICANS grade 0" in m for m in messages_of(response))
    panel = str(response.context["record_panel"]["html"])
    assert "CRS grade" in panel and ">2<" in panel and response.context["record_panel"]["alert"] is True
    # Nothing on the page can change a grade.
    assert response.context["has_change_permission"] is False


def test_a_grade_2_assessment_entered_in_the_admin_raises_an_urgent_reminder_at_once(client_for, world):
    patient = journey.make_patient(world)

    assessment_post(client_for(world.coordinator), patient, temperature_c="39.0", hypotension="fluids")

    reminder = Reminder.objects.get(kind="toxicity_grade")
    assert (reminder.severity, reminder.status, reminder.patient) == ("urgent", "open", patient)


def test_the_ice_items_add_up_to_the_score(client_for, world):
    patient = journey.make_patient(world)
    items = {
        "ice_orientation": "2",
        "ice_naming": "2",
        "ice_following_commands": "1",
        "ice_writing": "0",
        "ice_attention": "0",
    }

    assessment_post(client_for(world.coordinator), patient, temperature_c="37.0", **items)

    assessment = Assessment.objects.get()
    assert assessment.ice_score == 5 and assessment.icans_grade == 2
    assert assessment.ice_items == {
        "orientation": 2,
        "naming": 2,
        "following_commands": 1,
        "writing": 0,
        "attention": 0,
    }


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"temperature_c": "55"}, "temperature_c"),
        ({"ice_score": "11"}, "ice_score"),
        ({"ice_naming": "4"}, "ice_naming"),
        ({"ice_orientation": "3"}, None),  # some items without the others
        (
            {
                "ice_score": "9",
                **{f"ice_{i}": "0" for i in ("orientation", "naming", "following_commands")},
                "ice_writing": "1",
                "ice_attention": "1",
            },
            "ice_score",
        ),  # the items add up to 2, not 9
    ],
    ids=["55C", "ice-11", "naming-4", "partial-items", "items-disagree"],
)
def test_impossible_assessments_are_form_errors_and_nothing_is_written(client_for, world, fields, where):
    patient = journey.make_patient(world)

    response = assessment_post(client_for(world.coordinator), patient, **fields)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert where in errors if where else "__all__" in errors
    assert not Assessment.objects.exists()


def test_the_assessment_list_shows_the_grades_and_filters_by_grade_facility_and_search(client_for, world):
    first, second = journey.make_patient(world, mrn="ASSESS-1"), journey.make_patient(world, mrn="ASSESS-2")
    now = timezone.now()
    grade2 = assessment_record(
        actor=world.clinician,
        patient=first,
        assessed_at=now - timedelta(hours=1),
        temperature_c=Decimal("39.0"),
        hypotension="fluids",
    )
    calm = assessment_record(actor=world.clinician, patient=second, assessed_at=now, temperature_c=Decimal("37"))
    client = client_for(world.coordinator)

    def listed(query: str) -> list[int]:
        response = client.get(f"{url(Assessment, 'changelist')}?{query}")
        assert response.status_code == 200
        return [a.pk for a in response.context["cl"].result_list]

    assert listed("") == [calm.pk, grade2.pk]
    assert listed("crs_grade=2%2B") == [grade2.pk]
    assert listed("crs_grade=0") == [calm.pk]
    assert listed("icans_grade=0") == [calm.pk, grade2.pk]
    assert listed("q=ASSESS-2") == [calm.pk]
    assert listed("q=lovelace") == [calm.pk, grade2.pk]
    assert listed(f"patient_facility_id={world.hospital.pk}") == [calm.pk, grade2.pk]
    assert listed(f"patient_facility_id={world.collection_site.pk}") == []
    page = client.get(url(Assessment, "changelist")).content.decode()
    assert '<strong class="tone-alert">2</strong>' in page


# --- adverse events -------------------------------------------------------------------------------------------


def adverse_event_post(client, patient, **fields):
    data = form_data(client.get(url(AdverseEvent, "add")), "adverseevent_form")
    aware = timezone.now() - timedelta(days=1)
    data.update(
        patient=str(patient.pk),
        term="infection",
        grade="3",
        **split_dt("onset_at", aware - timedelta(hours=6)),
        **split_dt("aware_at", aware),
        serious="on",
        description="Febrile neutropenia with bacteraemia",
    )
    data["expected"] = "no"  # not in the label: a radio with no default, always answered
    data.update(fields)
    return client.post(url(AdverseEvent, "add"), data, follow=True), aware


def test_a_serious_unexpected_event_is_due_15_days_after_awareness_and_the_page_says_so(client_for, world):
    patient = journey.make_patient(world)

    response, aware = adverse_event_post(client_for(world.coordinator), patient)

    event = AdverseEvent.objects.get()
    assert (event.serious, event.expected, event.recorded_by) == (True, False, world.coordinator)
    assert abs(event.report_due_at - (aware + timedelta(days=15))) < timedelta(seconds=1)
    assert "15 calendar days" in event.report_rule
    assert response.redirect_chain[-1][0] == url(AdverseEvent, "change", event.pk)
    page = response.content.decode()
    assert "Expedited report due" in page and "15 calendar days from awareness" in page
    assert any("Expedited report due" in m for m in messages_of(response))


def test_an_expected_event_has_no_expedited_report(client_for, world):
    _response, _ = adverse_event_post(client_for(world.coordinator), journey.make_patient(world), expected="yes")
    event = AdverseEvent.objects.get()
    assert event.report_due_at is None and "periodic" in event.report_rule


def test_awareness_before_onset_is_an_error_on_that_field(client_for, world):
    now = timezone.now()
    response, _ = adverse_event_post(
        client_for(world.coordinator),
        journey.make_patient(world),
        **split_dt("onset_at", now - timedelta(hours=1)),
        **split_dt("aware_at", now - timedelta(hours=2)),
    )
    assert "before onset" in str(response.context["adminform"].form.errors["aware_at"])
    assert not AdverseEvent.objects.exists()


def serious_event(world, patient, days_ago: float = 1) -> AdverseEvent:
    aware = timezone.now() - timedelta(days=days_ago)
    return adverse_event_record(
        actor=world.clinician,
        patient=patient,
        term="infection",
        grade=3,
        onset_at=aware - timedelta(hours=1),
        aware_at=aware,
        serious=True,
        expected=False,
    )


def test_the_clinical_fields_change_through_the_service_and_the_report_clock_follows(client_for, world):
    event = serious_event(world, journey.make_patient(world))
    client = client_for(world.coordinator)
    data = form_data(client.get(url(AdverseEvent, "change", event.pk)), "adverseevent_form")
    # The clinical fields are on the form (tracker.rules.adverse_events.EDITABLE, as in the API), with the reason
    # the awareness time moves; the clock and who recorded it are not.
    assert {"grade", "serious", "outcome", "description", "term", "aware_at_0", "aware_at_reason"} <= set(data)
    assert not {"report_due_at", "report_rule", "recorded_by"} & set(data)
    data.pop("serious")
    data.update(outcome="resolved", **split_dt("resolved_at", timezone.now() - timedelta(hours=1)))

    response = client.post(url(AdverseEvent, "change", event.pk), data, follow=True)

    assert response.status_code == 200
    event.refresh_from_db()
    assert (event.serious, event.outcome) == (False, "resolved") and event.resolved_at is not None
    assert event.report_due_at is None and "Not serious" in event.report_rule


def test_a_resolution_before_onset_is_refused_on_its_field_and_nothing_changes(client_for, world):
    event = serious_event(world, journey.make_patient(world))
    client = client_for(world.coordinator)
    data = form_data(client.get(url(AdverseEvent, "change", event.pk)), "adverseevent_form")
    data.update(outcome="resolved", **split_dt("resolved_at", event.onset_at - timedelta(days=1)))

    response = client.post(url(AdverseEvent, "change", event.pk), data)

    assert response.status_code == 200
    assert "before onset" in str(response.context["adminform"].form.errors["resolved_at"])
    event.refresh_from_db()
    assert event.resolved_at is None and event.outcome == "ongoing"


def test_the_report_is_marked_submitted_from_its_page(client_for, world):
    event = serious_event(world, journey.make_patient(world))
    client = client_for(world.coordinator)
    page = client.get(url(AdverseEvent, "change", event.pk))
    link = dict(page.context["object_links"])["Mark report submitted…"]
    assert client.get(link).status_code == 200

    response = client.post(link, {}, follow=True)

    event.refresh_from_db()
    assert event.report_submitted_at is not None
    assert response.redirect_chain[-1][0] == url(AdverseEvent, "change", event.pk)
    assert "Report submitted" in response.content.decode()
    assert response.context["object_links"] == []


def test_the_report_is_marked_submitted_from_the_list(client_for, world):
    first, second = (serious_event(world, journey.make_patient(world, mrn=f"AE-{n}")) for n in (1, 2))
    client = client_for(world.coordinator)

    response = client.post(
        url(AdverseEvent, "changelist"),
        {"action": "mark_reported", "_selected_action": [str(first.pk)], "index": "0"},
        follow=True,
    )

    first.refresh_from_db(), second.refresh_from_db()
    assert first.report_submitted_at is not None and second.report_submitted_at is None
    assert any("report recorded as submitted" in m for m in messages_of(response))


def test_adverse_events_filter_by_overdue_report_serious_term_and_grade(client_for, world):
    overdue = serious_event(world, journey.make_patient(world, mrn="AE-OLD"), days_ago=20)
    due = serious_event(world, journey.make_patient(world, mrn="AE-NEW"), days_ago=1)
    client = client_for(world.coordinator)

    def listed(query: str) -> set[int]:
        response = client.get(f"{url(AdverseEvent, 'changelist')}?{query}")
        assert response.status_code == 200
        return {e.pk for e in response.context["cl"].result_list}

    assert listed("report=overdue") == {overdue.pk}
    assert listed("report=due") == {due.pk}
    assert listed("serious__exact=1&expected__exact=0&term__exact=infection&grade=3") == {overdue.pk, due.pk}
    assert listed("grade=5") == set()
    assert "OVERDUE" in client.get(url(AdverseEvent, "changelist")).content.decode()


# --- interventions and follow-up visits -------------------------------------------------------------------------


def test_an_intervention_is_recorded_through_the_service_and_read_only_after(client_for, world):
    patient = journey.make_patient(world)
    client = client_for(world.coordinator)
    data = form_data(client.get(f"{url(Intervention, 'add')}?patient={patient.pk}"), "intervention_form")
    assert data["patient"] == str(patient.pk)
    data.update(
        kind="tocilizumab",
        drug="tocilizumab",
        dose="8",
        dose_unit="mg/kg",
        route="IV",
        indication="crs",
        **split_dt("given_at", timezone.now() - timedelta(minutes=5)),
    )

    response = client.post(url(Intervention, "add"), data, follow=True)

    intervention = Intervention.objects.get()
    assert (intervention.drug, intervention.dose, intervention.given_by) == ("tocilizumab", 8, world.coordinator)
    assert response.context["has_change_permission"] is False
    assert client.post(url(Intervention, "change", intervention.pk), {"drug": "x"}).status_code == 403


def test_a_follow_up_visit_is_recorded_and_a_death_needs_its_date(client_for, world):
    patient = journey.make_patient(world)
    client = client_for(world.coordinator)
    data = form_data(client.get(url(FollowUpVisit, "add")), "followupvisit_form")
    data.update(patient=str(patient.pk), visit_date=timezone.localdate().isoformat(), survival_status="dead")

    refused = client.post(url(FollowUpVisit, "add"), data)

    assert "Required when the patient has died" in str(refused.context["adminform"].form.errors["death_date"])
    assert not FollowUpVisit.objects.exists()

    data.update(survival_status="alive", disease_response="cr", wellbeing_score="8", rcv_result="negative")
    client.post(url(FollowUpVisit, "add"), data)
    visit = FollowUpVisit.objects.get()
    assert (visit.disease_response, visit.wellbeing_score, visit.recorded_by) == ("cr", 8, world.coordinator)


# --- who sees what ----------------------------------------------------------------------------------------------

CLINICAL = [Assessment, AdverseEvent, Intervention, FollowUpVisit]


def test_another_facilitys_coordinator_sees_none_of_these_records(client_for, world):
    records = clinic(world)
    stranger = UserFactory(username="far-coord", roles=[Role.COORDINATOR], facilities=[world.other_hospital])
    client = client_for(stranger)
    for model in CLINICAL:
        listing = client.get(url(model, "changelist"))
        assert listing.status_code == 200 and listing.context["cl"].result_count == 0, model
        obj = model.objects.filter(patient=records.order.patient).first()
        # As if it did not exist: the admin's "not found" redirect.
        assert client.get(url(model, "change", obj.pk)).status_code == 302, model
    # And a patient of theirs cannot be picked either.
    response = assessment_post(client, records.order.patient, temperature_c="39.0")
    assert "patient" in response.context["adminform"].form.errors


def test_manufacturing_cannot_open_the_assessment_admin(client_for, world):
    records = clinic(world)
    client = client_for(world.manufacturing)
    assessment = Assessment.objects.filter(patient=records.order.patient).first()
    assert client.get(url(Assessment, "changelist")).status_code == 403
    assert client.get(url(Assessment, "add")).status_code == 403
    assert client.get(url(Assessment, "change", assessment.pk)).status_code in (302, 403)
    index = client.get(reverse("admin:index")).content.decode()
    assert "Assessments" not in index and "Adverse events" not in index


def test_a_clinical_record_cannot_be_posted_by_a_role_without_the_permission(client_for, world):
    patient = journey.make_patient(world)
    response = client_for(world.qa).post(url(Assessment, "add"), {"patient": patient.pk})
    assert response.status_code == 403
    assert not Assessment.objects.exists()


def test_refusals_from_the_service_are_shown_not_raised(client_for, world):
    # A coordinator of the hospital may see its patients; a rule the service holds is still the service's.
    patient = journey.make_patient(world)
    response = assessment_post(
        client_for(world.coordinator), patient, **split_dt("assessed_at", timezone.now() + timedelta(hours=3))
    )
    assert "Cannot be in the future" in page_errors(response)
    assert not Assessment.objects.exists()
