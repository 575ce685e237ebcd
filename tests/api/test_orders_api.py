"""orders/: a therapy order binds a patient to a product through a server-generated COI."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.models import ChainOfIdentity, Product
from products.rules.isbt128 import is_valid_coi
from tests import journey
from tracker.models import TherapyOrder

pytestmark = pytest.mark.django_db


def assert_no_order() -> None:
    assert not TherapyOrder.objects.exists()
    assert not ChainOfIdentity.objects.exists()


def test_an_order_gets_a_coi_without_patient_identifiers(world, client_for):
    journey.make_product(world)
    ada = journey.make_patient(world, mrn="MRN-424242")
    client = client_for(world.clinician)

    response = client.post("/api/v1/orders/", {"patient": ada.id, "product": "cart-x", "note": "Cycle 1"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert is_valid_coi(body["coi"]) and "424242" not in body["coi"]
    assert body["coi"].startswith("COIW4321")  # the COI prefix, then the treating hospital's FIN
    assert body | {"coi": "", "ordered_at": ""} == {
        "coi": "",
        "patient": ada.id,
        "product": "cart-x",
        "status": "ordered",
        "facility": "hospital",
        "collection_facility": None,
        "allocated_units": [],  # units reserved from inventory: allogeneic orders only
        "ordered_by": "doc",
        "ordered_at": "",
        "note": "Cycle 1",
        "trial_protocol": "",
        "ind_number": "",
        "regulatory_status": "licensed",
        "trial_ind_number": "",
        "planned_conditioning_on": None,  # the plan (orders/{coi}/plan/), none yet
        "planned_infusion_on": None,
    }
    assert client.get(f"/api/v1/orders/{body['coi']}/").json() == body


def test_an_order_for_a_patient_the_caller_cannot_see_is_a_400_on_patient(world, client_for):
    journey.make_product(world)
    ada = journey.make_patient(world)

    response = client_for(world.other_clinician).post("/api/v1/orders/", {"patient": ada.id, "product": "cart-x"})

    assert response.status_code == 400
    assert "does not exist" in response.json()["patient"][0]
    assert_no_order()


def test_an_order_for_an_unknown_product_is_a_400_on_product(world, client_for):
    ada = journey.make_patient(world)

    response = client_for(world.clinician).post("/api/v1/orders/", {"patient": ada.id, "product": "nothing"})

    assert response.status_code == 400
    assert "product" in response.json()
    assert_no_order()


def test_an_order_for_an_inactive_product_is_a_400_on_product(world, client_for):
    journey.make_product(world)
    ada = journey.make_patient(world)
    journey.make_product(world, code="old")
    Product.objects.filter(code="old").update(is_active=False)  # no service retires products yet

    response = client_for(world.clinician).post("/api/v1/orders/", {"patient": ada.id, "product": "old"})

    assert response.status_code == 400
    assert "product" in response.json()
    assert_no_order()


def test_a_clinician_of_another_hospital_neither_sees_nor_finds_the_order(world, client_for):
    order = journey.make_order(world)
    client = client_for(world.other_clinician)

    assert client.get(f"/api/v1/orders/{order.coi}/").status_code == 404
    assert client.get("/api/v1/orders/").json()["results"] == []


def test_manufacturing_gets_403_on_every_order_endpoint(world, client_for):
    order = journey.make_order(world)
    client = client_for(world.manufacturing)

    assert client.get("/api/v1/orders/").status_code == 403
    assert client.get(f"/api/v1/orders/{order.coi}/").status_code == 403
    response = client.post("/api/v1/orders/", {"patient": order.patient_id, "product": "cart-x"})
    assert response.status_code == 403
    assert TherapyOrder.objects.count() == 1


def test_orders_filter_by_coi_status_patient_and_facility(world, client_for):
    first = journey.make_order(world)
    second = journey.make_order(world, first.product, journey.make_patient(world, "MRN-2"))
    journey.collect(world, second)
    client = client_for(world.clinician)

    def cois(query: str) -> list[str]:
        response = client.get(f"/api/v1/orders/?{query}")
        assert response.status_code == 200, response.json()
        return [o["coi"] for o in response.json()["results"]]

    assert cois(f"coi={first.coi}") == [first.coi]
    assert cois("status=collected") == [second.coi]
    assert cois(f"patient={first.patient_id}") == [first.coi]
    assert sorted(cois("facility=hospital")) == sorted([first.coi, second.coi])
    assert client.get("/api/v1/orders/?status=lost").status_code == 400


@pytest.mark.parametrize("rows", [1, 10])
def test_order_list_takes_the_same_number_of_queries_for_1_or_10_orders(
    rows, world, client_for, django_assert_max_num_queries
):
    product = journey.make_product(world)
    for n in range(rows):
        journey.make_order(world, product, journey.make_patient(world, f"MRN-{n}"))
    client = client_for(world.clinician)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/orders/")

    assert len(response.json()["results"]) == rows


def test_a_planned_collection_site_and_the_products_manufacturing_site_see_the_chain(world, client_for):
    journey.make_product(world)
    Product.objects.filter(code="cart-x").update(manufacturing_facility=world.factory_site)
    patient = journey.make_patient(world, mrn="MRN-777")
    created = client_for(world.clinician).post(
        "/api/v1/orders/", {"patient": patient.id, "product": "cart-x", "collection_facility": "apheresis"}
    )
    assert created.status_code == 201, created.json()
    coi = created.json()["coi"]
    assert created.json()["collection_facility"] == "apheresis"

    # the planned collection site and the manufacturing site see the chain before anything happened there
    batch = {
        "coi": coi,
        "lot_number": "LOT-PLANNED",
        "facility": "factory",
        "started_at": (timezone.now() - timedelta(hours=1)).isoformat(),
    }
    too_early = client_for(world.manufacturing).post("/api/v1/batches/", batch)
    assert too_early.status_code == 409 and too_early.json()["code"] == "not_collected"

    collected = client_for(world.coordinator).post(
        "/api/v1/collections/",
        {
            "coi": coi,
            "din": journey.make_din(),
            "facility": "apheresis",
            "method": "apheresis",
            "volume_ml": "240",
            "collected_at": (timezone.now() - timedelta(days=1)).isoformat(),
        },
    )
    assert collected.status_code == 201, collected.json()
    started = client_for(world.manufacturing).post("/api/v1/batches/", batch)
    assert started.status_code == 201, started.json()
