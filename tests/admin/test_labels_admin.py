"""Printing from the admin: units, collections and patients selected on their lists, one PDF of all of them;
and the admin's forms taking a DIN or a bag as scanners send them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.models import Collection, Unit
from products.rules.isbt128 import check_character
from tests import journey
from tests.admin.helpers import url
from tests.admin.test_bedside_admin import administration_post
from tests.admin.test_collections_and_orders import collection_post
from tests.barcodes import read_pdf
from tracker.models import Administration, Patient

pytestmark = pytest.mark.django_db


def act(client, model, action: str, objects) -> object:
    return client.post(
        url(model, "changelist"),
        {"action": action, "_selected_action": [str(o.pk) for o in objects], "index": "0"},
    )


def pages_of(response) -> list:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf", response.content[:200]
    return read_pdf(response.content)


def test_the_selected_units_print_one_label_each(client_for, world):
    _, first = journey.bedside(world)
    _, second = journey.bedside(world)
    client = client_for(world.coordinator)

    thermal = pages_of(act(client, Unit, "print_unit_labels_4x2in", [first, second]))
    sheet = pages_of(act(client, Unit, "print_unit_labels_a4", [first, second]))

    assert [sorted(p.texts("Code128"))[-1] for p in thermal] == [first.unit_id, second.unit_id]
    assert len(sheet) == 1 and {first.unit_id, second.unit_id} <= set(sheet[0].texts("Code128"))


def test_the_selected_collections_print_their_din_and_coi(client_for, world):
    product = journey.product_of(world)
    orders = [
        journey.make_order(world, product=product, patient=journey.make_patient(world, mrn=f"MRN-C{i}"))
        for i in range(2)
    ]
    for order in orders:
        journey.collect(world, order)
    collections = list(Collection.objects.order_by("collected_at", "id"))

    pages = pages_of(act(client_for(world.coordinator), Collection, "print_collection_labels_letter", collections))

    [page] = pages
    assert sorted(page.texts("Code128")) == sorted(
        [f"={c.din}00" for c in collections] + [order.coi for order in orders]
    )


def test_the_selected_patients_print_wristbands_and_only_those_the_user_may_see(client_for, world):
    ours = journey.make_patient(world, mrn="CH-0001")
    theirs = journey.elsewhere(world, journey.product_of(world)).patient

    [band] = pages_of(act(client_for(world.coordinator), Patient, "print_wristbands_wristband", [ours]))
    refused = act(client_for(world.coordinator), Patient, "print_wristbands_wristband", [theirs])

    assert band.texts("Code128") == ["CH-0001"]
    assert refused.status_code == 302 and refused["Content-Type"] != "application/pdf"
    assert client_for(world.manufacturing).get(url(Patient, "changelist")).status_code == 403


def test_a_scanned_din_records_a_collection_with_its_check_character(client_for, world):
    order = journey.make_order(world)
    number = "W123426000888"

    response = collection_post(client_for(world.coordinator), order.coi, f"]C0={number}00\r\n", world.collection_site)

    assert response.status_code == 302
    collection = Collection.objects.get()
    assert (collection.din, collection.din_flags, collection.din_check) == (number, "00", check_character(number))


def test_a_coi_scanned_as_the_din_is_refused_by_name(client_for, world):
    order = journey.make_order(world)

    response = collection_post(client_for(world.coordinator), order.coi, order.coi, world.collection_site)

    assert "chain-of-identity code (COI)" in str(response.context["adminform"].form.errors["din"])
    assert not Collection.objects.exists()


def test_the_bags_din_as_scanned_records_an_administration(client_for, world):
    order, unit = journey.bedside(world)
    din = Collection.objects.get(chain=order.chain).din

    administration_post(client_for(world.coordinator), order, unit, scanned_unit=f"={din}00")

    assert Administration.objects.get().scanned_unit == f"={din}00"
    assert Administration.objects.get().administered_at < timezone.now() + timedelta(minutes=1)
