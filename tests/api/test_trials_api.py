"""Investigational products through HTTP: products and orders carry their trial; an adverse event's report clock
follows the status of its course, rule by rule; the sponsor's reminder and its notification."""

import itertools
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from products.models import Product
from tests import journey
from tracker.models import AdverseEvent, Reminder, TherapyOrder
from tracker.rules import reporting

pytestmark = pytest.mark.django_db

SPEC = [{"test": "viability", "unit": "%", "min": 70}]


def at(**delta: float) -> datetime:
    return (timezone.now() - timedelta(**delta)).replace(microsecond=0)


def product_body(code: str, **extra: object) -> dict:
    return {
        "code": code,
        "name": f"Product {code}",
        "modality": "msc",
        "source": "allogeneic",
        "gene_modified": False,
        "monitoring_protocol": "msc_standard",
        "shelf_life_after_thaw_minutes": 180,
        "release_spec": SPEC,
    } | extra


# Products -----------------------------------------------------------------------------------------------------------


def test_an_investigational_product_is_created_with_its_ind_and_protocol_and_read_back(world, client_for):
    client = client_for(world.coordinator)

    trial = {"regulatory_status": "investigational", "ind_number": " IND 123456 ", "trial_protocol": "MSC-201"}

    response = client.post("/api/v1/products/", product_body("msc-trial", **trial))

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert (answer["regulatory_status"], answer["ind_number"], answer["trial_protocol"]) == (
        "investigational",
        "IND 123456",
        "MSC-201",
    )
    assert client.get("/api/v1/products/msc-trial/").json()["ind_number"] == "IND 123456"


def test_a_product_is_licensed_unless_told(world, client_for):
    response = client_for(world.coordinator).post("/api/v1/products/", product_body("msc-licensed"))

    assert response.status_code == 201, response.json()
    assert (response.json()["regulatory_status"], response.json()["ind_number"]) == ("licensed", "")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"regulatory_status": "investigational"}, "ind_number"),
        ({"regulatory_status": "investigational", "ind_number": "   "}, "ind_number"),
        ({"ind_number": "IND 123456"}, "ind_number"),
        ({"trial_protocol": "MSC-201"}, "trial_protocol"),
        ({"regulatory_status": "experimental"}, "regulatory_status"),
    ],
)
def test_an_investigational_product_without_its_ind_is_a_400_and_nothing_is_written(world, client_for, extra, field):
    response = client_for(world.coordinator).post("/api/v1/products/", product_body("msc-bad", **extra))

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Product.objects.filter(code="msc-bad").exists()


# Orders -------------------------------------------------------------------------------------------------------------

_mrns = itertools.count(1)


def order_body(world, product: Product, **extra: object) -> dict:
    patient = journey.make_patient(world, mrn=f"MRN-A{next(_mrns):04d}")
    return {"patient": patient.id, "product": product.code} | extra


def test_an_order_names_the_trial_of_a_licensed_product_and_says_what_it_is_reported_as(world, client_for):
    product = journey.make_product(world, code="cart-licensed")
    client = client_for(world.clinician)

    response = client.post(
        "/api/v1/orders/", order_body(world, product, trial_protocol="CART-LTFU-07", ind_number="IND 200001")
    )

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert (answer["trial_protocol"], answer["ind_number"]) == ("CART-LTFU-07", "IND 200001")
    assert (answer["regulatory_status"], answer["trial_ind_number"]) == ("investigational", "IND 200001")
    assert client.get(f"/api/v1/orders/{answer['coi']}/").json() == answer


def test_an_order_of_an_investigational_product_reports_under_the_products_ind(world, client_for):
    product = journey.make_product(world, code="msc-trial", regulatory_status="investigational", ind_number="IND 1")

    answer = client_for(world.clinician).post("/api/v1/orders/", order_body(world, product)).json()

    assert (answer["trial_protocol"], answer["regulatory_status"], answer["trial_ind_number"]) == (
        "",
        "investigational",
        "IND 1",
    )


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"trial_protocol": "CART-LTFU-07"}, "ind_number"), ({"ind_number": "IND 9"}, "trial_protocol")],
)
def test_an_order_with_half_a_trial_is_a_400_and_writes_nothing(world, client_for, extra, field):
    product = journey.make_product(world, code="cart-licensed")

    response = client_for(world.clinician).post("/api/v1/orders/", order_body(world, product, **extra))

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not TherapyOrder.objects.exists()


# Adverse events: each rule through HTTP --------------------------------------------------------------------------


