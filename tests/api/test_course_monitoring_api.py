"""Course-level monitoring for repeated doses through HTTP: under `msc_standard` (scheduled from each infusion) every
infusion recorded at the bedside brings its own infusion-reaction checks, counted from its own time, while the
course's checks (the day-28 GVHD response among them) count once from the first; voiding a later infusion takes
only its own checks with it."""

from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests import journey

pytestmark = pytest.mark.django_db


def ago(**delta: float) -> datetime:
    return (timezone.now() - timedelta(**delta)).replace(microsecond=0)


def bedside_body(order, unit, at: datetime) -> dict:
    return {
        "coi": order.coi,
        "unit": unit.unit_id,
        "administered_at": at.isoformat(),
        "route": "iv_infusion",
        "scanned_unit": unit.unit_id,
        "scanned_patient": order.patient.mrn,
        "scanned_birth_date": order.patient.birth_date.isoformat(),
        "verifier_username": "coord",
        "verifier_password": journey.TEST_PASSWORD,
    }


def checks(client, order, **filters: str) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in {"patient": order.patient_id, "page_size": 100, **filters}.items())
    return client.get(f"/api/v1/checks/?{query}").json()["results"]


def test_each_infusion_brings_its_own_checks_and_the_course_its_checks_once(world, client_for):
    order, (bag_1, bag_2) = journey.course_at_bedside(world, product=journey.msc_product(world))
    client = client_for(world.clinician)
    first_at, second_at = ago(minutes=8), ago(minutes=2)

    first = client.post("/api/v1/administrations/", bedside_body(order, bag_1, first_at))
    second = client.post("/api/v1/administrations/", bedside_body(order, bag_2, second_at))

    assert (first.status_code, second.status_code) == (201, 201), (first.json(), second.json())
    own = checks(client, order, per_infusion="true")
    course = checks(client, order, per_infusion="false")
    assert Counter(c["administration"] for c in own) == {first.json()["id"]: 2, second.json()["id"]: 2}
    assert {c["label"] for c in own if c["administration"] == second.json()["id"]} == {
        f"Infusion reaction check at {t} (unit {bag_2.unit_id})" for t in ("1 h", "24 h")
    }
    second_own = [c for c in own if c["administration"] == second.json()["id"]]
    assert {datetime.fromisoformat(c["due_at"]) - second_at for c in second_own} == {
        timedelta(hours=1),
        timedelta(hours=24),
    }
    assert {c["administration"] for c in course} == {first.json()["id"]}
    (response,) = [c for c in course if c["kind"] == "gvhd_response"]
    assert datetime.fromisoformat(response["due_at"]) == first_at + timedelta(days=28)


def test_voiding_the_second_infusion_cancels_its_own_checks_only(world, client_for):
    order, (bag_1, bag_2) = journey.course_at_bedside(world, product=journey.msc_product(world))
    client = client_for(world.clinician)
    first = client.post("/api/v1/administrations/", bedside_body(order, bag_1, ago(minutes=8))).json()
    second = client.post("/api/v1/administrations/", bedside_body(order, bag_2, ago(minutes=2))).json()
    course_before = checks(client, order, per_infusion="false")

    response = client.post(f"/api/v1/administrations/{second['id']}/void/", {"reason": "Entered on the wrong bag"})

    assert response.status_code == 200, response.json()
    statuses = Counter((c["administration"], c["status"]) for c in checks(client, order, per_infusion="true"))
    assert statuses == {(first["id"], "open"): 2, (second["id"], "cancelled"): 2}
    assert checks(client, order, per_infusion="false") == course_before
