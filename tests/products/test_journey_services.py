"""The product journey through the service layer, order to a thawed unit at the treatment facility."""

import pytest

from products.choices import BatchStatus, CoiStatus, UnitStatus
from products.models import CustodyRecord
from tests import journey

pytestmark = pytest.mark.django_db


def test_order_to_thawed_unit_at_the_hospital():
    world = journey.build_world()
    order = journey.make_order(world)
    assert order.chain.status == CoiStatus.ORDERED

    unit = journey.deliver(world, journey.released_unit(world, order))

    order.chain.refresh_from_db()
    assert order.chain.status == CoiStatus.RELEASED
    assert unit.batch.status == BatchStatus.RELEASED
    assert unit.status == UnitStatus.THAWED
    assert unit.current_facility == world.hospital
    assert unit.use_by == unit.thawed_at + __import__("datetime").timedelta(minutes=90)
    assert list(CustodyRecord.objects.filter(unit=unit).values_list("event", flat=True)) == [
        "shipped",
        "received",
        "stored",
        "thawed",
    ]
