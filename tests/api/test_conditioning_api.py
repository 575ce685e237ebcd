"""conditioning/: the lymphodepleting regimen before infusion, recorded against the order's COI."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import journey
from tracker.models import Conditioning

pytestmark = pytest.mark.django_db


def dose(order, /, **extra: object) -> dict:
    return {
        "coi": order.coi,
        "regimen": "Flu/Cy",
        "drug": "fludarabine",
        "dose": 30,
        "dose_unit": "mg/m2",
        "given_on": (timezone.localdate() - timedelta(days=5)).isoformat(),
        "day_relative": -5,
    } | extra


@pytest.fixture
def order(world):
    return journey.make_order(world, product=journey.product_of(world))


def test_a_regimen_is_recorded_day_by_day_for_the_order(world, order, client_for):
    client = client_for(world.clinician)

    responses = [
        client.post("/api/v1/conditioning/", dose(order, drug=drug, dose=amount, day_relative=day))
        for drug, amount, day in [("fludarabine", 30, -5), ("cyclophosphamide", 500, -5), ("fludarabine", 30, -4)]
    ]

    assert [r.status_code for r in responses] == [201, 201, 201], responses[-1].json()
    answer = responses[0].json()
    assert (answer["coi"], answer["patient"], answer["dose"], answer["recorded_by"]) == (
        order.coi,
        order.patient_id,
        30,
        "doc",
    )
    assert client.get(f"/api/v1/conditioning/{answer['id']}/").json() == answer
    listed = client.get(f"/api/v1/conditioning/?coi={order.coi}").json()["results"]
    assert len(listed) == 3
    assert client.get(f"/api/v1/conditioning/?patient={order.patient_id}").json()["results"] == listed


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"coi": "W999999999999Z"}, "coi"),
        ({"dose": 0}, "dose"),
        ({"drug": ""}, "drug"),
        ({"given_on": "monday"}, "given_on"),
        ({"day_relative": "minus five"}, "day_relative"),
        ({"day_relative": -4000}, "day_relative"),
    ],
)
def test_invalid_conditioning_is_a_400_naming_the_field(extra, field, world, order, client_for):
    response = client_for(world.clinician).post("/api/v1/conditioning/", dose(order, **extra))

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Conditioning.objects.exists()


def test_other_hospitals_and_manufacturing_neither_see_nor_record_conditioning(world, order, client_for):
    created = client_for(world.clinician).post("/api/v1/conditioning/", dose(order)).json()
    other, manufacturing = client_for(world.other_clinician), client_for(world.manufacturing)

    refused = other.post("/api/v1/conditioning/", dose(order))

    assert refused.status_code == 400
    assert "does not exist" in refused.json()["coi"][0]
    assert other.get(f"/api/v1/conditioning/{created['id']}/").status_code == 404
    assert other.get("/api/v1/conditioning/").json()["results"] == []
    assert manufacturing.get("/api/v1/conditioning/").status_code == 403
    assert manufacturing.post("/api/v1/conditioning/", dose(order)).status_code == 403
    assert Conditioning.objects.count() == 1


@pytest.mark.parametrize("rows", [1, 10])
def test_conditioning_list_takes_the_same_number_of_queries_for_1_or_10(
    rows, world, client_for, django_assert_max_num_queries
):
    client = client_for(world.clinician)
    product = journey.product_of(world)
    for n in range(rows):
        order = journey.make_order(world, product=product, patient=journey.make_patient(world, mrn=f"H-{n}"))
        assert client.post("/api/v1/conditioning/", dose(order)).status_code == 201

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/conditioning/")

    assert len(response.json()["results"]) == rows
