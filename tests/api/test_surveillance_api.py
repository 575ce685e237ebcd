"""The surveillance summary through the API and the CSV, on the known data set of tests/surveillance.py, whose
figures are worked out by hand here; who sees them (safety, coordinators, superusers: their facilities only); and
the query count, which does not grow with the number of patients."""

import csv
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from products.choices import Role
from tests import journey
from tests import surveillance as known
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/surveillance/summary/"
CSV = "/api/v1/surveillance/summary.csv"


@pytest.fixture
def data():
    with time_machine.travel(known.AS_OF, tick=True):
        yield known.build()


def grades(**counts: int) -> dict[str, int]:
    return {str(g): counts.get(f"g{g}", 0) for g in range(6)}


def csv_rows(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# Product A at City Hospital, first infused in 2031 (P1..P4, worked out from the data set's description):
# - CRS worst grade: P1 3, P2 2, P3 0, P4 5 (the fatal CRS event); grade >= 3: P1 and P4.
# - CRS onset day: P1 1, P2 2, P4 5 -> median 2, range 1-5. ICANS: P1 2 (d4), P3 1 (d6), P4 3 (d5) -> median 5.
# - Tocilizumab: P1, P2, P4. Steroids: P1, P4.
# - Serious events: P1 CRS (submitted, no expedited deadline: on time), P2 infection (submitted after its deadline:
#   late), P3 cytopenia (deadline passed, not submitted: overdue), P4 infusion reaction (deadline ahead: pending),
#   P4 fatal CRS (no deadline, not submitted: pending). Three had an expedited deadline (P2, P3, P4's reaction).
# - Deaths: P4. Follow-up visits due: P1's day 28 (done on time), P2's day 28 (missed); P3's not yet due; P4's closed.
PRODUCT_A_THIS_YEAR = {
    "patients_infused": 4,
    "crs_max_grade": grades(g0=1, g2=1, g3=1, g5=1),
    "icans_max_grade": grades(g0=1, g1=1, g2=1, g3=1),
    "crs_onset_days": {"median": 2.0, "min": 1, "max": 5},
    "icans_onset_days": {"median": 5.0, "min": 4, "max": 6},
    "tocilizumab_patients": 3,
    "steroid_patients": 2,
    "serious_events": {
        "total": 5,
        "reported_on_time": 1,
        "reported_late": 1,
        "pending": 2,
        "overdue": 1,
        "expedited": 3,
    },
    "deaths": 1,
    "secondary_malignancies": 0,
    "follow_up": {"due": 2, "done": 1, "overdue": 1, "done_on_time": 1, "done_late": 0},
    "rcv": {"tests": 0, "negative": 0, "positive": 0, "pending": 0, "patients_tested": 0, "patients_positive": 0},
}


def test_the_safety_officers_question_is_answered_by_the_api(data, client_for):
    # given the safety officer of City Hospital, product A, infused this year
    body = client_for(data.safety).get(SUMMARY, {"product": "cart-x", **known.THIS_YEAR}).json()

    # then every figure is the one worked out by hand
    for name, expected in PRODUCT_A_THIS_YEAR.items():
        assert body[name] == expected, name
    # how much grade >= 3 CRS: 2 of 4 patients; how fast: median day 2; every serious event on time: no
    assert sum(body["crs_max_grade"][g] for g in "345") == 2
    assert body["serious_events"]["reported_on_time"] < body["serious_events"]["total"]
    assert body["filters"] == {"product": "cart-x", "facility": None, "since": "2031-01-01", "until": "2031-12-31"}
    assert body["facilities"] == ["hospital"]
    assert body["adverse_events"] == [
        {"term": "crs", "term_label": "Cytokine release syndrome", "grade": 3, "events": 1, "patients": 1},
        {"term": "crs", "term_label": "Cytokine release syndrome", "grade": 5, "events": 1, "patients": 1},
        {"term": "cytopenia", "term_label": "Prolonged cytopenia", "grade": 4, "events": 1, "patients": 1},
        {"term": "infection", "term_label": "Infection", "grade": 3, "events": 1, "patients": 1},
        {"term": "infusion_reaction", "term_label": "Infusion reaction", "grade": 2, "events": 1, "patients": 1},
    ]
    assert body["death_causes"] == [{"cause": "Cytokine release syndrome", "patients": 1}]
    crs_days = {bar["day"]: bar["patients"] for bar in body["crs_onset_histogram"]}
    assert crs_days == {day: (1 if day in (1, 2, 5) else 0) for day in range(16)}
    icans_days = {bar["day"]: bar["patients"] for bar in body["icans_onset_histogram"]}
    assert icans_days == {day: (1 if day in (4, 5, 6) else 0) for day in range(16)}
    assert body["follow_up_by_timepoint"] == [
        {
            "label": "Follow-up visit day 28",
            "day": 28,
            "due": 2,
            "done_on_time": 1,
            "done_late": 0,
            "missed": 1,
            "pending": 0,
        }
    ]
    assert [(r["product"], r["facility"], r["patients_infused"]) for r in body["by_product_facility"]] == [
        ("cart-x", "hospital", 4)
    ]


def test_the_csv_gives_the_same_figures_one_row_per_product_and_facility(data, client_for):
    response = client_for(data.safety).get(CSV, {"product": "cart-x", **known.THIS_YEAR})

    rows = csv_rows(response)
    assert response["Content-Disposition"].startswith('attachment; filename="surveillance-summary-')
    assert len(rows) == 1
    row = rows[0]
    assert (row["product"], row["facility"], row["since"], row["until"]) == (
        "cart-x",
        "hospital",
        "2031-01-01",
        "2031-12-31",
    )
    expected = PRODUCT_A_THIS_YEAR
    assert int(row["patients_infused"]) == expected["patients_infused"]
    for what in ("crs", "icans"):
        assert {g: int(row[f"{what}_max_grade_{g}"]) for g in "012345"} == expected[f"{what}_max_grade"]
        onset = expected[f"{what}_onset_days"]
        assert (row[f"{what}_onset_days_median"], row[f"{what}_onset_days_min"], row[f"{what}_onset_days_max"]) == (
            f"{onset['median']:g}",
            str(onset["min"]),
            str(onset["max"]),
        )
    assert {k: int(row[f"serious_events_{k}"]) for k in expected["serious_events"]} == expected["serious_events"]
    assert {k: int(row[f"follow_up_{k}"]) for k in expected["follow_up"]} == expected["follow_up"]
    assert int(row["tocilizumab_patients"]) == 3
    assert int(row["steroid_patients"]) == 2
    assert int(row["deaths"]) == 1
    assert int(row["secondary_malignancies"]) == 0


def test_every_product_and_every_date_with_a_row_per_product(data, client_for):
    # P1..P6 at City Hospital. CRS: P1 3, P2 2, P3 0, P4 5, P5 3, P6 1; onsets 1, 2, 5, 2, 3 -> median 2.
    # P5 (last year): the day-28 visit done late, day 100 on time, month 6 missed, month 12 on time; a new malignancy;
    # RCV negative then positive. P6: the day-28 visit done on time.
    body = client_for(data.safety).get(SUMMARY).json()

    assert body["patients_infused"] == 6
    assert body["crs_max_grade"] == grades(g0=1, g1=1, g2=1, g3=2, g5=1)
    assert body["crs_onset_days"] == {"median": 2.0, "min": 1, "max": 5}
    assert body["secondary_malignancies"] == 1
    assert body["rcv"] == {
        "tests": 2,
        "negative": 1,
        "positive": 1,
        "pending": 0,
        "patients_tested": 1,
        "patients_positive": 1,
    }
    assert body["follow_up"] == {"due": 7, "done": 5, "overdue": 2, "done_on_time": 4, "done_late": 1}
    timepoints = {
        t["label"]: (t["due"], t["done_on_time"], t["done_late"], t["missed"]) for t in body["follow_up_by_timepoint"]
    }
    assert timepoints == {
        "Follow-up visit day 28": (4, 2, 1, 1),
        "Follow-up visit day 100": (1, 1, 0, 0),
        "Follow-up visit month 6": (1, 0, 0, 1),
        "Follow-up visit month 12": (1, 1, 0, 0),
    }
    rows = {(r["product"], r["facility"]): r for r in body["by_product_facility"]}
    assert set(rows) == {("cart-x", "hospital"), ("cart-y", "hospital")}
    # cart-x: P1..P5, onsets 1, 2, 5, 2 -> median 2; cart-y: P6 alone, CRS 1 on day 3
    assert rows["cart-x", "hospital"]["patients_infused"] == 5
    assert rows["cart-x", "hospital"]["crs_max_grade"] == grades(g0=1, g2=1, g3=2, g5=1)
    assert rows["cart-y", "hospital"]["crs_max_grade"] == grades(g1=1)
    assert rows["cart-y", "hospital"]["crs_onset_days"] == {"median": 3.0, "min": 3, "max": 3}

    csv_by_product = {r["product"]: r for r in csv_rows(client_for(data.safety).get(CSV))}
    assert set(csv_by_product) == {"cart-x", "cart-y"}
    assert csv_by_product["cart-x"]["patients_infused"] == "5"
    assert csv_by_product["cart-x"]["crs_max_grade_3"] == "2"
    assert csv_by_product["cart-y"]["crs_onset_days_median"] == "3"
    assert csv_by_product["cart-x"]["rcv_patients_positive"] == "1"


def test_each_sees_the_figures_of_their_own_facilities_only(data, client_for):
    # the other hospital's safety officer: P7 alone (CRS 3 on day 2)
    elsewhere = client_for(data.safety_elsewhere).get(SUMMARY).json()
    assert elsewhere["patients_infused"] == 1
    assert elsewhere["crs_max_grade"] == grades(g3=1)
    assert elsewhere["facilities"] == ["elsewhere"]
    assert [r["facility"] for r in elsewhere["by_product_facility"]] == ["elsewhere"]
    # asking for a facility not theirs is a 400, never someone else's figures
    refused = client_for(data.safety_elsewhere).get(SUMMARY, {"facility": "hospital"})
    assert refused.status_code == 400
    assert "facility" in refused.json()
    refused = client_for(data.safety_elsewhere).get(CSV, {"facility": "hospital"})
    assert (refused.status_code, refused["Content-Type"]) == (400, "application/json")
    assert "facility" in refused.json()
    # City Hospital's coordinator sees City Hospital's figures; a superuser sees everyone's
    assert client_for(data.world.coordinator).get(SUMMARY).json()["patients_infused"] == 6
    assert client_for(data.root).get(SUMMARY).json()["patients_infused"] == 7
    assert client_for(data.root).get(SUMMARY, {"facility": "elsewhere"}).json()["patients_infused"] == 1


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.QA, Role.MANUFACTURING, Role.INTEGRATION])
def test_other_roles_do_not_see_the_figures(role, client_for, db):
    world = journey.build_world()
    user = UserFactory(username=f"user-{role}", roles=[role], facilities=[world.hospital])
    for path in (SUMMARY, CSV):
        response = client_for(user).get(path)
        assert response.status_code == 403, path


