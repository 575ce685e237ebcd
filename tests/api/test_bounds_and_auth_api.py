"""Across the chain's endpoints: credentials are required, and a detail costs a fixed number of queries."""

import pytest
from rest_framework.test import APIClient

from products.services.tokens import token_issue, token_revoke
from tests import journey

pytestmark = pytest.mark.django_db

WRITES = [
    "/api/v1/products/",
    "/api/v1/patients/",
    "/api/v1/orders/",
    "/api/v1/collections/",
    "/api/v1/batches/",
    "/api/v1/batches/1/steps/",
    "/api/v1/batches/1/qc-results/",
    "/api/v1/batches/1/complete/",
    "/api/v1/batches/1/release/",
    "/api/v1/batches/1/reject/",
    "/api/v1/units/",
    "/api/v1/units/BAG-1/custody/",
]
READS = [
    "/api/v1/products/cart-x/",
    "/api/v1/patients/1/",
    "/api/v1/orders/W432126000001D/",
    "/api/v1/collections/1/",
    "/api/v1/batches/1/",
    "/api/v1/batches/1/steps/",
    "/api/v1/batches/1/qc-results/",
    "/api/v1/units/BAG-1/",
    "/api/v1/units/BAG-1/custody/",
]


@pytest.mark.parametrize("path", WRITES)
def test_writes_without_credentials_are_a_401(path, anon_client):
    response = anon_client.post(path, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("path", READS)
def test_reads_of_one_record_without_credentials_are_a_401(path, anon_client):
    assert anon_client.get(path).status_code == 401


def test_a_revoked_token_cannot_release_a_batch(world):
    batch = journey.started_batch(world)
    issued = token_issue(user=world.qa)
    token_revoke(token_id=issued.token.id)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")

    response = client.post(f"/api/v1/batches/{batch.id}/release/", {"password": world.password}, format="json")

    assert response.status_code == 401
    batch.refresh_from_db()
    assert batch.status == "in_process"


# token, the caller's facilities (or roles on the patient side), the record; the catalogue is not scoped
DETAIL_BOUNDS = {
    "product": 3,
    "collection": 3,
    "batch": 3,
    "unit": 3,
    "patient": 4,
    "order": 4,
}


@pytest.mark.parametrize("kind", sorted(DETAIL_BOUNDS))
def test_a_detail_costs_a_fixed_number_of_queries(kind, world, client_for, django_assert_max_num_queries):
    unit = journey.deliver(world, journey.released_unit(world))
    order = unit.chain.order
    path = {
        "product": "/api/v1/products/cart-x/",
        "collection": f"/api/v1/collections/{order.chain.collections.get().id}/",
        "batch": f"/api/v1/batches/{unit.batch_id}/",
        "unit": f"/api/v1/units/{unit.unit_id}/",
        "patient": f"/api/v1/patients/{order.patient_id}/",
        "order": f"/api/v1/orders/{order.coi}/",
    }[kind]
    client = client_for(world.integration)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(DETAIL_BOUNDS[kind]):
        response = client.get(path)

    assert response.status_code == 200
