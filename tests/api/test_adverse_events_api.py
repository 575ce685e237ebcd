"""adverse-events/: the expedited-report clock is computed, says which rule applied, and follows every change."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests import journey
from tracker.models import AdverseEvent
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db

SERIOUS_UNEXPECTED_RULE = "21 CFR 600.80(c)(1)(i): serious and unexpected, 15 calendar days from awareness"


def at(**delta: float) -> datetime:
    return (timezone.now() - timedelta(**delta)).replace(microsecond=0)


def event(patient, /, **extra: object) -> dict:
    return {
        "patient": patient.id,
        "term": "hlh",
        "grade": 3,
        "onset_at": at(days=2).isoformat(),
        "aware_at": at(days=1).isoformat(),
        "serious": True,
        "expected": False,
    } | extra


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture
def patient(world):
    return journey.make_patient(world)


def test_a_serious_unexpected_event_is_due_15_days_after_awareness_and_says_why(world, patient, client_for):
    client = client_for(world.clinician)
    aware = at(days=1)

    response = client.post(
        "/api/v1/adverse-events/",
        event(
            patient,
            aware_at=aware.isoformat(),
            term_text="Haemophagocytic lymphohistiocytosis",
            meddra_code="10019860",
            relatedness="probable",
        ),
    )

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert parse(answer["report_due_at"]) == aware + timedelta(days=15)
    assert answer["report_rule"] == SERIOUS_UNEXPECTED_RULE
    assert answer["report_submitted_at"] is None
    assert (answer["term"], answer["meddra_code"], answer["relatedness"]) == ("hlh", "10019860", "probable")
    assert (answer["grading_system"], answer["outcome"], answer["recorded_by"]) == ("ctcae", "ongoing", "doc")
    assert client.get(f"/api/v1/adverse-events/{answer['id']}/").json() == answer


@pytest.mark.parametrize(
    ("serious", "expected", "rule"),
    [(True, True, "Serious but expected"), (False, False, "Not serious"), (False, True, "Not serious")],
)
def test_other_events_have_no_expedited_deadline_and_say_which_rule_applies(
    serious, expected, rule, world, patient, client_for
):
    response = client_for(world.clinician).post(
        "/api/v1/adverse-events/", event(patient, serious=serious, expected=expected)
    )

    assert response.status_code == 201, response.json()
    assert response.json()["report_due_at"] is None
    assert response.json()["report_rule"].startswith(rule)


def test_grade_5_is_always_serious_and_fatal(world, patient, client_for):
    response = client_for(world.clinician).post(
        "/api/v1/adverse-events/", event(patient, grade=5, serious=False, expected=False)
    )

    assert (response.json()["serious"], response.json()["outcome"]) == (True, "fatal")
    assert response.json()["report_rule"] == SERIOUS_UNEXPECTED_RULE


def test_patch_recomputes_the_report_clock(world, patient, client_for):
    client = client_for(world.clinician)
    created = client.post("/api/v1/adverse-events/", event(patient, serious=False)).json()
    assert created["report_due_at"] is None
    path = f"/api/v1/adverse-events/{created['id']}/"

    serious = client.patch(path, {"serious": True})
    aware = at(hours=2)
    # The deadline is set now: moving the awareness time needs a reason (tracker.rules.adverse_events).
    later_awareness = client.patch(path, {"aware_at": aware.isoformat(), "aware_at_reason": "Told by phone later"})
    expected = client.patch(path, {"expected": True})

    assert serious.status_code == 200, serious.json()
    assert parse(serious.json()["report_due_at"]) == parse(created["aware_at"]) + timedelta(days=15)
    assert serious.json()["report_rule"] == SERIOUS_UNEXPECTED_RULE
    assert parse(later_awareness.json()["report_due_at"]) == aware + timedelta(days=15)
    assert expected.json()["report_due_at"] is None
    assert expected.json()["report_rule"].startswith("Serious but expected")
    assert client.get(path).json() == expected.json()


def test_patch_records_the_resolution_and_keeps_what_is_not_given(world, patient, client_for):
    client = client_for(world.clinician)
    created = client.post("/api/v1/adverse-events/", event(patient, description="fever, cytopenias")).json()

    resolved = at(hours=1)
    response = client.patch(
        f"/api/v1/adverse-events/{created['id']}/", {"resolved_at": resolved.isoformat(), "outcome": "resolved"}
    )

    assert response.status_code == 200, response.json()
    answer = response.json()
    assert (answer["outcome"], parse(answer["resolved_at"])) == ("resolved", resolved)
    assert answer["description"] == "fever, cytopenias"
    assert answer["report_due_at"] == created["report_due_at"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"grade": 6}, "grade"),
        ({"grade": 0}, "grade"),
        ({"term": "headache"}, "term"),
        ({"aware_at": at(days=5).isoformat()}, "aware_at"),
        ({"resolved_at": at(days=4).isoformat()}, "resolved_at"),
        ({"onset_at": (timezone.now() + timedelta(days=1)).isoformat()}, "onset_at"),
        ({"meddra_code": "HLH"}, "meddra_code"),
    ],
)
def test_an_impossible_change_is_a_400_and_changes_nothing(changes, field, world, patient, client_for):
    client = client_for(world.clinician)
    created = client.post("/api/v1/adverse-events/", event(patient)).json()

    response = client.patch(f"/api/v1/adverse-events/{created['id']}/", changes)

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert client.get(f"/api/v1/adverse-events/{created['id']}/").json() == created


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"term": "headache"}, "term"),
        ({"grade": 6}, "grade"),
        ({"grade": None}, "grade"),
        ({"serious": None}, "serious"),
        ({"aware_at": at(days=3).isoformat()}, "aware_at"),
        ({"onset_at": (timezone.now() + timedelta(days=1)).isoformat()}, "onset_at"),
        ({"outcome": "better"}, "outcome"),
        ({"relatedness": "somewhat"}, "relatedness"),
        ({"grading_system": "whim"}, "grading_system"),
        ({"meddra_code": "1234"}, "meddra_code"),
        ({"patient": 999_999}, "patient"),
    ],
)
def test_an_impossible_event_is_a_400_naming_the_field(extra, field, world, patient, client_for):
    body = event(patient, **extra)
    if extra.get("serious", True) is None:
        del body["serious"]

    response = client_for(world.clinician).post("/api/v1/adverse-events/", body)

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not AdverseEvent.objects.exists()


def test_report_submission_is_recorded_and_resolves_the_deadline_reminder(world, patient, client_for):
    client = client_for(world.clinician)
    aware = {"onset_at": at(days=14).isoformat(), "aware_at": at(days=13).isoformat()}
    created = client.post("/api/v1/adverse-events/", event(patient, **aware)).json()
    monitoring_scan()  # due in two days: the scan raises the "report due" reminder
    reminders = client.get(f"/api/v1/reminders/?patient={patient.id}&kind=report_due").json()["results"]
    assert [r["status"] for r in reminders] == ["open"]

    submitted = at(hours=1)
    response = client.post(
        f"/api/v1/adverse-events/{created['id']}/report-submitted/", {"report_submitted_at": submitted.isoformat()}
    )

    assert response.status_code == 200, response.json()
    assert parse(response.json()["report_submitted_at"]) == submitted
    reminder = client.get(f"/api/v1/reminders/{reminders[0]['id']}/").json()
    assert (reminder["status"], reminder["resolution"]) == ("resolved", "Report submitted")
    assert client.get("/api/v1/adverse-events/?report_pending=true").json()["results"] == []


def test_report_submission_without_a_time_is_now_and_in_the_future_is_a_400(world, patient, client_for):
    client = client_for(world.clinician)
    created = client.post("/api/v1/adverse-events/", event(patient)).json()
    path = f"/api/v1/adverse-events/{created['id']}/report-submitted/"

    future = client.post(path, {"report_submitted_at": (timezone.now() + timedelta(days=1)).isoformat()})
    assert future.status_code == 400
    assert "report_submitted_at" in future.json()
    assert AdverseEvent.objects.get().report_submitted_at is None

    now = client.post(path)
    assert now.status_code == 200, now.json()
    assert abs(parse(now.json()["report_submitted_at"]) - timezone.now()) < timedelta(minutes=1)


def test_a_clinician_of_another_hospital_neither_sees_nor_changes_the_event(world, patient, client_for):
    created = client_for(world.clinician).post("/api/v1/adverse-events/", event(patient)).json()
    client = client_for(world.other_clinician)
    path = f"/api/v1/adverse-events/{created['id']}/"

    assert client.get(path).status_code == 404
    assert client.patch(path, {"expected": True}).status_code == 404
    assert client.post(f"{path}report-submitted/").status_code == 404
    assert client.get("/api/v1/adverse-events/").json()["results"] == []
    assert client.post("/api/v1/adverse-events/", event(patient)).status_code == 400
    assert AdverseEvent.objects.get().expected is False
    assert AdverseEvent.objects.count() == 1


def test_manufacturing_gets_403_on_adverse_events(world, patient, client_for):
    created = client_for(world.clinician).post("/api/v1/adverse-events/", event(patient)).json()
    client = client_for(world.manufacturing)
    path = f"/api/v1/adverse-events/{created['id']}/"

    assert client.get("/api/v1/adverse-events/").status_code == 403
    assert client.get(path).status_code == 403
    assert client.patch(path, {"expected": True}).status_code == 403
    assert client.post(f"{path}report-submitted/").status_code == 403
    assert client.post("/api/v1/adverse-events/", event(patient)).status_code == 403
    assert AdverseEvent.objects.get().expected is False


def test_adverse_events_filter_by_patient_coi_term_and_seriousness(world, client_for):
    order = journey.make_order(world, product=journey.product_of(world))
    other = journey.make_patient(world, mrn="H-2")
    client = client_for(world.clinician)
    crs = client.post("/api/v1/adverse-events/", event(order.patient, term="crs", grading_system="astct")).json()
    infection = client.post("/api/v1/adverse-events/", event(other, term="infection", serious=False)).json()

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/adverse-events/?{query}")
        assert response.status_code == 200, response.json()
        return [e["id"] for e in response.json()["results"]]

    assert sorted(ids("")) == sorted([crs["id"], infection["id"]])
    assert ids(f"patient={other.id}") == [infection["id"]]
    assert ids(f"coi={order.coi}") == [crs["id"]]
    assert ids("term=crs") == [crs["id"]]
    assert ids("serious=true") == [crs["id"]]
    assert ids("serious=false") == [infection["id"]]
    assert ids("report_pending=true") == [crs["id"]]
    assert client.get("/api/v1/adverse-events/?term=headache").status_code == 400


@pytest.mark.parametrize("rows", [1, 10])
def test_adverse_event_list_takes_the_same_number_of_queries_for_1_or_10(
    rows, world, patient, client_for, django_assert_max_num_queries
):
    client = client_for(world.clinician)
    for _ in range(rows):
        assert client.post("/api/v1/adverse-events/", event(patient)).status_code == 201

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/adverse-events/")

    assert len(response.json()["results"]) == rows
