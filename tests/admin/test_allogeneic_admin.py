"""The allogeneic journey in the admin: a donor registered (the person on the patient side, a code on the product
side), screened and tested on the donor's page, QA's e-signed determination, a donor's collection and batch, the
inventory page, allocation from the order's page (and its refusals), and the return of a unit to stock."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.choices import Role
from products.models import Allocation, Batch, Collection, Donor, InventoryUnit, Unit
from tests.admin.conftest import form_data, messages_of
from tests.admin.helpers import split_dt, url
from tests.allogeneic import (
    ALL_TESTS,
    DONOR_HLA,
    allocate,
    donor_batch,
    donor_collection,
    inventory,
    msc_order,
    msc_product,
    record_tests,
    register_donor,
    screen,
)
from tests.factories import UserFactory
from tests.journey import make_din
from tracker.models import DonorIdentity, TherapyOrder

pytestmark = pytest.mark.django_db


def _order_url(order: TherapyOrder, view: str = "change", *extra: object) -> str:
    return url(TherapyOrder, view, order.pk, *extra)


def test_a_donor_is_registered_screened_tested_and_determined_in_the_admin(client_for, world):
    coordinator = client_for(world.coordinator)
    data = form_data(coordinator.get(url(DonorIdentity, "add")), "donoridentity_form")
    data.update(
        facility=str(world.collection_site.pk),
        given_name="Dana",
        family_name="Donovan",
        birth_date="1990-03-04",
        sex="female",
        hla='{"A": ["A2"]}',
    )
    refused = coordinator.post(url(DonorIdentity, "add"), data)
    assert refused.status_code == 200 and "allele notation" in str(refused.context["adminform"].form.errors)
    assert not Donor.objects.exists()
    data["hla"] = '{"A": ["A*02:01", "A*01:01"]}'
    response = coordinator.post(url(DonorIdentity, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    donor = Donor.objects.get()
    assert any(donor.donor_code in m for m in messages_of(coordinator.get(response.url)))
    assert donor.hla == {"A": ["A*02:01", "A*01:01"]}

    # screening and tests on the donor's (product side) page, which shows the code, never the name
    page = coordinator.get(url(Donor, "change", donor.pk))
    assert page.status_code == 200 and donor.donor_code in page.content.decode()
    assert "Donovan" not in page.content.decode()
    data = form_data(page, "donor_form")
    when = timezone.now() - timedelta(days=3)
    data.update(
        {"screenings-2-0-kind": "history", "screenings-2-0-outcome": "acceptable"},
    )
    data.update(split_dt("screenings-2-0-performed_at", when))
    posted = coordinator.post(url(Donor, "change", donor.pk), data)
    assert posted.status_code == 302, posted.context and posted.context["errors"]
    assert donor.screenings.count() == 1
    screen(world, donor)  # the rest by the services
    record_tests(world, donor, tests=ALL_TESTS[:3])
    donor_collection(world, donor, msc_product(world))

    # QA's determination page: refused with the code while a test is missing, then signed
    qa = UserFactory(username="qa-site", roles=[Role.QA], facilities=[world.collection_site])
    qa_client = client_for(qa)
    determine = url(Donor, "determine", donor.pk)
    body = {"determination": "eligible", "password": world.password, "meaning": "Reviewed"}
    refused = qa_client.post(determine, body)
    assert refused.status_code == 200 and "eligibility_incomplete" in refused.content.decode()
    donor.refresh_from_db()
    assert donor.eligibility == "pending"
    record_tests(world, donor)
    signed = qa_client.post(determine, body)
    assert signed.status_code == 302
    donor.refresh_from_db()
    assert donor.eligibility == "eligible" and donor.determinations.get().signature.signer == qa
    assert client_for(world.coordinator).post(determine, body).status_code == 403


def test_a_donors_collection_and_batch_are_added_in_the_admin(client_for, world):
    product = msc_product(world)
    donor = register_donor(world).donor
    coordinator = client_for(world.coordinator)
    data = form_data(coordinator.get(url(Collection, "add")), "collection_form")
    din = make_din()
    data.update(
        coi="",
        donor_code=donor.donor_code,
        product=str(product.pk),
        din=din,
        facility=str(world.collection_site.pk),
        method="bone_marrow",
        volume_ml="50",
        **split_dt("collected_at", timezone.now() - timedelta(hours=5)),
    )
    response = coordinator.post(url(Collection, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    collection = Collection.objects.get()
    assert (collection.donor, collection.product, collection.chain) == (donor, product, None)

    manufacturing = client_for(world.manufacturing)
    data = form_data(manufacturing.get(url(Batch, "add")), "batch_form")
    data.update(
        coi="",
        donor_din=din,
        lot_number="MSC-ADMIN-1",
        facility=str(world.factory_site.pk),
        **split_dt("started_at", timezone.now() - timedelta(hours=1)),
    )
    response = manufacturing.post(url(Batch, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Batch.objects.get().collection == collection


def test_the_inventory_page_shows_units_on_hand_where_expiring_and_allocated_to_which_order(client_for, world):
    product, donor, units = inventory(world, units=3)
    order = msc_order(world, product)
    allocate(world, order, units[1])
    page = client_for(world.manufacturing).get(url(InventoryUnit, "changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert all(unit.unit_id in text for unit in units)
    assert donor.donor_code in text and "Dewar 1 / rack A / 2" in text and order.chain.coi in text
    assert order.patient.family_name not in text and order.patient.mrn not in text


def test_allocation_from_the_order_page_its_refusal_and_the_return_to_stock(client_for, world):
    product, _, units = inventory(world, units=1)
    taken = msc_order(world, product)
    allocate(world, taken, units[0])
    order = msc_order(world, product)
    clinician = client_for(world.coordinator)  # the treating site's coordinator works in the admin
    page = clinician.get(_order_url(order))
    assert "Allocate a unit from inventory" in page.content.decode()

    refused = clinician.post(_order_url(order, "allocate"), {"unit": units[0].unit_id})
    assert refused.status_code == 200 and "unit_not_available" in refused.content.decode()
    assert not Allocation.objects.filter(chain=order.chain).exists()
    none_left = clinician.post(_order_url(order, "allocate"), {"unit": ""})
    assert none_left.status_code == 200 and "no_eligible_unit" in none_left.content.decode()

    allocation = Allocation.objects.get(chain=taken.chain)
    release = url(TherapyOrder, "release_allocation", taken.pk, allocation.pk)
    assert clinician.post(release, {"reason": ""}).status_code == 200
    returned = clinician.post(release, {"reason": "Infusion postponed"})
    assert returned.status_code == 302
    allocation.refresh_from_db()
    assert allocation.released_by == world.coordinator and allocation.release_reason == "Infusion postponed"

    given = clinician.post(_order_url(order, "allocate"), {"unit": ""})
    assert given.status_code == 302
    assert Unit.objects.get(pk=units[0].pk).chain == order.chain
    assert units[0].unit_id in clinician.get(_order_url(order)).content.decode()


def test_a_second_batch_of_a_pending_donor_is_refused_from_the_order_page(client_for, world):
    product = msc_product(world)
    donor = register_donor(world, hla=DONOR_HLA).donor
    _, units = donor_batch(world, donor_collection(world, donor, product), units=1)
    order = msc_order(world, product)
    refused = client_for(world.coordinator).post(_order_url(order, "allocate"), {"unit": units[0].unit_id})
    assert refused.status_code == 200 and "donor_ineligible" in refused.content.decode()
    assert not Allocation.objects.exists()
