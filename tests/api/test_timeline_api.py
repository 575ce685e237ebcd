"""patients/{id}/timeline/: the patient's story in time order, the page's events with the page's filters."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests import holds, journey
from tracker.services.scan import monitoring_scan
from tracker.timeline import TimelineKind

pytestmark = pytest.mark.django_db

EVENT_FIELDS = {"at", "date_only", "day", "kind", "summary", "level", "record_type", "record_id", "record", "detail"}


@pytest.fixture
def story(world):
    order, administration, records = journey.storied_patient(world, days_ago=5)
    holds.decided_batch_hold(world, administration.unit.batch)
    journey.gvhd_staging(world, order.patient)
    monitoring_scan()
    return order, administration, records


def url(patient_id: int, query: str = "") -> str:
    return f"/api/v1/patients/{patient_id}/timeline/" + (f"?{query}" if query else "")


def test_it_returns_the_patient_and_every_event_in_time_order(world, client_for, story):
    order, administration, _records = story

    response = client_for(world.clinician).get(url(order.patient.id))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["patient"]["id"] == order.patient.id
    assert body["patient"]["mrn"] == order.patient.mrn
    assert body["patient"]["facility"] == "hospital"
    assert body["day_zero"] == timezone.localtime(administration.administered_at).date().isoformat()
    assert body["count"] == len(body["events"]) > 30
    assert body["filters"] == {"kind": TimelineKind.values, "since": None, "until": None}
    moments = [event["at"] for event in body["events"]]
    assert moments == sorted(moments, key=lambda at: timezone.datetime.fromisoformat(at))
    assert all(set(event) == EVENT_FIELDS for event in body["events"])
    # An autologous story: nothing allocated from inventory (see tests/api/test_allogeneic_api.py).
    assert {event["kind"] for event in body["events"]} == set(TimelineKind.values) - {TimelineKind.ALLOCATION}
    infusion = next(event for event in body["events"] if event["kind"] == "administration")
    assert infusion["day"] == 0
    assert infusion["record"] == f"administration:{administration.id}"
    assert infusion["detail"]["unit"] == administration.unit.unit_id


def test_assessments_carry_their_grades_and_raw_measurements(world, client_for, story):
    order, _administration, records = story
    graded = records["assessments"][2]

    body = client_for(world.clinician).get(url(order.patient.id, "kind=assessment")).json()

    event = next(e for e in body["events"] if e["record_id"] == graded.id)
    assert event["level"] == "alert"
    assert (
        event["detail"].items()
        >= {
            "crs_grade": 2,
            "icans_grade": 0,
            "temperature_c": 39.3,
            "hypotension": "fluids",
            "heart_rate": 118,
            "systolic_bp": 88,
            "crp_mg_l": 182.0,
        }.items()
    )


def test_kind_accepts_repeated_and_comma_separated_values(world, client_for, story):
    order, _administration, _records = story
    client = client_for(world.clinician)

    repeated = client.get(url(order.patient.id, "kind=assessment&kind=intervention")).json()
    commas = client.get(url(order.patient.id, "kind=assessment,intervention")).json()

    assert repeated == commas
    assert {e["kind"] for e in repeated["events"]} == {"assessment", "intervention"}
    assert repeated["filters"]["kind"] == ["assessment", "intervention"]


def test_since_and_until_bound_the_events(world, client_for, story):
    order, _administration, records = story
    since = records["assessments"][1].assessed_at
    until = records["assessments"][3].assessed_at
    client = client_for(world.clinician)

    body = client.get(url(order.patient.id), {"since": since.isoformat(), "until": until.isoformat()}).json()

    assert body["events"]
    for event in body["events"]:
        assert since <= timezone.datetime.fromisoformat(event["at"]) < until


def test_a_date_range_includes_the_whole_last_day(world, client_for, story):
    order, administration, _records = story
    day0 = timezone.localtime(administration.administered_at).date()

    body = client_for(world.clinician).get(url(order.patient.id, f"since={day0}&until={day0}")).json()

    assert {e["day"] for e in body["events"]} == {0}
    assert "administration" in {e["kind"] for e in body["events"]}


def test_first_and_last_day_count_from_the_infusion(world, client_for, story):
    order, _administration, _records = story

    body = client_for(world.clinician).get(url(order.patient.id, "first_day=-5&last_day=-3")).json()

    assert {e["day"] for e in body["events"]} == {-5, -4, -3}
    assert {e["kind"] for e in body["events"]} >= {"conditioning"}


@pytest.mark.parametrize(
    "query, field",
    [("kind=bogus", "kind"), ("since=soon", "since"), ("since=2026-02-01&until=2026-01-01", "until")],
)
def test_a_filter_it_cannot_read_is_a_400_on_that_field(world, client_for, story, query, field):
    order, _administration, _records = story

    response = client_for(world.clinician).get(url(order.patient.id, query))

    assert response.status_code == 400
    assert field in response.json()


def test_another_facilitys_patient_is_a_404(world, client_for, story):
    order, _administration, _records = story
    elsewhere = journey.elsewhere(world, order.product)

    assert client_for(world.other_clinician).get(url(order.patient.id)).status_code == 404
    assert client_for(world.clinician).get(url(elsewhere.patient.id)).status_code == 404
    assert client_for(world.clinician).get(url(999_999)).status_code == 404


def test_the_manufacturing_role_gets_a_403(world, client_for, story):
    order, _administration, _records = story

    response = client_for(world.manufacturing).get(url(order.patient.id))

    assert response.status_code == 403


def test_an_anonymous_caller_gets_a_401(anon_client, story):
    order, _administration, _records = story
    assert anon_client.get(url(order.patient.id)).status_code == 401


def _page_records(client, patient_id: int, query: str = "") -> list[str]:
    html = client.get(f"/patients/{patient_id}/" + (f"?{query}" if query else "")).content.decode()
    return re.findall(r'<li class="event[^"]*" data-kind="[^"]+" data-record="([^"]+)"', html)


@pytest.mark.parametrize(
    "query",
    ["", "kind=assessment&kind=intervention", "kind=reminder,custody", "first_day=0&last_day=2", "first_day=-1"],
)
def test_the_page_and_the_api_show_the_same_events(world, client, client_for, story, query):
    order, _administration, _records = story
    client.force_login(world.clinician)

    api = client_for(world.clinician).get(url(order.patient.id, query)).json()
    page = _page_records(client, order.patient.id, query)

    assert page == [event["record"] for event in api["events"]]
    assert page


def test_5000_events_take_as_many_queries_as_a_few(world, client, client_for, django_assert_max_num_queries):
    small, _, _ = journey.storied_patient(world, days_ago=40, course=False)
    big, administration, _ = journey.storied_patient(world, days_ago=40, course=False)
    journey.many_timeline_events(world, big.patient, administration.administered_at + timedelta(minutes=5), 5000)
    api = client_for(world.clinician)
    client.force_login(world.clinician)

    with django_assert_max_num_queries(22) as few:  # one query per kind of record
        assert api.get(url(small.patient.id)).status_code == 200
    with django_assert_max_num_queries(len(few)) as many:
        response = api.get(url(big.patient.id))
    assert response.json()["count"] >= 5000
    with django_assert_max_num_queries(33) as page:
        assert client.get(f"/patients/{big.patient.id}/").status_code == 200
    assert len(many) <= len(few), "the API's queries do not grow with the number of events"
    assert len(page) <= 33
