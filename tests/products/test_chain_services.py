"""Chain-of-identity rules in the service layer (the API and admin call the same functions)."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.choices import CoiStatus
from products.errors import ChainClosed, IllegalTransition, PermissionDeniedError
from products.models import Batch, ChainOfIdentity, Collection
from products.rules.isbt128 import InvalidIdentifier, is_valid_coi, parse_din
from products.services.batches import batch_reject
from products.services.chains import chain_cancel
from products.services.collections import collection_record
from tests import journey
from tests.concurrency import race

pytestmark = pytest.mark.django_db


def test_coi_has_its_own_format_is_unique_never_a_din_and_free_of_patient_identifiers():
    world = journey.build_world()
    product = journey.make_product(world)
    orders = [
        journey.make_order(world, product=product, patient=journey.make_patient(world, mrn=f"MRN{n}")) for n in range(3)
    ]
    cois = [order.coi for order in orders]
    year = timezone.now().year % 100
    assert cois == [f"COIW4321{year:02d}{n:06d}" + cois[n - 1][-1] for n in (1, 2, 3)]
    assert all(is_valid_coi(coi) for coi in cois)
    for coi in cois:
        with pytest.raises(InvalidIdentifier):
            parse_din(coi)
    for order in orders:
        patient = order.patient
        for identifier in (patient.mrn, patient.given_name.upper(), patient.family_name.upper()):
            assert identifier not in order.coi


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_get_distinct_cois():
    world = journey.build_world()
    product = journey.make_product(world)
    patients = [journey.make_patient(world, mrn=f"MRN-R{n}") for n in range(2)]
    from tracker.services.orders import order_create

    first, second = race(
        lambda: order_create(actor=world.clinician, patient=patients[0], product=product),
        lambda: order_create(actor=world.clinician, patient=patients[1], product=product),
    )
    assert {first.coi[:16], second.coi[:16]} == {first.coi[:15] + "1", first.coi[:15] + "2"}


def test_more_than_one_collection_per_chain_is_allowed_and_a_din_only_once():
    world = journey.build_world()
    order = journey.make_order(world)
    journey.collect(world, order)
    journey.collect(world, order)
    assert Collection.objects.filter(chain=order.chain).count() == 2
    order.chain.refresh_from_db()
    assert order.chain.status == CoiStatus.COLLECTED

    din = Collection.objects.filter(chain=order.chain).first().full_din
    with pytest.raises(ValidationError) as error:
        collection_record(
            actor=world.coordinator,
            chain=order.chain,
            din=din,
            facility=world.collection_site,
            collected_at=timezone.now(),
            method="apheresis",
            volume_ml=100,
        )
    assert "din" in error.value.message_dict


def test_collection_needs_membership_of_the_collecting_facility():
    world = journey.build_world()
    order = journey.make_order(world)
    with pytest.raises(PermissionDeniedError):
        collection_record(
            actor=world.coordinator,
            chain=order.chain,
            din=journey.make_din(),
            facility=world.other_hospital,
            collected_at=timezone.now(),
            method="apheresis",
            volume_ml=100,
        )


def test_an_autologous_chain_has_one_live_batch_and_may_restart_after_rejection():
    world = journey.build_world()
    order = journey.make_order(world)
    journey.collect(world, order)
    batch = journey.start_batch(world, order, lot="LOT-A")
    with pytest.raises(IllegalTransition):
        journey.start_batch(world, order, lot="LOT-B")

    batch_reject(batch_id=batch.id, signer=world.qa, password=world.password, meaning="Rejected", reason="Low yield")
    assert journey.start_batch(world, order, lot="LOT-B").status == "in_process"
    assert Batch.objects.filter(chain=order.chain).count() == 2


def test_a_cancelled_chain_takes_no_more_collections():
    world = journey.build_world()
    order = journey.make_order(world)
    chain_cancel(actor=world.coordinator, chain_id=order.chain.id)
    with pytest.raises(ChainClosed):
        journey.collect(world, order)
    assert not Collection.objects.exists()
    assert ChainOfIdentity.objects.get(id=order.chain.id).status == CoiStatus.CANCELLED
