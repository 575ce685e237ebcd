"""An order's plan (tracker.services.planning): the days conditioning starts and the product is infused."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from products.errors import ChainClosed, PermissionDeniedError
from products.services.chains import chain_cancel
from tests import journey
from tracker.models import TherapyOrder
from tracker.services.planning import order_plan

pytestmark = pytest.mark.django_db

APRIL_1, APRIL_6 = date(2026, 4, 1), date(2026, 4, 6)


@pytest.fixture
def world():
    return journey.build_world()


def test_a_coordinator_plans_and_clears_an_order(world):
    order = journey.make_order(world)

    order_plan(actor=world.coordinator, order_id=order.id, planned_conditioning_on=APRIL_1, planned_infusion_on=APRIL_6)
    order.refresh_from_db()
    assert (order.planned_conditioning_on, order.planned_infusion_on) == (APRIL_1, APRIL_6)

    order_plan(actor=world.clinician, order_id=order.id, planned_conditioning_on=None, planned_infusion_on=APRIL_6)
    order.refresh_from_db()
    assert (order.planned_conditioning_on, order.planned_infusion_on) == (None, APRIL_6)


def test_conditioning_is_planned_before_the_infusion(world):
    order = journey.make_order(world)
    with pytest.raises(ValidationError) as refused:
        order_plan(
            actor=world.coordinator, order_id=order.id, planned_conditioning_on=APRIL_6, planned_infusion_on=APRIL_1
        )
    assert "planned_conditioning_on" in refused.value.message_dict
    # The same day is allowed (a fresh product given after a one-day regimen).
    order_plan(actor=world.coordinator, order_id=order.id, planned_conditioning_on=APRIL_6, planned_infusion_on=APRIL_6)


def test_the_database_refuses_conditioning_after_the_infusion_too(world):
    order = journey.make_order(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        TherapyOrder.objects.filter(id=order.id).update(planned_conditioning_on=APRIL_6, planned_infusion_on=APRIL_1)


def test_an_infused_or_cancelled_chain_has_nothing_left_to_plan(world):
    infused, _administration = journey.infused_patient(world, days_ago=1)
    with pytest.raises(ChainClosed):
        order_plan(
            actor=world.coordinator, order_id=infused.id, planned_conditioning_on=None, planned_infusion_on=APRIL_6
        )

    cancelled = journey.make_order(world, product=infused.product, patient=journey.make_patient(world, mrn="PLAN-2"))
    chain_cancel(actor=world.coordinator, chain_id=cancelled.chain_id)
    with pytest.raises(ChainClosed):
        order_plan(
            actor=world.coordinator, order_id=cancelled.id, planned_conditioning_on=None, planned_infusion_on=APRIL_6
        )


@pytest.mark.parametrize("who", ["other_clinician", "manufacturing", "qa"])
def test_only_the_patients_facility_plans(world, who):
    order = journey.make_order(world)
    with pytest.raises(PermissionDeniedError):
        order_plan(
            actor=getattr(world, who), order_id=order.id, planned_conditioning_on=None, planned_infusion_on=APRIL_6
        )
    order.refresh_from_db()
    assert order.planned_infusion_on is None
