"""Whether a unit in inventory may be allocated, and an allocation released: every reason, in its order."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from products.rules import allocations as rules
from products.rules.allocations import UnitFacts

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
AVAILABLE = UnitFacts(
    unit_id="U1",
    product="msc",
    status="stored",
    thawed=False,
    expires_at=NOW + timedelta(days=30),
    use_by=None,
    batch_released=True,
    on_hold=False,
    allocated_to=None,
    at_manufacturing_site=True,
    at_treating_site=False,
)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({}, None),
        ({"status": "manufactured"}, None),
        ({"status": "received", "at_manufacturing_site": False, "at_treating_site": True}, None),
        ({"product": "cart"}, rules.OTHER_PRODUCT),
        ({"allocated_to": "COI1"}, rules.ALLOCATED),
        ({"status": "shipped"}, rules.NOT_IN_STOCK),
        ({"status": "thawed", "thawed": True}, rules.NOT_IN_STOCK),
        ({"status": "administered"}, rules.NOT_IN_STOCK),
        ({"status": "discarded"}, rules.NOT_IN_STOCK),
        ({"status": "returned"}, rules.NOT_IN_STOCK),
        ({"on_hold": True}, rules.ON_HOLD),
        ({"batch_released": False}, rules.NOT_RELEASED),
        ({"expires_at": NOW}, rules.EXPIRED),
        ({"use_by": NOW - timedelta(minutes=1)}, rules.EXPIRED),
        ({"at_manufacturing_site": False}, rules.ELSEWHERE),  # stocked at another hospital
        ({"allocated_to": "COI1", "on_hold": True}, rules.ALLOCATED),  # first reason first
    ],
)
def test_each_reason_a_unit_is_not_available(change, why):
    answer = rules.availability_refusal(replace(AVAILABLE, **change), product="msc", coi="COI2", now=NOW)
    assert (answer.why if answer else None) == why


def test_a_unit_allocated_to_the_same_order_says_so():
    answer = rules.availability_refusal(replace(AVAILABLE, allocated_to="COI2"), product="msc", coi="COI2", now=NOW)
    assert "this order" in answer.detail


@pytest.mark.parametrize(
    ("status", "thawed", "refused"),
    [
        ("manufactured", False, False),
        ("stored", False, False),
        ("received", False, False),
        ("shipped", False, True),  # in transit: back to stock once received
        ("thawed", True, True),
        ("dispensed", True, True),
        ("administered", True, True),
    ],
)
def test_only_a_unit_in_stock_returns_to_stock(status, thawed, refused):
    assert (rules.releasable_refusal(status=status, thawed=thawed) is not None) is refused