def course(world, client_for, *, status: str = "investigational", **trial: str) -> str:
    code = f"p-{status}"
    product = Product.objects.filter(code=code).first() or journey.make_product(
        world, code=code, **({"regulatory_status": status, "ind_number": "IND 123456"} if status != "licensed" else {})
    )
    response = client_for(world.clinician).post("/api/v1/orders/", order_body(world, product, **trial))
    assert response.status_code == 201, response.json()
    return response.json()["coi"]


def event_body(coi: str, **extra: object) -> dict:
    patient = TherapyOrder.objects.get(chain__coi=coi).patient_id
    return {
        "patient": patient,
        "coi": coi,
        "term": "infection",
        "grade": 3,
        "onset_at": at(days=2).isoformat(),
        "aware_at": at(days=1).isoformat(),
        "serious": True,
        "expected": False,
    } | extra


def due_days(answer: dict) -> int | None:
    if answer["report_due_at"] is None:
        return None
    return (datetime.fromisoformat(answer["report_due_at"]) - datetime.fromisoformat(answer["aware_at"])).days


@pytest.mark.parametrize(
    ("status", "facts", "days", "rule"),
    [
        ("licensed", {"relatedness": "unrelated"}, 15, reporting.POSTMARKETING_15_DAY),
        ("licensed", {"expected": True}, None, reporting.POSTMARKETING_EXPECTED),
        ("investigational", {}, 15, reporting.IND_15_DAY),
        ("investigational", {"grade": 4}, 7, reporting.IND_7_DAY),
        ("investigational", {"outcome": "fatal"}, 7, reporting.IND_7_DAY),
        ("investigational", {"relatedness": "unlikely"}, None, reporting.IND_NOT_SUSPECTED),
        ("investigational", {"expected": True}, None, reporting.IND_EXPECTED),
        ("investigational", {"serious": False, "grade": 2}, None, reporting.IND_NOT_SERIOUS),
    ],
)
def test_the_report_clock_follows_the_courses_status(world, client_for, status, facts, days, rule):
    coi = course(world, client_for, status=status)

    response = client_for(world.clinician).post("/api/v1/adverse-events/", event_body(coi, **facts))

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert (answer["coi"], answer["regulatory_status"]) == (coi, status)
    assert (due_days(answer), answer["report_rule"]) == (days, rule)


def test_a_licensed_product_in_a_trial_reports_under_312_32(world, client_for):
    coi = course(world, client_for, status="licensed", trial_protocol="CART-LTFU-07", ind_number="IND 200001")

    answer = client_for(world.clinician).post("/api/v1/adverse-events/", event_body(coi, grade=4)).json()

    assert (answer["regulatory_status"], answer["ind_number"], answer["trial_protocol"]) == (
        "investigational",
        "IND 200001",
        "CART-LTFU-07",
    )
    assert (due_days(answer), answer["report_rule"]) == (7, reporting.IND_7_DAY)


def test_suspected_defaults_from_relatedness_and_a_contradiction_is_a_400(world, client_for):
    coi = course(world, client_for)
    client = client_for(world.clinician)

    derived = client.post("/api/v1/adverse-events/", event_body(coi, relatedness="unlikely")).json()
    agreeing = client.post("/api/v1/adverse-events/", event_body(coi, relatedness="definite", suspected=True)).json()
    contradiction = client.post("/api/v1/adverse-events/", event_body(coi, relatedness="possible", suspected=False))

    assert (derived["suspected"], derived["report_due_at"]) == (False, None)
    assert agreeing["suspected"] is True
    assert contradiction.status_code == 400 and "suspected" in contradiction.json()
    assert AdverseEvent.objects.count() == 2


def test_an_order_of_another_patient_is_a_400(world, client_for):
    coi = course(world, client_for)
    other = course(world, client_for, status="licensed")

    body = event_body(coi) | {"coi": other}
    response = client_for(world.clinician).post("/api/v1/adverse-events/", body)

    assert response.status_code == 400 and "coi" in response.json()
    assert not AdverseEvent.objects.exists()


def test_patch_recomputes_the_clock_under_the_status_kept(world, client_for):
    coi = course(world, client_for)
    client = client_for(world.clinician)
    created = client.post("/api/v1/adverse-events/", event_body(coi, relatedness="unrelated")).json()
    path = f"/api/v1/adverse-events/{created['id']}/"
    assert created["report_rule"] == reporting.IND_NOT_SUSPECTED

    suspected = client.patch(path, {"relatedness": "probable"})
    fatal = client.patch(path, {"outcome": "fatal"})
    contradiction = client.patch(path, {"suspected": False})

    assert suspected.status_code == 200, suspected.json()
    assert (suspected.json()["suspected"], due_days(suspected.json())) == (True, 15)
    assert (due_days(fatal.json()), fatal.json()["report_rule"]) == (7, reporting.IND_7_DAY)
    assert contradiction.status_code == 400 and "suspected" in contradiction.json()
    assert client.get(path).json() == fatal.json()


