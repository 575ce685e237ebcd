"""The chain's lifecycle (products.rules.chains) through HTTP: a closed chain takes nothing more; voiding the last
infusion takes the chain back to released."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.models import ChainOfIdentity, Collection
from products.services.chains import chain_cancel
from tests import journey

pytestmark = pytest.mark.django_db


def test_a_collection_for_a_cancelled_chain_is_a_409_chain_closed_and_nothing_is_written(world, client_for):
    order = journey.make_order(world)
    chain_cancel(actor=world.coordinator, chain_id=order.chain.id)

    response = client_for(world.coordinator).post(
        "/api/v1/collections/",
        {
            "coi": order.coi,
            "din": journey.make_din(),
            "facility": "apheresis",
            "collected_at": (timezone.now() - timedelta(hours=2)).isoformat(),
            "method": "apheresis",
            "volume_ml": 200,
        },
        format="json",
    )

    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "chain_closed"
    assert not Collection.objects.exists()
    assert ChainOfIdentity.objects.get(id=order.chain.id).status == "cancelled"


def test_voiding_the_only_infusion_takes_the_chain_back_to_released_and_a_second_bag_keeps_it_administered(
    world, client_for
):
    order, units = journey.course_at_bedside(world, units=2)
    first = journey.administer(world, order, units[0])
    second = journey.administer(world, order, units[1])
    client = client_for(world.clinician)

    assert ChainOfIdentity.objects.get(id=order.chain.id).status == "administered"
    client.post(f"/api/v1/administrations/{second.id}/void/", {"reason": "Entered twice"}, format="json")
    assert ChainOfIdentity.objects.get(id=order.chain.id).status == "administered"  # the first still stands

    response = client.post(f"/api/v1/administrations/{first.id}/void/", {"reason": "Wrong patient"}, format="json")

    assert response.status_code == 200, response.json()
    assert ChainOfIdentity.objects.get(id=order.chain.id).status == "released"
