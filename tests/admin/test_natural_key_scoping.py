"""Every admin field that finds a record by a natural key (COI, unit id) looks among the records the user may see.

A coordinator of another facility who types the COI or unit id of a chain they cannot see gets the very answer
an unknown value gets ("... does not exist."): the form leaks neither the record nor that it exists.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from products.choices import Role
from products.models import Batch, Collection, CustodyRecord
from products.rules.isbt128 import check_character
from tests.admin.conftest import form_data
from tests.admin.helpers import split_dt, url
from tests.factories import UserFactory
from tests.journey import bedside, elsewhere, make_order, product_of
from tracker.models import Administration, Conditioning
from tracker.services.orders import order_create

pytestmark = pytest.mark.django_db

UNKNOWN_COI = "W999926999999X"
UNKNOWN_UNIT = "NO-SUCH-BAG"


@pytest.fixture
def stranger(world):
    """A coordinator of another hospital (and its factory), with a chain of their own there."""
    other = elsewhere(world, product_of(world))
    user = UserFactory(
        username="far-coord", roles=[Role.COORDINATOR], facilities=[world.other_hospital, other.factory_site]
    )
    user.other = other
    return user


def errors_of(response, field: str) -> list[str]:
    assert response.status_code == 200, "the form was accepted"
    return list(response.context["adminform"].form.errors.get(field, []))


def post_collection(client, world, coi: str) -> object:
    number = "W876526000123"
    data = form_data(client.get(url(Collection, "add")), "collection_form")
    data.update(
        coi=coi,
        din=number + check_character(number),
        facility=str(world.other_hospital.pk),
        method="apheresis",
        volume_ml="250",
        **split_dt("collected_at", timezone.now() - timedelta(hours=2)),
    )
    return client.post(url(Collection, "add"), data)


def post_batch(client, stranger, coi: str) -> object:
    data = form_data(client.get(url(Batch, "add")), "batch_form")
    data.update(
        coi=coi,
        lot_number="LOT-FAR-9",
        facility=str(stranger.other.factory_site.pk),
        **split_dt("started_at", timezone.now() - timedelta(hours=2)),
    )
    return client.post(url(Batch, "add"), data)


def test_a_collections_coi_of_an_invisible_chain_does_not_exist(client_for, world, stranger):
    theirs = make_order(world, product=product_of(world))  # City Hospital's chain: not the stranger's to see
    client = client_for(stranger)

    invisible = errors_of(post_collection(client, world, theirs.coi), "coi")
    unknown = errors_of(post_collection(client, world, UNKNOWN_COI), "coi")

    assert invisible == [f"Chain of identity {theirs.coi} does not exist."]
    assert unknown == [f"Chain of identity {UNKNOWN_COI} does not exist."]
    assert Collection.objects.filter(chain=theirs.chain).count() == 0


def test_a_batchs_coi_of_an_invisible_chain_does_not_exist(client_for, world, stranger):
    theirs = make_order(world, product=product_of(world))
    client = client_for(stranger)

    invisible = errors_of(post_batch(client, stranger, theirs.coi), "coi")
    unknown = errors_of(post_batch(client, stranger, UNKNOWN_COI), "coi")

    assert invisible == [f"Chain of identity {theirs.coi} does not exist."]
    assert unknown == [f"Chain of identity {UNKNOWN_COI} does not exist."]
    assert not Batch.objects.filter(lot_number="LOT-FAR-9").exists()


def test_the_coi_of_a_chain_of_their_own_is_found(client_for, world, stranger):
    # The second-worst path: scoping must not lock a coordinator out of their own chains.
    own = order_create(actor=stranger, patient=stranger.other.patient, product=product_of(world))
    response = post_collection(client_for(stranger), world, own.coi)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Collection.objects.filter(chain=own.chain).exists()


def post_custody(client, world, unit_id: str) -> object:
    data = form_data(client.get(url(CustodyRecord, "add")), "custodyrecord_form")
    data.update(
        unit_ref=unit_id,
        event="received",
        facility=str(world.other_hospital.pk),
        temperature_c="-150",
        **split_dt("at", timezone.now() - timedelta(minutes=5)),
    )
    return client.post(url(CustodyRecord, "add"), data)


def test_a_custody_events_unit_id_of_an_invisible_unit_does_not_exist(client_for, world, stranger):
    _order, unit = bedside(world)  # a bag at City Hospital
    client = client_for(stranger)

    invisible = errors_of(post_custody(client, world, unit.unit_id), "unit_ref")
    unknown = errors_of(post_custody(client, world, UNKNOWN_UNIT), "unit_ref")

    assert invisible == [f"Unit {unit.unit_id} does not exist."]
    assert unknown == [f"Unit {UNKNOWN_UNIT} does not exist."]
    assert not CustodyRecord.objects.filter(unit=unit, event="received", facility=world.other_hospital).exists()


def post_administration(client, coi: str, unit_id: str, mrn: str) -> object:
    data = form_data(client.get(url(Administration, "add")), "administration_form")
    data.update(
        coi=coi,
        unit_ref=unit_id,
        route="iv_infusion",
        scanned_unit=unit_id,
        scanned_patient=mrn,
        **split_dt("administered_at", timezone.now() - timedelta(minutes=1)),
    )
    return client.post(url(Administration, "add"), data)


def test_an_administrations_coi_and_unit_id_of_invisible_records_do_not_exist(client_for, world, stranger):
    order, unit = bedside(world)
    own = stranger.other.order
    client = client_for(stranger)

    # City Hospital's order and bag, typed at the other hospital
    response = post_administration(client, order.coi, unit.unit_id, order.patient.mrn)
    assert errors_of(response, "coi") == [f"Therapy order with COI {order.coi} does not exist."]
    assert errors_of(response, "unit_ref") == [f"Unit {unit.unit_id} does not exist."]
    # their own order with City Hospital's bag: the bag is still unknown to them, as an unknown bag is
    mixed = post_administration(client, own.coi, unit.unit_id, own.patient.mrn)
    unknown = post_administration(client, own.coi, UNKNOWN_UNIT, own.patient.mrn)
    assert errors_of(mixed, "unit_ref") == [f"Unit {unit.unit_id} does not exist."]
    assert errors_of(unknown, "unit_ref") == [f"Unit {UNKNOWN_UNIT} does not exist."]
    assert not Administration.objects.exists()


def test_a_conditionings_coi_of_an_invisible_order_does_not_exist(client_for, world, stranger):
    order = make_order(world, product=product_of(world))
    client = client_for(stranger)

    def post(coi: str) -> object:
        data = form_data(client.get(url(Conditioning, "add")), "conditioning_form")
        data.update(
            coi=coi,
            regimen="flu_cy",
            drug="fludarabine",
            dose=str(Decimal("30")),
            dose_unit="mg/m2",
            given_on=str(timezone.localdate()),
            day_relative="-5",
        )
        return client.post(url(Conditioning, "add"), data)

    assert errors_of(post(order.coi), "coi") == [f"Therapy order with COI {order.coi} does not exist."]
    assert errors_of(post(UNKNOWN_COI), "coi") == [f"Therapy order with COI {UNKNOWN_COI} does not exist."]
    assert not Conditioning.objects.exists()