def test_the_safety_role_sees_no_patient(data, client_for):
    order, _ = data.courses["1"]
    patient = order.patient.id
    api = client_for(data.safety)
    for path in (
        "/api/v1/patients/",
        f"/api/v1/patients/{patient}/",
        f"/api/v1/patients/{patient}/timeline/",
        f"/api/v1/patients/{patient}/fhir/",
        f"/api/v1/patients/{patient}/registry/",
        f"/api/v1/patients/{patient}/transfers/",
        "/api/v1/patients/lost-to-follow-up/",
        "/api/v1/orders/",
        "/api/v1/administrations/",
        "/api/v1/assessments/",
        "/api/v1/adverse-events/",
        "/api/v1/follow-up-visits/",
        "/api/v1/checks/",
    ):
        assert api.get(path).status_code == 403, path
    # reminders name patients: a safety officer sees none of them (only product-side ones)
    reminders = api.get("/api/v1/reminders/").json()["results"]
    assert all(r["patient"] is None for r in reminders)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "2031-13-01"}, "since"),
        ({"since": "2031-06-01", "until": "2031-05-31"}, "until"),
        ({"product": "no-such-product"}, "product"),
        ({"facility": "no-such-facility"}, "facility"),
    ],
)
def test_an_invalid_filter_is_a_400_naming_it(query, field, client_for, make_user):
    response = client_for(make_user(Role.SAFETY)).get(SUMMARY, query)
    assert response.status_code == 400
    assert field in response.json()