# The sponsor ----------------------------------------------------------------------------------------------------


def test_the_sponsor_reminder_is_raised_at_once_and_resolved_by_sponsor_notified(world, client_for):
    coi = course(world, client_for)
    client = client_for(world.clinician)
    created = client.post("/api/v1/adverse-events/", event_body(coi, relatedness="unrelated")).json()
    reminders = client.get(f"/api/v1/reminders/?patient={created['patient']}&kind=sponsor_notification").json()
    assert [(r["status"], r["severity"]) for r in reminders["results"]] == [("open", "urgent")]
    assert client.get("/api/v1/adverse-events/?sponsor_pending=true").json()["results"][0]["id"] == created["id"]
    told = at(hours=3)

    response = client.post(
        f"/api/v1/adverse-events/{created['id']}/sponsor-notified/", {"sponsor_notified_at": told.isoformat()}
    )
    again = client.post(f"/api/v1/adverse-events/{created['id']}/sponsor-notified/")

    assert response.status_code == 200, response.json()
    assert datetime.fromisoformat(response.json()["sponsor_notified_at"]) == told
    reminder = client.get(f"/api/v1/reminders/{reminders['results'][0]['id']}/").json()
    assert (reminder["status"], reminder["resolution"]) == ("resolved", "Sponsor notified")
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    assert client.get("/api/v1/adverse-events/?sponsor_pending=true").json()["results"] == []


def test_sponsor_notified_is_refused_outside_a_trial_before_awareness_and_for_others(world, client_for):
    client = client_for(world.clinician)
    licensed = client.post("/api/v1/adverse-events/", event_body(course(world, client_for, status="licensed"))).json()
    trial = client.post("/api/v1/adverse-events/", event_body(course(world, client_for))).json()
    early = (datetime.fromisoformat(trial["aware_at"]) - timedelta(hours=1)).isoformat()

    outside = client.post(f"/api/v1/adverse-events/{licensed['id']}/sponsor-notified/")
    before = client.post(f"/api/v1/adverse-events/{trial['id']}/sponsor-notified/", {"sponsor_notified_at": early})
    stranger = client_for(world.other_clinician).post(f"/api/v1/adverse-events/{trial['id']}/sponsor-notified/")
    manufacturing = client_for(world.manufacturing).post(f"/api/v1/adverse-events/{trial['id']}/sponsor-notified/")

    assert (outside.status_code, outside.json()["code"]) == (409, "illegal_transition")
    assert before.status_code == 400 and "sponsor_notified_at" in before.json()
    assert (stranger.status_code, manufacturing.status_code) == (404, 403)
    assert not AdverseEvent.objects.filter(sponsor_notified_at__isnull=False).exists()
    assert Reminder.objects.filter(kind="sponsor_notification", status="open").count() == 1


@pytest.mark.parametrize("rows", [1, 8])
def test_the_adverse_event_list_stays_flat_in_queries(rows, world, client_for, django_assert_max_num_queries):
    client = client_for(world.clinician)
    for _ in range(rows):
        assert client.post("/api/v1/adverse-events/", event_body(course(world, client_for))).status_code == 201

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/adverse-events/")

    assert len(response.json()["results"]) == rows
    assert all(row["coi"] for row in response.json()["results"])


def test_the_timeline_and_fhir_export_say_what_a_trial_event_is_reported_under(world, client_for):
    coi = course(world, client_for)
    client = client_for(world.clinician)
    created = client.post("/api/v1/adverse-events/", event_body(coi, grade=4)).json()
    patient = created["patient"]

    timeline = client.get(f"/api/v1/patients/{patient}/timeline/?kind=adverse_event").json()
    fhir = client.get(f"/api/v1/patients/{patient}/fhir/").json()

    (event,) = timeline["events"]
    detail = event["detail"]
    assert (detail["regulatory_status"], detail["suspected"], detail["report_rule"]) == (
        "investigational",
        True,
        reporting.IND_7_DAY,
    )
    assert (detail["ind_number"], detail["sponsor_notified_at"]) == (created["ind_number"], None)
    assert "(21 CFR 312.32(c)(2))" in event["summary"] and "sponsor not yet told" in event["summary"]
    (resource,) = [e["resource"] for e in fhir["entry"] if e["resource"]["resourceType"] == "AdverseEvent"]
    assert created["ind_number"] in resource["study"][0]["display"]
    suspected = [x for x in resource["extension"] if x["url"].endswith("suspected-adverse-reaction")]
    assert suspected[0]["valueBoolean"] is True
