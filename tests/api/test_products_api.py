"""products/: the catalogue with release specifications (reference data, no patient data)."""

import pytest

from products.models import Product, ReleaseTest
from tests import journey

pytestmark = pytest.mark.django_db


def product(code: str = "nk-1", **extra: object) -> dict:
    return {
        "code": code,
        "name": "NK cells",
        "modality": "nk",
        "source": "allogeneic",
        "gene_modified": False,
        "cryopreserved": True,
        "shelf_life_days": 365,
        "shelf_life_after_thaw_minutes": 60,
        "storage_min_temp_c": -196,
        "storage_max_temp_c": -150,
        "monitoring_protocol": "msc_standard",
        "release_spec": [
            {"test": "viability", "unit": "%", "min": 70},
            {"test": "sterility", "expected": "negative"},
        ],
    } | extra


def assert_no_product() -> None:
    assert not Product.objects.exists()
    assert not ReleaseTest.objects.exists()


def test_a_product_is_added_with_its_release_specification(world, client_for):
    response = client_for(world.integration).post("/api/v1/products/", product())

    assert response.status_code == 201, response.json()
    detail = client_for(world.clinician).get("/api/v1/products/nk-1/").json()
    assert detail == response.json()
    assert detail["monitoring_protocol"] == "msc_standard" and detail["dose_unit"] == "cells"
    assert detail["storage_max_temp_c"] == -150
    assert detail["release_spec"] == [
        {"test": "sterility", "name": "", "unit": "", "min": None, "max": None, "expected": "negative"},
        {"test": "viability", "name": "", "unit": "%", "min": 70, "max": None, "expected": ""},
    ]


def test_every_role_reads_the_catalogue(world, client_for):
    journey.make_product(world)

    for user in (world.manufacturing, world.qa, world.clinician, world.other_clinician):
        assert [p["code"] for p in client_for(user).get("/api/v1/products/").json()["results"]] == ["cart-x"]


def test_an_unknown_monitoring_protocol_is_a_400_on_monitoring_protocol(world, client_for):
    response = client_for(world.integration).post("/api/v1/products/", product(monitoring_protocol="none"))

    assert response.status_code == 400
    assert "monitoring_protocol" in response.json()
    assert_no_product()


def test_a_test_listed_twice_is_a_400_on_release_spec(world, client_for):
    spec = [{"test": "viability", "min": 70}, {"test": "viability", "min": 80}]

    response = client_for(world.integration).post("/api/v1/products/", product(release_spec=spec))

    assert response.status_code == 400
    assert "twice" in response.json()["release_spec"][0]
    assert_no_product()


@pytest.mark.parametrize(
    "item",
    [
        {"test": "viability"},  # no criterion
        {"test": "viability", "min": 70, "expected": "high"},  # both kinds
        {"test": "viability", "min": 90, "max": 70},  # min above max
    ],
)
def test_a_test_without_a_sound_criterion_is_a_400_on_release_spec(item, world, client_for):
    response = client_for(world.integration).post("/api/v1/products/", product(release_spec=[item]))

    assert response.status_code == 400
    assert "release_spec" in response.json()
    assert_no_product()


def test_a_product_without_a_release_specification_is_a_400(world, client_for):
    response = client_for(world.integration).post("/api/v1/products/", product(release_spec=[]))

    assert response.status_code == 400
    assert "release_spec" in response.json()
    assert_no_product()


@pytest.mark.parametrize(("field", "value"), [("modality", "potion"), ("source", "xenogeneic"), ("code", "a b")])
def test_an_invalid_enum_or_code_is_a_400_naming_the_field(field, value, world, client_for):
    response = client_for(world.integration).post("/api/v1/products/", product(**{field: value}))

    assert response.status_code == 400
    assert field in response.json()
    assert_no_product()


def test_a_storage_range_upside_down_is_a_400(world, client_for):
    response = client_for(world.integration).post(
        "/api/v1/products/", product(storage_min_temp_c=-100, storage_max_temp_c=-150)
    )

    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert_no_product()


@pytest.mark.parametrize("minutes", [None, 0, "absent"])
def test_a_cryopreserved_product_without_its_use_by_after_thaw_is_a_400_on_that_field(world, client_for, minutes):
    body = product(shelf_life_after_thaw_minutes=minutes)
    if minutes == "absent":
        del body["shelf_life_after_thaw_minutes"]

    response = client_for(world.integration).post("/api/v1/products/", body)

    assert response.status_code == 400
    assert "use-by time after thaw" in response.json()["shelf_life_after_thaw_minutes"][0]
    assert_no_product()


def test_a_fresh_product_needs_no_use_by_after_thaw(world, client_for):
    body = product(cryopreserved=False, shelf_life_after_thaw_minutes=None)

    assert client_for(world.integration).post("/api/v1/products/", body).status_code == 201


def test_a_code_already_in_the_catalogue_is_a_400_on_code(world, client_for):
    journey.make_product(world, code="nk-1")

    response = client_for(world.integration).post("/api/v1/products/", product())

    assert response.status_code == 400
    assert "code" in response.json()
    assert Product.objects.count() == 1


def test_a_clinician_may_not_add_products(world, client_for):
    response = client_for(world.clinician).post("/api/v1/products/", product())

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert_no_product()


def test_products_filter_by_modality_and_source(world, client_for):
    journey.make_product(world, code="cart-x")
    journey.make_product(world, code="msc-1", modality="msc", source="allogeneic", gene_modified=False)
    client = client_for(world.clinician)

    assert [p["code"] for p in client.get("/api/v1/products/?modality=msc").json()["results"]] == ["msc-1"]
    assert [p["code"] for p in client.get("/api/v1/products/?source=autologous").json()["results"]] == ["cart-x"]
    assert client.get("/api/v1/products/?modality=potion").status_code == 400


def test_an_unknown_product_is_a_404(world, client_for):
    assert client_for(world.clinician).get("/api/v1/products/nothing/").status_code == 404


@pytest.mark.parametrize("rows", [1, 10])
def test_product_list_takes_the_same_number_of_queries_for_1_or_10_products(
    rows, world, client_for, django_assert_max_num_queries
):
    for n in range(rows):
        journey.make_product(world, code=f"p-{n}")
    client = client_for(world.clinician)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/products/")

    assert len(response.json()["results"]) == rows
    assert all(len(p["release_spec"]) == 4 for p in response.json()["results"])
