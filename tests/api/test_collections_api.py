"""collections/: cells collected for a chain of identity, under an ISBT 128 DIN with its check character."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.models import Collection
from products.rules.isbt128 import check_character
from tests import journey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def collection(coi: str, din: str, **extra: object) -> dict:
    at = (timezone.now() - timedelta(days=1)).isoformat()
    return {
        "coi": coi,
        "din": din,
        "facility": "apheresis",
        "collected_at": at,
        "method": "apheresis",
        "volume_ml": 180,
    } | extra


def assert_nothing_collected(order) -> None:
    assert not Collection.objects.exists()
    order.chain.refresh_from_db()
    assert order.chain.status == "ordered"


def test_a_collection_is_recorded_and_read_back_with_its_full_din(world, client_for):
    order = journey.make_order(world)
    number = "W123426000042"
    din = f"{number}00{check_character(number)}"  # with the two flag characters

    response = client_for(world.coordinator).post(
        "/api/v1/collections/", collection(order.coi, din, total_nucleated_cells=9_000_000_000)
    )

    assert response.status_code == 201, response.json()
    listed = client_for(world.clinician).get("/api/v1/collections/").json()["results"]
    assert listed == [response.json()]
    assert listed[0] | {"id": 0, "created_at": "", "collected_at": ""} == {
        "id": 0,
        "coi": order.coi,
        "donor": None,  # a donor's collection (allogeneic) names its donor and product instead of a COI
        "donor_code": None,
        "product": None,
        "din": din,
        "din_number": number,
        "din_flags": "00",
        "din_check": check_character(number),
        "facility": "apheresis",
        "collected_at": "",
        "method": "apheresis",
        "volume_ml": 180.0,
        "total_nucleated_cells": 9_000_000_000,
        "cd3_cells": None,
        "cd34_cells": None,
        "note": "",
        "collected_by": "coord",
        "created_at": "",
    }
    order.chain.refresh_from_db()
    assert order.chain.status == "collected"


def test_the_published_example_din_is_accepted_as_printed(world, client_for):
    order = journey.make_order(world)

    # ICCBBA ST-001: G123498654321 has the check character H; eye-readable form has spaces.
    response = client_for(world.coordinator).post("/api/v1/collections/", collection(order.coi, "G1234 98 654321 H"))

    assert response.status_code == 201, response.json()
    assert response.json()["din"] == "G123498654321H"


def test_a_din_with_a_wrong_check_character_is_a_400_on_din(world, client_for):
    order = journey.make_order(world)

    response = client_for(world.coordinator).post("/api/v1/collections/", collection(order.coi, "G123498654321J"))

    assert response.status_code == 400
    assert "check character" in response.json()["din"][0]
    assert_nothing_collected(order)


def test_a_malformed_din_is_a_400_on_din(world, client_for):
    order = journey.make_order(world)

    response = client_for(world.coordinator).post("/api/v1/collections/", collection(order.coi, "O12349865432"))

    assert response.status_code == 400
    assert "din" in response.json()
    assert_nothing_collected(order)


def test_a_din_recorded_twice_is_a_400_on_din(world, client_for):
    order = journey.make_order(world)
    din = journey.make_din()
    client = client_for(world.coordinator)
    assert client.post("/api/v1/collections/", collection(order.coi, din)).status_code == 201

    again = client.post("/api/v1/collections/", collection(order.coi, din))

    assert again.status_code == 400
    assert "din" in again.json()
    assert Collection.objects.count() == 1


def test_a_collection_for_a_coi_the_caller_cannot_see_is_a_400_on_coi(world, client_for):
    order = journey.make_order(world)
    stranger = UserFactory(username="coord2", roles=["coordinator"], facilities=[world.other_hospital])

    response = client_for(stranger).post(
        "/api/v1/collections/", collection(order.coi, journey.make_din(), facility="elsewhere")
    )

    assert response.status_code == 400
    assert "does not exist" in response.json()["coi"][0]
    assert_nothing_collected(order)


def test_a_collection_dated_in_the_future_is_a_400_on_collected_at(world, client_for):
    order = journey.make_order(world)
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()

    response = client_for(world.coordinator).post(
        "/api/v1/collections/", collection(order.coi, journey.make_din(), collected_at=tomorrow)
    )

    assert response.status_code == 400
    assert "collected_at" in response.json()
    assert_nothing_collected(order)


def test_a_clinician_may_not_record_collections(world, client_for):
    order = journey.make_order(world)

    response = client_for(world.clinician).post(
        "/api/v1/collections/", collection(order.coi, journey.make_din(), facility="hospital")
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert_nothing_collected(order)


def test_collections_filter_by_coi_facility_and_din(world, client_for):
    first = journey.make_order(world)
    second = journey.make_order(world, first.product, journey.make_patient(world, "M-2"))
    journey.collect(world, first)
    journey.collect(world, second)
    client = client_for(world.integration)
    din = Collection.objects.get(chain=second.chain).full_din

    def cois(query: str) -> list[str]:
        response = client.get(f"/api/v1/collections/?{query}")
        assert response.status_code == 200
        return [c["coi"] for c in response.json()["results"]]

    assert cois(f"coi={first.coi}") == [first.coi]
    assert sorted(cois("facility=apheresis")) == sorted([first.coi, second.coi])
    assert cois("facility=hospital") == []
    assert cois(f"din={din}") == [second.coi]


def test_a_clinician_of_another_hospital_does_not_see_the_collection(world, client_for):
    order = journey.make_order(world)
    journey.collect(world, order)
    client = client_for(world.other_clinician)

    assert client.get("/api/v1/collections/").json()["results"] == []
    collection_id = Collection.objects.get().id
    assert client.get(f"/api/v1/collections/{collection_id}/").status_code == 404
    assert client_for(world.clinician).get(f"/api/v1/collections/{collection_id}/").status_code == 200


@pytest.mark.parametrize("rows", [1, 10])
def test_collection_list_takes_the_same_number_of_queries_for_1_or_10_collections(
    rows, world, client_for, django_assert_max_num_queries
):
    product = journey.make_product(world)
    for n in range(rows):
        journey.collect(world, journey.make_order(world, product, journey.make_patient(world, f"M-{n}")))
    client = client_for(world.clinician)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/collections/")

    assert len(response.json()["results"]) == rows