def test_the_query_count_does_not_grow_with_the_number_of_patients(data, client_for):
    api = client_for(data.safety)
    api.get(SUMMARY)  # the token's first use, the throttle's first count

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(path).status_code == 200
        return len(captured)

    before = {path: queries(path) for path in (SUMMARY, CSV)}
    for days_ago in (15, 25, 35):
        known.infused(data.world, days_ago, data.product_a).assess(1, **known.FEVER)
    after = {path: queries(path) for path in (SUMMARY, CSV)}

    assert api.get(SUMMARY).json()["patients_infused"] == 9
    assert after == before
    assert max(after.values()) <= 10


def test_the_schema_documents_the_summary_and_the_csv(client_for, make_user):
    schema = client_for(make_user(Role.COORDINATOR)).get("/api/schema/?format=json").json()
    summary = schema["paths"]["/api/v1/surveillance/summary/"]["get"]
    assert {"200", "400", "403", "429"} <= set(summary["responses"])
    assert {p["name"] for p in summary["parameters"]} >= {"product", "facility", "since", "until"}
    properties = schema["components"]["schemas"]["Summary"]["properties"]
    assert set(PRODUCT_A_THIS_YEAR) <= set(properties)
    assert set(schema["components"]["schemas"]["CrsMaxGrade"]["properties"]) == {"0", "1", "2", "3", "4", "5"}
    assert set(schema["components"]["schemas"]["SeriousEvents"]["properties"]) >= {
        "total",
        "reported_on_time",
        "reported_late",
        "pending",
        "overdue",
    }
    csv_operation = schema["paths"]["/api/v1/surveillance/summary.csv"]["get"]
    assert "text/csv" in csv_operation["responses"]["200"]["content"]
