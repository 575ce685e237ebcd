"""Two requests racing for one batch or one unit: exactly one wins (real concurrent transactions)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from products.choices import BatchStatus
from products.errors import IllegalTransition, NotReleasable
from products.models import Batch, CustodyRecord, Signature
from products.services.batches import batch_release
from products.services.units import custody_record
from tests import journey
from tests.concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_releases_of_one_batch_have_one_winner():
    world = journey.build_world()
    order = journey.make_order(world)
    journey.collect(world, order)
    batch = journey.start_batch(world, order)
    journey.record_qc(world, batch)

    def release() -> Batch:
        return batch_release(batch_id=batch.id, signer=world.qa, password=world.password, meaning="Released")

    first, second = race(release, release)

    assert isinstance(first, Batch) and first.status == BatchStatus.RELEASED
    assert isinstance(second, NotReleasable)
    assert Signature.objects.filter(record__startswith=f"batch:{batch.id}:").count() == 1


def test_two_concurrent_shipments_of_one_unit_have_one_winner():
    world = journey.build_world()
    unit = journey.released_unit(world)
    at = timezone.now() - timedelta(minutes=5)

    def ship_to(facility):
        return lambda: custody_record(
            actor=world.integration,
            unit_id=unit.unit_id,
            event="shipped",
            at=at,
            facility=facility,
            temperature_c=Decimal("-150"),
        )

    first, second = race(ship_to(world.hospital), ship_to(world.collection_site))

    assert isinstance(first, CustodyRecord)
    assert isinstance(second, IllegalTransition)
    assert list(CustodyRecord.objects.filter(unit=unit).values_list("event", "facility__code")) == [
        ("shipped", "hospital")
    ]
