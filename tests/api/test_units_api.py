"""units/: the bags of a batch, with where they are, their expiry and temperature excursions."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from products.models import Unit
from tests import journey

pytestmark = pytest.mark.django_db


def bag(batch_id: int, unit_id: str = "BAG-1", **extra: object) -> dict:
    return {"unit_id": unit_id, "batch": batch_id, "dose_cells": 150_000_000, "volume_ml": 70.5, **extra}


def test_a_unit_is_created_for_a_batch_and_carries_its_coi(world, client_for):
    batch = journey.started_batch(world)
    expires = timezone.now() + timedelta(days=30)

    response = client_for(world.manufacturing).post("/api/v1/units/", bag(batch.id, expires_at=expires.isoformat()))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["unit_id"] == "BAG-1" and body["batch"] == batch.id and body["coi"] == batch.chain.coi
    assert body["status"] == "manufactured" and body["current_facility"] == "factory"
    assert body["dose_cells"] == 150_000_000 and body["volume_ml"] == 70.5
    assert datetime.fromisoformat(body["expires_at"]) == expires
    assert body["use_by"] is None and body["thawed_at"] is None and body["temperature_excursion"] is False


def test_without_expiry_a_unit_expires_after_the_products_shelf_life(world, client_for):
    batch = journey.started_batch(world)

    response = client_for(world.manufacturing).post("/api/v1/units/", bag(batch.id))

    expires = datetime.fromisoformat(response.json()["expires_at"])
    assert abs(expires - (timezone.now() + timedelta(days=180))) < timedelta(minutes=1)


def test_a_unit_on_a_released_batch_is_refused_batch_closed(world, client_for):
    unit = journey.released_unit(world)

    response = client_for(world.manufacturing).post("/api/v1/units/", bag(unit.batch_id, unit_id="BAG-LATE"))

    assert response.status_code == 409
    assert response.json()["code"] == "batch_closed"
    assert not Unit.objects.filter(unit_id="BAG-LATE").exists()


def test_a_unit_for_a_batch_the_caller_cannot_see_is_a_400_on_batch(world, client_for):
    theirs = journey.elsewhere(world, journey.make_product(world))

    response = client_for(world.manufacturing).post("/api/v1/units/", bag(theirs.batch.id, unit_id="BAG-X"))

    assert response.status_code == 400
    assert "does not exist" in response.json()["batch"][0]
    assert not Unit.objects.filter(unit_id="BAG-X").exists()


def test_a_duplicate_unit_id_is_a_400_on_unit_id(world, client_for):
    batch = journey.started_batch(world)
    journey.make_unit(world, batch, unit_id="BAG-1")

    response = client_for(world.manufacturing).post("/api/v1/units/", bag(batch.id, unit_id="BAG-1"))

    assert response.status_code == 400
    assert "unit_id" in response.json()
    assert Unit.objects.count() == 1


@pytest.mark.parametrize(("field", "value"), [("dose_cells", 0), ("dose_cells", "many"), ("volume_ml", -1)])
def test_an_impossible_dose_or_volume_is_a_400_naming_the_field(field, value, world, client_for):
    batch = journey.started_batch(world)

    response = client_for(world.manufacturing).post("/api/v1/units/", bag(batch.id) | {field: value})

    assert response.status_code == 400
    assert field in response.json()
    assert not Unit.objects.exists()


def test_a_clinician_may_not_create_units(world, client_for):
    batch = journey.started_batch(world)

    response = client_for(world.clinician).post("/api/v1/units/", bag(batch.id))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Unit.objects.exists()


def test_a_clinician_of_another_hospital_neither_sees_nor_finds_a_unit(world, client_for):
    unit = journey.deliver(world, journey.released_unit(world))
    client = client_for(world.other_clinician)

    assert client.get(f"/api/v1/units/{unit.unit_id}/").status_code == 404
    assert client.get("/api/v1/units/").json()["results"] == []
    assert client_for(world.clinician).get(f"/api/v1/units/{unit.unit_id}/").status_code == 200


def test_the_treating_hospital_sees_a_unit_on_its_way(world, client_for):
    unit = journey.ship(world, journey.released_unit(world))

    body = client_for(world.clinician).get(f"/api/v1/units/{unit.unit_id}/").json()

    assert body["status"] == "shipped" and body["current_facility"] == "factory" and body["destination"] == "hospital"


def test_units_filter_by_coi_status_facility_and_batch(world, client_for):
    shipped = journey.ship(world, journey.released_unit(world, unit_id="BAG-A"))
    batch = journey.started_batch(world)
    waiting = journey.make_unit(world, batch, unit_id="BAG-B")
    client = client_for(world.integration)

    def unit_ids(query: str) -> list[str]:
        response = client.get(f"/api/v1/units/?{query}")
        assert response.status_code == 200, response.json()
        return [u["unit_id"] for u in response.json()["results"]]

    assert unit_ids(f"coi={batch.chain.coi}") == ["BAG-B"]
    assert unit_ids("status=shipped") == ["BAG-A"]
    assert unit_ids("facility=factory") == ["BAG-A", "BAG-B"]
    assert unit_ids("destination=hospital") == [shipped.unit_id]
    assert unit_ids(f"batch={waiting.batch_id}") == ["BAG-B"]
    assert client.get("/api/v1/units/?status=lost").status_code == 400


@pytest.mark.parametrize("rows", [1, 10])
def test_unit_list_takes_the_same_number_of_queries_for_1_or_10_units(
    rows, world, client_for, django_assert_max_num_queries
):
    journey.ship(world, journey.released_unit(world, unit_id="BAG-SHIPPED"))
    for n in range(rows):
        journey.make_unit(world, journey.started_batch(world), unit_id=f"BAG-{n}")
    client = client_for(world.clinician)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/units/")

    assert len(response.json()["results"]) == rows + 1


def test_unit_detail_takes_a_bounded_number_of_queries(world, client_for, django_assert_max_num_queries):
    unit = journey.deliver(world, journey.released_unit(world))
    client = client_for(world.clinician)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(3):
        response = client.get(f"/api/v1/units/{unit.unit_id}/")

    assert response.json()["status"] == "thawed"
